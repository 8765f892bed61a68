//! Filing an objection at the counter, and statements on unconfirmed records.

use super::*;

impl ObjectionService {
    pub(super) async fn file(
        &self,
        caller: Caller,
        req: pb::FileObjectionRequest,
    ) -> ApiResult<pb::TicketResponse> {
        let mut errors = validate::collect([
            validate::uuid(field::REQUEST_ID, &req.request_id),
            validate::uuid(field::VERIFICATION_ID, &req.verification_id),
            validate::phone("contact_phone", &req.contact_phone),
            validate::display_text("contact_address", &req.contact_address, 200),
        ]);
        if !REASONS.contains(&req.reason_category.as_str()) {
            errors.push(FieldError::new("reason_category", Rule::UnknownValue));
        }
        let reason = req.reason_text.trim();
        if reason.is_empty() {
            errors.push(FieldError::new("reason_text", Rule::Required));
        } else if let Err(e) = validate::free_text("reason_text", reason, REASON_TEXT_MAX, true) {
            errors.push(e);
        }
        if !["written", "phone"].contains(&req.notify_by.as_str()) {
            errors.push(FieldError::new("notify_by", Rule::UnknownValue));
        }
        let evidence: Vec<&str> = req
            .evidence
            .iter()
            .map(|e| e.trim())
            .filter(|e| !e.is_empty())
            .collect();
        if evidence.len() > EVIDENCE_MAX_ITEMS {
            errors.push(FieldError::new(
                "evidence",
                Rule::TooLong {
                    max: EVIDENCE_MAX_ITEMS,
                },
            ));
        }
        for e in &evidence {
            if let Err(err) = validate::display_text("evidence", e, 200) {
                errors.push(err);
                break;
            }
        }
        let mut record_ids = req.record_ids.clone();
        record_ids.sort();
        record_ids.dedup();
        if record_ids.is_empty() {
            errors.push(FieldError::new("record_ids", Rule::Required));
        } else if record_ids.len() > MAX_RECORDS {
            errors.push(FieldError::new(
                "record_ids",
                Rule::TooLong { max: MAX_RECORDS },
            ));
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let now = self.ctx.now_ms();
        let key = Key::of(&caller.operator_id, "FileObjection", &req, |r| {
            &mut r.request_id
        })?;
        let (id, replayed) = create_once(&self.ctx, key, async |tx| {
            let v = usable_verification(tx, &caller, &req.verification_id, None, now).await?;
            // Every record is the verified subject's, on a report, and not
            // already under an open objection.
            let mut departments = Vec::new();
            for record_id in &record_ids {
                let owner = records::owner(tx, record_id).await?;
                match owner {
                    Some(o) if o.subject_id == v.subject_id && o.deleted_at.is_none() => {
                        departments.push(o.source_unit_id)
                    }
                    _ => return Err(FieldError::new("record_ids", Rule::UnknownValue).into()),
                }
                // Named, so the clerk can go on with that objection.
                if let Some(ticket_no) = tickets::open_disputes(tx, record_id).await? {
                    return Err(ApiError::AlreadyExistsIn {
                        field: "record_ids",
                        within: ticket_no,
                    });
                }
            }
            let today = local_date(now);
            let id = new_id();
            let n =
                tickets::next_counter(tx, &format!("ticket:{}", today.format("%Y%m%d"))).await?;
            let ticket_no = format!("YY-{}-{n:04}", today.format("%Y%m%d"));
            let agent = v.method == pb::VerificationMethod::AgentWithPoa;
            tickets::insert(
                tx,
                NewTicket {
                    id: &id,
                    ticket_no: &ticket_no,
                    subject_id: &v.subject_id,
                    org_unit_id: &caller.org_unit_id,
                    operator_id: &caller.operator_id,
                    verification_id: &v.id,
                    applicant: if agent { "agent" } else { "subject" },
                    agent_name: v.agent_name.as_deref().unwrap_or(""),
                    agent_identifier: v.agent_identifier.as_deref().unwrap_or(""),
                    poa_reference: v.poa_reference.as_deref().unwrap_or(""),
                    reason_category: &req.reason_category,
                    reason_text: reason,
                    evidence: &evidence.join("\n"),
                    contact_phone: validate::half_width(&req.contact_phone).trim(),
                    contact_address: req.contact_address.trim(),
                    notify_by: &req.notify_by,
                    received_on: today,
                    overall_due: deadlines::overall_due(today),
                    now_ms: now,
                },
            )
            .await?;
            for (record_id, department) in record_ids.iter().zip(&departments) {
                tickets::add_record(tx, &id, record_id, department).await?;
            }
            tickets::add_event(
                tx,
                &id,
                Some(&caller.operator_id),
                "filed",
                &format!("{} record(s)", record_ids.len()),
                now,
            )
            .await?;
            tickets::touch(tx, &id).await?;
            let detail = format!("{} record(s)", record_ids.len());
            let who = Some(caller.operator_id.as_str());
            audit::record(tx, who, "objection.file", &id, &detail, now);
            Ok(id)
        })
        .await?;
        let ticket = self.load(&caller, &id).await?;
        Ok(pb::TicketResponse {
            ticket: Some(ticket),
            replayed,
        })
    }

    pub(super) async fn add_statement(
        &self,
        caller: Caller,
        req: pb::AddStatementRequest,
    ) -> ApiResult<pb::AddStatementResponse> {
        let text = req.text.trim().to_string();
        let errors = validate::collect([
            validate::uuid(field::REQUEST_ID, &req.request_id),
            validate::uuid("record_id", &req.record_id),
            validate::uuid(field::VERIFICATION_ID, &req.verification_id),
            validate::statement("text", &text),
        ]);
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let now = self.ctx.now_ms();
        let key = Key::of(&caller.operator_id, "AddStatement", &req, |r| {
            &mut r.request_id
        })?;
        let (_, replayed) = create_once(&self.ctx, key, async |tx| {
            let v = usable_verification(tx, &caller, &req.verification_id, None, now).await?;
            // Only on a record the subject's check left unconfirmed.
            let ticket_id = tickets::unconfirmed_ticket(tx, &req.record_id, &v.subject_id)
                .await?
                .ok_or_else(|| FieldError::new("record_id", Rule::UnknownValue))?;
            let id = new_id();
            tickets::add_statement(
                tx,
                &id,
                &req.record_id,
                &ticket_id,
                &text,
                &v.id,
                &caller.operator_id,
                now,
            )
            .await?;
            tickets::add_event(
                tx,
                &ticket_id,
                Some(&caller.operator_id),
                "statement",
                &req.record_id,
                now,
            )
            .await?;
            let who = Some(caller.operator_id.as_str());
            audit::record(
                tx,
                who,
                "objection.statement",
                &ticket_id,
                &req.record_id,
                now,
            );
            Ok(id)
        })
        .await?;
        let mut conn = self.ctx.db.read().await?;
        let statement = pb::Explanation {
            text: text.clone(),
            added_at_ms: now,
            taken_by: crate::db::operators::display_name(&mut conn, &caller.operator_id).await?,
        };
        Ok(pb::AddStatementResponse {
            text,
            replayed,
            statement: Some(statement),
        })
    }
}
