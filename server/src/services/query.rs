//! Credit queries: the basis is decided here (rules::basis), the attempt is
//! logged in the same transaction as the decision, and an allowed query's
//! report is assembled and kept (sealed) in that transaction too, so what
//! is answered — now, on a retry, or reprinted later — is what was issued.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use credit_desk_proto::Lang;
use credit_desk_proto::pb::{self, query_server::Query, run_query_request::Basis as PbBasis};
use credit_desk_proto::validate::{self, FieldError, Rule, field};
use prost::Message as _;
use tonic::{Request, Response, Status};

use super::{caller, convert, create_once, lang, respond, usable_verification, verification_facts};
use crate::authz::Caller;
use crate::clock::local_date;
use crate::context::Ctx;
use crate::db::idempotency::Key;
use crate::db::queries::{self, LogEntry, LogRow};
use crate::db::{audit, consents, issued, new_id, operators, org_units, records, subjects};
use crate::errors::{ApiError, ApiResult};
use crate::messages;
use crate::rules::basis::{self, Ask, Basis, ConsentFacts, Scope};
use crate::rules::report::{self, Category, RecordFacts};
use crate::rules::ticket::Outcome;

const TWO_YEARS_MS: i64 = 2 * 366 * 86_400_000;

/// The center's fee for a charged self-query, in fen.
pub const FEE_SETTING: &str = "self_query_fee_cents";
pub const DEFAULT_FEE_CENTS: i64 = 1_000;

pub struct QueryService {
    ctx: Ctx,
}

/// Start of the calendar year (server's zone) containing `ms`.
fn year_start_ms(ms: i64) -> i64 {
    let day = local_date(ms);
    crate::clock::local_midnight_ms(NaiveDate::from_ymd_opt(day.year(), 1, 1).unwrap_or(day))
}

impl QueryService {
    pub fn new(ctx: Ctx) -> Self {
        QueryService { ctx }
    }

