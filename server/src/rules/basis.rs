//! The basis of a credit query (征信管理条例 art. 13–18, SPEC §3): the
//! server decides whether a query may run, always, from the facts the
//! database holds. A query is either the subject's own (a live
//! verification of that subject at the counter) or made on a consent whose
//! grantee is the institution the query is for, whose purpose is the
//! query's, whose scope covers the categories asked, and which is live.

use std::collections::BTreeSet;

use credit_desk_proto::Lang;
use credit_desk_proto::pb::{Capability, Role};

pub use crate::authz::VerificationFacts;
use crate::authz::{self, Actor, VerificationRefusal};

/// Information categories: all of them, or a set of category codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Only(BTreeSet<String>),
}

impl Scope {
    pub fn of<I: IntoIterator<Item = S>, S: Into<String>>(codes: I) -> Scope {
        Scope::Only(codes.into_iter().map(Into::into).collect())
    }

    /// The categories of `asked` this scope does not cover.
    pub fn missing(&self, asked: &Scope) -> Vec<String> {
        match (self, asked) {
            (Scope::All, _) => Vec::new(),
            (Scope::Only(_), Scope::All) => vec!["*".into()],
            (Scope::Only(have), Scope::Only(want)) => want.difference(have).cloned().collect(),
        }
    }

    /// Stored form: `*` or comma-separated codes.
    pub fn to_text(&self) -> String {
        match self {
            Scope::All => "*".into(),
            Scope::Only(codes) => codes.iter().cloned().collect::<Vec<_>>().join(","),
        }
    }

    pub fn from_text(text: &str) -> Scope {
        match text.trim() {
            "*" | "" => Scope::All,
            t => Scope::of(t.split(',').map(str::trim).filter(|s| !s.is_empty())),
        }
    }
}

/// A consent as stored.
#[derive(Debug, Clone)]
pub struct ConsentFacts {
    pub id: String,
    pub subject_id: String,
    pub grantee_unit_id: String,
    pub purpose: String,
    pub scope: Scope,
    pub valid_from_ms: i64,
    pub valid_until_ms: i64,
    pub withdrawn_at_ms: Option<i64>,
}

/// What the query names as its basis, with the facts found for it (`None`
/// when the id named does not exist).
#[derive(Debug, Clone)]
pub enum Basis {
    /// The subject's own query at the counter.
    SelfQuery {
        verification: Option<VerificationFacts>,
    },
    /// On a consent, for `institution` (the grantee the report goes to).
    Consent {
        consent: Option<ConsentFacts>,
        institution_id: String,
        purpose: String,
    },
}

#[derive(Debug, Clone)]
pub struct Ask {
    pub subject_id: String,
    pub categories: Scope,
    pub basis: Basis,
}

/// Why a query is refused; each has its own message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    RoleMayNotQuery,
    /// Banks and departments query only on a consent.
    RoleNeedsConsent,
    /// Banks and departments query only for their own institution.
    NotOwnInstitution,
    NoVerification,
    /// A verification made at another unit's counter.
    VerificationOfAnotherUnit,
    VerificationOfAnotherSubject,
    VerificationExpired,
    NoConsent,
    ConsentOfAnotherSubject,
    ConsentForAnotherGrantee,
    PurposeMismatch {
        consented: String,
    },
    ScopeTooNarrow {
        missing: Vec<String>,
    },
    ConsentWithdrawn,
    ConsentNotYetValid,
    ConsentExpired,
    /// A self-query beyond the free ones of the year, not yet confirmed.
    FeeConfirmationRequired,
}

