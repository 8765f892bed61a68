//! Querying on a consent (banks, departments, and the counter for a
//! grantee): the subject's identity number finds the live consents the
//! institution holds; choosing one runs the query on it and opens the
//! report.

use credit_desk_proto::pb::{self, run_query_request::Basis};
use credit_desk_proto::validate::{self, field};
use credit_desk_proto::{Lang, ident};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph};
use tonic::Status;

use super::Target;
use crate::app::{Action, App};
use crate::bind;
use crate::form::{Field, Form, FormEvent};
use crate::i18n::Catalogue;
use crate::keys::{self, Binding, Key::Code};
use crate::net::{Answer, Call};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Up,
    Down,
    Query,
    Back,
}

/// Keys on the list of consents found; Esc goes back to the number.
const LIST_KEYS: &[Binding<Cmd>] = &[
    bind!("↑↓", [Code(KeyCode::Up)], key_select, Cmd::Up),
    bind!("↑↓", [Code(KeyCode::Down)], key_select, Cmd::Down),
    bind!("Enter", [Code(KeyCode::Enter)], key_query, Cmd::Query),
    bind!("Esc", [Code(KeyCode::Esc)], key_back, Cmd::Back),
];

pub struct ConsentQueryScreen {
    pub form: Form,
    pub consents: Option<Vec<pb::ConsentRecord>>,
    pub selected: usize,
}

impl ConsentQueryScreen {
    pub fn new(cat: &Catalogue) -> ConsentQueryScreen {
        ConsentQueryScreen {
            form: Form::new(vec![Field::text(field::IDENTIFIER, cat.identifier)])
                .submitting(|c| c.key_find_consents),
            consents: None,
            selected: 0,
        }
    }

    pub fn is_typing(&self) -> bool {
        self.consents.is_none()
    }

    pub fn on_key(
        &mut self,
        key: KeyEvent,
        lang: Lang,
        waiting: bool,
        today: chrono::NaiveDate,
    ) -> Action {
        if let Some(list) = &self.consents {
            return match keys::find(LIST_KEYS, &key, |_| true) {
                Some(Cmd::Back) => {
                    self.consents = None;
                    Action::None
                }
                Some(Cmd::Up) => {
                    self.selected = self.selected.saturating_sub(1);
                    Action::None
                }
                Some(Cmd::Down) => {
                    self.selected = (self.selected + 1).min(list.len().saturating_sub(1));
                    Action::None
                }
                Some(Cmd::Query) => match list.get(self.selected) {
                    Some(c) => Action::Open(Target::ConsentReport {
                        subject_id: c.subject_id.clone(),
                        basis: Basis::ConsentBasis(pb::ConsentBasis {
                            consent_id: c.id.clone(),
                            institution_id: c.grantee_id.clone(),
                            purpose_code: c.purpose_code.clone(),
                        }),
                    }),
                    None => Action::None,
                },
                None => Action::None,
            };
        }
        if keys::is_back(&key) {
            return Action::Back;
        }
        if self.form.handle_key(key) != FormEvent::Submit || waiting {
            return Action::None;
        }
        let raw = self.form.raw(field::IDENTIFIER);
        if let Err(e) = validate::identifier(field::IDENTIFIER, &raw, today) {
            self.form.show_local_errors(&[e], lang);
            return Action::None;
        }
        Action::Send(Call::FindConsents(ident::normalise(&raw)))
    }

    pub fn on_answer(&mut self, answer: Answer) -> Action {
        if let Answer::Consents(list) = answer {
            self.consents = Some(list);
            self.selected = 0;
        }
        Action::None
    }

    pub fn on_error(&mut self, status: &Status) -> bool {
        self.form.apply_status(status)
    }

    pub fn hint(&self, cat: &Catalogue, width: usize) -> String {
        match self.consents {
            Some(_) => keys::footer(LIST_KEYS, cat, |_| true, width),
            None => self.form.footer(cat, width),
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, app: &App) {
        let (cat, theme) = (app.cat, app.theme);
        let [form_area, list_area, hint] = Layout::vertical([
            Constraint::Length(self.form.height() + 1),
            Constraint::Min(3),
            Constraint::Length(1),
        ])
        .areas(area);
        self.form.render(
            Rect {
                y: form_area.y + 1,
                height: form_area.height.saturating_sub(1),
                ..form_area
            },
            frame.buffer_mut(),
            theme,
            !app.help && self.consents.is_none(),
        );
        if let Some(list) = &self.consents {
            let items: Vec<ListItem> = list
                .iter()
                .map(|c| {
                    let until = chrono::DateTime::from_timestamp_millis(c.valid_until_ms)
                        .map(|t| {
                            t.with_timezone(&app.utc_offset)
                                .format("%Y-%m-%d")
                                .to_string()
                        })
                        .unwrap_or_default();
                    ListItem::new(format!(
                        "{}  {}  {}  → {until}",
                        c.subject_name, c.grantee_name, c.purpose_name
                    ))
                })
                .collect();
            let title = if list.is_empty() {
                cat.no_live_consents
            } else {
                cat.live_consents
            };
            let mut state =
                ListState::default().with_selected((!list.is_empty()).then_some(self.selected));
            frame.render_stateful_widget(
                List::new(items)
                    .block(Block::default().borders(Borders::TOP).title(title))
                    .highlight_style(theme.selected())
                    .highlight_symbol("▶"),
                list_area,
                &mut state,
            );
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