    async fn run(
        &self,
        caller: Caller,
        req: pb::RunQueryRequest,
    ) -> ApiResult<pb::RunQueryResponse> {
        let mut errors = validate::collect([
            validate::uuid(field::REQUEST_ID, &req.request_id),
            validate::uuid("subject_id", &req.subject_id),
        ]);
        if req.basis.is_none() {
            errors.push(FieldError::new("basis", Rule::Required));
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let key = Key::of(&caller.operator_id, "RunQuery", &req, |r| &mut r.request_id)?;
        let now = self.ctx.now_ms();

        // Load the facts.
        let mut conn = self.ctx.db.read().await?;
        // Read once: validates the request and orders the report.
        let known = records::categories(&mut conn).await?;
        if req
            .categories
            .iter()
            .any(|c| !known.iter().any(|k| k.code == *c))
        {
            return Err(FieldError::new("categories", Rule::UnknownValue).into());
        }
        subjects::get(&mut conn, &req.subject_id)
            .await?
            .ok_or(ApiError::NotFound {
                field: "subject_id",
            })?;
        let basis = basis_facts(&mut conn, &req).await?;
        let ask = Ask {
            subject_id: req.subject_id.clone(),
            categories: basis::categories_asked(&basis, &req.categories),
            basis,
        };
        let self_queries_before = match ask.basis {
            Basis::SelfQuery { .. } => {
                queries::self_queries_since(&mut conn, &req.subject_id, year_start_ms(now)).await?
                    as u32
            }
            Basis::Consent { .. } => 0,
        };
        drop(conn);

        // Decide.
        let decision = basis::decide_query(
            caller.actor(),
            &ask,
            now,
            self_queries_before,
            req.fee_confirmed,
        );

        // Write: the attempt is logged, allowed or not, in one transaction.
        // A self-query keeps the verification it stood on (when it exists).
        let verification_id = match (&ask.basis, &req.basis) {
            (
                Basis::SelfQuery {
                    verification: Some(_),
                },
                Some(pb::run_query_request::Basis::SelfBasis(b)),
            ) => Some(b.verification_id.as_str()),
            _ => None,
        };
        let (log_id, replayed) = create_once(&self.ctx, key, async |tx| {
            let id = log_attempt(tx, &caller, &ask, verification_id, &decision, now).await?;
            let mut report_no = None;
            if decision.result.is_ok() {
                let log = queries::get_log(tx, &id)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("query log {id} vanished"))?;
                let mut report = self
                    .report(tx, &log, &ask.categories, known.clone(), caller.lang)
                    .await?;
                // The day's report counter is one row every query of every
                // server takes, locked until commit: taken after the
                // report's reads, it is held only through this
                // transaction's last writes and its commit, the tail in
                // which the audit chain's head serialises every writer
                // anyway (see the load bench in the README).
                let day = local_date(now);
                let n = queries::next_report_number(tx, &day.format("%Y%m%d").to_string()).await?;
                report.report_no = report::report_number(day, n);
                queries::set_report_no(tx, &id, &report.report_no).await?;
                issued::insert(tx, &report.report_no, &id, now, &report.encode_to_vec()).await?;
                report_no = Some(report.report_no);
            }
            audit_attempt(tx, &caller, &ask, &id, &decision, report_no.as_deref(), now);
            Ok(id)
        })
        .await?;
        if let Err(refusal) = &decision.result {
            tracing::info!(
                operator = caller.username,
                unit = caller.org_unit_id,
                log = log_id,
                refusal = refusal.code(),
                "query refused"
            );
            // Logged like any refusal, answered like any call the role may not make.
            if *refusal == basis::Refusal::RoleMayNotQuery {
                return Err(ApiError::PermissionDenied);
            }
        }

        // Answer: the report is assembled only from a committed log row.
        let mut conn = self.ctx.db.read().await?;
        let log = queries::get_log(&mut conn, &log_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("query log {log_id} vanished"))?;
        let fee_cents = if log.fee_applies {
            consents::setting_i64(&mut conn, FEE_SETTING, DEFAULT_FEE_CENTS).await?
        } else {
            0
        };
        let mut resp = pb::RunQueryResponse {
            allowed: log.allowed,
            fee_applies: log.fee_applies,
            fee_cents,
            query_log_id: log.id.clone(),
            replayed,
            ..Default::default()
        };
        match (&decision.result, resp.allowed) {
            (Err(refusal), false) => {
                resp.refusal_code = refusal.code().to_string();
                resp.refusal_message = refusal.message(caller.lang);
            }
            // A replay of a refusal decided differently then: its code.
            _ if !resp.allowed => resp.refusal_code = log.reason.clone(),
            _ => {
                let kept = match log.report_no.as_deref() {
                    Some(no) => issued::get(&mut conn, no).await?,
                    None => None,
                };
                resp.report = Some(match kept {
                    Some(kept) => decode_report(&kept.report)?,
                    // Issued before reports were kept: assembled again.
                    None => {
                        self.report(&mut conn, &log, &ask.categories, known, caller.lang)
                            .await?
                    }
                });
            }
        }
        Ok(resp)
    }

    /// A report by its number, as issued, marked as a reprint. Outside the
    /// issuing unit's tree (an inspection) the subject's number is masked;
    /// a number the caller may not see is "not found", like one that does
    /// not exist.
    async fn issued_report(
        &self,
        caller: Caller,
        req: pb::GetIssuedReportRequest,
    ) -> ApiResult<pb::Report> {
        const REPORT_NO: &str = "report_no";
        let report_no = validate::half_width(req.report_no.trim()).to_uppercase();
        validate::display_text(REPORT_NO, &report_no, 40)?;
        let mut conn = self.ctx.db.read().await?;
        let kept = issued::get(&mut conn, &report_no).await?;
        let issuer = kept
            .as_ref()
            .is_some_and(|k| k.unit_path.starts_with(&caller.org_unit_path));
        let kept = match kept {
            Some(k) if issuer || caller.has(pb::Capability::ReviewQueries) => k,
            _ => return Err(ApiError::NotFound { field: REPORT_NO }),
        };
        let mut report = decode_report(&kept.report)?;
        // Handed again to whom it was issued for: as it was. Read in an
        // inspection: the number masked.
        let reissue = issuer && caller.has(pb::Capability::Query);
        if !reissue && let Some(subject) = &mut report.subject {
            // As the registry shows a subject to whoever may not see it in
            // full: the number masked, contact details and birth date left out.
            subject.identifier = credit_desk_proto::ident::mask(&subject.identifier);
            subject.phone.clear();
            subject.address.clear();
            subject.birth_date.clear();
        }
        let now = self.ctx.now_ms();
        report.reprinted_at_ms = now;
        report.reprinted_by = operators::get(&mut conn, &caller.operator_id)
            .await?
            .map(|o| o.display_name)
            .unwrap_or_default();
        drop(conn);
        let mut tx = self.ctx.db.begin_write().await?;
        let who = Some(caller.operator_id.as_str());
        audit::record(&mut tx, who, "report.reprint", &report_no, "", now);
        tx.commit().await?;
        Ok(report)
    }

