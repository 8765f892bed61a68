//! The objection deadlines (SPEC §4–5) and how urgent a deadline is today.
//! A deadline is a date: it ends with that day.

use chrono::NaiveDate;
use credit_desk_proto::calendar::{Calendar, CalendarError};

/// The department replies within 10 working days of receiving the request.
pub const DEPARTMENT_REPLY_WORKING_DAYS: u32 = 10;
/// The center notifies the applicant within 2 working days of the reply.
pub const NOTICE_WORKING_DAYS: u32 = 2;
/// The whole objection is answered within 20 days (calendar days, 条例 art. 25).
pub const OVERALL_DAYS: u64 = 20;

pub fn department_reply_due(
    cal: &Calendar,
    received_on: NaiveDate,
) -> Result<NaiveDate, CalendarError> {
    cal.add_working_days(received_on, DEPARTMENT_REPLY_WORKING_DAYS)
}

pub fn notice_due(
    cal: &Calendar,
    reply_received_on: NaiveDate,
) -> Result<NaiveDate, CalendarError> {
    cal.add_working_days(reply_received_on, NOTICE_WORKING_DAYS)
}

/// The legal limit: never moved by pauses (the screen shows the paused
/// time beside it instead).
pub fn overall_due(received_on: NaiveDate) -> NaiveDate {
    received_on + chrono::Days::new(OVERALL_DAYS)
}

/// The overall limit with the paused days added, shown next to the legal one.
pub fn overall_due_with_pauses(received_on: NaiveDate, paused_ms: i64) -> NaiveDate {
    let days = (paused_ms.max(0) as u64).div_ceil(86_400_000);
    overall_due(received_on) + chrono::Days::new(days)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Urgency {
    Overdue,
    DueToday,
    /// Due within the next 2 working days.
    Soon,
    Later,
}

impl Urgency {
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Overdue => "overdue",
            Urgency::DueToday => "due_today",
            Urgency::Soon => "soon",
            Urgency::Later => "later",
        }
    }
}

/// How a deadline stands today, and whether it warrants a warning: due
/// within `warn_working_days` working days (and not yet overdue).
pub fn urgency(
    cal: &Calendar,
    today: NaiveDate,
    due: NaiveDate,
    warn_working_days: u32,
) -> Result<(Urgency, bool), CalendarError> {
    if due < today {
        return Ok((Urgency::Overdue, false));
    }
    if due == today {
        return Ok((Urgency::DueToday, true));
    }
    let left = cal.working_days_between(today, due)?;
    let urgency = if left <= 2 {
        Urgency::Soon
    } else {
        Urgency::Later
    };
    Ok((urgency, left <= warn_working_days))
}

#[cfg(test)]
mod tests {
    use super::*;
    use credit_desk_proto::calendar::official;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_three_clocks() {
        let cal = official();
        // Received on Thursday 24 Sep 2026: the reply is due 15 Oct.
        assert_eq!(
            department_reply_due(&cal, d("2026-09-24")).unwrap(),
            d("2026-10-15")
        );
        // A reply received on Wednesday 30 Sep: notice by Friday 9 Oct
        // (1–7 Oct off; 8 Oct is the first working day, 9 Oct the second).
        assert_eq!(notice_due(&cal, d("2026-09-30")).unwrap(), d("2026-10-09"));
        // Twenty calendar days, holidays or not.
        assert_eq!(overall_due(d("2026-09-24")), d("2026-10-14"));
        assert_eq!(overall_due_with_pauses(d("2026-09-24"), 0), d("2026-10-14"));
        // A pause of 2 days and an hour shows as 3 more days.
        assert_eq!(
            overall_due_with_pauses(d("2026-09-24"), 2 * 86_400_000 + 3_600_000),
            d("2026-10-17")
        );
    }

    #[test]
    fn urgency_groups_and_warnings() {
        let cal = official();
        let today = d("2026-11-24"); // Tuesday
        let u = |due| urgency(&cal, today, d(due), 1).unwrap();
        assert_eq!(u("2026-11-23"), (Urgency::Overdue, false));
        assert_eq!(u("2026-11-24"), (Urgency::DueToday, true));
        assert_eq!(u("2026-11-25"), (Urgency::Soon, true));
        assert_eq!(u("2026-11-26"), (Urgency::Soon, false));
        assert_eq!(u("2026-11-27"), (Urgency::Later, false));
        // Friday → Monday is one working day away.
        let friday = d("2026-11-27");
        assert_eq!(
            urgency(&cal, friday, d("2026-11-30"), 1).unwrap(),
            (Urgency::Soon, true)
        );
        // A wider warning window warns earlier.
        assert_eq!(
            urgency(&cal, today, d("2026-11-27"), 3).unwrap(),
            (Urgency::Later, true)
        );
    }
}
