//! The supervisor's monthly security statistics (征信信息安全情况统计表):
//! a finished month (last month by default) with every figure, scrolled
//! with ↑↓; sign-off (`s`, once no alert of the month is open) asks for
//! the incidents found outside the system; `p` prints the fixed-width
//! paper copy carrying the audit chain's head, `x` saves the .xlsx.

use credit_desk_proto::Lang;
use credit_desk_proto::pb;
use credit_desk_proto::validate::{self, FieldError, Rule};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph};
use tonic::Status;
use unicode_width::UnicodeWidthStr;

use crate::app::{Action, App};
use crate::bind;
use crate::form::{Field, Form, FormEvent};
use crate::i18n::Catalogue;
use crate::keys::{self, Binding, Key::Code, Key::Letter};
use crate::net::{Answer, Call};
use crate::print;

const MONTH: &str = "month";
const UNLAWFUL: &str = "unlawful_provision";
const MISUSE: &str = "misuse";
const LEAKS: &str = "leaks";
const NOTE: &str = "note";
/// Each figure entered at sign-off, at most (the server's bound).
const REPORTED_MAX: u32 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Up,
    Down,
    SignOff,
    Print,
    Export,
    Back,
}

const KEYS: &[Binding<Cmd>] = &[
    bind!("↑↓", [Code(KeyCode::Up)], key_scroll, Cmd::Up),
    bind!("↑↓", [Code(KeyCode::Down)], key_scroll, Cmd::Down),
    bind!("s", [Letter('s')], key_sign_off, Cmd::SignOff),
    bind!("p", [Letter('p')], key_print, Cmd::Print),
    bind!("x", [Letter('x')], key_export, Cmd::Export),
    bind!("Esc", [Code(KeyCode::Esc)], key_back, Cmd::Back),
];

pub struct MonthReportScreen {
    /// The month asked for.
    pub form: Form,
    pub report: Option<pb::MonthReport>,
    /// The first line of the figures shown.
    pub scroll: usize,
    /// The sign-off form, while it is open.
    pub signing: Option<Form>,
}

impl MonthReportScreen {
    pub fn new(cat: &Catalogue, today: chrono::NaiveDate) -> MonthReportScreen {
        let last_month = today
            .checked_sub_months(chrono::Months::new(1))
            .unwrap_or(today);
        MonthReportScreen {
            form: Form::new(vec![
                Field::text(MONTH, cat.month_month)
                    .with_value(&last_month.format("%Y-%m").to_string()),
            ])
            .submitting(|c| c.key_open),
            report: None,
            scroll: 0,
            signing: None,
        }
    }

    pub fn is_typing(&self) -> bool {
        self.report.is_none() || self.signing.is_some()
    }

    fn offers(&self, cmd: Cmd) -> bool {
        match (cmd, &self.report) {
            (Cmd::SignOff, Some(r)) => r.signed_at_ms == 0 && r.open_alerts == 0,
            _ => true,
        }
    }

    pub fn on_key(&mut self, key: KeyEvent, cat: &Catalogue, lang: Lang, waiting: bool) -> Action {
        if let Some(form) = &mut self.signing {
            if key.code == KeyCode::Esc {
                self.signing = None;
                return Action::None;
            }
            if form.handle_key(key) != FormEvent::Submit || waiting {
                return Action::None;
            }
            let month = self.report.as_ref().map(|r| r.month.clone());
            return match (sign_off_request(form), month) {
                (Ok(req), Some(month)) => {
                    Action::Send(Call::SignOffMonth(pb::SignOffMonthRequest { month, ..req }))
                }
                (Err(errors), _) => {
                    form.show_local_errors(&errors, lang);
                    Action::None
                }
                (_, None) => Action::None,
            };
        }
        let Some(report) = &self.report else {
            if keys::is_back(&key) {
                return Action::Back;
            }
            if self.form.handle_key(key) != FormEvent::Submit || waiting {
                return Action::None;
            }
            let month = self.form.raw(MONTH);
            if let Err(e) = validate::month(MONTH, &month) {
                self.form.show_local_errors(&[e], lang);
                return Action::None;
            }
            return Action::Send(Call::GetMonthReport(month.trim().to_string()));
        };
        match keys::find(KEYS, &key, |c| self.offers(c)) {
            Some(Cmd::Up) => self.scroll = self.scroll.saturating_sub(1),
            Some(Cmd::Down) => {
                self.scroll = (self.scroll + 1).min(figures(report).len().saturating_sub(1))
            }
            Some(Cmd::SignOff) => {
                self.signing = Some(
                    Form::new(vec![
                        Field::text(UNLAWFUL, cat.month_unlawful).with_value("0"),
                        Field::text(MISUSE, cat.month_misuse).with_value("0"),
                        Field::text(LEAKS, cat.month_leaks).with_value("0"),
                        Field::text(NOTE, cat.month_note),
                    ])
                    .submitting(|c| c.key_sign_off),
                );
            }
            Some(Cmd::Print) => {
                return Action::Send(Call::SaveText {
                    path: format!("security-statistics-{}.txt", report.month).into(),
                    text: paper(report, cat),
                });
            }
            Some(Cmd::Export) if !waiting => {
                return Action::Send(Call::ExportMonthReport(report.month.clone()));
            }
            Some(Cmd::Back) => self.report = None,
            _ => {}
        }
        Action::None
    }

