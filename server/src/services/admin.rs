//! Administration of org units and operators. The auth layer has already
//! checked the capability; scope (the caller's own subtree) is checked here
//! with [`Caller::covers`] because it depends on the target.

use credit_desk_proto::pb::{self, OrgUnitKind, Role, admin_server::Admin};
use credit_desk_proto::validate::{self, FieldError, Rule, field};
use tonic::{Request, Response, Status};

use super::{caller, convert, create_once, lang, respond};
use crate::authz::{self, Caller};
use crate::context::Ctx;
use crate::db::idempotency::Key;
use crate::db::operators::{self, NewOperator};
use crate::db::org_units::{self, NewOrgUnit};
use crate::db::{audit, new_id, sessions};
use crate::domain;
use crate::errors::{ApiError, ApiResult};

pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 200;

pub struct AdminService {
    pub(super) ctx: Ctx,
}

pub(super) fn check(errors: Vec<FieldError>) -> ApiResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn kind_of(value: i32) -> Result<OrgUnitKind, FieldError> {
    match OrgUnitKind::try_from(value) {
        Ok(OrgUnitKind::Unspecified) => Err(FieldError::new(field::KIND, Rule::Required)),
        Ok(k) => Ok(k),
        Err(_) => Err(FieldError::new(field::KIND, Rule::UnknownValue)),
    }
}

pub(super) fn role_of(value: i32) -> Result<Role, FieldError> {
    match Role::try_from(value) {
        Ok(Role::Unspecified) => Err(FieldError::new(field::ROLE, Rule::Required)),
        Ok(r) => Ok(r),
        Err(_) => Err(FieldError::new(field::ROLE, Rule::UnknownValue)),
    }
}

impl AdminService {
    pub fn new(ctx: Ctx) -> Self {
        AdminService { ctx }
    }

    /// Loads a unit the caller may act on; a unit outside the caller's
    /// subtree is refused as such (it exists, but is not theirs).
    pub(super) async fn unit_in_scope(
        &self,
        conn: &mut sqlx::AnyConnection,
        caller: &Caller,
        field: &'static str,
        id: &str,
    ) -> ApiResult<org_units::OrgUnitRow> {
        let unit = org_units::get(conn, id)
            .await?
            .ok_or(ApiError::NotFound { field })?;
        authz::manage_unit(caller.actor(), &unit.path)?;
        Ok(unit)
    }

    pub(super) async fn operator_in_scope(
        &self,
        conn: &mut sqlx::AnyConnection,
        caller: &Caller,
        id: &str,
    ) -> ApiResult<operators::OperatorRow> {
        validate::uuid(field::OPERATOR_ID, id)?;
        let op = operators::get(conn, id).await?.ok_or(ApiError::NotFound {
            field: field::OPERATOR_ID,
        })?;
        authz::manage_unit(caller.actor(), &op.org_unit_path)?;
        Ok(op)
    }

    async fn list_org_units(
        &self,
        caller: Caller,
        _: pb::ListOrgUnitsRequest,
    ) -> ApiResult<pb::ListOrgUnitsResponse> {
        let mut conn = self.ctx.db.read().await?;
        let rows = org_units::subtree(&mut conn, &caller.org_unit_path).await?;
        Ok(pb::ListOrgUnitsResponse {
            org_units: rows.iter().map(convert::org_unit).collect(),
        })
    }

    async fn create_org_unit(
        &self,
        caller: Caller,
        req: pb::CreateOrgUnitRequest,
    ) -> ApiResult<pb::CreateOrgUnitResponse> {
        let code = req.code.trim().to_string();
        let name = req.name.trim().to_string();
        check(validate::collect([
            validate::uuid(field::REQUEST_ID, &req.request_id),
            validate::unit_code(&code),
            validate::unit_name(&name),
            kind_of(req.kind).map(|_| ()),
            validate::uuid(field::PARENT_ID, &req.parent_id),
        ]))?;
        let kind = kind_of(req.kind)?;
        let key = Key::of(&caller.operator_id, "CreateOrgUnit", &req, |r| {
            &mut r.request_id
        })?;
        let now = self.ctx.now_ms();
        let (id, replayed) = create_once(&self.ctx, key, async |tx| {
            let parent = self
                .unit_in_scope(tx, &caller, field::PARENT_ID, &req.parent_id)
                .await?;
            validate::unit_kind_fits_parent(kind, parent.kind)?;
            if org_units::get_by_code(tx, &code).await?.is_some() {
                return Err(ApiError::AlreadyExists { field: field::CODE });
            }
            let id = new_id();
            org_units::insert(
                tx,
                NewOrgUnit {
                    id: &id,
                    code: &code,
                    name: &name,
                    kind: domain::kind_to_str(kind),
                    parent: Some(&parent),
                    now_ms: now,
                },
            )
            .await?;
            audit::record(
                tx,
                Some(&caller.operator_id),
                "org_unit.create",
                &id,
                &code,
                now,
            );
            Ok(id)
        })
        .await?;
        let mut conn = self.ctx.db.read().await?;
        let unit = org_units::get(&mut conn, &id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("created org unit {id} vanished"))?;
        Ok(pb::CreateOrgUnitResponse {
            org_unit: Some(convert::org_unit(&unit)),
            replayed,
        })
    }

