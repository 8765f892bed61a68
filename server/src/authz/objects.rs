//! May this operator do this to this object? The method table in the
//! parent module decides who may call an RPC at all; the functions here
//! decide, for the object a call names, whether its caller may touch it.
//! They are pure: services load the facts (the caller's unit and its place
//! in the tree, the object's units and department), ask here, and act on
//! the answer. Nothing else in the server decides access.

use credit_desk_proto::pb::Role;

use super::Caller;

/// The caller as the decisions see it: a role and a place in the org tree.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub role: Role,
    pub unit_id: &'a str,
    /// Materialised path of the caller's unit, `/<root>/…/<unit>/`.
    pub unit_path: &'a str,
}

impl Caller {
    pub fn actor(&self) -> Actor<'_> {
        Actor {
            role: self.role,
            unit_id: &self.org_unit_id,
            unit_path: &self.org_unit_path,
        }
    }
}

impl Actor<'_> {
    /// The caller's own unit or one below it; never a sibling or a parent.
    pub fn covers(&self, unit_path: &str) -> bool {
        unit_path.starts_with(self.unit_path)
    }
}

/// Why an object-level decision refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// The object exists but belongs to units outside the caller's.
    OutOfScope,
    /// The caller's role never does this, whoever's the object is.
    Role,
}

/// An org unit as a decision needs it.
#[derive(Debug, Clone, Copy)]
pub struct Unit<'a> {
    pub id: &'a str,
    pub path: &'a str,
}

/// Administering a unit, or an operator who belongs to it.
pub fn manage_unit(actor: Actor<'_>, unit_path: &str) -> Result<(), Denied> {
    if actor.covers(unit_path) {
        Ok(())
    } else {
        Err(Denied::OutOfScope)
    }
}

/// Importing a department's file: a liaison for their own department only,
/// center staff for the departments under them.
pub fn import_for(actor: Actor<'_>, department: Unit<'_>) -> Result<(), Denied> {
    let allowed = match actor.role {
        Role::Liaison => department.id == actor.unit_id,
        _ => actor.covers(department.path),
    };
    if allowed {
        Ok(())
    } else {
        Err(Denied::OutOfScope)
    }
}

/// Whether a consent given to `grantee_unit_id` is shown to the caller:
/// banks and departments see only consents given to themselves.
pub fn sees_consent(actor: Actor<'_>, grantee_unit_id: &str) -> bool {
    match actor.role {
        Role::Bank | Role::Liaison => grantee_unit_id == actor.unit_id,
        _ => true,
    }
}

/// Full identity numbers on screens and in answers: center staff only (they
/// write to departments and applicants about them); everyone else sees them
/// masked.
pub fn sees_full_identifiers(role: Role) -> bool {
    role == Role::Center
}

/// What a subject's card shows a caller besides identity and verifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CardView<'a> {
    /// Records with their versions and the queries about the subject: the
    /// center and supervisors. A counter sees records only through a
    /// query, which the query log records (条例 art. 22).
    pub records_and_queries: bool,
    /// Consents and tickets taken under this unit path only (a counter:
    /// its own); `None`: all of them.
    pub taken_under: Option<&'a str>,
}

pub fn subject_card(actor: Actor<'_>) -> CardView<'_> {
    match actor.role {
        Role::Center | Role::Supervisor => CardView {
            records_and_queries: true,
            taken_under: None,
        },
        _ => CardView {
            records_and_queries: false,
            taken_under: Some(actor.unit_path),
        },
    }
}

impl CardView<'_> {
    pub fn shows_taken_at(&self, unit_path: &str) -> bool {
        self.taken_under.is_none_or(|p| unit_path.starts_with(p))
    }
}

/// Keeping a farmer household (its members, head, village): the township
/// it belongs to checks what villages report (初审), and the center keeps
/// every household. `township_path` is `None` for a household of no
/// township, which only the center keeps.
pub fn keep_household(actor: Actor<'_>, township_path: Option<&str>) -> Result<(), Denied> {
    match actor.role {
        Role::Center => Ok(()),
        Role::Counter if township_path.is_some_and(|p| actor.covers(p)) => Ok(()),
        Role::Counter => Err(Denied::OutOfScope),
        _ => Err(Denied::Role),
    }
}

