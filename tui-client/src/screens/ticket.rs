//! One objection's case file, scrolled, with its acts on single keys (each
//! offered only to the roles that may do it; the server checks again):
//! s send the verification requests, a record a department's reply, n log a
//! notification attempt, u unreachable, c close, z pause / resume, w the
//! applicant withdraws, p print the case file. Every act carries the
//! version on screen; if someone changed the ticket meanwhile the act is
//! refused with who and when, and the screen reloads.

use credit_desk_proto::Lang;
use credit_desk_proto::pb::{self, Capability, act_on_ticket_request::Action as Act};
use credit_desk_proto::validate::{self, FieldError, Rule, field};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use tonic::Status;

use super::queue::urgency_style;
use crate::app::{Action, App};
use crate::bind;
use crate::case_file;
use crate::form::{Field, Form, FormEvent};
use crate::i18n::{Catalogue, ticket_word};
use crate::keys::{self, Binding, Key::Code, Key::Letter};
use crate::net::{Answer, Call};

/// An act that needs a yes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    Unreachable,
    Close,
    Resume,
}

/// An act that needs a few fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKind {
    /// The departments' receipt date (empty: today).
    Send,
    Pause,
    /// Why, and how the applicant confirmed it.
    Withdraw,
    Notify,
    Reply,
}

const REASON: &str = "reason";
const RECEIVED_ON: &str = "received_on";
const CHANNEL: &str = "channel";
const REACHED: &str = "reached";
const NOTE: &str = "note";
const OUTCOME: &str = "outcome";
const RECORD: &str = "record";
const STATUS: &str = "status";
const DETAILS: &str = "details";
const END_DATE: &str = "end_date";
const REPLY: &str = "reply_text";
const CONFIRMED_BY: &str = "confirmed_by";
const WRITTEN: &str = "written_request";
const OUTCOMES: [&str; 4] = ["corrected", "deleted", "confirmed", "unconfirmed"];

/// What a key does on the case file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Send,
    Reply,
    Notify,
    Unreachable,
    Close,
    Pause,
    Resume,
    Withdraw,
    Print,
    Receipt,
    Letters,
    Notice,
    Reprint,
    Back,
    Refresh,
    LineDown,
    LineUp,
    PageDown,
    PageUp,
    Top,
}

/// The case file's keys, the most used first (the footer shows what fits).
const KEYS: &[Binding<Cmd>] = &[
    bind!("s", [Letter('s')], key_send, Cmd::Send),
    bind!("a", [Letter('a')], key_reply, Cmd::Reply),
    bind!("n", [Letter('n')], key_notify, Cmd::Notify),
    bind!("u", [Letter('u')], key_unreachable, Cmd::Unreachable),
    bind!("c", [Letter('c')], key_close, Cmd::Close),
    bind!("z", [Letter('z')], key_pause, Cmd::Pause),
    bind!("z", [Letter('z')], key_resume, Cmd::Resume),
    bind!("w", [Letter('w')], key_withdraw, Cmd::Withdraw),
    bind!("p", [Letter('p')], key_print, Cmd::Print),
    bind!("h", [Letter('h')], key_receipt, Cmd::Receipt),
    bind!("l", [Letter('l')], key_print_letters, Cmd::Letters),
    bind!("o", [Letter('o')], key_print_notice, Cmd::Notice),
    bind!("b", [Letter('b')], key_reprint_receipt, Cmd::Reprint),
    bind!("Esc", [Code(KeyCode::Esc)], key_back, Cmd::Back),
    bind!(
        "r",
        [Letter('r'), Code(KeyCode::F(5))],
        key_refresh,
        Cmd::Refresh
    ),
    bind!(
        "↑↓",
        [Code(KeyCode::Down), Letter('j')],
        key_scroll,
        Cmd::LineDown
    ),
    bind!(
        "↑↓",
        [Code(KeyCode::Up), Letter('k')],
        key_scroll,
        Cmd::LineUp
    ),
    bind!(
        "PgDn",
        [Code(KeyCode::PageDown), Code(KeyCode::Char(' '))],
        key_scroll,
        Cmd::PageDown
    ),
    bind!("PgUp", [Code(KeyCode::PageUp)], key_scroll, Cmd::PageUp),
    bind!("Home", [Code(KeyCode::Home)], key_scroll, Cmd::Top),
];