    async fn list_operators(
        &self,
        caller: Caller,
        req: pb::ListOperatorsRequest,
    ) -> ApiResult<pb::ListOperatorsResponse> {
        let page = req.page.unwrap_or_default();
        let limit = match page.limit {
            0 => DEFAULT_PAGE,
            n => n.min(MAX_PAGE),
        };
        let mut conn = self.ctx.db.read().await?;
        let scope = if req.org_unit_id.is_empty() {
            caller.org_unit_path.clone()
        } else {
            validate::uuid(field::ORG_UNIT_ID, &req.org_unit_id)?;
            self.unit_in_scope(&mut conn, &caller, field::ORG_UNIT_ID, &req.org_unit_id)
                .await?
                .path
        };
        let rows = operators::page(
            &mut conn,
            &scope,
            req.query.trim(),
            &page.cursor,
            i64::from(limit),
        )
        .await?;
        let now = self.ctx.now_ms();
        let next_cursor = if rows.len() == limit as usize {
            rows.last().map(|r| r.username.clone()).unwrap_or_default()
        } else {
            String::new()
        };
        let names: Vec<String> = rows.iter().map(|r| r.username.clone()).collect();
        let last = operators::last_logins(&mut conn, &names).await?;
        Ok(pb::ListOperatorsResponse {
            operators: rows
                .iter()
                .map(|r| pb::Operator {
                    last_login_at_ms: last.get(&r.username).copied().unwrap_or(0),
                    ..convert::operator(r, now)
                })
                .collect(),
            next_cursor,
        })
    }

    async fn unlock_operator(
        &self,
        caller: Caller,
        req: pb::UnlockOperatorRequest,
    ) -> ApiResult<pb::ResetPasswordResponse> {
        let target = {
            let mut conn = self.ctx.db.read().await?;
            self.operator_in_scope(&mut conn, &caller, &req.operator_id)
                .await?
        };
        let now = self.ctx.now_ms();
        let mut tx = self.ctx.db.begin_write().await?;
        // The lock ends now: the failures before it no longer count
        // (lockout counts from the end of the last lock).
        if crate::lockout::is_locked(now, target.locked_until) {
            operators::set_locked_until(&mut tx, &target.id, now).await?;
            audit::record(
                &mut tx,
                Some(&caller.operator_id),
                "operator.unlocked",
                &target.id,
                "",
                now,
            );
        }
        let op = operators::get(&mut tx, &target.id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("operator vanished"))?;
        tx.commit().await?;
        Ok(pb::ResetPasswordResponse {
            operator: Some(convert::operator(&op, now)),
        })
    }

    async fn create_operator(
        &self,
        caller: Caller,
        req: pb::CreateOperatorRequest,
    ) -> ApiResult<pb::CreateOperatorResponse> {
        let username = req.username.trim().to_string();
        let display_name = req.display_name.trim().to_string();
        check(validate::collect([
            validate::uuid(field::REQUEST_ID, &req.request_id),
            validate::username(&username),
            validate::display_name(&display_name),
            role_of(req.role).map(|_| ()),
            validate::uuid(field::ORG_UNIT_ID, &req.org_unit_id),
            validate::new_password(field::INITIAL_PASSWORD, &req.initial_password, &username),
        ]))?;
        let role = role_of(req.role)?;
        let key = Key::of(&caller.operator_id, "CreateOperator", &req, |r| {
            &mut r.request_id
        })?;
        // Hashed before the transaction: it takes tens of milliseconds and
        // must not hold SQLite's write lock meanwhile.
        let password_hash = self.ctx.hasher.hash(req.initial_password.clone()).await?;
        let now = self.ctx.now_ms();
        let (id, replayed) = create_once(&self.ctx, key, async |tx| {
            let unit = self
                .unit_in_scope(tx, &caller, field::ORG_UNIT_ID, &req.org_unit_id)
                .await?;
            validate::role_fits_unit(role, unit.kind)?;
            if operators::get_by_username(tx, &username).await?.is_some() {
                return Err(ApiError::AlreadyExists {
                    field: field::USERNAME,
                });
            }
            let id = new_id();
            operators::insert(
                tx,
                NewOperator {
                    id: &id,
                    username: &username,
                    display_name: &display_name,
                    role: domain::role_to_str(role),
                    org_unit_id: &unit.id,
                    password_hash: &password_hash,
                    must_change_password: true,
                    now_ms: now,
                },
            )
            .await?;
            audit::record(
                tx,
                Some(&caller.operator_id),
                "operator.create",
                &id,
                &username,
                now,
            );
            Ok(id)
        })
        .await?;
        let mut conn = self.ctx.db.read().await?;
        let op = operators::get(&mut conn, &id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("created operator {id} vanished"))?;
        Ok(pb::CreateOperatorResponse {
            operator: Some(convert::operator(&op, now)),
            replayed,
        })
    }

