//! Database rows to protocol messages.

use credit_desk_proto::pb;

use crate::db::operators::OperatorRow;
use crate::db::org_units::OrgUnitRow;
use crate::domain;
use crate::lockout;

pub fn org_unit(r: &OrgUnitRow) -> pb::OrgUnit {
    pb::OrgUnit {
        id: r.id.clone(),
        code: r.code.clone(),
        name: r.name.clone(),
        kind: domain::kind_from_str(&r.kind).unwrap_or_default() as i32,
        parent_id: r.parent_id.clone().unwrap_or_default(),
        depth: r.depth as u32,
    }
}

pub fn operator(r: &OperatorRow, now_ms: i64) -> pb::Operator {
    pb::Operator {
        id: r.id.clone(),
        username: r.username.clone(),
        display_name: r.display_name.clone(),
        role: domain::role_from_str(&r.role).unwrap_or_default() as i32,
        org_unit_id: r.org_unit_id.clone(),
        org_unit_name: r.org_unit_name.clone(),
        enabled: r.enabled != 0,
        must_change_password: r.must_change_password != 0,
        created_at_ms: r.created_at,
        locked_until_ms: r
            .locked_until
            .filter(|_| lockout::is_locked(now_ms, r.locked_until))
            .unwrap_or(0),
    }
}

pub fn home(op: &OperatorRow, unit: &OrgUnitRow, now_ms: i64) -> pb::Home {
    let role = domain::role_from_str(&op.role).unwrap_or_default();
    pb::Home {
        operator: Some(operator(op, now_ms)),
        org_unit: Some(org_unit(unit)),
        capabilities: domain::capabilities(role)
            .into_iter()
            .map(|c| c as i32)
            .collect(),
        server_time_ms: now_ms,
    }
}
