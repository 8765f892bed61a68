//! Idempotency keys: a create request carries a client-generated request id;
//! the id, a hash of the request and what was created are stored in the same
//! transaction as the creation, so a retry finds the first result.

use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use crate::errors::{ApiError, ApiResult};

/// Hashes a request's content with its request id blanked, so a retry with
/// the same content matches and a reuse with other content does not.
pub fn request_hash<M: prost::Message + Clone>(
    request: &M,
    clear_id: impl FnOnce(&mut M),
) -> String {
    let mut copy = request.clone();
    clear_id(&mut copy);
    hex::encode(Sha256::digest(copy.encode_to_vec()))
}

pub struct Key<'a> {
    pub operator_id: &'a str,
    pub request_id: &'a str,
    pub method: &'a str,
    pub request_hash: &'a str,
}

/// The id of what an earlier request with this key created, if any. A key
/// reused with other content is an error.
pub async fn find(conn: &mut AnyConnection, key: &Key<'_>) -> ApiResult<Option<String>> {
    let row: Option<(String, String, String)> = sqlx::query_as(
        "SELECT method, request_hash, resource_id FROM idempotency_keys
          WHERE operator_id = $1 AND request_id = $2",
    )
    .bind(key.operator_id)
    .bind(key.request_id)
    .fetch_optional(conn)
    .await?;
    match row {
        None => Ok(None),
        Some((method, hash, id)) if method == key.method && hash == key.request_hash => {
            Ok(Some(id))
        }
        Some(_) => Err(ApiError::RequestIdReused),
    }
}

pub async fn remember(
    conn: &mut AnyConnection,
    key: &Key<'_>,
    resource_id: &str,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO idempotency_keys (operator_id, request_id, method, request_hash, resource_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(key.operator_id)
    .bind(key.request_id)
    .bind(key.method)
    .bind(key.request_hash)
    .bind(resource_id)
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(())
}
