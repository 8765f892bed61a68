//! Department records and their versions, and the import log.

use chrono::NaiveDate;
use sqlx::AnyConnection;

use super::column::{Flag, OptText};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CategoryRow {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    #[sqlx(try_from = "Flag")]
    pub negative: bool,
}

pub async fn categories(conn: &mut AnyConnection) -> sqlx::Result<Vec<CategoryRow>> {
    sqlx::query_as("SELECT code, name_zh, name_en, negative FROM record_categories ORDER BY sort")
        .fetch_all(conn)
        .await
}

#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct ImportRow {
    pub id: String,
    pub department_id: String,
    pub department_name: String,
    pub file_name: String,
    pub file_hash: String,
    pub operator_name: Option<String>,
    pub finished_at: i64,
    pub status: String,
    pub rows_total: i64,
    pub rows_accepted: i64,
    pub rows_rejected: i64,
    pub records_created: i64,
    pub records_updated: i64,
    pub records_unchanged: i64,
    pub subjects_created: i64,
    /// The delivery period an applied import meets (e.g. `2026H1`).
    #[sqlx(default)]
    pub period: Option<String>,
}

pub async fn insert_import(
    conn: &mut AnyConnection,
    i: &ImportRow,
    operator_id: Option<&str>,
    started_at: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO imports (id, department_id, file_name, file_hash, operator_id, started_at, finished_at,
             status, rows_total, rows_accepted, rows_rejected, records_created, records_updated,
             records_unchanged, subjects_created)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&i.id)
    .bind(&i.department_id)
    .bind(&i.file_name)
    .bind(&i.file_hash)
    .bind(operator_id)
    .bind(started_at)
    .bind(i.finished_at)
    .bind(&i.status)
    .bind(i.rows_total)
    .bind(i.rows_accepted)
    .bind(i.rows_rejected)
    .bind(i.records_created)
    .bind(i.records_updated)
    .bind(i.records_unchanged)
    .bind(i.subjects_created)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes a running import's final status and counts; false when it is no
/// longer running (it was judged abandoned and is being rolled back).
pub async fn finish_import(conn: &mut AnyConnection, i: &ImportRow) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE imports SET status = $1, rows_total = $2, rows_accepted = $3, rows_rejected = $4,
             records_created = $5, records_updated = $6, records_unchanged = $7, subjects_created = $8,
             period = $10
          WHERE id = $9 AND status = $11",
    )
    .bind(&i.status)
    .bind(i.rows_total)
    .bind(i.rows_accepted)
    .bind(i.rows_rejected)
    .bind(i.records_created)
    .bind(i.records_updated)
    .bind(i.records_unchanged)
    .bind(i.subjects_created)
    .bind(&i.id)
    .bind(i.period.as_deref())
    .bind(credit_desk_proto::words::import_status::RUNNING)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores rejected rows (row, column, reason) of an import.
pub async fn insert_import_errors(
    conn: &mut AnyConnection,
    import_id: &str,
    errors: &[(i64, String, String)],
) -> sqlx::Result<()> {
    let rows: Vec<Vec<super::bulk::V>> = errors
        .iter()
        .map(|(row, column, reason)| {
            vec![
                import_id.into(),
                (*row).into(),
                column.as_str().into(),
                reason.as_str().into(),
            ]
        })
        .collect();
    super::bulk::insert(conn, &super::bulk::IMPORT_ERRORS, &rows).await
}

/// A row of a file about a record an objection decided, held back.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub row: u32,
    pub record_id: String,
    pub source_key: String,
    pub ticket_no: String,
    pub file_value: String,
    pub decided_value: String,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub amount_cents: Option<i64>,
    pub status: String,
    pub negative: bool,
    pub details: String,
    pub content_hash: String,
}

