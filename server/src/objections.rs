//! Objection work that more than one entry point shares (the RPCs and the
//! command line): calendar changes and the deadlines they move.

use credit_desk_proto::calendar as cal;
use credit_desk_proto::pb;
use sqlx::AnyConnection;

use chrono::NaiveDate;

use crate::authz::{self, Actor, QueueView};
use crate::clock::local_date;
use crate::db::queue::{self, QueueScope};
use crate::rules::{deadlines, submissions};
use credit_desk_proto::validate::{FieldError, Rule};

use crate::db::tickets::DeadlineMove;
use crate::db::{Db, audit, calendar, consents, org_units, records};
use crate::rules;
use crate::rules::calendar::{Edit, YearDiff};

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
        // Filled by the callers that list the department files and the
        // caller's other duties.
        ..pb::QueueStats::default()
    }))
}

/// What a calendar change does (or did, when applied).
pub struct CalendarChange {
    pub years: Vec<(i32, YearDiff)>,
    /// Open deadlines whose date moves.
    pub moves: Vec<DeadlineMove>,
    pub applied: bool,
}

/// Plans `edit`, writes it and recomputes every open deadline on the new
/// calendar, in one transaction. Without `confirm` the transaction is
/// rolled back: the answer is a preview of exactly what confirming does.
/// `source` names a file (the official and edited years name themselves).
pub async fn change_calendar(
    db: &Db,
    edit: &Edit,
    file_name: &str,
    operator_id: Option<&str>,
    now_ms: i64,
    confirm: bool,
) -> anyhow::Result<Result<CalendarChange, FieldError>> {
    let source = match edit {
        Edit::File(_) => file_name,
        Edit::RestoreOfficial(_) => calendar::OFFICIAL_SOURCE,
        Edit::SetDay(_) | Edit::RemoveDay(_) => calendar::EDITED_SOURCE,
    };
    let mut tx = db.begin_write().await?;
    let held = calendar::held_days(&mut tx, &edit.years()).await?;
    let plans = match rules::calendar::plan(edit, &held) {
        Ok(plans) => plans,
        Err(e) => return Ok(Err(e)),
    };
    for plan in &plans {
        calendar::replace_year(&mut tx, plan.year, &plan.after, source, operator_id, now_ms)
            .await?;
    }
    let cal = calendar::load(&mut tx).await?;
    let moves =
        match crate::db::tickets::recompute_deadlines(&mut tx, &cal, operator_id, now_ms).await? {
            Ok(moves) => moves,
            Err(cal::CalendarError::MissingYear(year)) => {
                let rule = Rule::CalendarMissingYear { year };
                return Ok(Err(FieldError::new("calendar", rule)));
            }
        };
    let years: Vec<(i32, YearDiff)> = plans
        .iter()
        .map(|p| (p.year, rules::calendar::diff(p)))
        .collect();
    if !confirm {
        tx.rollback().await?;
        return Ok(Ok(CalendarChange {
            years,
            moves,
            applied: false,
        }));
    }
    let detail = format!(
        "years {} from {source}: {} day(s) added, {} removed, {} changed; {} deadline(s) recomputed",
        years
            .iter()
            .map(|(y, _)| y.to_string())
            .collect::<Vec<_>>()
            .join(","),
        years.iter().map(|(_, d)| d.added).sum::<u32>(),
        years.iter().map(|(_, d)| d.removed).sum::<u32>(),
        years.iter().map(|(_, d)| d.changed).sum::<u32>(),
        moves.len()
    );
    audit::record(
        &mut tx,
        operator_id,
        "calendar.change",
        source,
        &detail,
        now_ms,
    );
    tx.commit().await?;
    Ok(Ok(CalendarChange {
        years,
        moves,
        applied: true,
    }))
}

