//! Department data files from the workstation: choose the department (a
//! liaison has only their own) and a file on this machine; the upload shows
//! a progress gauge, then the counts and the rejected rows.

use credit_desk_proto::Lang;
use credit_desk_proto::pb;
use credit_desk_proto::periods;
use credit_desk_proto::validate::{FieldError, Rule, field};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Gauge, Paragraph};
use tonic::Status;

use crate::app::{Action, App};
use crate::bind;
use crate::form::{Field, Form, FormEvent};
use crate::i18n::Catalogue;
use crate::keys::{self, Binding, Key::Code};
use crate::net::{Answer, Call};

const DRY_RUN: &str = "dry_run";
const PERIOD: &str = "period";
const DRY_RUN_STATUS: &str = credit_desk_proto::words::import_status::DRY_RUN;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Accept,
    PageDown,
    PageUp,
    Back,
}

/// Keys besides the form's (a function key: letters go into the form):
/// the first held-back row's content can be taken after all, and the
/// lists scroll by pages.
const KEYS: &[Binding<Cmd>] = &[
    bind!(
        "F6",
        [Code(KeyCode::F(6))],
        key_accept_file_value,
        Cmd::Accept
    ),
    bind!("PgDn", [Code(KeyCode::PageDown)], key_scroll, Cmd::PageDown),
    bind!("PgUp", [Code(KeyCode::PageUp)], key_scroll, Cmd::PageUp),
    bind!("Esc", [Code(KeyCode::Esc)], key_back, Cmd::Back),
];

#[derive(Default)]
pub struct IntakeScreen {
    /// The workstation's day: the delivery periods it may name.
    today: chrono::NaiveDate,
    /// A dry run sent only to learn the period the file's dates propose;
    /// its answer fills the period field for the clerk to check.
    proposing: bool,
    pub form: Option<Form>,
    departments: Vec<pb::OrgUnit>,
    pub imports: Vec<pb::ImportRecord>,
    pub progress: Option<(u32, u32)>,
    pub summary: Option<pb::ImportSummary>,
    /// First rejected row shown (PgUp/PgDn scroll the list).
    scroll: usize,
    /// The held-back row waiting for y (take the file's content) or n.
    confirming: Option<u32>,
    /// The held-back row whose acceptance was sent.
    accepting: Option<u32>,
    /// Earlier imports' rows still held back for a person's decision.
    pub pending: Vec<pb::ImportRecord>,
}

impl IntakeScreen {
    pub fn new(today: chrono::NaiveDate) -> IntakeScreen {
        IntakeScreen {
            today,
            ..IntakeScreen::default()
        }
    }

    pub fn is_typing(&self) -> bool {
        self.form.is_some()
    }

    fn offers(&self, cmd: Cmd) -> bool {
        match cmd {
            Cmd::Accept => self.held().is_some(),
            Cmd::PageDown | Cmd::PageUp => match &self.summary {
                Some(s) => !s.errors.is_empty() || !s.conflicts.is_empty(),
                None => !self.pending.is_empty(),
            },
            Cmd::Back => true,
        }
    }

    pub fn hint(&self, cat: &Catalogue, width: usize) -> String {
        let form = self.form.iter().flat_map(|f| f.key_entries(cat));
        keys::fit(
            form.chain(keys::entries(KEYS, cat, |c| self.offers(c))),
            width,
        )
    }

