//! The credit report on screen: the same CJK-aligned lines as the printed
//! document, scrolled with the keys, sections one Tab apart, `/` to find,
//! `p` to write the printable document to a file. A charged self-query asks
//! for confirmation first. Enter starts choosing records: on a negative
//! record of a self-query, `e` takes the subject's explanation (art. 16).

use credit_desk_proto::pb::{self, run_query_request::Basis};
use credit_desk_proto::{Lang, validate};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui_textarea::TextArea;
use std::cell::Cell;

use crate::app::{Action, App};
use crate::bind;
use crate::form::{Field, Form, FormEvent};
use crate::i18n::Catalogue;
use crate::keys::{self, Binding, Key::Code, Key::Ctrl, Key::Letter};
use crate::net::{Answer, Call};
use crate::print;

/// What a key does on the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    LineDown,
    LineUp,
    PageDown,
    PageUp,
    Top,
    NextSection,
    PreviousSection,
    Choose,
    Find,
    FindNext,
    Print,
    ConfirmFee,
    Back,
}

const KEYS: &[Binding<Cmd>] = &[
    // First, so the footer shows it when the fee question is on screen.
    bind!("y", [Letter('y')], key_confirm_fee, Cmd::ConfirmFee),
    bind!(
        "↑↓",
        [Code(KeyCode::Down), Letter('j')],
        key_scroll,
        Cmd::LineDown
    ),
    bind!(
        "↑↓",
        [Code(KeyCode::Up), Letter('k')],
        key_scroll,
        Cmd::LineUp
    ),
    bind!(
        "PgDn",
        [Code(KeyCode::PageDown), Code(KeyCode::Char(' '))],
        key_scroll,
        Cmd::PageDown
    ),
    bind!("PgUp", [Code(KeyCode::PageUp)], key_scroll, Cmd::PageUp),
    bind!(
        "Tab",
        [Code(KeyCode::Tab)],
        key_next_section,
        Cmd::NextSection
    ),
    bind!(
        "Enter",
        [Code(KeyCode::Enter)],
        key_choose_records,
        Cmd::Choose
    ),
    bind!("/", [Code(KeyCode::Char('/'))], key_find, Cmd::Find),
    bind!("n", [Letter('n')], key_find_next, Cmd::FindNext),
    bind!("p", [Letter('p')], key_print, Cmd::Print),
    bind!("Esc", [Code(KeyCode::Esc)], key_back, Cmd::Back),
    bind!("Home", [Code(KeyCode::Home)], key_scroll, Cmd::Top),
    bind!(
        "S-Tab",
        [Code(KeyCode::BackTab)],
        key_previous_section,
        Cmd::PreviousSection
    ),
];

/// What a key does while an explanation or statement is being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DraftCmd {
    Submit,
    Cancel,
}

const DRAFT_KEYS: &[Binding<DraftCmd>] = &[
    bind!("F10", [Code(KeyCode::F(10))], key_submit, DraftCmd::Submit),
    bind!("Ctrl-S", [Ctrl('s')], key_submit, DraftCmd::Submit),
    bind!("Esc", [Code(KeyCode::Esc)], key_cancel, DraftCmd::Cancel),
];

/// What a key does while records are being chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RecordCmd {
    Down,
    Up,
    Mark,
    Object,
    Explain,
    Statement,
    Done,
}

const RECORD_KEYS: &[Binding<RecordCmd>] = &[
    bind!(
        "↑↓",
        [Code(KeyCode::Down), Letter('j')],
        key_choose,
        RecordCmd::Down
    ),
    bind!(
        "↑↓",
        [Code(KeyCode::Up), Letter('k')],
        key_choose,
        RecordCmd::Up
    ),
    bind!(
        "Space",
        [Code(KeyCode::Char(' '))],
        key_mark,
        RecordCmd::Mark
    ),
    bind!("o", [Letter('o')], key_object, RecordCmd::Object),
    bind!("e", [Letter('e')], key_explain, RecordCmd::Explain),
    bind!("s", [Letter('s')], key_statement, RecordCmd::Statement),
    bind!(
        "Enter/Esc",
        [Code(KeyCode::Enter), Code(KeyCode::Esc)],
        key_done,
        RecordCmd::Done
    ),
];

const FIND: &str = "find";
const REPORT_NO: &str = "report_no";

