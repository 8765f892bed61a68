//! Monthly partitions of the append-only logs on PostgreSQL (migration
//! 0025): each server makes sure this month's and the next two months'
//! exist, at start and then hourly, and moves any rows that waited in the
//! default partition (a month nobody had made yet) into their month's.
//! Several servers may do it at once: they take turns on an advisory lock.
//! SQLite keeps each log as one table; nothing to do there.

use super::{Backend, Db};
use chrono::{Datelike, NaiveDate};

/// The partitioned logs.
pub const LOGS: [&str; 3] = ["query_log", "audit_log", "login_attempts"];
/// Months made ahead of time, beyond this one.
pub const MONTHS_AHEAD: u32 = 2;
/// The advisory lock the servers take turns on (any fixed number).
const TURN: i64 = 0x4344_5041_5254; // "CDPART"
/// The longest a server waits to hold a log whole while it makes a month.
const LOCK_WAIT_MS: u32 = 2_000;

/// A UTC month (year, month 1–12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn of_ms(ms: i64) -> Month {
        let day = chrono::DateTime::from_timestamp_millis(ms)
            .unwrap_or_default()
            .date_naive();
        Month {
            year: day.year(),
            month: day.month(),
        }
    }

    pub fn next(self) -> Month {
        match self.month {
            12 => Month {
                year: self.year + 1,
                month: 1,
            },
            m => Month {
                year: self.year,
                month: m + 1,
            },
        }
    }

    /// Its first millisecond (UTC).
    pub fn start_ms(self) -> i64 {
        NaiveDate::from_ymd_opt(self.year, self.month, 1)
            .unwrap_or_default()
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc()
            .timestamp_millis()
    }

    /// The partition of `log` for this month, as the migration names it.
    pub fn partition(self, log: &str) -> String {
        format!("{log}_y{:04}m{:02}", self.year, self.month)
    }
}

/// Makes the partitions that are due; returns the names of those made.
pub async fn ensure(db: &Db, now_ms: i64) -> sqlx::Result<Vec<String>> {
    if db.backend() != Backend::Postgres {
        return Ok(Vec::new());
    }
    let mut made = Vec::new();
    for log in LOGS {
        let mut due = vec![Month::of_ms(now_ms)];
        for _ in 0..MONTHS_AHEAD {
            due.push(due[due.len() - 1].next());
        }
        // Months whose rows wait in the default partition.
        let waiting: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT DISTINCT CAST(extract(epoch FROM date_trunc('month',
                        to_timestamp(at / 1000.0) AT TIME ZONE 'UTC')) * 1000 AS BIGINT)
               FROM {log}_default"
        )))
        .fetch_all(db.pool())
        .await?;
        due.extend(waiting.into_iter().map(Month::of_ms));
        due.sort();
        due.dedup();
        for month in due {
            if make(db, log, month).await? {
                made.push(month.partition(log));
            }
        }
    }
    if !made.is_empty() {
        tracing::info!(partitions = ?made, "made log partitions");
    }
    Ok(made)
}

/// One month's partition, in a transaction of its own that holds the log
/// whole while it works: a write waiting meanwhile is then routed by the
/// new partitions (under a weaker lock it could be routed to the default
/// partition by a stale plan and fail there), and no transaction ever
/// holds two logs, so none can deadlock with a writer. The lock is waited
/// for at most [`LOCK_WAIT_MS`]; past it the month is made on a later round.
async fn make(db: &Db, log: &str, month: Month) -> sqlx::Result<bool> {
    let name = month.partition(log);
    let mut tx = db.pool().begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(TURN)
        .execute(&mut *tx)
        .await?;
    let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(&name)
        .fetch_one(&mut *tx)
        .await?;
    if exists {
        tx.rollback().await?;
        return Ok(false);
    }
    let (from, to) = (month.start_ms(), month.next().start_ms());
    // The month's rows leave the default partition first: a partition
    // cannot be attached over rows the default holds.
    for sql in [
        format!("SET LOCAL lock_timeout = {LOCK_WAIT_MS}"),
        format!("LOCK TABLE {log} IN ACCESS EXCLUSIVE MODE"),
        format!("CREATE TABLE {name} (LIKE {log} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"),
        format!("INSERT INTO {name} SELECT * FROM {log}_default WHERE at >= {from} AND at < {to}"),
        format!("DELETE FROM {log}_default WHERE at >= {from} AND at < {to}"),
        format!("ALTER TABLE {log} ATTACH PARTITION {name} FOR VALUES FROM ({from}) TO ({to})"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_and_their_partitions() {
        let december = Month::of_ms(
            Month {
                year: 2026,
                month: 12,
            }
            .start_ms(),
        );
        assert_eq!(
            december,
            Month {
                year: 2026,
                month: 12
            }
        );
        assert_eq!(
            december.next(),
            Month {
                year: 2027,
                month: 1
            }
        );
        assert_eq!(december.partition("audit_log"), "audit_log_y2026m12");
        // The last millisecond of a month is in it; the next is not.
        let end = december.next().start_ms();
        assert_eq!(Month::of_ms(end - 1), december);
        assert_eq!(
            Month::of_ms(end),
            Month {
                year: 2027,
                month: 1
            }
        );
        assert_eq!(end - december.start_ms(), 31 * 86_400_000);
    }
}
