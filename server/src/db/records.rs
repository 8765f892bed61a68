//! Department records and their versions, and the import log.

use sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CurrentRecord {
    pub id: String,
    pub subject_id: String,
    pub current_version: i64,
    pub content_hash: String,
}

pub async fn current(
    conn: &mut AnyConnection,
    source_unit_id: &str,
    source_key: &str,
) -> sqlx::Result<Option<CurrentRecord>> {
    sqlx::query_as(
        "SELECT r.id, r.subject_id, r.current_version, v.content_hash
           FROM records r
           JOIN record_versions v ON v.record_id = r.id AND v.version = r.current_version
          WHERE r.source_unit_id = $1 AND r.source_key = $2",
    )
    .bind(source_unit_id)
    .bind(source_key)
    .fetch_optional(conn)
    .await
}

pub struct NewRecord<'a> {
    pub id: &'a str,
    pub subject_id: &'a str,
    pub category: &'a str,
    pub source_unit_id: &'a str,
    pub source_key: &'a str,
    pub now_ms: i64,
}

pub async fn insert(conn: &mut AnyConnection, r: NewRecord<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO records (id, subject_id, category, source_unit_id, source_key, current_version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 0, $6, $6)",
    )
    .bind(r.id)
    .bind(r.subject_id)
    .bind(r.category)
    .bind(r.source_unit_id)
    .bind(r.source_key)
    .bind(r.now_ms)
    .execute(conn)
    .await?;
    Ok(())
}

pub struct NewVersion<'a> {
    pub record_id: &'a str,
    pub version: i64,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub amount_cents: Option<i64>,
    pub status: &'a str,
    pub negative: bool,
    pub details: &'a str,
    pub content_hash: &'a str,
    pub import_id: Option<&'a str>,
    pub created_by: Option<&'a str>,
    pub now_ms: i64,
}

/// Adds a version and makes it the record's current one.
pub async fn add_version(conn: &mut AnyConnection, v: NewVersion<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO record_versions (record_id, version, start_date, end_date, amount_cents, status,
             negative, details, content_hash, import_id, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(v.record_id)
    .bind(v.version)
    .bind(v.start_date)
    .bind(v.end_date)
    .bind(v.amount_cents)
    .bind(v.status)
    .bind(i64::from(v.negative))
    .bind(v.details)
    .bind(v.content_hash)
    .bind(v.import_id)
    .bind(v.now_ms)
    .bind(v.created_by)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE records SET current_version = $1, updated_at = $2 WHERE id = $3")
        .bind(v.version)
        .bind(v.now_ms)
        .bind(v.record_id)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CategoryRow {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub negative: i64,
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

/// Writes an import's final counts and its rejected rows
/// (row, column, reason).
pub async fn finish_import(
    conn: &mut AnyConnection,
    i: &ImportRow,
    errors: &[(i64, &str, &str)],
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE imports SET status = $1, rows_total = $2, rows_accepted = $3, rows_rejected = $4,
             records_created = $5, records_updated = $6, records_unchanged = $7, subjects_created = $8
          WHERE id = $9",
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
    .execute(&mut *conn)
    .await?;
    for (row, column, reason) in errors {
        sqlx::query(
            "INSERT INTO import_errors (import_id, row_number, column_name, reason) VALUES ($1, $2, $3, $4)",
        )
        .bind(&i.id)
        .bind(*row)
        .bind(*column)
        .bind(*reason)
        .execute(&mut *conn)
        .await?;
    }
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

pub async fn count_records(conn: &mut AnyConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM records")
        .fetch_one(conn)
        .await
}

pub async fn count_versions(conn: &mut AnyConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM record_versions")
        .fetch_one(conn)
        .await
}
