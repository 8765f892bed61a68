//! Objection tickets' storage: the ticket, its disputed records, letters,
//! notification attempts and history, and the change sequence the queues
//! refresh from.

use chrono::NaiveDate;
use credit_desk_proto::calendar::{Calendar, CalendarError};
use sqlx::AnyConnection;

use super::column::{OptText, Text, date_text, parse_date};
use crate::clock::local_date;
use crate::rules::deadlines;
use crate::rules::ticket::{NoticeChannel, Outcome, State};

/// The next value of a named counter; the row stays locked until the
/// transaction ends, so values are handed out in commit order.
pub async fn next_counter(conn: &mut AnyConnection, name: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO counters (name, last) VALUES ($1, 1)
         ON CONFLICT (name) DO UPDATE SET last = counters.last + 1
         RETURNING last",
    )
    .bind(name)
    .fetch_one(conn)
    .await
}

/// The queue's change sequence: every change a queue shows takes the next
/// value, so "changes since N" is one indexed range.
pub const QUEUE_SEQ: &str = "queue";

pub async fn current_seq(conn: &mut AnyConnection) -> sqlx::Result<i64> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT last FROM counters WHERE name = $1")
            .bind(QUEUE_SEQ)
            .fetch_optional(conn)
            .await?
            .unwrap_or(0),
    )
}

/// No running deadline: only closing is left (sorts after every date).
pub const NO_DEADLINE: &str = "9999-12-31";

/// Marks a ticket changed for the queues and recomputes its nearest
/// running deadline (call after the change itself).
pub async fn touch(conn: &mut AnyConnection, ticket_id: &str) -> sqlx::Result<()> {
    let seq = next_counter(&mut *conn, QUEUE_SEQ).await?;
    sqlx::query(
        "UPDATE tickets SET change_seq = $1,
                next_due = CASE
                    WHEN state IN ('closed', 'withdrawn') THEN NULL
                    ELSE COALESCE((SELECT MIN(d) FROM (
                            SELECT reply_due AS d FROM ticket_letters
                             WHERE ticket_id = $2 AND replied_at IS NULL
                            UNION ALL
                            SELECT notify_due FROM tickets WHERE id = $2 AND state = 'replied'
                            UNION ALL
                            SELECT overall_due FROM tickets
                             WHERE id = $2 AND state IN ('received', 'request_sent', 'replied')
                         ) running), $3)
                END
          WHERE id = $2",
    )
    .bind(seq)
    .bind(ticket_id)
    .bind(NO_DEADLINE)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn add_event(
    conn: &mut AnyConnection,
    ticket_id: &str,
    operator_id: Option<&str>,
    action: &str,
    detail: &str,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO ticket_events (id, ticket_id, at, operator_id, action, detail)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(super::new_id())
    .bind(ticket_id)
    .bind(now_ms)
    .bind(operator_id)
    .bind(action)
    .bind(detail)
    .execute(conn)
    .await?;
    Ok(())
}

/// A deadline of the ticket moved: a history event, and a change the
/// queues pick up.
async fn deadline_moved(
    conn: &mut AnyConnection,
    ticket_id: &str,
    operator_id: Option<&str>,
    detail: &str,
    now_ms: i64,
) -> sqlx::Result<()> {
    add_event(
        conn,
        ticket_id,
        operator_id,
        "deadline.recomputed",
        detail,
        now_ms,
    )
    .await?;
    touch(conn, ticket_id).await
}

/// An open deadline a calendar change moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineMove {
    pub ticket_no: String,
    /// `reply_due` (of `letter_no`) or `notify_due`.
    pub deadline: &'static str,
    pub letter_no: String,
    pub from: String,
    pub to: String,
}

