//! Objection tickets and the working-day calendar. The state machine and the
//! deadlines are `rules::ticket` and `rules::deadlines`; this reads the
//! facts, asks them, and writes the outcome in one transaction.

use credit_desk_proto::calendar;
use credit_desk_proto::pb::{self, Role, objection_server::Objection};
use credit_desk_proto::validate::{self, FieldError, Rule, field};
use credit_desk_proto::{Lang, ident};
use tonic::{Request, Response, Status};

use super::{caller, create_once, lang, respond};
use crate::authz::Caller;
use crate::clock::local_date;
use crate::context::Ctx;
use crate::db::idempotency::{self, Key};
use crate::db::queue::{self, QueueScope};
use crate::db::tickets::{self, NewTicket, TicketRow};
use crate::db::{calendar as cal_db, consents, new_id, records, subjects};
use crate::domain;
use crate::errors::{ApiError, ApiResult};
use crate::rules::deadlines::{self, Urgency};
use crate::rules::submissions;
use crate::rules::ticket::{self, Action, Facts, Outcome, State};

/// Center setting: failed notices after which "unreachable" is allowed.
pub const ATTEMPTS_SETTING: &str = "objection_notice_attempts";

pub const REASONS: [&str; 4] = ["wrong_content", "not_mine", "outdated", "other"];
const REASON_TEXT_MAX: usize = 20_000;
const EVIDENCE_MAX_ITEMS: usize = 50;
const MAX_RECORDS: usize = 50;
/// A whole queue answer carries at most this many tickets, nearest first
/// (about 8 KB compressed; the counts cover the rest).
const QUEUE_PAGE: i64 = 200;
/// More changes than this since a cursor: the whole queue is cheaper.
const QUEUE_CHANGES_MAX: i64 = 1000;
/// The largest calendar file accepted (a year is a few kilobytes).
const CALENDAR_MAX_BYTES: usize = 256 * 1024;

pub struct ObjectionService {
    ctx: Ctx,
}

impl ObjectionService {
    pub fn new(ctx: Ctx) -> Self {
        ObjectionService { ctx }
    }

    async fn get_calendar(
        &self,
        _caller: Caller,
        req: pb::GetCalendarRequest,
    ) -> ApiResult<pb::CalendarResponse> {
        let mut conn = self.ctx.db.read().await?;
        let years = cal_db::years(&mut conn)
            .await?
            .into_iter()
            .map(|y| pb::CalendarYear {
                year: y.year as i32,
                source: y.source,
                updated_at_ms: y.updated_at,
                updated_by: y.updated_by.unwrap_or_default(),
                days: y.days as u32,
            })
            .collect();
        let days = if req.year == 0 {
            Vec::new()
        } else {
            cal_db::days_of_year(&mut conn, req.year)
                .await?
                .into_iter()
                .map(|d| pb::CalendarDay {
                    date: d.date.to_string(),
                    kind: d.kind.as_str().into(),
                    name: d.name,
                })
                .collect()
        };
        Ok(pb::CalendarResponse { years, days })
    }

    async fn import_calendar(
        &self,
        caller: Caller,
        req: pb::ImportCalendarRequest,
    ) -> ApiResult<pb::ImportCalendarResponse> {
        if req.csv.len() > CALENDAR_MAX_BYTES {
            return Err(FieldError::new(
                "csv",
                Rule::TooLong {
                    max: CALENDAR_MAX_BYTES,
                },
            )
            .into());
        }
        let name = req.file_name.trim();
        validate::display_text("file_name", name, 200)?;
        let days = calendar::parse_csv(&req.csv).map_err(|errors| {
            let lines: Vec<String> = errors.iter().take(20).map(|e| e.to_string()).collect();
            FieldError::new("csv", Rule::BadFile(lines.join("; ")))
        })?;
        let changed = crate::objections::apply_calendar(
            &self.ctx.db,
            &days,
            name,
            Some(&caller.operator_id),
            self.ctx.now_ms(),
        )
        .await?;
        let calendar = self
            .get_calendar(caller, pb::GetCalendarRequest { year: 0 })
            .await?
            .years;
        Ok(pb::ImportCalendarResponse {
            calendar,
            years: changed.years,
            days: days.len() as u32,
            deadlines_recomputed: changed.recomputed,
        })
    }