pub async fn insert_import_conflicts(
    conn: &mut AnyConnection,
    import_id: &str,
    conflicts: &[Conflict],
) -> sqlx::Result<()> {
    use super::bulk::V;
    let rows: Vec<Vec<V>> = conflicts
        .iter()
        .map(|c| {
            vec![
                import_id.into(),
                V::I(i64::from(c.row)),
                c.record_id.as_str().into(),
                c.ticket_no.as_str().into(),
                c.file_value.as_str().into(),
                c.decided_value.as_str().into(),
                c.start_date.map(super::column::date_text).into(),
                c.end_date.map(super::column::date_text).into(),
                c.amount_cents.into(),
                c.status.as_str().into(),
                V::I(i64::from(c.negative)),
                c.details.as_str().into(),
                c.content_hash.as_str().into(),
            ]
        })
        .collect();
    super::bulk::insert(conn, &super::bulk::IMPORT_CONFLICTS, &rows).await
}

/// A held-back row and the department of its import.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HeldRow {
    /// The import's status: a dry run's rows are only shown, never taken.
    pub import_status: String,
    pub record_id: String,
    pub ticket_no: String,
    pub department_id: String,
    #[sqlx(try_from = "OptText")]
    pub start_date: Option<NaiveDate>,
    #[sqlx(try_from = "OptText")]
    pub end_date: Option<NaiveDate>,
    pub amount_cents: Option<i64>,
    pub status: String,
    #[sqlx(try_from = "Flag")]
    pub negative: bool,
    pub details: String,
    pub content_hash: String,
    /// The record was deleted by an objection.
    pub deleted_at: Option<i64>,
}

pub async fn held_row(
    conn: &mut AnyConnection,
    import_id: &str,
    row: u32,
) -> sqlx::Result<Option<HeldRow>> {
    sqlx::query_as(
        "SELECT i.status AS import_status, c.record_id, c.ticket_no, i.department_id, c.start_date, c.end_date, c.amount_cents,
                c.status, c.negative, c.details, c.content_hash, r.deleted_at
           FROM import_conflicts c
           JOIN imports i ON i.id = c.import_id
           JOIN records r ON r.id = c.record_id
          WHERE c.import_id = $1 AND c.row_number = $2",
    )
    .bind(import_id)
    .bind(i64::from(row))
    .fetch_optional(conn)
    .await
}

/// A version that a person's decision makes the record's current one (an
/// objection's correction, a held-back import row taken after all).
pub struct DecidedVersion<'a> {
    pub record_id: &'a str,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub amount_cents: Option<i64>,
    pub status: &'a str,
    pub negative: bool,
    pub details: &'a str,
    pub content_hash: &'a str,
    pub import_id: Option<&'a str>,
    pub ticket_id: Option<&'a str>,
    pub operator_id: &'a str,
    pub now_ms: i64,
}

