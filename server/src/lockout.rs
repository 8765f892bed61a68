//! The lockout rule: 5 failed logins within 15 minutes lock the account for
//! 15 minutes. Pure arithmetic; the database supplies the facts.

use crate::clock::MINUTE_MS;

pub const MAX_FAILURES: i64 = 5;
pub const WINDOW_MS: i64 = 15 * MINUTE_MS;
pub const LOCK_MS: i64 = 15 * MINUTE_MS;

/// Failures count from the latest of: the start of the window, the last
/// successful login, the end of the previous lock. A success or a served lock
/// starts the count afresh.
pub fn count_from(now_ms: i64, last_success_ms: Option<i64>, last_lock_end_ms: Option<i64>) -> i64 {
    let window_start = now_ms - WINDOW_MS;
    window_start
        .max(last_success_ms.map_or(i64::MIN, |t| t + 1))
        .max(last_lock_end_ms.unwrap_or(i64::MIN))
}

/// After recording a failure: the lock to apply, if the count has reached the
/// limit.
pub fn lock_after_failure(now_ms: i64, failures_in_window: i64) -> Option<i64> {
    (failures_in_window >= MAX_FAILURES).then_some(now_ms + LOCK_MS)
}

pub fn is_locked(now_ms: i64, locked_until_ms: Option<i64>) -> bool {
    locked_until_ms.is_some_and(|until| now_ms < until)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn fifth_failure_locks_for_fifteen_minutes() {
        for n in 0..MAX_FAILURES {
            assert_eq!(lock_after_failure(NOW, n), None, "{n} failures");
        }
        assert_eq!(lock_after_failure(NOW, 5), Some(NOW + 15 * MINUTE_MS));
        assert_eq!(lock_after_failure(NOW, 6), Some(NOW + 15 * MINUTE_MS));
    }

    #[test]
    fn window_start_is_the_latest_reset() {
        assert_eq!(count_from(NOW, None, None), NOW - WINDOW_MS);
        assert_eq!(count_from(NOW, Some(NOW - 60_000), None), NOW - 59_999);
        assert_eq!(
            count_from(NOW, Some(NOW - WINDOW_MS - 1), None),
            NOW - WINDOW_MS
        );
        assert_eq!(count_from(NOW, None, Some(NOW - 1_000)), NOW - 1_000);
        assert_eq!(
            count_from(NOW, Some(NOW - 5_000), Some(NOW - 1_000)),
            NOW - 1_000
        );
    }

    #[test]
    fn lock_ends_exactly_at_its_time() {
        assert!(!is_locked(NOW, None));
        assert!(is_locked(NOW, Some(NOW + 1)));
        assert!(!is_locked(NOW, Some(NOW)));
        assert!(!is_locked(NOW, Some(NOW - 1)));
    }
}