    async fn file(
        &self,
        caller: Caller,
        req: pb::FileObjectionRequest,
    ) -> ApiResult<pb::TicketResponse> {
        let mut errors = validate::collect([
            validate::uuid(field::REQUEST_ID, &req.request_id),
            validate::uuid("verification_id", &req.verification_id),
            check_phone(&req.contact_phone),
            validate::display_text("contact_address", &req.contact_address, 200),
        ]);
        if !REASONS.contains(&req.reason_category.as_str()) {
            errors.push(FieldError::new("reason_category", Rule::UnknownValue));
        }
        let reason = req.reason_text.trim();
        if reason.is_empty() {
            errors.push(FieldError::new("reason_text", Rule::Required));
        } else if reason.chars().count() > REASON_TEXT_MAX {
            errors.push(FieldError::new(
                "reason_text",
                Rule::TooLong {
                    max: REASON_TEXT_MAX,
                },
            ));
        }
        if !["written", "phone"].contains(&req.notify_by.as_str()) {
            errors.push(FieldError::new("notify_by", Rule::UnknownValue));
        }
        let evidence: Vec<&str> = req
            .evidence
            .iter()
            .map(|e| e.trim())
            .filter(|e| !e.is_empty())
            .collect();
        if evidence.len() > EVIDENCE_MAX_ITEMS {
            errors.push(FieldError::new(
                "evidence",
                Rule::TooLong {
                    max: EVIDENCE_MAX_ITEMS,
                },
            ));
        }
        for e in &evidence {
            if let Err(err) = validate::display_text("evidence", e, 200) {
                errors.push(err);
                break;
            }
        }
        let mut record_ids = req.record_ids.clone();
        record_ids.sort();
        record_ids.dedup();
        if record_ids.is_empty() {
            errors.push(FieldError::new("record_ids", Rule::Required));
        } else if record_ids.len() > MAX_RECORDS {
            errors.push(FieldError::new(
                "record_ids",
                Rule::TooLong { max: MAX_RECORDS },
            ));
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let now = self.ctx.now_ms();
        let hash = idempotency::request_hash(&req, |r| r.request_id.clear());
        let key = Key {
            operator_id: &caller.operator_id,
            request_id: &req.request_id,
            method: "FileObjection",
            request_hash: &hash,
        };
        let (id, replayed) = create_once(&self.ctx, key, async |tx| {
            let v = live_verification(tx, &req.verification_id, now).await?;
            // Every record is the verified subject's, on a report, and not
            // already under an open objection.
            let mut departments = Vec::new();
            for record_id in &record_ids {
                let owner = records::owner(tx, record_id).await?;
                match owner {
                    Some(o) if o.subject_id == v.subject_id && o.deleted_at.is_none() => {
                        departments.push(o.source_unit_id)
                    }
                    _ => return Err(FieldError::new("record_ids", Rule::UnknownValue).into()),
                }
                if tickets::open_disputes(tx, record_id).await?.is_some() {
                    return Err(ApiError::AlreadyExists {
                        field: "record_ids",
                    });
                }
            }
            let today = local_date(now);
            let id = new_id();
            let n =
                tickets::next_counter(tx, &format!("ticket:{}", today.format("%Y%m%d"))).await?;
            let ticket_no = format!("YY-{}-{n:04}", today.format("%Y%m%d"));
            let agent = v.method == "agent_with_poa";
            tickets::insert(
                tx,
                NewTicket {
                    id: &id,
                    ticket_no: &ticket_no,
                    subject_id: &v.subject_id,
                    org_unit_id: &caller.org_unit_id,
                    operator_id: &caller.operator_id,
                    verification_id: &v.id,
                    applicant: if agent { "agent" } else { "subject" },
                    agent_name: v.agent_name.as_deref().unwrap_or(""),
                    agent_identifier: v.agent_identifier.as_deref().unwrap_or(""),
                    poa_reference: v.poa_reference.as_deref().unwrap_or(""),
                    reason_category: &req.reason_category,
                    reason_text: reason,
                    evidence: &evidence.join("\n"),
                    contact_phone: req.contact_phone.trim(),
                    contact_address: req.contact_address.trim(),
                    notify_by: &req.notify_by,
                    received_on: &today.to_string(),
                    overall_due: &deadlines::overall_due(today).to_string(),
                    now_ms: now,
                },
            )
            .await?;
            for (record_id, department) in record_ids.iter().zip(&departments) {
                tickets::add_record(tx, &id, record_id, department).await?;
            }
            tickets::add_event(
                tx,
                &id,
                Some(&caller.operator_id),
                "filed",
                &format!("{} record(s)", record_ids.len()),
                now,
            )
            .await?;
            tickets::touch(tx, &id).await?;
            Ok(id)
        })
        .await?;
        let ticket = self.load(&caller, &id).await?;
        Ok(pb::TicketResponse {
            ticket: Some(ticket),
            replayed,
        })
    }

    async fn get(
        &self,
        caller: Caller,
        req: pb::GetTicketRequest,
    ) -> ApiResult<pb::TicketResponse> {
        validate::uuid("ticket_id", &req.ticket_id)?;
        Ok(pb::TicketResponse {
            ticket: Some(self.load(&caller, &req.ticket_id).await?),
            replayed: false,
        })
    }

    async fn act(
        &self,
        caller: Caller,
        req: pb::ActOnTicketRequest,
    ) -> ApiResult<pb::TicketResponse> {
        use pb::act_on_ticket_request::Action as A;
        validate::collect([
            validate::uuid(field::REQUEST_ID, &req.request_id),
            validate::uuid("ticket_id", &req.ticket_id),
        ])
        .into_iter()
        .next()
        .map_or(Ok(()), Err)?;
        let Some(action) = req.action.clone() else {
            return Err(FieldError::new("action", Rule::Required).into());
        };
        let now = self.ctx.now_ms();
        let hash = idempotency::request_hash(&req, |r| r.request_id.clear());
        let key = Key {
            operator_id: &caller.operator_id,
            request_id: &req.request_id,
            method: "ActOnTicket",
            request_hash: &hash,
        };
        let (id, replayed) = create_once(&self.ctx, key, async |tx| {
            let row = tickets::get(tx, &req.ticket_id)
                .await?
                .ok_or(ApiError::NotFound { field: "ticket_id" })?;
            let letters = tickets::letters_of(tx, &row.id).await?;
            let recs = tickets::records_of(tx, &row.id, false).await?;
            // Who may do what, on whose tickets.
            let center = caller.role == Role::Center;
            let allowed = match &action {
                A::Withdraw(_) => {
                    center
                        || (caller.role == Role::Counter
                            && row.org_unit_path.starts_with(&caller.org_unit_path))
                }
                A::RecordReply(r) => {
                    center
                        || (caller.role == Role::Liaison
                            && letters.iter().any(|l| {
                                l.id == r.letter_id && l.department_id == caller.org_unit_id
                            }))
                }
                _ => center,
            };
            if !allowed {
                return Err(
                    if caller.role == Role::Center || caller.role == Role::Counter {
                        ApiError::OutOfScope
                    } else {
                        ApiError::PermissionDenied
                    },
                );
            }
            if row.version as u64 != req.expected_version {
                return Err(ApiError::Stale {
                    by: row.updated_by.clone(),
                    at_ms: row.updated_at,
                });
            }
            let mut departments: Vec<&str> =
                recs.iter().map(|r| r.department_id.as_str()).collect();
            departments.sort();
            departments.dedup();
            let notifications = tickets::notifications_of(tx, &row.id).await?;
            let mut facts = Facts {
                state: State::parse(&row.state).unwrap_or(State::Received),
                paused: row.paused_since.is_some(),
                departments: departments.len(),
                letters_sent: letters.len(),
                letters_replied: letters.iter().filter(|l| l.replied_at.is_some()).count(),
                failed_notices: notifications.iter().filter(|n| n.reached == 0).count() as u32,
                attempts_required: consents::setting_i64(tx, ATTEMPTS_SETTING, 3).await? as u32,
            };
            let step = |facts: Facts, a: Action| {
                ticket::next(facts, a).map_err(|refusal| refused(refusal, a))
            };
            let today = local_date(now);
            let (state, detail) = match &action {
                A::SendRequests(s) => {
                    let received_on = if s.received_on.trim().is_empty() {
                        today
                    } else {
                        date(s.received_on.trim())
                            .ok_or_else(|| FieldError::new("received_on", Rule::NotADate))?
                    };
                    let cal = cal_db::load(tx).await?;
                    let due = deadlines::department_reply_due(&cal, received_on).map_err(
                        |calendar::CalendarError::MissingYear(year)| {
                            FieldError::new("received_on", Rule::CalendarMissingYear { year })
                        },
                    )?;
                    let mut sent = Vec::new();
                    for dept in departments
                        .iter()
                        .filter(|d| !letters.iter().any(|l| l.department_id == **d))
                    {
                        facts.state = step(facts, Action::SendRequest)?;
                        facts.letters_sent += 1;
                        let n = tickets::next_counter(
                            tx,
                            &format!("letter:{}", today.format("%Y%m%d")),
                        )
                        .await?;
                        let letter_no = format!("HC-{}-{n:04}", today.format("%Y%m%d"));
                        tickets::insert_letter(
                            tx,
                            tickets::NewLetter {
                                ticket_id: &row.id,
                                letter_no: &letter_no,
                                department_id: dept,
                                operator_id: &caller.operator_id,
                                received_on: &received_on.to_string(),
                                reply_due: &due.to_string(),
                                now_ms: now,
                            },
                        )
                        .await?;
                        sent.push(letter_no);
                    }
                    if sent.is_empty() {
                        step(facts, Action::SendRequest)?;
                    }
                    (
                        facts.state,
                        format!("{} (reply due {due})", sent.join(", ")),
                    )
                }
                A::RecordReply(r) => {
                    let letter = letters
                        .iter()
                        .find(|l| l.id == r.letter_id)
                        .ok_or_else(|| FieldError::new("letter_id", Rule::UnknownValue))?;
                    if letter.replied_at.is_some() {
                        return Err(refused(
                            ticket::Refusal::NoLetterWaiting,
                            Action::RecordReply,
                        ));
                    }
                    let next = step(facts, Action::RecordReply)?;
                    let theirs: Vec<&tickets::TicketRecordRow> = recs
                        .iter()
                        .filter(|x| {
                            x.department_id == letter.department_id && x.outcome == "disputed"
                        })
                        .collect();
                    // One decision for each disputed record of the department.
                    let mut decided = Vec::new();
                    for rec in &theirs {
                        let d = r
                            .decisions
                            .iter()
                            .find(|d| d.record_id == rec.record_id)
                            .ok_or_else(|| FieldError::new("decisions", Rule::Required))?;
                        let outcome = Outcome::parse(&d.outcome)
                            .ok_or_else(|| FieldError::new("decisions", Rule::UnknownValue))?;
                        decided.push((rec.record_id.clone(), outcome, d));
                    }
                    if r.decisions.len() != decided.len() {
                        return Err(FieldError::new("decisions", Rule::UnknownValue).into());
                    }
                    validate::display_text("reply_text", &r.reply_text, 5000)?;
                    for (record_id, outcome, d) in &decided {
                        match outcome {
                            Outcome::Corrected => {
                                if let Some(end) = Some(d.end_date.trim()).filter(|e| !e.is_empty())
                                {
                                    date(end).ok_or_else(|| {
                                        FieldError::new("end_date", Rule::NotADate)
                                    })?;
                                }
                                tickets::correct_record(
                                    tx,
                                    record_id,
                                    &row.id,
                                    tickets::Correction {
                                        status: &d.status,
                                        details: &d.details,
                                        end_date: Some(d.end_date.trim()).filter(|e| !e.is_empty()),
                                        amount_cents: d.has_amount.then_some(Some(d.amount_cents)),
                                    },
                                    &caller.operator_id,
                                    now,
                                )
                                .await?
                            }
                            Outcome::Deleted => {
                                tickets::delete_record(tx, record_id, &row.id, now).await?
                            }
                            Outcome::Confirmed | Outcome::Unconfirmed => {}
                        }
                        tickets::set_outcome(tx, &row.id, record_id, outcome.as_str()).await?;
                    }
                    tickets::reply_letter(
                        tx,
                        &letter.id,
                        r.reply_text.trim(),
                        &caller.operator_id,
                        now,
                    )
                    .await?;
                    if next == State::Replied {
                        let cal = cal_db::load(tx).await?;
                        let due = deadlines::notice_due(&cal, today)
                            .map_err(|e| anyhow::anyhow!("{e}"))?;
                        tickets::set_notify_due(tx, &row.id, &due.to_string()).await?;
                    }
                    let outcomes: Vec<String> = decided
                        .iter()
                        .map(|(_, o, d)| format!("{}={}", d.record_id, o.as_str()))
                        .collect();
                    (
                        next,
                        format!("{}: {}", letter.letter_no, outcomes.join(", ")),
                    )
                }
                A::Notify(n) => {
                    if !["written", "phone"].contains(&n.channel.as_str()) {
                        return Err(FieldError::new("channel", Rule::UnknownValue).into());
                    }
                    let next = step(facts, Action::Notify { reached: n.reached })?;
                    tickets::add_notification(
                        tx,
                        &row.id,
                        &n.channel,
                        n.reached,
                        n.note.trim(),
                        &caller.operator_id,
                        now,
                    )
                    .await?;
                    let how = if n.reached { "reached" } else { "not reached" };
                    (next, format!("{} {how} {}", n.channel, n.note.trim()))
                }
                A::MarkUnreachable(_) => (step(facts, Action::MarkUnreachable)?, String::new()),
                A::Close(_) => (step(facts, Action::Close)?, String::new()),
                A::Withdraw(_) => {
                    let next = step(facts, Action::Withdraw)?;
                    tickets::end_disputes(tx, &row.id, "withdrawn").await?;
                    if facts.paused {
                        tickets::set_pause(tx, &row.id, None, now).await?;
                    }
                    (next, String::new())
                }
                A::Pause(p) => {
                    validate::display_text("reason", &p.reason, 200)?;
                    let next = step(facts, Action::Pause)?;
                    tickets::set_pause(tx, &row.id, Some(p.reason.trim()), now).await?;
                    (next, p.reason.trim().to_string())
                }
                A::Resume(_) => {
                    let next = step(facts, Action::Resume)?;
                    tickets::set_pause(tx, &row.id, None, now).await?;
                    (next, String::new())
                }
            };
            if !tickets::claim(tx, &row.id, row.version, &caller.operator_id, now).await? {
                let fresh = tickets::get(tx, &row.id)
                    .await?
                    .ok_or(ApiError::NotFound { field: "ticket_id" })?;
                return Err(ApiError::Stale {
                    by: fresh.updated_by,
                    at_ms: fresh.updated_at,
                });
            }
            tickets::set_state(tx, &row.id, state.as_str(), now).await?;
            tickets::touch(tx, &row.id).await?;
            tickets::add_event(
                tx,
                &row.id,
                Some(&caller.operator_id),
                action_name(&action),
                &detail,
                now,
            )
            .await?;
            Ok(row.id.clone())
        })
        .await?;
        Ok(pb::TicketResponse {
            ticket: Some(self.load(&caller, &id).await?),
            replayed,
        })
    }

    async fn add_statement(
        &self,
        caller: Caller,
        req: pb::AddStatementRequest,
    ) -> ApiResult<pb::AddStatementResponse> {
        let text = req.text.trim().to_string();
        let errors = validate::collect([
            validate::uuid(field::REQUEST_ID, &req.request_id),
            validate::uuid("record_id", &req.record_id),
            validate::uuid("verification_id", &req.verification_id),
            validate::statement("text", &text),
        ]);
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let now = self.ctx.now_ms();
        let hash = idempotency::request_hash(&req, |r| r.request_id.clear());
        let key = Key {
            operator_id: &caller.operator_id,
            request_id: &req.request_id,
            method: "AddStatement",
            request_hash: &hash,
        };
        let (_, replayed) = create_once(&self.ctx, key, async |tx| {
            let v = live_verification(tx, &req.verification_id, now).await?;
            // Only on a record the subject's check left unconfirmed.
            let ticket_id = tickets::unconfirmed_ticket(tx, &req.record_id, &v.subject_id)
                .await?
                .ok_or_else(|| FieldError::new("record_id", Rule::UnknownValue))?;
            let id = new_id();
            tickets::add_statement(
                tx,
                &id,
                &req.record_id,
                &ticket_id,
                &text,
                &v.id,
                &caller.operator_id,
                now,
            )
            .await?;
            tickets::add_event(
                tx,
                &ticket_id,
                Some(&caller.operator_id),
                "statement",
                &req.record_id,
                now,
            )
            .await?;
            Ok(id)
        })
        .await?;
        Ok(pb::AddStatementResponse { text, replayed })
    }

    /// The caller's queue. A cursor from the same day, calendar and filters
    /// gets only the tickets that changed since (and those that left);
    /// anything else gets the whole queue, nearest deadline first.
    async fn queue(
        &self,
        caller: Caller,
        req: pb::ListQueueRequest,
    ) -> ApiResult<pb::ListQueueResponse> {
        let mut conn = self.ctx.db.read().await?;
        let scope = crate::objections::queue_scope(
            &mut conn,
            caller.role,
            &caller.org_unit_id,
            &caller.org_unit_path,
        )
        .await?
        .ok_or(ApiError::PermissionDenied)?;
        let scope = QueueScope {
            state: req.state.trim().to_string(),
            org_unit_id: req.org_unit_id.trim().to_string(),
            department_id: req.department_id.trim().to_string(),
            ..scope
        };
        if !scope.state.is_empty() && State::parse(&scope.state).is_none() {
            return Err(FieldError::new("state", Rule::UnknownValue).into());
        }
        let now = self.ctx.now_ms();
        let today = local_date(now);
        // Read first: every change numbered up to it is committed and seen below.
        let seq = tickets::current_seq(&mut conn).await?;
        let cal = cal_db::load(&mut conn).await?;
        let cal_version = cal_db::years(&mut conn)
            .await?
            .iter()
            .map(|y| y.updated_at)
            .max()
            .unwrap_or(0);
        let filters = idempotency::request_hash(&req, |r| r.cursor.clear());
        let warn = crate::objections::warn_days(&mut conn).await?;
        let submissions = self
            .submissions_due(&mut conn, &caller, &cal, today, warn)
            .await?;
        // A delivery changes the list: the next answer is a whole one.
        let delivered: String = submissions
            .iter()
            .map(|d| format!("{}:{},", d.department_id, d.period))
            .collect();
        let stamp = format!(
            "{today}.{cal_version}.{}.{}",
            &filters[..12],
            &hex_digest(&delivered)[..8]
        );
        let since = req
            .cursor
            .split_once('.')
            .filter(|(_, rest)| *rest == stamp)
            .and_then(|(n, _)| n.parse::<i64>().ok());
        let missing = |calendar::CalendarError::MissingYear(year)| {
            ApiError::from(FieldError::new(
                "calendar",
                Rule::CalendarMissingYear { year },
            ))
        };
        let (rows, removed, full) = match since {
            Some(since) => {
                let changed =
                    queue::changed_since(&mut conn, &scope, since, QUEUE_CHANGES_MAX + 1).await?;
                if changed.len() as i64 > QUEUE_CHANGES_MAX {
                    (
                        queue::page(&mut conn, &scope, QUEUE_PAGE).await?,
                        Vec::new(),
                        true,
                    )
                } else {
                    let rows = queue::subset(&mut conn, &scope, &changed).await?;
                    let removed = changed
                        .into_iter()
                        .filter(|id| !rows.iter().any(|r| &r.id == id))
                        .collect();
                    (rows, removed, false)
                }
            }
            None => (
                queue::page(&mut conn, &scope, QUEUE_PAGE).await?,
                Vec::new(),
                true,
            ),
        };
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let mut letters = tickets::letters_for(&mut conn, &ids).await?;
        let mut departments = tickets::departments_for(&mut conn, &ids).await?;
        let items = rows
            .iter()
            .map(|row| {
                let mut ls = letters.remove(&row.id).unwrap_or_default();
                let liaison = caller.role == Role::Liaison;
                if liaison {
                    ls.retain(|l| l.department_id == caller.org_unit_id);
                }
                let mut deadlines = running_deadlines(row, &ls, &cal, today, warn);
                if liaison {
                    deadlines.retain(|d| d.kind == "department_reply");
                }
                let waiting = ls.iter().find(|l| l.replied_at.is_none());
                let (nearest_due, urgency) = match nearest(&deadlines) {
                    Some((d, u)) => (d.due.clone(), u.as_str()),
                    None => (String::new(), ""),
                };
                pb::QueueItem {
                    ticket_id: row.id.clone(),
                    ticket_no: row.ticket_no.clone(),
                    state: row.state.clone(),
                    paused: row.paused_since.is_some(),
                    subject_name: row.subject_name.clone(),
                    org_unit_name: row.org_unit_name.clone(),
                    deadlines,
                    urgency: urgency.into(),
                    nearest_due,
                    version: row.version as u64,
                    letter_id: waiting.map(|l| l.id.clone()).unwrap_or_default(),
                    letter_no: waiting.map(|l| l.letter_no.clone()).unwrap_or_default(),
                    org_unit: Some(pb::UnitRef {
                        id: row.org_unit_id.clone(),
                        name: row.org_unit_name.clone(),
                    }),
                    departments: departments
                        .remove(&row.id)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(id, name)| pb::UnitRef { id, name })
                        .collect(),
                }
            })
            .collect();
        let stats = crate::objections::queue_stats(&mut conn, &scope, &cal, now)
            .await?
            .map_err(missing)?;
        let overview = full && matches!(caller.role, Role::Center | Role::Supervisor);
        let counts = |rows: Vec<(String, i64, i64)>| -> Vec<pb::UnitCount> {
            rows.into_iter()
                .map(|(name, open, overdue)| pb::UnitCount {
                    name,
                    open: open as u32,
                    overdue: overdue as u32,
                })
                .collect()
        };
        let (by_unit, by_department) = if overview {
            let day = today.to_string();
            (
                counts(tickets::counts_by_unit(&mut conn, &day).await?),
                counts(tickets::counts_by_department(&mut conn, &day).await?),
            )
        } else {
            (Vec::new(), Vec::new())
        };
        Ok(pb::ListQueueResponse {
            full,
            items,
            removed,
            cursor: format!("{seq}.{stamp}"),
            submissions: if full { submissions } else { Vec::new() },
            stats: Some(stats),
            today: today.to_string(),
            by_unit,
            by_department,
        })
    }