impl Refusal {
    /// Stored in the query log.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::RoleMayNotQuery => "role_may_not_query",
            Refusal::RoleNeedsConsent => "role_needs_consent",
            Refusal::NotOwnInstitution => "not_own_institution",
            Refusal::NoVerification => "no_verification",
            Refusal::VerificationOfAnotherUnit => "verification_of_another_unit",
            Refusal::VerificationOfAnotherSubject => "verification_of_another_subject",
            Refusal::VerificationExpired => "verification_expired",
            Refusal::NoConsent => "no_consent",
            Refusal::ConsentOfAnotherSubject => "consent_of_another_subject",
            Refusal::ConsentForAnotherGrantee => "consent_for_another_grantee",
            Refusal::PurposeMismatch { .. } => "purpose_mismatch",
            Refusal::ScopeTooNarrow { .. } => "scope_too_narrow",
            Refusal::ConsentWithdrawn => "consent_withdrawn",
            Refusal::ConsentNotYetValid => "consent_not_yet_valid",
            Refusal::ConsentExpired => "consent_expired",
            Refusal::FeeConfirmationRequired => {
                credit_desk_proto::errors::refusal::FEE_CONFIRMATION_REQUIRED
            }
        }
    }

    /// The refusal a stored code names, for reading the log back (the
    /// details a message would quote are not stored).
    pub fn from_code(code: &str) -> Option<Refusal> {
        const ALL: &[Refusal] = &[
            Refusal::RoleMayNotQuery,
            Refusal::RoleNeedsConsent,
            Refusal::NotOwnInstitution,
            Refusal::NoVerification,
            Refusal::VerificationOfAnotherUnit,
            Refusal::VerificationOfAnotherSubject,
            Refusal::VerificationExpired,
            Refusal::NoConsent,
            Refusal::ConsentOfAnotherSubject,
            Refusal::ConsentForAnotherGrantee,
            Refusal::ConsentWithdrawn,
            Refusal::ConsentNotYetValid,
            Refusal::ConsentExpired,
            Refusal::FeeConfirmationRequired,
        ];
        match code {
            "purpose_mismatch" => Some(Refusal::PurposeMismatch {
                consented: "…".into(),
            }),
            "scope_too_narrow" => Some(Refusal::ScopeTooNarrow {
                missing: vec!["…".into()],
            }),
            code => ALL.iter().find(|r| r.code() == code).cloned(),
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        let (zh, en): (String, String) = match self {
            Refusal::RoleMayNotQuery => (
                "当前角色不能查询信用报告".into(),
                "your role may not query credit reports".into(),
            ),
            Refusal::RoleNeedsConsent => (
                "金融机构和部门只能凭授权查询".into(),
                "banks and departments query only on a consent".into(),
            ),
            Refusal::NotOwnInstitution => (
                "只能为本机构查询".into(),
                "you may query only for your own institution".into(),
            ),
            Refusal::NoVerification => (
                "本人查询需要先完成身份核验".into(),
                "a self-query needs an identity verification first".into(),
            ),
            Refusal::VerificationOfAnotherUnit => (
                "该身份核验不是本柜台所做，请为到场的本人重新核验".into(),
                "that verification was made at another counter; verify the person here".into(),
            ),
            Refusal::VerificationOfAnotherSubject => (
                "该身份核验不是被查询人本人的".into(),
                "that verification is of another person".into(),
            ),
            Refusal::VerificationExpired => (
                "身份核验已过期，请重新核验".into(),
                "the verification has expired; verify again".into(),
            ),
            Refusal::NoConsent => ("找不到该授权".into(), "no such consent".into()),
            Refusal::ConsentOfAnotherSubject => (
                "该授权不是被查询人给出的".into(),
                "that consent was given by someone else".into(),
            ),
            Refusal::ConsentForAnotherGrantee => (
                "该授权的被授权机构不是本次查询的机构".into(),
                "that consent was given to another institution".into(),
            ),
            Refusal::PurposeMismatch { consented } => (
                format!("查询用途与授权用途（{consented}）不符"),
                format!("the purpose differs from the consented one ({consented})"),
            ),
            Refusal::ScopeTooNarrow { missing } => (
                format!("授权范围不含：{}", missing.join("、")),
                format!("the consent does not cover: {}", missing.join(", ")),
            ),
            Refusal::ConsentWithdrawn => {
                ("该授权已被撤回".into(), "the consent was withdrawn".into())
            }
            Refusal::ConsentNotYetValid => (
                "该授权尚未生效".into(),
                "the consent is not valid yet".into(),
            ),
            Refusal::ConsentExpired => ("该授权已过期".into(), "the consent has expired".into()),
            Refusal::FeeConfirmationRequired => (
                "本年度免费本人查询已用完（每年两次），本次查询收费，请确认后再查询".into(),
                "the two free self-queries of this year are used; this one is charged — confirm to go on"
                    .into(),
            ),
        };
        lang.pick(zh, en)
    }
}

