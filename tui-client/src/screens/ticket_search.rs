//! Finding tickets in any state — closed and withdrawn ones too — by
//! ticket number, a subject's whole identity number or part of a name
//! (from the queue, `/`). Enter on a found ticket opens its case file.

use credit_desk_proto::Lang;
use credit_desk_proto::pb;
use credit_desk_proto::validate::{self, field};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph};
use tonic::Status;

use super::Target;
use super::org_units::list_move;
use crate::app::{Action, App};
use crate::bind;
use crate::form::{Field, Form, FormEvent, pad_to};
use crate::i18n::{Catalogue, ticket_word};
use crate::keys::{self, Binding, Key::Code};
use crate::net::{Answer, Call};
use crate::print;

const STATE: &str = "state";
/// The state filter's choices ('' = any state).
const STATES: [&str; 8] = [
    "",
    "closed",
    "withdrawn",
    "received",
    "request_sent",
    "replied",
    "notified",
    "unreachable",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Move,
    Open,
    Search,
    Back,
}

const KEYS: &[Binding<Cmd>] = &[
    bind!(
        "↑↓",
        [Code(KeyCode::Up), Code(KeyCode::Down)],
        key_select,
        Cmd::Move
    ),
    bind!("Enter", [Code(KeyCode::Enter)], key_open, Cmd::Open),
    bind!("/", [Code(KeyCode::Char('/'))], key_find, Cmd::Search),
    bind!("Esc", [Code(KeyCode::Esc)], key_back, Cmd::Back),
];

pub struct TicketSearchScreen {
    pub form: Form,
    /// The last answer, while the list has the keys.
    pub found: Option<pb::FindTicketsResponse>,
    pub selected: usize,
}

impl TicketSearchScreen {
    pub fn new(cat: &Catalogue, lang: Lang) -> TicketSearchScreen {
        let states = STATES
            .iter()
            .enumerate()
            .map(|(i, code)| {
                let name = match *code {
                    "" => cat.any_state.to_string(),
                    code => ticket_word(lang, code),
                };
                (i as i32, name)
            })
            .collect();
        TicketSearchScreen {
            form: Form::new(vec![
                Field::text(field::QUERY, cat.ticket_query),
                Field::choice(STATE, cat.ticket_state, states),
            ])
            .submitting(|c| c.key_find),
            found: None,
            selected: 0,
        }
    }

    pub fn is_typing(&self) -> bool {
        self.found.is_none()
    }

    pub fn on_key(&mut self, key: KeyEvent, lang: Lang, waiting: bool) -> Action {
        let Some(found) = &self.found else {
            if keys::is_back(&key) {
                return Action::Back;
            }
            if self.form.handle_key(key) != FormEvent::Submit || waiting {
                return Action::None;
            }
            let query = self.form.value(field::QUERY);
            if let Err(e) = validate::display_text(field::QUERY, &query, validate::SEARCH_MAX) {
                self.form.show_local_errors(&[e], lang);
                return Action::None;
            }
            let state = usize::try_from(self.form.choice(STATE))
                .ok()
                .and_then(|i| STATES.get(i))
                .copied()
                .unwrap_or_default();
            return Action::Send(Call::FindTickets(pb::FindTicketsRequest {
                query,
                state: state.into(),
            }));
        };
        if let Some(i) = list_move(key.code, self.selected, found.tickets.len()) {
            self.selected = i;
            return Action::None;
        }
        match keys::find(KEYS, &key, |_| true) {
            Some(Cmd::Open) => match found.tickets.get(self.selected) {
                Some(t) => Action::Open(Target::Ticket {
                    ticket_id: t.ticket_id.clone(),
                }),
                None => Action::None,
            },
            Some(Cmd::Search | Cmd::Back) => {
                self.found = None;
                Action::None
            }
            _ => Action::None,
        }
    }

    pub fn on_answer(&mut self, answer: Answer) -> Action {
        if let Answer::FoundTickets(found) = answer {
            self.selected = 0;
            self.found = Some(found);
        }
        Action::None
    }

    pub fn on_error(&mut self, status: &Status) -> bool {
        self.form.apply_status(status)
    }

    pub fn hint(&self, cat: &Catalogue, width: usize) -> String {
        match &self.found {
            None => self.form.footer(cat, width),
            Some(_) => keys::footer(KEYS, cat, |_| true, width),
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
            !app.help && self.found.is_none(),
        );
        frame.render_widget(
            Paragraph::new(Line::styled(
                self.hint(cat, usize::from(hint.width)),
                theme.dim(),
            )),
            hint,
        );
        let Some(found) = &self.found else { return };
        let title = match (found.tickets.len(), found.more) {
            (0, _) => cat.found_none.to_string(),
            (n, false) => format!("{} {n}", cat.found_count),
            (n, true) => format!("{} {n} · {}", cat.found_count, cat.found_more),
        };
        let width = usize::from(list_area.width).saturating_sub(2);
        let items: Vec<ListItem> = found
            .tickets
            .iter()
            .map(|t| {
                let state = ticket_word(app.lang, &t.state);
                // Received, and (once ended) the day it ended.
                let ended = match t.closed_at_ms {
                    0 => String::new(),
                    at => format!(
                        " → {}",
                        print::time(at, app.utc_offset)
                            .get(..10)
                            .unwrap_or_default()
                    ),
                };
                ListItem::new(print::fit(
                    &format!(
                        "{} {}{} {}{}{ended}",
                        t.ticket_no,
                        pad_to(&t.subject_name, 8),
                        t.subject_identifier,
                        pad_to(&state, 10),
                        t.received_on,
                    ),
                    width,
                ))
            })
            .collect();
        let mut state = ListState::default()
            .with_selected((!found.tickets.is_empty()).then_some(self.selected));
        frame.render_stateful_widget(
            List::new(items)
                .block(Block::default().borders(Borders::TOP).title(title))
                .highlight_style(theme.selected())
                .highlight_symbol("▶"),
            list_area,
            &mut state,
        );
    }
}
