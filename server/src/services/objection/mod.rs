//! Objection tickets and the working-day calendar. The state machine and the
//! deadlines are `rules::ticket` and `rules::deadlines`; this reads the
//! facts, asks them, and writes the outcome in one transaction.

mod acts;
mod filing;
mod queues;

use credit_desk_proto::calendar;
use credit_desk_proto::pb::{self, objection_server::Objection};
use credit_desk_proto::validate::{self, FieldError, Rule, field};
use credit_desk_proto::words::deadline as kind;
use credit_desk_proto::{Lang, ident};
use tonic::{Request, Response, Status};

use super::{caller, create_once, lang, respond, usable_verification};
use crate::authz::{self, Caller};
use crate::clock::local_date;
use crate::context::Ctx;
use crate::db::idempotency::{self, Key};
use crate::db::queue::{self, QueueScope};
use crate::db::tickets::{self, NewTicket, TicketRow};
use crate::db::{calendar as cal_db, consents, new_id, records};
use crate::errors::{ApiError, ApiResult};
use crate::rules::deadlines::{self, Urgency};
use crate::rules::submissions;
use crate::rules::ticket::{self, Action, Facts, NoticeChannel, Outcome, State};

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

    /// The case file as the caller may see it.
    async fn load(&self, caller: &Caller, id: &str) -> ApiResult<pb::Ticket> {
        let mut conn = self.ctx.db.read().await?;
        let row = tickets::get(&mut conn, id)
            .await?
            .ok_or(ApiError::NotFound { field: "ticket_id" })?;
        let mut letters = tickets::letters_of(&mut conn, id).await?;
        let mut recs = tickets::records_of(&mut conn, id, caller.lang == Lang::En).await?;
        let departments = departments_of(&recs);
        let facts = authz::TicketFacts {
            filing_unit_path: &row.org_unit_path,
            departments: &departments,
        };
        if let authz::TicketView::Department(own) = authz::read_ticket(caller.actor(), &facts)? {
            letters.retain(|l| l.department_id == own);
            recs.retain(|r| r.department_id == own);
        }
        let cal = cal_db::load(&mut conn).await?;
        let warn = crate::objections::warn_days(&mut conn).await?;
        let attempts = consents::setting_i64(&mut conn, ATTEMPTS_SETTING, 3).await? as u32;
        let today = local_date(self.ctx.now_ms());
        let notifications = tickets::notifications_of(&mut conn, id).await?;
        let events = tickets::events_of(&mut conn, id).await?;
        // Events name records by id; the case file by the department's key.
        let keys: std::collections::HashMap<String, String> = recs
            .iter()
            .map(|r| (r.record_id.clone(), r.source_key.clone()))
            .collect();
        let deadlines = running_deadlines(&row, &letters, &cal, today, warn);
        let identifier = if authz::sees_full_identifiers(caller.role) {
            row.subject_identifier.clone()
        } else {
            ident::mask(&row.subject_identifier)
        };
        let paused_ms = row.paused_ms
            + row
                .paused_since
                .map_or(0, |since| self.ctx.now_ms() - since);
        Ok(pb::Ticket {
            id: row.id.clone(),
            ticket_no: row.ticket_no.clone(),
            version: row.version as u64,
            state: row.state.as_str().to_string(),
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
            received_on: row.received_on.to_string(),
            overall_due: row.overall_due.to_string(),
            overall_due_with_pauses: deadlines::overall_due_with_pauses(row.received_on, paused_ms)
                .to_string(),
            records: recs
                .into_iter()
                .map(|r| pb::TicketRecord {
                    record_id: r.record_id,
                    category_name: r.category_name,
                    source_key: r.source_key,
                    department_id: r.department_id,
                    department_name: r.department_name,
                    outcome: r.outcome.as_str().to_string(),
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
                    received_on: l.received_on.to_string(),
                    reply_due: l.reply_due.to_string(),
                    replied_at_ms: l.replied_at.unwrap_or(0),
                    replied_by: l.replied_by.unwrap_or_default(),
                    reply_text: l.reply_text.unwrap_or_default(),
                })
                .collect(),
            notifications: notifications
                .into_iter()
                .map(|n| pb::Notification {
                    at_ms: n.at,
                    channel: n.channel.as_str().to_string(),
                    reached: n.reached,
                    note: n.note,
                    operator_name: n.operator_name,
                })
                .collect(),
            events: events
                .into_iter()
                .map(|e| pb::TicketEvent {
                    at_ms: e.at,
                    operator_name: e.operator_name.unwrap_or_default(),
                    detail: crate::messages::event_detail(
                        caller.lang,
                        &e.action,
                        &e.detail,
                        &|id| keys.get(id).cloned(),
                    ),
                    action: e.action,
                })
                .collect(),
            deadlines,
            updated_at_ms: row.updated_at,
            updated_by: row.updated_by,
            attempts_required: attempts,
        })
    }
}

/// The departments whose records a ticket disputes, each once.
fn departments_of(recs: &[tickets::TicketRecordRow]) -> Vec<&str> {
    let mut departments: Vec<&str> = recs.iter().map(|r| r.department_id.as_str()).collect();
    departments.sort_unstable();
    departments.dedup();
    departments
}

fn deadline(
    kind: &str,
    department: &str,
    due: chrono::NaiveDate,
    met: bool,
    cal: &calendar::Calendar,
    today: chrono::NaiveDate,
    warn: u32,
) -> pb::Deadline {
    let (urgency, warned) = if met {
        ("", false)
    } else {
        deadlines::urgency(cal, today, due, warn)
            .map(|(u, w)| (u.as_str(), w))
            // A due date in a year the calendar lacks: shown, not graded.
            .unwrap_or(("", false))
    };
    pb::Deadline {
        kind: kind.into(),
        department_name: department.into(),
        due: due.to_string(),
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
    let state = row.state;
    let open = !state.is_terminal();
    let mut out: Vec<pb::Deadline> = letters
        .iter()
        .map(|l| {
            let met = l.replied_at.is_some() || !open;
            deadline(
                kind::DEPARTMENT_REPLY,
                &l.department_name,
                l.reply_due,
                met,
                cal,
                today,
                warn,
            )
        })
        .collect();
    if let Some(due) = row.notify_due {
        let met = !matches!(state, State::Replied);
        out.push(deadline(kind::NOTICE, "", due, met, cal, today, warn));
    }
    let overall_met = matches!(
        state,
        State::Notified | State::Unreachable | State::Closed | State::Withdrawn
    );
    out.push(deadline(
        kind::OVERALL,
        "",
        row.overall_due,
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
