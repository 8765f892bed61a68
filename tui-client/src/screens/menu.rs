//! The main menu: only the entries the operator's capabilities allow, each
//! with a number/letter key, plus the operator's identity.

use credit_desk_proto::pb::{Capability, Role};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::Target;
use crate::app::{Action, App};
use crate::form::pad_to;
use crate::i18n::{self, Catalogue};
use crate::keys::{self, Binding, Key::Code, Key::Letter};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Up,
    Down,
    Open,
}

/// Moving and opening; each entry's own letter (and its position's digit)
/// opens it directly.
const KEYS: &[Binding<Cmd>] = &[
    crate::bind!("↑↓", [Code(KeyCode::Up), Letter('k')], key_select, Cmd::Up),
    crate::bind!(
        "↑↓",
        [Code(KeyCode::Down), Letter('j'), Code(KeyCode::Tab)],
        key_select,
        Cmd::Down
    ),
    crate::bind!("Enter", [Code(KeyCode::Enter)], key_enter, Cmd::Open),
];

/// The menu's key line: its table, the entry letters, help.
pub fn hint(cat: &Catalogue, width: usize) -> String {
    let mut entries = keys::entries(KEYS, cat, |_| true);
    entries.push((cat.key_letters, cat.key_jump));
    entries.push(("F1", cat.key_help));
    keys::fit(entries, width)
}

pub struct Entry {
    pub key: char,
    pub label: &'static str,
    pub action: EntryAction,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryAction {
    Open(Target),
    Logout,
}

pub struct MenuScreen {
    pub entries: Vec<Entry>,
    pub selected: usize,
}

impl MenuScreen {
    pub fn new(capabilities: &[i32], cat: &Catalogue) -> MenuScreen {
        let has = |c: Capability| capabilities.contains(&(c as i32));
        let mut entries = Vec::new();
        let mut add = |key, label, action| entries.push(Entry { key, label, action });
        if has(Capability::VerifyIdentity) {
            add('v', cat.menu_verify, EntryAction::Open(Target::Verify));
        }
        if has(Capability::ViewSubjects) {
            add('s', cat.menu_registry, EntryAction::Open(Target::Registry));
        }
        if has(Capability::Query) {
            add(
                'r',
                cat.menu_consent_query,
                EntryAction::Open(Target::ConsentQuery),
            );
        }
        if has(Capability::ViewQueue) {
            add('t', cat.menu_queue, EntryAction::Open(Target::Queue));
        }
        if has(Capability::Query) || has(Capability::ReviewQueries) {
            add('b', cat.menu_reprint, EntryAction::Open(Target::Reprint));
        }
        if has(Capability::VerifyIdentity) || has(Capability::Query) {
            add('y', cat.menu_my_day, EntryAction::Open(Target::MyDay));
        }
        if has(Capability::ReviewQueries) {
            add('l', cat.menu_query_log, EntryAction::Open(Target::QueryLog));
        }
        if has(Capability::ReviewDays) {
            add(
                'd',
                cat.menu_day_review,
                EntryAction::Open(Target::DayReview),
            );
            add(
                'm',
                cat.menu_month_report,
                EntryAction::Open(Target::MonthReport),
            );
        }
        if has(Capability::FileObjections)
            || has(Capability::HandleComplaints)
            || has(Capability::ReviewQueries)
        {
            add(
                'c',
                cat.menu_complaints,
                EntryAction::Open(Target::Complaints),
            );
        }
        if has(Capability::ImportData) {
            add('i', cat.menu_import, EntryAction::Open(Target::Intake));
        }
        if has(Capability::ManageOrgUnits) {
            add('o', cat.menu_org_units, EntryAction::Open(Target::OrgUnits));
        }
        if has(Capability::ManageOperators) {
            add(
                'u',
                cat.menu_operators,
                EntryAction::Open(Target::Operators),
            );
        }
        if has(Capability::ManagePurposes) {
            add('g', cat.menu_purposes, EntryAction::Open(Target::Purposes));
        }
        if has(Capability::ManageCalendar) {
            add('h', cat.menu_calendar, EntryAction::Open(Target::Calendar));
        }
        if has(Capability::ManageSettings) {
            add('e', cat.menu_settings, EntryAction::Open(Target::Settings));
        }
        if has(Capability::ChangeOwnPassword) {
            add(
                'p',
                cat.menu_change_password,
                EntryAction::Open(Target::ChangePassword { forced: false }),
            );
        }
        add('q', cat.menu_logout, EntryAction::Logout);
        MenuScreen {
            entries,
            selected: 0,
        }
    }

