//! Storage. One repository over sqlx's `Any` driver: every statement is
//! written once in the SQL common to SQLite and PostgreSQL (`$n`
//! placeholders, TEXT ids, BIGINT epoch-millisecond times), so both backends
//! run the same code and the same tests. What differs — connection set-up,
//! write locking, the migration set — is confined to this file.
//!
//! Query functions take `&mut AnyConnection` so services compose them inside
//! one transaction.

pub mod audit;
pub mod bulk;
pub mod calendar;
pub mod column;
pub mod complaints;
pub mod consents;
pub mod idempotency;
pub mod imports;
pub mod issued;
pub mod month_report;
pub mod operators;
pub mod org_units;
pub mod partitions;
pub mod queries;
pub mod query_log;
pub mod queue;
pub mod records;
pub mod review;
pub mod sealed;
pub mod sessions;
pub mod ssh_keys;
pub mod subject_card;
pub mod subjects;
pub mod tickets;

use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Connection, Executor, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// How long a writer waits for its turn before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer at a time, and a writer waiting on the busy
    /// timeout retries at intervals: one that writes back to back (an
    /// import's chunks) takes the lock again before a waiting counter ever
    /// sees it free. Writers of this process therefore queue here first,
    /// in arrival order (tokio's mutex is fair). PostgreSQL locks rows.
    write_gate: Option<Arc<tokio::sync::Mutex<()>>>,
}

/// A write transaction; on SQLite it holds this process's place as the
/// writer until it is committed or dropped (rolled back).
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// Audit entries for the acts of this transaction, appended to the
    /// chain as its last statements (see [`audit`]).
    audit: Vec<audit::Entry>,
}

impl WriteTx {
    /// Notes an act for the audit trail; it is written by [`Self::commit`],
    /// in this transaction, or not at all.
    pub fn audit(&mut self, entry: audit::Entry) {
        self.audit.push(entry);
    }

    pub async fn commit(mut self) -> sqlx::Result<()> {
        audit::append(&mut self.tx, &self.audit).await?;
        self.tx.commit().await
    }

    pub async fn rollback(self) -> sqlx::Result<()> {
        self.tx.rollback().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &sqlx::AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

/// Rows an index's statistics are taken from, at most (SQLite
/// `analysis_limit`: a few hundred already give the planner good figures).
const ANALYSIS_LIMIT: u32 = 1000;

/// Accepts `sqlite://PATH`, `sqlite:PATH`, a bare file path, or
/// `postgres://…`/`postgresql://…`. SQLite files are created when missing.
pub fn normalise_url(url: &str) -> anyhow::Result<(String, Backend)> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((url.to_string(), Backend::Postgres));
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    anyhow::ensure!(!path.is_empty(), "--db: empty SQLite path");
    anyhow::ensure!(
        !path.contains("://"),
        "--db: unsupported database URL {url:?} (use sqlite://PATH or postgres://…)"
    );
    let sep = if path.contains('?') { '&' } else { '?' };
    let mode = if path.contains("mode=") {
        String::new()
    } else {
        format!("{sep}mode=rwc")
    };
    Ok((format!("sqlite://{path}{mode}"), Backend::Sqlite))
}

impl Db {
    /// Connects; does not migrate (see [`Db::migrate`]).
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let (url, backend) = normalise_url(url)?;
        let options = AnyConnectOptions::from_str(&url).with_context(|| format!("--db {url}"))?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers work while one writer commits;
                        // FULL sync makes a commit survive a power cut.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute(sqlx::AssertSqlSafe(format!(
                            "PRAGMA busy_timeout = {}",
                            BUSY_TIMEOUT.as_millis()
                        )))
                        .await?;
                        // Any statistics work on this connection looks at a
                        // bounded sample per index, never a whole table:
                        // opening must not wait on a county's 10 M rows.
                        // The statistics themselves are refreshed off the
                        // connection path ([`Db::refresh_statistics`]).
                        conn.execute(sqlx::AssertSqlSafe(format!(
                            "PRAGMA analysis_limit = {ANALYSIS_LIMIT}"
                        )))
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .with_context(|| format!("cannot open database {}", redact(&url)))?;
        let write_gate = (backend == Backend::Sqlite).then(Default::default);
        Ok(Db {
            pool,
            backend,
            write_gate,
        })
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => sqlx::migrate!("../migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("../migrations/postgres"),
        };
        migrator
            .run(&self.pool)
            .await
            .context("applying migrations")?;
        let sealed = audit::seal_unchained(self)
            .await
            .context("chaining the audit trail")?;
        if sealed > 0 {
            tracing::info!(
                rows = sealed,
                "audit rows from before the hash chain chained"
            );
        }
        // Shipped data that is not schema: the official holiday schedules.
        calendar::seed_official(self, credit_desk_proto::now::ms())
            .await
            .context("adding the official working-day calendar")?;
        Ok(())
    }

    pub async fn connect_and_migrate(url: &str) -> anyhow::Result<Db> {
        let db = Db::connect(url).await?;
        db.migrate().await?;
        Ok(db)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Refreshes the SQLite planner's statistics of tables that grew since
    /// they were last taken, from a bounded sample (`analysis_limit`), as
    /// a writer taking its turn. Servers run it after start and then every
    /// few hours, never while opening a connection; PostgreSQL analyses by
    /// itself (autovacuum).
    pub async fn refresh_statistics(&self) -> sqlx::Result<()> {
        if self.backend != Backend::Sqlite {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        sqlx::query("PRAGMA optimize = 0x10002")
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A read-only connection from the pool.
    pub async fn read(&self) -> sqlx::Result<sqlx::pool::PoolConnection<Any>> {
        self.pool.acquire().await
    }

    /// Starts a write transaction. On SQLite it waits for its turn among
    /// this process's writers (before taking a connection, so waiting
    /// writers leave the pool to readers), then takes the write lock at
    /// once (`BEGIN IMMEDIATE`), so two writers queue instead of one failing
    /// half-way when it upgrades its read lock.
    pub async fn begin_write(&self) -> sqlx::Result<WriteTx> {
        let turn = match &self.write_gate {
            // As long as SQLite's own busy timeout: a writer that waits
            // longer fails instead of hanging.
            Some(gate) => Some(
                tokio::time::timeout(BUSY_TIMEOUT, gate.clone().lock_owned())
                    .await
                    .map_err(|_| sqlx::Error::PoolTimedOut)?,
            ),
            None => None,
        };
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            // Explicit: under a server default of REPEATABLE READ, writers
            // queued on the audit chain's head would fail instead of waiting.
            Backend::Postgres => {
                self.pool
                    .begin_with("BEGIN ISOLATION LEVEL READ COMMITTED")
                    .await?
            }
        };
        Ok(WriteTx {
            tx,
            _turn: turn,
            audit: Vec::new(),
        })
    }

    /// A write transaction for a bulk load into tables that grow while it
    /// runs. On PostgreSQL a plan cached while they were small (a
    /// sequential scan) would make every later look-up slower, so each
    /// statement is planned for the data as it is.
    pub async fn begin_bulk_write(&self) -> sqlx::Result<WriteTx> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            tx.execute("SET LOCAL plan_cache_mode = force_custom_plan")
                .await?;
        }
        Ok(tx)
    }

    pub async fn ping(&self) -> sqlx::Result<()> {
        self.pool.acquire().await?.ping().await
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Hides a password in a database URL before it reaches a log or a message.
/// Text that does not parse as a URL is shown as it is (a bare SQLite path
/// holds no password).
pub fn redact(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // Only fails for URLs that cannot have a password at all.
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => text.to_string(),
    }
}

