//! Complaints (投诉): filed at a counter or the center, assigned to a center
//! clerk, answered in writing within 30 days. Counters see the complaints
//! filed in their unit; the center and supervisors see all.

use credit_desk_proto::ident;
use credit_desk_proto::pb::{self, ComplaintChannel, complaint_server::Complaint};
use credit_desk_proto::validate::{self, FieldError, Rule, field};
use tonic::{Request, Response, Status};

use super::{caller, create_once, lang, respond};
use crate::authz::Caller;
use crate::clock::local_date;
use crate::context::Ctx;
use crate::db::complaints::{self, ComplaintRow, NewComplaint};
use crate::db::idempotency::Key;
use crate::db::{audit, new_id, operators, subjects};
use crate::errors::{ApiError, ApiResult};
use crate::rules::complaint as rules;

const COMPLAINANT: &str = "complainant";
const CONTACT: &str = "contact";
const ABOUT: &str = "about";
const RECEIVED_ON: &str = "complaint_received_on";
const CHANNEL: &str = "complaint_channel";
const ANSWER: &str = "answer";
const ASSIGNEE: &str = "assignee_username";
const TEXT_MAX: usize = 2_000;
const LIST_MAX: i64 = 500;

pub struct ComplaintService {
    ctx: Ctx,
}

impl ComplaintService {
    pub fn new(ctx: Ctx) -> Self {
        ComplaintService { ctx }
    }

    async fn file(
        &self,
        caller: Caller,
        req: pb::FileComplaintRequest,
    ) -> ApiResult<pb::ComplaintRecord> {
        let today = local_date(self.ctx.now_ms());
        let complainant = req.complainant.trim().to_string();
        let contact = req.contact.trim().to_string();
        let about = req.about.trim().to_string();
        let mut errors = validate::collect([
            validate::uuid(field::REQUEST_ID, &req.request_id),
            required(COMPLAINANT, &complainant),
            validate::free_text(COMPLAINANT, &complainant, 64, false),
            required(CONTACT, &contact),
            validate::free_text(CONTACT, &contact, 200, false),
            required(ABOUT, &about),
            validate::free_text(ABOUT, &about, TEXT_MAX, true),
        ]);
        let channel = match req.channel() {
            ComplaintChannel::Unspecified => {
                errors.push(FieldError::new(CHANNEL, Rule::Required));
                ""
            }
            ComplaintChannel::InPerson => "in_person",
            ComplaintChannel::Letter => "letter",
            ComplaintChannel::Phone => "phone",
        };
        let received = match req.received_on.trim() {
            "" => Ok(today),
            text => validate::date(RECEIVED_ON, text).and_then(|d| match d > today {
                true => Err(FieldError::new(RECEIVED_ON, Rule::AfterToday)),
                false => Ok(d),
            }),
        };
        let received = match received {
            Ok(d) => Some(d),
            Err(e) => {
                errors.push(e);
                None
            }
        };
        let number = req.subject_identifier.trim();
        if !number.is_empty()
            && let Err(e) = validate::identifier(field::IDENTIFIER, number, today)
        {
            errors.push(FieldError::new("subject_identifier", e.rule));
        }
        let Some(received) = received.filter(|_| errors.is_empty()) else {
            return Err(ApiError::Validation(errors));
        };
        let subject_id = match number {
            "" => None,
            n => {
                let mut conn = self.ctx.db.read().await?;
                let s = subjects::get_by_identifier(&mut conn, &ident::normalise(n))
                    .await?
                    .ok_or(ApiError::NotFound {
                        field: "subject_identifier",
                    })?;
                Some(s.id)
            }
        };
        let key = Key::of(&caller.operator_id, "FileComplaint", &req, |r| {
            &mut r.request_id
        })?;
        let now = self.ctx.now_ms();
        let (id, replayed) = create_once(&self.ctx, key, async |tx| {
            let day = today.format("%Y%m%d").to_string();
            let n = complaints::next_number(tx, "TS", &day).await?;
            let complaint_no = format!("TS-{day}-{n:04}");
            let id = new_id();
            complaints::insert(
                tx,
                NewComplaint {
                    id: &id,
                    complaint_no: &complaint_no,
                    channel,
                    complainant: &complainant,
                    contact: &contact,
                    subject_id: subject_id.as_deref(),
                    about: &about,
                    received_on: &received.to_string(),
                    due_on: &rules::due_on(received).to_string(),
                    org_unit_id: &caller.org_unit_id,
                    filed_by: &caller.operator_id,
                    now_ms: now,
                },
            )
            .await?;
            let who = Some(caller.operator_id.as_str());
            audit::record(tx, who, "complaint.file", &id, &complaint_no, now);
            Ok(id)
        })
        .await?;
        let mut record = self.load(&id).await?;
        record.replayed = replayed;
        Ok(record)
    }