    /// The whole report for an allowed, logged query.
    async fn report(
        &self,
        conn: &mut sqlx::AnyConnection,
        log: &LogRow,
        scope: &Scope,
        known: Vec<records::CategoryRow>,
        lang: Lang,
    ) -> ApiResult<pb::Report> {
        let subject_id = log.subject_id.clone().unwrap_or_default();
        let subject = subjects::get(conn, &subject_id)
            .await?
            .ok_or(ApiError::NotFound {
                field: "subject_id",
            })?;
        let categories: Vec<Category> = known
            .into_iter()
            .map(|c| Category {
                code: c.code,
                name: lang.pick(c.name_zh, c.name_en),
            })
            .collect();
        let facts: Vec<RecordFacts> = queries::records_of(conn, &subject_id)
            .await?
            .into_iter()
            .map(|r| RecordFacts {
                start_date: r.start_date,
                end_date: r.end_date,
                id: r.id,
                category: r.category,
                source_name: r.source_name,
                source_key: r.source_key,
                amount_cents: r.amount_cents,
                status: r.status,
                negative: r.negative,
                details: r.details,
                version: r.version,
            })
            .collect();
        let assembled = report::assemble(facts, &categories, scope, local_date(log.at));
        let mut explanations: HashMap<String, Vec<pb::Explanation>> = HashMap::new();
        let mut statements: HashMap<String, Vec<pb::Explanation>> = HashMap::new();
        for n in queries::notes_of_subject(conn, &subject_id).await? {
            let notes = if n.is_statement {
                &mut statements
            } else {
                &mut explanations
            };
            notes.entry(n.record_id).or_default().push(pb::Explanation {
                text: n.text,
                added_at_ms: n.created_at,
                taken_by: n.taken_by,
            });
        }
        let annotations: HashMap<String, String> =
            crate::db::tickets::annotations_of_subject(conn, &subject_id)
                .await?
                .into_iter()
                .map(|a| {
                    let (record_id, ticket_no) = (a.record_id, a.ticket_no);
                    let text =
                        messages::annotation(lang, a.outcome == Outcome::Unconfirmed, &ticket_no);
                    (record_id, text)
                })
                .collect();
        let sections = assembled
            .sections
            .into_iter()
            .map(|s| pb::CategorySection {
                code: s.code,
                name: s.name,
                records: s
                    .records
                    .into_iter()
                    .map(|r| pb::ReportRecord {
                        explanations: explanations.remove(&r.id).unwrap_or_default(),
                        statements: statements.remove(&r.id).unwrap_or_default(),
                        annotation: annotations.get(&r.id).cloned().unwrap_or_default(),
                        id: r.id,
                        source_name: r.source_name,
                        source_key: r.source_key,
                        start_date: r.start_date.map(|d| d.to_string()).unwrap_or_default(),
                        end_date: r.end_date.map(|d| d.to_string()).unwrap_or_default(),
                        has_amount: r.amount_cents.is_some(),
                        amount_cents: r.amount_cents.unwrap_or(0),
                        status: r.status,
                        negative: r.negative,
                        details: r.details,
                        version: r.version as u32,
                    })
                    .collect(),
            })
            .collect();
        let self_query = messages::self_query(lang).to_string();
        let query_records = queries::query_records(conn, &subject_id, log.at - TWO_YEARS_MS)
            .await?
            .into_iter()
            .map(|q| pb::QueryRecord {
                at_ms: q.at,
                institution: q.institution.unwrap_or_else(|| self_query.clone()),
                purpose: lang
                    .pick(q.purpose_zh, q.purpose_en)
                    .unwrap_or_else(|| self_query.clone()),
                operator_name: q.operator_name,
            })
            .collect();
        let institution_name = match &log.institution_id {
            Some(id) => org_units::get(conn, id)
                .await?
                .map(|u| u.name)
                .unwrap_or_default(),
            None => String::new(),
        };
        let purpose_name = match &log.purpose {
            Some(code) => consents::purpose(conn, code)
                .await?
                .map(|p| lang.pick(p.name_zh, p.name_en))
                .unwrap_or_default(),
            None => self_query.clone(),
        };
        Ok(pb::Report {
            report_no: log.report_no.clone().unwrap_or_default(),
            generated_at_ms: log.at,
            subject: Some(convert::subject(&subject, true)),
            sections,
            withheld_for_age: assembled.withheld_for_age,
            not_covered: assembled.not_covered,
            query_records,
            basis: log.basis.clone(),
            institution_name,
            purpose_name,
            operator_name: log.operator_name.clone(),
            org_unit_name: log.org_unit_name.clone(),
            ..pb::Report::default()
        })
    }

