//! Reports as they were issued, sealed (they hold the subject's number) and
//! compressed, for reprints and inspections.

use sqlx::AnyConnection;

pub async fn insert(
    conn: &mut AnyConnection,
    report_no: &str,
    query_log_id: &str,
    issued_at: i64,
    report: &[u8],
) -> sqlx::Result<()> {
    let packed = zstd::bulk::compress(report, 3).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query(
        "INSERT INTO issued_reports (report_no, query_log_id, issued_at, body)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(report_no)
    .bind(query_log_id)
    .bind(issued_at)
    .bind(crate::vault::installed()?.seal_bytes(&packed))
    .execute(conn)
    .await?;
    Ok(())
}

/// An issued report with where it was issued.
pub struct Issued {
    /// The report message as first issued (protobuf).
    pub report: Vec<u8>,
    /// The issuing unit's path (scope checks are a prefix match).
    pub unit_path: String,
}

/// A report is at most this large unpacked (a subject with thousands of
/// records stays far below).
const UNPACKED_MAX: usize = 64 * 1024 * 1024;

pub async fn get(conn: &mut AnyConnection, report_no: &str) -> sqlx::Result<Option<Issued>> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT r.body, u.path FROM issued_reports r
         JOIN query_log q ON q.id = r.query_log_id
         JOIN org_units u ON u.id = q.org_unit_id
         WHERE r.report_no = $1",
    )
    .bind(report_no)
    .fetch_optional(conn)
    .await?;
    let Some((body, unit_path)) = row else {
        return Ok(None);
    };
    let packed = crate::vault::installed()?.open_bytes(&body)?;
    let report = zstd::bulk::decompress(&packed, UNPACKED_MAX)
        .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok(Some(Issued { report, unit_path }))
}
