//! The monthly security statistics (征信信息安全情况统计表): a finished
//! month's figures, counted from the data when asked (every day with
//! queries is first checked against the indicators, so its alerts count),
//! signed off by a supervisor once no alert of the month is open, with the
//! incidents the system cannot see. A signed month keeps the figures and
//! the audit chain's head of that moment.

use credit_desk_proto::Lang;
use credit_desk_proto::pb;
use credit_desk_proto::validate::{self, FieldError, Rule};

use super::supervision::SupervisionService;
use crate::authz::Caller;
use crate::clock::local_midnight_ms;
use crate::db::month_report::{self as store, NewSignOff, Span};
use crate::db::{WriteTx, audit, org_units, review};
use crate::errors::{ApiError, ApiResult};
use crate::rules::month_report::{self as rules, MonthFacts, REPORTED_MAX, Reported};

const MONTH: &str = "month";
const NOTE: &str = "note";
const NOTE_MAX: usize = 1000;
/// How long after a month ends its report may be prepared (its last day's
/// late commits, as for the daily review).
const SETTLE_MS: i64 = 15 * crate::clock::MINUTE_MS;

pub(crate) fn span(first: chrono::NaiveDate) -> Span {
    let next = rules::next_month(first);
    Span {
        from_ms: local_midnight_ms(first),
        to_ms: local_midnight_ms(next),
        first,
        next,
    }
}

pub(crate) fn key(first: chrono::NaiveDate) -> String {
    first.format("%Y-%m").to_string()
}

impl SupervisionService {
    pub(super) async fn month_report(
        &self,
        caller: Caller,
        req: pb::GetMonthReportRequest,
    ) -> ApiResult<pb::MonthReport> {
        let first = self.finished_month(&req.month)?;
        let mut conn = self.ctx.db.read().await?;
        if let Some(row) = store::signed(&mut conn, &key(first)).await? {
            return self.signed_report(caller.lang, first, row).await;
        }
        drop(conn);
        let days = self.prepare_days(&caller, first).await?;
        let mut conn = self.ctx.db.read().await?;
        let facts = facts(&mut conn, span(first), days).await?;
        let head = audit::head(&mut conn).await?;
        let mut report = assemble(caller.lang, first, &facts, Reported::default());
        report.reporter = reporter(&mut conn).await?;
        report.chain_seq = head.seq;
        report.chain_hash = head.hash;
        Ok(report)
    }

    pub(super) async fn sign_off_month(
        &self,
        caller: Caller,
        req: pb::SignOffMonthRequest,
    ) -> ApiResult<pb::MonthReport> {
        let note = req.note.trim().to_string();
        let reported = Reported {
            unlawful_provision: req.unlawful_provision,
            misuse: req.misuse,
            leaks: req.leaks,
        };
        let mut errors = Vec::new();
        for (field, n) in [
            ("unlawful_provision", reported.unlawful_provision),
            ("misuse", reported.misuse),
            ("leaks", reported.leaks),
        ] {
            if n > REPORTED_MAX {
                let max = REPORTED_MAX.into();
                errors.push(FieldError::new(field, Rule::AtMost { max }));
            }
        }
        if let Err(e) = validate::free_text(NOTE, &note, NOTE_MAX, true) {
            errors.push(e);
        }
        if reported.needs_note() && note.is_empty() {
            errors.push(FieldError::new(NOTE, Rule::Required));
        }
        let first = self.finished_month(&req.month)?;
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let days = self.prepare_days(&caller, first).await?;
        let now = self.ctx.now_ms();
        let month = key(first);
        let mut tx: WriteTx = self.ctx.db.begin_write().await?;
        // Counted inside the write: what is signed is what was counted.
        let facts = facts(&mut tx, span(first), days).await?;
        let open = rules::open_alerts(&facts);
        if open > 0 {
            tx.rollback().await?;
            return Err(ApiError::WrongState {
                rule: "alerts_open",
                zh: format!(
                    "本月还有 {open} 条异常查询预警未下结论（菜单 d 日核查），全部下结论后才能签核"
                ),
                en: format!(
                    "{open} alert(s) of the month have no conclusion yet (menu d, daily review); conclude them all to sign the month off"
                ),
            });
        }
        let json = serde_json::to_string(&facts).map_err(anyhow::Error::from)?;
        let head = audit::head(&mut tx).await?;
        let who = caller.operator_id.as_str();
        let signed = store::sign(
            &mut tx,
            NewSignOff {
                month: &month,
                facts: &json,
                reported,
                note: &note,
                by: who,
                now_ms: now,
                chain: &head,
            },
        )
        .await?;
        // A repeated sign-off (a retry, or a second supervisor) finds the
        // month signed and changes nothing.
        if signed {
            let detail = format!(
                "unlawful provision {} misuse {} leaks {}; audit chain head {} {}",
                reported.unlawful_provision, reported.misuse, reported.leaks, head.seq, head.hash
            );
            audit::record(&mut tx, Some(who), "month.signed", &month, &detail, now);
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        let mut conn = self.ctx.db.read().await?;
        let row = store::signed(&mut conn, &month)
            .await?
            .ok_or_else(|| anyhow::anyhow!("signed month {month} vanished"))?;
        drop(conn);
        // Signed already with other figures (a second supervisor): said so,
        // never passed off as this sign-off.
        let same = row.unlawful_provision == i64::from(reported.unlawful_provision)
            && row.misuse == i64::from(reported.misuse)
            && row.leaks == i64::from(reported.leaks)
            && row.note == note;
        if !signed && !same {
            return Err(ApiError::WrongState {
                rule: "month_signed",
                zh: format!("该月已由 {} 签核，签核内容不能再改", row.signed_by),
                en: format!(
                    "the month was signed off by {}; what was signed is final",
                    row.signed_by
                ),
            });
        }
        self.signed_report(caller.lang, first, row).await
    }

    pub(super) async fn export_month_report(
        &self,
        caller: Caller,
        req: pb::GetMonthReportRequest,
    ) -> ApiResult<pb::ExportQueryLogResponse> {
        let lang = caller.lang;
        let report = self.month_report(caller, req).await?;
        let xlsx = crate::export::month_report_xlsx(&report, lang)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("building the workbook: {e}")))?;
        let rows = report.sections.iter().map(|s| s.rows.len() as u32).sum();
        Ok(pb::ExportQueryLogResponse {
            xlsx,
            file_name: format!("security-statistics-{}.xlsx", report.month),
            rows,
        })
    }

    /// A month that has ended (server time) a while ago; its first day.
    fn finished_month(&self, text: &str) -> ApiResult<chrono::NaiveDate> {
        let first = validate::month(MONTH, text)?;
        if self.ctx.now_ms() < span(first).to_ms + SETTLE_MS {
            return Err(ApiError::WrongState {
                rule: "month_not_over",
                zh: "该月尚未结束（结束 15 分钟后才能统计）".into(),
                en: "the month is not over (its statistics can be made 15 minutes after it ends)"
                    .into(),
            });
        }
        Ok(first)
    }

    /// Checks every day of the month that had queries against the
    /// indicators (once per day, as the daily review does); how many there
    /// were.
    async fn prepare_days(&self, caller: &Caller, first: chrono::NaiveDate) -> ApiResult<u32> {
        let mut days = 0;
        let next = rules::next_month(first);
        for day in first.iter_days().take_while(|d| *d < next) {
            let (from, to) = (
                local_midnight_ms(day),
                local_midnight_ms(day + chrono::Days::new(1)),
            );
            let mut conn = self.ctx.db.read().await?;
            let any = review::any_attempt_between(&mut conn, from, to).await?;
            drop(conn);
            if any {
                self.prepare(caller, day).await?;
                days += 1;
            }
        }
        Ok(days)
    }

    async fn signed_report(
        &self,
        lang: Lang,
        first: chrono::NaiveDate,
        row: store::SignedRow,
    ) -> ApiResult<pb::MonthReport> {
        let facts: MonthFacts = serde_json::from_str(&row.facts)
            .map_err(|e| anyhow::anyhow!("stored figures of {}: {e}", key(first)))?;
        let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
        let reported = Reported {
            unlawful_provision: count(row.unlawful_provision),
            misuse: count(row.misuse),
            leaks: count(row.leaks),
        };
        let mut report = assemble(lang, first, &facts, reported);
        report.note = row.note;
        report.signed_at_ms = row.signed_at;
        report.signed_by = row.signed_by;
        report.chain_seq = row.chain_seq;
        report.chain_hash = row.chain_hash;
        let mut conn = self.ctx.db.read().await?;
        report.reporter = reporter(&mut conn).await?;
        Ok(report)
    }
}

