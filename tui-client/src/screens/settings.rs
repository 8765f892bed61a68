//! The center's settings (menu `e`, administrators): each with what it
//! means, its value, range and default; Enter changes the selected one.

use credit_desk_proto::Lang;
use credit_desk_proto::pb;
use credit_desk_proto::validate::{FieldError, Rule, field};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph};
use tonic::Status;

use super::org_units::list_move;
use crate::app::{Action, App};
use crate::bind;
use crate::form::{Field, Form, FormEvent};
use crate::i18n::Catalogue;
use crate::keys::{self, Binding, Key::Code, Key::Letter};
use crate::net::{Answer, Call};
use crate::print;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Move,
    Change,
    Refresh,
    Back,
}

const KEYS: &[Binding<Cmd>] = &[
    bind!(
        "↑↓",
        [Code(KeyCode::Up), Code(KeyCode::Down)],
        key_select,
        Cmd::Move
    ),
    bind!(
        "Enter",
        [Code(KeyCode::Enter), Letter('e')],
        key_edit,
        Cmd::Change
    ),
    bind!(
        "r",
        [Letter('r'), Code(KeyCode::F(5))],
        key_refresh,
        Cmd::Refresh
    ),
    bind!("Esc", [Code(KeyCode::Esc)], key_back, Cmd::Back),
];

#[derive(Default)]
pub struct SettingsScreen {
    pub settings: Option<Vec<pb::Setting>>,
    pub selected: usize,
    /// Changing the selected setting.
    pub editing: Option<Form>,
}

impl SettingsScreen {
    pub fn load() -> Call {
        Call::ListSettings
    }

    pub fn is_typing(&self) -> bool {
        self.editing.is_some()
    }

    fn current(&self) -> Option<&pb::Setting> {
        self.settings.as_ref().and_then(|s| s.get(self.selected))
    }

    pub fn on_key(&mut self, key: KeyEvent, cat: &Catalogue, lang: Lang, waiting: bool) -> Action {
        if let Some(form) = &mut self.editing {
            if keys::is_back(&key) {
                self.editing = None;
                return Action::None;
            }
            if form.handle_key(key) != FormEvent::Submit || waiting {
                return Action::None;
            }
            let Some(setting) = self.settings.as_ref().and_then(|s| s.get(self.selected)) else {
                return Action::None;
            };
            let text = form.value(field::VALUE);
            // The range is the server's, sent with the list: checked here
            // so a slip costs no round trip, and again there.
            let checked = match text.parse::<i64>() {
                Err(_) => Err(FieldError::new(field::VALUE, Rule::NotAWholeNumber)),
                Ok(v) if v < setting.min => Err(FieldError::new(
                    field::VALUE,
                    Rule::AtLeast { min: setting.min },
                )),
                Ok(v) if v > setting.max => Err(FieldError::new(
                    field::VALUE,
                    Rule::AtMost { max: setting.max },
                )),
                Ok(v) => Ok(v),
            };
            return match checked {
                Ok(value) => Action::Send(Call::ChangeSetting(pb::ChangeSettingRequest {
                    key: setting.key.clone(),
                    value,
                })),
                Err(e) => {
                    form.show_local_errors(&[e], lang);
                    Action::None
                }
            };
        }
        let n = self.settings.as_ref().map_or(0, Vec::len);
        if let Some(i) = list_move(key.code, self.selected, n) {
            self.selected = i;
            return Action::None;
        }
        match keys::find(KEYS, &key, |_| true) {
            Some(Cmd::Back) => Action::Back,
            Some(Cmd::Refresh) if !waiting => Action::Send(Self::load()),
            Some(Cmd::Change) => {
                if let Some(s) = self.current() {
                    let form = Form::new(vec![
                        Field::text(field::VALUE, cat.setting_value)
                            .with_value(&s.value.to_string()),
                    ])
                    .submitting(|c| c.key_submit);
                    self.editing = Some(form);
                }
                Action::None
            }
            _ => Action::None,
        }
    }

    pub fn on_answer(&mut self, answer: Answer, cat: &Catalogue) -> Action {
        match answer {
            Answer::Settings(settings) => {
                self.selected = self.selected.min(settings.len().saturating_sub(1));
                self.settings = Some(settings);
                Action::None
            }
            Answer::SettingChanged(settings) => {
                self.settings = Some(settings);
                self.editing = None;
                Action::Info(cat.setting_saved.to_string())
            }
            _ => Action::None,
        }
    }

    pub fn on_error(&mut self, status: &Status) -> bool {
        match &mut self.editing {
            Some(form) => form.apply_status(status),
            None => false,
        }
    }

    pub fn hint(&self, cat: &Catalogue, width: usize) -> String {
        match &self.editing {
            Some(form) => form.footer(cat, width),
            None => keys::footer(KEYS, cat, |_| true, width),
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, app: &App) {
        let (cat, theme) = (app.cat, app.theme);
        let form_height = self.editing.as_ref().map_or(0, |f| f.height() + 2);
        let [list_area, form_area, hint] = Layout::vertical([
            Constraint::Min(3),
            Constraint::Length(form_height),
            Constraint::Length(1),
        ])
        .areas(area);
        frame.render_widget(
            Paragraph::new(Line::styled(
                self.hint(cat, usize::from(hint.width)),
                theme.dim(),
            )),
            hint,
        );
        let Some(settings) = &self.settings else {
            frame.render_widget(Paragraph::new(cat.loading), list_area);
            return;
        };
        // Each setting on two lines: what it means, then its figures.
        let width = usize::from(list_area.width).saturating_sub(2);
        let items: Vec<ListItem> = settings
            .iter()
            .map(|s| {
                let figures = format!(
                    "    {} {}  ({} {}–{}, {} {})",
                    cat.setting_value,
                    s.value,
                    cat.setting_range,
                    s.min,
                    s.max,
                    cat.setting_default,
                    s.default_value
                );
                let mut lines: Vec<Line> = print::wrap_words(&s.meaning, width)
                    .into_iter()
                    .map(Line::from)
                    .collect();
                lines.push(Line::from(Span::styled(figures, theme.dim())));
                ListItem::new(lines)
            })
            .collect();
        let mut state =
            ListState::default().with_selected((!settings.is_empty()).then_some(self.selected));
        frame.render_stateful_widget(
            List::new(items)
                .block(
                    Block::default()
                        .borders(Borders::TOP)
                        .title(cat.settings_title),
                )
                .highlight_style(theme.selected())
                .highlight_symbol("▶"),
            list_area,
            &mut state,
        );
        if let (Some(form), Some(s)) = (&self.editing, self.current()) {
            let block = Block::default()
                .borders(Borders::TOP)
                .title(Span::styled(s.meaning.clone(), theme.title()));
            let inner = block.inner(form_area);
            frame.render_widget(block, form_area);
            form.render(inner, frame.buffer_mut(), theme, !app.help);
        }
    }
}