    pub fn on_key(&mut self, key: KeyEvent, lang: Lang, waiting: bool) -> Action {
        if let Some(row) = self.confirming.take() {
            return match key.code {
                KeyCode::Char('y' | 'Y') if !waiting => self.accept(row),
                _ => Action::None,
            };
        }
        match keys::find(KEYS, &key, |c| self.offers(c)) {
            Some(Cmd::Accept) => {
                self.confirming = self.held().and_then(|s| s.conflicts.first()).map(|c| c.row);
                return Action::None;
            }
            Some(Cmd::Back) => return Action::Back,
            Some(Cmd::PageDown) => {
                self.scroll += 5;
                return Action::None;
            }
            Some(Cmd::PageUp) => {
                self.scroll = self.scroll.saturating_sub(5);
                return Action::None;
            }
            None => {}
        }
        let Some(form) = &mut self.form else {
            return Action::None;
        };
        if form.handle_key(key) != FormEvent::Submit || waiting {
            return Action::None;
        }
        let path = form.value(field::FILE);
        let department = self
            .departments
            .get(form.choice(field::DEPARTMENT_ID) as usize)
            .map(|d| d.id.clone());
        let mut errors = Vec::new();
        if path.is_empty() {
            errors.push(FieldError::new(field::FILE, Rule::Required));
        }
        if department.is_none() {
            errors.push(FieldError::new(field::DEPARTMENT_ID, Rule::Required));
        }
        let period = match form.value(PERIOD).as_str() {
            "" => None,
            text => periods::check(PERIOD, text, self.today)
                .map_err(|e| errors.push(e))
                .ok(),
        };
        if form.show_local_errors(&errors, lang) {
            return Action::None;
        }
        let dry_run = form.choice(DRY_RUN) == 1;
        // A real import names its period: without one, a dry run first
        // proposes it from the file's dates, for the clerk to check.
        self.proposing = period.is_none() && !dry_run;
        self.summary = None;
        self.progress = Some((0, 0));
        self.scroll = 0;
        Action::Send(Call::ImportFile {
            request_id: if self.proposing {
                uuid::Uuid::now_v7().to_string()
            } else {
                form.request_id()
            },
            department_id: department.unwrap_or_default(),
            path: path.into(),
            dry_run: dry_run || self.proposing,
            period: period.map(|p| p.to_string()).unwrap_or_default(),
        })
    }

    /// The import whose held-back rows F6 works through: the one just
    /// run, or else the newest earlier one with rows waiting.
    fn held(&self) -> Option<&pb::ImportSummary> {
        match &self.summary {
            // A dry run's rows are shown, not taken: nothing was imported.
            Some(s) => Some(s).filter(|s| !s.conflicts.is_empty() && s.status != DRY_RUN_STATUS),
            None => self.pending.first().and_then(|p| p.summary.as_ref()),
        }
    }

    fn held_mut(&mut self) -> Option<&mut pb::ImportSummary> {
        match &mut self.summary {
            Some(s) => Some(s),
            None => self.pending.first_mut().and_then(|p| p.summary.as_mut()),
        }
    }

