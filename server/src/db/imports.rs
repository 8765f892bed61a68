//! An import's life in the database: begun (one running import per
//! department), written in short transactions as pending versions, made
//! visible by one short write of its status, then folded into the records
//! in small steps — or rolled back in small steps when it fails, is
//! cancelled or was abandoned by a server that stopped. No step holds the
//! write lock for long, so counters keep working during a large import.
//! Readers see records through the `visible_records` view (migration 0007).

use credit_desk_proto::words::import_status;
use sqlx::AnyConnection;

use super::Db;
use super::records::{self, ImportRow};

/// Rows changed per transaction when folding in or rolling back.
const STEP: i64 = 2_000;

/// A running import whose last chunk is older than this was abandoned.
pub const ABANDONED_AFTER_MS: i64 = 10 * 60_000;

/// Why an import cannot begin.
#[derive(Debug, PartialEq, Eq)]
pub enum BeginError {
    /// The department has an import running now.
    Running { since_ms: i64 },
}

/// Records the import as running, unless the department has one running
/// already; running imports of the department that were abandoned are
/// returned for rolling back first.
pub async fn begin(
    db: &Db,
    log: &ImportRow,
    operator_id: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<Result<Vec<String>, BeginError>> {
    let mut tx = db.begin_write().await?;
    // Serialises the imports of one department on every server: the
    // department's row is locked until this transaction ends.
    sqlx::query("UPDATE org_units SET code = code WHERE id = $1")
        .bind(&log.department_id)
        .execute(&mut *tx)
        .await?;
    let running: Vec<(String, Option<i64>, i64)> = sqlx::query_as(
        "SELECT id, heartbeat_at, started_at FROM imports
          WHERE department_id = $1 AND status IN ($2, $3)",
    )
    .bind(&log.department_id)
    .bind(import_status::RUNNING)
    .bind(import_status::ROLLING_BACK)
    .fetch_all(&mut *tx)
    .await?;
    let mut abandoned = Vec::new();
    for (id, heartbeat, started) in running {
        let last = heartbeat.unwrap_or(started);
        if now_ms - last < ABANDONED_AFTER_MS {
            return Ok(Err(BeginError::Running { since_ms: started }));
        }
        abandoned.push(id);
    }
    records::insert_import(&mut tx, log, operator_id, now_ms).await?;
    heartbeat(&mut tx, &log.id, now_ms).await?;
    tx.commit().await?;
    Ok(Ok(abandoned))
}

/// Marks the import as alive (called with every chunk it writes).
pub async fn heartbeat(conn: &mut AnyConnection, import_id: &str, now_ms: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE imports SET heartbeat_at = $1 WHERE id = $2")
        .bind(now_ms)
        .bind(import_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Running (or rolling back) imports nobody has written for
/// [`ABANDONED_AFTER_MS`].
pub async fn abandoned(db: &Db, now_ms: i64) -> sqlx::Result<Vec<String>> {
    let mut conn = db.read().await?;
    sqlx::query_scalar(
        "SELECT id FROM imports
          WHERE status IN ($1, $2) AND COALESCE(heartbeat_at, started_at) < $3",
    )
    .bind(import_status::RUNNING)
    .bind(import_status::ROLLING_BACK)
    .bind(now_ms - ABANDONED_AFTER_MS)
    .fetch_all(&mut *conn)
    .await
}

/// Marks a new record as pending for `import_id` at `version` (the record
/// row itself is written by the bulk insert with current_version 0).
pub async fn set_next_version(
    conn: &mut AnyConnection,
    record_id: &str,
    version: i64,
    import_id: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE records SET next_version = $1, next_import = $2 WHERE id = $3")
        .bind(version)
        .bind(import_id)
        .bind(record_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Runs `sql` (which changes at most [`STEP`] rows for `$1` = import id,
/// and re-checks its condition outside the `LIMIT` subquery: PostgreSQL
/// re-evaluates only the outer condition of a row changed meanwhile),
/// `$2` = step) in its own short transaction until it changes nothing.
async fn in_steps(db: &Db, sql: &'static str, import_id: &str) -> sqlx::Result<u64> {
    let mut total = 0;
    loop {
        let mut tx = db.begin_write().await?;
        let n = sqlx::query(sql)
            .bind(import_id)
            .bind(STEP)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        total += n;
        if n == 0 {
            return Ok(total);
        }
    }
}

/// Moves an applied import's pending versions into its records (what
/// readers see does not change: `visible_records` already shows them).
pub async fn fold_in(db: &Db, import_id: &str) -> sqlx::Result<u64> {
    in_steps(
        db,
        "UPDATE records SET current_version = next_version, next_version = NULL, next_import = NULL
          WHERE next_import = $1
            AND id IN (SELECT id FROM records WHERE next_import = $1 LIMIT $2)",
        import_id,
    )
    .await
}

/// Applied imports with versions not yet folded in (a server stopped
/// between applying and folding, or folding is still under way), of one
/// department or of all.
pub async fn unfolded(db: &Db, department_id: Option<&str>) -> sqlx::Result<Vec<String>> {
    let mut conn = db.read().await?;
    sqlx::query_scalar(
        "SELECT DISTINCT r.next_import FROM records r
           JOIN imports i ON i.id = r.next_import
          WHERE i.status = $1 AND ($2 IS NULL OR i.department_id = $2)",
    )
    .bind(import_status::APPLIED)
    .bind(department_id)
    .fetch_all(&mut *conn)
    .await
}

/// Removes everything a not-applied import wrote — its versions, the
/// records and subjects it created (subjects only where nothing else has
/// come to refer to them), its rejected rows — and its log row.
pub async fn roll_back(db: &Db, import_id: &str) -> anyhow::Result<()> {
    // Claimed first: an import being applied meanwhile keeps its status,
    // and one claimed here can no longer be applied (see finish_import).
    let mut tx = db.begin_write().await?;
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM imports WHERE id = $1")
        .bind(import_id)
        .fetch_optional(&mut *tx)
        .await?;
    match status.as_deref() {
        None => return Ok(()),
        Some(import_status::RUNNING | import_status::ROLLING_BACK) => {}
        Some(s) => anyhow::bail!("import {import_id} is {s}; only a running import is rolled back"),
    }
    sqlx::query("UPDATE imports SET status = $1 WHERE id = $2")
        .bind(import_status::ROLLING_BACK)
        .bind(import_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    // A pending version is never current: the import was not applied.
    in_steps(
        db,
        "DELETE FROM record_versions WHERE import_id = $1 AND record_id IN
           (SELECT record_id FROM record_versions WHERE import_id = $1 LIMIT $2)",
        import_id,
    )
    .await?;
    in_steps(
        db,
        "DELETE FROM records WHERE next_import = $1 AND current_version = 0 AND id IN
           (SELECT id FROM records WHERE next_import = $1 AND current_version = 0 LIMIT $2)",
        import_id,
    )
    .await?;
    in_steps(
        db,
        "UPDATE records SET next_version = NULL, next_import = NULL
          WHERE next_import = $1
            AND id IN (SELECT id FROM records WHERE next_import = $1 LIMIT $2)",
        import_id,
    )
    .await?;
    // Subjects registered by the import that nothing has come to refer to
    // meanwhile. Should one be referred to in a way not listed here, it
    // stays registered (a subject without records is harmless).
    if let Err(e) = remove_unused_subjects(db, import_id).await {
        tracing::warn!(import = import_id, error = %e, "subjects of a rolled back import kept");
    }
    let mut tx = db.begin_write().await?;
    // Subjects kept because they are used now belong to nobody's import.
    sqlx::query("UPDATE subjects SET created_by_import = NULL WHERE created_by_import = $1")
        .bind(import_id)
        .execute(&mut *tx)
        .await?;
    for table in ["import_errors", "import_conflicts"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE import_id = $1"
        )))
        .bind(import_id)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("DELETE FROM imports WHERE id = $1")
        .bind(import_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn remove_unused_subjects(db: &Db, import_id: &str) -> sqlx::Result<()> {
    const UNUSED: &str = "SELECT s.id FROM subjects s
          WHERE s.created_by_import = $1
            AND NOT EXISTS (SELECT 1 FROM records r WHERE r.subject_id = s.id)
            AND NOT EXISTS (SELECT 1 FROM verifications v WHERE v.subject_id = s.id)
            AND NOT EXISTS (SELECT 1 FROM consents c WHERE c.subject_id = s.id)
            AND NOT EXISTS (SELECT 1 FROM query_log q WHERE q.subject_id = s.id)
            AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.subject_id = s.id)
            AND NOT EXISTS (SELECT 1 FROM households h WHERE h.subject_id = s.id OR h.head_id = s.id)
            AND NOT EXISTS (SELECT 1 FROM household_members m
                             WHERE m.household_id = s.id OR m.person_id = s.id)
          ORDER BY s.id LIMIT $2";
    loop {
        let mut tx = db.begin_write().await?;
        let ids: Vec<String> = sqlx::query_scalar(UNUSED)
            .bind(import_id)
            .bind(STEP)
            .fetch_all(&mut *tx)
            .await?;
        if ids.is_empty() {
            return Ok(());
        }
        for table in ["persons", "organisations", "subjects"] {
            let key = if table == "subjects" {
                "id"
            } else {
                "subject_id"
            };
            let sql = format!("DELETE FROM {table} WHERE {key} IN (SELECT id FROM ({UNUSED}) u)");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(import_id)
                .bind(STEP)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    }
}

/// Rolls back abandoned imports and folds in applied ones a stopped server
/// left unfolded; run at start-up.
pub async fn recover(db: &Db, now_ms: i64) -> anyhow::Result<()> {
    for id in abandoned(db, now_ms).await? {
        tracing::warn!(import = id, "rolling back an abandoned import");
        roll_back(db, &id).await?;
    }
    for id in unfolded(db, None).await? {
        fold_in(db, &id).await?;
    }
    Ok(())
}
