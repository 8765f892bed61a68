//! The tower layer in front of every gRPC service: finds the method's access
//! rule ([`crate::authz`]), authenticates the bearer token against the
//! sessions table, enforces the rule, and hands the service a [`Caller`].
//! Services never see an unauthenticated request for a non-public method.

use std::task::{Context as TaskContext, Poll};

use credit_desk_proto::{LANG_METADATA_KEY, Lang};
use futures::future::BoxFuture;
use tonic::body::Body;
use tower::{Layer, Service};

use crate::authz::{self, Access, Caller, Refusal};
use crate::context::Ctx;
use crate::db::{operators, sessions};
use crate::errors::{ApiError, ApiResult};
use crate::token;

/// Sessions record their last call at most this often, to keep a busy
/// session from writing on every request …
const TOUCH_EVERY_MS: i64 = 60_000;

/// … and at least ten times per idle limit, so a session in use never
/// expires for want of a refresh, however short the limit.
fn touch_due(now: i64, last_seen: i64, idle_ms: i64) -> bool {
    now - last_seen >= TOUCH_EVERY_MS.min(idle_ms / 10)
}

#[derive(Clone)]
pub struct AuthLayer {
    ctx: Ctx,
}

impl AuthLayer {
    pub fn new(ctx: Ctx) -> Self {
        AuthLayer { ctx }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            ctx: self.ctx.clone(),
        }
    }
}

#[derive(Clone)]
pub struct AuthService<S> {
    inner: S,
    ctx: Ctx,
}

pub fn request_lang<B>(req: &http::Request<B>) -> Lang {
    req.headers()
        .get(LANG_METADATA_KEY)
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_tag)
        .unwrap_or_default()
}

impl<S, B> Service<http::Request<B>> for AuthService<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        // The clone is not ready; keep the ready one for this call (tower's
        // documented pattern).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let ctx = self.ctx.clone();
        Box::pin(async move {
            let started = std::time::Instant::now();
            let path = req.uri().path().to_owned();
            let access = authz::access_for(&path);
            let resp = answer(&mut inner, &ctx, access, req).await?;
            // gRPC puts an error's status in the headers (trailers-only);
            // an answer without one is OK.
            let outcome = resp
                .headers()
                .get("grpc-status")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<i32>().ok())
                .map_or("Ok".to_string(), |c| {
                    format!("{:?}", tonic::Code::from_i32(c))
                });
            let known = access != Access::Unknown;
            crate::metrics::observe(&path, known, &outcome, started.elapsed().as_secs_f64());
            Ok(resp)
        })
    }
}

/// Authenticates and authorises a call, then passes it on.
async fn answer<S, B>(
    inner: &mut S,
    ctx: &Ctx,
    access: Access,
    mut req: http::Request<B>,
) -> Result<http::Response<Body>, S::Error>
where
    S: Service<http::Request<B>, Response = http::Response<Body>>,
{
    let lang = request_lang(&req);
    if access != Access::Public {
        let token = crate::token::from_headers(req.headers());
        let caller = match authenticate(ctx, token.as_deref(), lang).await {
            Ok(caller) => caller,
            Err(e) => {
                tracing::info!(path = req.uri().path(), error = %e, "refused");
                return Ok(e.into_status(lang).into_http());
            }
        };
        if let Err(r) = authz::check(access, &caller) {
            // Who was refused matters to the supervisor reading the log.
            tracing::info!(
                path = req.uri().path(),
                operator = caller.username,
                unit = caller.org_unit_id,
                refusal = ?r,
                "refused"
            );
            return Ok(refusal_error(r).into_status(lang).into_http());
        }
        req.extensions_mut().insert(caller);
    }
    let path = req.uri().path().to_owned();
    let resp = inner.call(req).await?;
    Ok(undecodable_is_bad_input(resp, lang, &path))
}

/// tonic answers a request it cannot decode with INTERNAL, and one past the
/// size limit with OUT_OF_RANGE, before any handler runs and without
/// details; every status of ours carries details. Such an answer is the
/// client's doing: INVALID_ARGUMENT naming the request, and a log line with
/// the cause under an incident id.
fn undecodable_is_bad_input(
    resp: http::Response<Body>,
    lang: Lang,
    path: &str,
) -> http::Response<Body> {
    use credit_desk_proto::validate::{FieldError, Rule, field};
    let headers = resp.headers();
    if headers.contains_key("grpc-status-details-bin") {
        return resp;
    }
    let rule = match headers.get("grpc-status").map(|v| v.as_bytes()) {
        Some(b"13") => Rule::Undecodable,
        Some(b"11") => Rule::TooLong {
            max: crate::limits::max_request_bytes(path),
        },
        _ => return resp,
    };
    let cause = headers
        .get("grpc-message")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let incident = crate::errors::incident_id();
    tracing::warn!(incident, path, cause, "request refused before decoding");
    ApiError::from(FieldError::new(field::REQUEST, rule))
        .into_status(lang)
        .into_http()
}

fn refusal_error(r: Refusal) -> ApiError {
    match r {
        Refusal::PasswordChangeRequired => ApiError::PasswordChangeRequired,
        Refusal::MissingCapability | Refusal::UnknownMethod => ApiError::PermissionDenied,
    }
}

/// Turns a session token into the operator behind it, enforcing
/// revocation, absolute and idle expiry, and the enabled flag.
pub async fn authenticate(ctx: &Ctx, token: Option<&str>, lang: Lang) -> ApiResult<Caller> {
    let token = token.ok_or(ApiError::Unauthenticated)?;
    let token_hash = token::token_hash(token);
    let now = ctx.now_ms();
    let mut conn = ctx.db.read().await?;
    let session = sessions::get(&mut conn, &token_hash)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    if session.revoked_at.is_some() {
        return Err(ApiError::Unauthenticated);
    }
    if now >= session.expires_at || now - session.last_seen_at >= ctx.sessions.idle_ms {
        return Err(ApiError::SessionExpired);
    }
    let op = operators::get(&mut conn, &session.operator_id)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    if !op.enabled || op.unit_disabled {
        return Err(ApiError::Disabled);
    }
    if touch_due(now, session.last_seen_at, ctx.sessions.idle_ms) {
        // A write like any other: it waits its turn, holding no reader.
        drop(conn);
        let mut tx = ctx.db.begin_write().await?;
        sessions::touch(&mut tx, &token_hash, now).await?;
        tx.commit().await?;
    }
    Ok(Caller {
        operator_id: op.id,
        username: op.username,
        role: op.role,
        org_unit_id: op.org_unit_id,
        org_unit_path: op.org_unit_path,
        must_change_password: op.must_change_password,
        token_hash,
        terminal: session.terminal,
        lang,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_in_use_is_refreshed_well_within_its_idle_limit() {
        const MIN: i64 = 60_000;
        // 30-minute limit: a write a minute at most.
        assert!(!touch_due(59_999, 0, 30 * MIN));
        assert!(touch_due(MIN, 0, 30 * MIN));
        // 1-minute limit, a call every 10 s: each refreshes (6 s apart at
        // least), so the session never reaches 60 s unseen.
        assert!(touch_due(10_000, 0, MIN));
        assert!(!touch_due(5_000, 0, MIN));
        let mut last_seen = 0;
        for call in 1..=30 {
            let now = call * 10_000;
            assert!(now - last_seen < MIN, "expired at call {call}");
            if touch_due(now, last_seen, MIN) {
                last_seen = now;
            }
        }
    }
}
