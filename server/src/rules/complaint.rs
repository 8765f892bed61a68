//! Complaint deadlines (征信业管理条例 art. 26): a complaint is answered in
//! writing within 30 days of its receipt — calendar days, as the regulation
//! counts them, unlike the objection clocks' working days.

use chrono::NaiveDate;

/// Days the center has to answer.
pub const ANSWER_DAYS: u64 = 30;

/// The last day for the written answer.
pub fn due_on(received: NaiveDate) -> NaiveDate {
    received + chrono::Days::new(ANSWER_DAYS)
}

/// How pressing an open complaint is on `today`: `overdue` after its day,
/// `due_today`, `soon` within three days, else `later`.
pub fn urgency(today: NaiveDate, due: NaiveDate) -> &'static str {
    match (due - today).num_days() {
        d if d < 0 => "overdue",
        0 => "due_today",
        1..=3 => "soon",
        _ => "later",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn thirty_calendar_days_then_overdue() {
        assert_eq!(due_on(d("2026-11-23")), d("2026-12-23"));
        // Across a month end and the new year, holidays included.
        assert_eq!(due_on(d("2026-12-15")), d("2027-01-14"));
        let due = d("2026-12-23");
        let cases = [
            ("2026-11-23", "later"),
            ("2026-12-19", "later"),
            ("2026-12-20", "soon"),
            ("2026-12-22", "soon"),
            ("2026-12-23", "due_today"),
            ("2026-12-24", "overdue"),
        ];
        for (today, expected) in cases {
            assert_eq!(urgency(d(today), due), expected, "{today}");
        }
    }
}
