//! Complaints (投诉): the open ones, most pressing first (`a` shows the
//! last year's answered ones too), the chosen one in full; `n` takes a new
//! complaint, and at the center `g` assigns it to a clerk and `w` records
//! the written answer, which `p` prints as the answer letter (答复函).

use credit_desk_proto::pb::{self, Capability, ComplaintChannel};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph, Wrap};
use tonic::Status;

use crate::app::{Action, App};
use crate::bind;
use crate::form::{Field, Form, FormEvent};
use crate::i18n::Catalogue;
use crate::keys::{self, Binding, Key::Code, Key::Letter};
use crate::net::{Answer, Call};
use crate::print;

const CHANNEL: &str = "complaint_channel";
const COMPLAINANT: &str = "complainant";
const CONTACT: &str = "contact";
const SUBJECT: &str = "subject_identifier";
const ABOUT: &str = "about";
const RECEIVED_ON: &str = "complaint_received_on";
const ASSIGNEE: &str = "assignee_username";
const ANSWER: &str = "answer";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Up,
    Down,
    New,
    Assign,
    Answer,
    Print,
    All,
    Back,
}

const KEYS: &[Binding<Cmd>] = &[
    bind!("↑↓", [Code(KeyCode::Up)], key_select, Cmd::Up),
    bind!("↑↓", [Code(KeyCode::Down)], key_select, Cmd::Down),
    bind!("n", [Letter('n'), Code(KeyCode::F(2))], key_new, Cmd::New),
    bind!("g", [Letter('g')], key_assign, Cmd::Assign),
    bind!("w", [Letter('w')], key_answer, Cmd::Answer),
    bind!("p", [Letter('p')], key_print, Cmd::Print),
    bind!("a", [Letter('a')], key_show_all, Cmd::All),
    bind!("Esc", [Code(KeyCode::Esc)], key_back, Cmd::Back),
];

/// The form open below the list.
enum Editing {
    New(Form),
    Assign(Form),
    Answer(Form),
}

pub struct ComplaintsScreen {
    pub complaints: Vec<pb::ComplaintRecord>,
    pub selected: usize,
    /// Answered ones of the last year shown too.
    all: bool,
    editing: Option<Editing>,
    /// The center assigns and answers.
    handles: bool,
    /// Counters and the center take complaints (supervisors only read).
    files: bool,
}

impl ComplaintsScreen {
    pub fn new(capabilities: &[i32]) -> ComplaintsScreen {
        ComplaintsScreen {
            complaints: Vec::new(),
            selected: 0,
            all: false,
            editing: None,
            handles: capabilities.contains(&(Capability::HandleComplaints as i32)),
            files: [Capability::FileObjections, Capability::HandleComplaints]
                .iter()
                .any(|c| capabilities.contains(&(*c as i32))),
        }
    }

    pub fn load(&self) -> Call {
        Call::ListComplaints(if self.all { "all" } else { "" }.into())
    }

    pub fn is_typing(&self) -> bool {
        self.editing.is_some()
    }

    fn chosen(&self) -> Option<&pb::ComplaintRecord> {
        self.complaints.get(self.selected)
    }

    fn offers(&self, cmd: Cmd) -> bool {
        let open = self.chosen().is_some_and(|c| c.state == "open");
        match cmd {
            Cmd::New => self.files,
            Cmd::Assign | Cmd::Answer => self.handles && open,
            Cmd::Print => self.chosen().is_some_and(|c| c.state == "answered"),
            _ => true,
        }
    }

