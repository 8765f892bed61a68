//! Sessions live in the database, not in server memory, so any server
//! instance sharing the database can serve any session.

use sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub token_hash: String,
    pub operator_id: String,
    pub terminal: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

pub async fn insert(
    conn: &mut AnyConnection,
    token_hash: &str,
    operator_id: &str,
    terminal: &str,
    now_ms: i64,
    expires_at_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, operator_id, terminal, created_at, last_seen_at, expires_at)
         VALUES ($1, $2, $3, $4, $4, $5)",
    )
    .bind(token_hash)
    .bind(operator_id)
    .bind(terminal)
    .bind(now_ms)
    .bind(expires_at_ms)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, token_hash: &str) -> sqlx::Result<Option<SessionRow>> {
    sqlx::query_as(
        "SELECT token_hash, operator_id, terminal, created_at, last_seen_at, expires_at, revoked_at
           FROM sessions WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(conn)
    .await
}

pub async fn touch(conn: &mut AnyConnection, token_hash: &str, now_ms: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2 AND last_seen_at < $1",
    )
    .bind(now_ms)
    .bind(token_hash)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn revoke(conn: &mut AnyConnection, token_hash: &str, now_ms: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL")
        .bind(now_ms)
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends every live session of the operators of a unit and those below it.
pub async fn revoke_under(
    conn: &mut AnyConnection,
    unit_path: &str,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE sessions SET revoked_at = $1
          WHERE revoked_at IS NULL AND operator_id IN (
                SELECT o.id FROM operators o JOIN org_units u ON u.id = o.org_unit_id
                 WHERE substr(u.path, 1, length($2)) = $2)",
    )
    .bind(now_ms)
    .bind(unit_path)
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends every session of an operator except `keep` (the caller's own, when
/// they change their own password).
pub async fn revoke_all(
    conn: &mut AnyConnection,
    operator_id: &str,
    keep: Option<&str>,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE sessions SET revoked_at = $1
          WHERE operator_id = $2 AND revoked_at IS NULL AND token_hash <> $3",
    )
    .bind(now_ms)
    .bind(operator_id)
    .bind(keep.unwrap_or(""))
    .execute(conn)
    .await?;
    Ok(())
}