    /// Department files not delivered by their date (and the next ones
    /// coming): the center and supervisors see every department, a liaison
    /// their own, counter staff none.
    async fn submissions_due(
        &self,
        conn: &mut sqlx::AnyConnection,
        caller: &Caller,
        cal: &calendar::Calendar,
        today: chrono::NaiveDate,
        warn: u32,
    ) -> ApiResult<Vec<pb::SubmissionDue>> {
        let own = match caller.role {
            Role::Center | Role::Supervisor => None,
            Role::Liaison => Some(caller.org_unit_id.as_str()),
            _ => return Ok(Vec::new()),
        };
        let rows = records::deliveries(conn).await?;
        let mut departments: Vec<(&str, &str)> = rows
            .iter()
            .map(|(id, name, _)| (id.as_str(), name.as_str()))
            .filter(|(id, _)| own.is_none_or(|o| o == *id))
            .collect();
        departments.dedup();
        let mut out = Vec::new();
        for (period, due) in submissions::watched(today) {
            for (id, name) in &departments {
                let delivered = rows
                    .iter()
                    .any(|(d, _, p)| d == id && p.as_deref() == Some(period.as_str()));
                if delivered {
                    continue;
                }
                let urgency = deadlines::urgency(cal, today, due, warn)
                    .map(|(u, _)| u.as_str())
                    .unwrap_or(if due < today { "overdue" } else { "later" });
                out.push(pb::SubmissionDue {
                    department_id: id.to_string(),
                    department_name: name.to_string(),
                    period: period.clone(),
                    due: due.to_string(),
                    urgency: urgency.into(),
                });
            }
        }
        Ok(out)
    }

