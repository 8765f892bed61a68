//! The working-day calendar, for administrators: the years held (where each
//! came from) and a year's holidays and make-up working days. Every change
//! — a CSV file, a year's official schedule restored, one day added,
//! corrected or removed — is first previewed (days added and removed per
//! year, the open deadlines that would move) and written only after `y`.
//! A warning on top says when the calendar is about to run out.

use credit_desk_proto::Lang;
use credit_desk_proto::calendar::{self, DayKind, DayProblem};
use credit_desk_proto::pb;
use credit_desk_proto::pb::change_calendar_request::Change;
use credit_desk_proto::validate::{self, FieldError, Rule, field};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph, Wrap};
use tonic::Status;

use super::org_units::list_move;
use crate::app::{Action, App};
use crate::bind;
use crate::form::{Field, Form, FormEvent};
use crate::i18n::Catalogue;
use crate::keys::{self, Binding, Key::Code, Key::Letter};
use crate::net::{Answer, Call};

const DATE: &str = "date";
const KIND: &str = "kind";
const NAME: &str = "name";

/// What a key does on the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Move,
    Switch,
    Show,
    Import,
    Restore,
    AddDay,
    CorrectDay,
    RemoveDay,
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
    bind!(
        "Tab",
        [Code(KeyCode::Tab), Code(KeyCode::BackTab)],
        key_move,
        Cmd::Switch
    ),
    bind!("Enter", [Code(KeyCode::Enter)], key_show, Cmd::Show),
    bind!("i", [Letter('i')], key_import, Cmd::Import),
    bind!("o", [Letter('o')], key_restore_official, Cmd::Restore),
    bind!("a", [Letter('a')], key_add_day, Cmd::AddDay),
    bind!("e", [Letter('e')], key_correct_day, Cmd::CorrectDay),
    bind!(
        "d",
        [Letter('d'), Code(KeyCode::Delete)],
        key_remove_day,
        Cmd::RemoveDay
    ),
    bind!(
        "r",
        [Letter('r'), Code(KeyCode::F(5))],
        key_refresh,
        Cmd::Refresh
    ),
    bind!("Esc", [Code(KeyCode::Esc)], key_back, Cmd::Back),
];

/// The preview's keys.
const PREVIEW_KEYS: &[Binding<bool>] = &[
    bind!("y", [Letter('y')], key_apply, true),
    bind!("Esc", [Code(KeyCode::Esc), Letter('n')], key_cancel, false),
];

/// Which list the arrows move in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Focus {
    #[default]
    Years,
    Days,
}

/// The form open below the lists.
pub enum Editing {
    /// The path of a CSV file on this workstation.
    File(Form),
    /// One day: date, kind, name.
    Day(Form),
}

#[derive(Default)]
pub struct CalendarScreen {
    pub years: Option<Vec<pb::CalendarYear>>,
    /// Years whose official schedule ships with the product.
    pub official_years: Vec<i32>,
    pub gap: Option<pb::CalendarGap>,
    pub selected: usize,
    /// The year whose days are shown, and its days.
    pub shown: Option<(i32, Vec<pb::CalendarDay>)>,
    pub day: usize,
    pub focus: Focus,
    pub editing: Option<Editing>,
    /// A previewed change waiting for `y`, and how far it is scrolled.
    pub preview: Option<(pb::ChangeCalendarRequest, pb::ChangeCalendarResponse)>,
    pub scroll: u16,
    /// Said once the reloaded year arrives after a change was written.
    done: Option<String>,
}

impl CalendarScreen {
    /// The keys of what is open: the preview, a form, or the lists.
    pub fn hint_line(&self, cat: &Catalogue, width: usize) -> String {
        if self.preview.is_some() {
            return keys::footer(PREVIEW_KEYS, cat, |_| true, width);
        }
        match &self.editing {
            Some(Editing::File(form) | Editing::Day(form)) => form.footer(cat, width),
            None => keys::footer(KEYS, cat, |c| self.offers(c), width),
        }
    }

    pub fn load() -> Call {
        Call::GetCalendar(0)
    }

    pub fn is_typing(&self) -> bool {
        self.editing.is_some()
    }

