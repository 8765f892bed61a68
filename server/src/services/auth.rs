//! Login, logout, password change and the main menu's data.

use credit_desk_proto::pb::{self, auth_server::Auth};
use credit_desk_proto::validate::{self, FieldError, Rule, field};
use std::net::IpAddr;

use crate::db::WriteTx;

use tonic::{Request, Response, Status};

use super::{caller, convert, lang, respond};
use crate::authz::Caller;
use crate::context::Ctx;
use crate::db::operators::{self, attempts};
use crate::db::{audit, org_units, sessions};
use crate::errors::{ApiError, ApiResult};
use crate::{lockout, token};

pub struct AuthService {
    ctx: Ctx,
}

/// What proves a login is the operator's.
pub enum Credential {
    Password(String),
    /// The SHA-256 fingerprint of a public key whose signature the SSH
    /// endpoint has checked; right when an administrator registered it
    /// for the operator.
    PublicKey(String),
}

impl AuthService {
    pub fn new(ctx: Ctx) -> Self {
        AuthService { ctx }
    }

    /// The version of the reference lists now (see `ListPurposes`).
    async fn reference_version(&self) -> ApiResult<String> {
        let mut conn = self.ctx.db.read().await?;
        let lists = super::consent::reference_lists(&mut conn, false).await?;
        Ok(lists.version)
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
        let calendar = crate::db::calendar::load(&mut conn).await?;
        let has_queue = crate::authz::queue_view(actor).is_ok();
        if has_queue
            || home
                .capabilities
                .contains(&(pb::Capability::ManageCalendar as i32))
        {
            home.calendar_gap = crate::services::objection::calendar_gap(&calendar, now);
        }
        if let Ok(view) = crate::authz::queue_view(actor) {
            let scope = crate::objections::queue_scope(&mut conn, view).await?;
            // Without next year's calendar the counters are left out; the
            // queue itself says which year is missing.
            let warn = crate::objections::warn_days(&mut conn).await?;
            let today = crate::clock::local_date(now);
            let due = crate::objections::submissions_due(&mut conn, actor, &calendar, today, warn)
                .await?;
            let duties =
                crate::objections::Duties::of(&mut conn, actor, &calendar, today, warn).await?;
            home.queue = crate::objections::queue_stats(&mut conn, &scope, &calendar, now, warn)
                .await?
                .ok()
                .map(|stats| {
                    duties.count_into(pb::QueueStats {
                        late_submissions: crate::objections::late(&due),
                        ..stats
                    })
                });
        }
        Ok(home)
    }

    /// Refusals that cost nothing come first (this address, the hashing
    /// queue, the account's lock); then the attempt is counted as a failure
    /// before the hash is checked, so parallel guesses are counted one by
    /// one and the sixth is refused unverified.
    async fn do_login(
        &self,
        req: pb::LoginRequest,
        from: Option<IpAddr>,
    ) -> ApiResult<pb::LoginResponse> {
        let errors = validate::collect([
            required(field::USERNAME, &req.username),
            required(field::PASSWORD, &req.password),
            validate::free_text(field::USERNAME, &req.username, USERNAME_MAX, false),
            validate::max_chars(field::PASSWORD, &req.password, PASSWORD_MAX),
        ]);
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        self.open_session(
            &req.username,
            &req.terminal,
            from,
            Credential::Password(req.password),
        )
        .await
    }