    pub fn on_answer(&mut self, answer: Answer, cat: &Catalogue) -> Action {
        match answer {
            Answer::MonthReport(report) => {
                if self.report.as_ref().is_none_or(|r| r.month != report.month) {
                    self.scroll = 0;
                }
                self.signing = None;
                self.report = Some(report);
                Action::None
            }
            Answer::Saved(path) => Action::Info(format!("{} {}", cat.saved_to, path.display())),
            _ => Action::None,
        }
    }

    pub fn on_error(&mut self, status: &Status) -> bool {
        match (&mut self.signing, &self.report) {
            (Some(form), _) => form.apply_status(status),
            (None, None) => self.form.apply_status(status),
            (None, Some(_)) => false,
        }
    }

    pub fn hint(&self, cat: &Catalogue, width: usize) -> String {
        match (&self.signing, &self.report) {
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
        let Some(report) = &self.report else {
            let [_, form] =
                Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(body);
            self.form.render(form, frame.buffer_mut(), theme, !app.help);
            return;
        };
        let [head, figures_area] =
            Layout::vertical([Constraint::Length(2), Constraint::Min(3)]).areas(body);
        frame.render_widget(Paragraph::new(header(report, cat, app)), head);
        if let Some(form) = &self.signing {
            let block = Block::default()
                .borders(Borders::TOP)
                .title(cat.month_sign_title);
            let inner = block.inner(figures_area);
            frame.render_widget(block, figures_area);
            form.render(inner, frame.buffer_mut(), theme, !app.help);
            return;
        }
        let width = usize::from(figures_area.width);
        let lines: Vec<Line> = figures(report)
            .iter()
            .skip(self.scroll)
            .map(|figure| match figure {
                Figure::Title(title) => Line::styled(print::fit(title, width), theme.title()),
                Figure::Row(row) => Line::from(figure_line(row)),
            })
            .collect();
        let total = figures(report).len();
        let shown = usize::from(figures_area.height.saturating_sub(1));
        let position = format!(
            "{}–{}/{total}",
            self.scroll + 1,
            (self.scroll + shown).min(total)
        );
        frame.render_widget(
            Paragraph::new(lines).block(Block::default().borders(Borders::TOP).title(position)),
            figures_area,
        );
    }
}

/// The sign-off as the form holds it, or what is wrong with it.
fn sign_off_request(form: &Form) -> Result<pb::SignOffMonthRequest, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut count = |field| {
        validate::count(field, &form.raw(field), REPORTED_MAX).unwrap_or_else(|e| {
            errors.push(e);
            0
        })
    };
    let req = pb::SignOffMonthRequest {
        month: String::new(),
        unlawful_provision: count(UNLAWFUL),
        misuse: count(MISUSE),
        leaks: count(LEAKS),
        note: form.value(NOTE),
    };
    if [req.unlawful_provision, req.misuse, req.leaks]
        .iter()
        .any(|n| *n > 0)
        && req.note.is_empty()
    {
        errors.push(FieldError::new(NOTE, Rule::Required));
    }
    match errors.is_empty() {
        true => Ok(req),
        false => Err(errors),
    }
}

/// One line of the figures: a section's title, or a figure in it.
enum Figure<'a> {
    Title(&'a str),
    Row(&'a pb::MonthRow),
}

fn figures(r: &pb::MonthReport) -> Vec<Figure<'_>> {
    let mut out = Vec::new();
    for s in &r.sections {
        out.push(Figure::Title(&s.title));
        out.extend(s.rows.iter().map(Figure::Row));
    }
    out
}

/// Columns of a figure's line: its label, then its value right-aligned
/// (the eye follows a short line from label to value; 60 columns fit every
/// label in either language).
const LABEL_COLUMNS: usize = 50;
const VALUE_COLUMNS: usize = 10;

/// "  label                value".
fn figure_line(row: &pb::MonthRow) -> String {
    format!(
        "{}{:>VALUE_COLUMNS$}",
        print::fit(&format!("  {}", row.label), LABEL_COLUMNS),
        row.value
    )
}