    /// Keys that do something where the clerk is.
    fn offers(&self, cmd: Cmd) -> bool {
        match cmd {
            Cmd::Switch => self.shown.is_some(),
            Cmd::RemoveDay | Cmd::CorrectDay => self.focus == Focus::Days,
            Cmd::Restore => self
                .selected_year()
                .is_some_and(|y| self.official_years.contains(&y)),
            _ => true,
        }
    }

    fn selected_year(&self) -> Option<i32> {
        Some(self.years.as_ref()?.get(self.selected)?.year)
    }

    fn selected_day(&self) -> Option<&pb::CalendarDay> {
        self.shown.as_ref()?.1.get(self.day)
    }

    pub fn on_key(&mut self, key: KeyEvent, cat: &Catalogue, lang: Lang, waiting: bool) -> Action {
        if self.preview.is_some() {
            return self.on_preview_key(key, waiting);
        }
        if self.editing.is_some() {
            return self.on_form_key(key, lang, waiting);
        }
        let (len, at) = match self.focus {
            Focus::Years => (self.years.as_ref().map_or(0, Vec::len), self.selected),
            Focus::Days => (self.shown.as_ref().map_or(0, |(_, d)| d.len()), self.day),
        };
        if let Some(i) = list_move(key.code, at, len) {
            match self.focus {
                Focus::Years => self.selected = i,
                Focus::Days => self.day = i,
            }
            return Action::None;
        }
        match keys::find(KEYS, &key, |c| self.offers(c)) {
            Some(Cmd::Back) => Action::Back,
            Some(Cmd::Switch) => {
                self.focus = match self.focus {
                    Focus::Years if self.shown.is_some() => Focus::Days,
                    _ => Focus::Years,
                };
                Action::None
            }
            Some(Cmd::Show) => match self.selected_year() {
                Some(year) => Action::Send(Call::GetCalendar(year)),
                None => Action::None,
            },
            Some(Cmd::Import) => {
                self.editing = Some(Editing::File(Form::new(vec![Field::text(
                    field::FILE,
                    cat.file_path,
                )])));
                Action::None
            }
            Some(Cmd::Restore) => match self.selected_year() {
                Some(year) => preview(Change::RestoreOfficial(year)),
                None => Action::None,
            },
            Some(Cmd::AddDay) => {
                self.editing = Some(Editing::Day(day_form(cat, None)));
                Action::None
            }
            Some(Cmd::CorrectDay) => {
                self.editing = Some(Editing::Day(day_form(cat, self.selected_day())));
                Action::None
            }
            Some(Cmd::RemoveDay) => match self.selected_day() {
                Some(day) => preview(Change::RemoveDay(day.date.clone())),
                None => Action::None,
            },
            Some(Cmd::Refresh) => match &self.shown {
                Some((year, _)) => Action::Send(Call::GetCalendar(*year)),
                None => Action::Send(Self::load()),
            },
            Some(Cmd::Move) | None => Action::None,
        }
    }

    fn on_form_key(&mut self, key: KeyEvent, lang: Lang, waiting: bool) -> Action {
        if key.code == KeyCode::Esc {
            self.editing = None;
            return Action::None;
        }
        match &mut self.editing {
            Some(Editing::File(form)) => {
                if form.handle_key(key) != FormEvent::Submit || waiting {
                    return Action::None;
                }
                let path = form.value(field::FILE);
                if path.is_empty() {
                    form.show_local_errors(&[FieldError::new(field::FILE, Rule::Required)], lang);
                    return Action::None;
                }
                Action::Send(Call::PreviewCalendarFile(path.into()))
            }
            Some(Editing::Day(form)) => {
                if form.handle_key(key) != FormEvent::Submit || waiting {
                    return Action::None;
                }
                let kind =
                    [DayKind::Holiday, DayKind::Workday][form.choice(KIND).clamp(0, 1) as usize];
                match typed_day(&form.value(DATE), kind, &form.value(NAME)) {
                    Ok(day) => preview(Change::SetDay(day)),
                    Err(e) => {
                        form.show_local_errors(&[e], lang);
                        Action::None
                    }
                }
            }
            None => Action::None,
        }
    }