    pub fn on_key(&mut self, key: KeyEvent, cat: &Catalogue, waiting: bool) -> Action {
        if let Some(editing) = &mut self.editing {
            if key.code == KeyCode::Esc {
                self.editing = None;
                return Action::None;
            }
            let form = match editing {
                Editing::New(f) | Editing::Assign(f) | Editing::Answer(f) => f,
            };
            if form.handle_key(key) != FormEvent::Submit || waiting {
                return Action::None;
            }
            let id = self.complaints.get(self.selected).map(|c| c.id.clone());
            return match editing {
                Editing::New(f) => Action::Send(Call::FileComplaint(pb::FileComplaintRequest {
                    request_id: f.request_id(),
                    channel: f.choice(CHANNEL),
                    complainant: f.value(COMPLAINANT),
                    contact: f.value(CONTACT),
                    subject_identifier: f.raw(SUBJECT),
                    about: f.value(ABOUT),
                    received_on: f.raw(RECEIVED_ON),
                })),
                Editing::Assign(f) => {
                    Action::Send(Call::AssignComplaint(pb::AssignComplaintRequest {
                        complaint_id: id.unwrap_or_default(),
                        assignee_username: f.value(ASSIGNEE),
                    }))
                }
                Editing::Answer(f) => {
                    Action::Send(Call::AnswerComplaint(pb::AnswerComplaintRequest {
                        complaint_id: id.unwrap_or_default(),
                        answer: f.value(ANSWER),
                    }))
                }
            };
        }
        match keys::find(KEYS, &key, |c| self.offers(c)) {
            Some(Cmd::Up) => self.selected = self.selected.saturating_sub(1),
            Some(Cmd::Down) => {
                self.selected = (self.selected + 1).min(self.complaints.len().saturating_sub(1))
            }
            Some(Cmd::New) => self.editing = Some(Editing::New(new_form(cat))),
            Some(Cmd::Assign) => {
                self.editing = Some(Editing::Assign(
                    Form::new(vec![Field::text(ASSIGNEE, cat.complaint_assignee)])
                        .submitting(|c| c.key_assign),
                ))
            }
            Some(Cmd::Answer) => {
                self.editing = Some(Editing::Answer(
                    Form::new(vec![Field::text(ANSWER, cat.complaint_answer)])
                        .submitting(|c| c.key_answer),
                ))
            }
            Some(Cmd::Print) => {
                if let Some(c) = self.chosen() {
                    return Action::Send(Call::SaveText {
                        path: format!("{}.txt", print::file_name_part(&c.answer_letter_no)).into(),
                        text: letter(c, cat),
                    });
                }
            }
            Some(Cmd::All) if !waiting => {
                self.all = !self.all;
                return Action::Send(self.load());
            }
            Some(Cmd::Back) => return Action::Back,
            _ => {}
        }
        Action::None
    }

    pub fn on_answer(&mut self, answer: Answer, cat: &Catalogue) -> Action {
        match answer {
            Answer::Complaints(list) => {
                self.complaints = list;
                self.selected = self.selected.min(self.complaints.len().saturating_sub(1));
                Action::None
            }
            Answer::Complaint(c) => {
                self.editing = None;
                let no = c.complaint_no.clone();
                match self.complaints.iter().position(|x| x.id == c.id) {
                    Some(i) => {
                        self.selected = i;
                        self.complaints[i] = c;
                    }
                    None => {
                        self.complaints.insert(0, c);
                        self.selected = 0;
                    }
                }
                Action::Info(format!("{} {no}", cat.complaint_saved))
            }
            Answer::Saved(path) => Action::Info(format!("{} {}", cat.saved_to, path.display())),
            _ => Action::None,
        }
    }

    pub fn on_error(&mut self, status: &Status) -> bool {
        match &mut self.editing {
            Some(Editing::New(f) | Editing::Assign(f) | Editing::Answer(f)) => {
                f.apply_status(status)
            }
            None => false,
        }
    }

