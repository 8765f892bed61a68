//! Every step on a ticket: load the facts, decide (access in `authz`, the
//! step in `rules::ticket`), write in one transaction, answer with the case
//! file. One function per action does that action's writes.

use super::*;

use pb::act_on_ticket_request::Action as A;

/// What every action reads before it decides.
struct Loaded {
    row: TicketRow,
    letters: Vec<tickets::LetterRow>,
    recs: Vec<tickets::TicketRecordRow>,
    facts: Facts,
}

/// Who acts, when.
struct Actor<'a> {
    caller: &'a Caller,
    now: i64,
}

/// What an action did: the ticket's next state and the event's detail.
type Done = (State, String);

impl ObjectionService {
    pub(super) async fn act(
        &self,
        caller: Caller,
        req: pb::ActOnTicketRequest,
    ) -> ApiResult<pb::TicketResponse> {
        validate::uuid("ticket_id", &req.ticket_id)?;
        let key = Key::of(&caller.operator_id, "ActOnTicket", &req, |r| {
            &mut r.request_id
        })?;
        let Some(action) = req.action.clone() else {
            return Err(FieldError::new("action", Rule::Required).into());
        };
        let who = Actor {
            caller: &caller,
            now: self.ctx.now_ms(),
        };
        let (id, replayed) = create_once(&self.ctx, key, async |tx| {
            let t = load(tx, &req.ticket_id).await?;
            let departments = departments_of(&t.recs);
            let access = authz::TicketFacts {
                filing_unit_path: &t.row.org_unit_path,
                departments: &departments,
            };
            authz::act_on_ticket(caller.actor(), &access, ticket_act(&action, &t.letters))?;
            if t.row.version as u64 != req.expected_version {
                return Err(ApiError::Stale {
                    by: t.row.updated_by.clone(),
                    at_ms: t.row.updated_at,
                });
            }
            let (state, detail) = match &action {
                A::SendRequests(s) => send_requests(tx, &who, &t, &departments, s).await?,
                A::RecordReply(r) => record_reply(tx, &who, &t, r).await?,
                A::Notify(n) => notify(tx, &who, &t, n).await?,
                A::MarkUnreachable(_) => (step(t.facts, Action::MarkUnreachable)?, String::new()),
                A::Close(_) => (step(t.facts, Action::Close)?, String::new()),
                A::Withdraw(w) => withdraw(tx, &who, &t, w).await?,
                A::Pause(p) => pause(tx, &who, &t, p).await?,
                A::Resume(_) => {
                    let next = step(t.facts, Action::Resume)?;
                    tickets::set_pause(tx, &t.row.id, None, who.now).await?;
                    (next, String::new())
                }
            };
            record_step(tx, &who, &t.row, state, action_name(&action), &detail).await?;
            let act = format!("objection.{}", action_name(&action));
            let op = Some(caller.operator_id.as_str());
            audit::record(tx, op, &act, &t.row.id, &detail, who.now);
            Ok(t.row.id.clone())
        })
        .await?;
        Ok(pb::TicketResponse {
            ticket: Some(self.load(&caller, &id).await?),
            replayed,
        })
    }
}

async fn load(tx: &mut sqlx::AnyConnection, ticket_id: &str) -> ApiResult<Loaded> {
    let row = tickets::get(tx, ticket_id)
        .await?
        .ok_or(ApiError::NotFound { field: "ticket_id" })?;
    let letters = tickets::letters_of(tx, &row.id).await?;
    let recs = tickets::records_of(tx, &row.id, false).await?;
    let notifications = tickets::notifications_of(tx, &row.id).await?;
    let facts = Facts {
        state: row.state,
        paused: row.paused_since.is_some(),
        departments: departments_of(&recs).len(),
        letters_sent: letters.len(),
        letters_replied: letters.iter().filter(|l| l.replied_at.is_some()).count(),
        failed_notices: notifications.iter().filter(|n| !n.reached).count() as u32,
        attempts_required: consents::setting_i64(tx, ATTEMPTS_SETTING, 3).await? as u32,
    };
    Ok(Loaded {
        row,
        letters,
        recs,
        facts,
    })
}

/// The action as the access decision sees it.
fn ticket_act<'a>(action: &A, letters: &'a [tickets::LetterRow]) -> authz::TicketAct<'a> {
    match action {
        A::Withdraw(_) => authz::TicketAct::Withdraw,
        A::RecordReply(r) => authz::TicketAct::RecordReply {
            department: letters
                .iter()
                .find(|l| l.id == r.letter_id)
                .map(|l| l.department_id.as_str()),
        },
        _ => authz::TicketAct::CenterWork,
    }
}