    async fn add_explanation(
        &self,
        caller: Caller,
        req: pb::AddExplanationRequest,
    ) -> ApiResult<pb::AddExplanationResponse> {
        let text = req.text.trim().to_string();
        let errors = validate::collect([
            validate::uuid(field::REQUEST_ID, &req.request_id),
            validate::uuid("record_id", &req.record_id),
            validate::uuid(field::VERIFICATION_ID, &req.verification_id),
            validate::statement("text", &text),
        ]);
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let now = self.ctx.now_ms();
        let key = Key::of(&caller.operator_id, "AddExplanation", &req, |r| {
            &mut r.request_id
        })?;
        let (_, replayed) = create_once(&self.ctx, key, async |tx| {
            let record = queries::record_subject(tx, &req.record_id)
                .await?
                .ok_or(ApiError::NotFound { field: "record_id" })?;
            let subject_id = record.subject_id;
            if !record.negative {
                return Err(FieldError::new("record_id", Rule::UnknownValue).into());
            }
            usable_verification(tx, &caller, &req.verification_id, Some(&subject_id), now).await?;
            let id = new_id();
            queries::insert_explanation(
                tx,
                &id,
                &req.record_id,
                &text,
                &req.verification_id,
                &caller.operator_id,
                now,
            )
            .await?;
            let who = Some(caller.operator_id.as_str());
            audit::record(tx, who, "record.explanation", &req.record_id, "", now);
            Ok(id)
        })
        .await?;
        Ok(pb::AddExplanationResponse {
            explanation: Some(pb::Explanation {
                text,
                added_at_ms: now,
                // As the report names the clerk.
                taken_by: operators::display_name(
                    &mut *self.ctx.db.read().await?,
                    &caller.operator_id,
                )
                .await?,
            }),
            replayed,
        })
    }
}

/// The basis a query names, with what the database holds for it.
async fn basis_facts(
    conn: &mut sqlx::AnyConnection,
    req: &pb::RunQueryRequest,
) -> ApiResult<Basis> {
    Ok(match &req.basis {
        Some(PbBasis::SelfBasis(b)) => {
            let v = subjects::get_verification(conn, &b.verification_id).await?;
            Basis::SelfQuery {
                verification: v.as_ref().map(verification_facts),
            }
        }
        Some(PbBasis::ConsentBasis(b)) => {
            let c = consents::get(conn, &b.consent_id).await?;
            Basis::Consent {
                consent: c.map(|c| ConsentFacts {
                    id: c.id,
                    subject_id: c.subject_id,
                    grantee_unit_id: c.grantee_unit_id,
                    purpose: c.purpose,
                    scope: Scope::from_text(&c.scope),
                    valid_from_ms: c.valid_from,
                    valid_until_ms: c.valid_until,
                    withdrawn_at_ms: c.withdrawn_at,
                }),
                institution_id: b.institution_id.clone(),
                purpose: b.purpose_code.clone(),
            }
        }
        None => return Err(FieldError::new("basis", Rule::Required).into()),
    })
}

/// The query log row of an attempt, allowed or refused (with the reason's
/// code); an allowed one gets its report number when the report is made.
/// Returns its id.
async fn log_attempt(
    tx: &mut crate::db::WriteTx,
    caller: &Caller,
    ask: &Ask,
    verification_id: Option<&str>,
    decision: &basis::Decision,
    now: i64,
) -> ApiResult<String> {
    let (consent_id, purpose, institution) = match &ask.basis {
        Basis::SelfQuery { .. } => (None, None, None),
        Basis::Consent {
            consent,
            institution_id,
            purpose,
        } => (
            consent.as_ref().map(|c| c.id.as_str()),
            Some(purpose.as_str()),
            Some(institution_id.as_str()),
        ),
    };
    // Institutions and purposes named in a refused query may not exist;
    // the log keeps only those that do.
    let institution_ok = match institution {
        Some(id) if validate::uuid("i", id).is_ok() => org_units::get(tx, id).await?.is_some(),
        _ => false,
    };
    let purpose_ok = match purpose {
        Some(code) => consents::purpose(tx, code).await?.is_some(),
        None => false,
    };
    let id = new_id();
    queries::insert_log(
        tx,
        LogEntry {
            id: &id,
            at: now,
            operator_id: &caller.operator_id,
            org_unit_id: &caller.org_unit_id,
            terminal: &caller.terminal,
            subject_id: &ask.subject_id,
            basis: basis_name(ask),
            consent_id,
            verification_id,
            purpose: purpose.filter(|_| purpose_ok),
            institution_id: institution.filter(|_| institution_ok),
            allowed: decision.result.is_ok(),
            reason: decision.result.as_ref().err().map_or("", |r| r.code()),
            report_no: None,
            fee_applies: decision.fee_applies,
        },
    )
    .await?;
    Ok(id)
}

