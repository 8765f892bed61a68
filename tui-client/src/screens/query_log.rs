//! The query log, for the center and supervisors: a filter (subject's
//! number, operator, institution, dates), then every matching attempt —
//! allowed or refused — newest first, with the chosen one in full below.
//! `n` fetches the next page, `x` exports the whole result as .xlsx. The
//! server audits every search and export.

use credit_desk_proto::Lang;
use credit_desk_proto::pb;
use credit_desk_proto::validate::{self, field};
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Up,
    Down,
    More,
    Export,
    Filter,
}

/// Keys on the list of attempts; Esc goes back to the filter.
const LIST_KEYS: &[Binding<Cmd>] = &[
    bind!("↑↓", [Code(KeyCode::Up)], key_select, Cmd::Up),
    bind!("↑↓", [Code(KeyCode::Down)], key_select, Cmd::Down),
    bind!(
        "n",
        [Letter('n'), Code(KeyCode::PageDown)],
        key_more,
        Cmd::More
    ),
    bind!("x", [Letter('x')], key_export, Cmd::Export),
    bind!("Esc", [Code(KeyCode::Esc)], key_filter, Cmd::Filter),
];

pub struct QueryLogScreen {
    pub form: Form,
    /// The filter of the answer on screen (what `n` and `x` continue).
    shown: Option<pb::QueryLogFilter>,
    /// The filter of the search on its way.
    sent: Option<pb::QueryLogFilter>,
    pub entries: Vec<pb::QueryLogEntry>,
    pub total: u64,
    next_cursor: String,
    pub selected: usize,
}

impl QueryLogScreen {
    pub fn new(cat: &Catalogue, today: chrono::NaiveDate) -> QueryLogScreen {
        let today = today.format("%Y-%m-%d").to_string();
        QueryLogScreen {
            form: Form::new(vec![
                Field::text(field::SUBJECT_IDENTIFIER, cat.identifier),
                Field::text(field::OPERATOR_USERNAME, cat.log_operator),
                Field::text(field::INSTITUTION_CODE, cat.log_institution),
                Field::text(field::FROM_DATE, cat.log_from).with_value(&today),
                Field::text(field::TO_DATE, cat.log_to).with_value(&today),
            ])
            .submitting(|c| c.key_search),
            shown: None,
            sent: None,
            entries: Vec::new(),
            total: 0,
            next_cursor: String::new(),
            selected: 0,
        }
    }

    pub fn is_typing(&self) -> bool {
        self.shown.is_none()
    }

    fn offers(&self, cmd: Cmd) -> bool {
        match cmd {
            Cmd::More => !self.next_cursor.is_empty(),
            Cmd::Export => !self.entries.is_empty(),
            _ => true,
        }
    }

    pub fn on_key(
        &mut self,
        key: KeyEvent,
        lang: Lang,
        waiting: bool,
        today: chrono::NaiveDate,
    ) -> Action {
        if let Some(filter) = &self.shown {
            return match keys::find(LIST_KEYS, &key, |c| self.offers(c)) {
                Some(Cmd::Filter) => {
                    self.shown = None;
                    Action::None
                }
                Some(Cmd::Up) => {
                    self.selected = self.selected.saturating_sub(1);
                    Action::None
                }
                Some(Cmd::Down) => {
                    self.selected = (self.selected + 1).min(self.entries.len().saturating_sub(1));
                    Action::None
                }
                Some(Cmd::More) if !waiting => {
                    Action::Send(Call::SearchQueryLog(pb::SearchQueryLogRequest {
                        filter: Some(filter.clone()),
                        cursor: self.next_cursor.clone(),
                        limit: 0,
                    }))
                }
                Some(Cmd::Export) if !waiting => Action::Send(Call::ExportQueryLog(filter.clone())),
                _ => Action::None,
            };
        }
        if keys::is_back(&key) {
            return Action::Back;
        }
        if self.form.handle_key(key) != FormEvent::Submit || waiting {
            return Action::None;
        }
        let filter = pb::QueryLogFilter {
            subject_identifier: self.form.raw(field::SUBJECT_IDENTIFIER),
            operator_username: self.form.value(field::OPERATOR_USERNAME),
            institution_code: self.form.value(field::INSTITUTION_CODE),
            from_date: self.form.raw(field::FROM_DATE),
            to_date: self.form.raw(field::TO_DATE),
            ..Default::default()
        };
        // The same rule the server applies: typing never waits for it.
        if let Err(errors) = validate::query_log_filter(
            &filter.subject_identifier,
            &filter.operator_username,
            &filter.institution_code,
            &filter.purpose_code,
            &filter.from_date,
            &filter.to_date,
            today,
        ) {
            self.form.show_local_errors(&errors, lang);
            return Action::None;
        }
        self.form.clear_errors();
        self.sent = Some(filter.clone());
        Action::Send(Call::SearchQueryLog(pb::SearchQueryLogRequest {
            filter: Some(filter),
            cursor: String::new(),
            limit: 0,
        }))
    }

