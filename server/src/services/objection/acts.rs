//! Every step on a ticket: checked against the caller's role and scope,
//! the version the clerk saw, and the state machine, in one transaction.

use super::*;

impl ObjectionService {
    pub(super) async fn act(
        &self,
        caller: Caller,
        req: pb::ActOnTicketRequest,
    ) -> ApiResult<pb::TicketResponse> {
        use pb::act_on_ticket_request::Action as A;
        validate::collect([
            validate::uuid(field::REQUEST_ID, &req.request_id),
            validate::uuid("ticket_id", &req.ticket_id),
        ])
        .into_iter()
        .next()
        .map_or(Ok(()), Err)?;
        let Some(action) = req.action.clone() else {
            return Err(FieldError::new("action", Rule::Required).into());
        };
        let now = self.ctx.now_ms();
        let key = Key::of(&caller.operator_id, "ActOnTicket", &req, |r| {
            &mut r.request_id
        })?;
        let (id, replayed) = create_once(&self.ctx, key, async |tx| {
            let row = tickets::get(tx, &req.ticket_id)
                .await?
                .ok_or(ApiError::NotFound { field: "ticket_id" })?;
            let letters = tickets::letters_of(tx, &row.id).await?;
            let recs = tickets::records_of(tx, &row.id, false).await?;
            let departments = departments_of(&recs);
            let facts = authz::TicketFacts {
                filing_unit_path: &row.org_unit_path,
                departments: &departments,
            };
            let act = match &action {
                A::Withdraw(_) => authz::TicketAct::Withdraw,
                A::RecordReply(r) => authz::TicketAct::RecordReply {
                    department: letters
                        .iter()
                        .find(|l| l.id == r.letter_id)
                        .map(|l| l.department_id.as_str()),
                },
                _ => authz::TicketAct::CenterWork,
            };
            authz::act_on_ticket(caller.actor(), &facts, act)?;
            if row.version as u64 != req.expected_version {
                return Err(ApiError::Stale {
                    by: row.updated_by.clone(),
                    at_ms: row.updated_at,
                });
            }
            let notifications = tickets::notifications_of(tx, &row.id).await?;
            let mut facts = Facts {
                state: State::parse(&row.state).unwrap_or(State::Received),
                paused: row.paused_since.is_some(),
                departments: departments.len(),
                letters_sent: letters.len(),
                letters_replied: letters.iter().filter(|l| l.replied_at.is_some()).count(),
                failed_notices: notifications.iter().filter(|n| n.reached == 0).count() as u32,
                attempts_required: consents::setting_i64(tx, ATTEMPTS_SETTING, 3).await? as u32,
            };
            let step = |facts: Facts, a: Action| {
                ticket::next(facts, a).map_err(|refusal| refused(refusal, a))
            };
            let today = local_date(now);
            let (state, detail) = match &action {
                A::SendRequests(s) => {
                    let received_on = if s.received_on.trim().is_empty() {
                        today
                    } else {
                        date(s.received_on.trim())
                            .ok_or_else(|| FieldError::new("received_on", Rule::NotADate))?
                    };
                    let cal = cal_db::load(tx).await?;
                    let due = deadlines::department_reply_due(&cal, received_on).map_err(
                        |calendar::CalendarError::MissingYear(year)| {
                            FieldError::new("received_on", Rule::CalendarMissingYear { year })
                        },
                    )?;
                    let mut sent = Vec::new();
                    for dept in departments
                        .iter()
                        .filter(|d| !letters.iter().any(|l| l.department_id == **d))
                    {
                        facts.state = step(facts, Action::SendRequest)?;
                        facts.letters_sent += 1;
                        let n = tickets::next_counter(
                            tx,
                            &format!("letter:{}", today.format("%Y%m%d")),
                        )
                        .await?;
                        let letter_no = format!("HC-{}-{n:04}", today.format("%Y%m%d"));
                        tickets::insert_letter(
                            tx,
                            tickets::NewLetter {
                                ticket_id: &row.id,
                                letter_no: &letter_no,
                                department_id: dept,
                                operator_id: &caller.operator_id,
                                received_on: &received_on.to_string(),
                                reply_due: &due.to_string(),
                                now_ms: now,
                            },
                        )
                        .await?;
                        sent.push(letter_no);
                    }
                    if sent.is_empty() {
                        step(facts, Action::SendRequest)?;
                    }
                    (
                        facts.state,
                        format!("{} (reply due {due})", sent.join(", ")),
                    )
                }
                A::RecordReply(r) => {
                    let letter = letters
                        .iter()
                        .find(|l| l.id == r.letter_id)
                        .ok_or_else(|| FieldError::new("letter_id", Rule::UnknownValue))?;
                    if letter.replied_at.is_some() {
                        return Err(refused(
                            ticket::Refusal::NoLetterWaiting,
                            Action::RecordReply,
                        ));
                    }
                    let next = step(facts, Action::RecordReply)?;
                    let theirs: Vec<&tickets::TicketRecordRow> = recs
                        .iter()
                        .filter(|x| {
                            x.department_id == letter.department_id && x.outcome == "disputed"
                        })
                        .collect();
                    // One decision for each disputed record of the department.
                    let mut decided = Vec::new();
                    for rec in &theirs {
                        let d = r
                            .decisions
                            .iter()
                            .find(|d| d.record_id == rec.record_id)
                            .ok_or_else(|| FieldError::new("decisions", Rule::Required))?;
                        let outcome = Outcome::parse(&d.outcome)
                            .ok_or_else(|| FieldError::new("decisions", Rule::UnknownValue))?;
                        decided.push((rec.record_id.clone(), outcome, d));
                    }
                    if r.decisions.len() != decided.len() {
                        return Err(FieldError::new("decisions", Rule::UnknownValue).into());
                    }
                    validate::display_text("reply_text", &r.reply_text, 5000)?;
                    for (record_id, outcome, d) in &decided {
                        match outcome {
                            Outcome::Corrected => {
                                if let Some(end) = Some(d.end_date.trim()).filter(|e| !e.is_empty())
                                {
                                    date(end).ok_or_else(|| {
                                        FieldError::new("end_date", Rule::NotADate)
                                    })?;
                                }
                                tickets::correct_record(
                                    tx,
                                    record_id,
                                    &row.id,
                                    tickets::Correction {
                                        status: &d.status,
                                        details: &d.details,
                                        end_date: Some(d.end_date.trim()).filter(|e| !e.is_empty()),
                                        amount_cents: d.has_amount.then_some(Some(d.amount_cents)),
                                    },
                                    &caller.operator_id,
                                    now,
                                )
                                .await?
                            }
                            Outcome::Deleted => {
                                tickets::delete_record(tx, record_id, &row.id, now).await?
                            }
                            Outcome::Confirmed | Outcome::Unconfirmed => {}
                        }
                        tickets::set_outcome(tx, &row.id, record_id, outcome.as_str()).await?;
                    }
                    tickets::reply_letter(
                        tx,
                        &letter.id,
                        r.reply_text.trim(),
                        &caller.operator_id,
                        now,
                    )
                    .await?;
                    if next == State::Replied {
                        let cal = cal_db::load(tx).await?;
                        let due = deadlines::notice_due(&cal, today)
                            .map_err(|e| anyhow::anyhow!("{e}"))?;
                        tickets::set_notify_due(tx, &row.id, &due.to_string()).await?;
                    }
                    let outcomes: Vec<String> = decided
                        .iter()
                        .map(|(_, o, d)| format!("{}={}", d.record_id, o.as_str()))
                        .collect();
                    (
                        next,
                        format!("{}: {}", letter.letter_no, outcomes.join(", ")),
                    )
                }
                A::Notify(n) => {
                    if !["written", "phone"].contains(&n.channel.as_str()) {
                        return Err(FieldError::new("channel", Rule::UnknownValue).into());
                    }
                    let next = step(facts, Action::Notify { reached: n.reached })?;
                    tickets::add_notification(
                        tx,
                        &row.id,
                        &n.channel,
                        n.reached,
                        n.note.trim(),
                        &caller.operator_id,
                        now,
                    )
                    .await?;
                    let how = if n.reached { "reached" } else { "not reached" };
                    (next, format!("{} {how} {}", n.channel, n.note.trim()))
                }
                A::MarkUnreachable(_) => (step(facts, Action::MarkUnreachable)?, String::new()),
                A::Close(_) => (step(facts, Action::Close)?, String::new()),
                A::Withdraw(_) => {
                    let next = step(facts, Action::Withdraw)?;
                    tickets::end_disputes(tx, &row.id, "withdrawn").await?;
                    if facts.paused {
                        tickets::set_pause(tx, &row.id, None, now).await?;
                    }
                    (next, String::new())
                }
                A::Pause(p) => {
                    validate::display_text("reason", &p.reason, 200)?;
                    let next = step(facts, Action::Pause)?;
                    tickets::set_pause(tx, &row.id, Some(p.reason.trim()), now).await?;
                    (next, p.reason.trim().to_string())
                }
                A::Resume(_) => {
                    let next = step(facts, Action::Resume)?;
                    tickets::set_pause(tx, &row.id, None, now).await?;
                    (next, String::new())
                }
            };
            if !tickets::claim(tx, &row.id, row.version, &caller.operator_id, now).await? {
                let fresh = tickets::get(tx, &row.id)
                    .await?
                    .ok_or(ApiError::NotFound { field: "ticket_id" })?;
                return Err(ApiError::Stale {
                    by: fresh.updated_by,
                    at_ms: fresh.updated_at,
                });
            }
            tickets::set_state(tx, &row.id, state.as_str(), now).await?;
            tickets::touch(tx, &row.id).await?;
            tickets::add_event(
                tx,
                &row.id,
                Some(&caller.operator_id),
                action_name(&action),
                &detail,
                now,
            )
            .await?;
            Ok(row.id.clone())
        })
        .await?;
        Ok(pb::TicketResponse {
            ticket: Some(self.load(&caller, &id).await?),
            replayed,
        })
    }
}