    fn accept(&mut self, row: u32) -> Action {
        let Some(summary) = self.held() else {
            return Action::None;
        };
        let import_id = summary.import_id.clone();
        self.accepting = Some(row);
        Action::Send(Call::AcceptConflict(pb::AcceptConflictRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            import_id,
            row,
        }))
    }

    /// The question on screen while a held-back row waits for y.
    pub fn question(&self, cat: &Catalogue) -> Option<String> {
        let row = self.confirming?;
        let c = self.held()?.conflicts.iter().find(|c| c.row == row)?;
        Some(cat.accept_file_value(c))
    }

    pub fn on_progress(&mut self, done: u32, total: u32) {
        self.progress = Some((done, total));
    }

    pub fn on_answer(&mut self, answer: Answer, cat: &Catalogue) -> Action {
        match answer {
            Answer::Imports(list) => {
                self.imports = list.imports;
                self.pending = list.pending;
                self.departments = list.departments;
                let choices = self
                    .departments
                    .iter()
                    .enumerate()
                    .map(|(i, d)| (i as i32, format!("{} [{}]", d.name, d.code)))
                    .collect();
                self.form = Some(
                    Form::new(vec![
                        Field::choice(field::DEPARTMENT_ID, cat.department, choices),
                        Field::text(field::FILE, cat.file_path),
                        Field::text(PERIOD, cat.period),
                        Field::choice(
                            DRY_RUN,
                            cat.dry_run,
                            vec![(0, cat.dry_run_no.into()), (1, cat.dry_run_yes.into())],
                        ),
                    ])
                    .submitting(|c| c.key_upload),
                );
                if let Some(form) = &mut self.form {
                    form.set_note(PERIOD, Some(cat.period_note(self.today)));
                }
                Action::None
            }
            Answer::ConflictAccepted(done) => {
                let row = self.accepting.take();
                if let (Some(row), Some(s)) = (row, self.held_mut()) {
                    s.conflicts.retain(|c| c.row != row);
                    s.records_conflicting = s.records_conflicting.saturating_sub(1);
                    self.pending
                        .retain(|p| p.summary.as_ref().is_some_and(|s| !s.conflicts.is_empty()));
                    return Action::Info(cat.file_value_accepted(row, done.version));
                }
                Action::None
            }
            Answer::Imported(summary) => {
                self.progress = None;
                let proposed = std::mem::take(&mut self.proposing).then(|| summary.period.clone());
                self.summary = Some(summary);
                // The list refreshes with the next visit; the summary is here.
                match (proposed, &mut self.form) {
                    (Some(period), Some(form)) => {
                        form.set_text(PERIOD, &period);
                        form.focus_on(PERIOD);
                        Action::Info(cat.period_proposed(&period))
                    }
                    _ => Action::None,
                }
            }
            _ => Action::None,
        }
    }

    pub fn on_error(&mut self, status: &Status) -> bool {
        self.progress = None;
        self.proposing = false;
        match &mut self.form {
            Some(form) => form.apply_status(status),
            None => false,
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, app: &App) {
        let (cat, theme) = (app.cat, app.theme);
        let form_height = self.form.as_ref().map_or(1, |f| f.height() + 1);
        let [form_area, gauge_area, result_area, hint] = Layout::vertical([
            Constraint::Length(form_height),
            Constraint::Length(u16::from(self.progress.is_some())),
            Constraint::Min(3),
            Constraint::Length(1),
        ])
        .areas(area);
        match &self.form {
            Some(_) if self.departments.is_empty() => {
                frame.render_widget(Paragraph::new(cat.no_departments), form_area);
            }
            Some(form) => form.render(
                Rect {
                    y: form_area.y + 1,
                    height: form_area.height.saturating_sub(1),
                    ..form_area
                },
                frame.buffer_mut(),
                theme,
                !app.help,
            ),
            None => frame.render_widget(Paragraph::new(cat.loading), form_area),
        }
        if let Some((done, total)) = self.progress {
            let ratio = if total == 0 {
                0.0
            } else {
                f64::from(done) / f64::from(total)
            };
            frame.render_widget(
                Gauge::default()
                    .ratio(ratio.clamp(0.0, 1.0))
                    .label(format!("{} {done}/{total}", cat.importing))
                    .gauge_style(theme.ok()),
                gauge_area,
            );
        }
        let mut lines = match &self.summary {
            Some(s) => summary_lines(s, cat, self.scroll),
            None => pending_lines(&self.pending, cat, self.scroll)
                .into_iter()
                .chain(recent_lines(&self.imports, cat))
                .collect(),
        };
        if let Some(question) = self.question(cat) {
            lines.insert(0, Line::styled(question, app.theme.warning()));
        }
        frame.render_widget(
            // A held-back row says which objection and both values: long
            // lines wrap rather than lose their end at 80 columns.
            Paragraph::new(lines)
                .block(Block::default().borders(Borders::TOP))
                .wrap(ratatui::widgets::Wrap { trim: false }),
            result_area,
        );
        frame.render_widget(
            Paragraph::new(Line::styled(
                self.hint(cat, usize::from(hint.width)),
                theme.dim(),
            )),
            hint,
        );
    }
}

pub fn counts_text(s: &pb::ImportSummary, cat: &Catalogue) -> String {
    cat.import_counts(s)
}

fn status_text<'a>(status: &'a str, cat: &Catalogue) -> &'a str {
    cat.import_statuses
        .iter()
        .find(|(code, _)| *code == status)
        .map_or(status, |(_, text)| text)
}