/// A query that may run: on whose basis and for whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allowed {
    SelfQuery,
    Consent {
        consent_id: String,
        institution_id: String,
        purpose: String,
    },
}

fn check_verification(
    asker: Actor<'_>,
    v: &Option<VerificationFacts>,
    subject_id: &str,
    now: i64,
) -> Result<(), Refusal> {
    let v = v.as_ref().ok_or(Refusal::NoVerification)?;
    authz::use_verification(asker, v, Some(subject_id), now).map_err(|r| match r {
        VerificationRefusal::OtherUnit => Refusal::VerificationOfAnotherUnit,
        VerificationRefusal::OtherSubject => Refusal::VerificationOfAnotherSubject,
        VerificationRefusal::Expired => Refusal::VerificationExpired,
    })
}

fn check_consent(
    c: &Option<ConsentFacts>,
    ask: &Ask,
    institution_id: &str,
    purpose: &str,
    now: i64,
) -> Result<String, Refusal> {
    let c = c.as_ref().ok_or(Refusal::NoConsent)?;
    if c.subject_id != ask.subject_id {
        return Err(Refusal::ConsentOfAnotherSubject);
    }
    if c.grantee_unit_id != institution_id {
        return Err(Refusal::ConsentForAnotherGrantee);
    }
    if c.purpose != purpose {
        return Err(Refusal::PurposeMismatch {
            consented: c.purpose.clone(),
        });
    }
    let missing = c.scope.missing(&ask.categories);
    if !missing.is_empty() {
        return Err(Refusal::ScopeTooNarrow { missing });
    }
    if c.withdrawn_at_ms.is_some_and(|w| w <= now) {
        return Err(Refusal::ConsentWithdrawn);
    }
    if now < c.valid_from_ms {
        return Err(Refusal::ConsentNotYetValid);
    }
    if now > c.valid_until_ms {
        return Err(Refusal::ConsentExpired);
    }
    Ok(c.id.clone())
}

pub fn decide(asker: Actor<'_>, ask: &Ask, now: i64) -> Result<Allowed, Refusal> {
    // The auth layer lets every role through to a query (RecordedAttempt)
    // so that a refused attempt is logged: the role is decided here.
    if !crate::domain::capabilities(asker.role).contains(&Capability::Query) {
        return Err(Refusal::RoleMayNotQuery);
    }
    let institution = matches!(asker.role, Role::Bank | Role::Liaison);
    match &ask.basis {
        Basis::SelfQuery { .. } if institution => Err(Refusal::RoleNeedsConsent),
        Basis::SelfQuery { verification } => {
            check_verification(asker, verification, &ask.subject_id, now)?;
            Ok(Allowed::SelfQuery)
        }
        Basis::Consent { institution_id, .. }
            if institution && *institution_id != asker.unit_id =>
        {
            Err(Refusal::NotOwnInstitution)
        }
        Basis::Consent {
            consent,
            institution_id,
            purpose,
        } => {
            let consent_id = check_consent(consent, ask, institution_id, purpose, now)?;
            Ok(Allowed::Consent {
                consent_id,
                institution_id: institution_id.clone(),
                purpose: purpose.clone(),
            })
        }
    }
}

/// The categories a query asks for: those named, or when none are named,
/// everything its consent covers (everything, for a self-query).
pub fn categories_asked(basis: &Basis, named: &[String]) -> Scope {
    match basis {
        _ if !named.is_empty() => Scope::of(named.iter().cloned()),
        Basis::Consent {
            consent: Some(c), ..
        } => c.scope.clone(),
        _ => Scope::All,
    }
}

/// What is decided about a query attempt: the basis decision, and whether
/// a fee applies (a self-query beyond the year's free ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub result: Result<Allowed, Refusal>,
    pub fee_applies: bool,
}

