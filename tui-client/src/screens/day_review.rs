//! The supervisor's daily review of query operations (查询操作日核查): a
//! finished day (yesterday by default), its abnormal-query alerts with the
//! attempts that raised them, a conclusion per alert (`n` normal, `v`
//! violation with a note), sign-off (`s`) once none is open, and the paper
//! copy (`p`) carrying the audit chain's head.

use credit_desk_proto::Lang;
use credit_desk_proto::pb::{self, AlertConclusion};
use credit_desk_proto::validate::{self, FieldError, Rule};
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

const DAY: &str = "day";
const NOTE: &str = "note";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Up,
    Down,
    Normal,
    Violation,
    SignOff,
    Print,
    Back,
}

const KEYS: &[Binding<Cmd>] = &[
    bind!("↑↓", [Code(KeyCode::Up)], key_select, Cmd::Up),
    bind!("↑↓", [Code(KeyCode::Down)], key_select, Cmd::Down),
    bind!("n", [Letter('n')], key_normal, Cmd::Normal),
    bind!("v", [Letter('v')], key_violation, Cmd::Violation),
    bind!("s", [Letter('s')], key_sign_off, Cmd::SignOff),
    bind!("p", [Letter('p')], key_print, Cmd::Print),
    bind!("Esc", [Code(KeyCode::Esc)], key_back, Cmd::Back),
];

pub struct DayReviewScreen {
    /// The day asked for.
    pub form: Form,
    pub review: Option<pb::DayReview>,
    pub selected: usize,
    /// The note of a violation being recorded.
    pub noting: Option<Form>,
}

impl DayReviewScreen {
    pub fn new(cat: &Catalogue, today: chrono::NaiveDate) -> DayReviewScreen {
        let yesterday = today.pred_opt().unwrap_or(today);
        DayReviewScreen {
            form: Form::new(vec![
                Field::text(DAY, cat.review_day)
                    .with_value(&yesterday.format("%Y-%m-%d").to_string()),
            ])
            .submitting(|c| c.key_open),
            review: None,
            selected: 0,
            noting: None,
        }
    }

    pub fn is_typing(&self) -> bool {
        self.review.is_none() || self.noting.is_some()
    }

    fn alert(&self) -> Option<&pb::Alert> {
        self.review.as_ref()?.alerts.get(self.selected)
    }

    fn signed(&self) -> bool {
        self.review.as_ref().is_some_and(|r| r.signed_at_ms > 0)
    }

    fn offers(&self, cmd: Cmd) -> bool {
        match cmd {
            Cmd::Normal | Cmd::Violation => !self.signed() && self.alert().is_some(),
            Cmd::SignOff => {
                !self.signed()
                    && self.review.as_ref().is_some_and(|r| {
                        r.alerts
                            .iter()
                            .all(|a| a.conclusion != AlertConclusion::Open as i32)
                    })
            }
            _ => true,
        }
    }

    pub fn on_key(&mut self, key: KeyEvent, cat: &Catalogue, lang: Lang, waiting: bool) -> Action {
        if let Some(form) = &mut self.noting {
            if key.code == KeyCode::Esc {
                self.noting = None;
                return Action::None;
            }
            if form.handle_key(key) != FormEvent::Submit || waiting {
                return Action::None;
            }
            let note = form.value(NOTE);
            if note.is_empty() {
                form.show_local_errors(&[FieldError::new(NOTE, Rule::Required)], lang);
                return Action::None;
            }
            return self.conclude(AlertConclusion::Violation, note);
        }
        let Some(review) = &self.review else {
            if keys::is_back(&key) {
                return Action::Back;
            }
            if self.form.handle_key(key) != FormEvent::Submit || waiting {
                return Action::None;
            }
            let day = self.form.raw(DAY);
            if let Err(e) = validate::date(DAY, &day) {
                self.form.show_local_errors(&[e], lang);
                return Action::None;
            }
            return Action::Send(Call::GetDayReview(day.trim().to_string()));
        };
        match keys::find(KEYS, &key, |c| self.offers(c)) {
            Some(Cmd::Up) => self.selected = self.selected.saturating_sub(1),
            Some(Cmd::Down) => {
                self.selected = (self.selected + 1).min(review.alerts.len().saturating_sub(1))
            }
            Some(Cmd::Normal) if !waiting => {
                return self.conclude(AlertConclusion::Normal, String::new());
            }
            Some(Cmd::Violation) => {
                self.noting = Some(
                    Form::new(vec![Field::text(NOTE, cat.review_note)])
                        .submitting(|c| c.key_submit),
                );
            }
            Some(Cmd::SignOff) if !waiting => {
                return Action::Send(Call::SignOffDay(review.day.clone()));
            }
            Some(Cmd::Print) => {
                return Action::Send(Call::SaveText {
                    path: format!("daily-review-{}.txt", review.day).into(),
                    text: paper(review, cat),
                });
            }
            Some(Cmd::Back) => {
                self.review = None;
            }
            _ => {}
        }
        Action::None
    }