pub struct TicketScreen {
    pub ticket_id: String,
    pub ticket: Option<pb::Ticket>,
    pub scroll: usize,
    /// The furthest scroll that still fills the page, as last drawn
    /// (unknown before the first draw): paging never runs off the end.
    last_page: std::cell::Cell<usize>,
    caps: Vec<i32>,
    pub confirming: Option<Confirm>,
    pub form: Option<(FormKind, Form)>,
    /// Kept while the same act is resent, so a retry is the same request.
    request_id: String,
    /// An act was sent and its answer not yet seen.
    acting: bool,
    /// While recording a reply: each disputed record's decision, and which
    /// one the form shows.
    pub decisions: Vec<pb::RecordDecision>,
    shown: usize,
    /// A live verification made at this workstation: if it is of this
    /// ticket's subject, the applicant can withdraw in person.
    verification: Option<pb::Verification>,
    /// Who prints here (on reprints and notices).
    operator_name: String,
}

impl TicketScreen {
    pub fn new(ticket_id: String, caps: Vec<i32>) -> TicketScreen {
        TicketScreen {
            ticket_id,
            ticket: None,
            scroll: 0,
            last_page: std::cell::Cell::new(usize::MAX),
            caps,
            confirming: None,
            form: None,
            request_id: uuid::Uuid::now_v7().to_string(),
            acting: false,
            decisions: Vec::new(),
            shown: 0,
            verification: None,
            operator_name: String::new(),
        }
    }

    pub fn with_operator(mut self, name: &str) -> TicketScreen {
        self.operator_name = name.to_string();
        self
    }

    pub fn with_verification(mut self, verification: Option<pb::Verification>) -> TicketScreen {
        self.verification = verification;
        self
    }

    /// The verification of this ticket's subject made here this session
    /// (whether it is still live, the server decides and says).
    fn applicant_verified(&self) -> Option<&pb::Verification> {
        let subject = &self.ticket.as_ref()?.subject_id;
        self.verification
            .as_ref()
            .filter(|v| &v.subject_id == subject)
    }

    /// Opened on a ticket just answered (a filing): no load needed.
    pub fn with_ticket(ticket: pb::Ticket, caps: Vec<i32>) -> TicketScreen {
        let mut s = TicketScreen::new(ticket.id.clone(), caps);
        s.ticket = Some(ticket);
        s
    }

    pub fn load(&self) -> Call {
        Call::GetTicket(self.ticket_id.clone())
    }

    pub fn is_typing(&self) -> bool {
        self.form.is_some()
    }

    fn has(&self, c: Capability) -> bool {
        self.caps.contains(&(c as i32))
    }

    fn act(&mut self, action: Act) -> Action {
        let Some(t) = &self.ticket else {
            return Action::None;
        };
        self.acting = true;
        Action::Send(Call::ActOnTicket(pb::ActOnTicketRequest {
            request_id: self.request_id.clone(),
            ticket_id: t.id.clone(),
            expected_version: t.version,
            action: Some(action),
        }))
    }

    /// The letter waiting for a reply that this operator may answer.
    fn waiting_letter(&self) -> Option<&pb::Letter> {
        self.ticket
            .as_ref()?
            .letters
            .iter()
            .find(|l| l.replied_at_ms == 0)
    }