    /// Opens a session for `username` if `credential` proves it is theirs:
    /// the one path of the gRPC login and the SSH endpoint, so both count
    /// toward the same lockout and the same per-address limit.
    pub async fn open_session(
        &self,
        username: &str,
        terminal: &str,
        from: Option<IpAddr>,
        credential: Credential,
    ) -> ApiResult<pb::LoginResponse> {
        let way = match &credential {
            Credential::Password(_) => "password",
            Credential::PublicKey(_) => "key",
        };
        let result = self
            .try_open_session(username, terminal, from, credential)
            .await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(ApiError::BadCredentials) => "refused",
            Err(ApiError::Locked { .. }) => "locked",
            Err(ApiError::Disabled) => "disabled",
            Err(ApiError::TooManyAttempts { .. }) => "limited",
            Err(_) => "error",
        };
        crate::metrics::login(way, outcome);
        result
    }

    async fn try_open_session(
        &self,
        username: &str,
        terminal: &str,
        from: Option<IpAddr>,
        credential: Credential,
    ) -> ApiResult<pb::LoginResponse> {
        let username = username.trim().to_lowercase();
        let terminal: String = validate::printable(terminal)
            .chars()
            .take(TERMINAL_MAX)
            .collect();
        let ctx = &self.ctx;

        if let Some(addr) = from {
            let admitted = ctx
                .logins
                .lock()
                .expect("limiter lock")
                .admit(addr, ctx.now_ms());
            admitted.map_err(|ms| ApiError::TooManyAttempts {
                retry_after_ms: ms.max(0) as u64,
            })?;
        }
        let forgive = || {
            if let Some(addr) = from {
                ctx.logins.lock().expect("limiter lock").forgive(addr);
            }
        };
        let slot = match &credential {
            Credential::Password(_) => Some(ctx.hasher.reserve().inspect_err(|_| forgive())?),
            Credential::PublicKey(_) => None,
        };
        let (attempt, op) = self.begin_attempt(&username, &terminal).await?;
        let method = match &credential {
            Credential::Password(_) => "password",
            Credential::PublicKey(_) => "ssh key",
        };
        let right = match (credential, slot, op) {
            (Credential::Password(password), Some(slot), op) => {
                slot.verify(password, op.map(|o| o.password_hash)).await
            }
            (Credential::PublicKey(fingerprint), _, Some(op)) => {
                let mut conn = ctx.db.read().await?;
                crate::db::ssh_keys::is_registered(&mut conn, &op.id, &fingerprint).await?
            }
            _ => false,
        };
        // The success and its session are one transaction.
        let (mut tx, op) = self
            .finish_attempt(&username, &attempt, right, &terminal)
            .await?;
        forgive();

        let now = ctx.now_ms();
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
        let detail = format!("{terminal} ({method})");
        audit::record(&mut tx, Some(&op.id), "login", &op.id, &detail, now);
        tx.commit().await?;
        tracing::info!(username, terminal, "login");
        Ok(pb::LoginResponse {
            session_token: token,
            expires_at_ms: expires_at,
            idle_timeout_s: (ctx.sessions.idle_ms / 1000) as u32,
            home: Some(self.home_of(&op.id).await?),
            reference_version: self.reference_version().await?,
        })
    }

    /// Counts the attempt as failed unless the username is locked or the
    /// attempts already under way reach the limit. Unknown usernames go the
    /// same way (their lock lives on the guard row).
    async fn begin_attempt(
        &self,
        username: &str,
        terminal: &str,
    ) -> ApiResult<(String, Option<operators::OperatorRow>)> {
        let now = self.ctx.now_ms();
        let mut tx = self.ctx.db.begin_write().await?;
        let guard_lock = attempts::guard(&mut tx, username).await?;
        let op = operators::get_by_username(&mut tx, username).await?;
        let lock_end = op.as_ref().map_or(guard_lock, |o| o.locked_until);
        if let Some(until_ms) = lock_end.filter(|&t| lockout::is_locked(now, Some(t))) {
            return Err(ApiError::Locked { until_ms });
        }
        let since = lockout::count_from(
            now,
            attempts::last_success(&mut tx, username).await?,
            lock_end,
        );
        let earlier = attempts::failures_since(&mut tx, username, since).await?;
        if let Some(until_ms) = lockout::lock_after_failure(now, earlier) {
            lock(&mut tx, username, op.as_ref(), until_ms, terminal, now).await?;
            tx.commit().await?;
            return Err(ApiError::Locked { until_ms });
        }
        let op_id = op.as_ref().map(|o| o.id.as_str());
        let attempt = attempts::record_failure(&mut tx, username, op_id, terminal, now).await?;
        tx.commit().await?;
        Ok((attempt, op))
    }

    /// A right password turns the attempt into a success unless the account
    /// was locked or disabled meanwhile (returned with its transaction still
    /// open, for the session); a wrong one may lock it.
    async fn finish_attempt(
        &self,
        username: &str,
        attempt: &str,
        right: bool,
        terminal: &str,
    ) -> ApiResult<(crate::db::WriteTx, operators::OperatorRow)> {
        let now = self.ctx.now_ms();
        let mut tx = self.ctx.db.begin_write().await?;
        let guard_lock = attempts::guard(&mut tx, username).await?;
        let op = operators::get_by_username(&mut tx, username).await?;
        let lock_end = op.as_ref().map_or(guard_lock, |o| o.locked_until);
        let locked = lock_end.filter(|&t| lockout::is_locked(now, Some(t)));
        match op {
            Some(op) if right => {
                if let Some(until_ms) = locked {
                    return Err(ApiError::Locked { until_ms });
                }
                if !op.enabled || op.unit_disabled {
                    return Err(ApiError::Disabled);
                }
                attempts::mark_success(&mut tx, attempt).await?;
                Ok((tx, op))
            }
            op => {
                let mut lock_to = locked;
                if locked.is_none() {
                    let since = lockout::count_from(
                        now,
                        attempts::last_success(&mut tx, username).await?,
                        lock_end,
                    );
                    let failures = attempts::failures_since(&mut tx, username, since).await?;
                    lock_to = lockout::lock_after_failure(now, failures);
                    if let Some(until) = lock_to {
                        lock(&mut tx, username, op.as_ref(), until, terminal, now).await?;
                    }
                }
                let op_id = op.as_ref().map(|o| o.id.as_str());
                audit::record(&mut tx, op_id, "login.failed", username, terminal, now);
                tx.commit().await?;
                tracing::info!(username, terminal, "login failed");
                Err(match lock_to {
                    Some(until_ms) => ApiError::Locked { until_ms },
                    None => ApiError::BadCredentials,
                })
            }
        }
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
        if !ctx
            .hasher
            .verify(req.current_password, Some(stored))
            .await?
        {
            return Err(FieldError::new(field::CURRENT_PASSWORD, Rule::WrongPassword).into());
        }
        let hash = ctx.hasher.hash(req.new_password).await?;
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
        );
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
        let now = self.ctx.now_ms();
        let mut tx = self.ctx.db.begin_write().await?;
        sessions::revoke(&mut tx, &caller.token_hash, now).await?;
        let id = &caller.operator_id;
        audit::record(&mut tx, Some(id), "logout", id, &caller.terminal, now);
        tx.commit().await?;
        Ok(pb::LogoutResponse {})
    }
}

/// Locks a username: on its operator row (where administrators see and lift
/// it) or, for a name that is no operator, on its guard row.
async fn lock(
    tx: &mut WriteTx,
    username: &str,
    op: Option<&operators::OperatorRow>,
    until_ms: i64,
    terminal: &str,
    now: i64,
) -> ApiResult<()> {
    match op {
        Some(op) => {
            operators::set_locked_until(tx, &op.id, until_ms).await?;
            audit::record(tx, None, "operator.locked", &op.id, terminal, now);
        }
        None => attempts::set_guard_lock(tx, username, until_ms).await?,
    }
    // Both callers commit next; a failed commit answers INTERNAL and is
    // rare enough not to skew the count.
    crate::metrics::lockout();
    Ok(())
}

const USERNAME_MAX: usize = 64;
/// Long enough for any passphrase; argon2 pre-hashes it, but a megabyte
/// would still be read, kept and hashed for nothing.
const PASSWORD_MAX: usize = 256;
const TERMINAL_MAX: usize = 64;

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
        let from = req.remote_addr().map(|a| a.ip());
        respond(lang, self.do_login(req.into_inner(), from).await)
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
