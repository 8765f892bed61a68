//! The audit trail of administrative changes, written in the same
//! transaction as the change itself.

use sqlx::AnyConnection;

pub async fn record(
    conn: &mut AnyConnection,
    operator_id: Option<&str>,
    action: &str,
    target: &str,
    detail: &str,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, at, operator_id, action, target, detail)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(super::new_id())
    .bind(now_ms)
    .bind(operator_id)
    .bind(action)
    .bind(target)
    .bind(detail)
    .execute(conn)
    .await?;
    Ok(())
}