    fn activate(&self, i: usize) -> Action {
        match &self.entries[i].action {
            EntryAction::Open(t) => Action::Open(t.clone()),
            EntryAction::Logout => Action::Logout,
        }
    }

    pub fn on_key(&mut self, key: KeyEvent) -> Action {
        let n = self.entries.len();
        match keys::find(KEYS, &key, |_| true) {
            Some(Cmd::Up) => self.selected = (self.selected + n - 1) % n,
            Some(Cmd::Down) => self.selected = (self.selected + 1) % n,
            Some(Cmd::Open) => return self.activate(self.selected),
            None => {
                let KeyCode::Char(c) = key.code else {
                    return Action::None;
                };
                // A digit picks by position, a letter by its mnemonic.
                let by_digit = c.to_digit(10).and_then(|d| (d as usize).checked_sub(1));
                let found = by_digit.filter(|&i| i < n).or_else(|| {
                    self.entries
                        .iter()
                        .position(|e| e.key == c.to_ascii_lowercase())
                });
                if let Some(i) = found {
                    self.selected = i;
                    return self.activate(i);
                }
            }
        }
        Action::None
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, app: &App) {
        let cat = app.cat;
        let theme = app.theme;
        let gap = app
            .session
            .as_ref()
            .and_then(|s| s.home.calendar_gap.as_ref());
        let duties = app
            .session
            .as_ref()
            .and_then(|s| s.home.queue.as_ref())
            .and_then(|q| {
                cat.duties_stats(q)
                    .map(|text| (text, q.complaints_overdue > 0))
            });
        let [who, gap_area, list, hint] = Layout::vertical([
            Constraint::Length(4 + u16::from(duties.is_some())),
            Constraint::Length(u16::from(gap.is_some()) * 2),
            Constraint::Min(3),
            Constraint::Length(1),
        ])
        .areas(area);
        if let Some(session) = &app.session {
            let op = session.home.operator.clone().unwrap_or_default();
            let unit = session.home.org_unit.clone().unwrap_or_default();
            let role = Role::try_from(op.role).unwrap_or_default();
            let label_w = [cat.operator, cat.org_unit, cat.role]
                .iter()
                .map(|l| unicode_width::UnicodeWidthStr::width(*l))
                .max()
                .unwrap_or(0)
                + 2;
            let lines = vec![
                Line::from(format!(
                    " {}{} ({})",
                    pad_to(cat.operator, label_w),
                    op.display_name,
                    op.username
                )),
                Line::from(format!(
                    " {}{} [{}]",
                    pad_to(cat.org_unit, label_w),
                    unit.name,
                    unit.code
                )),
                Line::from(format!(
                    " {}{}",
                    pad_to(cat.role, label_w),
                    i18n::role_name(app.lang, role)
                )),
            ];
            let mut lines = lines;
            if let Some(q) = &session.home.queue {
                let style = if q.overdue > 0 || q.late_submissions > 0 {
                    theme.error()
                } else if q.warnings > 0 {
                    theme.warning()
                } else {
                    theme.dim()
                };
                lines.push(Line::styled(
                    format!(" {}", crate::screens::queue::stats_text(cat, q)),
                    style,
                ));
            }
            if let Some((text, overdue)) = &duties {
                let style = if *overdue {
                    theme.error()
                } else {
                    theme.warning()
                };
                lines.push(Line::styled(format!(" {text}"), style));
            }
            frame.render_widget(Paragraph::new(lines), who);
        }
        if let Some(gap) = gap {
            frame.render_widget(
                Paragraph::new(Line::styled(cat.calendar_gap(gap), theme.warning()))
                    .wrap(ratatui::widgets::Wrap { trim: true }),
                gap_area,
            );
        }
        let lines: Vec<Line> = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let text = format!(" {}  [{}] {} ", i + 1, e.key.to_ascii_uppercase(), e.label);
                if i == self.selected {
                    Line::from(Span::styled(format!("▶{text}"), theme.selected()))
                } else {
                    Line::from(format!(" {text}"))
                }
            })
            .collect();
        frame.render_widget(
            Paragraph::new(lines).block(
                Block::default()
                    .borders(Borders::TOP)
                    .title(Span::styled(cat.menu_title, theme.title())),
            ),
            list,
        );
        frame.render_widget(
            Paragraph::new(Line::styled(
                self::hint(cat, hint.width as usize),
                theme.dim(),
            )),
            hint,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::ZH;

    #[test]
    fn entries_follow_capabilities() {
        let counter = MenuScreen::new(&[Capability::ChangeOwnPassword as i32], &ZH);
        let keys: Vec<char> = counter.entries.iter().map(|e| e.key).collect();
        assert_eq!(keys, ['p', 'q']);
        let admin = MenuScreen::new(
            &[
                Capability::ChangeOwnPassword as i32,
                Capability::ManageOrgUnits as i32,
                Capability::ManageOperators as i32,
            ],
            &ZH,
        );
        let keys: Vec<char> = admin.entries.iter().map(|e| e.key).collect();
        assert_eq!(keys, ['o', 'u', 'p', 'q']);
    }

    #[test]
    fn mnemonics_digits_and_arrows() {
        use ratatui::crossterm::event::{KeyEventKind, KeyModifiers};
        let key = |c| KeyEvent::new_with_kind(c, KeyModifiers::NONE, KeyEventKind::Press);
        let mut m = MenuScreen::new(&[Capability::ChangeOwnPassword as i32], &ZH);
        assert!(matches!(
            m.on_key(key(KeyCode::Char('P'))),
            Action::Open(Target::ChangePassword { forced: false })
        ));
        assert!(matches!(m.on_key(key(KeyCode::Char('2'))), Action::Logout));
        assert!(matches!(m.on_key(key(KeyCode::Char('9'))), Action::None));
        m.selected = 0;
        m.on_key(key(KeyCode::Up));
        assert_eq!(m.selected, 1, "wraps around");
        assert!(matches!(m.on_key(key(KeyCode::Enter)), Action::Logout));
    }

    /// With every capability, each entry has its own letter, and none is
    /// a letter that moves the selection (k and j).
    #[test]
    fn entry_letters_are_distinct_and_never_navigation() {
        let all: Vec<i32> = (0..=40)
            .filter(|c| Capability::try_from(*c).is_ok())
            .collect();
        let m = MenuScreen::new(&all, &ZH);
        let mut letters: Vec<char> = m.entries.iter().map(|e| e.key).collect();
        assert!(
            !letters.iter().any(|c| matches!(c, 'j' | 'k')),
            "{letters:?}"
        );
        let n = letters.len();
        letters.sort();
        letters.dedup();
        assert_eq!(letters.len(), n, "{letters:?}");
    }

    #[test]
    fn the_key_line_is_built_from_the_keys_that_work() {
        use ratatui::crossterm::event::{KeyEventKind, KeyModifiers};
        let key = |c| KeyEvent::new_with_kind(c, KeyModifiers::NONE, KeyEventKind::Press);
        assert_eq!(hint(&ZH, 80), "↑↓ 选择  Enter 进入  字母键 直达  F1 帮助");
        assert_eq!(hint(&crate::i18n::EN, 24), "↑↓ select  Enter open");
        let mut m = MenuScreen::new(&[Capability::ChangeOwnPassword as i32], &ZH);
        for (code, selected) in [
            (KeyCode::Tab, 1),
            (KeyCode::Char('K'), 0),
            (KeyCode::Char('j'), 1),
        ] {
            assert!(matches!(m.on_key(key(code)), Action::None));
            assert_eq!(m.selected, selected, "{code:?}");
        }
    }
}
