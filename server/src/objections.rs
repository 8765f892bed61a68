//! Objection work that more than one entry point shares (the RPCs and the
//! command line): calendar changes and the deadlines they move.

use credit_desk_proto::calendar::SpecialDay;

use crate::db::{Db, audit, calendar};

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
