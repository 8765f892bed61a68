//! Objection work that more than one entry point shares (the RPCs and the
//! command line): calendar changes and the deadlines they move.

use credit_desk_proto::calendar::{self as cal, SpecialDay};
use credit_desk_proto::pb;
use sqlx::AnyConnection;

use crate::authz::QueueView;
use crate::clock::local_date;
use crate::db::queue::{self, QueueScope};
use crate::db::{Db, audit, calendar, consents, org_units};

/// Center setting: warn this many working days before a deadline.
pub const WARN_SETTING: &str = "deadline_warning_working_days";

/// The storage filter for the part of the queue the caller sees.
pub async fn queue_scope(
    conn: &mut AnyConnection,
    view: QueueView<'_>,
) -> sqlx::Result<QueueScope> {
    Ok(match view {
        QueueView::All => QueueScope::default(),
        // The township and the stations under it (a handful of ids).
        QueueView::FiledUnder(unit_path) => QueueScope {
            units: org_units::subtree(conn, unit_path)
                .await?
                .into_iter()
                .map(|u| u.id)
                .collect(),
            ..Default::default()
        },
        QueueView::WaitingOn(unit_id) => QueueScope {
            waiting_on: unit_id.to_string(),
            ..Default::default()
        },
    })
}

pub async fn warn_days(conn: &mut AnyConnection) -> sqlx::Result<u32> {
    Ok(consents::setting_i64(conn, WARN_SETTING, 1)
        .await?
        .clamp(0, 20) as u32)
}

/// Counts over a queue on `now`'s day: open, overdue, due today, due within
/// two working days, warned (`warn` working days ahead).
pub async fn queue_stats(
    conn: &mut AnyConnection,
    scope: &QueueScope,
    calendar: &cal::Calendar,
    now_ms: i64,
    warn: u32,
) -> anyhow::Result<Result<pb::QueueStats, cal::CalendarError>> {
    let today = local_date(now_ms);
    let (soon, warn_by) = match (
        calendar.add_working_days(today, 2),
        calendar.add_working_days(today, warn),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
    };
    let [open, overdue, due_today, soon_n, warnings] = queue::stats(
        conn,
        scope,
        &today.to_string(),
        &soon.to_string(),
        &warn_by.to_string(),
    )
    .await?;
    Ok(Ok(pb::QueueStats {
        open: open as u32,
        overdue: overdue as u32,
        due_today: due_today as u32,
        soon: soon_n as u32,
        warnings: warnings as u32,
    }))
}

pub struct CalendarChange {
    pub years: Vec<i32>,
    /// Open deadlines whose date moved.
    pub recomputed: u32,
}

/// Replaces the years `days` cover, recomputes every open deadline on the
/// new calendar and logs the change — one transaction.
pub async fn apply_calendar(
    db: &Db,
    days: &[SpecialDay],
    source: &str,
    operator_id: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<CalendarChange> {
    let mut tx = db.begin_write().await?;
    let years = calendar::replace_years(&mut tx, days, source, operator_id, now_ms).await?;
    let cal = calendar::load(&mut tx).await?;
    let recomputed =
        crate::db::tickets::recompute_deadlines(&mut tx, &cal, operator_id, now_ms).await?;
    let detail = format!(
        "years {} from {source}: {} day(s); {recomputed} deadline(s) recomputed",
        years
            .iter()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join(","),
        days.len()
    );
    audit::record(
        &mut tx,
        operator_id,
        "calendar.import",
        source,
        &detail,
        now_ms,
    )
    .await?;
    tx.commit().await?;
    Ok(CalendarChange { years, recomputed })
}