pub struct ReportScreen {
    subject_id: String,
    basis: Basis,
    /// Sent with every attempt, so a retry is the same query.
    request_id: String,
    pub response: Option<pb::RunQueryResponse>,
    pub scroll: usize,
    find: Option<Form>,
    pub needle: String,
    /// The chosen record (index in report order) while choosing records.
    pub cursor: Option<usize>,
    pub explain: Option<Draft>,
    /// Records marked (Space) for an objection, by index in report order.
    pub marked: std::collections::BTreeSet<usize>,
    /// Body lines on screen at the last draw: the cursor keeps its record
    /// in view with it.
    page: Cell<usize>,
    /// Reprinting (补打): the number asked for while no report is shown;
    /// a reprint is read and printed, never acted on.
    pub lookup: Option<Form>,
    reprint: bool,
}

/// An explanation (art. 16) or a statement (本人声明, after an
/// unconfirmed check) being written for one record.
pub struct Draft {
    pub statement: bool,
    pub record_id: String,
    pub text: TextArea<'static>,
    /// Kept while the text stays the same, so a resend is the same request.
    request_id: Option<String>,
}

/// How a record is named on the objection form.
fn record_label(r: &pb::ReportRecord) -> String {
    format!("{}  {}  {}", r.source_name, r.source_key, r.status)
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
            cursor: None,
            explain: None,
            marked: Default::default(),
            page: Cell::new(20),
            lookup: None,
            reprint: false,
        }
    }

    /// A report reprinted by its number, as it was issued.
    pub fn reprint(cat: &Catalogue) -> ReportScreen {
        ReportScreen {
            lookup: Some(
                Form::new(vec![Field::text(REPORT_NO, cat.report_no)]).submitting(|c| c.key_open),
            ),
            reprint: true,
            ..Self::new(String::new(), Basis::SelfBasis(pb::SelfBasis::default()))
        }
    }

    pub fn is_typing(&self) -> bool {
        self.find.is_some() || self.explain.is_some() || self.lookup.is_some()
    }

    /// A number not found or refused shows under it.
    pub fn on_error(&mut self, status: &tonic::Status) -> bool {
        self.lookup
            .as_mut()
            .is_some_and(|form| form.apply_status(status))
    }

    fn on_lookup_key(&mut self, key: KeyEvent, lang: Lang, waiting: bool) -> Action {
        let Some(form) = &mut self.lookup else {
            return Action::None;
        };
        if keys::is_back(&key) {
            return Action::Back;
        }
        if form.handle_key(key) != FormEvent::Submit || waiting {
            return Action::None;
        }
        let number = validate::half_width(form.value(REPORT_NO).trim()).to_uppercase();
        if let Err(e) = validate::display_text(REPORT_NO, &number, 40) {
            form.show_local_errors(&[e], lang);
            return Action::None;
        }
        Action::Send(Call::GetIssuedReport(number))
    }

    /// The records in report order.
    fn records(&self) -> Vec<&pb::ReportRecord> {
        self.report()
            .map(|r| r.sections.iter().flat_map(|s| &s.records).collect())
            .unwrap_or_default()
    }

    fn record_mut(&mut self, id: &str) -> Option<&mut pb::ReportRecord> {
        self.response
            .as_mut()?
            .report
            .as_mut()?
            .sections
            .iter_mut()
            .flat_map(|s| &mut s.records)
            .find(|r| r.id == id)
    }

    fn chosen(&self) -> Option<&pb::ReportRecord> {
        self.cursor.and_then(|i| self.records().get(i).copied())
    }

    /// Moves the cursor and scrolls so that its record is in view.
    fn move_cursor(&mut self, cat: &Catalogue, to: usize) {
        let utc = chrono::FixedOffset::east_opt(0).expect("zero is a valid offset");
        let Some(r) = self.report() else { return };
        let (_, lines) = print::body_with_records(r, cat, utc);
        let Some(&line) = lines.get(to) else { return };
        self.cursor = Some(to);
        let page = self.page.get().max(1);
        if line < self.scroll || line >= self.scroll + page {
            self.scroll = line.saturating_sub(page / 3);
        }
    }

    fn on_draft_key(&mut self, key: KeyEvent, lang: Lang, waiting: bool) -> Action {
        let Some(draft) = &mut self.explain else {
            return Action::None;
        };
        match keys::find(DRAFT_KEYS, &key, |_| true) {
            Some(DraftCmd::Cancel) => self.explain = None,
            Some(DraftCmd::Submit) => {
                let text = draft.text.lines().join("\n").trim().to_string();
                if let Err(e) = validate::statement("text", &text) {
                    return Action::Refuse(e.message(lang));
                }
                let Basis::SelfBasis(b) = &self.basis else {
                    return Action::None;
                };
                if waiting {
                    return Action::None;
                }
                let request_id = draft
                    .request_id
                    .get_or_insert_with(|| uuid::Uuid::now_v7().to_string())
                    .clone();
                let (record_id, verification_id) =
                    (draft.record_id.clone(), b.verification_id.clone());
                return Action::Send(if draft.statement {
                    Call::AddStatement(pb::AddStatementRequest {
                        request_id,
                        record_id,
                        verification_id,
                        text,
                    })
                } else {
                    Call::AddExplanation(pb::AddExplanationRequest {
                        request_id,
                        record_id,
                        verification_id,
                        text,
                    })
                });
            }
            None => {
                if crate::form::edit_area(&mut draft.text, key) {
                    draft.request_id = None;
                }
            }
        }
        Action::None
    }

    fn on_record_key(&mut self, key: KeyEvent, cat: &Catalogue) -> Action {
        let n = self.records().len();
        let at = self.cursor.unwrap_or(0);
        let Some(cmd) = keys::find(RECORD_KEYS, &key, |_| true) else {
            return Action::None;
        };
        match cmd {
            RecordCmd::Done => self.cursor = None,
            RecordCmd::Down => self.move_cursor(cat, (at + 1).min(n - 1)),
            RecordCmd::Up => self.move_cursor(cat, at.saturating_sub(1)),
            RecordCmd::Mark => {
                if !self.marked.remove(&at) {
                    self.marked.insert(at);
                }
            }
            c @ (RecordCmd::Object | RecordCmd::Explain | RecordCmd::Statement) => {
                let Some(rec) = self.chosen() else {
                    return Action::None;
                };
                let Basis::SelfBasis(b) = &self.basis else {
                    return Action::Refuse(cat.explain_self_only.to_string());
                };
                match c {
                    RecordCmd::Object => {
                        // The marked records, or the chosen one.
                        let records = self.records();
                        let picked: Vec<(String, String)> = if self.marked.is_empty() {
                            vec![(rec.id.clone(), record_label(rec))]
                        } else {
                            self.marked
                                .iter()
                                .filter_map(|&i| records.get(i))
                                .map(|r| (r.id.clone(), record_label(r)))
                                .collect()
                        };
                        return Action::Open(super::Target::Objection {
                            verification_id: b.verification_id.clone(),
                            records: picked,
                        });
                    }
                    RecordCmd::Explain if !rec.negative => {
                        return Action::Refuse(cat.explain_negative_only.to_string());
                    }
                    RecordCmd::Statement if rec.annotation.is_empty() => {
                        return Action::Refuse(cat.statement_unconfirmed_only.to_string());
                    }
                    _ => {}
                }
                self.explain = Some(Draft {
                    statement: c == RecordCmd::Statement,
                    record_id: rec.id.clone(),
                    text: TextArea::default(),
                    request_id: None,
                });
            }
        }
        Action::None
    }

    /// Whether a report key does something now.
    fn offers(&self, cmd: Cmd) -> bool {
        match cmd {
            Cmd::Choose => !self.reprint && !self.records().is_empty(),
            Cmd::Find => self.report().is_some(),
            Cmd::FindNext => !self.needle.is_empty(),
            Cmd::ConfirmFee => self.response.as_ref().is_some_and(|r| {
                !r.allowed
                    && r.refusal_code
                        == credit_desk_proto::errors::refusal::FEE_CONFIRMATION_REQUIRED
            }),
            _ => true,
        }
    }

    /// The key line of the mode the screen is in, `width` columns at most.
    pub fn hint_line(&self, cat: &Catalogue, width: usize) -> String {
        if let Some(form) = self.find.as_ref().or(self.lookup.as_ref()) {
            form.footer(cat, width)
        } else if self.explain.is_some() {
            keys::footer(DRAFT_KEYS, cat, |_| true, width)
        } else if self.cursor.is_some() {
            keys::footer(RECORD_KEYS, cat, |_| true, width)
        } else {
            keys::footer(KEYS, cat, |c| self.offers(c), width)
        }
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

    pub fn on_key(&mut self, key: KeyEvent, cat: &Catalogue, lang: Lang, waiting: bool) -> Action {
        if self.lookup.is_some() {
            return self.on_lookup_key(key, lang, waiting);
        }
        if let Some(form) = &mut self.find {
            match keys::is_back(&key) {
                true => self.find = None,
                false => {
                    if form.handle_key(key) == FormEvent::Submit {
                        self.needle = form.value(FIND);
                        self.find = None;
                        return self.jump_to_needle(cat);
                    }
                }
            }
            return Action::None;
        }
        if self.explain.is_some() {
            return self.on_draft_key(key, lang, waiting);
        }
        if self.cursor.is_some() {
            return self.on_record_key(key, cat);
        }
        let Some(cmd) = keys::find(KEYS, &key, |c| self.offers(c)) else {
            return Action::None;
        };
        match cmd {
            Cmd::Back => Action::Back,
            Cmd::ConfirmFee if waiting => Action::None,
            Cmd::ConfirmFee => {
                // A new attempt, not a retry of the refused one: that one is
                // on record as refused under its own request id.
                self.request_id = uuid::Uuid::now_v7().to_string();
                Action::Send(self.request(true))
            }
            Cmd::LineDown => {
                self.scroll += 1;
                Action::None
            }
            Cmd::LineUp => {
                self.scroll = self.scroll.saturating_sub(1);
                Action::None
            }
            Cmd::PageDown => {
                self.scroll += 15;
                Action::None
            }
            Cmd::PageUp => {
                self.scroll = self.scroll.saturating_sub(15);
                Action::None
            }
            Cmd::Top => {
                self.scroll = 0;
                Action::None
            }
            Cmd::NextSection | Cmd::PreviousSection => {
                let starts = Self::section_starts(&self.structure(cat));
                self.scroll = if cmd == Cmd::NextSection {
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
            Cmd::Choose => {
                // Start at the first record in view.
                let utc = chrono::FixedOffset::east_opt(0).expect("zero is a valid offset");
                let first = self
                    .report()
                    .map(|r| print::body_with_records(r, cat, utc).1)
                    .and_then(|lines| lines.iter().position(|&l| l >= self.scroll))
                    .unwrap_or(0);
                self.move_cursor(cat, first);
                Action::None
            }
            Cmd::Find => {
                self.find = Some(
                    Form::new(vec![
                        Field::text(FIND, cat.report_search).with_value(&self.needle),
                    ])
                    .submitting(|c| c.key_find),
                );
                Action::None
            }
            Cmd::FindNext => self.jump_to_needle(cat),
            Cmd::Print => match self.report() {
                Some(r) => Action::Send(Call::SaveText {
                    path: format!("{}.txt", r.report_no).into(),
                    text: print::document(
                        r,
                        cat,
                        credit_desk_proto::now::local().fixed_offset().timezone(),
                    ),
                }),
                None => Action::None,
            },
        }
    }

    /// Scrolls to the next line after the current one containing the
    /// needle, and says which match of how many it is, or that there is none.
    fn jump_to_needle(&mut self, cat: &Catalogue) -> Action {
        if self.needle.is_empty() {
            return Action::None;
        }
        let lines = self.structure(cat);
        let hits: Vec<usize> = (0..lines.len())
            .filter(|&i| lines[i].contains(&self.needle))
            .collect();
        let next = hits
            .iter()
            .position(|&i| i > self.scroll)
            .or((!hits.is_empty()).then_some(0));
        match next {
            Some(k) => {
                self.scroll = hits[k];
                Action::Info(cat.found_match(k + 1, hits.len(), &self.needle))
            }
            None => Action::Refuse(format!("{} “{}”", cat.found_none, self.needle)),
        }
    }

    pub fn on_answer(&mut self, answer: Answer, cat: &Catalogue) -> Action {
        match answer {
            Answer::Queried(resp) => {
                self.response = Some(resp);
                self.scroll = 0;
                Action::None
            }
            Answer::IssuedReport(report) => {
                self.lookup = None;
                self.response = Some(pb::RunQueryResponse {
                    allowed: true,
                    report: Some(*report),
                    ..Default::default()
                });
                self.scroll = 0;
                Action::None
            }
            Answer::ExplanationAdded {
                record_id,
                explanation,
            } => {
                self.explain = None;
                if let Some(rec) = self.record_mut(&record_id) {
                    rec.explanations.push(explanation);
                }
                Action::Info(cat.explanation_added.to_string())
            }
            Answer::StatementAdded {
                record_id,
                statement,
            } => {
                self.explain = None;
                if let Some(rec) = self.record_mut(&record_id) {
                    rec.statements.push(statement);
                }
                Action::Info(cat.statement_added.to_string())
            }
            Answer::Saved(path) => Action::Info(format!("{} {}", cat.saved_to, path.display())),
            _ => Action::None,
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, app: &App) {
        let (cat, theme) = (app.cat, app.theme);
        let find_height = u16::from(self.find.is_some());
        let draft_height = if self.explain.is_some() { 6 } else { 0 };
        let [body, draft_area, find, hint] = Layout::vertical([
            Constraint::Min(1),
            Constraint::Length(draft_height),
            Constraint::Length(find_height),
            Constraint::Length(1),
        ])
        .areas(area);
        self.page.set(body.height as usize);
        if let Some(form) = &self.lookup {
            let [_, form_area] =
                Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(body);
            form.render(form_area, frame.buffer_mut(), theme, !app.help);
        }
        match &self.response {
            None if self.lookup.is_some() => {}
            None => frame.render_widget(Paragraph::new(cat.loading), body),
            Some(r) if !r.allowed => {
                let text = if r.refusal_code
                    == credit_desk_proto::errors::refusal::FEE_CONFIRMATION_REQUIRED
                {
                    cat.fee_confirm(&crate::print::yuan(r.fee_cents))
                } else {
                    format!("✗ {}", r.refusal_message)
                };
                frame.render_widget(
                    Paragraph::new(Line::styled(text, theme.warning()))
                        .wrap(ratatui::widgets::Wrap { trim: false }),
                    body,
                );
            }
            Some(r) => {
                let (all, record_lines) = match &r.report {
                    Some(report) => print::body_with_records(report, cat, app.utc_offset),
                    None => Default::default(),
                };
                let chosen_line = self.cursor.and_then(|i| record_lines.get(i).copied());
                let marked_lines: Vec<usize> = self
                    .marked
                    .iter()
                    .filter_map(|&i| record_lines.get(i).copied())
                    .collect();
                let lines: Vec<Line> = all
                    .into_iter()
                    .enumerate()
                    .skip(self.scroll)
                    .take(body.height as usize)
                    .map(|(i, l)| {
                        let mark = if marked_lines.contains(&i) {
                            "✓"
                        } else {
                            " "
                        };
                        if Some(i) == chosen_line {
                            Line::from(Span::styled(
                                format!("▶{mark}{}", &l[2..]),
                                theme.selected(),
                            ))
                        } else if marked_lines.contains(&i) {
                            Line::from(Span::styled(format!(" ✓{}", &l[2..]), theme.warning()))
                        } else if !self.needle.is_empty() && l.contains(&self.needle) {
                            highlighted(&l, &self.needle, theme)
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
        if let Some(draft) = &self.explain {
            let mut text = draft.text.clone();
            text.set_block(Block::default().borders(Borders::TOP).title(Line::styled(
                if draft.statement {
                    cat.statement_title
                } else {
                    cat.explain_title
                },
                theme.focused_label(),
            )));
            text.set_cursor_style(theme.selected());
            frame.render_widget(&text, draft_area);
        }
        if let Some(form) = &self.find {
            form.render(find, frame.buffer_mut(), theme, !app.help);
        }
        let hint_text = self.hint_line(cat, usize::from(hint.width));
        frame.render_widget(Paragraph::new(Line::styled(hint_text, theme.dim())), hint);
    }
}

/// A line with every occurrence of `needle` marked (the rest plain).
fn highlighted(line: &str, needle: &str, theme: crate::theme::Theme) -> Line<'static> {
    let mut spans = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find(needle) {
        spans.push(Span::raw(rest[..at].to_string()));
        spans.push(Span::styled(needle.to_string(), theme.selected()));
        rest = &rest[at + needle.len()..];
    }
    spans.push(Span::raw(rest.to_string()));
    Line::from(spans)
}