    fn open_form(&mut self, kind: FormKind, cat: &Catalogue, lang: Lang) {
        let w = |c: &str| ticket_word(lang, c);
        let form = match kind {
            FormKind::Send => Form::new(vec![Field::text(RECEIVED_ON, cat.letter_received_on)]),
            FormKind::Pause => Form::new(vec![Field::text(REASON, cat.pause_reason)]),
            FormKind::Withdraw => {
                let mut ways = vec![(0, cat.withdraw_in_writing.to_string())];
                if self.applicant_verified().is_some() {
                    ways.insert(0, (1, cat.withdraw_verified.to_string()));
                }
                let mut form = Form::new(vec![
                    Field::text(REASON, cat.withdraw_reason),
                    Field::choice(CONFIRMED_BY, cat.withdraw_confirmed_by, ways),
                    Field::text(WRITTEN, cat.withdraw_written),
                ]);
                form.set_note(WRITTEN, Some(cat.withdraw_written_note.to_string()));
                form.set_hidden(WRITTEN, form.choice(CONFIRMED_BY) == 1);
                form
            }
            FormKind::Notify => Form::new(vec![
                Field::choice(
                    CHANNEL,
                    cat.notify_by,
                    vec![(0, w("phone")), (1, w("written"))],
                ),
                Field::choice(
                    REACHED,
                    cat.notice_result,
                    vec![
                        (1, cat.notice_reached.to_string()),
                        (0, cat.notice_not_reached.to_string()),
                    ],
                ),
                Field::text(NOTE, cat.note_label),
            ]),
            FormKind::Reply => Form::new(vec![
                Field::choice(
                    RECORD,
                    cat.reply_record,
                    self.decisions
                        .iter()
                        .enumerate()
                        .map(|(i, d)| (i as i32, self.record_label(&d.record_id)))
                        .collect(),
                ),
                Field::choice(
                    OUTCOME,
                    cat.outcome_label,
                    OUTCOMES
                        .iter()
                        .enumerate()
                        .map(|(i, o)| (i as i32, w(o)))
                        .collect(),
                ),
                Field::text(STATUS, cat.corrected_status),
                Field::text(DETAILS, cat.corrected_details),
                Field::text(END_DATE, cat.corrected_end_date),
                Field::text(REPLY, cat.reply_label),
                Field::text(field::REPLY_LETTER_NO, cat.reply_letter_no),
                Field::text(field::REPLY_LETTER_DATE, cat.reply_letter_date),
            ]),
        };
        self.form = Some((kind, form));
    }