/// Department files not delivered by their date (and the next ones
/// coming): the center and supervisors see every department, a liaison
/// their own, counter staff none.
pub async fn submissions_due(
    conn: &mut AnyConnection,
    actor: Actor<'_>,
    cal: &cal::Calendar,
    today: NaiveDate,
    warn: u32,
) -> sqlx::Result<Vec<pb::SubmissionDue>> {
    let own = match authz::submission_view(actor) {
        authz::SubmissionView::All => None,
        authz::SubmissionView::Department(id) => Some(id),
        authz::SubmissionView::None => return Ok(Vec::new()),
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

/// How far back an unreviewed day stays in the queue.
const REVIEW_LOOKBACK_DAYS: u64 = 31;

/// Finished days with query attempts that no supervisor has signed off,
/// each due the working day after it (查询操作日核查), oldest first.
pub async fn reviews_due(
    conn: &mut AnyConnection,
    cal: &cal::Calendar,
    today: NaiveDate,
    warn: u32,
) -> sqlx::Result<Vec<pb::ReviewDue>> {
    use crate::clock::local_midnight_ms;
    let first = today - chrono::Days::new(REVIEW_LOOKBACK_DAYS);
    let signed = crate::db::review::signed_since(conn, &first.to_string()).await?;
    let mut out = Vec::new();
    for back in (1..=REVIEW_LOOKBACK_DAYS).rev() {
        let day = today - chrono::Days::new(back);
        if signed.contains(&day.to_string()) {
            continue;
        }
        let (from, to) = (
            local_midnight_ms(day),
            local_midnight_ms(day + chrono::Days::new(1)),
        );
        if !crate::db::review::any_attempt_between(conn, from, to).await? {
            continue;
        }
        // Without the calendar's year the next calendar day stands in, and
        // the queue's calendar warning says why.
        let due = cal
            .add_working_days(day, 1)
            .unwrap_or(day + chrono::Days::new(1));
        let urgency = deadlines::urgency(cal, today, due, warn)
            .map(|(u, _)| u.as_str())
            .unwrap_or(if due < today { "overdue" } else { "later" });
        out.push(pb::ReviewDue {
            day: day.to_string(),
            due: due.to_string(),
            urgency: urgency.into(),
        });
    }
    Ok(out)
}

/// Months not yet signed off, due by the 5th after each: the last twelve
/// finished months that ended after the center began keeping records.
pub async fn months_due(
    conn: &mut sqlx::AnyConnection,
    cal: &cal::Calendar,
    today: chrono::NaiveDate,
    warn: u32,
) -> sqlx::Result<Vec<pb::MonthReportDue>> {
    const LOOKBACK_MONTHS: u32 = 12;
    let this_month = chrono::Datelike::with_day(&today, 1).unwrap_or(today);
    let oldest = this_month - chrono::Months::new(LOOKBACK_MONTHS);
    let signed =
        crate::db::month_report::signed_since(conn, &crate::services::month_report::key(oldest))
            .await?;
    let started = crate::db::month_report::started_at(conn).await?;
    let mut out = Vec::new();
    for back in (1..=LOOKBACK_MONTHS).rev() {
        let first = this_month - chrono::Months::new(back);
        if crate::services::month_report::span(first).to_ms <= started
            || signed.contains(&crate::services::month_report::key(first))
        {
            continue;
        }
        let due = rules::month_report::due(first);
        let urgency = deadlines::urgency(cal, today, due, warn)
            .map(|(u, _)| u.as_str())
            .unwrap_or(if due < today { "overdue" } else { "later" });
        out.push(pb::MonthReportDue {
            month: crate::services::month_report::key(first),
            due: due.to_string(),
            urgency: urgency.into(),
        });
    }
    Ok(out)
}

/// The supervision and complaint items of a caller's queue.
#[derive(Debug, Default)]
pub struct Duties {
    pub reviews: Vec<pb::ReviewDue>,
    pub month_reports: Vec<pb::MonthReportDue>,
    pub complaints: Vec<pb::ComplaintDue>,
    /// Open complaints in the caller's units: (all, overdue).
    pub complaint_counts: (i64, i64),
}

impl Duties {
    /// What the caller must do, by capability: supervisors review days and
    /// sign months off; the center answers its units' complaints.
    pub async fn of(
        conn: &mut AnyConnection,
        actor: Actor<'_>,
        cal: &cal::Calendar,
        today: NaiveDate,
        warn: u32,
    ) -> sqlx::Result<Duties> {
        let has = |c| crate::domain::capabilities(actor.role).contains(&c);
        let mut duties = Duties::default();
        if has(pb::Capability::ReviewDays) {
            duties.reviews = reviews_due(conn, cal, today, warn).await?;
            duties.month_reports = months_due(conn, cal, today, warn).await?;
        }
        if has(pb::Capability::HandleComplaints) {
            let path = actor.unit_path;
            duties.complaints = complaints_due(conn, path, today).await?;
            duties.complaint_counts =
                crate::db::complaints::open_counts(conn, path, &today.to_string()).await?;
        }
        Ok(duties)
    }

    /// The menu's counters with these duties added.
    pub fn count_into(&self, stats: pb::QueueStats) -> pb::QueueStats {
        let n = |v: i64| u32::try_from(v).unwrap_or(u32::MAX);
        pb::QueueStats {
            complaints_open: n(self.complaint_counts.0),
            complaints_overdue: n(self.complaint_counts.1),
            days_to_review: self.reviews.len() as u32,
            months_to_sign: self.month_reports.len() as u32,
            ..stats
        }
    }
}

/// Complaints under `unit_path` waiting for their written answer, the
/// most pressing first.
pub async fn complaints_due(
    conn: &mut AnyConnection,
    unit_path: &str,
    today: NaiveDate,
) -> sqlx::Result<Vec<pb::ComplaintDue>> {
    const SHOWN: i64 = 50;
    let rows = crate::db::complaints::list(conn, unit_path, false, "", SHOWN).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let urgency = r
                .due_on
                .parse::<NaiveDate>()
                .map_or("later", |due| crate::rules::complaint::urgency(today, due));
            pb::ComplaintDue {
                complaint_no: r.complaint_no,
                complainant: r.complainant,
                due: r.due_on,
                urgency: urgency.into(),
            }
        })
        .collect())
}

/// How many of `due` are late.
pub fn late(due: &[pb::SubmissionDue]) -> u32 {
    due.iter().filter(|s| s.urgency == "overdue").count() as u32
}