/// Month, reporter and due date; who signed it off, with the chain head.
fn header(r: &pb::MonthReport, cat: &Catalogue, app: &App) -> Vec<Line<'static>> {
    let first = format!(
        "{} {} · {} {} · {} {}",
        cat.month_month, r.month, cat.month_reporter, r.reporter, cat.month_due, r.due
    );
    let hash: String = r.chain_hash.chars().take(16).collect();
    let second = match (r.signed_at_ms, r.open_alerts) {
        (0, 0) => format!(
            "{} · {} #{} {hash}…",
            cat.review_unsigned, cat.review_chain, r.chain_seq
        ),
        (0, open) => format!("{} · {open} {}", cat.review_unsigned, cat.month_open_alerts),
        (at, _) => format!(
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

/// The report as printed (fixed width, paginated), to be signed on paper
/// and kept: every figure, the note, and the audit chain's head.
fn paper(r: &pb::MonthReport, cat: &Catalogue) -> String {
    let width = print::WIDTH;
    let title = cat.month_title;
    let pad = width.saturating_sub(title.width()) / 2;
    let mut lines = vec![
        format!("{}{title}", " ".repeat(pad)),
        String::new(),
        format!("{} {}", cat.month_reporter, r.reporter),
        format!(
            "{} {}    {} {}",
            cat.month_month, r.month, cat.month_due, r.due
        ),
    ];
    for figure in figures(r) {
        match figure {
            Figure::Title(title) => lines.extend([String::new(), title.to_string()]),
            Figure::Row(row) => lines.push(figure_line(row)),
        }
    }
    lines.push(String::new());
    if !r.note.is_empty() {
        lines.push(format!("{}:", cat.month_note));
        lines.extend(
            print::wrap(&r.note, width - 2)
                .into_iter()
                .map(|l| format!("  {l}")),
        );
    }
    lines.push(format!("{} #{}", cat.review_chain, r.chain_seq));
    lines.push(format!("  {}", r.chain_hash));
    lines.push(match r.signed_at_ms {
        0 => cat.review_unsigned.to_string(),
        _ => format!("{} {}", cat.review_signed, r.signed_by),
    });
    lines.push(String::new());
    lines.push(cat.review_signature.to_string());
    print::paginate(&lines, cat, &r.month, &r.signed_by)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> pb::MonthReport {
        pb::MonthReport {
            month: "2026-11".into(),
            reporter: "县综合征信中心".into(),
            due: "2026-12-05".into(),
            sections: vec![pb::MonthSection {
                code: "incidents".into(),
                title: "一、信息安全事件".into(),
                rows: vec![
                    pb::MonthRow {
                        code: "abnormal_queries".into(),
                        label: "异常查询".into(),
                        value: 2,
                    },
                    pb::MonthRow {
                        code: "leaks".into(),
                        label: "信息泄露（含信用报告泄露）".into(),
                        value: 0,
                    },
                ],
            }],
            note: "柜台遗留一份报告，已收回销毁".into(),
            signed_at_ms: 1,
            signed_by: "吴主管".into(),
            chain_seq: 42,
            chain_hash: "ab".repeat(32),
            ..Default::default()
        }
    }

    #[test]
    fn the_paper_copy_keeps_every_figure_at_eighty_columns() {
        let cat = crate::i18n::catalogue(Lang::Zh);
        let text = paper(&report(), cat);
        for line in text.lines() {
            assert!(line.width() <= print::WIDTH, "{line:?}");
        }
        assert!(text.contains("征信信息安全情况统计表"));
        let zero = text
            .lines()
            .find(|l| l.contains("信息泄露"))
            .expect("the zero figure is printed");
        assert!(
            zero.ends_with(" 0") && zero.width() == LABEL_COLUMNS + VALUE_COLUMNS,
            "{zero:?}"
        );
        assert!(text.contains(&"ab".repeat(32)), "the whole chain head");
        assert!(text.contains("已签核 吴主管"));
        assert!(text.contains("柜台遗留一份报告"));
    }

    #[test]
    fn sign_off_figures_are_checked_before_sending() {
        let cat = crate::i18n::catalogue(Lang::Zh);
        let mut screen = MonthReportScreen::new(cat, chrono::NaiveDate::MIN);
        screen.report = Some(pb::MonthReport::default());
        screen.on_key(KeyEvent::from(KeyCode::Char('s')), cat, Lang::Zh, false);
        let form = screen.signing.as_mut().expect("sign-off form");
        form.set_text(LEAKS, "1");
        form.set_text(MISUSE, "x");
        let errors = sign_off_request(form).unwrap_err();
        let fields: Vec<(&str, Rule)> = errors.into_iter().map(|e| (e.field, e.rule)).collect();
        assert_eq!(
            fields,
            [(MISUSE, Rule::NotAWholeNumber), (NOTE, Rule::Required)]
        );
        form.set_text(MISUSE, "");
        form.set_text(NOTE, "已处理");
        let req = sign_off_request(form).unwrap();
        assert_eq!((req.misuse, req.leaks, req.note.as_str()), (0, 1, "已处理"));
    }
}