fn basis_name(ask: &Ask) -> &'static str {
    match ask.basis {
        Basis::SelfQuery { .. } => "self",
        Basis::Consent { .. } => "consent",
    }
}

/// The audit entry of an attempt: allowed with its report number, or
/// refused with the reason's code.
fn audit_attempt(
    tx: &mut crate::db::WriteTx,
    caller: &Caller,
    ask: &Ask,
    log_id: &str,
    decision: &basis::Decision,
    report_no: Option<&str>,
    now: i64,
) {
    let (subject, basis) = (&ask.subject_id, basis_name(ask));
    let outcome = match (&decision.result, report_no) {
        (Ok(_), Some(no)) => format!("subject {subject} {basis}: allowed {no}"),
        (Ok(_), None) => format!("subject {subject} {basis}: allowed"),
        (Err(refusal), _) => format!("subject {subject} {basis}: refused {}", refusal.code()),
    };
    let who = Some(caller.operator_id.as_str());
    audit::record(tx, who, "query.attempt", log_id, &outcome, now);
}

impl QueryService {
    /// Today's verifications and query attempts of the caller.
    async fn my_day(&self, caller: Caller, _req: pb::MyDayRequest) -> ApiResult<pb::MyDayResponse> {
        const SHOWN: usize = 200;
        let today = local_date(self.ctx.now_ms());
        let (from, to) = (
            crate::clock::local_midnight_ms(today),
            crate::clock::local_midnight_ms(today + chrono::Days::new(1)),
        );
        let mut conn = self.ctx.db.read().await?;
        let mut made = subjects::verifications_made(
            &mut conn,
            &caller.operator_id,
            from,
            to,
            SHOWN as i64 + 1,
        )
        .await?;
        let filter = crate::db::query_log::Filter {
            operator_username: caller.username.clone(),
            from_ms: from,
            to_ms: to,
            unit_path: caller.org_unit_path.clone(),
            ..Default::default()
        };
        let mut asked =
            crate::db::query_log::page(&mut conn, &filter, None, SHOWN as i64 + 1).await?;
        let more = made.len() > SHOWN || asked.len() > SHOWN;
        made.truncate(SHOWN);
        asked.truncate(SHOWN);
        Ok(pb::MyDayResponse {
            day: today.to_string(),
            verifications: made
                .into_iter()
                .map(|v| pb::MyVerification {
                    at_ms: v.created_at,
                    subject_name: v.subject_name,
                    subject_identifier: credit_desk_proto::ident::mask(&v.subject_identifier),
                    method: v.method as i32,
                })
                .collect(),
            queries: asked
                .iter()
                .map(|r| super::supervision::entry(r, caller.lang))
                .collect(),
            more,
        })
    }
}

fn decode_report(bytes: &[u8]) -> ApiResult<pb::Report> {
    pb::Report::decode(bytes)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("a kept report does not decode: {e}")))
}

#[tonic::async_trait]
impl Query for QueryService {
    async fn get_issued_report(
        &self,
        req: Request<pb::GetIssuedReportRequest>,
    ) -> Result<Response<pb::Report>, Status> {
        handle!(self, req, issued_report)
    }

    async fn my_day(
        &self,
        req: Request<pb::MyDayRequest>,
    ) -> Result<Response<pb::MyDayResponse>, Status> {
        handle!(self, req, my_day)
    }

    async fn run_query(
        &self,
        req: Request<pb::RunQueryRequest>,
    ) -> Result<Response<pb::RunQueryResponse>, Status> {
        handle!(self, req, run)
    }

    async fn add_explanation(
        &self,
        req: Request<pb::AddExplanationRequest>,
    ) -> Result<Response<pb::AddExplanationResponse>, Status> {
        handle!(self, req, add_explanation)
    }
}
