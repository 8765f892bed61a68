//! Consent: purpose codes (administered by the center), capture at the
//! counter on a live verification, withdrawal, and a subject's consents.

use credit_desk_proto::ident;
use credit_desk_proto::pb::{self, ConsentState, OrgUnitKind, consent_server::Consent};
use credit_desk_proto::validate::{self, FieldError, Rule, field};
use tonic::{Request, Response, Status};

use super::{caller, create_once, lang, respond, usable_verification, verification_facts};
use crate::authz::{self, Caller};
use crate::context::Ctx;
use crate::db::consents::{self, ConsentRow, NewConsent, PurposeRow};
use crate::db::idempotency::Key;
use crate::db::{audit, new_id, org_units, subjects};
use crate::errors::{ApiError, ApiResult};
use crate::rules::basis::Scope;
use crate::rules::consent::{self as rules, CaptureFacts, CaptureInput, DEFAULT_VALIDITY_DAYS};

const DAY_MS: i64 = 86_400_000;
pub const MAX_VALIDITY_SETTING: &str = "consent_max_validity_days";

pub struct ConsentService {
    ctx: Ctx,
}

fn purpose_pb(p: &PurposeRow) -> pb::Purpose {
    pb::Purpose {
        code: p.code.clone(),
        name_zh: p.name_zh.clone(),
        name_en: p.name_en.clone(),
        retired: p.retired_at.is_some(),
    }
}

pub fn state(c: &ConsentRow, now: i64) -> ConsentState {
    if c.withdrawn_at.is_some_and(|w| w <= now) {
        ConsentState::Withdrawn
    } else if now < c.valid_from {
        ConsentState::NotYetValid
    } else if now > c.valid_until {
        ConsentState::Expired
    } else {
        ConsentState::Active
    }
}

fn consent_pb(c: &ConsentRow, lang: credit_desk_proto::Lang, now: i64) -> pb::ConsentRecord {
    let scope = match Scope::from_text(&c.scope) {
        Scope::All => Vec::new(),
        Scope::Only(codes) => codes.into_iter().collect(),
    };
    pb::ConsentRecord {
        id: c.id.clone(),
        subject_id: c.subject_id.clone(),
        subject_name: c.subject_name.clone(),
        subject_identifier: ident::mask(&c.subject_identifier),
        grantee_id: c.grantee_unit_id.clone(),
        grantee_name: c.grantee_name.clone(),
        purpose_code: c.purpose.clone(),
        purpose_name: lang.pick(c.purpose_zh.clone(), c.purpose_en.clone()),
        scope,
        valid_from_ms: c.valid_from,
        valid_until_ms: c.valid_until,
        form_serial: c.form_serial.clone(),
        scan_sha256: c.scan_sha256.clone(),
        remarks: c.remarks.clone(),
        operator_name: c.operator_name.clone(),
        org_unit_name: c.org_unit_name.clone(),
        created_at_ms: c.created_at,
        withdrawn_at_ms: c.withdrawn_at.unwrap_or(0),
        state: state(c, now) as i32,
        withdrawal_reason: c.withdrawal_reason.clone().unwrap_or_default(),
        withdrawn_by: c.withdrawn_by_name.clone().unwrap_or_default(),
        agent_name: c.agent_name.clone().unwrap_or_default(),
        agent_identifier: c
            .agent_identifier
            .as_deref()
            .map(ident::mask)
            .unwrap_or_default(),
        poa_reference: c.poa_reference.clone().unwrap_or_default(),
        acting_as: c
            .acting_as
            .as_deref()
            .map_or(pb::OrgActor::Unspecified, crate::domain::org_actor_from_str)
            as i32,
    }
}

impl ConsentService {
    pub fn new(ctx: Ctx) -> Self {
        ConsentService { ctx }
    }

    async fn list_purposes(
        &self,
        _: Caller,
        req: pb::ListPurposesRequest,
    ) -> ApiResult<pb::ListPurposesResponse> {
        let mut conn = self.ctx.db.read().await?;
        let answer = reference_lists(&mut conn, req.include_retired).await?;
        // Reference data changes rarely: a workstation that holds this
        // version is told so in a few bytes instead of sent it again.
        if !req.include_retired && req.known_version == answer.version {
            return Ok(pb::ListPurposesResponse {
                version: answer.version,
                unchanged: true,
                ..Default::default()
            });
        }
        Ok(answer)
    }

