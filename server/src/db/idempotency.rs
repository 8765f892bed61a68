//! Idempotency keys: a create request carries a client-generated request id;
//! the id, a hash of the request and what was created are stored in the same
//! transaction as the creation, so a retry finds the first result.

use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use credit_desk_proto::validate::{self, FieldError, field};

use crate::errors::{ApiError, ApiResult};

/// An idempotency key: who sent which request id to which method, and a
/// hash of the request's content with its request id blanked, so a retry
/// with the same content matches and a reuse with other content does not.
#[derive(Debug, Clone)]
pub struct Key {
    pub operator_id: String,
    /// Canonical: the one hyphenated lower-case spelling of the UUID.
    pub request_id: String,
    pub method: &'static str,
    pub request_hash: String,
}

impl Key {
    /// The key of a create request. The request id (the field `id_of`
    /// points at) is parsed as a UUID and printed again, so the same id
    /// written in upper case, in braces or without dashes is one request.
    pub fn of<M: prost::Message + Clone>(
        operator_id: &str,
        method: &'static str,
        request: &M,
        id_of: impl Fn(&mut M) -> &mut String,
    ) -> Result<Key, FieldError> {
        let mut copy = request.clone();
        let request_id = validate::canonical_uuid(field::REQUEST_ID, id_of(&mut copy))?;
        id_of(&mut copy).clear();
        Ok(Key {
            operator_id: operator_id.to_string(),
            request_id,
            method,
            request_hash: hex::encode(Sha256::digest(copy.encode_to_vec())),
        })
    }
}

/// A hash of a request's content without the part `clear` blanks (used to
/// tell whether a queue refresh asks for the same filters).
pub fn content_hash<M: prost::Message + Clone>(request: &M, clear: impl FnOnce(&mut M)) -> String {
    let mut copy = request.clone();
    clear(&mut copy);
    hex::encode(Sha256::digest(copy.encode_to_vec()))
}

/// The id of what an earlier request with this key created, if any. A key
/// reused with other content is an error.
pub async fn find(conn: &mut AnyConnection, key: &Key) -> ApiResult<Option<String>> {
    let row: Option<(String, String, String)> = sqlx::query_as(
        "SELECT method, request_hash, resource_id FROM idempotency_keys
          WHERE operator_id = $1 AND request_id = $2",
    )
    .bind(&key.operator_id)
    .bind(&key.request_id)
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
    key: &Key,
    resource_id: &str,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO idempotency_keys (operator_id, request_id, method, request_hash, resource_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&key.operator_id)
    .bind(&key.request_id)
    .bind(key.method)
    .bind(&key.request_hash)
    .bind(resource_id)
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(())
}