fn summary_lines(s: &pb::ImportSummary, cat: &Catalogue, scroll: usize) -> Vec<Line<'static>> {
    let status = format!(
        "{} — {} {}",
        status_text(&s.status, cat),
        counts_text(s, cat),
        cat.import_period(&s.period, s.period_proposed)
    );
    // Rows held back for an objection's decision first: they need a person.
    let mut items = Vec::new();
    if !s.conflicts.is_empty() {
        items.push(cat.import_conflicts(s.records_conflicting));
        items.extend(s.conflicts.iter().map(|c| cat.import_conflict(c)));
    }
    if !s.errors.is_empty() {
        items.push(cat.rejected_rows.to_string());
        items.extend(
            s.errors
                .iter()
                .map(|e| format!(" {:>5} {} {}", e.row, e.column, e.reason)),
        );
    }
    std::iter::once(status)
        .chain(items.into_iter().skip(scroll))
        .map(Line::from)
        .collect()
}

/// Earlier imports' rows still waiting for a person, before the recent list.
fn pending_lines(
    pending: &[pb::ImportRecord],
    cat: &Catalogue,
    scroll: usize,
) -> Vec<Line<'static>> {
    let mut items = Vec::new();
    for p in pending {
        let Some(s) = &p.summary else { continue };
        items.push(cat.import_pending(&p.department_name, &p.file_name, s.records_conflicting));
        items.extend(s.conflicts.iter().map(|c| cat.import_conflict(c)));
    }
    items.into_iter().skip(scroll).map(Line::from).collect()
}

fn recent_lines(imports: &[pb::ImportRecord], cat: &Catalogue) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(cat.recent_imports.to_string())];
    for i in imports {
        let status = i.summary.as_ref().map_or("", |s| s.status.as_str());
        lines.push(Line::from(format!(
            " {} {} {}",
            i.department_name,
            i.file_name,
            status_text(status, cat)
        )));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::ZH;
    use ratatui::crossterm::event::{KeyEventKind, KeyModifiers};

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new_with_kind(code, KeyModifiers::NONE, KeyEventKind::Press)
    }

    fn loaded() -> IntakeScreen {
        let mut s = IntakeScreen::default();
        s.on_answer(
            Answer::Imports(pb::ListImportsResponse {
                imports: vec![],
                departments: vec![pb::OrgUnit {
                    id: "d1".into(),
                    code: "D-TAX".into(),
                    name: "市税务局".into(),
                    ..Default::default()
                }],
                pending: vec![],
            }),
            &ZH,
        );
        s
    }

    #[test]
    fn upload_names_the_file_and_department() {
        let mut s = loaded();
        assert!(
            matches!(s.on_key(key(KeyCode::Enter), Lang::Zh, false), Action::None),
            "no file yet"
        );
        // The focus went to the file field, the one missing.
        for c in "/tmp/tax.csv".chars() {
            s.on_key(key(KeyCode::Char(c)), Lang::Zh, false);
        }
        s.on_key(key(KeyCode::Tab), Lang::Zh, false);
        s.on_key(key(KeyCode::Right), Lang::Zh, false);
        match s.on_key(key(KeyCode::Enter), Lang::Zh, false) {
            Action::Send(Call::ImportFile {
                department_id,
                path,
                dry_run,
                ..
            }) => {
                assert_eq!(department_id, "d1");
                assert_eq!(path, std::path::PathBuf::from("/tmp/tax.csv"));
                assert!(dry_run);
            }
            _ => panic!("expected an upload"),
        }
        s.on_progress(500, 1000);
        assert_eq!(s.progress, Some((500, 1000)));
    }

    #[test]
    fn counts_read_in_words() {
        let s = pb::ImportSummary {
            rows_total: 7,
            rows_accepted: 4,
            rows_rejected: 3,
            records_created: 4,
            ..Default::default()
        };
        assert_eq!(
            counts_text(&s, &ZH),
            "共 7 行：接受 4，拒绝 3；新增 4，更新 0，未变 0"
        );
    }
}
