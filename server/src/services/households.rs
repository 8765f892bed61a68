//! Farmer households (农户): made from registered persons by the township
//! that checks what its villages report, or by the center. Each change is
//! one transaction that takes the household's row first, and a retry with
//! the same request_id changes nothing more.

use credit_desk_proto::ident;
use credit_desk_proto::pb::{self, change_household_request::Change};
use credit_desk_proto::validate::{self, FieldError, Rule, field};

use super::create_once;
use super::identity::IdentityService;
use super::subject_card;
use crate::authz::{self, Caller};
use crate::db::idempotency::Key;
use crate::db::subject_card as card;
use crate::db::subjects::{self, SubjectRow};
use crate::db::{WriteTx, audit};
use crate::errors::{ApiError, ApiResult};
use crate::registry::{self, NewHousehold};

/// Households one person may have founded and handed over, at most.
const MAX_SUFFIX: u32 = 20;

/// What the head is called in the household register.
const HEAD_RELATION: &str = "户主";

impl IdentityService {
    pub(super) async fn create_household(
        &self,
        caller: Caller,
        req: pb::CreateHouseholdRequest,
    ) -> ApiResult<pb::GetSubjectResponse> {
        let errors = validate::collect([
            validate::uuid(field::REQUEST_ID, &req.request_id),
            validate::uuid(field::HEAD_ID, &req.head_id),
            validate::village(&req.village),
        ]);
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let village = req.village.trim().to_string();
        let key = Key::of(&caller.operator_id, "CreateHousehold", &req, |r| {
            &mut r.request_id
        })?;
        let now = self.ctx.now_ms();
        let (id, _) = create_once(&self.ctx, key, async |tx| {
            let head = subjects::get(tx, &req.head_id)
                .await?
                .ok_or(ApiError::NotFound {
                    field: field::HEAD_ID,
                })?;
            if head.kind != pb::SubjectKind::Person {
                return Err(FieldError::new(field::HEAD_ID, Rule::NotAPerson).into());
            }
            let township = subjects::township(tx, &head.id).await?;
            authz::keep_household(caller.actor(), township.as_ref().map(|t| t.1.as_str()))?;
            // One household per head (a head change keeps it so).
            if card::headed_by(tx, &head.id).await?.is_some() {
                return Err(FieldError::new(field::HEAD_ID, Rule::HeadsAHousehold).into());
            }
            // Known by its first head's number; a person who once headed
            // another household (since handed over) gets the next suffix.
            let mut identifier = format!("H{}", head.identifier);
            for n in 2..=MAX_SUFFIX {
                if subjects::get_by_identifier(tx, &identifier)
                    .await?
                    .is_none()
                {
                    break;
                }
                identifier = format!("H{}-{n}", head.identifier);
            }
            let id = registry::add_household(
                tx,
                NewHousehold {
                    identifier: &identifier,
                    head_id: &head.id,
                    head_name: &head.name,
                    village: &village,
                    township_id: township.as_ref().map(|t| t.0.as_str()),
                    members: &[],
                },
                now,
            )
            .await
            // Created meanwhile by another counter.
            .map_err(|e| match e.downcast_ref::<sqlx::Error>() {
                Some(e) if crate::db::is_unique_violation(e) => {
                    FieldError::new(field::HEAD_ID, Rule::HeadsAHousehold).into()
                }
                _ => ApiError::from(e),
            })?;
            let who = Some(caller.operator_id.as_str());
            audit::record(tx, who, "household.create", &id, &head.id, now);
            Ok(id)
        })
        .await?;
        self.household_card(&caller, &id).await
    }

