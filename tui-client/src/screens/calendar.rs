//! The working-day calendar, for administrators: the years held (where each
//! came from), a year's holidays and make-up working days, and importing a
//! CSV file (`date,kind,name`) that adds or corrects years. Open deadlines
//! are recomputed by the server.

use credit_desk_proto::pb;
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

const PATH: &str = "path";

/// What a key does on the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Move,
    Show,
    Import,
    Refresh,
    Back,
}

/// The calendar's keys (moving is `list_move`'s; its entry documents it).
const KEYS: &[Binding<Cmd>] = &[
    bind!(
        "↑↓",
        [Code(KeyCode::Up), Code(KeyCode::Down)],
        key_select,
        Cmd::Move
    ),
    bind!("Enter", [Code(KeyCode::Enter)], key_show, Cmd::Show),
    bind!("i", [Letter('i')], key_import, Cmd::Import),
    bind!(
        "r",
        [Letter('r'), Code(KeyCode::F(5))],
        key_refresh,
        Cmd::Refresh
    ),
    bind!("Esc", [Code(KeyCode::Esc)], key_back, Cmd::Back),
];

/// The screen's key line, `width` columns at most.

#[derive(Default)]
pub struct CalendarScreen {
    pub years: Option<Vec<pb::CalendarYear>>,
    pub selected: usize,
    /// The year whose days are shown, and its days.
    pub shown: Option<(i32, Vec<pb::CalendarDay>)>,
    pub import: Option<Form>,
}

impl CalendarScreen {
    /// The open form's keys, or the list's.
    pub fn hint_line(&self, cat: &Catalogue, width: usize) -> String {
        match self.import.as_ref() {
            Some(form) => form.footer(cat, width),
            None => keys::footer(KEYS, cat, |_| true, width),
        }
    }

    pub fn load() -> Call {
        Call::GetCalendar(0)
    }

    pub fn is_typing(&self) -> bool {
        self.import.is_some()
    }

    pub fn on_key(&mut self, key: KeyEvent, cat: &Catalogue, waiting: bool) -> Action {
        if let Some(form) = &mut self.import {
            if key.code == KeyCode::Esc {
                self.import = None;
                return Action::None;
            }
            if form.handle_key(key) == FormEvent::Submit && !waiting {
                let path = form.value(PATH);
                if !path.is_empty() {
                    return Action::Send(Call::ImportCalendar(path.into()));
                }
            }
            return Action::None;
        }
        let n = self.years.as_ref().map_or(0, Vec::len);
        if let Some(i) = list_move(key.code, self.selected, n) {
            self.selected = i;
            return Action::None;
        }
        match keys::find(KEYS, &key, |_| true) {
            Some(Cmd::Back) => Action::Back,
            Some(Cmd::Show) => match self.years.as_ref().and_then(|y| y.get(self.selected)) {
                Some(y) => Action::Send(Call::GetCalendar(y.year)),
                None => Action::None,
            },
            Some(Cmd::Import) => {
                self.import = Some(Form::new(vec![Field::text(PATH, cat.file_path)]));
                Action::None
            }
            Some(Cmd::Refresh) => Action::Send(Self::load()),
            Some(Cmd::Move) | None => Action::None,
        }
    }

    pub fn on_answer(&mut self, answer: Answer, cat: &Catalogue) -> Action {
        match answer {
            Answer::Calendar(resp) => {
                self.years = Some(resp.years);
                let n = self.years.as_ref().map_or(0, Vec::len);
                self.selected = self.selected.min(n.saturating_sub(1));
                if let Some(y) = resp
                    .days
                    .first()
                    .and_then(|d| d.date.get(..4)?.parse().ok())
                {
                    self.shown = Some((y, resp.days));
                }
                Action::None
            }
            Answer::CalendarImported(r) => {
                self.import = None;
                let done = cat.calendar_imported(&r.years, r.days, r.deadlines_recomputed);
                self.shown = None;
                self.years = Some(r.calendar);
                Action::Info(done)
            }
            _ => Action::None,
        }
    }

    pub fn on_error(&mut self, status: &Status) -> bool {
        match &mut self.import {
            Some(form) => form.apply_status(status),
            None => false,
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, app: &App) {
        let (cat, theme) = (app.cat, app.theme);
        let form_height = self.import.as_ref().map_or(0, |f| f.height() + 1);
        let [lists, form_area, hint] = Layout::vertical([
            Constraint::Min(3),
            Constraint::Length(form_height),
            Constraint::Length(1),
        ])
        .areas(area);
        let [years_area, days_area] =
            Layout::horizontal([Constraint::Length(34), Constraint::Min(20)]).areas(lists);
        let Some(years) = &self.years else {
            frame.render_widget(Paragraph::new(cat.loading), lists);
            return;
        };
        let items: Vec<ListItem> = years
            .iter()
            .map(|y| {
                let source = if y.source == "official" {
                    cat.calendar_official.to_string()
                } else {
                    y.source.clone()
                };
                ListItem::new(Line::from(vec![
                    Span::raw(format!("{}  ", y.year)),
                    Span::styled(format!("{} ({})", source, y.days), theme.dim()),
                ]))
            })
            .collect();
        let mut state =
            ListState::default().with_selected((!years.is_empty()).then_some(self.selected));
        frame.render_stateful_widget(
            List::new(items)
                .block(
                    Block::default()
                        .borders(Borders::TOP)
                        .title(cat.calendar_title),
                )
                .highlight_style(theme.selected())
                .highlight_symbol("▶"),
            years_area,
            &mut state,
        );
        if let Some((year, days)) = &self.shown {
            let lines: Vec<Line> = days
                .iter()
                .map(|d| {
                    let kind = if d.kind == "workday" {
                        cat.day_workday
                    } else {
                        cat.day_holiday
                    };
                    let style = if d.kind == "workday" {
                        theme.warning()
                    } else {
                        theme.ok()
                    };
                    Line::from(vec![
                        Span::raw(format!("{}  ", d.date)),
                        Span::styled(format!("{kind}  "), style),
                        Span::raw(d.name.clone()),
                    ])
                })
                .collect();
            frame.render_widget(
                Paragraph::new(lines).block(
                    Block::default()
                        .borders(Borders::TOP | Borders::LEFT)
                        .title(format!("{year}")),
                ),
                days_area,
            );
        }
        if let Some(form) = &self.import {
            let block = Block::default()
                .borders(Borders::TOP)
                .title(Span::styled(cat.calendar_import, theme.title()));
            let inner = block.inner(form_area);
            frame.render_widget(block, form_area);
            form.render(inner, frame.buffer_mut(), theme, !app.help);
        }
        let text = self.hint_line(cat, usize::from(hint.width));
        frame.render_widget(Paragraph::new(Line::styled(text, theme.dim())), hint);
    }
}