/// The state machine's answer, refused in the caller's words.
fn step(facts: Facts, action: Action) -> ApiResult<State> {
    ticket::next(facts, action).map_err(|refusal| refused(refusal, action))
}

/// The new state, claimed against the version loaded (two clerks acting at
/// once: one wins, the other is told who), and the event.
async fn record_step(
    tx: &mut sqlx::AnyConnection,
    who: &Actor<'_>,
    row: &TicketRow,
    state: State,
    event: &str,
    detail: &str,
) -> ApiResult<()> {
    let operator = &who.caller.operator_id;
    if !tickets::claim(tx, &row.id, row.version, operator, who.now).await? {
        let fresh = tickets::get(tx, &row.id)
            .await?
            .ok_or(ApiError::NotFound { field: "ticket_id" })?;
        return Err(ApiError::Stale {
            by: fresh.updated_by,
            at_ms: fresh.updated_at,
        });
    }
    tickets::set_state(tx, &row.id, state, who.now).await?;
    tickets::touch(tx, &row.id).await?;
    tickets::add_event(tx, &row.id, Some(operator), event, detail, who.now).await?;
    Ok(())
}

/// One verification request letter to each department not yet written to,
/// all with the reply due 10 working days after the departments' receipt.
async fn send_requests(
    tx: &mut sqlx::AnyConnection,
    who: &Actor<'_>,
    t: &Loaded,
    departments: &[&str],
    s: &pb::SendRequests,
) -> ApiResult<Done> {
    let today = local_date(who.now);
    let received_on =
        validate::receipt_date("received_on", &s.received_on, today, t.row.received_on)?;
    let cal = cal_db::load(tx).await?;
    let missing = |calendar::CalendarError::MissingYear(year)| {
        FieldError::new("received_on", Rule::CalendarMissingYear { year })
    };
    // Day 0 of the department's working days: letters arrive on one.
    if !cal.is_working_day(received_on).map_err(missing)? {
        return Err(FieldError::new("received_on", Rule::NotAWorkingDay).into());
    }
    let due = deadlines::department_reply_due(&cal, received_on).map_err(missing)?;
    let mut facts = t.facts;
    let mut sent = Vec::new();
    for dept in departments
        .iter()
        .filter(|d| !t.letters.iter().any(|l| l.department_id == **d))
    {
        facts.state = step(facts, Action::SendRequest)?;
        facts.letters_sent += 1;
        let day = today.format("%Y%m%d");
        let n = tickets::next_counter(tx, &format!("letter:{day}")).await?;
        let letter_no = format!("HC-{day}-{n:04}");
        tickets::insert_letter(
            tx,
            tickets::NewLetter {
                ticket_id: &t.row.id,
                letter_no: &letter_no,
                department_id: dept,
                operator_id: &who.caller.operator_id,
                received_on,
                reply_due: due,
                now_ms: who.now,
            },
        )
        .await?;
        sent.push(letter_no);
    }
    if sent.is_empty() {
        // Every department has its letter: the state machine says why not.
        step(facts, Action::SendRequest)?;
    }
    Ok((
        facts.state,
        format!("{} (reply due {due})", sent.join(", ")),
    ))
}

/// A department's reply: one decision for each of its disputed records.
async fn record_reply(
    tx: &mut sqlx::AnyConnection,
    who: &Actor<'_>,
    t: &Loaded,
    r: &pb::RecordReply,
) -> ApiResult<Done> {
    let letter = t
        .letters
        .iter()
        .find(|l| l.id == r.letter_id)
        .ok_or_else(|| FieldError::new("letter_id", Rule::UnknownValue))?;
    if letter.replied_at.is_some() {
        return Err(refused(
            ticket::Refusal::NoLetterWaiting,
            Action::RecordReply,
        ));
    }
    let next = step(t.facts, Action::RecordReply)?;
    let disputed: Vec<&str> = t
        .recs
        .iter()
        .filter(|x| x.department_id == letter.department_id && x.outcome == Outcome::Disputed)
        .map(|x| x.record_id.as_str())
        .collect();
    let decided = reply_decisions(&disputed, &r.decisions)?;
    validate::display_text("reply_text", &r.reply_text, 5000)?;
    let reply_letter = validate::reply_letter(
        &r.reply_letter_no,
        &r.reply_letter_date,
        local_date(who.now),
        letter.received_on,
    )
    .map_err(ApiError::Validation)?;
    // A corrected end follows the record's start.
    for d in &decided {
        if let Some(end) = d.end_date
            && let Some(start) = tickets::record_start(tx, d.record_id).await?
            && end < start
        {
            return Err(FieldError::new("end_date", Rule::NotBefore { earliest: start }).into());
        }
    }
    for d in &decided {
        match d.outcome {
            Outcome::Corrected => {
                tickets::correct_record(
                    tx,
                    d.record_id,
                    &t.row.id,
                    tickets::Correction {
                        status: &d.decision.status,
                        details: &d.decision.details,
                        end_date: d.end_date,
                        amount_cents: d
                            .decision
                            .has_amount
                            .then_some(Some(d.decision.amount_cents)),
                    },
                    &who.caller.operator_id,
                    who.now,
                )
                .await?
            }
            Outcome::Deleted => tickets::delete_record(tx, d.record_id, &t.row.id, who.now).await?,
            Outcome::Confirmed | Outcome::Unconfirmed | Outcome::Disputed | Outcome::Withdrawn => {}
        }
        tickets::set_outcome(tx, &t.row.id, d.record_id, d.outcome).await?;
    }
    tickets::reply_letter(
        tx,
        &letter.id,
        r.reply_text.trim(),
        reply_letter.as_ref().map(|(no, day)| (no.as_str(), *day)),
        &who.caller.operator_id,
        who.now,
    )
    .await?;
    if next == State::Replied {
        let cal = cal_db::load(tx).await?;
        let due =
            deadlines::notice_due(&cal, local_date(who.now)).map_err(|e| anyhow::anyhow!("{e}"))?;
        tickets::set_notify_due(tx, &t.row.id, due).await?;
    }
    let outcomes: Vec<String> = decided
        .iter()
        .map(|d| format!("{}={}", d.record_id, d.outcome.as_str()))
        .collect();
    Ok((
        next,
        format!("{}: {}", letter.letter_no, outcomes.join(", ")),
    ))
}