    fn on_preview_key(&mut self, key: KeyEvent, waiting: bool) -> Action {
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.scroll = self.scroll.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => self.scroll = self.scroll.saturating_add(1),
            KeyCode::PageUp => self.scroll = self.scroll.saturating_sub(10),
            KeyCode::PageDown => self.scroll = self.scroll.saturating_add(10),
            _ => match keys::find(PREVIEW_KEYS, &key, |_| true) {
                Some(true) if !waiting => {
                    if let Some((mut request, _)) = self.preview.take() {
                        request.confirm = true;
                        return Action::Send(Call::ChangeCalendar(request));
                    }
                }
                Some(false) => self.preview = None,
                _ => {}
            },
        }
        Action::None
    }

    pub fn on_answer(&mut self, answer: Answer, cat: &Catalogue) -> Action {
        match answer {
            Answer::Calendar(resp) => {
                let n = resp.years.len();
                self.years = Some(resp.years);
                self.official_years = resp.official_years;
                self.gap = resp.gap;
                self.selected = self.selected.min(n.saturating_sub(1));
                if let Some(y) = resp
                    .days
                    .first()
                    .and_then(|d| d.date.get(..4)?.parse().ok())
                {
                    self.day = self.day.min(resp.days.len().saturating_sub(1));
                    self.shown = Some((y, resp.days));
                    self.focus = Focus::Days;
                } else if let Some(year) = self.selected_year() {
                    // A year with no special days left.
                    if self.shown.as_ref().is_some_and(|(y, _)| *y == year) {
                        self.shown = Some((year, Vec::new()));
                    }
                }
                match self.done.take() {
                    Some(done) => Action::Info(done),
                    None => Action::None,
                }
            }
            Answer::CalendarChanged(change) => {
                let (request, resp) = *change;
                self.scroll = 0;
                if !resp.applied {
                    self.preview = Some((request, resp));
                    return Action::None;
                }
                self.editing = None;
                self.years = Some(resp.calendar.clone());
                let done = cat.calendar_changed(&resp);
                // Reload the year on screen (or the list): what was written.
                let year = self
                    .shown
                    .as_ref()
                    .map(|(y, _)| *y)
                    .filter(|y| resp.years.iter().any(|c| c.year == *y));
                self.done = Some(done);
                match year {
                    Some(year) => Action::Send(Call::GetCalendar(year)),
                    None => Action::Send(Self::load()),
                }
            }
            _ => Action::None,
        }
    }

    pub fn on_error(&mut self, status: &Status) -> bool {
        match &mut self.editing {
            Some(Editing::File(form) | Editing::Day(form)) => form.apply_status(status),
            None => false,
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, app: &App) {
        let (cat, theme) = (app.cat, app.theme);
        let gap_height = u16::from(self.gap.is_some()) * 2;
        let form_height = match &self.editing {
            Some(Editing::File(form) | Editing::Day(form)) => form.height() + 1,
            None => 0,
        };
        let [gap_area, lists, form_area, hint] = Layout::vertical([
            Constraint::Length(gap_height),
            Constraint::Min(3),
            Constraint::Length(form_height),
            Constraint::Length(1),
        ])
        .areas(area);
        if let Some(gap) = &self.gap {
            frame.render_widget(
                Paragraph::new(Line::styled(cat.calendar_gap(gap), theme.warning()))
                    .wrap(Wrap { trim: true }),
                gap_area,
            );
        }
        let text = self.hint_line(cat, usize::from(hint.width));
        frame.render_widget(Paragraph::new(Line::styled(text, theme.dim())), hint);
        if let Some((_, resp)) = &self.preview {
            let lines: Vec<Line> = cat
                .calendar_preview(resp)
                .into_iter()
                .map(Line::from)
                .collect();
            frame.render_widget(
                Paragraph::new(lines)
                    .block(
                        Block::default()
                            .borders(Borders::TOP)
                            .title(Span::styled(cat.calendar_preview_title, theme.title())),
                    )
                    .wrap(Wrap { trim: false })
                    .scroll((self.scroll, 0)),
                lists,
            );
            return;
        }
        let [years_area, days_area] =
            Layout::horizontal([Constraint::Length(34), Constraint::Min(20)]).areas(lists);
        let Some(years) = &self.years else {
            frame.render_widget(Paragraph::new(cat.loading), lists);
            return;
        };
        let items: Vec<ListItem> = years
            .iter()
            .map(|y| {
                let source = match y.source.as_str() {
                    "official" => cat.calendar_official.to_string(),
                    "edited" => cat.calendar_edited.to_string(),
                    file => file.to_string(),
                };
                ListItem::new(Line::from(vec![
                    Span::raw(format!("{}  ", y.year)),
                    Span::styled(format!("{} ({})", source, y.days), theme.dim()),
                ]))
            })
            .collect();
        let marked = |focus| {
            if self.focus == focus {
                theme.selected()
            } else {
                theme.dim()
            }
        };
        let mut state =
            ListState::default().with_selected((!years.is_empty()).then_some(self.selected));
        frame.render_stateful_widget(
            List::new(items)
                .block(
                    Block::default()
                        .borders(Borders::TOP)
                        .title(cat.calendar_title),
                )
                .highlight_style(marked(Focus::Years))
                .highlight_symbol("▶"),
            years_area,
            &mut state,
        );
        if let Some((year, days)) = &self.shown {
            let items: Vec<ListItem> = days
                .iter()
                .map(|d| {
                    let workday = d.kind == DayKind::Workday.as_str();
                    let (kind, style) = if workday {
                        (cat.day_workday, theme.warning())
                    } else {
                        (cat.day_holiday, theme.ok())
                    };
                    ListItem::new(Line::from(vec![
                        Span::raw(format!("{}  ", d.date)),
                        Span::styled(format!("{kind}  "), style),
                        Span::raw(d.name.clone()),
                    ]))
                })
                .collect();
            let title = cat.calendar_year_days(*year, days.len(), self.day + 1);
            let mut state =
                ListState::default().with_selected((!days.is_empty()).then_some(self.day));
            frame.render_stateful_widget(
                List::new(items)
                    .block(
                        Block::default()
                            .borders(Borders::TOP | Borders::LEFT)
                            .title(title),
                    )
                    .highlight_style(marked(Focus::Days))
                    .highlight_symbol("▶"),
                days_area,
                &mut state,
            );
        }
        if let Some(Editing::File(form) | Editing::Day(form)) = &self.editing {
            let title = match &self.editing {
                Some(Editing::Day(_)) => cat.calendar_day_form,
                _ => cat.calendar_import,
            };
            let block = Block::default()
                .borders(Borders::TOP)
                .title(Span::styled(title, theme.title()));
            let inner = block.inner(form_area);
            frame.render_widget(block, form_area);
            form.render(inner, frame.buffer_mut(), theme, !app.help);
        }
    }
}

