//! Filing an objection (异议申请) at the counter, from the records chosen on
//! the subject's report: reason category and text, evidence (one item per
//! line), contact and how to be notified. The answer is the case file,
//! shown as the acceptance receipt the clerk prints for the applicant.

use credit_desk_proto::Lang;
use credit_desk_proto::pb;
use credit_desk_proto::validate;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui_textarea::TextArea;
use tonic::Status;

use crate::app::{Action, App};
use crate::bind;
use crate::case_file;
use crate::form::{Field, Form, FormEvent};
use crate::i18n::{Catalogue, ticket_word};
use crate::keys::{self, Binding, Key::Code, Key::Ctrl, Key::Letter};
use crate::net::{Answer, Call};

const CATEGORY: &str = "reason_category";
const PHONE: &str = "contact_phone";
const ADDRESS: &str = "contact_address";
const REASON: &str = "reason_text";
const NOTIFY: &str = "notify_by";
pub const CATEGORIES: [&str; 4] = ["wrong_content", "not_mine", "outdated", "other"];

/// Which part has the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Fields,
    Reason,
    Evidence,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Down,
    Up,
    Print,
    NextPart,
    PreviousPart,
    Submit,
    Back,
}

/// Keys besides the form's: moving between the parts and submitting while
/// filing; scrolling and printing the receipt afterwards.
const KEYS: &[Binding<Cmd>] = &[
    bind!(
        "↑↓",
        [Code(KeyCode::Down), Letter('j')],
        key_scroll,
        Cmd::Down
    ),
    bind!("↑↓", [Code(KeyCode::Up), Letter('k')], key_scroll, Cmd::Up),
    bind!("p", [Letter('p')], key_print, Cmd::Print),
    bind!("Tab", [Code(KeyCode::Tab)], key_move, Cmd::NextPart),
    bind!(
        "Shift-Tab",
        [Code(KeyCode::BackTab)],
        key_move,
        Cmd::PreviousPart
    ),
    bind!("F10", [Code(KeyCode::F(10))], key_submit, Cmd::Submit),
    bind!("Ctrl-S", [Ctrl('s')], key_submit, Cmd::Submit),
    bind!("Esc", [Code(KeyCode::Esc)], key_back, Cmd::Back),
];

pub struct ObjectionScreen {
    verification_id: String,
    /// The disputed records: id and how the report shows them.
    pub records: Vec<(String, String)>,
    pub form: Form,
    pub reason: TextArea<'static>,
    pub evidence: TextArea<'static>,
    pub part: Part,
    /// Why the reason cannot be sent (shown beside its label).
    reason_error: Option<String>,
    pub filed: Option<pb::Ticket>,
    pub scroll: usize,
}

impl ObjectionScreen {
    pub fn new(
        verification_id: String,
        records: Vec<(String, String)>,
        cat: &Catalogue,
        lang: Lang,
    ) -> ObjectionScreen {
        let w = |c: &str| ticket_word(lang, c);
        ObjectionScreen {
            verification_id,
            records,
            form: Form::new(vec![
                Field::choice(
                    CATEGORY,
                    cat.reason_category,
                    CATEGORIES
                        .iter()
                        .enumerate()
                        .map(|(i, c)| (i as i32, w(c)))
                        .collect(),
                ),
                Field::text(PHONE, cat.contact_phone),
                Field::text(ADDRESS, cat.contact_address),
                Field::choice(
                    NOTIFY,
                    cat.notify_by,
                    vec![(0, w("phone")), (1, w("written"))],
                ),
            ])
            .submitting(|c| c.key_next_field),
            reason: TextArea::default(),
            evidence: TextArea::default(),
            part: Part::Fields,
            reason_error: None,
            filed: None,
            scroll: 0,
        }
    }

    pub fn is_typing(&self) -> bool {
        self.filed.is_none()
    }

    fn request(&mut self, lang: Lang) -> Option<pb::FileObjectionRequest> {
        let reason_text = self.reason.lines().join("\n").trim().to_string();
        let (phone, address) = (self.form.value(PHONE), self.form.value(ADDRESS));
        let errors = validate::collect([
            validate::phone(PHONE, &phone),
            validate::display_text(ADDRESS, &address, 200),
        ]);
        let shown = self.form.show_local_errors(&errors, lang);
        self.reason_error = reason_text
            .is_empty()
            .then(|| validate::FieldError::new(REASON, validate::Rule::Required).message(lang));
        // The first part with an error takes the focus.
        if shown {
            self.part = Part::Fields;
            return None;
        }
        if self.reason_error.is_some() {
            self.part = Part::Reason;
            return None;
        }
        Some(pb::FileObjectionRequest {
            request_id: self.form.request_id(),
            verification_id: self.verification_id.clone(),
            record_ids: self.records.iter().map(|(id, _)| id.clone()).collect(),
            reason_category: CATEGORIES[self.form.choice(CATEGORY).clamp(0, 3) as usize].into(),
            reason_text,
            evidence: self
                .evidence
                .lines()
                .iter()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect(),
            contact_phone: phone,
            contact_address: address,
            notify_by: if self.form.choice(NOTIFY) == 0 {
                "phone"
            } else {
                "written"
            }
            .into(),
        })
    }

    fn offers(&self, cmd: Cmd) -> bool {
        match cmd {
            Cmd::Down | Cmd::Up | Cmd::Print => self.filed.is_some(),
            Cmd::Submit => self.filed.is_none(),
            Cmd::NextPart | Cmd::PreviousPart => self.filed.is_none() && self.part != Part::Fields,
            Cmd::Back => true,
        }
    }