    async fn add_purpose(
        &self,
        caller: Caller,
        req: pb::AddPurposeRequest,
    ) -> ApiResult<pb::AddPurposeResponse> {
        let code = req.code.trim().to_string();
        let errors = validate::collect([
            validate::uuid(field::REQUEST_ID, &req.request_id),
            validate::purpose_code(&code),
            validate::display_text("name_zh", &req.name_zh, 40),
            validate::display_text("name_en", &req.name_en, 80),
        ]);
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let key = Key::of(&caller.operator_id, "AddPurpose", &req, |r| {
            &mut r.request_id
        })?;
        let now = self.ctx.now_ms();
        let (code, replayed) = create_once(&self.ctx, key, async |tx| {
            if consents::purpose(tx, &code).await?.is_some() {
                return Err(ApiError::AlreadyExists { field: field::CODE });
            }
            consents::insert_purpose(tx, &code, req.name_zh.trim(), req.name_en.trim(), now)
                .await?;
            audit::record(tx, Some(&caller.operator_id), "purpose.add", &code, "", now);
            Ok(code.clone())
        })
        .await?;
        let mut conn = self.ctx.db.read().await?;
        let p = consents::purpose(&mut conn, &code)
            .await?
            .ok_or_else(|| anyhow::anyhow!("purpose vanished"))?;
        Ok(pb::AddPurposeResponse {
            purpose: Some(purpose_pb(&p)),
            replayed,
        })
    }

    async fn retire_purpose(
        &self,
        caller: Caller,
        req: pb::RetirePurposeRequest,
    ) -> ApiResult<pb::RetirePurposeResponse> {
        self.set_retired(caller, req, true).await
    }

    async fn restore_purpose(
        &self,
        caller: Caller,
        req: pb::RetirePurposeRequest,
    ) -> ApiResult<pb::RetirePurposeResponse> {
        self.set_retired(caller, req, false).await
    }

    async fn set_retired(
        &self,
        caller: Caller,
        req: pb::RetirePurposeRequest,
        retired: bool,
    ) -> ApiResult<pb::RetirePurposeResponse> {
        let now = self.ctx.now_ms();
        let mut tx = self.ctx.db.begin_write().await?;
        consents::purpose(&mut tx, &req.code)
            .await?
            .ok_or(ApiError::NotFound { field: field::CODE })?;
        consents::set_retired(&mut tx, &req.code, retired.then_some(now)).await?;
        let action = match retired {
            true => "purpose.retire",
            false => "purpose.restore",
        };
        audit::record(
            &mut tx,
            Some(&caller.operator_id),
            action,
            &req.code,
            "",
            now,
        );
        let p = consents::purpose(&mut tx, &req.code)
            .await?
            .ok_or_else(|| anyhow::anyhow!("purpose vanished"))?;
        tx.commit().await?;
        Ok(pb::RetirePurposeResponse {
            purpose: Some(purpose_pb(&p)),
        })
    }