    async fn list(
        &self,
        caller: Caller,
        req: pb::ListComplaintsRequest,
    ) -> ApiResult<pb::ListComplaintsResponse> {
        let all = match req.state.trim() {
            "" | "open" => false,
            "all" => true,
            _ => return Err(FieldError::new("state", Rule::UnknownValue).into()),
        };
        let today = local_date(self.ctx.now_ms());
        let since = (today - chrono::Days::new(366)).to_string();
        let mut conn = self.ctx.db.read().await?;
        let rows =
            complaints::list(&mut conn, &caller.org_unit_path, all, &since, LIST_MAX).await?;
        Ok(pb::ListComplaintsResponse {
            complaints: rows.iter().map(|r| record(r, today)).collect(),
        })
    }

    async fn assign(
        &self,
        caller: Caller,
        req: pb::AssignComplaintRequest,
    ) -> ApiResult<pb::ComplaintRecord> {
        validate::uuid("complaint_id", &req.complaint_id)?;
        let username = req.assignee_username.trim().to_lowercase();
        validate::free_text(ASSIGNEE, &username, 64, false)?;
        let now = self.ctx.now_ms();
        let mut tx = self.ctx.db.begin_write().await?;
        let row = complaints::get(&mut tx, &req.complaint_id)
            .await?
            .filter(|r| r.org_unit_path.starts_with(&caller.org_unit_path))
            .ok_or(ApiError::NotFound {
                field: "complaint_id",
            })?;
        if row.state != "open" {
            return Err(answered_already());
        }
        // Only a center clerk answers complaints.
        let assignee = operators::get_by_username(&mut tx, &username)
            .await?
            .filter(|o| o.enabled && !o.unit_disabled && o.role == pb::Role::Center)
            .ok_or_else(|| FieldError::new(ASSIGNEE, Rule::UnknownValue))?;
        complaints::assign(&mut tx, &row.id, &assignee.id).await?;
        let who = Some(caller.operator_id.as_str());
        audit::record(
            &mut tx,
            who,
            "complaint.assign",
            &row.id,
            &assignee.username,
            now,
        );
        tx.commit().await?;
        self.load(&row.id).await
    }

    async fn answer(
        &self,
        caller: Caller,
        req: pb::AnswerComplaintRequest,
    ) -> ApiResult<pb::ComplaintRecord> {
        let text = req.answer.trim().to_string();
        let errors = validate::collect([
            validate::uuid("complaint_id", &req.complaint_id),
            required(ANSWER, &text),
            validate::free_text(ANSWER, &text, TEXT_MAX, true),
        ]);
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let now = self.ctx.now_ms();
        let mut tx = self.ctx.db.begin_write().await?;
        let row = complaints::get(&mut tx, &req.complaint_id)
            .await?
            .filter(|r| r.org_unit_path.starts_with(&caller.org_unit_path))
            .ok_or(ApiError::NotFound {
                field: "complaint_id",
            })?;
        if row.state != "open" {
            // The same answer sent again (a retry) is the answer given.
            if row.answer.as_deref() == Some(text.as_str()) {
                tx.rollback().await?;
                return self.load(&row.id).await;
            }
            return Err(answered_already());
        }
        let day = local_date(now).format("%Y%m%d").to_string();
        let n = complaints::next_number(&mut tx, "DF", &day).await?;
        let letter_no = format!("DF-{day}-{n:04}");
        complaints::answer(
            &mut tx,
            &row.id,
            &text,
            &letter_no,
            &caller.operator_id,
            now,
        )
        .await?;
        let who = Some(caller.operator_id.as_str());
        audit::record(&mut tx, who, "complaint.answer", &row.id, &letter_no, now);
        tx.commit().await?;
        self.load(&row.id).await
    }