fn refused(refusal: ticket::Refusal, action: Action) -> ApiError {
    use ticket::Refusal as R;
    let zh = match refusal {
        R::Terminal => "该异议已办结或已撤回",
        R::WrongState => "当前办理阶段不能进行此操作",
        R::Paused => "该异议已暂停，请先恢复",
        R::NotPaused => "该异议未暂停",
        R::AllRequestsSent => "各数据来源部门均已发出核实协查函",
        R::NoLetterWaiting => "没有等待回复的核实协查函",
        R::TooFewAttempts => "通知尝试次数不足，尚不能认定无法联系",
    };
    ApiError::WrongState {
        rule: action.as_str(),
        zh: zh.to_string(),
        en: refusal.to_string(),
    }
}

fn action_name(a: &pb::act_on_ticket_request::Action) -> &'static str {
    use pb::act_on_ticket_request::Action as A;
    match a {
        A::SendRequests(_) => "request_sent",
        A::RecordReply(_) => "reply_recorded",
        A::Notify(n) if n.reached => "notified",
        A::Notify(_) => "notice_failed",
        A::MarkUnreachable(_) => "unreachable",
        A::Close(_) => "closed",
        A::Withdraw(_) => "withdrawn",
        A::Pause(_) => "paused",
        A::Resume(_) => "resumed",
    }
}