    async fn capture(
        &self,
        caller: Caller,
        req: pb::CaptureConsentRequest,
    ) -> ApiResult<pb::CaptureConsentResponse> {
        let mut errors = validate::collect([
            validate::uuid(field::REQUEST_ID, &req.request_id),
            validate::uuid(rules::field::VERIFICATION, &req.verification_id),
            validate::uuid(rules::field::GRANTEE, &req.grantee_id),
        ]);
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let now = self.ctx.now_ms();
        let valid_from = if req.valid_from_ms == 0 {
            now
        } else {
            req.valid_from_ms
        };
        let valid_until = match (req.valid_days, req.valid_until_ms) {
            (0, 0) => valid_from.saturating_add(DEFAULT_VALIDITY_DAYS * DAY_MS),
            (0, until) => until,
            (days, 0) => valid_from.saturating_add(i64::from(days) * DAY_MS),
            // Two ends for one consent: which was meant cannot be known.
            (_, _) => {
                return Err(FieldError::new(rules::field::VALID_UNTIL, Rule::UnknownValue).into());
            }
        };
        let (verification, facts, categories) = {
            let mut conn = self.ctx.db.read().await?;
            let verification = subjects::get_verification(&mut conn, &req.verification_id).await?;
            let grantee = org_units::get(&mut conn, &req.grantee_id).await?;
            let purpose = consents::purpose(&mut conn, &req.purpose_code).await?;
            let max = consents::setting_i64(&mut conn, MAX_VALIDITY_SETTING, 90).await?;
            let categories: Vec<String> = crate::db::records::categories(&mut conn)
                .await?
                .into_iter()
                .map(|c| c.code)
                .collect();
            let facts = CaptureFacts {
                grantee_kind: grantee.map(|g| g.kind),
                purpose_active: purpose.is_some_and(|p| p.retired_at.is_none()),
                verification: verification.as_ref().map(|v| {
                    authz::use_verification(caller.actor(), &verification_facts(v), None, now)
                }),
                max_validity_days: max,
            };
            (verification, facts, categories)
        };
        let input = CaptureInput {
            now_ms: now,
            valid_from_ms: valid_from,
            valid_until_ms: valid_until,
            form_serial: &req.form_serial,
            scan_sha256: &req.scan_sha256,
            remarks: &req.remarks,
        };
        errors = rules::check_capture(&input, &facts);
        if req.scope.iter().any(|c| !categories.contains(c)) {
            errors.push(FieldError::new("scope", Rule::UnknownValue));
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let verification = verification.ok_or_else(|| anyhow::anyhow!("checked above"))?;
        let scope = if req.scope.is_empty() {
            Scope::All
        } else {
            Scope::of(req.scope.iter().cloned())
        };
        let key = Key::of(&caller.operator_id, "CaptureConsent", &req, |r| {
            &mut r.request_id
        })?;
        // One paper form, one consent: the serial as printed on it.
        let serial = validate::half_width(&req.form_serial).trim().to_uppercase();
        let (id, replayed) = create_once(&self.ctx, key, async |tx| {
            let taken = || FieldError::new(rules::field::FORM_SERIAL, Rule::FormSerialTaken);
            if consents::serial_taken(tx, &serial).await? {
                return Err(taken().into());
            }
            let id = new_id();
            consents::insert(
                tx,
                NewConsent {
                    id: &id,
                    subject_id: &verification.subject_id,
                    verification_id: &verification.id,
                    grantee_unit_id: &req.grantee_id,
                    purpose: &req.purpose_code,
                    scope: &scope.to_text(),
                    valid_from,
                    valid_until,
                    form_serial: &serial,
                    scan_sha256: &req.scan_sha256.trim().to_ascii_lowercase(),
                    remarks: &req.remarks,
                    operator_id: &caller.operator_id,
                    org_unit_id: &caller.org_unit_id,
                    terminal: &caller.terminal,
                    now_ms: now,
                },
            )
            .await
            // Two clerks with the same serial at once (PostgreSQL): one wins.
            .map_err(|e| match crate::db::is_unique_violation(&e) {
                true => ApiError::from(taken()),
                false => e.into(),
            })?;
            let detail = format!("{serial} for {} ({})", req.grantee_id, req.purpose_code);
            let who = Some(caller.operator_id.as_str());
            audit::record(tx, who, "consent.capture", &id, &detail, now);
            Ok(id)
        })
        .await?;
        let mut conn = self.ctx.db.read().await?;
        let c = consents::get(&mut conn, &id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("consent vanished"))?;
        Ok(pb::CaptureConsentResponse {
            consent: Some(consent_pb(&c, caller.lang, now)),
            replayed,
        })
    }

    async fn withdraw(
        &self,
        caller: Caller,
        req: pb::WithdrawConsentRequest,
    ) -> ApiResult<pb::WithdrawConsentResponse> {
        let reason = req.reason.trim();
        let errors = validate::collect([
            validate::uuid("consent_id", &req.consent_id),
            validate::uuid(rules::field::VERIFICATION, &req.verification_id),
            validate::display_text("reason", reason, validate::REASON_MAX),
        ]);
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let now = self.ctx.now_ms();
        let mut tx = self.ctx.db.begin_write().await?;
        let consent = consents::get(&mut tx, &req.consent_id)
            .await?
            .ok_or(ApiError::NotFound {
                field: "consent_id",
            })?;
        // Only the subject may withdraw: verified again, now, here.
        usable_verification(
            &mut tx,
            &caller,
            &req.verification_id,
            Some(&consent.subject_id),
            now,
        )
        .await?;
        let withdrawn = consents::withdraw(
            &mut tx,
            &consent.id,
            &caller.operator_id,
            &req.verification_id,
            reason,
            now,
        )
        .await?;
        // A repeated withdrawal changes nothing, and logs nothing.
        if withdrawn {
            audit::record(
                &mut tx,
                Some(&caller.operator_id),
                "consent.withdraw",
                &consent.id,
                reason,
                now,
            );
        }
        let c = consents::get(&mut tx, &consent.id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("consent vanished"))?;
        tx.commit().await?;
        Ok(pb::WithdrawConsentResponse {
            consent: Some(consent_pb(&c, caller.lang, now)),
        })
    }

    async fn list(
        &self,
        caller: Caller,
        req: pb::ListConsentsRequest,
    ) -> ApiResult<pb::ListConsentsResponse> {
        validate::uuid("subject_id", &req.subject_id)?;
        let now = self.ctx.now_ms();
        let mut conn = self.ctx.db.read().await?;
        let rows = consents::of_subject(&mut conn, &req.subject_id).await?;
        Ok(pb::ListConsentsResponse {
            consents: rows
                .iter()
                .map(|c| consent_pb(c, caller.lang, now))
                .collect(),
        })
    }
}

impl ConsentService {
    async fn find(
        &self,
        caller: Caller,
        req: pb::FindConsentsRequest,
    ) -> ApiResult<pb::ListConsentsResponse> {
        let identifier = validate::identifier(
            field::IDENTIFIER,
            &req.identifier,
            crate::clock::local_date(self.ctx.now_ms()),
        )?;
        let now = self.ctx.now_ms();
        let mut conn = self.ctx.db.read().await?;
        let Some(subject) = subjects::get_by_identifier(&mut conn, &identifier).await? else {
            return Ok(pb::ListConsentsResponse {
                consents: Vec::new(),
            });
        };
        let consents = consents::of_subject(&mut conn, &subject.id)
            .await?
            .into_iter()
            .filter(|c| state(c, now) == ConsentState::Active)
            .filter(|c| authz::sees_consent(caller.actor(), &c.grantee_unit_id))
            .map(|c| consent_pb(&c, caller.lang, now))
            .collect();
        Ok(pb::ListConsentsResponse { consents })
    }
}

#[tonic::async_trait]
impl Consent for ConsentService {
    async fn find_consents(
        &self,
        req: Request<pb::FindConsentsRequest>,
    ) -> Result<Response<pb::ListConsentsResponse>, Status> {
        handle!(self, req, find)
    }

