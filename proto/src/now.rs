//! The wall clock both sides read. Everything that asks "what time is it"
//! or "what day is today" asks here, so that the demo can run as on another
//! day (`credit-desk-server demo --as-of DATE`: training on a fixed working
//! day, and end-to-end tests that must not depend on the weekday). A real
//! server never moves it.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Local, NaiveDate, TimeZone, Utc};

static OFFSET_MS: AtomicI64 = AtomicI64::new(0);

/// Milliseconds since the Unix epoch, UTC, as this process sees them.
pub fn ms() -> i64 {
    Utc::now().timestamp_millis() + OFFSET_MS.load(Ordering::Relaxed)
}

/// The local date and time as this process sees them.
pub fn local() -> DateTime<Local> {
    Local
        .timestamp_millis_opt(ms())
        .single()
        .unwrap_or_else(Local::now)
}

/// Today in the local time zone.
pub fn today() -> NaiveDate {
    local().date_naive()
}

/// From now on this process lives on `day`, at the real time of day.
pub fn pretend_today(day: NaiveDate) {
    OFFSET_MS.store(offset_to(day, Local::now()), Ordering::Relaxed);
}

/// The shift that puts `now` on `day` without changing its time of day.
fn offset_to(day: NaiveDate, now: DateTime<Local>) -> i64 {
    let days = (day - now.date_naive()).num_days();
    days * 86_400_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shift_keeps_the_time_of_day() {
        let now = Local.with_ymd_and_hms(2026, 12, 5, 9, 30, 0).unwrap();
        for (day, days) in [
            (NaiveDate::from_ymd_opt(2026, 11, 25).unwrap(), -10),
            (NaiveDate::from_ymd_opt(2026, 12, 5).unwrap(), 0),
            (NaiveDate::from_ymd_opt(2027, 1, 4).unwrap(), 30),
        ] {
            let shift = offset_to(day, now);
            assert_eq!(shift, days * 86_400_000);
            let moved = Local
                .timestamp_millis_opt(now.timestamp_millis() + shift)
                .unwrap();
            assert_eq!(moved.date_naive(), day);
            assert_eq!(moved.time(), now.time());
        }
    }
}