    async fn set_operator_enabled(
        &self,
        caller: Caller,
        req: pb::SetOperatorEnabledRequest,
    ) -> ApiResult<pb::SetOperatorEnabledResponse> {
        if !req.enabled && req.operator_id == caller.operator_id {
            return Err(FieldError::new(field::OPERATOR_ID, Rule::CannotDisableSelf).into());
        }
        let now = self.ctx.now_ms();
        let mut tx = self.ctx.db.begin_write().await?;
        let op = self
            .operator_in_scope(&mut tx, &caller, &req.operator_id)
            .await?;
        operators::set_enabled(&mut tx, &op.id, req.enabled, now).await?;
        if !req.enabled {
            sessions::revoke_all(&mut tx, &op.id, None, now).await?;
        }
        let action = if req.enabled {
            "operator.enable"
        } else {
            "operator.disable"
        };
        audit::record(&mut tx, Some(&caller.operator_id), action, &op.id, "", now);
        let op = operators::get(&mut tx, &op.id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("operator vanished"))?;
        tx.commit().await?;
        Ok(pb::SetOperatorEnabledResponse {
            operator: Some(convert::operator(&op, now)),
        })
    }

    async fn reset_password(
        &self,
        caller: Caller,
        req: pb::ResetPasswordRequest,
    ) -> ApiResult<pb::ResetPasswordResponse> {
        let target = {
            let mut conn = self.ctx.db.read().await?;
            self.operator_in_scope(&mut conn, &caller, &req.operator_id)
                .await?
        };
        validate::new_password(field::NEW_PASSWORD, &req.new_password, &target.username)?;
        let hash = self.ctx.hasher.hash(req.new_password).await?;
        let now = self.ctx.now_ms();
        let mut tx = self.ctx.db.begin_write().await?;
        // Lifts a lockout too, and the operator must choose their own
        // password at the next login.
        operators::set_password(&mut tx, &target.id, &hash, true, now).await?;
        sessions::revoke_all(&mut tx, &target.id, None, now).await?;
        audit::record(
            &mut tx,
            Some(&caller.operator_id),
            "operator.reset_password",
            &target.id,
            "",
            now,
        );
        let op = operators::get(&mut tx, &target.id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("operator vanished"))?;
        tx.commit().await?;
        Ok(pb::ResetPasswordResponse {
            operator: Some(convert::operator(&op, now)),
        })
    }

    async fn ssh_keys_of(
        conn: &mut sqlx::AnyConnection,
        operator_id: &str,
    ) -> ApiResult<pb::SshKeysResponse> {
        let rows = crate::db::ssh_keys::of_operator(conn, operator_id).await?;
        Ok(pb::SshKeysResponse {
            keys: rows.iter().map(convert::ssh_key).collect(),
        })
    }

    async fn list_ssh_keys(
        &self,
        caller: Caller,
        req: pb::ListSshKeysRequest,
    ) -> ApiResult<pb::SshKeysResponse> {
        let mut conn = self.ctx.db.read().await?;
        let op = self
            .operator_in_scope(&mut conn, &caller, &req.operator_id)
            .await?;
        Self::ssh_keys_of(&mut conn, &op.id).await
    }