    fn submit_form(&mut self, lang: Lang) -> Action {
        let waiting_letter = self.waiting_letter().cloned();
        let Some((kind, form)) = &mut self.form else {
            return Action::None;
        };
        let kind = *kind;
        match kind {
            FormKind::Send => {
                let received_on = form.value(RECEIVED_ON);
                let errors: Vec<FieldError> = (!received_on.trim().is_empty())
                    .then(|| validate::date(RECEIVED_ON, &received_on).err())
                    .flatten()
                    .into_iter()
                    .collect();
                if form.show_local_errors(&errors, lang) {
                    return Action::None;
                }
                self.act(Act::SendRequests(pb::SendRequests { received_on }))
            }
            FormKind::Pause => {
                let reason = form.value(REASON);
                if form.show_local_errors(
                    &validate::collect([validate::display_text(REASON, &reason, 200)]),
                    lang,
                ) {
                    return Action::None;
                }
                self.act(Act::Pause(pb::Pause { reason }))
            }
            FormKind::Withdraw => {
                let reason = form.value(REASON);
                let in_person = form.choice(CONFIRMED_BY) == 1;
                let written = if in_person {
                    String::new()
                } else {
                    form.value(WRITTEN)
                };
                let mut errors = validate::collect([validate::display_text(
                    REASON,
                    &reason,
                    validate::REASON_MAX,
                )]);
                if !in_person {
                    errors.extend(match written.trim() {
                        "" => Some(FieldError::new(WRITTEN, Rule::WithdrawalNeedsApplicant)),
                        w => validate::display_text(WRITTEN, w, 100).err(),
                    });
                }
                if form.show_local_errors(&errors, lang) {
                    return Action::None;
                }
                let verification_id = match in_person {
                    true => self.verification.as_ref().map(|v| v.id.clone()),
                    false => None,
                };
                self.act(Act::Withdraw(pb::Withdraw {
                    reason,
                    verification_id: verification_id.unwrap_or_default(),
                    written_request: written,
                }))
            }
            FormKind::Notify => {
                let channel = if form.choice(CHANNEL) == 0 {
                    "phone"
                } else {
                    "written"
                };
                let n = pb::NotifyApplicant {
                    channel: channel.into(),
                    reached: form.choice(REACHED) == 1,
                    note: form.value(NOTE),
                };
                self.act(Act::Notify(n))
            }
            FormKind::Reply => {
                let reply_text = form.value(REPLY);
                let mut errors =
                    validate::collect([validate::display_text(REPLY, &reply_text, 5000)]);
                if let Some(e) = self
                    .decisions
                    .iter()
                    .filter(|d| !d.end_date.trim().is_empty())
                    .find_map(|d| validate::date(END_DATE, &d.end_date).err())
                {
                    errors.push(e);
                }
                let Some(letter) = waiting_letter else {
                    return Action::None;
                };
                let (number, day) = (
                    form.value(field::REPLY_LETTER_NO),
                    form.value(field::REPLY_LETTER_DATE),
                );
                let received = chrono::NaiveDate::parse_from_str(&letter.received_on, "%Y-%m-%d")
                    .unwrap_or_default();
                let today = credit_desk_proto::now::today();
                if let Err(e) = validate::reply_letter(&number, &day, today, received) {
                    errors.extend(e);
                }
                if form.show_local_errors(&errors, lang) {
                    return Action::None;
                }
                self.act(Act::RecordReply(pb::RecordReply {
                    letter_id: letter.id,
                    reply_text,
                    decisions: self.decisions.clone(),
                    reply_letter_no: number,
                    reply_letter_date: day,
                }))
            }
        }
    }

    fn record_label(&self, record_id: &str) -> String {
        self.ticket
            .iter()
            .flat_map(|t| &t.records)
            .find(|r| r.record_id == record_id)
            .map_or_else(String::new, |r| format!("{} {}", r.source_key, r.status))
    }

    /// Opens the reply form with one decision per disputed record of the
    /// department whose letter is waiting (corrected by default).
    fn start_reply(&mut self, cat: &Catalogue, lang: Lang) {
        let Some(letter) = self.waiting_letter().cloned() else {
            return;
        };
        self.decisions = self
            .ticket
            .iter()
            .flat_map(|t| &t.records)
            .filter(|r| r.department_id == letter.department_id && r.outcome == "disputed")
            .map(|r| pb::RecordDecision {
                record_id: r.record_id.clone(),
                outcome: OUTCOMES[0].into(),
                ..Default::default()
            })
            .collect();
        self.shown = 0;
        self.open_form(FormKind::Reply, cat, lang);
    }

    /// Keeps the shown record's decision in step with the form: what was
    /// typed goes into it, and choosing another record shows that one's.
    fn sync_reply(&mut self) {
        let Some((FormKind::Reply, form)) = &mut self.form else {
            return;
        };
        if let Some(d) = self.decisions.get_mut(self.shown) {
            d.outcome = OUTCOMES[form.choice(OUTCOME).clamp(0, 3) as usize].into();
            d.status = form.value(STATUS);
            d.details = form.value(DETAILS);
            d.end_date = form.value(END_DATE);
        }
        let now = form.choice(RECORD).max(0) as usize;
        if now != self.shown
            && let Some(d) = self.decisions.get(now)
        {
            self.shown = now;
            let outcome = OUTCOMES.iter().position(|o| *o == d.outcome).unwrap_or(0);
            form.select(OUTCOME, outcome as i32);
            form.set_text(STATUS, &d.status);
            form.set_text(DETAILS, &d.details);
            form.set_text(END_DATE, &d.end_date);
        }
    }

