//! Operators' registered SSH public keys.

use sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SshKeyRow {
    pub id: String,
    pub operator_id: String,
    pub fingerprint: String,
    pub public_key: String,
    pub comment: String,
    pub added_at: i64,
}

pub struct NewKey<'a> {
    pub operator_id: &'a str,
    pub fingerprint: &'a str,
    pub public_key: &'a str,
    pub comment: &'a str,
    pub added_by: Option<&'a str>,
    pub now_ms: i64,
}

pub async fn insert(conn: &mut AnyConnection, key: NewKey<'_>) -> sqlx::Result<SshKeyRow> {
    let id = super::new_id();
    sqlx::query(
        "INSERT INTO operator_ssh_keys (id, operator_id, fingerprint, public_key, comment, added_at, added_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(key.operator_id)
    .bind(key.fingerprint)
    .bind(key.public_key)
    .bind(key.comment)
    .bind(key.now_ms)
    .bind(key.added_by)
    .execute(conn)
    .await?;
    Ok(SshKeyRow {
        id,
        operator_id: key.operator_id.to_string(),
        fingerprint: key.fingerprint.to_string(),
        public_key: key.public_key.to_string(),
        comment: key.comment.to_string(),
        added_at: key.now_ms,
    })
}

/// The operator who registered this key, if any.
pub async fn owner(conn: &mut AnyConnection, fingerprint: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT operator_id FROM operator_ssh_keys WHERE fingerprint = $1")
        .bind(fingerprint)
        .fetch_optional(conn)
        .await
}

pub async fn is_registered(
    conn: &mut AnyConnection,
    operator_id: &str,
    fingerprint: &str,
) -> sqlx::Result<bool> {
    Ok(owner(conn, fingerprint).await?.as_deref() == Some(operator_id))
}

pub async fn of_operator(
    conn: &mut AnyConnection,
    operator_id: &str,
) -> sqlx::Result<Vec<SshKeyRow>> {
    sqlx::query_as(
        "SELECT id, operator_id, fingerprint, public_key, comment, added_at
           FROM operator_ssh_keys WHERE operator_id = $1 ORDER BY added_at, id",
    )
    .bind(operator_id)
    .fetch_all(conn)
    .await
}

/// Removes a key of the operator; whether there was one.
pub async fn remove(
    conn: &mut AnyConnection,
    operator_id: &str,
    fingerprint: &str,
) -> sqlx::Result<bool> {
    let done =
        sqlx::query("DELETE FROM operator_ssh_keys WHERE operator_id = $1 AND fingerprint = $2")
            .bind(operator_id)
            .bind(fingerprint)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() > 0)
}
