//! The clerk's own day (menu `y`): today's verifications and query
//! attempts by this operator, newest first, numbers masked.

use credit_desk_proto::pb;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::{Action, App};
use crate::bind;
use crate::i18n::{self, Catalogue};
use crate::keys::{self, Binding, Key::Code, Key::Letter};
use crate::net::{Answer, Call};
use crate::print;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Down,
    Up,
    Refresh,
    Back,
}

const KEYS: &[Binding<Cmd>] = &[
    bind!(
        "↑↓",
        [Code(KeyCode::Down), Letter('j')],
        key_scroll,
        Cmd::Down
    ),
    bind!("↑↓", [Code(KeyCode::Up), Letter('k')], key_scroll, Cmd::Up),
    bind!(
        "r",
        [Letter('r'), Code(KeyCode::F(5))],
        key_refresh,
        Cmd::Refresh
    ),
    bind!("Esc", [Code(KeyCode::Esc)], key_back, Cmd::Back),
];

#[derive(Default)]
pub struct MyDayScreen {
    pub day: Option<pb::MyDayResponse>,
    pub scroll: usize,
}

impl MyDayScreen {
    pub fn load() -> Call {
        Call::MyDay
    }

    pub fn on_key(&mut self, key: KeyEvent, waiting: bool) -> Action {
        match keys::find(KEYS, &key, |_| true) {
            Some(Cmd::Down) => self.scroll += 1,
            Some(Cmd::Up) => self.scroll = self.scroll.saturating_sub(1),
            Some(Cmd::Refresh) if !waiting => return Action::Send(Self::load()),
            Some(Cmd::Back) => return Action::Back,
            _ => {}
        }
        Action::None
    }

    pub fn on_answer(&mut self, answer: Answer) -> Action {
        if let Answer::MyDay(day) = answer {
            self.day = Some(day);
        }
        Action::None
    }

    pub fn hint(&self, cat: &Catalogue, width: usize) -> String {
        keys::footer(KEYS, cat, |_| true, width)
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, app: &App) {
        let (cat, theme) = (app.cat, app.theme);
        let [head, list, hint] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(3),
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
        let Some(day) = &self.day else {
            frame.render_widget(Paragraph::new(cat.loading), head);
            return;
        };
        let mut summary = format!(
            "{} · {} {} · {} {}",
            day.day,
            cat.my_day_verifications,
            day.verifications.len(),
            cat.my_day_queries,
            day.queries.len()
        );
        if day.more {
            summary.push_str(&format!(" · {}", cat.my_day_more));
        }
        frame.render_widget(Paragraph::new(Line::styled(summary, theme.title())), head);
        // Both kinds of act in one timeline, newest first.
        let mut acts: Vec<(i64, String)> = day
            .verifications
            .iter()
            .map(|v| {
                let method = pb::VerificationMethod::try_from(v.method).unwrap_or_default();
                (
                    v.at_ms,
                    format!(
                        "{} {} {} {}",
                        cat.my_day_verified,
                        v.subject_name,
                        v.subject_identifier,
                        i18n::method_name(cat.lang, method)
                    ),
                )
            })
            .chain(day.queries.iter().map(|q| {
                let outcome = match q.allowed {
                    true => format!("{} {}", cat.log_allowed, q.report_no),
                    false => format!("{} {}", cat.log_refused, q.refusal_text),
                };
                let basis = match q.basis.as_str() {
                    "self" => cat.basis_self,
                    _ => cat.basis_consent,
                };
                (
                    q.at_ms,
                    format!(
                        "{} {} {} {basis} {outcome}",
                        cat.my_day_queried, q.subject_name, q.subject_identifier
                    ),
                )
            }))
            .collect();
        acts.sort_by_key(|a| std::cmp::Reverse(a.0));
        let width = usize::from(list.width);
        let lines: Vec<Line> = match acts.is_empty() {
            true => vec![Line::from(cat.my_day_nothing)],
            false => acts
                .iter()
                .skip(self.scroll)
                .map(|(at, text)| {
                    let time = print::time(*at, app.utc_offset);
                    Line::from(print::fit(
                        &format!("{} {text}", time.get(11..).unwrap_or_default()),
                        width,
                    ))
                })
                .collect(),
        };
        frame.render_widget(
            Paragraph::new(lines).block(Block::default().borders(Borders::TOP)),
            list,
        );
    }
}