/// A counter verification as stored: whose, where, until when.
#[derive(Debug, Clone)]
pub struct VerificationFacts {
    pub subject_id: String,
    /// The unit whose counter made it.
    pub unit_id: String,
    pub expires_at_ms: i64,
}

/// Why a verification cannot be used for an act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationRefusal {
    /// Made at another unit's counter: the person never came to this one.
    OtherUnit,
    /// Of another person than the act is about.
    OtherSubject,
    Expired,
}

/// A verification stands for the person being at this counter: it may be
/// used only by the unit that made it, for that person, while it lasts.
/// `subject_id` is the person the act is about, when the act names one.
pub fn use_verification(
    actor: Actor<'_>,
    v: &VerificationFacts,
    subject_id: Option<&str>,
    now_ms: i64,
) -> Result<(), VerificationRefusal> {
    if v.unit_id != actor.unit_id {
        return Err(VerificationRefusal::OtherUnit);
    }
    if subject_id.is_some_and(|s| s != v.subject_id) {
        return Err(VerificationRefusal::OtherSubject);
    }
    if now_ms >= v.expires_at_ms {
        return Err(VerificationRefusal::Expired);
    }
    Ok(())
}

/// Whether a verification's id is handed to the caller (a subject's
/// history shows everyone's visits, but only this unit's can be used).
pub fn sees_verification_id(actor: Actor<'_>, verification_unit_id: &str) -> bool {
    verification_unit_id == actor.unit_id
}

/// An objection ticket as a decision needs it.
#[derive(Debug, Clone, Copy)]
pub struct TicketFacts<'a> {
    /// The unit whose counter took the objection.
    pub filing_unit_path: &'a str,
    /// The departments whose records it disputes.
    pub departments: &'a [&'a str],
}

/// How much of a case file the caller reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketView<'a> {
    Whole,
    /// Only the part that concerns this department.
    Department(&'a str),
}

pub fn read_ticket<'a>(
    actor: Actor<'a>,
    ticket: &TicketFacts<'_>,
) -> Result<TicketView<'a>, Denied> {
    match actor.role {
        Role::Center | Role::Supervisor => Ok(TicketView::Whole),
        Role::Counter if actor.covers(ticket.filing_unit_path) => Ok(TicketView::Whole),
        // A liaison sees the part of a ticket that concerns their
        // department, and only tickets that have one.
        Role::Liaison if ticket.departments.contains(&actor.unit_id) => {
            Ok(TicketView::Department(actor.unit_id))
        }
        _ => Err(Denied::OutOfScope),
    }
}

/// An act on a ticket, as far as access is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketAct<'a> {
    /// The applicant withdraws, at the counter that took it (or the center).
    Withdraw,
    /// A department's reply to the letter sent to `department` (None: no
    /// such letter on this ticket).
    RecordReply { department: Option<&'a str> },
    /// Everything else is the center's work: sending requests, notices,
    /// closing, pausing.
    CenterWork,
}

pub fn act_on_ticket(
    actor: Actor<'_>,
    ticket: &TicketFacts<'_>,
    act: TicketAct<'_>,
) -> Result<(), Denied> {
    let allowed = match (actor.role, act) {
        (Role::Center, _) => true,
        (Role::Counter, TicketAct::Withdraw) => actor.covers(ticket.filing_unit_path),
        (Role::Liaison, TicketAct::RecordReply { department }) => department == Some(actor.unit_id),
        _ => false,
    };
    match (allowed, actor.role) {
        (true, _) => Ok(()),
        // Staff who work tickets are told it is not theirs; others that
        // their role does not do this.
        (false, Role::Center | Role::Counter) => Err(Denied::OutOfScope),
        (false, _) => Err(Denied::Role),
    }
}