/// The whole decision on an attempt: the basis, then for an allowed
/// self-query the fee — charged from the third of the calendar year, and
/// only run once the clerk confirmed the person agreed to pay.
pub fn decide_query(
    asker: Actor<'_>,
    ask: &Ask,
    now: i64,
    self_queries_this_year_before: u32,
    fee_confirmed: bool,
) -> Decision {
    let result = decide(asker, ask, now);
    let fee_applies =
        matches!(result, Ok(Allowed::SelfQuery)) && fee_applies(self_queries_this_year_before);
    let result = match result {
        Ok(Allowed::SelfQuery) if fee_applies && !fee_confirmed => {
            Err(Refusal::FeeConfirmationRequired)
        }
        other => other,
    };
    Decision {
        result,
        fee_applies,
    }
}

/// Self-queries: the first two in a calendar year are free (条例 art. 17).
pub const FREE_SELF_QUERIES_PER_YEAR: u32 = 2;

pub fn fee_applies(self_queries_this_year_before: u32) -> bool {
    self_queries_this_year_before >= FREE_SELF_QUERIES_PER_YEAR
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;
    const DAY: i64 = 86_400_000;

    /// A verification made at the counter of "town1".
    fn verification(subject: &str, expires: i64) -> Option<VerificationFacts> {
        verification_at("town1", subject, expires)
    }

    fn verification_at(unit: &str, subject: &str, expires: i64) -> Option<VerificationFacts> {
        Some(VerificationFacts {
            subject_id: subject.into(),
            unit_id: unit.into(),
            expires_at_ms: expires,
        })
    }

    fn consent() -> ConsentFacts {
        ConsentFacts {
            id: "c1".into(),
            subject_id: "s1".into(),
            grantee_unit_id: "bank1".into(),
            purpose: "loan_approval".into(),
            scope: Scope::All,
            valid_from_ms: NOW - DAY,
            valid_until_ms: NOW + 29 * DAY,
            withdrawn_at_ms: None,
        }
    }

    fn on_consent(c: Option<ConsentFacts>, institution: &str, purpose: &str, asked: Scope) -> Ask {
        Ask {
            subject_id: "s1".into(),
            categories: asked,
            basis: Basis::Consent {
                consent: c,
                institution_id: institution.into(),
                purpose: purpose.into(),
            },
        }
    }

    fn self_query(v: Option<VerificationFacts>) -> Ask {
        Ask {
            subject_id: "s1".into(),
            categories: Scope::All,
            basis: Basis::SelfQuery { verification: v },
        }
    }

    fn asker(role: Role, unit: &'static str) -> Actor<'static> {
        Actor {
            role,
            unit_id: unit,
            unit_path: "",
        }
    }

    #[test]
    fn self_query_needs_a_live_verification_of_the_same_subject() {
        let clerk = asker(Role::Counter, "town1");
        assert_eq!(
            decide(clerk, &self_query(None), NOW),
            Err(Refusal::NoVerification)
        );
        assert_eq!(
            decide(clerk, &self_query(verification("s1", NOW)), NOW),
            Err(Refusal::VerificationExpired)
        );
        assert_eq!(
            decide(clerk, &self_query(verification("s2", NOW + 1)), NOW),
            Err(Refusal::VerificationOfAnotherSubject)
        );
        assert_eq!(
            decide(clerk, &self_query(verification("s1", NOW + 1)), NOW),
            Ok(Allowed::SelfQuery)
        );
        let center = asker(Role::Center, "center");
        assert_eq!(
            decide(
                center,
                &self_query(verification_at("center", "s1", NOW + 1)),
                NOW
            ),
            Ok(Allowed::SelfQuery)
        );
        // Another counter's verification: the person is not at this one,
        // whoever asks (the center too), and that is said first.
        for a in [center, asker(Role::Counter, "town2")] {
            assert_eq!(
                decide(a, &self_query(verification("s2", NOW)), NOW),
                Err(Refusal::VerificationOfAnotherUnit)
            );
        }
    }

    #[test]
    fn banks_and_departments_only_on_consent_for_themselves() {
        for role in [Role::Bank, Role::Liaison] {
            let a = asker(role, "bank1");
            assert_eq!(
                decide(a, &self_query(verification("s1", NOW + 1)), NOW),
                Err(Refusal::RoleNeedsConsent)
            );
            let ask = on_consent(Some(consent()), "bank2", "loan_approval", Scope::All);
            assert_eq!(decide(a, &ask, NOW), Err(Refusal::NotOwnInstitution));
        }
        let ask = on_consent(Some(consent()), "bank1", "loan_approval", Scope::All);
        assert!(matches!(
            decide(asker(Role::Bank, "bank1"), &ask, NOW),
            Ok(Allowed::Consent { .. })
        ));
    }

    #[test]
    fn supervisors_and_administrators_do_not_query() {
        for role in [Role::Supervisor, Role::Admin, Role::Unspecified] {
            let ask = on_consent(Some(consent()), "bank1", "loan_approval", Scope::All);
            assert_eq!(
                decide(asker(role, "center"), &ask, NOW),
                Err(Refusal::RoleMayNotQuery)
            );
        }
    }

    /// The role check the auth layer leaves to this module is exactly the
    /// Query capability.
    #[test]
    fn a_role_may_query_exactly_when_it_holds_the_query_capability() {
        for role in crate::domain::ALL_ROLES {
            let ask = on_consent(Some(consent()), "bank1", "loan_approval", Scope::All);
            let refused_for_role =
                decide(asker(role, "bank1"), &ask, NOW) == Err(Refusal::RoleMayNotQuery);
            let holds = crate::domain::capabilities(role).contains(&Capability::Query);
            assert_eq!(refused_for_role, !holds, "{role:?}");
        }
    }

    /// Every way a consent can fail, each on its own, from a counter clerk
    /// querying for the bank the consent was given to.
    #[test]
    fn consent_decision_table() {
        let clerk = asker(Role::Counter, "town1");
        let with = |f: &dyn Fn(&mut ConsentFacts)| {
            let mut c = consent();
            f(&mut c);
            Some(c)
        };
        let cases: Vec<(&str, Ask, Result<Allowed, Refusal>)> = vec![
            (
                "valid",
                on_consent(
                    Some(consent()),
                    "bank1",
                    "loan_approval",
                    Scope::of(["tax_arrears"]),
                ),
                Ok(Allowed::Consent {
                    consent_id: "c1".into(),
                    institution_id: "bank1".into(),
                    purpose: "loan_approval".into(),
                }),
            ),
            (
                "no consent",
                on_consent(None, "bank1", "loan_approval", Scope::All),
                Err(Refusal::NoConsent),
            ),
            (
                "another subject's consent",
                on_consent(
                    with(&|c| c.subject_id = "s2".into()),
                    "bank1",
                    "loan_approval",
                    Scope::All,
                ),
                Err(Refusal::ConsentOfAnotherSubject),
            ),
            (
                "consent of another grantee",
                on_consent(Some(consent()), "bank2", "loan_approval", Scope::All),
                Err(Refusal::ConsentForAnotherGrantee),
            ),
            (
                "other purpose",
                on_consent(Some(consent()), "bank1", "post_loan", Scope::All),
                Err(Refusal::PurposeMismatch {
                    consented: "loan_approval".into(),
                }),
            ),
            (
                "narrower scope",
                on_consent(
                    with(&|c| c.scope = Scope::of(["tax_arrears"])),
                    "bank1",
                    "loan_approval",
                    Scope::of(["tax_arrears", "court_judgment"]),
                ),
                Err(Refusal::ScopeTooNarrow {
                    missing: vec!["court_judgment".into()],
                }),
            ),
            (
                "narrower scope, everything asked",
                on_consent(
                    with(&|c| c.scope = Scope::of(["tax_arrears"])),
                    "bank1",
                    "loan_approval",
                    Scope::All,
                ),
                Err(Refusal::ScopeTooNarrow {
                    missing: vec!["*".into()],
                }),
            ),
            (
                "expired",
                on_consent(
                    with(&|c| c.valid_until_ms = NOW - 1),
                    "bank1",
                    "loan_approval",
                    Scope::All,
                ),
                Err(Refusal::ConsentExpired),
            ),
            (
                "withdrawn",
                on_consent(
                    with(&|c| c.withdrawn_at_ms = Some(NOW - 1)),
                    "bank1",
                    "loan_approval",
                    Scope::All,
                ),
                Err(Refusal::ConsentWithdrawn),
            ),
            (
                "withdrawn at this very moment",
                on_consent(
                    with(&|c| c.withdrawn_at_ms = Some(NOW)),
                    "bank1",
                    "loan_approval",
                    Scope::All,
                ),
                Err(Refusal::ConsentWithdrawn),
            ),
            (
                "not yet valid",
                on_consent(
                    with(&|c| c.valid_from_ms = NOW + 1),
                    "bank1",
                    "loan_approval",
                    Scope::All,
                ),
                Err(Refusal::ConsentNotYetValid),
            ),
            (
                "valid on its last millisecond",
                on_consent(
                    with(&|c| c.valid_until_ms = NOW),
                    "bank1",
                    "loan_approval",
                    Scope::All,
                ),
                Ok(Allowed::Consent {
                    consent_id: "c1".into(),
                    institution_id: "bank1".into(),
                    purpose: "loan_approval".into(),
                }),
            ),
        ];
        for (name, ask, expected) in cases {
            assert_eq!(decide(clerk, &ask, NOW), expected, "{name}");
        }
    }

    #[test]
    fn every_refusal_has_a_code_and_two_messages() {
        let all = [
            Refusal::RoleMayNotQuery,
            Refusal::RoleNeedsConsent,
            Refusal::NotOwnInstitution,
            Refusal::NoVerification,
            Refusal::VerificationOfAnotherSubject,
            Refusal::VerificationExpired,
            Refusal::NoConsent,
            Refusal::ConsentOfAnotherSubject,
            Refusal::ConsentForAnotherGrantee,
            Refusal::PurposeMismatch {
                consented: "x".into(),
            },
            Refusal::ScopeTooNarrow {
                missing: vec!["x".into()],
            },
            Refusal::ConsentWithdrawn,
            Refusal::ConsentNotYetValid,
            Refusal::ConsentExpired,
        ];
        let codes: BTreeSet<_> = all.iter().map(Refusal::code).collect();
        assert_eq!(codes.len(), all.len(), "codes are distinct");
        for r in &all {
            assert_ne!(r.message(Lang::Zh), r.message(Lang::En));
        }
    }

    #[test]
    fn scope_text_round_trips() {
        assert_eq!(Scope::from_text("*"), Scope::All);
        let s = Scope::from_text("tax_arrears, court_judgment");
        assert_eq!(s.to_text(), "court_judgment,tax_arrears");
        assert_eq!(Scope::from_text(&s.to_text()), s);
    }

    #[test]
    fn third_self_query_in_a_year_costs() {
        let clerk = asker(Role::Counter, "town1");
        let ask = self_query(verification("s1", NOW + 1));
        let decided = |before, confirmed| decide_query(clerk, &ask, NOW, before, confirmed);
        assert_eq!(
            decided(1, false),
            Decision {
                result: Ok(Allowed::SelfQuery),
                fee_applies: false
            }
        );
        assert_eq!(
            decided(2, false),
            Decision {
                result: Err(Refusal::FeeConfirmationRequired),
                fee_applies: true
            }
        );
        assert_eq!(
            decided(2, true),
            Decision {
                result: Ok(Allowed::SelfQuery),
                fee_applies: true
            }
        );
        // A refused query costs nothing, whatever the count.
        let expired = self_query(verification("s1", NOW));
        assert_eq!(
            decide_query(clerk, &expired, NOW, 5, true),
            Decision {
                result: Err(Refusal::VerificationExpired),
                fee_applies: false
            }
        );
        assert!(!fee_applies(0));
        assert!(!fee_applies(1));
        assert!(fee_applies(2));
        assert!(fee_applies(5));
    }
}
