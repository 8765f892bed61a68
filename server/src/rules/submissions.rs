//! Periodic data submissions (SPEC §5): each department delivers its
//! half-year file by 10 July and its full-year file by 10 January of the
//! next year. An applied import marks the period it belongs to delivered.

use chrono::{Datelike, NaiveDate};
use credit_desk_proto::periods::Period;

/// When a period's file is due (`2025H1` → 2025-07-10, `2025FY` → 2026-01-10).
pub fn due(period: &str) -> Option<NaiveDate> {
    Period::parse(period)?.due()
}

/// The period a file delivers when the clerk does not name one: the
/// period its latest record date (not after today) falls in, or, with no
/// dates, the one falling due next.
pub fn proposed_period(dates: impl IntoIterator<Item = NaiveDate>, today: NaiveDate) -> Period {
    dates
        .into_iter()
        .filter(|d| *d <= today)
        .max()
        .map_or_else(|| Period::due_next(today), Period::of_date)
}

/// The periods the queue watches on `today`: those due in the last year
/// (late if not delivered) and the next one (coming), oldest first.
pub fn watched(today: NaiveDate) -> Vec<(String, NaiveDate)> {
    let mut out = Vec::new();
    for year in today.year() - 2..=today.year() {
        for kind in ["H1", "FY"] {
            let period = format!("{year}{kind}");
            if let Some(d) = due(&period)
                && d > today - chrono::Days::new(366)
            {
                out.push((period, d));
            }
        }
    }
    out.sort_by_key(|(_, d)| *d);
    // Keep every past-due period and only the first one still to come.
    let first_future = out.iter().position(|(_, d)| *d >= today);
    if let Some(i) = first_future {
        out.truncate(i + 1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn periods_and_due_dates() {
        let today = d("2026-11-23");
        let proposed =
            |dates: &[&str]| proposed_period(dates.iter().map(|s| d(s)), today).to_string();
        assert_eq!(proposed(&["2025-03-01", "2025-06-30"]), "2025H1");
        assert_eq!(proposed(&["2025-03-01", "2025-12-30"]), "2025FY");
        // A date after today (an end still to come) does not count.
        assert_eq!(proposed(&["2025-03-01", "2027-12-30"]), "2025H1");
        assert_eq!(proposed(&[]), "2026H1");
        assert_eq!(due("2025H1"), Some(d("2025-07-10")));
        assert_eq!(due("2025FY"), Some(d("2026-01-10")));
        assert_eq!(due("2025Q1"), None);
        assert_eq!(due("25H1"), None);
        assert_eq!(due(""), None);
    }

    #[test]
    fn the_watched_periods() {
        let names =
            |today| -> Vec<String> { watched(d(today)).into_iter().map(|(p, _)| p).collect() };
        // 24 Nov 2026: 2025FY (10 Jan) and 2026H1 (10 Jul) are past; 2026FY comes next.
        assert_eq!(names("2026-11-24"), ["2025FY", "2026H1", "2026FY"]);
        // On the due day the period is still the coming one.
        assert_eq!(names("2026-07-10"), ["2025H1", "2025FY", "2026H1"]);
        assert_eq!(names("2026-07-11"), ["2025FY", "2026H1", "2026FY"]);
    }
}