/// Recomputes every open working-day deadline on `cal` (after a calendar
/// change): replies still awaited and notices still due. Each moved
/// deadline is an event in its ticket's history. A deadline the calendar
/// can no longer compute (it would fall in a year not held) is the
/// calendar's error, for the administrator to see.
pub async fn recompute_deadlines(
    conn: &mut AnyConnection,
    cal: &Calendar,
    operator_id: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<Result<Vec<DeadlineMove>, CalendarError>> {
    let mut moved = Vec::new();
    let letters: Vec<(String, String, String, String, String, String)> = sqlx::query_as(
        "SELECT l.id, l.ticket_id, t.ticket_no, l.letter_no, l.received_on, l.reply_due
           FROM ticket_letters l JOIN tickets t ON t.id = l.ticket_id
          WHERE l.replied_at IS NULL AND t.state NOT IN ('closed', 'withdrawn')
          ORDER BY l.reply_due, t.ticket_no, l.letter_no",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (id, ticket_id, ticket_no, letter_no, received_on, old) in letters {
        let new = match deadlines::department_reply_due(cal, parse_date(&received_on)?) {
            Ok(due) => date_text(due),
            Err(e) => return Ok(Err(e)),
        };
        if new == old {
            continue;
        }
        sqlx::query("UPDATE ticket_letters SET reply_due = $1 WHERE id = $2")
            .bind(&new)
            .bind(&id)
            .execute(&mut *conn)
            .await?;
        let detail = format!("{letter_no}: reply due {old} -> {new}");
        deadline_moved(conn, &ticket_id, operator_id, &detail, now_ms).await?;
        moved.push(DeadlineMove {
            ticket_no,
            deadline: "reply_due",
            letter_no,
            from: old,
            to: new,
        });
    }
    let notices: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT t.id, t.ticket_no, t.notify_due, MAX(l.replied_at)
           FROM tickets t JOIN ticket_letters l ON l.ticket_id = t.id
          WHERE t.state = 'replied' AND t.notify_due IS NOT NULL
          GROUP BY t.id, t.ticket_no, t.notify_due
          ORDER BY t.notify_due, t.ticket_no",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (ticket_id, ticket_no, old, replied_at) in notices {
        let due = match deadlines::notice_due(cal, local_date(replied_at)) {
            Ok(due) => due,
            Err(e) => return Ok(Err(e)),
        };
        let new = date_text(due);
        if new == old {
            continue;
        }
        set_notify_due(conn, &ticket_id, due).await?;
        let detail = format!("notice due {old} -> {new}");
        deadline_moved(conn, &ticket_id, operator_id, &detail, now_ms).await?;
        moved.push(DeadlineMove {
            ticket_no,
            deadline: "notify_due",
            letter_no: String::new(),
            from: old,
            to: new,
        });
    }
    Ok(Ok(moved))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TicketRow {
    pub id: String,
    pub ticket_no: String,
    pub subject_id: String,
    pub subject_name: String,
    pub subject_identifier: String,
    pub org_unit_id: String,
    pub org_unit_name: String,
    pub org_unit_path: String,
    pub filed_by: String,
    pub applicant: String,
    pub agent_name: String,
    pub poa_reference: String,
    pub reason_category: String,
    pub reason_text: String,
    pub evidence: String,
    pub contact_phone: String,
    pub contact_address: String,
    pub notify_by: String,
    #[sqlx(try_from = "Text")]
    pub state: State,
    #[sqlx(try_from = "Text")]
    pub received_on: NaiveDate,
    #[sqlx(try_from = "Text")]
    pub overall_due: NaiveDate,
    #[sqlx(try_from = "OptText")]
    pub notify_due: Option<NaiveDate>,
    pub paused_since: Option<i64>,
    pub pause_reason: String,
    pub paused_ms: i64,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub updated_by: String,
    pub withdrawal_reason: Option<String>,
    pub withdrawal_written: Option<String>,
    pub withdrawal_verified_at: Option<i64>,
    pub withdrawn_at: Option<i64>,
    pub withdrawn_by: Option<String>,
}

impl super::sealed::Open for TicketRow {
    fn open(mut self) -> sqlx::Result<Self> {
        use super::sealed::open;
        open(&mut self.subject_identifier)?;
        open(&mut self.contact_phone)?;
        open(&mut self.contact_address)?;
        Ok(self)
    }
}

macro_rules! select_ticket {
    ($rest:expr) => {
        concat!(
            "SELECT t.id, t.ticket_no, t.subject_id, s.name AS subject_name,
                    s.identifier AS subject_identifier, t.org_unit_id, u.name AS org_unit_name,
                    u.path AS org_unit_path, f.display_name AS filed_by, t.applicant,
                    t.agent_name, t.poa_reference, t.reason_category, t.reason_text, t.evidence,
                    t.contact_phone, t.contact_address, t.notify_by, t.state, t.received_on,
                    t.overall_due, t.notify_due, t.paused_since, t.pause_reason, t.paused_ms,
                    t.version, t.created_at, t.updated_at, w.display_name AS updated_by,
                    t.withdrawal_reason, t.withdrawal_written,
                    wv.created_at AS withdrawal_verified_at, t.withdrawn_at,
                    wb.display_name AS withdrawn_by
               FROM tickets t
               JOIN subjects s ON s.id = t.subject_id
               JOIN org_units u ON u.id = t.org_unit_id
               JOIN operators f ON f.id = t.filed_by
               JOIN operators w ON w.id = t.updated_by
               LEFT JOIN verifications wv ON wv.id = t.withdrawal_verification_id
               LEFT JOIN operators wb ON wb.id = t.withdrawn_by ",
            $rest
        )
    };
}

/// Every column of [`TicketRow`], for statements that add their own WHERE.
pub const SELECT_TICKET: &str = select_ticket!("");

pub async fn get(conn: &mut AnyConnection, id: &str) -> sqlx::Result<Option<TicketRow>> {
    let row = sqlx::query_as(select_ticket!("WHERE t.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    super::sealed::open_one(row)
}

/// Records how and why the applicant withdrew (the state is set by the
/// step that follows).
pub async fn set_withdrawal(
    conn: &mut AnyConnection,
    ticket_id: &str,
    reason: &str,
    verification_id: Option<&str>,
    written: Option<&str>,
    operator_id: &str,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE tickets SET withdrawal_reason = $1, withdrawal_verification_id = $2,
                withdrawal_written = $3, withdrawn_at = $4, withdrawn_by = $5
          WHERE id = $6",
    )
    .bind(reason)
    .bind(verification_id)
    .bind(written)
    .bind(now_ms)
    .bind(operator_id)
    .bind(ticket_id)
    .execute(conn)
    .await?;
    Ok(())
}

pub struct NewTicket<'a> {
    pub id: &'a str,
    pub ticket_no: &'a str,
    pub subject_id: &'a str,
    pub org_unit_id: &'a str,
    pub operator_id: &'a str,
    pub verification_id: &'a str,
    pub applicant: &'a str,
    pub agent_name: &'a str,
    pub agent_identifier: &'a str,
    pub poa_reference: &'a str,
    pub reason_category: &'a str,
    pub reason_text: &'a str,
    pub evidence: &'a str,
    pub contact_phone: &'a str,
    pub contact_address: &'a str,
    pub notify_by: &'a str,
    pub received_on: NaiveDate,
    pub overall_due: NaiveDate,
    pub now_ms: i64,
}

pub async fn insert(conn: &mut AnyConnection, t: NewTicket<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO tickets (id, ticket_no, subject_id, org_unit_id, filed_by, verification_id,
                              applicant, agent_name, agent_identifier, poa_reference,
                              reason_category, reason_text, evidence, contact_phone,
                              contact_address, notify_by, state, received_on, overall_due,
                              pause_reason, paused_ms, version, change_seq, created_at,
                              updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                 'received', $17, $18, '', 0, 1, 0, $19, $19, $5)",
    )
    .bind(t.id)
    .bind(t.ticket_no)
    .bind(t.subject_id)
    .bind(t.org_unit_id)
    .bind(t.operator_id)
    .bind(t.verification_id)
    .bind(t.applicant)
    .bind(t.agent_name)
    .bind(super::sealed::seal(t.agent_identifier)?)
    .bind(t.poa_reference)
    .bind(t.reason_category)
    .bind(t.reason_text)
    .bind(t.evidence)
    .bind(super::sealed::seal(t.contact_phone)?)
    .bind(super::sealed::seal(t.contact_address)?)
    .bind(t.notify_by)
    .bind(date_text(t.received_on))
    .bind(date_text(t.overall_due))
    .bind(t.now_ms)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn add_record(
    conn: &mut AnyConnection,
    ticket_id: &str,
    record_id: &str,
    department_id: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO ticket_records (ticket_id, record_id, department_id, outcome)
         VALUES ($1, $2, $3, 'disputed')",
    )
    .bind(ticket_id)
    .bind(record_id)
    .bind(department_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The number of the open objection already disputing this record, if any.
pub async fn open_disputes(
    conn: &mut AnyConnection,
    record_id: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT t.ticket_no FROM ticket_records r JOIN tickets t ON t.id = r.ticket_id
          WHERE r.record_id = $1 AND r.outcome = 'disputed'",
    )
    .bind(record_id)
    .fetch_optional(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TicketRecordRow {
    pub record_id: String,
    pub category_name: String,
    pub source_key: String,
    pub department_id: String,
    pub department_name: String,
    #[sqlx(try_from = "Text")]
    pub outcome: Outcome,
    pub status: String,
    pub details: String,
}

pub async fn records_of(
    conn: &mut AnyConnection,
    ticket_id: &str,
    lang_en: bool,
) -> sqlx::Result<Vec<TicketRecordRow>> {
    sqlx::query_as(
        "SELECT tr.record_id, CASE WHEN $2 = 1 THEN c.name_en ELSE c.name_zh END AS category_name,
                r.source_key, tr.department_id, u.name AS department_name, tr.outcome,
                v.status, v.details
           FROM ticket_records tr
           JOIN visible_records r ON r.id = tr.record_id
           JOIN record_versions v ON v.record_id = r.id AND v.version = r.current_version
           JOIN record_categories c ON c.code = r.category
           JOIN org_units u ON u.id = tr.department_id
          WHERE tr.ticket_id = $1
          ORDER BY u.code, r.source_key",
    )
    .bind(ticket_id)
    .bind(i64::from(lang_en))
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub at: i64,
    pub operator_name: Option<String>,
    pub action: String,
    pub detail: String,
}

pub async fn events_of(conn: &mut AnyConnection, ticket_id: &str) -> sqlx::Result<Vec<EventRow>> {
    sqlx::query_as(
        "SELECT e.at, o.display_name AS operator_name, e.action, e.detail
           FROM ticket_events e LEFT JOIN operators o ON o.id = e.operator_id
          WHERE e.ticket_id = $1 ORDER BY e.at, e.id",
    )
    .bind(ticket_id)
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AnnotationRow {
    pub record_id: String,
    #[sqlx(try_from = "Text")]
    pub outcome: Outcome,
    pub ticket_no: String,
}

/// Annotations (异议标注) on a subject's records: disputed on an open
/// ticket, or checked and unconfirmed.
pub async fn annotations_of_subject(
    conn: &mut AnyConnection,
    subject_id: &str,
) -> sqlx::Result<Vec<AnnotationRow>> {
    sqlx::query_as(
        "SELECT tr.record_id, tr.outcome, t.ticket_no
           FROM ticket_records tr JOIN tickets t ON t.id = tr.ticket_id
          WHERE t.subject_id = $1 AND tr.outcome IN ('disputed', 'unconfirmed')
          ORDER BY t.created_at",
    )
    .bind(subject_id)
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LetterRow {
    pub id: String,
    pub letter_no: String,
    pub department_id: String,
    pub department_name: String,
    pub sent_at: i64,
    pub sent_by: String,
    #[sqlx(try_from = "Text")]
    pub received_on: NaiveDate,
    #[sqlx(try_from = "Text")]
    pub reply_due: NaiveDate,
    pub replied_at: Option<i64>,
    pub replied_by: Option<String>,
    pub reply_text: Option<String>,
    pub reply_letter_no: Option<String>,
    pub reply_letter_date: Option<String>,
}

/// `SELECT` a letter's columns (and its ticket's id) with the given clause.
macro_rules! letters {
    ($rest:literal) => {
        concat!(
            "SELECT l.ticket_id, l.id, l.letter_no, l.department_id, u.name AS department_name,
                    l.sent_at, s.display_name AS sent_by, l.received_on, l.reply_due,
                    l.replied_at, r.display_name AS replied_by, l.reply_text, l.reply_letter_no,
                    l.reply_letter_date
               FROM ticket_letters l
               JOIN org_units u ON u.id = l.department_id
               JOIN operators s ON s.id = l.sent_by
               LEFT JOIN operators r ON r.id = l.replied_by ",
            $rest
        )
    };
}

pub async fn letters_of(conn: &mut AnyConnection, ticket_id: &str) -> sqlx::Result<Vec<LetterRow>> {
    sqlx::query_as(letters!(
        "WHERE l.ticket_id = $1 ORDER BY l.sent_at, l.letter_no"
    ))
    .bind(ticket_id)
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NotificationRow {
    pub at: i64,
    #[sqlx(try_from = "Text")]
    pub channel: NoticeChannel,
    #[sqlx(try_from = "super::column::Flag")]
    pub reached: bool,
    pub note: String,
    pub operator_name: String,
}

pub async fn notifications_of(
    conn: &mut AnyConnection,
    ticket_id: &str,
) -> sqlx::Result<Vec<NotificationRow>> {
    sqlx::query_as(
        "SELECT n.at, n.channel, n.reached, n.note, o.display_name AS operator_name
           FROM ticket_notifications n JOIN operators o ON o.id = n.operator_id
          WHERE n.ticket_id = $1 ORDER BY n.at",
    )
    .bind(ticket_id)
    .fetch_all(conn)
    .await
}

/// Takes the ticket for a change: bumps its version if it is still
/// `expected`; false if someone else changed it first.
pub async fn claim(
    conn: &mut AnyConnection,
    id: &str,
    expected: i64,
    operator_id: &str,
    now_ms: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE tickets SET version = version + 1, updated_at = $1, updated_by = $2
          WHERE id = $3 AND version = $4",
    )
    .bind(now_ms)
    .bind(operator_id)
    .bind(id)
    .bind(expected)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_state(
    conn: &mut AnyConnection,
    id: &str,
    state: State,
    now_ms: i64,
) -> sqlx::Result<()> {
    let closing = state.is_terminal();
    sqlx::query("UPDATE tickets SET state = $1, closed_at = CASE WHEN $2 = 1 THEN $3 ELSE closed_at END WHERE id = $4")
        .bind(state.as_str())
        .bind(i64::from(closing))
        .bind(now_ms)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub struct NewLetter<'a> {
    pub ticket_id: &'a str,
    pub letter_no: &'a str,
    pub department_id: &'a str,
    pub operator_id: &'a str,
    pub received_on: NaiveDate,
    pub reply_due: NaiveDate,
    pub now_ms: i64,
}

pub async fn insert_letter(conn: &mut AnyConnection, l: NewLetter<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO ticket_letters (id, ticket_id, letter_no, department_id, sent_at, sent_by,
                                     received_on, reply_due)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(super::new_id())
    .bind(l.ticket_id)
    .bind(l.letter_no)
    .bind(l.department_id)
    .bind(l.now_ms)
    .bind(l.operator_id)
    .bind(date_text(l.received_on))
    .bind(date_text(l.reply_due))
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a department's reply: its text and, when it wrote one, its
/// letter's number and date.
pub async fn reply_letter(
    conn: &mut AnyConnection,
    letter_id: &str,
    text: &str,
    letter: Option<(&str, NaiveDate)>,
    operator_id: &str,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE ticket_letters SET replied_at = $1, replied_by = $2, reply_text = $3,
                reply_letter_no = $4, reply_letter_date = $5
          WHERE id = $6 AND replied_at IS NULL",
    )
    .bind(now_ms)
    .bind(operator_id)
    .bind(text)
    .bind(letter.map(|l| l.0))
    .bind(letter.map(|l| l.1.to_string()))
    .bind(letter_id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_outcome(
    conn: &mut AnyConnection,
    ticket_id: &str,
    record_id: &str,
    outcome: Outcome,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE ticket_records SET outcome = $1 WHERE ticket_id = $2 AND record_id = $3")
        .bind(outcome.as_str())
        .bind(ticket_id)
        .bind(record_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends every open dispute of the ticket with `outcome` (a withdrawal).
pub async fn end_disputes(
    conn: &mut AnyConnection,
    ticket_id: &str,
    outcome: Outcome,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE ticket_records SET outcome = $1 WHERE ticket_id = $2 AND outcome = 'disputed'",
    )
    .bind(outcome.as_str())
    .bind(ticket_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The corrected content of a record.
pub struct Correction<'a> {
    pub status: &'a str,
    pub details: &'a str,
    pub end_date: Option<NaiveDate>,
    pub amount_cents: Option<Option<i64>>,
}

/// Adds a version made by the ticket (the old ones stay) and makes it current.
/// The day a record's event began (its current version), when known.
pub async fn record_start(
    conn: &mut AnyConnection,
    record_id: &str,
) -> sqlx::Result<Option<NaiveDate>> {
    let start: Option<String> = sqlx::query_scalar(
        "SELECT v.start_date
           FROM visible_records r JOIN record_versions v ON v.record_id = r.id AND v.version = r.current_version
          WHERE r.id = $1",
    )
    .bind(record_id)
    .fetch_optional(conn)
    .await?
    .flatten();
    Ok(start.and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok()))
}

pub async fn correct_record(
    conn: &mut AnyConnection,
    record_id: &str,
    ticket_id: &str,
    c: Correction<'_>,
    operator_id: &str,
    now_ms: i64,
) -> sqlx::Result<()> {
    #[derive(sqlx::FromRow)]
    struct Current {
        start_date: Option<String>,
        end_date: Option<String>,
        amount_cents: Option<i64>,
        status: String,
        negative: i64,
        details: String,
    }
    let cur: Current = sqlx::query_as(
        "SELECT v.start_date, v.end_date, v.amount_cents, v.status, v.negative, v.details
           FROM visible_records r JOIN record_versions v ON v.record_id = r.id AND v.version = r.current_version
          WHERE r.id = $1",
    )
    .bind(record_id)
    .fetch_one(&mut *conn)
    .await?;
    let pick = |new: &str, old: String| {
        if new.trim().is_empty() {
            old
        } else {
            new.trim().to_string()
        }
    };
    // No department file has this content: the next delivery of the
    // record is recorded as a version of its own.
    let hash = format!("ticket:{ticket_id}");
    super::records::add_decided_version(
        conn,
        super::records::DecidedVersion {
            record_id,
            start_date: cur.start_date,
            end_date: c.end_date.map(date_text).or(cur.end_date),
            amount_cents: c.amount_cents.unwrap_or(cur.amount_cents),
            status: &pick(c.status, cur.status),
            negative: cur.negative != 0,
            details: &pick(c.details, cur.details),
            content_hash: &hash,
            import_id: None,
            ticket_id: Some(ticket_id),
            operator_id,
            now_ms,
        },
    )
    .await?;
    Ok(())
}

pub async fn delete_record(
    conn: &mut AnyConnection,
    record_id: &str,
    ticket_id: &str,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE records SET deleted_at = $1, deleted_by_ticket = $2 WHERE id = $3")
        .bind(now_ms)
        .bind(ticket_id)
        .bind(record_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_notify_due(
    conn: &mut AnyConnection,
    id: &str,
    due: NaiveDate,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE tickets SET notify_due = $1 WHERE id = $2")
        .bind(date_text(due))
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn add_notification(
    conn: &mut AnyConnection,
    ticket_id: &str,
    channel: NoticeChannel,
    reached: bool,
    note: &str,
    operator_id: &str,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO ticket_notifications (id, ticket_id, at, channel, reached, note, operator_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(super::new_id())
    .bind(ticket_id)
    .bind(now_ms)
    .bind(channel.as_str())
    .bind(i64::from(reached))
    .bind(note)
    .bind(operator_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Starts (`Some(reason)`) or ends (`None`) a pause; the paused time is
/// added up when it ends.
pub async fn set_pause(
    conn: &mut AnyConnection,
    id: &str,
    reason: Option<&str>,
    now_ms: i64,
) -> sqlx::Result<()> {
    match reason {
        Some(r) => {
            sqlx::query("UPDATE tickets SET paused_since = $1, pause_reason = $2 WHERE id = $3")
                .bind(now_ms)
                .bind(r)
                .bind(id)
        }
        None => sqlx::query(
            "UPDATE tickets SET paused_ms = paused_ms + ($1 - paused_since), paused_since = NULL
              WHERE id = $2 AND paused_since IS NOT NULL",
        )
        .bind(now_ms)
        .bind(id),
    }
    .execute(conn)
    .await?;
    Ok(())
}

/// The ticket whose check left this record of this subject unconfirmed.
pub async fn unconfirmed_ticket(
    conn: &mut AnyConnection,
    record_id: &str,
    subject_id: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT t.id FROM ticket_records tr JOIN tickets t ON t.id = tr.ticket_id
          WHERE tr.record_id = $1 AND t.subject_id = $2 AND tr.outcome = 'unconfirmed'
          ORDER BY t.created_at DESC LIMIT 1",
    )
    .bind(record_id)
    .bind(subject_id)
    .fetch_optional(conn)
    .await
}

#[allow(clippy::too_many_arguments)]
pub async fn add_statement(
    conn: &mut AnyConnection,
    id: &str,
    record_id: &str,
    ticket_id: &str,
    text: &str,
    verification_id: &str,
    operator_id: &str,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO record_statements (id, record_id, ticket_id, text, verification_id,
                                        operator_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(record_id)
    .bind(ticket_id)
    .bind(text)
    .bind(verification_id)
    .bind(operator_id)
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(())
}

/// The letters of these tickets, by ticket.
pub async fn letters_for(
    conn: &mut AnyConnection,
    ids: &[String],
) -> sqlx::Result<std::collections::HashMap<String, Vec<LetterRow>>> {
    let rows = super::bulk::fetch_in(conn, letters!("WHERE l.ticket_id IN "), &[], ids).await?;
    let mut out: std::collections::HashMap<String, Vec<LetterRow>> = Default::default();
    for row in &rows {
        use sqlx::Row;
        let ticket: String = row.try_get("ticket_id")?;
        out.entry(ticket)
            .or_default()
            .push(sqlx::FromRow::from_row(row)?);
    }
    Ok(out)
}

/// Open and overdue tickets per filing unit (`today` as YYYY-MM-DD).
pub async fn counts_by_unit(
    conn: &mut AnyConnection,
    today: &str,
) -> sqlx::Result<Vec<(String, i64, i64)>> {
    // From the kept counts (migration 0022): a few rows per unit.
    sqlx::query_as(
        "SELECT u.name, c.open, c.overdue
           FROM (SELECT q.org_unit_id AS unit, CAST(SUM(q.n) AS BIGINT) AS open,
                        CAST(SUM(CASE WHEN q.due < $1 THEN q.n ELSE 0 END) AS BIGINT) AS overdue
                   FROM queue_due q
                  GROUP BY q.org_unit_id) c
           JOIN org_units u ON u.id = c.unit
          ORDER BY u.name",
    )
    .bind(today)
    .fetch_all(conn)
    .await
}

/// Requests waiting on each department, and how many are late.
pub async fn counts_by_department(
    conn: &mut AnyConnection,
    today: &str,
) -> sqlx::Result<Vec<(String, i64, i64)>> {
    // From the kept counts (migration 0024): a few rows per department.
    sqlx::query_as(
        "SELECT u.name, c.open, c.overdue
           FROM (SELECT d.department_id AS unit, CAST(SUM(d.n) AS BIGINT) AS open,
                        CAST(SUM(CASE WHEN d.due < $1 THEN d.n ELSE 0 END) AS BIGINT) AS overdue
                   FROM letter_due d
                  GROUP BY d.department_id) c
           JOIN org_units u ON u.id = c.unit
          ORDER BY u.name",
    )
    .bind(today)
    .fetch_all(conn)
    .await
}

/// The departments each ticket involves (id, name), by ticket.
pub async fn departments_for(
    conn: &mut AnyConnection,
    ids: &[String],
) -> sqlx::Result<std::collections::HashMap<String, Vec<(String, String)>>> {
    let rows = super::bulk::fetch_in(
        conn,
        "SELECT DISTINCT tr.ticket_id, tr.department_id, u.name
           FROM ticket_records tr JOIN org_units u ON u.id = tr.department_id
          WHERE tr.ticket_id IN ",
        &[],
        ids,
    )
    .await?;
    let mut out: std::collections::HashMap<String, Vec<(String, String)>> = Default::default();
    for row in &rows {
        use sqlx::Row;
        out.entry(row.try_get(0)?)
            .or_default()
            .push((row.try_get(1)?, row.try_get(2)?));
    }
    Ok(out)
}

/// A ticket as a search lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FoundRow {
    pub id: String,
    pub ticket_no: String,
    pub state: String,
    pub subject_name: String,
    pub subject_identifier: String,
    pub org_unit_name: String,
    pub received_on: String,
    pub closed_at: Option<i64>,
}

impl super::sealed::Open for FoundRow {
    fn open(mut self) -> sqlx::Result<Self> {
        super::sealed::open(&mut self.subject_identifier)?;
        Ok(self)
    }
}

/// What a ticket search looks for, and where.
pub struct Search<'a> {
    /// Matched as a whole ticket number (upper case).
    pub ticket_no: &'a str,
    /// Matched anywhere in the subject's name ('' matches nothing).
    pub name: &'a str,
    /// Blind indexes of a whole identity number (none: not a number).
    pub indexes: &'a [String],
    /// A state code; '' any.
    pub state: &'a str,
    /// Filed at these units; empty: any.
    pub units: &'a [String],
    /// Involving this department; '' any.
    pub department_id: &'a str,
    pub limit: i64,
}

/// Tickets matching a search in any state, newest first.
pub async fn find(conn: &mut AnyConnection, s: &Search<'_>) -> sqlx::Result<Vec<FoundRow>> {
    use super::bulk::V;
    let mut values: Vec<V> = vec![V::T(s.ticket_no.to_string())];
    let mut matches = String::from("t.ticket_no = $1");
    if !s.name.is_empty() {
        values.push(V::T(format!("%{}%", super::subjects::like_literal(s.name))));
        matches.push_str(&format!(" OR s.name LIKE ${} ESCAPE '\\'", values.len()));
    }
    for index in s.indexes {
        values.push(V::T(index.clone()));
        matches.push_str(&format!(" OR s.identifier_index = ${}", values.len()));
    }
    let mut sql = format!(
        "SELECT t.id, t.ticket_no, t.state, s.name AS subject_name,
             s.identifier AS subject_identifier, u.name AS org_unit_name, t.received_on,
             t.closed_at
         FROM tickets t
         JOIN subjects s ON s.id = t.subject_id
         JOIN org_units u ON u.id = t.org_unit_id
         WHERE ({matches})"
    );
    if !s.state.is_empty() {
        values.push(V::T(s.state.to_string()));
        sql.push_str(&format!(" AND t.state = ${}", values.len()));
    }
    if !s.units.is_empty() {
        let first = values.len() + 1;
        values.extend(s.units.iter().map(|u| V::T(u.clone())));
        let marks: Vec<String> = (first..=values.len()).map(|i| format!("${i}")).collect();
        sql.push_str(&format!(" AND t.org_unit_id IN ({})", marks.join(", ")));
    }
    if !s.department_id.is_empty() {
        values.push(V::T(s.department_id.to_string()));
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM ticket_records r WHERE r.ticket_id = t.id
                  AND r.department_id = ${})",
            values.len()
        ));
    }
    values.push(V::I(s.limit));
    sql.push_str(&format!(
        " ORDER BY t.created_at DESC, t.ticket_no DESC LIMIT ${}",
        values.len()
    ));
    let rows = super::bulk::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), values.iter())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            use super::sealed::Open;
            <FoundRow as sqlx::FromRow<_>>::from_row(r)?.open()
        })
        .collect()
}
