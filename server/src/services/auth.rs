//! Login, logout, password change and the main menu's data.

use credit_desk_proto::pb::{self, auth_server::Auth};
use credit_desk_proto::validate::{self, FieldError, Rule, field};
use tonic::{Request, Response, Status};

use super::{caller, convert, lang, respond};
use crate::authz::Caller;
use crate::context::Ctx;
use crate::db::operators::{self, attempts};
use crate::db::{audit, org_units, sessions};
use crate::errors::{ApiError, ApiResult};
use crate::{lockout, password, token};

pub struct AuthService {
    ctx: Ctx,
}

impl AuthService {
    pub fn new(ctx: Ctx) -> Self {
        AuthService { ctx }
    }

    async fn home_of(&self, operator_id: &str) -> ApiResult<pb::Home> {
        let mut conn = self.ctx.db.read().await?;
        let op = operators::get(&mut conn, operator_id)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        let unit = org_units::get(&mut conn, &op.org_unit_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("operator {} has no org unit", op.id))?;
        let now = self.ctx.now_ms();
        let mut home = convert::home(&op, &unit, now);
        let actor = crate::authz::Actor {
            role: op.role,
            unit_id: &unit.id,
            unit_path: &unit.path,
        };
        if let Ok(view) = crate::authz::queue_view(actor) {
            let scope = crate::objections::queue_scope(&mut conn, view).await?;
            let calendar = crate::db::calendar::load(&mut conn).await?;
            // Without next year's calendar the counters are left out; the
            // queue itself says which year is missing.
            let warn = crate::objections::warn_days(&mut conn).await?;
            home.queue = crate::objections::queue_stats(&mut conn, &scope, &calendar, now, warn)
                .await?
                .ok();
        }
        Ok(home)
    }

    async fn do_login(&self, req: pb::LoginRequest) -> ApiResult<pb::LoginResponse> {
        let missing = validate::collect([
            required(field::USERNAME, &req.username),
            required(field::PASSWORD, &req.password),
        ]);
        if !missing.is_empty() {
            return Err(ApiError::Validation(missing));
        }
        let username = req.username.trim().to_lowercase();
        let terminal: String = req.terminal.chars().take(64).collect();
        let ctx = &self.ctx;

        let op = {
            let mut conn = ctx.db.read().await?;
            operators::get_by_username(&mut conn, &username).await?
        };
        let now = ctx.now_ms();
        if let Some(until) = op.as_ref().and_then(|o| o.locked_until)
            && lockout::is_locked(now, Some(until))
        {
            return Err(ApiError::Locked { until_ms: until });
        }
        let ok =
            password::verify_blocking(req.password, op.as_ref().map(|o| o.password_hash.clone()))
                .await;
        let now = ctx.now_ms();
        let mut tx = ctx.db.begin_write().await?;
        let op = match op {
            Some(op) if ok => op,
            _ => {
                let op_id = op.as_ref().map(|o| o.id.as_str());
                attempts::record(&mut tx, &username, op_id, false, &terminal, now).await?;
                let mut locked = None;
                if let Some(op) = &op {
                    let since = lockout::count_from(
                        now,
                        attempts::last_success(&mut tx, &op.id).await?,
                        op.locked_until,
                    );
                    let failures = attempts::failures_since(&mut tx, &op.id, since).await?;
                    locked = lockout::lock_after_failure(now, failures);
                    if let Some(until) = locked {
                        operators::set_locked_until(&mut tx, &op.id, until).await?;
                        audit::record(&mut tx, None, "operator.locked", &op.id, &terminal, now)
                            .await?;
                    }
                }
                tx.commit().await?;
                tracing::info!(username, terminal, "login failed");
                return Err(match locked {
                    Some(until_ms) => ApiError::Locked { until_ms },
                    None => ApiError::BadCredentials,
                });
            }
        };
        if !op.enabled {
            return Err(ApiError::Disabled);
        }
        let token = token::new_token();
        let expires_at = now + ctx.sessions.absolute_ms;
        sessions::insert(
            &mut tx,
            &token::token_hash(&token),
            &op.id,
            &terminal,
            now,
            expires_at,
        )
        .await?;
        attempts::record(&mut tx, &username, Some(&op.id), true, &terminal, now).await?;
        tx.commit().await?;
        tracing::info!(username, terminal, "login");
        Ok(pb::LoginResponse {
            session_token: token,
            expires_at_ms: expires_at,
            idle_timeout_s: (ctx.sessions.idle_ms / 1000) as u32,
            home: Some(self.home_of(&op.id).await?),
        })
    }