    pub fn on_key(&mut self, key: KeyEvent, cat: &Catalogue, lang: Lang, waiting: bool) -> Action {
        match keys::find(KEYS, &key, |c| self.offers(c)) {
            Some(Cmd::Back) => return Action::Back,
            Some(Cmd::Down) => self.scroll += 1,
            Some(Cmd::Up) => self.scroll = self.scroll.saturating_sub(1),
            Some(Cmd::Print) => {
                if let Some(t) = &self.filed {
                    let offset = credit_desk_proto::now::local().fixed_offset().timezone();
                    return Action::Send(Call::SaveText {
                        path: format!("{}-{}.txt", t.ticket_no, cat.acceptance_title).into(),
                        text: crate::letters::acceptance_receipt(t, cat, offset, None),
                    });
                }
            }
            Some(Cmd::Submit) if waiting => {}
            Some(Cmd::Submit) => {
                return match self.request(lang) {
                    Some(req) => Action::Send(Call::FileObjection(req)),
                    None => Action::None,
                };
            }
            // Fields → reason → evidence → the first field, and back.
            Some(Cmd::NextPart) => match self.part {
                Part::Reason => self.part = Part::Evidence,
                _ => {
                    self.part = Part::Fields;
                    self.form.move_focus(0);
                }
            },
            Some(Cmd::PreviousPart) => match self.part {
                Part::Evidence => self.part = Part::Reason,
                _ => {
                    self.part = Part::Fields;
                    self.form.move_focus(self.form.fields.len() - 1);
                }
            },
            None if self.filed.is_some() => {}
            None => self.on_edit_key(key, waiting),
        }
        Action::None
    }

    /// A key for the part being edited.
    fn on_edit_key(&mut self, key: KeyEvent, waiting: bool) {
        match self.part {
            Part::Reason => {
                if crate::form::edit_area(&mut self.reason, key) {
                    self.form.content_changed();
                    self.reason_error = None;
                }
            }
            Part::Evidence => {
                if crate::form::edit_area(&mut self.evidence, key) {
                    self.form.content_changed();
                }
            }
            // Tab past the last field, or Enter, goes on to the reason;
            // Shift-Tab before the first goes back to the evidence.
            Part::Fields
                if key.code == KeyCode::Tab && self.form.focus == self.form.fields.len() - 1 =>
            {
                self.part = Part::Reason;
            }
            Part::Fields if key.code == KeyCode::BackTab && self.form.focus == 0 => {
                self.part = Part::Evidence;
            }
            Part::Fields => {
                if self.form.handle_key(key) == FormEvent::Submit && !waiting {
                    self.part = Part::Reason;
                }
            }
        }
    }

    pub fn on_answer(&mut self, answer: Answer, cat: &Catalogue) -> Action {
        match answer {
            Answer::Ticket(t) => {
                let done = cat.objection_filed(&t.ticket_no);
                self.filed = Some(*t);
                Action::Info(done)
            }
            Answer::Saved(path) => Action::Info(format!("{} {}", cat.saved_to, path.display())),
            _ => Action::None,
        }
    }

    pub fn on_error(&mut self, status: &Status) -> bool {
        self.part = Part::Fields;
        self.form.apply_status(status)
    }

    pub fn hint(&self, cat: &Catalogue, width: usize) -> String {
        let own = keys::entries(KEYS, cat, |c| self.offers(c));
        if self.filed.is_none() && self.part == Part::Fields {
            return keys::fit(self.form.key_entries(cat).into_iter().chain(own), width);
        }
        keys::fit(own, width)
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, app: &App) {
        let (cat, theme) = (app.cat, app.theme);
        if let Some(t) = &self.filed {
            let [body, hint] =
                Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
            let lines: Vec<Line> = case_file::lines(t, cat, app.lang, app.utc_offset)
                .into_iter()
                .skip(self.scroll)
                .map(Line::from)
                .collect();
            frame.render_widget(Paragraph::new(lines), body);
            frame.render_widget(
                Paragraph::new(Line::styled(
                    self.hint(cat, usize::from(hint.width)),
                    theme.dim(),
                )),
                hint,
            );
            return;
        }
        let records_height = self.records.len().min(4) as u16 + 1;
        let [records, fields, reason, evidence, hint] = Layout::vertical([
            Constraint::Length(records_height),
            Constraint::Length(self.form.height()),
            Constraint::Min(3),
            Constraint::Length(4),
            Constraint::Length(1),
        ])
        .areas(area);
        let mut lines = vec![Line::styled(cat.objection_records, theme.title())];
        lines.extend(
            self.records
                .iter()
                .take(4)
                .map(|(_, label)| Line::from(format!("  {label}"))),
        );
        frame.render_widget(Paragraph::new(lines), records);
        self.form.render(
            fields,
            frame.buffer_mut(),
            theme,
            !app.help && self.part == Part::Fields,
        );
        let focus = !app.help && self.part != Part::Fields;
        for (area_rect, textarea, part, label, error) in [
            (
                reason,
                &self.reason,
                Part::Reason,
                cat.reason_text,
                self.reason_error.as_deref(),
            ),
            (
                evidence,
                &self.evidence,
                Part::Evidence,
                cat.evidence_lines,
                None,
            ),
        ] {
            let mut t = textarea.clone();
            let focused = focus && self.part == part;
            // Marked as the form marks its focused field.
            let mut title = vec![Span::styled(
                format!("{}{label}", if focused { "▶" } else { " " }),
                if focused {
                    theme.focused_label()
                } else {
                    theme.label()
                },
            )];
            if let Some(e) = error {
                title.push(Span::styled(format!("  ! {e}"), theme.error()));
            }
            t.set_block(
                Block::default()
                    .borders(Borders::TOP)
                    .title(Line::from(title)),
            );
            t.set_cursor_style(if focused {
                theme.selected()
            } else {
                ratatui::style::Style::default()
            });
            frame.render_widget(&t, area_rect);
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