    /// The case file as the caller may see it.
    async fn load(&self, caller: &Caller, id: &str) -> ApiResult<pb::Ticket> {
        let mut conn = self.ctx.db.read().await?;
        let row = tickets::get(&mut conn, id)
            .await?
            .ok_or(ApiError::NotFound { field: "ticket_id" })?;
        let mut letters = tickets::letters_of(&mut conn, id).await?;
        let mut recs = tickets::records_of(&mut conn, id, caller.lang == Lang::En).await?;
        match caller.role {
            Role::Center | Role::Supervisor => {}
            Role::Counter if row.org_unit_path.starts_with(&caller.org_unit_path) => {}
            // A liaison sees the part of a ticket that concerns their
            // department, and only tickets that have one.
            Role::Liaison if recs.iter().any(|r| r.department_id == caller.org_unit_id) => {
                letters.retain(|l| l.department_id == caller.org_unit_id);
                recs.retain(|r| r.department_id == caller.org_unit_id);
            }
            _ => return Err(ApiError::OutOfScope),
        }
        let cal = cal_db::load(&mut conn).await?;
        let warn = crate::objections::warn_days(&mut conn).await?;
        let attempts = consents::setting_i64(&mut conn, ATTEMPTS_SETTING, 3).await? as u32;
        let today = local_date(self.ctx.now_ms());
        let notifications = tickets::notifications_of(&mut conn, id).await?;
        let events = tickets::events_of(&mut conn, id).await?;
        let deadlines = running_deadlines(&row, &letters, &cal, today, warn);
        let identifier = if domain::sees_full_identifiers(caller.role) {
            row.subject_identifier.clone()
        } else {
            ident::mask(&row.subject_identifier)
        };
        let received = date(&row.received_on);
        let paused_ms = row.paused_ms
            + row
                .paused_since
                .map_or(0, |since| self.ctx.now_ms() - since);
        Ok(pb::Ticket {
            id: row.id.clone(),
            ticket_no: row.ticket_no.clone(),
            version: row.version as u64,
            state: row.state.clone(),
            paused: row.paused_since.is_some(),
            pause_reason: row.pause_reason.clone(),
            paused_ms,
            subject_id: row.subject_id.clone(),
            subject_name: row.subject_name.clone(),
            subject_identifier: identifier,
            org_unit_name: row.org_unit_name.clone(),
            filed_by: row.filed_by.clone(),
            filed_at_ms: row.created_at,
            applicant: row.applicant.clone(),
            agent_name: row.agent_name.clone(),
            poa_reference: row.poa_reference.clone(),
            reason_category: row.reason_category.clone(),
            reason_text: row.reason_text.clone(),
            evidence: row
                .evidence
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
            contact_phone: row.contact_phone.clone(),
            contact_address: row.contact_address.clone(),
            notify_by: row.notify_by.clone(),
            received_on: row.received_on.clone(),
            overall_due: row.overall_due.clone(),
            overall_due_with_pauses: received
                .map(|d| deadlines::overall_due_with_pauses(d, paused_ms).to_string())
                .unwrap_or_default(),
            records: recs
                .into_iter()
                .map(|r| pb::TicketRecord {
                    record_id: r.record_id,
                    category_name: r.category_name,
                    source_key: r.source_key,
                    department_id: r.department_id,
                    department_name: r.department_name,
                    outcome: r.outcome,
                    status: r.status,
                    details: r.details,
                })
                .collect(),
            letters: letters
                .into_iter()
                .map(|l| pb::Letter {
                    id: l.id,
                    letter_no: l.letter_no,
                    department_id: l.department_id,
                    department_name: l.department_name,
                    sent_at_ms: l.sent_at,
                    sent_by: l.sent_by,
                    received_on: l.received_on,
                    reply_due: l.reply_due,
                    replied_at_ms: l.replied_at.unwrap_or(0),
                    replied_by: l.replied_by.unwrap_or_default(),
                    reply_text: l.reply_text.unwrap_or_default(),
                })
                .collect(),
            notifications: notifications
                .into_iter()
                .map(|n| pb::Notification {
                    at_ms: n.at,
                    channel: n.channel,
                    reached: n.reached != 0,
                    note: n.note,
                    operator_name: n.operator_name,
                })
                .collect(),
            events: events
                .into_iter()
                .map(|e| pb::TicketEvent {
                    at_ms: e.at,
                    operator_name: e.operator_name.unwrap_or_default(),
                    action: e.action,
                    detail: e.detail,
                })
                .collect(),
            deadlines,
            updated_at_ms: row.updated_at,
            updated_by: row.updated_by,
            attempts_required: attempts,
        })
    }
}

