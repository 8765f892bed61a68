//! The daily review of query operations (查询操作日核查): a finished day's
//! attempts are checked against the abnormal-query indicators once (the
//! first time anyone opens the day), each alert is concluded by a
//! supervisor — normal, or a violation with what was found — and the day is
//! signed off when none is open, keeping the audit chain's head of that
//! moment for the paper copy.

use credit_desk_proto::pb::{self, AlertConclusion};
use credit_desk_proto::validate::{self, FieldError, Rule};
use credit_desk_proto::{Lang, ident};

use super::supervision::{SupervisionService, entry};
use crate::authz::Caller;
use crate::clock::local_midnight_ms;
use crate::db::query_log::{self, Filter};
use crate::db::review::{self, AlertRow, NewAlert};
use crate::db::{audit, calendar as cal_db, new_id};
use crate::errors::{ApiError, ApiResult};
use crate::rules::indicators::{self, Attempt, DayFacts, Indicator, Thresholds};

const DAY: &str = "day";
const NOTE: &str = "note";
const CONCLUSION: &str = "conclusion";
const NOTE_MAX: usize = 500;
/// Evidence sent with an alert; the query log search finds the rest.
const EVIDENCE_SHOWN: usize = 20;
/// How long after midnight a day may be prepared.
const SETTLE_MS: i64 = 15 * crate::clock::MINUTE_MS;
/// How far back a terminal counts as seen.
const TERMINAL_MEMORY_DAYS: u64 = 180;

/// Thresholds from the center's settings (`setting show` lists them).
async fn thresholds(conn: &mut sqlx::AnyConnection) -> ApiResult<Thresholds> {
    use crate::settings::{self, indicator as key};
    let count = |n: i64| usize::try_from(n).unwrap_or(0);
    let hours = settings::get(conn, key::WORKING_HOURS).await?;
    Ok(Thresholds {
        queries_per_operator: count(settings::get(conn, key::QUERIES).await?),
        refusals_per_operator: count(settings::get(conn, key::REFUSALS).await?),
        agent_queries_per_operator: count(settings::get(conn, key::AGENT_QUERIES).await?),
        institutions_per_subject: count(settings::get(conn, key::INSTITUTIONS).await?),
        institution_window_days: settings::get(conn, key::WINDOW_DAYS).await?.clamp(1, 90) as u32,
        work_start_minute: ((hours / 100).clamp(0, 23) * 60) as u32,
        work_end_minute: ((hours % 100).clamp(1, 24) * 60) as u32,
    })
}

impl SupervisionService {
    pub(super) async fn day_review(
        &self,
        caller: Caller,
        req: pb::GetDayReviewRequest,
    ) -> ApiResult<pb::DayReview> {
        let day = self.finished_day(&req.day)?;
        self.prepare(&caller, day).await?;
        self.review_of(caller.lang, day).await
    }

