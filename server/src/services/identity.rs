//! Identity verification at the counter and the subject registry.

use credit_desk_proto::ident;
use credit_desk_proto::pb::{self, VerificationMethod, VerifyOutcome, identity_server::Identity};
use credit_desk_proto::validate::{self, FieldError, Rule, VerificationInput, field};
use tonic::{Request, Response, Status};

use super::{caller, convert, create_once, lang, respond};
use crate::authz::{self, Caller};
use crate::context::Ctx;
use crate::db::idempotency::Key;
use crate::db::subjects::{self, NewVerification};
use crate::db::{audit, new_id};
use crate::domain;
use crate::errors::{ApiError, ApiResult};

pub const DEFAULT_PAGE: u32 = 50;
/// Subjects a name-and-prefix search opens per page, at most.
const PREFIX_SCAN: i64 = 500;
pub const MAX_PAGE: u32 = 200;

pub struct IdentityService {
    pub(super) ctx: Ctx,
}

impl IdentityService {
    pub fn new(ctx: Ctx) -> Self {
        IdentityService { ctx }
    }

    fn today(&self) -> chrono::NaiveDate {
        crate::clock::local_date(self.ctx.now_ms())
    }

    async fn verify(
        &self,
        caller: Caller,
        req: pb::VerifyRequest,
    ) -> ApiResult<pb::VerifyResponse> {
        let mut errors = validate::verification(&VerificationInput::from(&req), self.today());
        if let Err(e) = validate::uuid(field::REQUEST_ID, &req.request_id) {
            errors.insert(0, e);
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let identifier = ident::normalise(&req.identifier);
        let subject = {
            let mut conn = self.ctx.db.read().await?;
            subjects::get_by_identifier(&mut conn, &identifier).await?
        };
        // The clerk typed the number: showing it back in full discloses nothing.
        let Some(subject) = subject else {
            return Ok(pb::VerifyResponse {
                outcome: VerifyOutcome::UnknownSubject as i32,
                ..Default::default()
            });
        };
        // A mismatch says only that: whoever typed a number with the wrong
        // name learns nothing about the person it belongs to.
        if !validate::names_match(&req.name, &subject.name) {
            return Ok(pb::VerifyResponse {
                outcome: VerifyOutcome::NameMismatch as i32,
                ..Default::default()
            });
        }
        let method = VerificationMethod::try_from(req.method).unwrap_or_default();
        let acting = pb::OrgActor::try_from(req.acting_as).unwrap_or_default();
        let organisation = subject.kind == pb::SubjectKind::Organisation;
        // The legal representative acting in person is the registered one.
        if organisation
            && acting == pb::OrgActor::LegalRepresentative
            && let Some(registered) = subject.legal_representative.as_deref()
            && !registered.trim().is_empty()
            && !validate::names_match(&req.agent_name, registered)
        {
            return Err(FieldError::new(field::AGENT_NAME, Rule::NotTheLegalRepresentative).into());
        }
        // A person's agent, or whoever acts for an organisation.
        let agent = method == VerificationMethod::AgentWithPoa || organisation;
        let letter =
            method == VerificationMethod::AgentWithPoa || acting == pb::OrgActor::AuthorisedAgent;
        let agent_identifier = agent.then(|| ident::normalise(&req.agent_identifier));
        let key = Key::of(&caller.operator_id, "Verify", &req, |r| &mut r.request_id)?;
        let now = self.ctx.now_ms();
        let expires_at = now + self.ctx.policy.verification_ms;
        let (id, replayed) = create_once(&self.ctx, key, async |tx| {
            let id = new_id();
            subjects::insert_verification(
                tx,
                NewVerification {
                    id: &id,
                    subject_id: &subject.id,
                    method: domain::method_to_str(method),
                    document: req.document.trim(),
                    agent_identifier: agent_identifier.as_deref(),
                    agent_name: agent.then(|| req.agent_name.trim()),
                    poa_reference: letter.then(|| req.poa_reference.trim()),
                    acting_as: organisation
                        .then(|| domain::org_actor_to_str(acting))
                        .flatten(),
                    licence: organisation.then(|| req.licence.trim()),
                    operator_id: &caller.operator_id,
                    org_unit_id: &caller.org_unit_id,
                    terminal: &caller.terminal,
                    now_ms: now,
                    expires_at_ms: expires_at,
                },
            )
            .await?;
            let detail = domain::method_to_str(method);
            let who = Some(caller.operator_id.as_str());
            audit::record(tx, who, "subject.verify", &subject.id, detail, now);
            Ok(id)
        })
        .await?;
        let mut conn = self.ctx.db.read().await?;
        let verification = subjects::get_verification(&mut conn, &id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("verification {id} vanished"))?;
        Ok(pb::VerifyResponse {
            outcome: VerifyOutcome::Verified as i32,
            subject: Some(convert::subject(&subject, true)),
            verification: Some(convert::verification(&verification)),
            replayed,
        })
    }

    async fn get_subject(
        &self,
        caller: Caller,
        req: pb::GetSubjectRequest,
    ) -> ApiResult<pb::GetSubjectResponse> {
        validate::uuid(field::ID, &req.subject_id)?;
        super::subject_card::read(&self.ctx, &caller, &req.subject_id).await
    }

    async fn register_subject(
        &self,
        caller: Caller,
        req: pb::RegisterSubjectRequest,
    ) -> ApiResult<pb::RegisterSubjectResponse> {
        let today = self.today();
        let mut errors = validate::registration(&req, today);
        if let Err(e) = validate::uuid(field::REQUEST_ID, &req.request_id) {
            errors.insert(0, e);
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let identifier = ident::normalise(&req.identifier);
        let parsed = ident::check_any(&identifier, today)
            .map_err(|e| FieldError::new(field::IDENTIFIER, Rule::Identifier(e)))?;
        let key = Key::of(&caller.operator_id, "RegisterSubject", &req, |r| {
            &mut r.request_id
        })?;
        let now = self.ctx.now_ms();
        let (id, replayed) = create_once(&self.ctx, key, async |tx| {
            if subjects::get_by_identifier(tx, &identifier)
                .await?
                .is_some()
            {
                return Err(FieldError::new(field::IDENTIFIER, Rule::AlreadyRegistered).into());
            }
            // A person registered at a township counter lives there.
            let unit = crate::db::org_units::get(tx, &caller.org_unit_id).await?;
            let township = unit
                .filter(|u| u.kind == pb::OrgUnitKind::Township)
                .map(|u| u.id);
            let id = new_id();
            let kind = match &parsed {
                ident::Identifier::Person(_) => pb::SubjectKind::Person,
                ident::Identifier::Organisation(_) => pb::SubjectKind::Organisation,
            };
            subjects::insert(
                tx,
                subjects::NewSubject {
                    id: &id,
                    kind: domain::subject_kind_to_str(kind),
                    identifier: &identifier,
                    name: req.name.trim(),
                    township_id: township.as_deref(),
                    address: req.address.trim(),
                    phone: &validate::half_width(req.phone.trim()),
                    now_ms: now,
                },
            )
            .await
            // Registered meanwhile by another counter.
            .map_err(|e| match crate::db::is_unique_violation(&e) {
                true => FieldError::new(field::IDENTIFIER, Rule::AlreadyRegistered).into(),
                false => ApiError::from(e),
            })?;
            match &parsed {
                ident::Identifier::Person(p) => {
                    let birth = p.birth_date.to_string();
                    subjects::insert_person(tx, &id, &birth, p.sex.code()).await?;
                }
                ident::Identifier::Organisation(o) => {
                    let representative = req.legal_representative.trim();
                    subjects::insert_organisation(tx, &id, o.org_type.code(), representative)
                        .await?;
                }
            }
            let detail = domain::subject_kind_to_str(kind);
            let who = Some(caller.operator_id.as_str());
            audit::record(tx, who, "subject.register", &id, detail, now);
            Ok(id)
        })
        .await?;
        let mut conn = self.ctx.db.read().await?;
        let subject = subjects::get(&mut conn, &id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("subject {id} vanished"))?;
        Ok(pb::RegisterSubjectResponse {
            subject: Some(convert::subject(&subject, true)),
            replayed,
        })
    }

    async fn list_subjects(
        &self,
        caller: Caller,
        req: pb::ListSubjectsRequest,
    ) -> ApiResult<pb::ListSubjectsResponse> {
        let page = req.page.unwrap_or_default();
        let errors = validate::collect([
            validate::free_text(field::QUERY, &req.query, validate::SEARCH_MAX, false),
            validate::cursor(&page.cursor),
        ]);
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let limit = match page.limit {
            0 => DEFAULT_PAGE,
            n => n.min(MAX_PAGE),
        };
        let full = authz::sees_full_identifiers(caller.role);
        let (query, prefix) = validate::registry_query(&ident::normalise(&req.query));
        if let Some(p) = &prefix {
            if query.is_empty() {
                return Err(FieldError::new(field::QUERY, Rule::PrefixNeedsName).into());
            }
            let max = validate::MASKED_PREFIX_MAX;
            if !full && p.len() > max {
                return Err(FieldError::new(field::QUERY, Rule::PrefixTooLong { max }).into());
            }
        }
        let mut conn = self.ctx.db.read().await?;
        // Numbers are sealed: a prefix is matched on the opened numbers of
        // the subjects the name finds, a bounded scan at a time.
        let scan = match prefix {
            Some(_) => PREFIX_SCAN,
            None => i64::from(limit),
        };
        let scanned = subjects::page(&mut conn, &query, &page.cursor, scan).await?;
        let full_scan = scanned.len() as i64 == scan;
        let last_scanned = scanned.last().map(|r| r.id.clone()).unwrap_or_default();
        let rows: Vec<_> = scanned
            .into_iter()
            .filter(|r| {
                prefix
                    .as_ref()
                    .is_none_or(|p| r.identifier.starts_with(p.as_str()))
            })
            .take(limit as usize)
            .collect();
        // The cursor is a row's id: opaque, never an identity number. A
        // prefix search may end a page short while more names remain.
        let next_cursor = match (rows.len() == limit as usize, full_scan) {
            (true, _) => rows.last().map(|r| r.id.clone()).unwrap_or_default(),
            (false, true) => last_scanned,
            (false, false) => String::new(),
        };
        Ok(pb::ListSubjectsResponse {
            subjects: rows.iter().map(|r| convert::subject(r, full)).collect(),
            next_cursor,
        })
    }
}

#[tonic::async_trait]
impl Identity for IdentityService {
    async fn verify(
        &self,
        req: Request<pb::VerifyRequest>,
    ) -> Result<Response<pb::VerifyResponse>, Status> {
        handle!(self, req, verify)
    }

    async fn get_subject(
        &self,
        req: Request<pb::GetSubjectRequest>,
    ) -> Result<Response<pb::GetSubjectResponse>, Status> {
        handle!(self, req, get_subject)
    }

    async fn list_subjects(
        &self,
        req: Request<pb::ListSubjectsRequest>,
    ) -> Result<Response<pb::ListSubjectsResponse>, Status> {
        handle!(self, req, list_subjects)
    }

    async fn register_subject(
        &self,
        req: Request<pb::RegisterSubjectRequest>,
    ) -> Result<Response<pb::RegisterSubjectResponse>, Status> {
        handle!(self, req, register_subject)
    }

    async fn create_household(
        &self,
        req: Request<pb::CreateHouseholdRequest>,
    ) -> Result<Response<pb::GetSubjectResponse>, Status> {
        handle!(self, req, create_household)
    }

    async fn change_household(
        &self,
        req: Request<pb::ChangeHouseholdRequest>,
    ) -> Result<Response<pb::GetSubjectResponse>, Status> {
        handle!(self, req, change_household)
    }
}