fn refused(refusal: ticket::Refusal, action: Action) -> ApiError {
    use ticket::Refusal as R;
    let zh = match refusal {
        R::Terminal => "该异议已办结或已撤回",
        R::WrongState => "当前办理阶段不能进行此操作",
        R::Paused => "该异议已暂停，请先恢复",
        R::NotPaused => "该异议未暂停",
        R::AllRequestsSent => "各数据来源部门均已发出核实协查函",
        R::NoLetterWaiting => "没有等待回复的核实协查函",
        R::TooFewAttempts => "通知尝试次数不足，尚不能认定无法联系",
    };
    ApiError::WrongState {
        rule: action.as_str(),
        zh: zh.to_string(),
        en: refusal.to_string(),
    }
}

fn action_name(a: &pb::act_on_ticket_request::Action) -> &'static str {
    use pb::act_on_ticket_request::Action as A;
    match a {
        A::SendRequests(_) => "request_sent",
        A::RecordReply(_) => "reply_recorded",
        A::Notify(n) if n.reached => "notified",
        A::Notify(_) => "notice_failed",
        A::MarkUnreachable(_) => "unreachable",
        A::Close(_) => "closed",
        A::Withdraw(_) => "withdrawn",
        A::Pause(_) => "paused",
        A::Resume(_) => "resumed",
    }
}