    pub fn on_answer(&mut self, answer: Answer, cat: &Catalogue) -> Action {
        match answer {
            Answer::QueryLog(page) => {
                let continued = self.shown.is_some() && !self.next_cursor.is_empty();
                if !continued {
                    self.entries.clear();
                    self.selected = 0;
                }
                if !continued {
                    self.shown = self.sent.take();
                }
                self.total = page.total;
                self.next_cursor = page.next_cursor;
                if continued {
                    // The first of the new page is chosen.
                    self.selected = self.entries.len();
                }
                self.entries.extend(page.entries);
                self.selected = self.selected.min(self.entries.len().saturating_sub(1));
                Action::None
            }
            Answer::Saved(path) => Action::Info(format!("{} {}", cat.saved_to, path.display())),
            _ => Action::None,
        }
    }

    pub fn on_error(&mut self, status: &Status) -> bool {
        self.shown.is_none() && self.form.apply_status(status)
    }

    pub fn hint(&self, cat: &Catalogue, width: usize) -> String {
        match self.shown {
            Some(_) => keys::footer(LIST_KEYS, cat, |c| self.offers(c), width),
            None => self.form.footer(cat, width),
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, app: &App) {
        let (cat, theme) = (app.cat, app.theme);
        if self.shown.is_none() {
            let [form_area, _, hint] = Layout::vertical([
                Constraint::Length(self.form.height() + 1),
                Constraint::Min(0),
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
                !app.help,
            );
            self.render_hint(frame, hint, app);
            return;
        }
        let [list_area, detail_area, hint] = Layout::vertical([
            Constraint::Min(3),
            Constraint::Length(5),
            Constraint::Length(1),
        ])
        .areas(area);
        let width = usize::from(list_area.width).saturating_sub(2);
        let items: Vec<ListItem> = self
            .entries
            .iter()
            .map(|e| ListItem::new(print::fit(&line(e, cat, app), width)))
            .collect();
        let title = match self.entries.is_empty() {
            true => cat.log_none.to_string(),
            false => format!("{} / {} {}", self.entries.len(), self.total, cat.log_found),
        };
        let mut state =
            ListState::default().with_selected((!self.entries.is_empty()).then_some(self.selected));
        frame.render_stateful_widget(
            List::new(items)
                .block(Block::default().borders(Borders::TOP).title(title))
                .highlight_style(theme.selected())
                .highlight_symbol("▶"),
            list_area,
            &mut state,
        );
        if let Some(e) = self.entries.get(self.selected) {
            frame.render_widget(
                Paragraph::new(detail(e, cat, app.lang.pick("：", ": ")))
                    .block(Block::default().borders(Borders::TOP))
                    .wrap(Wrap { trim: false }),
                detail_area,
            );
        }
        self.render_hint(frame, hint, app);
    }

    fn render_hint(&self, frame: &mut Frame, area: Rect, app: &App) {
        frame.render_widget(
            Paragraph::new(Line::styled(
                self.hint(app.cat, usize::from(area.width)),
                app.theme.dim(),
            )),
            area,
        );
    }
}

/// One attempt on one line: when, who, whom, and how it ended.
fn line(e: &pb::QueryLogEntry, cat: &Catalogue, app: &App) -> String {
    let at = chrono::DateTime::from_timestamp_millis(e.at_ms)
        .map(|t| {
            t.with_timezone(&app.utc_offset)
                .format("%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default();
    let outcome = match e.allowed {
        true => cat.log_allowed,
        false => cat.log_refused,
    };
    format!(
        "{at} {} {} {} {outcome} {}",
        e.operator_name,
        e.subject_name,
        e.subject_identifier,
        basis(e, cat)
    )
}

fn basis<'a>(e: &'a pb::QueryLogEntry, cat: &'a Catalogue) -> &'a str {
    match e.basis.as_str() {
        "self" => cat.log_basis_self,
        "consent" => cat.log_basis_consent,
        other => other,
    }
}

/// The chosen attempt in full.
fn detail(e: &pb::QueryLogEntry, cat: &Catalogue, colon: &str) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(format!(
        "{}{colon}{} ({}) {}{colon}{} {}{colon}{}",
        cat.log_unit,
        e.org_unit_name,
        e.operator_username,
        cat.log_terminal,
        e.terminal,
        cat.log_report,
        if e.report_no.is_empty() {
            "—"
        } else {
            &e.report_no
        }
    ))];
    if e.basis == "consent" {
        lines.push(Line::from(format!(
            "{}{colon}{} {}{colon}{} {}{colon}{}",
            cat.log_consent,
            e.consent_form_serial,
            cat.log_purpose,
            e.purpose_name,
            cat.log_institution_name,
            e.institution_name
        )));
    }
    if !e.allowed {
        lines.push(Line::from(format!(
            "{}{colon}{}",
            cat.log_reason, e.refusal_text
        )));
    }
    lines
}
