//! How roles and org-unit kinds are spelled in the database, and what each
//! role may do.

use credit_desk_proto::pb::{Capability, OrgUnitKind, Role};

pub fn role_to_str(role: Role) -> &'static str {
    match role {
        Role::Unspecified => "unspecified",
        Role::Counter => "counter",
        Role::Center => "center",
        Role::Liaison => "liaison",
        Role::Bank => "bank",
        Role::Supervisor => "supervisor",
        Role::Admin => "admin",
    }
}

pub fn role_from_str(s: &str) -> Option<Role> {
    ALL_ROLES.into_iter().find(|r| role_to_str(*r) == s)
}

pub const ALL_ROLES: [Role; 6] = [
    Role::Counter,
    Role::Center,
    Role::Liaison,
    Role::Bank,
    Role::Supervisor,
    Role::Admin,
];

pub fn kind_to_str(kind: OrgUnitKind) -> &'static str {
    match kind {
        OrgUnitKind::Unspecified => "unspecified",
        OrgUnitKind::Center => "center",
        OrgUnitKind::Township => "township",
        OrgUnitKind::VillageStation => "village_station",
        OrgUnitKind::Department => "department",
        OrgUnitKind::Bank => "bank",
    }
}

pub fn kind_from_str(s: &str) -> Option<OrgUnitKind> {
    [
        OrgUnitKind::Center,
        OrgUnitKind::Township,
        OrgUnitKind::VillageStation,
        OrgUnitKind::Department,
        OrgUnitKind::Bank,
    ]
    .into_iter()
    .find(|k| kind_to_str(*k) == s)
}

/// What a role may do. The client draws menu entries from this list; the
/// server's access table ([`crate::authz`]) checks the same capabilities.
pub fn capabilities(role: Role) -> Vec<Capability> {
    let mut caps = vec![Capability::ChangeOwnPassword];
    if role == Role::Admin {
        caps.push(Capability::ManageOrgUnits);
        caps.push(Capability::ManageOperators);
    }
    caps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for r in ALL_ROLES {
            assert_eq!(role_from_str(role_to_str(r)), Some(r));
        }
        assert_eq!(role_from_str("unspecified"), None);
        assert_eq!(role_from_str("root"), None);
    }

    #[test]
    fn kind_names_round_trip() {
        for k in 1..=5 {
            let k = OrgUnitKind::try_from(k).unwrap();
            assert_eq!(kind_from_str(kind_to_str(k)), Some(k));
        }
        assert_eq!(kind_from_str("unspecified"), None);
    }

    #[test]
    fn only_admins_administer() {
        for r in ALL_ROLES {
            let caps = capabilities(r);
            assert!(caps.contains(&Capability::ChangeOwnPassword));
            assert_eq!(
                caps.contains(&Capability::ManageOperators),
                r == Role::Admin
            );
            assert_eq!(caps.contains(&Capability::ManageOrgUnits), r == Role::Admin);
        }
    }
}