    pub(super) async fn conclude_alert(
        &self,
        caller: Caller,
        req: pb::ConcludeAlertRequest,
    ) -> ApiResult<pb::DayReview> {
        let note = req.note.trim().to_string();
        let mut errors = validate::collect([
            validate::uuid("alert_id", &req.alert_id),
            validate::free_text(NOTE, &note, NOTE_MAX, true),
        ]);
        let conclusion = match req.conclusion() {
            AlertConclusion::Open => {
                errors.push(FieldError::new(CONCLUSION, Rule::Required));
                ""
            }
            AlertConclusion::Normal => "normal",
            AlertConclusion::Violation => "violation",
        };
        if conclusion == "violation" && note.is_empty() {
            errors.push(FieldError::new(NOTE, Rule::Required));
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let now = self.ctx.now_ms();
        let mut tx = self.ctx.db.begin_write().await?;
        let alert = review::get_alert(&mut tx, &req.alert_id)
            .await?
            .ok_or(ApiError::NotFound { field: "alert_id" })?;
        let day = chrono::NaiveDate::parse_from_str(&alert.day, "%Y-%m-%d")
            .map_err(|e| anyhow::anyhow!("stored day {:?}: {e}", alert.day))?;
        // The same conclusion again (a retry) is the one recorded.
        if alert.conclusion.as_deref() == Some(conclusion) && alert.note == note {
            tx.rollback().await?;
            return self.review_of(caller.lang, day).await;
        }
        // Takes the day's row: a sign-off racing with this waits for it, or
        // this finds the day signed.
        if !review::hold_unsigned(&mut tx, &alert.day).await? {
            return Err(signed_already());
        }
        let who = caller.operator_id.as_str();
        review::conclude(&mut tx, &alert.id, conclusion, &note, who, now).await?;
        let detail = format!("{} {}: {conclusion} {note}", alert.indicator, alert.about);
        audit::record(
            &mut tx,
            Some(who),
            "alert.concluded",
            &alert.id,
            &detail,
            now,
        );
        tx.commit().await?;
        self.review_of(caller.lang, day).await
    }

    pub(super) async fn sign_off(
        &self,
        caller: Caller,
        req: pb::SignOffDayRequest,
    ) -> ApiResult<pb::DayReview> {
        let day = self.finished_day(&req.day)?;
        self.prepare(&caller, day).await?;
        let key = day.format("%Y-%m-%d").to_string();
        let now = self.ctx.now_ms();
        let mut tx = self.ctx.db.begin_write().await?;
        let head = audit::head(&mut tx).await?;
        // Signing first takes the day's row, so no conclusion changes
        // between the count below and the commit. A repeated sign-off (a
        // retry) finds the day signed and changes nothing.
        if !review::sign(&mut tx, &key, &caller.operator_id, now, &head).await? {
            tx.rollback().await?;
            return self.review_of(caller.lang, day).await;
        }
        let open = review::alerts_of(&mut tx, &key)
            .await?
            .iter()
            .filter(|a| a.conclusion.is_none())
            .count();
        if open > 0 {
            tx.rollback().await?;
            return Err(ApiError::WrongState {
                rule: "alerts_open",
                zh: format!("还有 {open} 条预警未下结论，全部下结论后才能签核该日"),
                en: format!(
                    "{open} alert(s) have no conclusion yet; conclude them all to sign the day off"
                ),
            });
        }
        let detail = format!("audit chain head {} {}", head.seq, head.hash);
        let who = Some(caller.operator_id.as_str());
        audit::record(&mut tx, who, "review.signed", &key, &detail, now);
        tx.commit().await?;
        self.review_of(caller.lang, day).await
    }

    /// A day that has ended (server time) a while ago: an attempt begun
    /// just before midnight may commit just after it, and the day's alerts
    /// are computed once.
    fn finished_day(&self, text: &str) -> ApiResult<chrono::NaiveDate> {
        let day = validate::date(DAY, text)?;
        let (_, end) = bounds(day);
        if self.ctx.now_ms() < end + SETTLE_MS {
            return Err(ApiError::WrongState {
                rule: "day_not_over",
                zh: "该日尚未结束（结束 15 分钟后才能核查）".into(),
                en: "the day is not over (it can be reviewed 15 minutes after it ends)".into(),
            });
        }
        Ok(day)
    }

    /// Checks the day's attempts against the indicators, once.
    pub(super) async fn prepare(&self, caller: &Caller, day: chrono::NaiveDate) -> ApiResult<()> {
        let key = day.format("%Y-%m-%d").to_string();
        let mut conn = self.ctx.db.read().await?;
        if review::get_day(&mut conn, &key).await?.is_some() {
            return Ok(());
        }
        let (from, to) = bounds(day);
        let t = thresholds(&mut conn).await?;
        let calendar = cal_db::load(&mut conn).await?;
        let working_day = calendar.is_working_day(day).map_err(|_| {
            FieldError::new(
                DAY,
                Rule::CalendarMissingYear {
                    year: chrono::Datelike::year(&day),
                },
            )
        })?;
        let rows = review::attempts_between(&mut conn, from, to).await?;
        let window_start = local_midnight_ms(
            day - chrono::Days::new(u64::from(t.institution_window_days.saturating_sub(1))),
        );
        let earlier = review::consent_queries_between(&mut conn, window_start, from).await?;
        let memory = local_midnight_ms(day - chrono::Days::new(TERMINAL_MEMORY_DAYS));
        let known = review::terminals_between(&mut conn, memory, from).await?;
        drop(conn);
        let attempts: Vec<Attempt> = rows
            .iter()
            .map(|r| Attempt {
                id: r.id.clone(),
                at_ms: r.at,
                local_minute: local_minute(r.at),
                operator_id: r.operator_id.clone(),
                terminal: r.terminal.clone(),
                subject_id: r.subject_id.clone(),
                self_query: r.basis == "self",
                by_agent: r.by_agent,
                institution_id: r.institution_id.clone(),
                allowed: r.allowed,
                consent_valid_until_ms: r.consent_valid_until,
                consent_withdrawn_at_ms: r.consent_withdrawn_at,
            })
            .collect();
        let hits = indicators::evaluate(
            &DayFacts {
                attempts: &attempts,
                working_day,
                earlier_consent_queries: &earlier,
                known_terminals: &known,
            },
            &t,
        );
        let now = self.ctx.now_ms();
        let mut tx = self.ctx.db.begin_write().await?;
        if !review::insert_day(&mut tx, &key, now).await? {
            // Another server prepared it meanwhile.
            tx.rollback().await?;
            return Ok(());
        }
        for h in &hits {
            review::insert_alert(
                &mut tx,
                NewAlert {
                    id: &new_id(),
                    day: &key,
                    indicator: h.indicator.code(),
                    about: &h.about,
                    attempts: &h.attempts,
                    now_ms: now,
                },
            )
            .await?;
        }
        let detail = format!("{} attempt(s), {} alert(s)", attempts.len(), hits.len());
        let who = Some(caller.operator_id.as_str());
        audit::record(&mut tx, who, "review.prepared", &key, &detail, now);
        tx.commit().await?;
        Ok(())
    }

    /// The day as the supervisor sees it.
    async fn review_of(&self, lang: Lang, day: chrono::NaiveDate) -> ApiResult<pb::DayReview> {
        let key = day.format("%Y-%m-%d").to_string();
        let mut conn = self.ctx.db.read().await?;
        let row = review::get_day(&mut conn, &key)
            .await?
            .ok_or_else(|| anyhow::anyhow!("review of {key} vanished"))?;
        let (from, to) = bounds(day);
        let all = Filter {
            from_ms: from,
            to_ms: to,
            ..Filter::default()
        };
        let attempts = query_log::count(&mut conn, &all).await?;
        let refused = query_log::count(
            &mut conn,
            &Filter {
                allowed: Some(false),
                ..all
            },
        )
        .await?;
        let mut alerts = Vec::new();
        for a in review::alerts_of(&mut conn, &key).await? {
            let ids = a.attempt_ids();
            let shown: Vec<String> = ids.iter().take(EVIDENCE_SHOWN).cloned().collect();
            let evidence: Vec<pb::QueryLogEntry> = query_log::by_ids(&mut conn, &shown)
                .await?
                .iter()
                .map(|r| entry(r, lang))
                .collect();
            alerts.push(alert_pb(&a, evidence, ids.len(), lang));
        }
        let (chain_seq, chain_hash) = match (row.chain_seq, row.chain_hash) {
            (Some(seq), Some(hash)) => (seq, hash),
            _ => {
                let head = audit::head(&mut conn).await?;
                (head.seq, head.hash)
            }
        };
        let calendar = cal_db::load(&mut conn).await?;
        Ok(pb::DayReview {
            day: key,
            working_day: calendar.is_working_day(day).unwrap_or(true),
            attempts: attempts as u64,
            refused: refused as u64,
            alerts,
            signed_at_ms: row.signed_at.unwrap_or(0),
            signed_by: row.signed_by.unwrap_or_default(),
            chain_seq,
            chain_hash,
        })
    }
}

fn signed_already() -> ApiError {
    ApiError::WrongState {
        rule: "day_signed",
        zh: "该日已签核，结论不能再改".into(),
        en: "the day is signed off; its conclusions are final".into(),
    }
}

/// The day's first and last millisecond + 1, server time.
fn bounds(day: chrono::NaiveDate) -> (i64, i64) {
    (
        local_midnight_ms(day),
        local_midnight_ms(day + chrono::Days::new(1)),
    )
}

fn local_minute(ms: i64) -> u32 {
    use chrono::Timelike;
    let t = chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&chrono::Local);
    t.hour() * 60 + t.minute()
}

