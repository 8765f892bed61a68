//! The credit report on screen: the same CJK-aligned lines as the printed
//! document, scrolled with the keys, sections one Tab apart, `/` to find,
//! `p` to write the printable document to a file. A charged self-query asks
//! for confirmation first.

use credit_desk_proto::pb::{self, run_query_request::Basis};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{Action, App};
use crate::form::{Field, Form, FormEvent};
use crate::i18n::Catalogue;
use crate::net::{Answer, Call};
use crate::print;

const FIND: &str = "find";

pub struct ReportScreen {
    subject_id: String,
    basis: Basis,
    /// Sent with every attempt, so a retry is the same query.
    request_id: String,
    pub response: Option<pb::RunQueryResponse>,
    pub scroll: usize,
    find: Option<Form>,
    pub needle: String,
}

impl ReportScreen {
    pub fn self_query(subject_id: String, verification_id: String) -> ReportScreen {
        Self::new(
            subject_id,
            Basis::SelfBasis(pb::SelfBasis { verification_id }),
        )
    }

    pub fn new(subject_id: String, basis: Basis) -> ReportScreen {
        ReportScreen {
            subject_id,
            basis,
            request_id: uuid::Uuid::now_v7().to_string(),
            response: None,
            scroll: 0,
            find: None,
            needle: String::new(),
        }
    }

    pub fn is_typing(&self) -> bool {
        self.find.is_some()
    }

    pub fn request(&self, fee_confirmed: bool) -> Call {
        Call::RunQuery(pb::RunQueryRequest {
            request_id: self.request_id.clone(),
            subject_id: self.subject_id.clone(),
            basis: Some(self.basis.clone()),
            categories: Vec::new(),
            fee_confirmed,
        })
    }

    fn report(&self) -> Option<&pb::Report> {
        self.response.as_ref().and_then(|r| r.report.as_ref())
    }

    fn lines(&self, app: &App) -> Vec<String> {
        self.report()
            .map(|r| print::body(r, app.cat, app.utc_offset))
            .unwrap_or_default()
    }

    /// The report's lines for moving around in them (times in UTC: the zone
    /// changes no line's position).
    fn structure(&self, cat: &Catalogue) -> Vec<String> {
        let utc = chrono::FixedOffset::east_opt(0).expect("zero is a valid offset");
        self.report()
            .map(|r| print::body(r, cat, utc))
            .unwrap_or_default()
    }

    /// Lines where a section starts (numbered headings and 【category】).
    fn section_starts(lines: &[String]) -> Vec<usize> {
        lines
            .iter()
            .enumerate()
            .filter(|(_, l)| {
                l.starts_with('【') || l.starts_with(['一', '二', '三', '1', '2', '3'])
            })
            .map(|(i, _)| i)
            .collect()
    }

    pub fn on_key(&mut self, key: KeyEvent, cat: &Catalogue, waiting: bool) -> Action {
        if let Some(form) = &mut self.find {
            match key.code {
                KeyCode::Esc => self.find = None,
                _ => {
                    if form.handle_key(key) == FormEvent::Submit {
                        self.needle = form.value(FIND);
                        self.find = None;
                        self.jump_to_needle(cat);
                    }
                }
            }
            return Action::None;
        }
        let fee_asked = self
            .response
            .as_ref()
            .is_some_and(|r| !r.allowed && r.refusal_code == "fee_confirmation_required");
        match key.code {
            KeyCode::Esc => Action::Back,
            KeyCode::Char('y' | 'Y') if fee_asked && !waiting => Action::Send(self.request(true)),
            KeyCode::Down | KeyCode::Char('j') => {
                self.scroll += 1;
                Action::None
            }
            KeyCode::Up | KeyCode::Char('k') => {
                self.scroll = self.scroll.saturating_sub(1);
                Action::None
            }
            KeyCode::PageDown | KeyCode::Char(' ') => {
                self.scroll += 15;
                Action::None
            }
            KeyCode::PageUp => {
                self.scroll = self.scroll.saturating_sub(15);
                Action::None
            }
            KeyCode::Home => {
                self.scroll = 0;
                Action::None
            }
            KeyCode::Tab | KeyCode::BackTab => {
                let starts = Self::section_starts(&self.structure(cat));
                self.scroll = if key.code == KeyCode::Tab {
                    starts
                        .into_iter()
                        .find(|&s| s > self.scroll)
                        .unwrap_or(self.scroll)
                } else {
                    starts
                        .into_iter()
                        .rev()
                        .find(|&s| s < self.scroll)
                        .unwrap_or(0)
                };
                Action::None
            }
            KeyCode::Char('/') if self.report().is_some() => {
                self.find = Some(Form::new(vec![
                    Field::text(FIND, cat.report_search).with_value(&self.needle),
                ]));
                Action::None
            }
            KeyCode::Char('n') if !self.needle.is_empty() => {
                self.jump_to_needle(cat);
                Action::None
            }
            KeyCode::Char('p') => match self.report() {
                Some(r) => Action::Send(Call::SaveText {
                    path: format!("{}.txt", r.report_no).into(),
                    text: print::document(r, cat, chrono::Local::now().fixed_offset().timezone()),
                }),
                None => Action::None,
            },
            _ => Action::None,
        }
    }

    /// Scrolls to the next line after the current one containing the needle.
    fn jump_to_needle(&mut self, cat: &Catalogue) {
        let lines = self.structure(cat);
        let n = lines.len();
        if let Some(i) = (1..=n)
            .map(|k| (self.scroll + k) % n.max(1))
            .find(|&i| lines[i].contains(&self.needle))
        {
            self.scroll = i;
        }
    }

    pub fn on_answer(&mut self, answer: Answer, cat: &Catalogue) -> Action {
        match answer {
            Answer::Queried(resp) => {
                self.response = Some(resp);
                self.scroll = 0;
                Action::None
            }
            Answer::Saved(path) => Action::Info(format!("{} {}", cat.saved_to, path.display())),
            _ => Action::None,
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, app: &App) {
        let (cat, theme) = (app.cat, app.theme);
        let find_height = u16::from(self.find.is_some());
        let [body, find, hint] = Layout::vertical([
            Constraint::Min(1),
            Constraint::Length(find_height),
            Constraint::Length(1),
        ])
        .areas(area);
        match &self.response {
            None => frame.render_widget(Paragraph::new(cat.loading), body),
            Some(r) if !r.allowed => {
                let text = if r.refusal_code == "fee_confirmation_required" {
                    cat.fee_confirm.to_string()
                } else {
                    format!("✗ {}", r.refusal_message)
                };
                frame.render_widget(
                    Paragraph::new(Line::styled(text, theme.warning()))
                        .wrap(ratatui::widgets::Wrap { trim: false }),
                    body,
                );
            }
            Some(_) => {
                let lines: Vec<Line> = self
                    .lines(app)
                    .into_iter()
                    .skip(self.scroll)
                    .take(body.height as usize)
                    .map(|l| {
                        if !self.needle.is_empty() && l.contains(&self.needle) {
                            Line::from(Span::styled(l, theme.selected()))
                        } else if l.starts_with('【')
                            || l.starts_with(['一', '二', '三', '1', '2', '3'])
                        {
                            Line::from(Span::styled(l, theme.title()))
                        } else {
                            Line::from(l)
                        }
                    })
                    .collect();
                frame.render_widget(Paragraph::new(lines), body);
            }
        }
        if let Some(form) = &self.find {
            form.render(find, frame.buffer_mut(), theme, !app.help);
        }
        frame.render_widget(
            Paragraph::new(Line::styled(cat.report_hint, theme.dim())),
            hint,
        );
    }
}