    pub fn on_key(&mut self, key: KeyEvent, cat: &Catalogue, lang: Lang, waiting: bool) -> Action {
        if let Some((_, form)) = &mut self.form {
            if key.code == KeyCode::Esc {
                self.form = None;
                return Action::None;
            }
            let submitted = form.handle_key(key) == FormEvent::Submit;
            if let Some((FormKind::Withdraw, form)) = &mut self.form {
                form.set_hidden(WRITTEN, form.choice(CONFIRMED_BY) == 1);
            }
            self.sync_reply();
            if submitted && !waiting {
                return self.submit_form(lang);
            }
            return Action::None;
        }
        if let Some(c) = self.confirming.take() {
            if !matches!(key.code, KeyCode::Char('y' | 'Y')) || waiting {
                return Action::None;
            }
            return match c {
                Confirm::Unreachable => self.act(Act::MarkUnreachable(pb::Empty {})),
                Confirm::Close => self.act(Act::Close(pb::Empty {})),
                Confirm::Resume => self.act(Act::Resume(pb::Empty {})),
            };
        }
        let Some(cmd) = keys::find(KEYS, &key, |c| self.offers(c)) else {
            return Action::None;
        };
        match cmd {
            Cmd::Back => return Action::Back,
            Cmd::LineDown => self.scroll = (self.scroll + 1).min(self.last_page.get()),
            Cmd::LineUp => self.scroll = self.scroll.saturating_sub(1),
            Cmd::PageDown => self.scroll = (self.scroll + 15).min(self.last_page.get()),
            Cmd::PageUp => self.scroll = self.scroll.saturating_sub(15),
            Cmd::Top => self.scroll = 0,
            Cmd::Refresh => return Action::Send(self.load()),
            Cmd::Print => {
                if let Some(t) = &self.ticket {
                    let offset = credit_desk_proto::now::local().fixed_offset().timezone();
                    return Action::Send(Call::SaveText {
                        path: format!("{}.txt", t.ticket_no).into(),
                        text: case_file::document(t, cat, lang, offset, &t.updated_by),
                    });
                }
            }
            Cmd::Letters | Cmd::Notice | Cmd::Reprint => {
                if let Some(t) = &self.ticket {
                    let offset = credit_desk_proto::now::local().fixed_offset().timezone();
                    let me = self.operator_name.as_str();
                    let (name, text) = match cmd {
                        Cmd::Letters => (
                            cat.request_letter_title,
                            crate::letters::request_letters(t, cat, offset),
                        ),
                        Cmd::Notice => (
                            cat.notice_title,
                            crate::letters::applicant_notice(t, cat, offset, me),
                        ),
                        _ => (
                            cat.acceptance_title,
                            crate::letters::acceptance_receipt(
                                t,
                                cat,
                                offset,
                                Some((credit_desk_proto::now::ms(), me)),
                            ),
                        ),
                    };
                    return Action::Send(Call::SaveText {
                        path: format!("{}-{name}.txt", t.ticket_no).into(),
                        text,
                    });
                }
            }
            Cmd::Receipt => {
                if let Some(t) = &self.ticket {
                    let offset = credit_desk_proto::now::local().fixed_offset().timezone();
                    return Action::Send(Call::SaveText {
                        path: format!("{}-{}.txt", t.ticket_no, cat.withdrawal_receipt).into(),
                        text: case_file::withdrawal_receipt(t, cat, offset),
                    });
                }
            }
            Cmd::Send => self.open_form(FormKind::Send, cat, lang),
            Cmd::Unreachable => self.confirming = Some(Confirm::Unreachable),
            Cmd::Close => self.confirming = Some(Confirm::Close),
            Cmd::Notify => self.open_form(FormKind::Notify, cat, lang),
            Cmd::Resume => self.confirming = Some(Confirm::Resume),
            Cmd::Pause => self.open_form(FormKind::Pause, cat, lang),
            Cmd::Withdraw => self.open_form(FormKind::Withdraw, cat, lang),
            Cmd::Reply => self.start_reply(cat, lang),
        }
        Action::None
    }

