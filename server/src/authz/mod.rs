//! Who may call what: the one place where roles and org-unit scope are
//! decided. The auth layer looks every gRPC path up in [`access_for`]; an
//! unknown path is refused (deny by default), so a new RPC cannot go live
//! without an entry here. What a caller may do to the object a call names
//! (a unit, a ticket, a verification …) is decided in [`objects`].

mod objects;

pub use objects::*;

use credit_desk_proto::Lang;
use credit_desk_proto::pb::{Capability, Role};

use crate::domain;

/// What a gRPC method needs from its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No session: login, health checks, reflection.
    Public,
    /// Any live session, even one that must change its password first.
    AnySession,
    /// A live session that has no pending password change, holding this
    /// capability.
    Capability(Capability),
    /// A session without a pending password change, holding any of these.
    AnyOf(&'static [Capability]),
    /// A session without a pending password change; the service decides
    /// whether the role may do this, after recording the attempt. Query
    /// attempts are logged whoever makes them (条例 art. 22), so a role
    /// without the capability is refused there, not here.
    RecordedAttempt(Capability),
    /// Not a known method: refused.
    Unknown,
}

pub fn access_for(path: &str) -> Access {
    use Capability as C;
    match path {
        "/creditdesk.v1.Auth/Login" => Access::Public,
        "/creditdesk.v1.Auth/Logout"
        | "/creditdesk.v1.Auth/ChangePassword"
        | "/creditdesk.v1.Auth/Home" => Access::AnySession,
        "/creditdesk.v1.Admin/ListOrgUnits"
        | "/creditdesk.v1.Admin/CreateOrgUnit"
        | "/creditdesk.v1.Admin/UpdateOrgUnit" => Access::Capability(C::ManageOrgUnits),
        "/creditdesk.v1.Admin/ListSettings" | "/creditdesk.v1.Admin/ChangeSetting" => {
            Access::Capability(C::ManageSettings)
        }
        "/creditdesk.v1.Admin/ListOperators"
        | "/creditdesk.v1.Admin/CreateOperator"
        | "/creditdesk.v1.Admin/SetOperatorEnabled"
        | "/creditdesk.v1.Admin/UpdateOperator"
        | "/creditdesk.v1.Admin/ResetPassword"
        | "/creditdesk.v1.Admin/UnlockOperator"
        | "/creditdesk.v1.Admin/ListSshKeys"
        | "/creditdesk.v1.Admin/AddSshKey"
        | "/creditdesk.v1.Admin/RemoveSshKey" => Access::Capability(C::ManageOperators),
        // Households too: checked again against the household's township.
        "/creditdesk.v1.Identity/Verify"
        | "/creditdesk.v1.Identity/RegisterSubject"
        | "/creditdesk.v1.Identity/CreateHousehold"
        | "/creditdesk.v1.Identity/ChangeHousehold" => Access::Capability(C::VerifyIdentity),
        "/creditdesk.v1.Identity/GetSubject" | "/creditdesk.v1.Identity/ListSubjects" => {
            Access::Capability(C::ViewSubjects)
        }
        "/creditdesk.v1.Intake/ImportFile"
        | "/creditdesk.v1.Intake/ListImports"
        | "/creditdesk.v1.Intake/AcceptConflict" => Access::Capability(C::ImportData),
        // Purposes are read by everyone who captures consents (and admins).
        "/creditdesk.v1.Consent/ListPurposes" => {
            Access::AnyOf(&[C::CaptureConsent, C::ManagePurposes])
        }
        "/creditdesk.v1.Consent/AddPurpose"
        | "/creditdesk.v1.Consent/RetirePurpose"
        | "/creditdesk.v1.Consent/RestorePurpose" => Access::Capability(C::ManagePurposes),
        "/creditdesk.v1.Consent/CaptureConsent"
        | "/creditdesk.v1.Consent/WithdrawConsent"
        | "/creditdesk.v1.Consent/ListConsents" => Access::Capability(C::CaptureConsent),
        "/creditdesk.v1.Query/RunQuery" => Access::RecordedAttempt(C::Query),
        // Scoped in the service: the issuing unit's tree, or an inspection.
        "/creditdesk.v1.Query/GetIssuedReport" => Access::AnyOf(&[C::Query, C::ReviewQueries]),
        // Only the caller's own acts.
        "/creditdesk.v1.Query/MyDay" => Access::AnyOf(&[C::VerifyIdentity, C::Query]),
        "/creditdesk.v1.Consent/FindConsents" => Access::Capability(C::Query),
        // Explanations are taken at the counter, from the verified subject.
        "/creditdesk.v1.Query/AddExplanation" => Access::Capability(C::VerifyIdentity),
        "/creditdesk.v1.Supervision/SearchQueryLog"
        | "/creditdesk.v1.Supervision/ExportQueryLog" => Access::Capability(C::ReviewQueries),
        // Complaints are taken wherever objections are; the center answers.
        "/creditdesk.v1.Complaint/FileComplaint" => {
            Access::AnyOf(&[C::FileObjections, C::HandleComplaints])
        }
        "/creditdesk.v1.Complaint/ListComplaints" => {
            Access::AnyOf(&[C::FileObjections, C::HandleComplaints, C::ReviewQueries])
        }
        "/creditdesk.v1.Complaint/AssignComplaint" | "/creditdesk.v1.Complaint/AnswerComplaint" => {
            Access::Capability(C::HandleComplaints)
        }
        "/creditdesk.v1.Supervision/GetDayReview"
        | "/creditdesk.v1.Supervision/ConcludeAlert"
        | "/creditdesk.v1.Supervision/SignOffDay"
        // The monthly statistics are the same supervisors' sign-off.
        | "/creditdesk.v1.Supervision/GetMonthReport"
        | "/creditdesk.v1.Supervision/SignOffMonth"
        | "/creditdesk.v1.Supervision/ExportMonthReport" => Access::Capability(C::ReviewDays),
        "/creditdesk.v1.Objection/GetCalendar" => Access::AnyOf(&[C::ManageCalendar, C::ViewQueue]),
        "/creditdesk.v1.Objection/ChangeCalendar" => Access::Capability(C::ManageCalendar),
        "/creditdesk.v1.Objection/FileObjection" | "/creditdesk.v1.Objection/AddStatement" => {
            Access::Capability(C::FileObjections)
        }
        // Each act is checked again against the caller's role and scope.
        "/creditdesk.v1.Objection/GetTicket"
        | "/creditdesk.v1.Objection/ActOnTicket"
        | "/creditdesk.v1.Objection/ListQueue"
        | "/creditdesk.v1.Objection/FindTickets" => Access::Capability(C::ViewQueue),
        p if p.starts_with("/grpc.health.v1.Health/")
            || p.starts_with("/grpc.reflection.v1.ServerReflection/")
            || p.starts_with("/grpc.reflection.v1alpha.ServerReflection/") =>
        {
            Access::Public
        }
        _ => Access::Unknown,
    }
}