/// An alert for the screen: whom it is about in words staff know, read off
/// its first piece of evidence.
fn alert_pb(a: &AlertRow, evidence: Vec<pb::QueryLogEntry>, count: usize, lang: Lang) -> pb::Alert {
    let indicator = Indicator::from_code(&a.indicator);
    let about = match (indicator, evidence.first()) {
        (
            Some(
                Indicator::SubjectByManyInstitutions
                | Indicator::ConsentNearExpiry
                | Indicator::ConsentWithdrawnSameDay,
            ),
            Some(e),
        ) => format!("{} {}", e.subject_name, e.subject_identifier),
        (Some(Indicator::NewTerminal), Some(e)) => {
            format!(
                "{} ({}) @ {}",
                e.operator_name, e.operator_username, e.terminal
            )
        }
        (_, Some(e)) => format!("{} ({})", e.operator_name, e.operator_username),
        (_, None) => ident::mask(&a.about),
    };
    pb::Alert {
        id: a.id.clone(),
        indicator: a.indicator.clone(),
        indicator_name: indicator.map_or_else(|| a.indicator.clone(), |i| i.name(lang).to_string()),
        about,
        evidence,
        evidence_count: count as u32,
        conclusion: match a.conclusion.as_deref() {
            Some("normal") => AlertConclusion::Normal,
            Some("violation") => AlertConclusion::Violation,
            _ => AlertConclusion::Open,
        } as i32,
        note: a.note.clone(),
        concluded_by: a.concluded_by.clone().unwrap_or_default(),
        concluded_at_ms: a.concluded_at.unwrap_or(0),
    }
}