    /// Whether a key's act is offered to this operator on this ticket now
    /// (the server decides again; this keeps the footer honest).
    fn offers(&self, cmd: Cmd) -> bool {
        let center = self.has(Capability::HandleObjections);
        let paused = self.ticket.as_ref().is_some_and(|t| t.paused);
        // A closed or withdrawn ticket is read and printed, never acted on.
        let open = self
            .ticket
            .as_ref()
            .is_some_and(|t| !matches!(t.state.as_str(), "closed" | "withdrawn"));
        match cmd {
            Cmd::Send | Cmd::Notify | Cmd::Unreachable | Cmd::Close => open && center,
            Cmd::Pause => open && center && !paused,
            Cmd::Resume => open && center && paused,
            Cmd::Withdraw => open && (center || self.has(Capability::FileObjections)),
            Cmd::Receipt => self.ticket.as_ref().is_some_and(|t| t.withdrawn_at_ms > 0),
            // Requests once sent, to the center; the notice once every
            // department answered.
            Cmd::Letters => center && self.ticket.as_ref().is_some_and(|t| !t.letters.is_empty()),
            Cmd::Notice => {
                center
                    && self.ticket.as_ref().is_some_and(|t| {
                        !t.letters.is_empty()
                            && t.letters.iter().all(|l| l.replied_at_ms > 0)
                            && t.state != "withdrawn"
                    })
            }
            Cmd::Reprint => center || self.has(Capability::FileObjections),
            Cmd::Reply => {
                open && (center || self.has(Capability::AnswerRequests))
                    && self.waiting_letter().is_some()
            }
            Cmd::Print
            | Cmd::Back
            | Cmd::Refresh
            | Cmd::LineDown
            | Cmd::LineUp
            | Cmd::PageDown
            | Cmd::PageUp
            | Cmd::Top => true,
        }
    }

    pub fn on_answer(&mut self, answer: Answer, cat: &Catalogue) -> Action {
        match answer {
            Answer::Ticket(t) => {
                let acted = std::mem::take(&mut self.acting);
                self.ticket = Some(*t);
                self.form = None;
                // The next act is a new request.
                self.request_id = uuid::Uuid::now_v7().to_string();
                if acted {
                    let done = match self.ticket.as_ref().is_some_and(|t| t.withdrawn_at_ms > 0) {
                        true => cat.ticket_withdrawn,
                        false => cat.ticket_updated,
                    };
                    return Action::Info(done.to_string());
                }
                Action::None
            }
            Answer::Saved(path) => Action::Info(format!("{} {}", cat.saved_to, path.display())),
            _ => Action::None,
        }
    }

    pub fn on_error(&mut self, status: &Status) -> bool {
        self.acting = false;
        match &mut self.form {
            Some((_, form)) => form.apply_status(status),
            None => false,
        }
    }