    pub fn hint(&self, cat: &Catalogue, width: usize) -> String {
        match &self.editing {
            Some(Editing::New(f) | Editing::Assign(f) | Editing::Answer(f)) => f.footer(cat, width),
            None => keys::footer(KEYS, cat, |c| self.offers(c), width),
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, app: &App) {
        let (cat, theme) = (app.cat, app.theme);
        let [list_area, detail_area, hint] = Layout::vertical([
            Constraint::Min(3),
            Constraint::Length(if self.editing.is_some() { 12 } else { 7 }),
            Constraint::Length(1),
        ])
        .areas(area);
        let width = usize::from(list_area.width).saturating_sub(2);
        let items: Vec<ListItem> = self
            .complaints
            .iter()
            .map(|c| {
                let mark = match c.urgency.as_str() {
                    "overdue" => "!!",
                    "due_today" => "! ",
                    "soon" => "~ ",
                    _ => "  ",
                };
                let state = match c.state.as_str() {
                    "answered" => cat.complaint_answered,
                    _ => c.due_on.as_str(),
                };
                ListItem::new(print::fit(
                    &format!(
                        "{mark}{} {} {} {state}",
                        c.complaint_no, c.complainant, c.about
                    ),
                    width,
                ))
            })
            .collect();
        let title = match self.complaints.is_empty() {
            true => cat.complaints_none,
            false => cat.complaints_list,
        };
        let mut state = ListState::default()
            .with_selected((!self.complaints.is_empty()).then_some(self.selected));
        frame.render_stateful_widget(
            List::new(items)
                .block(Block::default().borders(Borders::TOP).title(title))
                .highlight_style(theme.selected())
                .highlight_symbol("▶"),
            list_area,
            &mut state,
        );
        match &self.editing {
            Some(Editing::New(f) | Editing::Assign(f) | Editing::Answer(f)) => {
                let block = Block::default().borders(Borders::TOP);
                let inner = block.inner(detail_area);
                frame.render_widget(block, detail_area);
                f.render(inner, frame.buffer_mut(), theme, !app.help);
            }
            None => {
                if let Some(c) = self.chosen() {
                    frame.render_widget(
                        Paragraph::new(detail(c, cat, app.lang.pick("：", ": ")))
                            .block(Block::default().borders(Borders::TOP))
                            .wrap(Wrap { trim: false }),
                        detail_area,
                    );
                }
            }
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

fn new_form(cat: &Catalogue) -> Form {
    let channels = vec![
        (
            ComplaintChannel::InPerson as i32,
            cat.complaint_in_person.to_string(),
        ),
        (
            ComplaintChannel::Letter as i32,
            cat.complaint_letter.to_string(),
        ),
        (
            ComplaintChannel::Phone as i32,
            cat.complaint_phone.to_string(),
        ),
    ];
    Form::new(vec![
        Field::choice(CHANNEL, cat.complaint_channel, channels),
        Field::text(COMPLAINANT, cat.complainant),
        Field::text(CONTACT, cat.complaint_contact),
        Field::text(SUBJECT, cat.identifier),
        Field::text(ABOUT, cat.complaint_about),
        Field::text(RECEIVED_ON, cat.complaint_received),
    ])
    .submitting(|c| c.key_submit)
}

fn detail(c: &pb::ComplaintRecord, cat: &Catalogue, colon: &str) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::from(format!(
            "{}{colon}{} {} {}{colon}{} {}{colon}{}",
            cat.complainant,
            c.complainant,
            c.contact,
            cat.complaint_received,
            c.received_on,
            cat.complaint_due,
            c.due_on
        )),
        Line::from(format!("{}{colon}{}", cat.complaint_about, c.about)),
        Line::from(format!(
            "{}{colon}{} {} {}{colon}{}",
            cat.complaint_filed_by,
            c.filed_by,
            c.org_unit_name,
            cat.complaint_assigned,
            if c.assigned_to.is_empty() {
                "—"
            } else {
                &c.assigned_to
            }
        )),
    ];
    if !c.subject_name.is_empty() {
        lines.push(Line::from(format!(
            "{} {}",
            c.subject_name, c.subject_identifier
        )));
    }
    if c.state == "answered" {
        lines.push(Line::from(format!(
            "{} {} {}{colon}{}",
            c.answer_letter_no, c.answered_by, cat.complaint_answer, c.answer
        )));
    }
    lines
}

/// The written answer as sent to the complainant.
fn letter(c: &pb::ComplaintRecord, cat: &Catalogue) -> String {
    format!(
        "{}\n{}\n\n{}：\n\n{}\n\n{}\n\n{}\n",
        cat.complaint_letter_title,
        c.answer_letter_no,
        c.complainant,
        c.answer,
        format_args!(
            "{} {}（{}）",
            cat.complaint_letter_about, c.complaint_no, c.received_on
        ),
        cat.complaint_letter_sign
    )
}