fn assemble(
    lang: Lang,
    first: chrono::NaiveDate,
    facts: &MonthFacts,
    reported: Reported,
) -> pb::MonthReport {
    pb::MonthReport {
        month: key(first),
        due: rules::due(first).to_string(),
        sections: rules::sections(facts, reported, lang),
        open_alerts: rules::open_alerts(facts) as u32,
        ..pb::MonthReport::default()
    }
}

async fn reporter(conn: &mut sqlx::AnyConnection) -> ApiResult<String> {
    Ok(org_units::root(conn)
        .await?
        .map(|u| u.name)
        .unwrap_or_default())
}

/// The month's figures as the database holds them now.
async fn facts(conn: &mut sqlx::AnyConnection, span: Span, days: u32) -> ApiResult<MonthFacts> {
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    // A deadline kept is one met by the end of its last day.
    let late = |rows: Vec<(String, Option<i64>)>| {
        rows.iter()
            .filter(|(due, done)| {
                let end = chrono::NaiveDate::parse_from_str(due, "%Y-%m-%d")
                    .map(|d| local_midnight_ms(d + chrono::Days::new(1)))
                    .unwrap_or(i64::MAX);
                done.is_none_or(|at| at >= end)
            })
            .count() as u64
    };
    let (attempts, refused, self_queries, consent_queries) =
        store::query_counts(conn, span).await?;
    let (objections_received, objections_closed) = store::objection_counts(conn, span).await?;
    let (complaints_received, complaints_answered) = store::complaint_counts(conn, span).await?;
    Ok(MonthFacts {
        alerts: store::alerts(conn, span).await?,
        days_with_queries: days,
        days_signed: u32::try_from(store::days_signed(conn, span).await?).unwrap_or(0),
        attempts: count(attempts),
        refused: count(refused),
        self_queries: count(self_queries),
        consent_queries: count(consent_queries),
        by_purpose: store::by_purpose(conn, span)
            .await?
            .into_iter()
            .map(|(zh, en, n)| (zh, en, count(n)))
            .collect(),
        objections_received: count(objections_received),
        objections_closed: count(objections_closed),
        objections_overdue: late(
            store::objection_deadlines(conn, span)
                .await?
                .into_iter()
                .filter_map(|(received, paused_ms, closed)| {
                    let received = chrono::NaiveDate::parse_from_str(&received, "%Y-%m-%d").ok()?;
                    let due = crate::rules::deadlines::overall_due_with_pauses(received, paused_ms);
                    (span.first <= due && due < span.next).then(|| (due.to_string(), closed))
                })
                .collect(),
        ),
        complaints_received: count(complaints_received),
        complaints_answered: count(complaints_answered),
        complaints_overdue: late(store::complaint_deadlines(conn, span).await?),
    })
}