/// One department decision, checked.
#[derive(Debug)]
struct Decided<'a> {
    record_id: &'a str,
    outcome: Outcome,
    /// A corrected record's new end date, when the reply gives one.
    end_date: Option<chrono::NaiveDate>,
    decision: &'a pb::RecordDecision,
}

/// A corrected status is a word or two ("已履行"); details a paragraph.
const DECISION_STATUS_MAX: usize = 40;
const DECISION_DETAILS_MAX: usize = 2000;
/// What the clerk noted about a notice (who answered, what was said).
const NOTICE_NOTE_MAX: usize = 500;

/// Matches a reply's decisions to the records disputed at the department:
/// exactly one each, with an outcome a department may give (corrected,
/// deleted, confirmed, unconfirmed) and a valid end date on a correction.
fn reply_decisions<'a>(
    disputed: &[&'a str],
    decisions: &'a [pb::RecordDecision],
) -> Result<Vec<Decided<'a>>, FieldError> {
    let mut decided = Vec::with_capacity(disputed.len());
    for record_id in disputed {
        let decision = decisions
            .iter()
            .find(|d| d.record_id == *record_id)
            .ok_or_else(|| FieldError::new("decisions", Rule::Required))?;
        let outcome = Outcome::parse(&decision.outcome)
            .filter(|o| o.is_department_decision())
            .ok_or_else(|| FieldError::new("decisions", Rule::UnknownValue))?;
        validate::free_text("status", &decision.status, DECISION_STATUS_MAX, false)?;
        validate::free_text("details", &decision.details, DECISION_DETAILS_MAX, true)?;
        let end_date = match decision.end_date.trim() {
            "" => None,
            _ if outcome != Outcome::Corrected => None,
            text => Some(validate::date("end_date", text)?),
        };
        decided.push(Decided {
            record_id,
            outcome,
            end_date,
            decision,
        });
    }
    if decisions.len() != decided.len() {
        return Err(FieldError::new("decisions", Rule::UnknownValue));
    }
    Ok(decided)
}

async fn notify(
    tx: &mut sqlx::AnyConnection,
    who: &Actor<'_>,
    t: &Loaded,
    n: &pb::NotifyApplicant,
) -> ApiResult<Done> {
    let channel = NoticeChannel::parse(&n.channel)
        .ok_or_else(|| FieldError::new("channel", Rule::UnknownValue))?;
    validate::free_text("note", &n.note, NOTICE_NOTE_MAX, true)?;
    let next = step(t.facts, Action::Notify { reached: n.reached })?;
    let note = n.note.trim();
    tickets::add_notification(
        tx,
        &t.row.id,
        channel,
        n.reached,
        note,
        &who.caller.operator_id,
        who.now,
    )
    .await?;
    let how = if n.reached { "reached" } else { "not reached" };
    Ok((next, format!("{} {how} {note}", channel.as_str())))
}