    async fn add_ssh_key(
        &self,
        caller: Caller,
        req: pb::AddSshKeyRequest,
    ) -> ApiResult<pb::SshKeysResponse> {
        validate::ssh_public_key(&req.public_key)?;
        let key = crate::ssh::keys::parse(&req.public_key)?;
        let now = self.ctx.now_ms();
        let mut tx = self.ctx.db.begin_write().await?;
        let op = self
            .operator_in_scope(&mut tx, &caller, &req.operator_id)
            .await?;
        crate::ssh::keys::register(&mut tx, &op.id, &key, Some(&caller.operator_id), now).await?;
        let keys = Self::ssh_keys_of(&mut tx, &op.id).await?;
        tx.commit().await?;
        Ok(keys)
    }

    async fn remove_ssh_key(
        &self,
        caller: Caller,
        req: pb::RemoveSshKeyRequest,
    ) -> ApiResult<pb::SshKeysResponse> {
        let now = self.ctx.now_ms();
        let mut tx = self.ctx.db.begin_write().await?;
        let op = self
            .operator_in_scope(&mut tx, &caller, &req.operator_id)
            .await?;
        // Removing a key that is gone already is what a retry sees.
        crate::ssh::keys::unregister(
            &mut tx,
            &op.id,
            req.fingerprint.trim(),
            Some(&caller.operator_id),
            now,
        )
        .await?;
        let keys = Self::ssh_keys_of(&mut tx, &op.id).await?;
        tx.commit().await?;
        Ok(keys)
    }
}

#[tonic::async_trait]
impl Admin for AdminService {
    async fn list_org_units(
        &self,
        req: Request<pb::ListOrgUnitsRequest>,
    ) -> Result<Response<pb::ListOrgUnitsResponse>, Status> {
        handle!(self, req, list_org_units)
    }

    async fn create_org_unit(
        &self,
        req: Request<pb::CreateOrgUnitRequest>,
    ) -> Result<Response<pb::CreateOrgUnitResponse>, Status> {
        handle!(self, req, create_org_unit)
    }

    async fn list_operators(
        &self,
        req: Request<pb::ListOperatorsRequest>,
    ) -> Result<Response<pb::ListOperatorsResponse>, Status> {
        handle!(self, req, list_operators)
    }

    async fn create_operator(
        &self,
        req: Request<pb::CreateOperatorRequest>,
    ) -> Result<Response<pb::CreateOperatorResponse>, Status> {
        handle!(self, req, create_operator)
    }

    async fn set_operator_enabled(
        &self,
        req: Request<pb::SetOperatorEnabledRequest>,
    ) -> Result<Response<pb::SetOperatorEnabledResponse>, Status> {
        handle!(self, req, set_operator_enabled)
    }

    async fn reset_password(
        &self,
        req: Request<pb::ResetPasswordRequest>,
    ) -> Result<Response<pb::ResetPasswordResponse>, Status> {
        handle!(self, req, reset_password)
    }

    async fn unlock_operator(
        &self,
        req: Request<pb::UnlockOperatorRequest>,
    ) -> Result<Response<pb::ResetPasswordResponse>, Status> {
        handle!(self, req, unlock_operator)
    }

    async fn list_ssh_keys(
        &self,
        req: Request<pb::ListSshKeysRequest>,
    ) -> Result<Response<pb::SshKeysResponse>, Status> {
        handle!(self, req, list_ssh_keys)
    }

    async fn add_ssh_key(
        &self,
        req: Request<pb::AddSshKeyRequest>,
    ) -> Result<Response<pb::SshKeysResponse>, Status> {
        handle!(self, req, add_ssh_key)
    }

    async fn remove_ssh_key(
        &self,
        req: Request<pb::RemoveSshKeyRequest>,
    ) -> Result<Response<pb::SshKeysResponse>, Status> {
        handle!(self, req, remove_ssh_key)
    }

    async fn update_operator(
        &self,
        req: Request<pb::UpdateOperatorRequest>,
    ) -> Result<Response<pb::SetOperatorEnabledResponse>, Status> {
        handle!(self, req, update_operator)
    }

    async fn update_org_unit(
        &self,
        req: Request<pb::UpdateOrgUnitRequest>,
    ) -> Result<Response<pb::CreateOrgUnitResponse>, Status> {
        handle!(self, req, update_org_unit)
    }

    async fn list_settings(
        &self,
        req: Request<pb::ListSettingsRequest>,
    ) -> Result<Response<pb::ListSettingsResponse>, Status> {
        handle!(self, req, list_settings)
    }

    async fn change_setting(
        &self,
        req: Request<pb::ChangeSettingRequest>,
    ) -> Result<Response<pb::ListSettingsResponse>, Status> {
        handle!(self, req, change_setting)
    }
}
