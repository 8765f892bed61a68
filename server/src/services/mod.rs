//! The gRPC services. Each method is thin: read the caller, validate the
//! request with the shared rules, call the repository, convert the result.

/// Unwraps the caller, runs the method, converts the result.
macro_rules! handle {
    ($self:ident, $req:ident, $method:ident) => {{
        let lang = lang(&$req);
        let result = async {
            let caller = caller(&$req)?;
            $self.$method(caller, $req.into_inner()).await
        }
        .await;
        respond(lang, result)
    }};
}

pub mod admin;
mod admin_changes;
pub mod auth;
pub mod complaint;
pub mod consent;
mod convert;
mod daily_review;
mod households;
pub mod identity;
pub mod intake;
pub mod month_report;
pub mod objection;
pub mod query;
mod subject_card;
pub mod supervision;

use credit_desk_proto::Lang;
use sqlx::AnyConnection;
use tonic::{Request, Response, Status};

use credit_desk_proto::validate::{FieldError, Rule, field};

use crate::authz::{self, Caller};
use crate::context::Context;
use crate::db::WriteTx;
use crate::db::idempotency::{self, Key};
use crate::db::subjects::{self, VerificationRow};
use crate::errors::{ApiError, ApiResult};

/// The caller the auth layer authenticated. Its absence means the method is
/// public, which only Login is among ours.
fn caller<T>(req: &Request<T>) -> ApiResult<Caller> {
    req.extensions()
        .get::<Caller>()
        .cloned()
        .ok_or(ApiError::Unauthenticated)
}

fn lang<T>(req: &Request<T>) -> Lang {
    req.metadata()
        .get(credit_desk_proto::LANG_METADATA_KEY)
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_tag)
        .unwrap_or_default()
}

/// Answers shorter than this go uncompressed: a compressed message's own
/// frame header (9 bytes for zstd) outweighs what it could save.
const COMPRESS_FROM_BYTES: usize = 64;

fn respond<T: prost::Message>(lang: Lang, result: ApiResult<T>) -> Result<Response<T>, Status> {
    let answer = result.map_err(|e| e.into_status(lang))?;
    let small = answer.encoded_len() < COMPRESS_FROM_BYTES;
    let mut response = Response::new(answer);
    if small {
        response
            .extensions_mut()
            .insert(tonic::codec::SingleMessageCompressionOverride::Disable);
    }
    Ok(response)
}

/// The verification named by a request, if the caller may use it for an
/// act about `subject_id` (None: the act is about the verified person,
/// whoever that is). Unknown ids and other counters' verifications are
/// refused alike.
async fn usable_verification(
    conn: &mut AnyConnection,
    caller: &Caller,
    id: &str,
    subject_id: Option<&str>,
    now_ms: i64,
) -> ApiResult<VerificationRow> {
    let v = subjects::get_verification(conn, id)
        .await?
        .ok_or_else(|| FieldError::new(field::VERIFICATION_ID, Rule::UnknownValue))?;
    authz::use_verification(caller.actor(), &verification_facts(&v), subject_id, now_ms)?;
    Ok(v)
}

fn verification_facts(v: &VerificationRow) -> authz::VerificationFacts {
    authz::VerificationFacts {
        subject_id: v.subject_id.clone(),
        unit_id: v.org_unit_id.clone(),
        expires_at_ms: v.expires_at,
    }
}

/// Runs `create` in a write transaction at most once per idempotency key.
/// Returns the created resource's id and whether this was a replay.
///
/// A retry that races the first attempt (two servers, one PostgreSQL) loses
/// on a unique constraint; it then finds the winner's key and replays it.
async fn create_once(
    ctx: &Context,
    key: Key,
    create: impl AsyncFnOnce(&mut WriteTx) -> ApiResult<String>,
) -> ApiResult<(String, bool)> {
    let attempt = async {
        let mut tx = ctx.db.begin_write().await?;
        if let Some(id) = idempotency::find(&mut tx, &key).await? {
            return Ok((id, true));
        }
        let id = create(&mut tx).await?;
        idempotency::remember(&mut tx, &key, &id, ctx.now_ms()).await?;
        tx.commit().await?;
        Ok((id, false))
    };
    match attempt.await {
        Ok(done) => Ok(done),
        Err(e) => {
            let mut conn = ctx.db.read().await?;
            match idempotency::find(&mut conn, &key).await? {
                Some(id) => Ok((id, true)),
                None => Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::codec::SingleMessageCompressionOverride as Override;

    /// A compressed frame's header outweighs what a small answer could
    /// save: small answers go as they are, larger ones compressed.
    #[test]
    fn only_answers_worth_compressing_are_compressed() {
        let small = respond(Lang::Zh, Ok(credit_desk_proto::pb::LogoutResponse {})).unwrap();
        assert_eq!(
            small.extensions().get::<Override>(),
            Some(&Override::Disable)
        );
        let large = credit_desk_proto::pb::LoginResponse {
            session_token: "t".repeat(COMPRESS_FROM_BYTES),
            ..Default::default()
        };
        let large = respond(Lang::Zh, Ok(large)).unwrap();
        assert_eq!(large.extensions().get::<Override>(), None);
    }
}
