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
use crate::db::{audit, calendar as cal_db, consents, new_id, records};
use crate::errors::{ApiError, ApiResult};
use crate::rules::calendar::Edit;
use crate::rules::deadlines::{self, Urgency};
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
/// A calendar preview lists this many moved deadlines (and counts all).
const MOVES_SHOWN: usize = 50;

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
        let years = held_years(&mut conn).await?;
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
        let cal = cal_db::load(&mut conn).await?;
        Ok(pb::CalendarResponse {
            years,
            days,
            official_years: calendar::OFFICIAL.iter().map(|(y, _)| *y).collect(),
            gap: calendar_gap(&cal, self.ctx.now_ms()),
        })
    }

    async fn change_calendar(
        &self,
        caller: Caller,
        req: pb::ChangeCalendarRequest,
    ) -> ApiResult<pb::ChangeCalendarResponse> {
        use pb::change_calendar_request::Change;
        let mut file_name = "";
        let edit = match &req.change {
            None => return Err(FieldError::new("calendar", Rule::Required).into()),
            Some(Change::File(file)) => {
                if file.csv.len() > CALENDAR_MAX_BYTES {
                    let max = CALENDAR_MAX_BYTES;
                    return Err(FieldError::new("csv", Rule::TooLong { max }).into());
                }
                file_name = file.file_name.trim();
                validate::display_text("file_name", file_name, 200)?;
                let days = calendar::parse_csv(&file.csv)
                    .map_err(|lines| FieldError::new("csv", Rule::CalendarFile(lines)))?;
                Edit::File(days)
            }
            Some(Change::RestoreOfficial(year)) => Edit::RestoreOfficial(*year),
            Some(Change::SetDay(day)) => Edit::SetDay(special_day(day)?),
            Some(Change::RemoveDay(date)) => Edit::RemoveDay(validate::date("date", date)?),
        };
        let change = crate::objections::change_calendar(
            &self.ctx.db,
            &edit,
            file_name,
            Some(&caller.operator_id),
            self.ctx.now_ms(),
            req.confirm,
        )
        .await??;
        let calendar = if change.applied {
            held_years(&mut *self.ctx.db.read().await?).await?
        } else {
            Vec::new()
        };
        Ok(pb::ChangeCalendarResponse {
            applied: change.applied,
            years: change
                .years
                .iter()
                .map(|(year, d)| pb::CalendarYearChange {
                    year: *year,
                    held_before: d.held_before,
                    days_before: d.days_before,
                    days_after: d.days_after,
                    added: d.added,
                    removed: d.removed,
                    changed: d.changed,
                })
                .collect(),
            moves_total: change.moves.len() as u32,
            moves: change
                .moves
                .into_iter()
                .take(MOVES_SHOWN)
                .map(|m| pb::DeadlineMove {
                    ticket_no: m.ticket_no,
                    deadline: m.deadline.into(),
                    letter_no: m.letter_no,
                    from: m.from,
                    to: m.to,
                })
                .collect(),
            calendar,
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
                    reply_letter_no: l.reply_letter_no.unwrap_or_default(),
                    reply_letter_date: l.reply_letter_date.unwrap_or_default(),
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
            withdrawal_reason: row.withdrawal_reason.unwrap_or_default(),
            withdrawal_written: row.withdrawal_written.unwrap_or_default(),
            withdrawal_verified_at_ms: row.withdrawal_verified_at.unwrap_or(0),
            withdrawn_at_ms: row.withdrawn_at.unwrap_or(0),
            withdrawn_by: row.withdrawn_by.unwrap_or_default(),
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

/// The years the calendar holds, where each came from.
async fn held_years(conn: &mut sqlx::AnyConnection) -> sqlx::Result<Vec<pb::CalendarYear>> {
    Ok(cal_db::years(conn)
        .await?
        .into_iter()
        .map(|y| pb::CalendarYear {
            year: y.year as i32,
            source: y.source,
            updated_at_ms: y.updated_at,
            updated_by: y.updated_by.unwrap_or_default(),
            days: y.days as u32,
        })
        .collect())
}

/// The warning that the calendar runs out, when it is due.
pub fn calendar_gap(cal: &calendar::Calendar, now_ms: i64) -> Option<pb::CalendarGap> {
    crate::rules::calendar::gap(cal, local_date(now_ms)).map(|g| pb::CalendarGap {
        missing_year: g.missing_year,
        last_start: g.last_start.map(|d| d.to_string()).unwrap_or_default(),
    })
}

/// One special day as an administrator typed it, each problem on its field.
fn special_day(day: &pb::CalendarDay) -> Result<calendar::SpecialDay, FieldError> {
    use calendar::DayProblem as P;
    validate::date("date", &day.date)?;
    calendar::special_day(&day.date, &day.kind, &day.name).map_err(|problem| {
        let field = match problem {
            P::UnknownKind(_) => "kind",
            P::BadName => "name",
            _ => "date",
        };
        FieldError::new(field, Rule::Day(problem))
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
    async fn change_calendar(
        &self,
        req: Request<pb::ChangeCalendarRequest>,
    ) -> Result<Response<pb::ChangeCalendarResponse>, Status> {
        handle!(self, req, change_calendar)
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

    async fn find_tickets(
        &self,
        req: Request<pb::FindTicketsRequest>,
    ) -> Result<Response<pb::FindTicketsResponse>, Status> {
        handle!(self, req, find_tickets)
    }
}