/// The authenticated operator behind a request, put into the request's
/// extensions by the auth layer for the service to read.
#[derive(Debug, Clone)]
pub struct Caller {
    pub operator_id: String,
    pub username: String,
    pub role: Role,
    pub org_unit_id: String,
    /// Materialised path of the caller's unit, `/<root>/…/<unit>/`.
    pub org_unit_path: String,
    pub must_change_password: bool,
    pub token_hash: String,
    /// The terminal named at login, recorded with what the caller does.
    pub terminal: String,
    pub lang: Lang,
}

impl Caller {
    pub fn has(&self, cap: Capability) -> bool {
        domain::capabilities(self.role).contains(&cap)
    }
}

/// Why a caller was refused before reaching the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    PasswordChangeRequired,
    MissingCapability,
    UnknownMethod,
}

/// Decides whether an authenticated caller may use a method with this access.
pub fn check(access: Access, caller: &Caller) -> Result<(), Refusal> {
    match access {
        Access::Public | Access::AnySession => Ok(()),
        Access::Unknown => Err(Refusal::UnknownMethod),
        Access::Capability(_) if caller.must_change_password => {
            Err(Refusal::PasswordChangeRequired)
        }
        Access::Capability(cap) if caller.has(cap) => Ok(()),
        Access::Capability(_) => Err(Refusal::MissingCapability),
        Access::AnyOf(_) if caller.must_change_password => Err(Refusal::PasswordChangeRequired),
        Access::AnyOf(caps) if caps.iter().any(|c| caller.has(*c)) => Ok(()),
        Access::AnyOf(_) => Err(Refusal::MissingCapability),
        Access::RecordedAttempt(_) if caller.must_change_password => {
            Err(Refusal::PasswordChangeRequired)
        }
        Access::RecordedAttempt(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ALL_ROLES;

    fn caller(role: Role) -> Caller {
        Caller {
            operator_id: "op".into(),
            username: "u".into(),
            role,
            org_unit_id: "b".into(),
            org_unit_path: "/a/b/".into(),
            must_change_password: false,
            token_hash: String::new(),
            terminal: String::new(),
            lang: Lang::Zh,
        }
    }

    #[test]
    fn every_service_method_has_an_entry() {
        use credit_desk_proto::pb::FILE_DESCRIPTOR_SET;
        use prost::Message;
        let fds = prost_types::FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).unwrap();
        let mut n = 0;
        for file in &fds.file {
            for service in &file.service {
                for method in &service.method {
                    let path = format!("/{}.{}/{}", file.package(), service.name(), method.name());
                    assert_ne!(access_for(&path), Access::Unknown, "{path}");
                    n += 1;
                }
            }
        }
        assert!(n >= 10, "only {n} methods found");
    }

    #[test]
    fn public_and_unknown_paths() {
        assert_eq!(access_for("/creditdesk.v1.Auth/Login"), Access::Public);
        assert_eq!(access_for("/grpc.health.v1.Health/Check"), Access::Public);
        assert_eq!(access_for("/creditdesk.v1.Auth/Nope"), Access::Unknown);
        assert_eq!(
            access_for("/creditdesk.v1.Admin/ListOrgUnits/x"),
            Access::Unknown
        );
        assert_eq!(
            check(Access::Unknown, &caller(Role::Admin)),
            Err(Refusal::UnknownMethod)
        );
    }

    #[test]
    fn counter_verifies_but_does_not_import() {
        let c = caller(Role::Counter);
        assert_eq!(
            check(access_for("/creditdesk.v1.Identity/Verify"), &c),
            Ok(())
        );
        assert_eq!(
            check(access_for("/creditdesk.v1.Intake/ImportFile"), &c),
            Err(Refusal::MissingCapability)
        );
        let l = caller(Role::Liaison);
        assert_eq!(
            check(access_for("/creditdesk.v1.Intake/ImportFile"), &l),
            Ok(())
        );
        assert_eq!(
            check(access_for("/creditdesk.v1.Identity/Verify"), &l),
            Err(Refusal::MissingCapability)
        );
    }

    #[test]
    fn admin_methods_need_the_admin_role() {
        let access = access_for("/creditdesk.v1.Admin/CreateOperator");
        for role in ALL_ROLES {
            let expected = if role == Role::Admin {
                Ok(())
            } else {
                Err(Refusal::MissingCapability)
            };
            assert_eq!(check(access, &caller(role)), expected, "{role:?}");
        }
    }

    #[test]
    fn pending_password_change_allows_only_session_methods() {
        let mut c = caller(Role::Admin);
        c.must_change_password = true;
        assert_eq!(
            check(access_for("/creditdesk.v1.Admin/ListOrgUnits"), &c),
            Err(Refusal::PasswordChangeRequired)
        );
        for m in ["Logout", "ChangePassword", "Home"] {
            let access = access_for(&format!("/creditdesk.v1.Auth/{m}"));
            assert_eq!(check(access, &c), Ok(()), "{m}");
        }
    }

    #[test]
    fn scope_is_own_subtree() {
        let c = caller(Role::Admin);
        let c = c.actor();
        assert!(c.covers("/a/b/"));
        assert!(c.covers("/a/b/c/"));
        assert!(!c.covers("/a/"));
        assert!(!c.covers("/a/bc/"));
        assert!(!c.covers("/a/d/"));
    }
}
