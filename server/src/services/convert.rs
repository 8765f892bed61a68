//! Database rows to protocol messages.

use credit_desk_proto::pb;

use crate::db::operators::OperatorRow;
use crate::db::org_units::OrgUnitRow;
use crate::db::subjects::{SubjectRow, VerificationRow};
use crate::domain;
use crate::lockout;

pub fn org_unit(r: &OrgUnitRow) -> pb::OrgUnit {
    pb::OrgUnit {
        id: r.id.clone(),
        code: r.code.clone(),
        name: r.name.clone(),
        kind: r.kind as i32,
        parent_id: r.parent_id.clone().unwrap_or_default(),
        depth: r.depth as u32,
        disabled: r.disabled_at.is_some(),
    }
}

pub fn operator(r: &OperatorRow, now_ms: i64) -> pb::Operator {
    pb::Operator {
        id: r.id.clone(),
        username: r.username.clone(),
        display_name: r.display_name.clone(),
        role: r.role as i32,
        org_unit_id: r.org_unit_id.clone(),
        org_unit_name: r.org_unit_name.clone(),
        enabled: r.enabled,
        must_change_password: r.must_change_password,
        created_at_ms: r.created_at,
        locked_until_ms: r
            .locked_until
            .filter(|_| lockout::is_locked(now_ms, r.locked_until))
            .unwrap_or(0),
        // Filled where it is shown (the operator list).
        last_login_at_ms: 0,
    }
}

pub fn home(op: &OperatorRow, unit: &OrgUnitRow, now_ms: i64) -> pb::Home {
    let role = op.role;
    pb::Home {
        operator: Some(operator(op, now_ms)),
        org_unit: Some(org_unit(unit)),
        capabilities: domain::capabilities(role)
            .into_iter()
            .map(|c| c as i32)
            .collect(),
        server_time_ms: now_ms,
        queue: None,
        calendar_gap: None,
    }
}

/// A subject for the screen; `full` decides whether identity numbers are
/// shown in full or masked.
pub fn subject(r: &SubjectRow, full: bool) -> pb::SubjectSummary {
    let shown = |n: &str| match (full, n.strip_prefix('H')) {
        (true, _) => n.to_string(),
        // A household is known by 'H' and its head's number: masked alike.
        (false, Some(head)) if r.kind == pb::SubjectKind::Household => {
            format!("H{}", credit_desk_proto::ident::mask(head))
        }
        (false, _) => credit_desk_proto::ident::mask(n),
    };
    let registration = (r.kind == pb::SubjectKind::Organisation)
        .then(|| credit_desk_proto::ident::organisation(&r.identifier).ok())
        .flatten();
    pb::SubjectSummary {
        id: r.id.clone(),
        kind: r.kind as i32,
        identifier: shown(&r.identifier),
        name: r.name.clone(),
        birth_date: if full {
            r.birth_date.clone().unwrap_or_default()
        } else {
            String::new()
        },
        sex: r.sex.clone().unwrap_or_default(),
        // The credit code says what an organisation is; the stored type is
        // the fallback for a code that does not parse.
        org_type: registration
            .as_ref()
            .map(|o| o.org_type.code().to_string())
            .or_else(|| r.org_type.clone())
            .unwrap_or_default(),
        registration: registration
            .map(|o| o.registration.to_string())
            .unwrap_or_default(),
        township: r.township.clone().unwrap_or_default(),
        address: r.address.clone(),
        phone: if full { r.phone.clone() } else { String::new() },
        legal_representative: r.legal_representative.clone().unwrap_or_default(),
    }
}

pub fn verification(v: &VerificationRow) -> pb::Verification {
    pb::Verification {
        id: v.id.clone(),
        subject_id: v.subject_id.clone(),
        method: v.method as i32,
        document: v.document.clone(),
        agent_identifier: v
            .agent_identifier
            .as_deref()
            .map(credit_desk_proto::ident::mask)
            .unwrap_or_default(),
        agent_name: v.agent_name.clone().unwrap_or_default(),
        poa_reference: v.poa_reference.clone().unwrap_or_default(),
        operator_name: v.operator_name.clone(),
        org_unit_name: v.org_unit_name.clone(),
        created_at_ms: v.created_at,
        expires_at_ms: v.expires_at,
        acting_as: v
            .acting_as
            .as_deref()
            .map_or(pb::OrgActor::Unspecified, domain::org_actor_from_str)
            as i32,
        licence: v.licence.clone().unwrap_or_default(),
    }
}

pub fn ssh_key(row: &crate::db::ssh_keys::SshKeyRow) -> pb::SshKey {
    pb::SshKey {
        fingerprint: row.fingerprint.clone(),
        algorithm: row
            .public_key
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string(),
        comment: row.comment.clone(),
        added_at_ms: row.added_at,
    }
}
