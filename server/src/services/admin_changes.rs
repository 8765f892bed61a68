//! Changing what exists: an operator's name, role and unit; a unit's name,
//! place in the tree and whether it is in use; the center's settings. Each
//! change is one transaction, checked against the caller's subtree, and
//! audited.

use credit_desk_proto::pb;
use credit_desk_proto::validate::{self, FieldError, Rule, field};

use super::admin::{AdminService, check, role_of};
use super::convert;
use crate::authz::Caller;
use crate::db::{audit, operators, org_units, sessions};
use crate::domain;
use crate::errors::{ApiError, ApiResult};
use crate::settings;

impl AdminService {
    pub(super) async fn update_operator(
        &self,
        caller: Caller,
        req: pb::UpdateOperatorRequest,
    ) -> ApiResult<pb::SetOperatorEnabledResponse> {
        let display_name = req.display_name.trim().to_string();
        check(validate::collect([
            validate::uuid(field::OPERATOR_ID, &req.operator_id),
            validate::display_name(&display_name),
            role_of(req.role).map(|_| ()),
            validate::uuid(field::ORG_UNIT_ID, &req.org_unit_id),
        ]))?;
        let role = role_of(req.role)?;
        let now = self.ctx.now_ms();
        let mut tx = self.ctx.db.begin_write().await?;
        let op = self
            .operator_in_scope(&mut tx, &caller, &req.operator_id)
            .await?;
        let unit = self
            .unit_in_scope(&mut tx, &caller, field::ORG_UNIT_ID, &req.org_unit_id)
            .await?;
        // Someone else changes an administrator's own powers: nobody locks
        // themselves out, nor raises themselves.
        if op.id == caller.operator_id && (role != op.role || unit.id != op.org_unit_id) {
            let field = match role != op.role {
                true => field::ROLE,
                false => field::ORG_UNIT_ID,
            };
            return Err(FieldError::new(field, Rule::OwnRoleAndUnit).into());
        }
        validate::role_fits_unit(role, unit.kind)?;
        let role_name = domain::role_to_str(role);
        operators::update(&mut tx, &op.id, &display_name, role_name, &unit.id, now).await?;
        let detail = format!("{display_name} {role_name} {}", unit.code);
        let who = Some(caller.operator_id.as_str());
        audit::record(&mut tx, who, "operator.update", &op.id, &detail, now);
        let op = operators::get(&mut tx, &op.id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("operator vanished"))?;
        tx.commit().await?;
        Ok(pb::SetOperatorEnabledResponse {
            operator: Some(convert::operator(&op, now)),
        })
    }

    pub(super) async fn update_org_unit(
        &self,
        caller: Caller,
        req: pb::UpdateOrgUnitRequest,
    ) -> ApiResult<pb::CreateOrgUnitResponse> {
        let name = req.name.trim().to_string();
        let parent_check = match req.parent_id.is_empty() {
            true => Ok(()),
            false => validate::uuid(field::PARENT_ID, &req.parent_id),
        };
        check(validate::collect([
            validate::uuid(field::ORG_UNIT_ID, &req.org_unit_id),
            validate::unit_name(&name),
            parent_check,
        ]))?;
        let now = self.ctx.now_ms();
        let mut tx = self.ctx.db.begin_write().await?;
        let unit = self
            .unit_in_scope(&mut tx, &caller, field::ORG_UNIT_ID, &req.org_unit_id)
            .await?;
        let is_root = unit.parent_id.is_none();
        let who = Some(caller.operator_id.as_str());
        if name != unit.name {
            org_units::rename(&mut tx, &unit.id, &name).await?;
            audit::record(&mut tx, who, "org_unit.rename", &unit.id, &name, now);
        }
        let moves = unit.parent_id.as_deref().unwrap_or_default() != req.parent_id;
        if moves {
            let rule = match is_root {
                true => Rule::RootStays,
                false => Rule::Required,
            };
            if is_root || req.parent_id.is_empty() {
                return Err(FieldError::new(field::PARENT_ID, rule).into());
            }
            let parent = self
                .unit_in_scope(&mut tx, &caller, field::PARENT_ID, &req.parent_id)
                .await?;
            if parent.path.starts_with(&unit.path) {
                return Err(FieldError::new(field::PARENT_ID, Rule::MoveUnderItself).into());
            }
            validate::unit_kind_fits_parent(unit.kind, parent.kind)
                .map_err(|e| FieldError::new(field::PARENT_ID, e.rule))?;
            org_units::move_under(&mut tx, &unit, &parent).await?;
            audit::record(&mut tx, who, "org_unit.move", &unit.id, &parent.code, now);
        }
        // Where it is now: disabling below acts on the moved subtree.
        let unit = org_units::get(&mut tx, &unit.id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("org unit vanished"))?;
        if req.enabled == unit.disabled_at.is_some() {
            if !req.enabled {
                if is_root {
                    return Err(FieldError::new(field::ENABLED, Rule::RootStays).into());
                }
                if caller.org_unit_path.starts_with(&unit.path) {
                    return Err(FieldError::new(field::ENABLED, Rule::OwnUnit).into());
                }
                sessions::revoke_under(&mut tx, &unit.path, now).await?;
            }
            let (at, action) = match req.enabled {
                true => (None, "org_unit.enable"),
                false => (Some(now), "org_unit.disable"),
            };
            org_units::set_disabled(&mut tx, &unit.id, at).await?;
            audit::record(&mut tx, who, action, &unit.id, &unit.code, now);
        }
        let unit = org_units::get(&mut tx, &unit.id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("org unit vanished"))?;
        tx.commit().await?;
        Ok(pb::CreateOrgUnitResponse {
            org_unit: Some(convert::org_unit(&unit)),
            replayed: false,
        })
    }

    pub(super) async fn list_settings(
        &self,
        caller: Caller,
        _: pb::ListSettingsRequest,
    ) -> ApiResult<pb::ListSettingsResponse> {
        let mut conn = self.ctx.db.read().await?;
        let mut out = Vec::with_capacity(settings::KNOWN.len());
        for s in settings::KNOWN {
            out.push(pb::Setting {
                key: s.key.into(),
                meaning: caller.lang.pick(s.meaning_zh, s.meaning).into(),
                value: settings::get(&mut conn, s.key).await?,
                default_value: s.default,
                min: s.min,
                max: s.max,
            });
        }
        Ok(pb::ListSettingsResponse { settings: out })
    }

    pub(super) async fn change_setting(
        &self,
        caller: Caller,
        req: pb::ChangeSettingRequest,
    ) -> ApiResult<pb::ListSettingsResponse> {
        let setting = settings::check(&req.key, req.value).map_err(ApiError::from)?;
        let who = Some(caller.operator_id.as_str());
        settings::store(&self.ctx.db, who, setting.key, req.value, self.ctx.now_ms()).await?;
        self.list_settings(caller, pb::ListSettingsRequest {}).await
    }
}