    async fn list_purposes(
        &self,
        req: Request<pb::ListPurposesRequest>,
    ) -> Result<Response<pb::ListPurposesResponse>, Status> {
        handle!(self, req, list_purposes)
    }
    async fn add_purpose(
        &self,
        req: Request<pb::AddPurposeRequest>,
    ) -> Result<Response<pb::AddPurposeResponse>, Status> {
        handle!(self, req, add_purpose)
    }
    async fn retire_purpose(
        &self,
        req: Request<pb::RetirePurposeRequest>,
    ) -> Result<Response<pb::RetirePurposeResponse>, Status> {
        handle!(self, req, retire_purpose)
    }
    async fn restore_purpose(
        &self,
        req: Request<pb::RetirePurposeRequest>,
    ) -> Result<Response<pb::RetirePurposeResponse>, Status> {
        handle!(self, req, restore_purpose)
    }
    async fn capture_consent(
        &self,
        req: Request<pb::CaptureConsentRequest>,
    ) -> Result<Response<pb::CaptureConsentResponse>, Status> {
        handle!(self, req, capture)
    }
    async fn withdraw_consent(
        &self,
        req: Request<pb::WithdrawConsentRequest>,
    ) -> Result<Response<pb::WithdrawConsentResponse>, Status> {
        handle!(self, req, withdraw)
    }
    async fn list_consents(
        &self,
        req: Request<pb::ListConsentsRequest>,
    ) -> Result<Response<pb::ListConsentsResponse>, Status> {
        handle!(self, req, list)
    }
}

/// Purposes (retired ones too when asked), the longest validity, grantees
/// and categories: the reference lists a consent form needs. Without
/// retired purposes the answer is versioned by its content (the login
/// answer carries the same version, so a workstation holding these lists
/// knows at once whether they are current).
pub(crate) async fn reference_lists(
    conn: &mut sqlx::AnyConnection,
    include_retired: bool,
) -> ApiResult<pb::ListPurposesResponse> {
    let rows = consents::purposes(conn, include_retired).await?;
    let max = consents::setting_i64(conn, MAX_VALIDITY_SETTING, 90).await?;
    let root = org_units::root(conn)
        .await?
        .map(|r| r.path)
        .unwrap_or_default();
    let grantees = org_units::subtree(conn, &root)
        .await?
        .iter()
        .filter(|u| matches!(u.kind, OrgUnitKind::Bank | OrgUnitKind::Department))
        .map(super::convert::org_unit)
        .collect();
    let categories = crate::db::records::categories(conn)
        .await?
        .into_iter()
        .map(|c| pb::RecordCategory {
            code: c.code,
            name_zh: c.name_zh,
            name_en: c.name_en,
        })
        .collect();
    let mut answer = pb::ListPurposesResponse {
        purposes: rows.iter().map(purpose_pb).collect(),
        max_validity_days: max as u32,
        grantees,
        categories,
        version: String::new(),
        unchanged: false,
    };
    if !include_retired {
        answer.version = content_version(&answer);
    }
    Ok(answer)
}

/// A short name for an answer's content: the same content, the same name.
fn content_version(answer: &pb::ListPurposesResponse) -> String {
    use prost::Message as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(answer.encode_to_vec());
    hex::encode(&digest[..8])
}