/// Adds `v` as the record's newest version and makes it current; returns
/// its number. The record's row is locked first (PostgreSQL; SQLite has one
/// writer) and the number is above every version the record has, an
/// import's pending one too, so no two writers pick the same number, and a
/// decision replaces what an import still being written would have made
/// current.
pub async fn add_decided_version(
    conn: &mut AnyConnection,
    v: DecidedVersion<'_>,
) -> sqlx::Result<i64> {
    sqlx::query("UPDATE records SET updated_at = updated_at WHERE id = $1")
        .bind(v.record_id)
        .execute(&mut *conn)
        .await?;
    let version: i64 =
        sqlx::query_scalar("SELECT MAX(version) + 1 FROM record_versions WHERE record_id = $1")
            .bind(v.record_id)
            .fetch_one(&mut *conn)
            .await?;
    sqlx::query(
        "INSERT INTO record_versions (record_id, version, start_date, end_date, amount_cents,
                                      status, negative, details, content_hash, import_id,
                                      created_at, created_by, ticket_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(v.record_id)
    .bind(version)
    .bind(v.start_date)
    .bind(v.end_date)
    .bind(v.amount_cents)
    .bind(v.status)
    .bind(i64::from(v.negative))
    .bind(v.details)
    .bind(v.content_hash)
    .bind(v.import_id)
    .bind(v.now_ms)
    .bind(v.operator_id)
    .bind(v.ticket_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE records SET current_version = $1, updated_at = $2, next_version = NULL,
                            next_import = NULL
          WHERE id = $3",
    )
    .bind(version)
    .bind(v.now_ms)
    .bind(v.record_id)
    .execute(conn)
    .await?;
    Ok(version)
}

/// Makes a held-back row the record's newest version (naming the import
/// and the objection whose decision it replaces), and clears the row.
/// Returns the new version.
pub async fn accept_held_row(
    conn: &mut AnyConnection,
    import_id: &str,
    row: u32,
    held: &HeldRow,
    operator_id: &str,
    now_ms: i64,
) -> sqlx::Result<i64> {
    let ticket_id: Option<String> =
        sqlx::query_scalar("SELECT id FROM tickets WHERE ticket_no = $1")
            .bind(&held.ticket_no)
            .fetch_optional(&mut *conn)
            .await?;
    let version = add_decided_version(
        conn,
        DecidedVersion {
            record_id: &held.record_id,
            start_date: held.start_date.map(super::column::date_text),
            end_date: held.end_date.map(super::column::date_text),
            amount_cents: held.amount_cents,
            status: &held.status,
            negative: held.negative,
            details: &held.details,
            content_hash: &held.content_hash,
            import_id: Some(import_id),
            ticket_id: ticket_id.as_deref(),
            operator_id,
            now_ms,
        },
    )
    .await?;
    sqlx::query("DELETE FROM import_conflicts WHERE import_id = $1 AND row_number = $2")
        .bind(import_id)
        .bind(i64::from(row))
        .execute(&mut *conn)
        .await?;
    Ok(version)
}

/// Every rejected row of an import: (row, column, reason), in row order.
pub async fn import_errors(
    conn: &mut AnyConnection,
    import_id: &str,
) -> sqlx::Result<Vec<(i64, String, String)>> {
    sqlx::query_as(
        "SELECT row_number, column_name, reason FROM import_errors
          WHERE import_id = $1 ORDER BY row_number",
    )
    .bind(import_id)
    .fetch_all(conn)
    .await
}

/// Makes `version` the record's current one.
pub async fn set_current_version(
    conn: &mut AnyConnection,
    record_id: &str,
    version: i64,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE records SET current_version = $1, updated_at = $2 WHERE id = $3")
        .bind(version)
        .bind(now_ms)
        .bind(record_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Latest imports of the departments under `scope_path`.
pub async fn recent_imports(
    conn: &mut AnyConnection,
    scope_path: &str,
    limit: i64,
) -> sqlx::Result<Vec<ImportRow>> {
    sqlx::query_as(
        "SELECT i.id, i.department_id, u.name AS department_name, i.file_name, i.file_hash,
                o.display_name AS operator_name, i.finished_at, i.status, i.rows_total, i.rows_accepted,
                i.rows_rejected, i.records_created, i.records_updated, i.records_unchanged, i.subjects_created
           FROM imports i
           JOIN org_units u ON u.id = i.department_id
           LEFT JOIN operators o ON o.id = i.operator_id
          WHERE u.path LIKE $1
          ORDER BY i.finished_at DESC LIMIT $2",
    )
    .bind(super::org_units::prefix_pattern(scope_path))
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// A row still held back for a person's decision, and its import.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingConflict {
    pub import_id: String,
    pub department_name: String,
    pub file_name: String,
    pub finished_at: i64,
    pub row_number: i64,
    pub source_key: String,
    pub ticket_no: String,
    pub file_value: String,
    pub decided_value: String,
}

/// Held-back rows of finished imports in the caller's part of the tree
/// that a person can still take (the record not deleted meanwhile),
/// newest import first (at most `limit`).
pub async fn pending_conflicts(
    conn: &mut AnyConnection,
    scope_path: &str,
    limit: i64,
) -> sqlx::Result<Vec<PendingConflict>> {
    sqlx::query_as(
        "SELECT c.import_id, u.name AS department_name, i.file_name, i.finished_at, c.row_number,
                r.source_key, c.ticket_no, c.file_value, c.decided_value
           FROM import_conflicts c
           JOIN imports i ON i.id = c.import_id
           JOIN org_units u ON u.id = i.department_id
           JOIN records r ON r.id = c.record_id
          WHERE u.path LIKE $1 AND i.status IN ('applied', 'no_change')
            AND r.deleted_at IS NULL
          ORDER BY i.finished_at DESC, c.import_id, c.row_number LIMIT $2",
    )
    .bind(super::org_units::prefix_pattern(scope_path))
    .bind(limit)
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecordOwner {
    pub subject_id: String,
    pub source_unit_id: String,
    pub deleted_at: Option<i64>,
}

/// Whose record this is and which department delivered it.
pub async fn owner(conn: &mut AnyConnection, record_id: &str) -> sqlx::Result<Option<RecordOwner>> {
    sqlx::query_as(
        "SELECT subject_id, source_unit_id, deleted_at FROM visible_records WHERE id = $1",
    )
    .bind(record_id)
    .fetch_optional(conn)
    .await
}

/// Departments (id, name) and the periods they delivered among `periods`.
pub async fn deliveries(
    conn: &mut AnyConnection,
) -> sqlx::Result<Vec<(String, String, Option<String>)>> {
    sqlx::query_as(
        "SELECT u.id, u.name, i.period
           FROM org_units u
           LEFT JOIN imports i ON i.department_id = u.id AND i.period IS NOT NULL
                              AND i.status IN ('applied', 'no_change')
          WHERE u.kind = 'department'
          ORDER BY u.code",
    )
    .fetch_all(conn)
    .await
}

/// A record's current version, found by the department's key.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CurrentVersion {
    pub source_key: String,
    pub id: String,
    /// The highest version the record has, so a new one never takes a
    /// number a correction took meanwhile.
    pub current_version: i64,
    pub content_hash: String,
    #[sqlx(try_from = "OptText")]
    pub start_date: Option<NaiveDate>,
    #[sqlx(try_from = "OptText")]
    pub end_date: Option<NaiveDate>,
    pub amount_cents: Option<i64>,
    pub status: String,
    #[sqlx(try_from = "Flag")]
    pub negative: bool,
    pub details: String,
    /// The objection that last corrected the record, if one did.
    pub corrected_by: Option<String>,
    /// The objection that deleted the record, if one did.
    pub deleted_by: Option<String>,
}

/// The current versions of a department's records among `keys` (any
/// number of keys, looked up in chunks).
pub async fn current_by_keys(
    conn: &mut AnyConnection,
    department_id: &str,
    keys: &[String],
) -> sqlx::Result<Vec<CurrentVersion>> {
    let select = "SELECT r.source_key, r.id,
                         (SELECT MAX(x.version) FROM record_versions x WHERE x.record_id = r.id)
                             AS current_version,
                         v.content_hash, v.start_date, v.end_date, v.amount_cents, v.status,
                         v.negative, v.details,
                         (SELECT t.ticket_no FROM record_versions d JOIN tickets t ON t.id = d.ticket_id
                           WHERE d.record_id = r.id ORDER BY d.version DESC LIMIT 1) AS corrected_by,
                         dt.ticket_no AS deleted_by
                    FROM visible_records r
                    JOIN record_versions v ON v.record_id = r.id AND v.version = r.current_version
                    LEFT JOIN tickets dt ON dt.id = r.deleted_by_ticket
                   WHERE r.source_unit_id = $1 AND r.source_key IN ";
    let rows = super::bulk::fetch_in(conn, select, &[department_id.into()], keys).await?;
    rows.iter().map(sqlx::FromRow::from_row).collect()
}
