//! Supervision: searching and exporting the query log. Each search and
//! export is audited in its own transaction before the answer goes out, so
//! nobody reads the log unseen. Identity numbers are masked.

use credit_desk_proto::pb::{self, supervision_server::Supervision};
use credit_desk_proto::validate::{self, FieldError, Rule, field};
use credit_desk_proto::{Lang, ident};
use tonic::{Request, Response, Status};

use super::{caller, lang, respond};
use crate::authz::Caller;
use crate::clock::{local_date, local_midnight_ms};
use crate::context::Ctx;
use crate::db::query_log::{self, EntryRow, Filter};
use crate::db::{audit, subjects};
use crate::errors::{ApiError, ApiResult};
use crate::rules::basis::Refusal;

const PAGE_DEFAULT: u32 = 50;
const PAGE_MAX: u32 = 200;
/// An export larger than this is refused: narrow the filter.
pub const EXPORT_MAX: i64 = 10_000;

pub struct SupervisionService {
    pub(super) ctx: Ctx,
}

impl SupervisionService {
    pub fn new(ctx: Ctx) -> Self {
        SupervisionService { ctx }
    }

    /// Checks the filter and turns it into the repository's terms.
    async fn filter(&self, caller: &Caller, f: &pb::QueryLogFilter) -> ApiResult<Filter> {
        let today = local_date(self.ctx.now_ms());
        let (from, to) = validate::query_log_filter(
            &f.subject_identifier,
            &f.operator_username,
            &f.institution_code,
            &f.purpose_code,
            &f.from_date,
            &f.to_date,
            today,
        )
        .map_err(ApiError::Validation)?;
        let subject_id = match f.subject_identifier.trim() {
            "" => None,
            number => {
                let mut conn = self.ctx.db.read().await?;
                // A number nobody holds matches no attempt (not an error:
                // the subject may never have been queried).
                Some(
                    subjects::get_by_identifier(&mut conn, &ident::normalise(number))
                        .await?
                        .map_or_else(String::new, |s| s.id),
                )
            }
        };
        Ok(Filter {
            subject_id,
            operator_username: f.operator_username.trim().to_lowercase(),
            institution_code: f.institution_code.trim().to_uppercase(),
            purpose: f.purpose_code.trim().to_string(),
            from_ms: local_midnight_ms(from),
            to_ms: local_midnight_ms(to + chrono::Days::new(1)),
            allowed: match f.outcome() {
                pb::QueryOutcome::Any => None,
                pb::QueryOutcome::Allowed => Some(true),
                pb::QueryOutcome::Refused => Some(false),
            },
            unit_path: caller.org_unit_path.clone(),
        })
    }

    /// Records who looked at the log, and for what, before they see it.
    async fn audit(&self, caller: &Caller, action: &str, f: &pb::QueryLogFilter) -> ApiResult<()> {
        let masked = ident::mask(&ident::normalise(&f.subject_identifier));
        let detail = format!(
            "subject {masked} operator {} institution {} purpose {} {}..{} outcome {}",
            f.operator_username,
            f.institution_code,
            f.purpose_code,
            f.from_date,
            f.to_date,
            f.outcome().as_str_name()
        );
        let mut tx = self.ctx.db.begin_write().await?;
        let who = Some(caller.operator_id.as_str());
        audit::record(
            &mut tx,
            who,
            action,
            "query_log",
            &detail,
            self.ctx.now_ms(),
        );
        tx.commit().await?;
        Ok(())
    }

    async fn search(
        &self,
        caller: Caller,
        req: pb::SearchQueryLogRequest,
    ) -> ApiResult<pb::SearchQueryLogResponse> {
        let f = req.filter.unwrap_or_default();
        let filter = self.filter(&caller, &f).await?;
        let before = match req.cursor.as_str() {
            "" => None,
            cursor => Some(parse_cursor(cursor)?),
        };
        let limit = match req.limit {
            0 => PAGE_DEFAULT,
            n => n.min(PAGE_MAX),
        };
        self.audit(&caller, "query_log.search", &f).await?;
        let mut conn = self.ctx.db.read().await?;
        let total = query_log::count(&mut conn, &filter).await?;
        let mut rows = query_log::page(
            &mut conn,
            &filter,
            before.as_ref().map(|(at, id)| (*at, id.as_str())),
            i64::from(limit) + 1,
        )
        .await?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = match (more, rows.last()) {
            (true, Some(last)) => format!("{}:{}", last.at, last.id),
            _ => String::new(),
        };
        Ok(pb::SearchQueryLogResponse {
            entries: rows.iter().map(|r| entry(r, caller.lang)).collect(),
            total: total as u64,
            next_cursor,
        })
    }