/// The day form: empty to add a day, or filled with one to correct it.
fn day_form(cat: &Catalogue, day: Option<&pb::CalendarDay>) -> Form {
    let kinds = vec![
        (0, cat.day_holiday.to_string()),
        (1, cat.day_workday.to_string()),
    ];
    let mut form = Form::new(vec![
        Field::text(DATE, cat.day_date),
        Field::choice(KIND, cat.day_kind, kinds),
        Field::text(NAME, cat.day_name),
    ]);
    if let Some(day) = day {
        form.set_text(DATE, &day.date);
        form.select(KIND, i32::from(day.kind == DayKind::Workday.as_str()));
        form.set_text(NAME, &day.name);
    }
    form
}

/// Asks the server what a change would do (nothing is written yet).
fn preview(change: Change) -> Action {
    Action::Send(Call::ChangeCalendar(pb::ChangeCalendarRequest {
        change: Some(change),
        confirm: false,
    }))
}

/// The day as typed, checked by the rules the server applies, each
/// problem on its field.
fn typed_day(date: &str, kind: DayKind, name: &str) -> Result<pb::CalendarDay, FieldError> {
    validate::date(DATE, date)?;
    let day = calendar::special_day(date, kind.as_str(), name).map_err(|problem| {
        let field = match problem {
            DayProblem::BadName => NAME,
            _ => DATE,
        };
        FieldError::new(field, Rule::Day(problem))
    })?;
    Ok(pb::CalendarDay {
        date: day.date.to_string(),
        kind: day.kind.as_str().into(),
        name: day.name,
    })
}