    /// The footer: the form's keys, or the case file's offered keys that
    /// fit in `width` columns.
    pub fn hint(&self, cat: &Catalogue, width: usize) -> String {
        if let Some((_, form)) = &self.form {
            form.footer(cat, width)
        } else {
            keys::footer(KEYS, cat, |c| self.offers(c), width)
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, app: &App) {
        let (cat, theme, lang) = (app.cat, app.theme, app.lang);
        let form_height = self.form.as_ref().map_or(0, |(_, f)| f.height() + 1);
        let [body, form_area, ask, hint] = Layout::vertical([
            Constraint::Min(3),
            Constraint::Length(form_height),
            Constraint::Length(u16::from(self.confirming.is_some())),
            Constraint::Length(1),
        ])
        .areas(area);
        let Some(t) = &self.ticket else {
            frame.render_widget(Paragraph::new(cat.loading), body);
            return;
        };
        let deadline_lines: Vec<String> = t
            .deadlines
            .iter()
            .map(|d| case_file::deadline_line(d, lang))
            .collect();
        let all = case_file::lines(t, cat, lang, app.utc_offset);
        self.last_page.set(last_page(&all, body.width, body.height));
        let lines: Vec<Line> = all
            .into_iter()
            .skip(self.scroll.min(self.last_page.get()))
            .take(body.height as usize)
            .map(|l| {
                // Running deadlines in their urgency's colour.
                if let Some(i) = deadline_lines.iter().position(|d| *d == l) {
                    let d = &t.deadlines[i];
                    let style = if d.met {
                        theme.dim()
                    } else {
                        urgency_style(theme, &d.urgency)
                    };
                    Line::from(Span::styled(l, style))
                } else if l.starts_with([
                    '一', '二', '三', '四', '五', '六', '1', '2', '3', '4', '5', '6',
                ]) {
                    Line::styled(l, theme.title())
                } else {
                    Line::from(l)
                }
            })
            .collect();
        // A long history line (a reply's records) wraps, not cut at the edge.
        frame.render_widget(
            Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: false }),
            body,
        );
        if let Some((kind, form)) = &self.form {
            let title = match kind {
                FormKind::Send => cat.confirm_send,
                FormKind::Pause => cat.pause_title,
                FormKind::Notify => cat.notify_title,
                FormKind::Reply => cat.reply_title,
                FormKind::Withdraw => cat.withdraw_title_ticket,
            };
            let block = Block::default()
                .borders(Borders::TOP)
                .title(Span::styled(title, theme.title()));
            let inner = block.inner(form_area);
            frame.render_widget(block, form_area);
            form.render(inner, frame.buffer_mut(), theme, !app.help);
        }
        if let Some(c) = self.confirming {
            let q = match c {
                Confirm::Unreachable => cat.confirm_unreachable,
                Confirm::Close => cat.confirm_close,
                Confirm::Resume => cat.confirm_resume,
            };
            frame.render_widget(Paragraph::new(Line::styled(q, theme.warning())), ask);
        }
        frame.render_widget(
            Paragraph::new(Line::styled(
                self.hint(cat, usize::from(hint.width)),
                theme.dim(),
            )),
            hint,
        );
    }
}

/// The first line of the last page: from there to the end, the lines
/// (wrapped at `width` columns) fill at most `height` rows.
fn last_page(lines: &[String], width: u16, height: u16) -> usize {
    use unicode_width::UnicodeWidthStr;
    let width = usize::from(width.max(1));
    let mut rows = 0;
    for (i, line) in lines.iter().enumerate().rev() {
        rows += line.width().div_ceil(width).max(1);
        if rows > usize::from(height) {
            // The last line is shown even when it alone overfills the page.
            return (i + 1).min(lines.len() - 1);
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::last_page;

    #[test]
    fn the_last_page_counts_wrapped_rows() {
        let lines: Vec<String> = ["a", "b", "c", "d"].map(String::from).into();
        assert_eq!(last_page(&lines, 80, 2), 2);
        assert_eq!(last_page(&lines, 80, 10), 0);
        // A last line two rows long (at 10 columns) leaves room for one more.
        let mut long = lines.clone();
        long.push("x".repeat(15));
        assert_eq!(last_page(&long, 10, 3), 3);
        // Wide characters take two columns each.
        assert_eq!(last_page(&["一二三四五六".to_string()], 6, 1), 0);
        assert_eq!(last_page(&["a".into(), "一二三四五六".into()], 6, 2), 1);
    }
}