fn hex_digest(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

fn date(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn check_phone(phone: &str) -> Result<(), FieldError> {
    let phone = phone.trim();
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    if phone.is_empty() {
        Err(FieldError::new("contact_phone", Rule::Required))
    } else if !(7..=20).contains(&digits)
        || !phone
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | ' ' | '+'))
    {
        Err(FieldError::new(
            "contact_phone",
            Rule::BadCharacters {
                allowed: "0-9 - + (7–20 digits)",
            },
        ))
    } else {
        Ok(())
    }
}

/// A live verification (the applicant stands at the counter now).
async fn live_verification(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    now: i64,
) -> ApiResult<subjects::VerificationRow> {
    match subjects::get_verification(conn, id).await? {
        Some(v) if now < v.expires_at => Ok(v),
        Some(_) => Err(FieldError::new("verification_id", Rule::Expired).into()),
        None => Err(FieldError::new("verification_id", Rule::UnknownValue).into()),
    }
}

fn deadline(
    kind: &str,
    department: &str,
    due: &str,
    met: bool,
    cal: &calendar::Calendar,
    today: chrono::NaiveDate,
    warn: u32,
) -> pb::Deadline {
    let (urgency, warned) = match (met, date(due)) {
        (false, Some(d)) => deadlines::urgency(cal, today, d, warn)
            .map(|(u, w)| (u.as_str(), w))
            // A due date in a year the calendar lacks: shown, not graded.
            .unwrap_or(("", false)),
        _ => ("", false),
    };
    pb::Deadline {
        kind: kind.into(),
        department_name: department.into(),
        due: due.into(),
        urgency: urgency.into(),
        warn: warned,
        met,
    }
}

