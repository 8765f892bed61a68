//! The lockout rules. Per account: 5 failed logins within 15 minutes lock it
//! for 15 minutes (pure arithmetic; the database supplies the facts). Per
//! source address: at most 30 unsuccessful logins in 10 minutes, across all
//! usernames, so one machine cannot walk the accounts.

use std::collections::HashMap;
use std::net::IpAddr;

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
        // After a lock (served, or lifted by a password reset, which ends
        // it at that moment), the count starts afresh.
        .max(last_lock_end_ms.map_or(i64::MIN, |t| t + 1))
}

/// After recording a failure: the lock to apply, if the count has reached the
/// limit.
pub fn lock_after_failure(now_ms: i64, failures_in_window: i64) -> Option<i64> {
    (failures_in_window >= MAX_FAILURES).then_some(now_ms + LOCK_MS)
}

pub fn is_locked(now_ms: i64, locked_until_ms: Option<i64>) -> bool {
    locked_until_ms.is_some_and(|until| now_ms < until)
}

pub const ADDRESS_MAX_FAILURES: u32 = 30;
pub const ADDRESS_WINDOW_MS: i64 = 10 * MINUTE_MS;
/// Addresses remembered at once; past it the stalest are forgotten, so a
/// stranger with many addresses costs bounded memory.
const ADDRESS_CAPACITY: usize = 16 * 1024;

/// Unsuccessful logins per source address in fixed windows. An attempt is
/// counted when it starts (so parallel guesses count before any finishes)
/// and forgiven when it succeeds.
#[derive(Debug, Default)]
pub struct AddressLimiter {
    seen: HashMap<IpAddr, Window>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start_ms: i64,
    count: u32,
}

impl AddressLimiter {
    /// Counts an attempt from `addr`, or says how long until it may try again.
    pub fn admit(&mut self, addr: IpAddr, now_ms: i64) -> Result<(), i64> {
        if !self.seen.contains_key(&addr) && self.seen.len() >= ADDRESS_CAPACITY {
            self.forget_stalest(now_ms);
        }
        let w = self.seen.entry(addr).or_insert(Window {
            start_ms: now_ms,
            count: 0,
        });
        if now_ms - w.start_ms >= ADDRESS_WINDOW_MS {
            *w = Window {
                start_ms: now_ms,
                count: 0,
            };
        }
        if w.count >= ADDRESS_MAX_FAILURES {
            return Err(w.start_ms + ADDRESS_WINDOW_MS - now_ms);
        }
        w.count += 1;
        Ok(())
    }

    /// A login from `addr` succeeded: it does not count against the address.
    pub fn forgive(&mut self, addr: IpAddr) {
        if let Some(w) = self.seen.get_mut(&addr) {
            w.count = w.count.saturating_sub(1);
        }
    }

    fn forget_stalest(&mut self, now_ms: i64) {
        self.seen
            .retain(|_, w| now_ms - w.start_ms < ADDRESS_WINDOW_MS);
        if self.seen.len() >= ADDRESS_CAPACITY
            && let Some(oldest) = self
                .seen
                .iter()
                .min_by_key(|(_, w)| w.start_ms)
                .map(|(a, _)| *a)
        {
            self.seen.remove(&oldest);
        }
    }
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
        assert_eq!(count_from(NOW, None, Some(NOW - 1_000)), NOW - 999);
        assert_eq!(
            count_from(NOW, Some(NOW - 5_000), Some(NOW - 1_000)),
            NOW - 999
        );
    }

    #[test]
    fn lock_ends_exactly_at_its_time() {
        assert!(!is_locked(NOW, None));
        assert!(is_locked(NOW, Some(NOW + 1)));
        assert!(!is_locked(NOW, Some(NOW)));
        assert!(!is_locked(NOW, Some(NOW - 1)));
    }

    #[test]
    fn an_address_is_refused_after_thirty_unforgiven_attempts_until_its_window_ends() {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let mut limiter = AddressLimiter::default();
        for _ in 0..ADDRESS_MAX_FAILURES {
            assert_eq!(limiter.admit(a, NOW), Ok(()));
        }
        assert_eq!(
            limiter.admit(a, NOW + 1_000),
            Err(ADDRESS_WINDOW_MS - 1_000)
        );
        assert_eq!(
            limiter.admit(b, NOW + 1_000),
            Ok(()),
            "other addresses go on"
        );
        // A success gives its place back.
        limiter.forgive(a);
        assert_eq!(limiter.admit(a, NOW + 2_000), Ok(()));
        assert!(limiter.admit(a, NOW + 2_000).is_err());
        // A new window starts afresh.
        assert_eq!(limiter.admit(a, NOW + ADDRESS_WINDOW_MS), Ok(()));
    }

    #[test]
    fn many_addresses_cost_bounded_memory() {
        let mut limiter = AddressLimiter::default();
        for n in 0..(ADDRESS_CAPACITY as u32 + 100) {
            let addr = IpAddr::from(std::net::Ipv4Addr::from(n));
            limiter.admit(addr, NOW + i64::from(n)).unwrap();
        }
        assert!(limiter.seen.len() <= ADDRESS_CAPACITY);
        // The newest are remembered.
        let newest = IpAddr::from(std::net::Ipv4Addr::from(ADDRESS_CAPACITY as u32 + 99));
        assert!(limiter.seen.contains_key(&newest));
    }
}
