//! Filing an objection (异议申请) at the counter, from the records chosen on
//! the subject's report: reason category and text, evidence (one item per
//! line), contact and how to be notified. The answer is the case file,
//! shown as the acceptance receipt the clerk prints for the applicant.

use credit_desk_proto::Lang;
use credit_desk_proto::pb;
use credit_desk_proto::validate;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui_textarea::TextArea;
use tonic::Status;

use crate::app::{Action, App};
use crate::case_file;
use crate::form::{Field, Form, FormEvent};
use crate::i18n::{Catalogue, ticket_word};
use crate::net::{Answer, Call};

const CATEGORY: &str = "reason_category";
const PHONE: &str = "contact_phone";
const ADDRESS: &str = "contact_address";
const NOTIFY: &str = "notify_by";
pub const CATEGORIES: [&str; 4] = ["wrong_content", "not_mine", "outdated", "other"];

/// Which part has the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Fields,
    Reason,
    Evidence,
}

pub struct ObjectionScreen {
    verification_id: String,
    /// The disputed records: id and how the report shows them.
    pub records: Vec<(String, String)>,
    pub form: Form,
    pub reason: TextArea<'static>,
    pub evidence: TextArea<'static>,
    pub part: Part,
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
            ]),
            reason: TextArea::default(),
            evidence: TextArea::default(),
            part: Part::Fields,
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
        if reason_text.is_empty() {
            self.part = Part::Reason;
            return None;
        }
        if shown {
            self.part = Part::Fields;
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

    pub fn on_key(&mut self, key: KeyEvent, cat: &Catalogue, lang: Lang, waiting: bool) -> Action {
        if let Some(t) = &self.filed {
            return match key.code {
                KeyCode::Esc => Action::Back,
                KeyCode::Down | KeyCode::Char('j') => {
                    self.scroll += 1;
                    Action::None
                }
                KeyCode::Up | KeyCode::Char('k') => {
                    self.scroll = self.scroll.saturating_sub(1);
                    Action::None
                }
                KeyCode::Char('p') => {
                    let offset = chrono::Local::now().fixed_offset().timezone();
                    Action::Send(Call::SaveText {
                        path: format!("{}.txt", t.ticket_no).into(),
                        text: case_file::document(t, cat, lang, offset, &t.filed_by),
                    })
                }
                _ => Action::None,
            };
        }
        if key.code == KeyCode::Esc {
            return Action::Back;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if key.code == KeyCode::F(10) || (ctrl && key.code == KeyCode::Char('s')) {
            if waiting {
                return Action::None;
            }
            return match self.request(lang) {
                Some(req) => Action::Send(Call::FileObjection(req)),
                None => Action::None,
            };
        }
        match (self.part, key.code) {
            (Part::Reason, KeyCode::Tab) => self.part = Part::Evidence,
            (Part::Reason, KeyCode::BackTab) => self.part = Part::Fields,
            (Part::Evidence, KeyCode::Tab) => self.part = Part::Fields,
            (Part::Evidence, KeyCode::BackTab) => self.part = Part::Reason,
            (Part::Reason, _) => {
                if self.reason.input(key) {
                    self.form.content_changed();
                }
            }
            (Part::Evidence, _) => {
                if self.evidence.input(key) {
                    self.form.content_changed();
                }
            }
            (Part::Fields, KeyCode::Tab) if self.form.focus == self.form.fields.len() - 1 => {
                self.part = Part::Reason;
            }
            (Part::Fields, _) => {
                if self.form.handle_key(key) == FormEvent::Submit && !waiting {
                    self.part = Part::Reason;
                }
            }
        }
        Action::None
    }

    pub fn on_answer(&mut self, answer: Answer, cat: &Catalogue) -> Action {
        match answer {
            Answer::Ticket(t) => {
                let done = cat.objection_filed(&t.ticket_no);
                self.filed = Some(t);
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

    pub fn hint(&self, cat: &Catalogue) -> &'static str {
        if self.filed.is_some() {
            cat.receipt_hint
        } else {
            cat.objection_hint
        }
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
                Paragraph::new(Line::styled(self.hint(cat), theme.dim())),
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
        for (area_rect, textarea, part, label) in [
            (reason, &self.reason, Part::Reason, cat.reason_text),
            (evidence, &self.evidence, Part::Evidence, cat.evidence_lines),
        ] {
            let mut t = textarea.clone();
            let focused = self.part == part;
            t.set_block(Block::default().borders(Borders::TOP).title(Line::styled(
                label,
                if focused {
                    theme.focused_label()
                } else {
                    theme.label()
                },
            )));
            t.set_cursor_style(if focused {
                theme.selected()
            } else {
                ratatui::style::Style::default()
            });
            frame.render_widget(&t, area_rect);
        }
        frame.render_widget(
            Paragraph::new(Line::styled(self.hint(cat), theme.dim())),
            hint,
        );
    }
}
