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
use crate::form::{Field, Form, FormEvent};
use crate::i18n::Catalogue;
use crate::net::{Answer, Call};

pub struct ConsentQueryScreen {
    pub form: Form,
    pub consents: Option<Vec<pb::ConsentRecord>>,
    pub selected: usize,
}

impl ConsentQueryScreen {
    pub fn new(cat: &Catalogue) -> ConsentQueryScreen {
        ConsentQueryScreen {
            form: Form::new(vec![Field::text(field::IDENTIFIER, cat.identifier)]),
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
            return match key.code {
                KeyCode::Esc => {
                    self.consents = None;
                    Action::None
                }
                KeyCode::Up => {
                    self.selected = self.selected.saturating_sub(1);
                    Action::None
                }
                KeyCode::Down => {
                    self.selected = (self.selected + 1).min(list.len().saturating_sub(1));
                    Action::None
                }
                KeyCode::Enter => match list.get(self.selected) {
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
                _ => Action::None,
            };
        }
        if key.code == KeyCode::Esc {
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
            Paragraph::new(Line::styled(cat.consent_query_hint, theme.dim())),
            hint,
        );
    }
}