/// All of a ticket's deadlines, running and met: each department's reply,
/// the notice, and the overall 20 days.
fn running_deadlines(
    row: &TicketRow,
    letters: &[tickets::LetterRow],
    cal: &calendar::Calendar,
    today: chrono::NaiveDate,
    warn: u32,
) -> Vec<pb::Deadline> {
    let state = State::parse(&row.state).unwrap_or(State::Received);
    let open = !state.is_terminal();
    let mut out: Vec<pb::Deadline> = letters
        .iter()
        .map(|l| {
            let met = l.replied_at.is_some() || !open;
            deadline(
                "department_reply",
                &l.department_name,
                &l.reply_due,
                met,
                cal,
                today,
                warn,
            )
        })
        .collect();
    if let Some(due) = &row.notify_due {
        let met = !matches!(state, State::Replied);
        out.push(deadline("notice", "", due, met, cal, today, warn));
    }
    let overall_met = matches!(
        state,
        State::Notified | State::Unreachable | State::Closed | State::Withdrawn
    );
    out.push(deadline(
        "overall",
        "",
        &row.overall_due,
        overall_met,
        cal,
        today,
        warn,
    ));
    out
}

/// The nearest running deadline's urgency: the queue's group for a ticket.
pub fn nearest(deadlines: &[pb::Deadline]) -> Option<(&pb::Deadline, Urgency)> {
    deadlines
        .iter()
        .filter(|d| !d.met)
        .min_by(|a, b| a.due.cmp(&b.due))
        .map(|d| {
            let u = match d.urgency.as_str() {
                "overdue" => Urgency::Overdue,
                "due_today" => Urgency::DueToday,
                "soon" => Urgency::Soon,
                _ => Urgency::Later,
            };
            (d, u)
        })
}