    async fn do_change_password(
        &self,
        caller: Caller,
        req: pb::ChangePasswordRequest,
    ) -> ApiResult<pb::ChangePasswordResponse> {
        let ctx = &self.ctx;
        let mut errors = validate::collect([
            required(field::CURRENT_PASSWORD, &req.current_password),
            validate::new_password(field::NEW_PASSWORD, &req.new_password, &caller.username),
        ]);
        if errors.is_empty() && req.current_password == req.new_password {
            errors.push(FieldError::new(
                field::NEW_PASSWORD,
                Rule::PasswordUnchanged,
            ));
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let stored = {
            let mut conn = ctx.db.read().await?;
            operators::get(&mut conn, &caller.operator_id)
                .await?
                .ok_or(ApiError::Unauthenticated)?
                .password_hash
        };
        if !password::verify_blocking(req.current_password, Some(stored)).await {
            return Err(FieldError::new(field::CURRENT_PASSWORD, Rule::WrongPassword).into());
        }
        let hash = password::hash_blocking(req.new_password).await;
        let now = ctx.now_ms();
        let mut tx = ctx.db.begin_write().await?;
        operators::set_password(&mut tx, &caller.operator_id, &hash, false, now).await?;
        // Other terminals logged in as this operator must log in again.
        sessions::revoke_all(&mut tx, &caller.operator_id, Some(&caller.token_hash), now).await?;
        audit::record(
            &mut tx,
            Some(&caller.operator_id),
            "operator.password_changed",
            &caller.operator_id,
            "",
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(pb::ChangePasswordResponse {
            home: Some(self.home_of(&caller.operator_id).await?),
        })
    }

    async fn do_home(&self, caller: Caller, _: pb::HomeRequest) -> ApiResult<pb::HomeResponse> {
        Ok(pb::HomeResponse {
            home: Some(self.home_of(&caller.operator_id).await?),
        })
    }

    async fn do_logout(
        &self,
        caller: Caller,
        _: pb::LogoutRequest,
    ) -> ApiResult<pb::LogoutResponse> {
        let mut tx = self.ctx.db.begin_write().await?;
        sessions::revoke(&mut tx, &caller.token_hash, self.ctx.now_ms()).await?;
        tx.commit().await?;
        Ok(pb::LogoutResponse {})
    }
}

fn required(field: &'static str, value: &str) -> Result<(), FieldError> {
    if value.trim().is_empty() {
        Err(FieldError::new(field, Rule::Required))
    } else {
        Ok(())
    }
}

#[tonic::async_trait]
impl Auth for AuthService {
    async fn login(
        &self,
        req: Request<pb::LoginRequest>,
    ) -> Result<Response<pb::LoginResponse>, Status> {
        let lang = lang(&req);
        respond(lang, self.do_login(req.into_inner()).await)
    }

    async fn logout(
        &self,
        req: Request<pb::LogoutRequest>,
    ) -> Result<Response<pb::LogoutResponse>, Status> {
        handle!(self, req, do_logout)
    }

    async fn change_password(
        &self,
        req: Request<pb::ChangePasswordRequest>,
    ) -> Result<Response<pb::ChangePasswordResponse>, Status> {
        handle!(self, req, do_change_password)
    }

    async fn home(
        &self,
        req: Request<pb::HomeRequest>,
    ) -> Result<Response<pb::HomeResponse>, Status> {
        handle!(self, req, do_home)
    }
}