    async fn load(&self, id: &str) -> ApiResult<pb::ComplaintRecord> {
        let mut conn = self.ctx.db.read().await?;
        let row = complaints::get(&mut conn, id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("complaint {id} vanished"))?;
        Ok(record(&row, local_date(self.ctx.now_ms())))
    }
}

fn required(f: &'static str, value: &str) -> Result<(), FieldError> {
    match value.is_empty() {
        true => Err(FieldError::new(f, Rule::Required)),
        false => Ok(()),
    }
}

fn answered_already() -> ApiError {
    ApiError::WrongState {
        rule: "complaint_answered",
        zh: "该投诉已书面答复，不能再改".into(),
        en: "the complaint has been answered in writing; the answer stands".into(),
    }
}

fn record(r: &ComplaintRow, today: chrono::NaiveDate) -> pb::ComplaintRecord {
    let urgency = match (r.state.as_str(), r.due_on.parse::<chrono::NaiveDate>()) {
        ("open", Ok(due)) => rules::urgency(today, due).to_string(),
        _ => String::new(),
    };
    pb::ComplaintRecord {
        id: r.id.clone(),
        complaint_no: r.complaint_no.clone(),
        channel: match r.channel.as_str() {
            "in_person" => ComplaintChannel::InPerson,
            "letter" => ComplaintChannel::Letter,
            "phone" => ComplaintChannel::Phone,
            _ => ComplaintChannel::Unspecified,
        } as i32,
        complainant: r.complainant.clone(),
        contact: r.contact.clone(),
        subject_name: r.subject_name.clone().unwrap_or_default(),
        subject_identifier: r
            .subject_identifier
            .as_deref()
            .map(ident::mask)
            .unwrap_or_default(),
        about: r.about.clone(),
        received_on: r.received_on.clone(),
        due_on: r.due_on.clone(),
        urgency,
        filed_by: r.filed_by.clone(),
        org_unit_name: r.org_unit_name.clone(),
        assigned_to: r.assigned_to.clone().unwrap_or_default(),
        state: r.state.clone(),
        answer: r.answer.clone().unwrap_or_default(),
        answered_by: r.answered_by.clone().unwrap_or_default(),
        answered_at_ms: r.answered_at.unwrap_or(0),
        answer_letter_no: r.answer_letter_no.clone().unwrap_or_default(),
        replayed: false,
    }
}

#[tonic::async_trait]
impl Complaint for ComplaintService {
    async fn file_complaint(
        &self,
        req: Request<pb::FileComplaintRequest>,
    ) -> Result<Response<pb::ComplaintRecord>, Status> {
        handle!(self, req, file)
    }

    async fn list_complaints(
        &self,
        req: Request<pb::ListComplaintsRequest>,
    ) -> Result<Response<pb::ListComplaintsResponse>, Status> {
        handle!(self, req, list)
    }

    async fn assign_complaint(
        &self,
        req: Request<pb::AssignComplaintRequest>,
    ) -> Result<Response<pb::ComplaintRecord>, Status> {
        handle!(self, req, assign)
    }

    async fn answer_complaint(
        &self,
        req: Request<pb::AnswerComplaintRequest>,
    ) -> Result<Response<pb::ComplaintRecord>, Status> {
        handle!(self, req, answer)
    }
}
