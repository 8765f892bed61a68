//! Creating the first records of a database: the center, the first
//! administrator, operators from the command line, and the demo data. Shared
//! by `init`, `operator add` and the workstation's demo mode.

use anyhow::{Context as _, bail};
use credit_desk_proto::Lang;
use credit_desk_proto::pb::{OrgUnitKind, Role};
use credit_desk_proto::validate;

use crate::db::operators::{self, NewOperator};
use crate::db::org_units::{self, NewOrgUnit, OrgUnitRow};
use crate::db::{Db, audit, new_id, sessions};
use crate::domain;
use crate::password;

pub const CENTER_CODE: &str = "CENTER";

/// Creates the root unit (the center) if the tree is empty; returns it.
pub async fn ensure_center(db: &Db, name: &str, now_ms: i64) -> anyhow::Result<OrgUnitRow> {
    let mut tx = db.begin_write().await?;
    if let Some(root) = org_units::root(&mut tx).await? {
        return Ok(root);
    }
    validate::unit_name(name).map_err(|e| anyhow::anyhow!(e.describe(Lang::Zh)))?;
    let id = new_id();
    let root = org_units::insert(
        &mut tx,
        NewOrgUnit {
            id: &id,
            code: CENTER_CODE,
            name,
            kind: domain::kind_to_str(OrgUnitKind::Center),
            parent: None,
            now_ms,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(root)
}

/// Adds an org unit under the unit with code `parent_code` (command line and
/// demo data; the workstation goes through the Admin service).
pub async fn add_org_unit(
    db: &Db,
    code: &str,
    name: &str,
    kind: OrgUnitKind,
    parent_code: &str,
    now_ms: i64,
) -> anyhow::Result<OrgUnitRow> {
    validate::unit_code(code).map_err(describe)?;
    validate::unit_name(name).map_err(describe)?;
    let mut tx = db.begin_write().await?;
    let parent = org_units::get_by_code(&mut tx, parent_code)
        .await?
        .with_context(|| format!("no org unit with code {parent_code}"))?;
    validate::unit_kind_fits_parent(kind, parent.kind).map_err(describe)?;
    let id = new_id();
    let unit = org_units::insert(
        &mut tx,
        NewOrgUnit {
            id: &id,
            code,
            name,
            kind: domain::kind_to_str(kind),
            parent: Some(&parent),
            now_ms,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(unit)
}

fn describe(e: validate::FieldError) -> anyhow::Error {
    anyhow::anyhow!(e.describe(Lang::Zh))
}

pub struct OperatorSpec<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub unit_code: &'a str,
    pub password: &'a str,
    pub must_change_password: bool,
}

pub async fn add_operator(db: &Db, spec: OperatorSpec<'_>, now_ms: i64) -> anyhow::Result<()> {
    validate::username(spec.username).map_err(describe)?;
    validate::display_name(spec.display_name).map_err(describe)?;
    validate::new_password(validate::field::PASSWORD, spec.password, spec.username)
        .map_err(describe)?;
    let hash = password::hash_blocking(spec.password.to_string()).await;
    let mut tx = db.begin_write().await?;
    let unit = org_units::get_by_code(&mut tx, spec.unit_code)
        .await?
        .with_context(|| format!("no org unit with code {}", spec.unit_code))?;
    validate::role_fits_unit(spec.role, unit.kind).map_err(describe)?;
    if operators::get_by_username(&mut tx, spec.username)
        .await?
        .is_some()
    {
        bail!("operator {} already exists", spec.username);
    }
    let id = new_id();
    operators::insert(
        &mut tx,
        NewOperator {
            id: &id,
            username: spec.username,
            display_name: spec.display_name,
            role: domain::role_to_str(spec.role),
            org_unit_id: &unit.id,
            password_hash: &hash,
            must_change_password: spec.must_change_password,
            now_ms,
        },
    )
    .await?;
    audit::record(&mut tx, None, "operator.create", &id, spec.username, now_ms);
    tx.commit().await?;
    Ok(())
}

async fn operator_by_username(db: &Db, username: &str) -> anyhow::Result<operators::OperatorRow> {
    let mut conn = db.read().await?;
    operators::get_by_username(&mut conn, username)
        .await?
        .with_context(|| format!("no operator named {username}"))
}

/// Registers an SSH public key (a `.pub` line) for an operator.
pub async fn add_ssh_key(
    db: &Db,
    username: &str,
    line: &str,
    now_ms: i64,
) -> anyhow::Result<crate::db::ssh_keys::SshKeyRow> {
    let op = operator_by_username(db, username).await?;
    let key = crate::ssh::keys::parse(line).map_err(describe)?;
    let mut tx = db.begin_write().await?;
    let row = crate::ssh::keys::register(&mut tx, &op.id, &key, None, now_ms)
        .await
        .map_err(|e| anyhow::anyhow!(e.into_status(Lang::Zh).message().to_string()))?;
    tx.commit().await?;
    Ok(row)
}

pub async fn ssh_keys(
    db: &Db,
    username: &str,
) -> anyhow::Result<Vec<crate::db::ssh_keys::SshKeyRow>> {
    let op = operator_by_username(db, username).await?;
    let mut conn = db.read().await?;
    Ok(crate::db::ssh_keys::of_operator(&mut conn, &op.id).await?)
}

pub async fn remove_ssh_key(
    db: &Db,
    username: &str,
    fingerprint: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    let op = operator_by_username(db, username).await?;
    let mut tx = db.begin_write().await?;
    let removed = crate::ssh::keys::unregister(&mut tx, &op.id, fingerprint.trim(), None, now_ms)
        .await
        .map_err(|e| anyhow::anyhow!(e.into_status(Lang::Zh).message().to_string()))?;
    if !removed {
        bail!("{username} has no SSH key {fingerprint}");
    }
    tx.commit().await?;
    Ok(())
}

/// Disables an operator and ends their sessions (command line).
pub async fn disable_operator(db: &Db, username: &str, now_ms: i64) -> anyhow::Result<()> {
    let op = operator_by_username(db, username).await?;
    let mut tx = db.begin_write().await?;
    operators::set_enabled(&mut tx, &op.id, false, now_ms).await?;
    sessions::revoke_all(&mut tx, &op.id, None, now_ms).await?;
    audit::record(
        &mut tx,
        None,
        "operator.disable",
        &op.id,
        "command line",
        now_ms,
    );
    tx.commit().await?;
    Ok(())
}

/// Sets a new password the operator must change at next login; lifts a
/// lockout (command line: the administrator locked out of the workstation).
pub async fn reset_password(
    db: &Db,
    username: &str,
    new_password: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    let op = operator_by_username(db, username).await?;
    validate::new_password(validate::field::NEW_PASSWORD, new_password, username)
        .map_err(describe)?;
    let hash = password::hash_blocking(new_password.to_string()).await;
    let mut tx = db.begin_write().await?;
    operators::set_password(&mut tx, &op.id, &hash, true, now_ms).await?;
    operators::set_enabled(&mut tx, &op.id, true, now_ms).await?;
    sessions::revoke_all(&mut tx, &op.id, None, now_ms).await?;
    audit::record(
        &mut tx,
        None,
        "operator.reset_password",
        &op.id,
        "command line",
        now_ms,
    );
    tx.commit().await?;
    Ok(())
}