    fn conclude(&self, conclusion: AlertConclusion, note: String) -> Action {
        match self.alert() {
            Some(a) => Action::Send(Call::ConcludeAlert(pb::ConcludeAlertRequest {
                alert_id: a.id.clone(),
                conclusion: conclusion as i32,
                note,
            })),
            None => Action::None,
        }
    }

    pub fn on_answer(&mut self, answer: Answer, cat: &Catalogue) -> Action {
        match answer {
            Answer::DayReview(review) => {
                let same_day = self.review.as_ref().is_some_and(|r| r.day == review.day);
                if !same_day {
                    self.selected = 0;
                }
                self.selected = self.selected.min(review.alerts.len().saturating_sub(1));
                self.noting = None;
                self.review = Some(review);
                Action::None
            }
            Answer::Saved(path) => Action::Info(format!("{} {}", cat.saved_to, path.display())),
            _ => Action::None,
        }
    }

    pub fn on_error(&mut self, status: &Status) -> bool {
        match (&mut self.noting, &self.review) {
            (Some(form), _) => form.apply_status(status),
            (None, None) => self.form.apply_status(status),
            (None, Some(_)) => false,
        }
    }

    pub fn hint(&self, cat: &Catalogue, width: usize) -> String {
        match (&self.noting, &self.review) {
            (Some(form), _) => form.footer(cat, width),
            (None, None) => self.form.footer(cat, width),
            (None, Some(_)) => keys::footer(KEYS, cat, |c| self.offers(c), width),
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, app: &App) {
        let (cat, theme) = (app.cat, app.theme);
        let [body, hint] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
        frame.render_widget(
            Paragraph::new(Line::styled(
                self.hint(cat, usize::from(hint.width)),
                theme.dim(),
            )),
            hint,
        );
        let Some(review) = &self.review else {
            let [_, form] =
                Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(body);
            self.form.render(form, frame.buffer_mut(), theme, !app.help);
            return;
        };
        let [head, list_area, detail_area] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Min(3),
            Constraint::Length(8),
        ])
        .areas(body);
        frame.render_widget(Paragraph::new(header(review, cat, app)), head);
        let width = usize::from(list_area.width).saturating_sub(2);
        let items: Vec<ListItem> = review
            .alerts
            .iter()
            .map(|a| {
                ListItem::new(print::fit(
                    &format!(
                        "{} {} · {} ({})",
                        mark(a, cat),
                        a.indicator_name,
                        a.about,
                        a.evidence_count
                    ),
                    width,
                ))
            })
            .collect();
        let title = match review.alerts.is_empty() {
            true => cat.review_no_alerts,
            false => cat.review_alerts,
        };
        let mut state = ListState::default()
            .with_selected((!review.alerts.is_empty()).then_some(self.selected));
        frame.render_stateful_widget(
            List::new(items)
                .block(Block::default().borders(Borders::TOP).title(title))
                .highlight_style(theme.selected())
                .highlight_symbol("▶"),
            list_area,
            &mut state,
        );
        if let Some(form) = &self.noting {
            let block = Block::default()
                .borders(Borders::TOP)
                .title(cat.key_violation);
            let inner = block.inner(detail_area);
            frame.render_widget(block, detail_area);
            form.render(inner, frame.buffer_mut(), theme, !app.help);
        } else if let Some(a) = self.alert() {
            frame.render_widget(
                Paragraph::new(evidence(a, cat, app))
                    .block(Block::default().borders(Borders::TOP))
                    .wrap(Wrap { trim: false }),
                detail_area,
            );
        }
    }
}