#[tonic::async_trait]
impl Objection for ObjectionService {
    async fn get_calendar(
        &self,
        req: Request<pb::GetCalendarRequest>,
    ) -> Result<Response<pb::CalendarResponse>, Status> {
        handle!(self, req, get_calendar)
    }
    async fn import_calendar(
        &self,
        req: Request<pb::ImportCalendarRequest>,
    ) -> Result<Response<pb::ImportCalendarResponse>, Status> {
        handle!(self, req, import_calendar)
    }
    async fn file_objection(
        &self,
        req: Request<pb::FileObjectionRequest>,
    ) -> Result<Response<pb::TicketResponse>, Status> {
        handle!(self, req, file)
    }
    async fn get_ticket(
        &self,
        req: Request<pb::GetTicketRequest>,
    ) -> Result<Response<pb::TicketResponse>, Status> {
        handle!(self, req, get)
    }
    async fn act_on_ticket(
        &self,
        req: Request<pb::ActOnTicketRequest>,
    ) -> Result<Response<pb::TicketResponse>, Status> {
        handle!(self, req, act)
    }
    async fn add_statement(
        &self,
        req: Request<pb::AddStatementRequest>,
    ) -> Result<Response<pb::AddStatementResponse>, Status> {
        handle!(self, req, add_statement)
    }
    async fn list_queue(
        &self,
        req: Request<pb::ListQueueRequest>,
    ) -> Result<Response<pb::ListQueueResponse>, Status> {
        handle!(self, req, queue)
    }
}