    async fn export(
        &self,
        caller: Caller,
        f: pb::QueryLogFilter,
    ) -> ApiResult<pb::ExportQueryLogResponse> {
        let filter = self.filter(&caller, &f).await?;
        let mut conn = self.ctx.db.read().await?;
        let total = query_log::count(&mut conn, &filter).await?;
        if total > EXPORT_MAX {
            let max = EXPORT_MAX as u32;
            return Err(FieldError::new(field::TO_DATE, Rule::TooManyToExport { max }).into());
        }
        drop(conn);
        self.audit(&caller, "query_log.export", &f).await?;
        let mut conn = self.ctx.db.read().await?;
        let rows = query_log::page(&mut conn, &filter, None, EXPORT_MAX).await?;
        let entries: Vec<pb::QueryLogEntry> = rows.iter().map(|r| entry(r, caller.lang)).collect();
        let xlsx = crate::export::query_log_xlsx(&entries, caller.lang)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("building the workbook: {e}")))?;
        let today = local_date(self.ctx.now_ms());
        Ok(pb::ExportQueryLogResponse {
            xlsx,
            file_name: format!("query-log-{}.xlsx", today.format("%Y%m%d")),
            rows: entries.len() as u32,
        })
    }
}

fn parse_cursor(cursor: &str) -> ApiResult<(i64, String)> {
    let bad = || FieldError::new(field::CURSOR, Rule::UnknownValue);
    let (at, id) = cursor.split_once(':').ok_or_else(bad)?;
    let at = at.parse().map_err(|_| bad())?;
    validate::uuid(field::CURSOR, id)?;
    Ok((at, id.to_string()))
}

pub(super) fn entry(r: &EntryRow, lang: Lang) -> pb::QueryLogEntry {
    let refusal_text = match r.allowed {
        true => String::new(),
        false => {
            Refusal::from_code(&r.reason).map_or_else(|| r.reason.clone(), |x| x.message(lang))
        }
    };
    pb::QueryLogEntry {
        id: r.id.clone(),
        at_ms: r.at,
        operator_username: r.operator_username.clone(),
        operator_name: r.operator_name.clone(),
        org_unit_name: r.org_unit_name.clone(),
        terminal: r.terminal.clone(),
        subject_name: r.subject_name.clone(),
        subject_identifier: ident::mask(&r.subject_identifier),
        basis: r.basis.clone(),
        consent_form_serial: r.consent_form_serial.clone(),
        purpose_name: lang.pick(r.purpose_zh.clone(), r.purpose_en.clone()),
        institution_name: r.institution_name.clone(),
        allowed: r.allowed,
        refusal: if r.allowed {
            String::new()
        } else {
            r.reason.clone()
        },
        refusal_text,
        report_no: r.report_no.clone(),
        fee_applies: r.fee_applies,
    }
}

#[tonic::async_trait]
impl Supervision for SupervisionService {
    async fn search_query_log(
        &self,
        req: Request<pb::SearchQueryLogRequest>,
    ) -> Result<Response<pb::SearchQueryLogResponse>, Status> {
        handle!(self, req, search)
    }

    async fn export_query_log(
        &self,
        req: Request<pb::QueryLogFilter>,
    ) -> Result<Response<pb::ExportQueryLogResponse>, Status> {
        handle!(self, req, export)
    }

    async fn get_day_review(
        &self,
        req: Request<pb::GetDayReviewRequest>,
    ) -> Result<Response<pb::DayReview>, Status> {
        handle!(self, req, day_review)
    }

    async fn conclude_alert(
        &self,
        req: Request<pb::ConcludeAlertRequest>,
    ) -> Result<Response<pb::DayReview>, Status> {
        handle!(self, req, conclude_alert)
    }

    async fn sign_off_day(
        &self,
        req: Request<pb::SignOffDayRequest>,
    ) -> Result<Response<pb::DayReview>, Status> {
        handle!(self, req, sign_off)
    }

    async fn get_month_report(
        &self,
        req: Request<pb::GetMonthReportRequest>,
    ) -> Result<Response<pb::MonthReport>, Status> {
        handle!(self, req, month_report)
    }

    async fn sign_off_month(
        &self,
        req: Request<pb::SignOffMonthRequest>,
    ) -> Result<Response<pb::MonthReport>, Status> {
        handle!(self, req, sign_off_month)
    }

    async fn export_month_report(
        &self,
        req: Request<pb::GetMonthReportRequest>,
    ) -> Result<Response<pb::ExportQueryLogResponse>, Status> {
        handle!(self, req, export_month_report)
    }
}