/// Which tickets fill the caller's deadline queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueView<'a> {
    /// Every ticket (the center and its supervisors).
    All,
    /// Tickets filed at this unit and the stations below it.
    FiledUnder(&'a str),
    /// Tickets with a letter waiting on this department.
    WaitingOn(&'a str),
}

pub fn queue_view(actor: Actor<'_>) -> Result<QueueView<'_>, Denied> {
    match actor.role {
        Role::Center | Role::Supervisor => Ok(QueueView::All),
        Role::Counter => Ok(QueueView::FiledUnder(actor.unit_path)),
        Role::Liaison => Ok(QueueView::WaitingOn(actor.unit_id)),
        _ => Err(Denied::Role),
    }
}

/// Whose data-submission deadlines the caller's queue lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmissionView<'a> {
    None,
    All,
    Department(&'a str),
}

pub fn submission_view(actor: Actor<'_>) -> SubmissionView<'_> {
    match actor.role {
        Role::Center | Role::Supervisor => SubmissionView::All,
        Role::Liaison => SubmissionView::Department(actor.unit_id),
        _ => SubmissionView::None,
    }
}

#[cfg(test)]
mod tests {
    //! Table tests over role × how the object's unit relates to the
    //! caller's (same unit, below it, another township, a department, a
    //! bank) × object. Each table lists, per caller, the units whose objects
    //! the decision allows. The tree, like the demo's:
    //!
    //! ```text
    //! /C/            center
    //! /C/TA/         township A      /C/TA/SA/  a station under A
    //! /C/TB/         township B
    //! /C/DC/ court   /C/DT/ tax      /C/BR/     a bank
    //! ```
    use super::*;

    const fn unit(id: &'static str, path: &'static str) -> Unit<'static> {
        Unit { id, path }
    }
    const CENTER: Unit = unit("C", "/C/");
    const TA: Unit = unit("TA", "/C/TA/");
    const SA: Unit = unit("SA", "/C/TA/SA/");
    const TB: Unit = unit("TB", "/C/TB/");
    const COURT: Unit = unit("DC", "/C/DC/");
    const TAX: Unit = unit("DT", "/C/DT/");
    const BANK: Unit = unit("BR", "/C/BR/");
    const UNITS: [Unit; 7] = [CENTER, TA, SA, TB, COURT, TAX, BANK];

    fn at(role: Role, unit: Unit<'static>) -> Actor<'static> {
        Actor {
            role,
            unit_id: unit.id,
            unit_path: unit.path,
        }
    }

    /// Every role in the units it can belong to, in table order.
    const ACTORS: [(&str, Role, Unit); 8] = [
        ("center", Role::Center, CENTER),
        ("supervisor", Role::Supervisor, CENTER),
        ("admin@C", Role::Admin, CENTER),
        ("admin@TA", Role::Admin, TA),
        ("counter@TA", Role::Counter, TA),
        ("counter@SA", Role::Counter, SA),
        ("liaison@DC", Role::Liaison, COURT),
        ("bank@BR", Role::Bank, BANK),
    ];
    const ALL: &[&str] = &["C", "TA", "SA", "TB", "DC", "DT", "BR"];

    /// Checks `decide` over every caller × unit against `expected` (the
    /// units allowed, per caller, in `ACTORS` order), listing every
    /// disagreement at once. Returns the number of cells checked.
    fn table(
        what: &str,
        expected: [&[&str]; 8],
        decide: impl Fn(Actor<'static>, Unit<'static>) -> bool,
    ) -> usize {
        let mut wrong = Vec::new();
        for ((name, role, home), want) in ACTORS.into_iter().zip(expected) {
            let got: Vec<&str> = UNITS
                .into_iter()
                .filter(|u| decide(at(role, home), *u))
                .map(|u| u.id)
                .collect();
            if got != want {
                wrong.push(format!("{name}: allowed {got:?}, want {want:?}"));
            }
        }
        assert!(wrong.is_empty(), "{what}:\n{}", wrong.join("\n"));
        ACTORS.len() * UNITS.len()
    }

    #[test]
    fn managing_a_unit_is_for_the_own_subtree() {
        table(
            "manage_unit",
            [
                ALL,
                ALL,
                ALL,
                &["TA", "SA"],
                &["TA", "SA"],
                &["SA"],
                &["DC"],
                &["BR"],
            ],
            |a, u| manage_unit(a, u.path).is_ok(),
        );
        // A shared prefix is not a subtree.
        assert!(manage_unit(at(Role::Admin, TA), "/C/TAX/").is_err());
        assert_eq!(
            manage_unit(at(Role::Admin, TA), TB.path),
            Err(Denied::OutOfScope)
        );
    }

    #[test]
    fn imports_are_the_own_department_or_below_the_caller() {
        table(
            "import_for",
            [
                ALL,
                ALL,
                ALL,
                &["TA", "SA"],
                &["TA", "SA"],
                &["SA"],
                &["DC"],
                &["BR"],
            ],
            |a, u| import_for(a, u).is_ok(),
        );
        // A liaison's unit is a department: only that one, never a sibling.
        assert!(import_for(at(Role::Liaison, COURT), TAX).is_err());
    }

    #[test]
    fn banks_and_departments_see_only_consents_given_to_them() {
        table(
            "sees_consent",
            [ALL, ALL, ALL, ALL, ALL, ALL, &["DC"], &["BR"]],
            |a, u| sees_consent(a, u.id),
        );
    }

    #[test]
    fn a_card_shows_a_counter_only_its_own_units_consents_and_tickets() {
        table(
            "subject_card taken at",
            [
                ALL,
                ALL,
                // Admins and others never reach a card; if they did, only
                // their own unit's.
                &["C", "TA", "SA", "TB", "DC", "DT", "BR"],
                &["TA", "SA"],
                &["TA", "SA"],
                &["SA"],
                &["DC"],
                &["BR"],
            ],
            |a, u| subject_card(a).shows_taken_at(u.path),
        );
        let records: Vec<&str> = ACTORS
            .iter()
            .filter(|(_, role, unit)| subject_card(at(*role, *unit)).records_and_queries)
            .map(|(name, ..)| *name)
            .collect();
        assert_eq!(records, ["center", "supervisor"]);
    }

    #[test]
    fn households_are_kept_by_their_township_and_the_center() {
        table(
            "keep_household",
            [ALL, &[], &[], &[], &["TA", "SA"], &["SA"], &[], &[]],
            |a, u| keep_household(a, Some(u.path)).is_ok(),
        );
        // A household of no township: the center's only.
        assert!(keep_household(at(Role::Center, CENTER), None).is_ok());
        assert_eq!(
            keep_household(at(Role::Counter, TA), None),
            Err(Denied::OutOfScope)
        );
        assert_eq!(
            keep_household(at(Role::Supervisor, CENTER), Some(TA.path)),
            Err(Denied::Role)
        );
    }

    #[test]
    fn only_center_staff_see_full_identifiers() {
        let seen: Vec<&str> = ACTORS
            .iter()
            .filter(|(_, role, _)| sees_full_identifiers(*role))
            .map(|(name, ..)| *name)
            .collect();
        assert_eq!(seen, ["center"]);
    }

    #[test]
    fn a_verification_serves_only_the_counter_that_made_it() {
        let now = 1_000;
        let made_at = |u: Unit| VerificationFacts {
            subject_id: "p".into(),
            unit_id: u.id.into(),
            expires_at_ms: now + 1,
        };
        // Own unit only: not the subtree (a township clerk cannot use a
        // station's), not the center's staff for a township's.
        let own = [
            &["C"][..],
            &["C"],
            &["C"],
            &["TA"],
            &["TA"],
            &["SA"],
            &["DC"],
            &["BR"],
        ];
        table("use_verification", own, |a, u| {
            use_verification(a, &made_at(u), Some("p"), now).is_ok()
        });
        table("sees_verification_id", own, |a, u| {
            sees_verification_id(a, u.id)
        });
        let clerk = at(Role::Counter, TA);
        let v = made_at(TA);
        assert_eq!(use_verification(clerk, &v, None, now), Ok(()));
        assert_eq!(
            use_verification(clerk, &v, Some("q"), now),
            Err(VerificationRefusal::OtherSubject)
        );
        assert_eq!(
            use_verification(clerk, &v, Some("p"), now + 1),
            Err(VerificationRefusal::Expired)
        );
        // Another unit's is refused as such before anything about it is told.
        let mut elsewhere = made_at(TB);
        elsewhere.expires_at_ms = 0;
        assert_eq!(
            use_verification(clerk, &elsewhere, Some("q"), now),
            Err(VerificationRefusal::OtherUnit)
        );
    }

    /// A ticket filed at `filing`, disputing the court's records.
    fn ticket(filing: Unit<'static>) -> TicketFacts<'static> {
        TicketFacts {
            filing_unit_path: filing.path,
            departments: &["DC"],
        }
    }

    #[test]
    fn case_files_by_role_and_filing_unit() {
        table(
            "read_ticket",
            [ALL, ALL, &[], &[], &["TA", "SA"], &["SA"], ALL, &[]],
            |a, u| read_ticket(a, &ticket(u)).is_ok(),
        );
        let liaison = at(Role::Liaison, COURT);
        assert_eq!(
            read_ticket(liaison, &ticket(TA)),
            Ok(TicketView::Department("DC"))
        );
        assert_eq!(
            read_ticket(at(Role::Counter, TA), &ticket(SA)),
            Ok(TicketView::Whole)
        );
        let tax_only = TicketFacts {
            filing_unit_path: TA.path,
            departments: &["DT"],
        };
        assert_eq!(read_ticket(liaison, &tax_only), Err(Denied::OutOfScope));
    }

    #[test]
    fn acts_on_tickets_by_role_act_and_filing_unit() {
        let none: &[&str] = &[];
        let cells = [
            (
                TicketAct::Withdraw,
                [
                    ALL,
                    none,
                    none,
                    none,
                    &["TA", "SA"][..],
                    &["SA"],
                    none,
                    none,
                ],
            ),
            (
                TicketAct::RecordReply {
                    department: Some("DC"),
                },
                [ALL, none, none, none, none, none, ALL, none],
            ),
            (
                TicketAct::RecordReply {
                    department: Some("DT"),
                },
                [ALL, none, none, none, none, none, none, none],
            ),
            (
                TicketAct::RecordReply { department: None },
                [ALL, none, none, none, none, none, none, none],
            ),
            (
                TicketAct::CenterWork,
                [ALL, none, none, none, none, none, none, none],
            ),
        ]
        .into_iter()
        .map(|(act, expected)| {
            table(&format!("act_on_ticket {act:?}"), expected, |a, u| {
                act_on_ticket(a, &ticket(u), act).is_ok()
            })
        })
        .sum::<usize>();
        assert_eq!(cells, 5 * 8 * 7);
        // What a refusal says: not yours (ticket staff) or not your role.
        let clerk = at(Role::Counter, TA);
        assert_eq!(
            act_on_ticket(clerk, &ticket(TB), TicketAct::Withdraw),
            Err(Denied::OutOfScope)
        );
        assert_eq!(
            act_on_ticket(clerk, &ticket(TA), TicketAct::CenterWork),
            Err(Denied::OutOfScope)
        );
        assert_eq!(
            act_on_ticket(
                at(Role::Supervisor, CENTER),
                &ticket(TA),
                TicketAct::CenterWork
            ),
            Err(Denied::Role)
        );
        assert_eq!(
            act_on_ticket(at(Role::Bank, BANK), &ticket(TA), TicketAct::Withdraw),
            Err(Denied::Role)
        );
    }

    #[test]
    fn queues_and_submission_deadlines_by_role() {
        let got: Vec<String> = ACTORS
            .iter()
            .map(|(_, role, unit)| {
                let a = at(*role, *unit);
                format!("{:?} {:?}", queue_view(a), submission_view(a))
            })
            .collect();
        assert_eq!(
            got,
            [
                "Ok(All) All",
                "Ok(All) All",
                "Err(Role) None",
                "Err(Role) None",
                "Ok(FiledUnder(\"/C/TA/\")) None",
                "Ok(FiledUnder(\"/C/TA/SA/\")) None",
                "Ok(WaitingOn(\"DC\")) Department(\"DC\")",
                "Err(Role) None",
            ]
        );
    }
}
