//! Objection tickets' storage: the ticket, its disputed records, letters,
//! notification attempts and history, and the change sequence the queues
//! refresh from.

use anyhow::Context;
use chrono::NaiveDate;
use credit_desk_proto::calendar::Calendar;
use sqlx::AnyConnection;

use crate::clock::local_date;
use crate::rules::deadlines;

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

/// Marks a ticket changed for the queues.
pub async fn touch(conn: &mut AnyConnection, ticket_id: &str) -> sqlx::Result<()> {
    let seq = next_counter(&mut *conn, QUEUE_SEQ).await?;
    sqlx::query("UPDATE tickets SET change_seq = $1 WHERE id = $2")
        .bind(seq)
        .bind(ticket_id)
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

fn date(s: &str) -> anyhow::Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").with_context(|| format!("stored date {s:?}"))
}

/// Recomputes every open working-day deadline on `cal` (after a calendar
/// change): replies still awaited and notices still due. Each moved
/// deadline is an event in its ticket's history. Returns how many moved.
pub async fn recompute_deadlines(
    conn: &mut AnyConnection,
    cal: &Calendar,
    operator_id: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<u32> {
    let mut moved = 0;
    let letters: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT l.id, l.ticket_id, l.letter_no, l.received_on, l.reply_due
           FROM ticket_letters l JOIN tickets t ON t.id = l.ticket_id
          WHERE l.replied_at IS NULL AND t.state NOT IN ('closed', 'withdrawn')",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (id, ticket_id, letter_no, received_on, old) in letters {
        let new = deadlines::department_reply_due(cal, date(&received_on)?)?.to_string();
        if new == old {
            continue;
        }
        sqlx::query("UPDATE ticket_letters SET reply_due = $1 WHERE id = $2")
            .bind(&new)
            .bind(&id)
            .execute(&mut *conn)
            .await?;
        let detail = format!("{letter_no}: reply due {old} -> {new}");
        add_event(
            conn,
            &ticket_id,
            operator_id,
            "deadline.recomputed",
            &detail,
            now_ms,
        )
        .await?;
        touch(conn, &ticket_id).await?;
        moved += 1;
    }
    let notices: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT t.id, t.notify_due, MAX(l.replied_at)
           FROM tickets t JOIN ticket_letters l ON l.ticket_id = t.id
          WHERE t.state = 'replied' AND t.notify_due IS NOT NULL
          GROUP BY t.id, t.notify_due",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (ticket_id, old, replied_at) in notices {
        let new = deadlines::notice_due(cal, local_date(replied_at))?.to_string();
        if new == old {
            continue;
        }
        sqlx::query("UPDATE tickets SET notify_due = $1 WHERE id = $2")
            .bind(&new)
            .bind(&ticket_id)
            .execute(&mut *conn)
            .await?;
        let detail = format!("notice due {old} -> {new}");
        add_event(
            conn,
            &ticket_id,
            operator_id,
            "deadline.recomputed",
            &detail,
            now_ms,
        )
        .await?;
        touch(conn, &ticket_id).await?;
        moved += 1;
    }
    Ok(moved)
}