/// The applicant withdraws: a reason, and the applicant themself —
/// verified again now, or their signed written withdrawal by reference.
async fn withdraw(
    tx: &mut sqlx::AnyConnection,
    who: &Actor<'_>,
    t: &Loaded,
    w: &pb::Withdraw,
) -> ApiResult<Done> {
    let reason = w.reason.trim();
    let (verification, written) = (w.verification_id.trim(), w.written_request.trim());
    let mut errors = validate::collect([validate::display_text(
        "reason",
        reason,
        validate::REASON_MAX,
    )]);
    match (verification, written) {
        ("", "") => errors.push(FieldError::new(
            "written_request",
            Rule::WithdrawalNeedsApplicant,
        )),
        ("", written) => {
            errors.extend(validate::display_text("written_request", written, 100).err())
        }
        (id, _) => errors.extend(validate::uuid(field::VERIFICATION_ID, id).err()),
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let next = step(t.facts, Action::Withdraw)?;
    let verification = (!verification.is_empty()).then_some(verification);
    if let Some(id) = verification {
        usable_verification(tx, who.caller, id, Some(&t.row.subject_id), who.now).await?;
    }
    tickets::end_disputes(tx, &t.row.id, Outcome::Withdrawn).await?;
    if t.facts.paused {
        tickets::set_pause(tx, &t.row.id, None, who.now).await?;
    }
    let written = verification.is_none().then_some(written);
    tickets::set_withdrawal(
        tx,
        &t.row.id,
        reason,
        verification,
        written,
        &who.caller.operator_id,
        who.now,
    )
    .await?;
    Ok((next, reason.to_string()))
}

async fn pause(
    tx: &mut sqlx::AnyConnection,
    who: &Actor<'_>,
    t: &Loaded,
    p: &pb::Pause,
) -> ApiResult<Done> {
    validate::display_text("reason", &p.reason, 200)?;
    let next = step(t.facts, Action::Pause)?;
    let reason = p.reason.trim();
    tickets::set_pause(tx, &t.row.id, Some(reason), who.now).await?;
    Ok((next, reason.to_string()))
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

fn action_name(a: &A) -> &'static str {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(record: &str, outcome: &str, end: &str) -> pb::RecordDecision {
        pb::RecordDecision {
            record_id: record.into(),
            outcome: outcome.into(),
            end_date: end.into(),
            ..Default::default()
        }
    }

    fn rule(r: Result<Vec<Decided<'_>>, FieldError>) -> Option<(&'static str, Rule)> {
        r.err().map(|e| (e.field, e.rule))
    }

    #[test]
    fn a_decision_status_and_details_are_bounded_plain_text() {
        let mut d = decision("r1", "corrected", "2025-06-30");
        d.status = "已履行\u{1b}[2J".into();
        assert_eq!(
            rule(reply_decisions(&["r1"], std::slice::from_ref(&d))),
            Some(("status", Rule::ControlCharacters { lines: false }))
        );
        d.status = "已履行".into();
        d.details = "x".repeat(DECISION_DETAILS_MAX + 1);
        assert_eq!(
            rule(reply_decisions(&["r1"], std::slice::from_ref(&d))),
            Some((
                "details",
                Rule::TooLong {
                    max: DECISION_DETAILS_MAX
                }
            ))
        );
        d.details = "2025年6月30日全部履行\n见回函".into();
        assert!(reply_decisions(&["r1"], std::slice::from_ref(&d)).is_ok());
    }

    #[test]
    fn a_reply_decides_each_disputed_record_once() {
        let both = [
            decision("r1", "corrected", "2025-06-30"),
            decision("r2", "deleted", ""),
        ];
        let d = reply_decisions(&["r1", "r2"], &both).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].outcome, Outcome::Corrected);
        assert_eq!(d[0].end_date, chrono::NaiveDate::from_ymd_opt(2025, 6, 30));
        assert_eq!(d[1].outcome, Outcome::Deleted);

        // One missing, one extra, one not a department's word, a bad date.
        let missing = rule(reply_decisions(&["r1", "r2"], &both[..1]));
        assert_eq!(missing, Some(("decisions", Rule::Required)));
        let extra = rule(reply_decisions(&["r1"], &both));
        assert_eq!(extra, Some(("decisions", Rule::UnknownValue)));
        for word in ["disputed", "withdrawn", "maybe", ""] {
            let d = [decision("r1", word, "")];
            assert_eq!(
                rule(reply_decisions(&["r1"], &d)),
                Some(("decisions", Rule::UnknownValue)),
                "{word:?}"
            );
        }
        let d = [decision("r1", "corrected", "30/06/2025")];
        assert_eq!(
            rule(reply_decisions(&["r1"], &d)),
            Some(("end_date", Rule::NotADate))
        );
        // An end date only means something on a correction.
        let d = [decision("r1", "confirmed", "2025-06-30")];
        assert_eq!(reply_decisions(&["r1"], &d).unwrap()[0].end_date, None);
    }
}