fn mark(a: &pb::Alert, cat: &Catalogue) -> &'static str {
    match a.conclusion() {
        AlertConclusion::Open => cat.review_open,
        AlertConclusion::Normal => cat.review_normal,
        AlertConclusion::Violation => cat.review_violation,
    }
}

/// The day in two lines: counts, and who signed it off with the chain head.
fn header(r: &pb::DayReview, cat: &Catalogue, app: &App) -> Vec<Line<'static>> {
    let open = r
        .alerts
        .iter()
        .filter(|a| a.conclusion == AlertConclusion::Open as i32)
        .count();
    let kind = if r.working_day {
        cat.review_working_day
    } else {
        cat.review_rest_day
    };
    let first = format!(
        "{} {kind} · {} {} · {} {} · {} {} ({} {open})",
        r.day,
        cat.review_attempts,
        r.attempts,
        cat.review_refused,
        r.refused,
        cat.review_alerts,
        r.alerts.len(),
        cat.review_open,
    );
    let hash: String = r.chain_hash.chars().take(16).collect();
    let second = match r.signed_at_ms {
        0 => format!(
            "{} · {} #{} {hash}…",
            cat.review_unsigned, cat.review_chain, r.chain_seq
        ),
        at => format!(
            "{} {} {} · {} #{} {hash}…",
            cat.review_signed,
            r.signed_by,
            print::time(at, app.utc_offset),
            cat.review_chain,
            r.chain_seq
        ),
    };
    vec![Line::from(first), Line::from(second)]
}

/// The chosen alert: its conclusion and the attempts that raised it.
fn evidence(a: &pb::Alert, cat: &Catalogue, app: &App) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if a.conclusion != AlertConclusion::Open as i32 {
        lines.push(Line::from(format!(
            "{} {} {}: {}",
            mark(a, cat),
            a.concluded_by,
            print::time(a.concluded_at_ms, app.utc_offset),
            a.note
        )));
    }
    for e in &a.evidence {
        let at = print::time(e.at_ms, app.utc_offset);
        let outcome = if e.allowed {
            cat.log_allowed
        } else {
            cat.log_refused
        };
        lines.push(Line::from(format!(
            "{at} {} {} {} {} {outcome}",
            e.operator_name, e.terminal, e.subject_name, e.subject_identifier
        )));
    }
    lines
}

/// The review as printed, to be signed on paper and kept: every alert with
/// its conclusion, and the audit chain's head.
fn paper(r: &pb::DayReview, cat: &Catalogue) -> String {
    let mut out = format!(
        "{}\n\n{} {}\n{} {}  {} {}\n\n",
        cat.review_title,
        cat.review_day,
        r.day,
        cat.review_attempts,
        r.attempts,
        cat.review_refused,
        r.refused
    );
    if r.alerts.is_empty() {
        out.push_str(cat.review_no_alerts);
        out.push('\n');
    }
    for (i, a) in r.alerts.iter().enumerate() {
        out.push_str(&format!(
            "{}. {} · {} ({})\n   {} {} {}\n",
            i + 1,
            a.indicator_name,
            a.about,
            a.evidence_count,
            mark(a, cat),
            a.concluded_by,
            a.note
        ));
    }
    out.push_str(&format!(
        "\n{} #{} {}\n",
        cat.review_chain, r.chain_seq, r.chain_hash
    ));
    match r.signed_at_ms {
        0 => out.push_str(&format!("{}\n", cat.review_unsigned)),
        _ => out.push_str(&format!("{} {}\n", cat.review_signed, r.signed_by)),
    }
    out.push_str(&format!("\n{}\n", cat.review_signature));
    out
}