/// Whether an error is a unique-constraint violation (a concurrent insert
/// of the same key), on either backend.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => d.is_unique_violation(),
        _ => false,
    }
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            normalise_url("sqlite://./a.db").unwrap(),
            ("sqlite://./a.db?mode=rwc".into(), Backend::Sqlite)
        );
        assert_eq!(normalise_url("a.db").unwrap().0, "sqlite://a.db?mode=rwc");
        assert_eq!(
            normalise_url("sqlite:a.db?mode=ro").unwrap().0,
            "sqlite://a.db?mode=ro"
        );
        assert_eq!(
            normalise_url("postgres://u@h/db").unwrap().1,
            Backend::Postgres
        );
        assert!(normalise_url("mysql://h/db").is_err());
        assert!(normalise_url("sqlite://").is_err());
    }

    /// A county database that grew 100× since its statistics were taken
    /// opens without analysing anything (it used to re-analyse the grown
    /// tables on every new connection, past the pool's 10 s timeout); the
    /// statistics are refreshed afterwards, from a bounded sample.
    #[tokio::test]
    async fn opening_never_waits_on_statistics() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("grown.db").display());
        let rows = |n: u32| {
            sqlx::AssertSqlSafe(format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})
                 INSERT INTO t (b) SELECT 'k' || (i % 97) FROM n"
            ))
        };
        {
            let db = Db::connect(&url).await.unwrap();
            let mut c = db.read().await.unwrap();
            for sql in [
                "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)",
                "CREATE INDEX t_b ON t (b)",
            ] {
                sqlx::query(sql).execute(&mut *c).await.unwrap();
            }
            sqlx::query(rows(100)).execute(&mut *c).await.unwrap();
            sqlx::query("ANALYZE").execute(&mut *c).await.unwrap();
            sqlx::query(rows(10_000)).execute(&mut *c).await.unwrap();
        }
        let db = Db::connect(&url).await.unwrap();
        let counted = async || -> i64 {
            let mut c = db.read().await.unwrap();
            let stat: String =
                sqlx::query_scalar("SELECT stat FROM sqlite_stat1 WHERE idx = 't_b'")
                    .fetch_one(&mut *c)
                    .await
                    .unwrap();
            stat.split(' ').next().unwrap().parse().unwrap()
        };
        assert_eq!(counted().await, 100, "opening analysed nothing");
        db.refresh_statistics().await.unwrap();
        assert!(counted().await > 1_000, "refreshed once the table grew");
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://a.db"), "sqlite://a.db");
        // An @ or a colon inside the password does not leak its tail.
        assert_eq!(
            redact("postgres://u:p%40ss:w@h:5432/db?sslmode=require"),
            "postgres://u:***@h:5432/db?sslmode=require"
        );
        assert_eq!(redact("not a url"), "not a url");
    }
}
