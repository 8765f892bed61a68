//! How roles and org-unit kinds are spelled in the database, and what each
//! role may do.

use credit_desk_proto::pb::{self, Capability, OrgUnitKind, Role, SubjectKind, VerificationMethod};

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

pub fn method_to_str(m: VerificationMethod) -> &'static str {
    match m {
        VerificationMethod::Unspecified => "unspecified",
        VerificationMethod::IdCardInspected => "id_card_inspected",
        VerificationMethod::IdCardReader => "id_card_reader",
        VerificationMethod::OtherDocument => "other_document",
        VerificationMethod::AgentWithPoa => "agent_with_poa",
    }
}

/// Who acted for an organisation, as stored.
pub fn org_actor_to_str(a: pb::OrgActor) -> Option<&'static str> {
    match a {
        pb::OrgActor::Unspecified => None,
        pb::OrgActor::LegalRepresentative => Some("legal_representative"),
        pb::OrgActor::AuthorisedAgent => Some("authorised_agent"),
    }
}

pub fn org_actor_from_str(s: &str) -> pb::OrgActor {
    [
        pb::OrgActor::LegalRepresentative,
        pb::OrgActor::AuthorisedAgent,
    ]
    .into_iter()
    .find(|a| org_actor_to_str(*a) == Some(s))
    .unwrap_or(pb::OrgActor::Unspecified)
}

pub fn method_from_str(s: &str) -> Option<VerificationMethod> {
    [
        VerificationMethod::IdCardInspected,
        VerificationMethod::IdCardReader,
        VerificationMethod::OtherDocument,
        VerificationMethod::AgentWithPoa,
    ]
    .into_iter()
    .find(|m| method_to_str(*m) == s)
}

pub fn subject_kind_to_str(kind: SubjectKind) -> &'static str {
    match kind {
        SubjectKind::Person => "person",
        SubjectKind::Organisation => "organisation",
        SubjectKind::Household => "household",
        SubjectKind::Unspecified => "unspecified",
    }
}

pub fn subject_kind_from_str(s: &str) -> Option<SubjectKind> {
    [
        SubjectKind::Person,
        SubjectKind::Organisation,
        SubjectKind::Household,
    ]
    .into_iter()
    .find(|k| subject_kind_to_str(*k) == s)
}

/// What a role may do. The client draws menu entries from this list; the
/// server's access table ([`crate::authz`]) checks the same capabilities.
pub fn capabilities(role: Role) -> Vec<Capability> {
    use Capability as C;
    let mut caps = vec![C::ChangeOwnPassword];
    caps.extend_from_slice(match role {
        Role::Counter => &[
            C::VerifyIdentity,
            C::ViewSubjects,
            C::CaptureConsent,
            C::Query,
            C::FileObjections,
            C::ViewQueue,
        ][..],
        Role::Center => &[
            C::VerifyIdentity,
            C::ViewSubjects,
            C::ImportData,
            C::CaptureConsent,
            C::Query,
            C::FileObjections,
            C::HandleObjections,
            C::ViewQueue,
            C::ReviewQueries,
            C::HandleComplaints,
        ],
        Role::Liaison => &[C::ImportData, C::Query, C::AnswerRequests, C::ViewQueue],
        Role::Supervisor => &[
            C::ViewSubjects,
            C::ViewQueue,
            C::ReviewQueries,
            C::ReviewDays,
        ],
        Role::Admin => &[
            C::ManageOrgUnits,
            C::ManageOperators,
            C::ManagePurposes,
            C::ManageCalendar,
            C::ManageSettings,
        ],
        Role::Bank => &[C::Query],
        Role::Unspecified => &[],
    });
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
    fn method_names_round_trip() {
        for m in 1..=4 {
            let m = VerificationMethod::try_from(m).unwrap();
            assert_eq!(method_from_str(method_to_str(m)), Some(m));
        }
        assert_eq!(method_from_str("telepathy"), None);
        for k in ["person", "organisation", "household"] {
            assert!(subject_kind_from_str(k).is_some(), "{k}");
        }
        assert_eq!(subject_kind_from_str("company"), None);
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
    fn who_verifies_views_and_imports() {
        let has = |r, c| capabilities(r).contains(&c);
        for r in ALL_ROLES {
            assert_eq!(
                has(r, Capability::VerifyIdentity),
                matches!(r, Role::Counter | Role::Center),
                "{r:?}"
            );
            assert_eq!(
                has(r, Capability::ImportData),
                matches!(r, Role::Center | Role::Liaison),
                "{r:?}"
            );
            assert_eq!(
                has(r, Capability::ViewSubjects),
                matches!(r, Role::Counter | Role::Center | Role::Supervisor),
                "{r:?}"
            );
        }
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
