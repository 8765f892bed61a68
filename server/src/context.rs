//! What every service shares: the database, the clock and the session
//! policy. Nothing here holds per-session state; that lives in the database.

use std::sync::Arc;

use crate::clock::{HOUR_MS, MINUTE_MS, SharedClock};
use crate::db::Db;

#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// A session ends this long after login, however busy.
    pub absolute_ms: i64,
    /// A session ends after this long without a call.
    pub idle_ms: i64,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            absolute_ms: 12 * HOUR_MS,
            idle_ms: 30 * MINUTE_MS,
        }
    }
}

pub struct Context {
    pub db: Db,
    pub clock: SharedClock,
    pub sessions: SessionPolicy,
    pub policy: Policy,
    /// Every password hash the server computes runs on this bounded pool.
    pub hasher: crate::password::Hasher,
    /// Unsuccessful logins per source address (this process's view; each
    /// server of a cluster limits on its own).
    pub logins: std::sync::Mutex<crate::lockout::AddressLimiter>,
}

/// Business settings the center decides.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// How long a counter verification stays usable (the counter visit).
    pub verification_ms: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            verification_ms: 2 * HOUR_MS,
        }
    }
}

pub type Ctx = Arc<Context>;

impl Context {
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}