    pub(super) async fn change_household(
        &self,
        caller: Caller,
        req: pb::ChangeHouseholdRequest,
    ) -> ApiResult<pb::GetSubjectResponse> {
        let today = crate::clock::local_date(self.ctx.now_ms());
        let mut checks = vec![
            validate::uuid(field::REQUEST_ID, &req.request_id),
            validate::uuid(field::HOUSEHOLD_ID, &req.household_id),
        ];
        match &req.change {
            Some(Change::AddMember(add)) => {
                checks.push(validate::household_person(
                    field::IDENTIFIER,
                    &add.identifier,
                    today,
                ));
                checks.push(validate::relation(field::RELATION, &add.relation));
            }
            Some(Change::RemoveMember(id)) => checks.push(validate::uuid(field::MEMBER, id)),
            Some(Change::Details(d)) => {
                checks.push(validate::village(&d.village));
                checks.push(validate::uuid(field::HEAD_ID, &d.head_id));
                if !d.former_head_relation.trim().is_empty() {
                    checks.push(validate::relation(
                        field::FORMER_HEAD_RELATION,
                        &d.former_head_relation,
                    ));
                }
            }
            None => checks.push(Err(FieldError::new(field::REQUEST, Rule::Required))),
        }
        let errors: Vec<FieldError> = checks.into_iter().filter_map(Result::err).collect();
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let key = Key::of(&caller.operator_id, "ChangeHousehold", &req, |r| {
            &mut r.request_id
        })?;
        let household_id = req.household_id.clone();
        let now = self.ctx.now_ms();
        create_once(&self.ctx, key, async |tx| {
            subjects::lock(tx, &household_id).await?;
            let facts = card::household(tx, &household_id)
                .await?
                .ok_or(ApiError::NotFound {
                    field: field::HOUSEHOLD_ID,
                })?;
            authz::keep_household(caller.actor(), facts.township_path.as_deref())?;
            let members = card::relations(tx, &household_id).await?;
            let is_member = |id: &str| members.iter().any(|(m, _)| m == id);
            let who = Some(caller.operator_id.as_str());
            match req.change {
                Some(Change::AddMember(add)) => {
                    let number = ident::normalise(&add.identifier);
                    let person = registered_person(tx, field::IDENTIFIER, &number).await?;
                    if is_member(&person.id) {
                        return Err(FieldError::new(field::IDENTIFIER, Rule::AlreadyAMember).into());
                    }
                    let relation = add.relation.trim();
                    subjects::add_member(tx, &household_id, &person.id, relation).await?;
                    audit::record(tx, who, "household.add", &household_id, &person.id, now);
                }
                Some(Change::RemoveMember(person_id)) => {
                    if person_id == facts.head_id {
                        return Err(FieldError::new(field::MEMBER, Rule::HeadStays).into());
                    }
                    if !subjects::remove_member(tx, &household_id, &person_id).await? {
                        return Err(FieldError::new(field::MEMBER, Rule::NotAMember).into());
                    }
                    audit::record(tx, who, "household.remove", &household_id, &person_id, now);
                }
                Some(Change::Details(d)) => {
                    if !is_member(&d.head_id) {
                        return Err(FieldError::new(field::HEAD_ID, Rule::NotAMember).into());
                    }
                    let former = d.former_head_relation.trim();
                    let new_head = d.head_id != facts.head_id;
                    if new_head && card::headed_by(tx, &d.head_id).await?.is_some() {
                        return Err(FieldError::new(field::HEAD_ID, Rule::HeadsAHousehold).into());
                    }
                    if new_head && former.is_empty() {
                        return Err(
                            FieldError::new(field::FORMER_HEAD_RELATION, Rule::Required).into()
                        );
                    }
                    let head = subjects::get(tx, &d.head_id)
                        .await?
                        .ok_or(ApiError::NotFound {
                            field: field::HEAD_ID,
                        })?;
                    let name = format!("{}户", head.name);
                    let village = d.village.trim();
                    subjects::set_household(tx, &household_id, &head.id, village, &name, now)
                        .await?;
                    if new_head {
                        subjects::set_relation(tx, &household_id, &facts.head_id, former).await?;
                        subjects::set_relation(tx, &household_id, &head.id, HEAD_RELATION).await?;
                    }
                    let detail = format!("head {} village {village}", head.id);
                    audit::record(tx, who, "household.change", &household_id, &detail, now);
                }
                None => {}
            }
            Ok(household_id.clone())
        })
        .await?;
        self.household_card(&caller, &req.household_id).await
    }

    async fn household_card(
        &self,
        caller: &Caller,
        household_id: &str,
    ) -> ApiResult<pb::GetSubjectResponse> {
        subject_card::read(&self.ctx, caller, household_id).await
    }
}

/// The registered person holding `number`, or why there is none.
async fn registered_person(
    tx: &mut WriteTx,
    name: &'static str,
    number: &str,
) -> ApiResult<SubjectRow> {
    let subject = subjects::get_by_identifier(tx, number)
        .await?
        .ok_or_else(|| FieldError::new(name, Rule::NotRegistered))?;
    if subject.kind != pb::SubjectKind::Person {
        return Err(FieldError::new(name, Rule::NotAPerson).into());
    }
    Ok(subject)
}
