//! The query log, report numbers, and what a report reads.

use chrono::NaiveDate;
use sqlx::AnyConnection;

use super::column::{Flag, OptText};

pub struct LogEntry<'a> {
    pub id: &'a str,
    pub at: i64,
    pub operator_id: &'a str,
    pub org_unit_id: &'a str,
    pub terminal: &'a str,
    pub subject_id: &'a str,
    pub basis: &'a str,
    pub consent_id: Option<&'a str>,
    /// The verification a self-query stood on.
    pub verification_id: Option<&'a str>,
    pub purpose: Option<&'a str>,
    pub institution_id: Option<&'a str>,
    pub allowed: bool,
    pub reason: &'a str,
    pub report_no: Option<&'a str>,
    pub fee_applies: bool,
}

pub async fn insert_log(conn: &mut AnyConnection, e: LogEntry<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO query_log (id, at, operator_id, org_unit_id, terminal, subject_id, basis,
             consent_id, purpose, institution_id, outcome, reason, report_no, fee_applies,
             verification_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(e.id)
    .bind(e.at)
    .bind(e.operator_id)
    .bind(e.org_unit_id)
    .bind(e.terminal)
    .bind(e.subject_id)
    .bind(e.basis)
    .bind(e.consent_id)
    .bind(e.purpose)
    .bind(e.institution_id)
    .bind(if e.allowed { "allowed" } else { "refused" })
    .bind(e.reason)
    .bind(e.report_no)
    .bind(i64::from(e.fee_applies))
    .bind(e.verification_id)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LogRow {
    pub id: String,
    pub at: i64,
    pub subject_id: Option<String>,
    pub basis: String,
    pub consent_id: Option<String>,
    pub purpose: Option<String>,
    pub institution_id: Option<String>,
    #[sqlx(try_from = "Flag")]
    pub allowed: bool,
    pub reason: String,
    pub report_no: Option<String>,
    #[sqlx(try_from = "Flag")]
    pub fee_applies: bool,
    pub operator_name: String,
    pub org_unit_name: String,
}

pub async fn get_log(conn: &mut AnyConnection, id: &str) -> sqlx::Result<Option<LogRow>> {
    sqlx::query_as(
        "SELECT q.id, q.at, q.subject_id, q.basis, q.consent_id, q.purpose, q.institution_id,
                CASE WHEN q.outcome = 'allowed' THEN 1 ELSE 0 END AS allowed,
                q.reason, q.report_no, q.fee_applies,
                o.display_name AS operator_name, u.name AS org_unit_name
           FROM query_log q
           JOIN operators o ON o.id = q.operator_id
           JOIN org_units u ON u.id = q.org_unit_id
          WHERE q.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The next report number of `day` (`YYYYMMDD`), counted in the database
/// so that several servers never issue the same one.
pub async fn next_report_number(conn: &mut AnyConnection, day: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO report_counters (day, last) VALUES ($1, 1)
         ON CONFLICT (day) DO UPDATE SET last = report_counters.last + 1
         RETURNING last",
    )
    .bind(day)
    .fetch_one(conn)
    .await
}

/// Gives an allowed attempt its report number (taken last, see RunQuery).
pub async fn set_report_no(
    conn: &mut AnyConnection,
    id: &str,
    report_no: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE query_log SET report_no = $1 WHERE id = $2")
        .bind(report_no)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Allowed self-queries of a subject since `since_ms` (the year's start).
pub async fn self_queries_since(
    conn: &mut AnyConnection,
    subject_id: &str,
    since_ms: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM query_log
          WHERE subject_id = $1 AND basis = 'self' AND outcome = 'allowed' AND at >= $2",
    )
    .bind(subject_id)
    .bind(since_ms)
    .fetch_one(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueryRecordRow {
    pub at: i64,
    pub institution: Option<String>,
    pub purpose_zh: Option<String>,
    pub purpose_en: Option<String>,
    pub operator_name: String,
}

/// The subject's allowed queries since `since_ms`, newest first.
pub async fn query_records(
    conn: &mut AnyConnection,
    subject_id: &str,
    since_ms: i64,
) -> sqlx::Result<Vec<QueryRecordRow>> {
    sqlx::query_as(
        "SELECT q.at, i.name AS institution, p.name_zh AS purpose_zh, p.name_en AS purpose_en,
                o.display_name AS operator_name
           FROM query_log q
           JOIN operators o ON o.id = q.operator_id
           LEFT JOIN org_units i ON i.id = q.institution_id
           LEFT JOIN purposes p ON p.code = q.purpose
          WHERE q.subject_id = $1 AND q.outcome = 'allowed' AND q.at >= $2
          ORDER BY q.at DESC, q.id DESC",
    )
    .bind(subject_id)
    .bind(since_ms)
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportRecordRow {
    pub id: String,
    pub category: String,
    pub source_name: String,
    pub source_key: String,
    #[sqlx(try_from = "OptText")]
    pub start_date: Option<NaiveDate>,
    #[sqlx(try_from = "OptText")]
    pub end_date: Option<NaiveDate>,
    pub amount_cents: Option<i64>,
    pub status: String,
    #[sqlx(try_from = "Flag")]
    pub negative: bool,
    pub details: String,
    pub version: i64,
}

/// Every record of a subject in its current version.
pub async fn records_of(
    conn: &mut AnyConnection,
    subject_id: &str,
) -> sqlx::Result<Vec<ReportRecordRow>> {
    sqlx::query_as(
        "SELECT r.id, r.category, u.name AS source_name, r.source_key, v.start_date, v.end_date,
                v.amount_cents, v.status, v.negative, v.details, v.version
           FROM visible_records r
           JOIN record_versions v ON v.record_id = r.id AND v.version = r.current_version
           JOIN org_units u ON u.id = r.source_unit_id
          WHERE r.subject_id = $1 AND r.deleted_at IS NULL",
    )
    .bind(subject_id)
    .fetch_all(conn)
    .await
}

/// The subject's own words on a record: an explanation (art. 16) or a
/// statement after an unconfirmed check (本人声明).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NoteRow {
    /// A statement by the subject (本人声明) rather than an explanation.
    #[sqlx(try_from = "Flag")]
    pub is_statement: bool,
    pub record_id: String,
    pub text: String,
    pub created_at: i64,
    pub taken_by: String,
}

/// Both kinds of notes on a subject's records, oldest first, in one read.
pub async fn notes_of_subject(
    conn: &mut AnyConnection,
    subject_id: &str,
) -> sqlx::Result<Vec<NoteRow>> {
    sqlx::query_as(
        "SELECT n.is_statement, n.record_id, n.text, n.created_at, o.display_name AS taken_by
           FROM (SELECT CAST(0 AS BIGINT) AS is_statement, record_id, text, created_at, operator_id
                   FROM record_explanations
                 UNION ALL
                 SELECT CAST(1 AS BIGINT), record_id, text, created_at, operator_id
                   FROM record_statements) n
           JOIN visible_records r ON r.id = n.record_id
           JOIN operators o ON o.id = n.operator_id
          WHERE r.subject_id = $1
          ORDER BY n.created_at",
    )
    .bind(subject_id)
    .fetch_all(conn)
    .await
}

pub async fn insert_explanation(
    conn: &mut AnyConnection,
    id: &str,
    record_id: &str,
    text: &str,
    verification_id: &str,
    operator_id: &str,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO record_explanations (id, record_id, text, verification_id, operator_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(record_id)
    .bind(text)
    .bind(verification_id)
    .bind(operator_id)
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(())
}

/// (subject id, negative) of a record in its current version.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecordSubject {
    pub subject_id: String,
    #[sqlx(try_from = "Flag")]
    pub negative: bool,
}

/// Whose a record is, and whether it is negative (in its current version).
pub async fn record_subject(
    conn: &mut AnyConnection,
    record_id: &str,
) -> sqlx::Result<Option<RecordSubject>> {
    sqlx::query_as(
        "SELECT r.subject_id, v.negative FROM visible_records r
           JOIN record_versions v ON v.record_id = r.id AND v.version = r.current_version
          WHERE r.id = $1",
    )
    .bind(record_id)
    .fetch_optional(conn)
    .await
}
