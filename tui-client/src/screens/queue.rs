//! The deadline queue (时限队列): the caller's open tickets grouped as
//! overdue / due today / due within two working days / later, nearest
//! deadline first, each with all its running deadlines; late department
//! files for the center. Refreshing sends the cursor, so only what changed
//! travels over the link.

use credit_desk_proto::Lang;
use credit_desk_proto::pb;
use credit_desk_proto::words::deadline;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::Target;
use super::org_units::list_move;
use crate::app::{Action, App};
use crate::bind;
use crate::form::pad_to;
use crate::i18n::{Catalogue, catalogue, ticket_word};
use crate::keys::{self, Binding, Key::Code, Key::Letter};
use crate::net::{Answer, Call};
use crate::theme::Theme;

/// The groups, in the order shown.
pub const GROUPS: [&str; 4] = ["overdue", "due_today", "soon", "later"];
/// The state filter cycles through these ('' = all open tickets).
const FILTERS: [&str; 6] = [
    "",
    "received",
    "request_sent",
    "replied",
    "notified",
    "unreachable",
];

/// What a key does on the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Move,
    Open,
    Refresh,
    Back,
    ByState,
    ByUnit,
    ByDepartment,
    Find,
}

/// The queue's keys. Moving is done by `list_move` (↑↓ j k Home End); its
/// entry documents it.
const KEYS: &[Binding<Cmd>] = &[
    bind!(
        "↑↓",
        [Code(KeyCode::Up), Code(KeyCode::Down)],
        key_select,
        Cmd::Move
    ),
    bind!("Enter", [Code(KeyCode::Enter)], key_open, Cmd::Open),
    bind!(
        "r",
        [Letter('r'), Code(KeyCode::F(5))],
        key_refresh,
        Cmd::Refresh
    ),
    bind!("Esc", [Code(KeyCode::Esc)], key_back, Cmd::Back),
    bind!("f", [Letter('f')], key_by_state, Cmd::ByState),
    bind!("u", [Letter('u')], key_by_unit, Cmd::ByUnit),
    bind!("d", [Letter('d')], key_by_department, Cmd::ByDepartment),
    bind!("/", [Code(KeyCode::Char('/'))], key_find_tickets, Cmd::Find),
];

/// The queue's key line, `width` columns at most.
pub fn hint(cat: &Catalogue, width: usize) -> String {
    keys::footer(KEYS, cat, |_| true, width)
}

#[derive(Default)]
pub struct QueueScreen {
    pub items: Vec<pb::QueueItem>,
    pub submissions: Vec<pb::SubmissionDue>,
    /// Days of query operations waiting for the supervisor's review.
    pub reviews: Vec<pb::ReviewDue>,
    pub month_reports: Vec<pb::MonthReportDue>,
    /// Complaints waiting for their written answer (the center).
    pub complaints: Vec<pb::ComplaintDue>,
    pub stats: Option<pb::QueueStats>,
    /// The calendar is about to run out (or has).
    pub calendar_gap: Option<pb::CalendarGap>,
    cursor: String,
    pub loaded: bool,
    pub selected: usize,
    filter: usize,
    /// Units and departments seen in answers (id → name), for the filters.
    units: std::collections::BTreeMap<String, String>,
    departments: std::collections::BTreeMap<String, String>,
    unit_filter: Option<String>,
    department_filter: Option<String>,
    pub by_unit: Vec<pb::UnitCount>,
    pub by_department: Vec<pb::UnitCount>,
}

/// The next of `options` after `current` (None after the last: no filter).
fn cycle(
    options: &std::collections::BTreeMap<String, String>,
    current: &Option<String>,
) -> Option<String> {
    match current {
        None => options.keys().next().cloned(),
        Some(c) => options.keys().find(|k| k.as_str() > c.as_str()).cloned(),
    }
}

fn group_of(item: &pb::QueueItem) -> usize {
    GROUPS
        .iter()
        .position(|g| *g == item.urgency)
        .unwrap_or(GROUPS.len() - 1)
}

/// A text marker for the urgency, so it reads without colour too.
pub fn marker(urgency: &str) -> &'static str {
    match urgency {
        "overdue" => "!!",
        "due_today" => "! ",
        "soon" => "~ ",
        _ => "  ",
    }
}

pub fn urgency_style(theme: Theme, urgency: &str) -> Style {
    match urgency {
        "overdue" => theme.error(),
        "due_today" | "soon" => theme.warning(),
        _ => Style::default(),
    }
}

impl QueueScreen {
    pub fn request(&self) -> Call {
        Call::ListQueue(pb::ListQueueRequest {
            cursor: self.cursor.clone(),
            state: FILTERS[self.filter].to_string(),
            org_unit_id: self.unit_filter.clone().unwrap_or_default(),
            department_id: self.department_filter.clone().unwrap_or_default(),
        })
    }

    /// Merges an answer: a whole queue replaces, changes are applied.
    pub fn apply(&mut self, resp: pb::ListQueueResponse) {
        let keep = self.items.get(self.selected).map(|i| i.ticket_id.clone());
        for item in &resp.items {
            if let Some(u) = &item.org_unit {
                self.units.insert(u.id.clone(), u.name.clone());
            }
            for d in &item.departments {
                self.departments.insert(d.id.clone(), d.name.clone());
            }
        }
        if resp.full {
            self.items = resp.items;
            self.submissions = resp.submissions;
            self.reviews = resp.reviews;
            self.month_reports = resp.month_reports;
            self.complaints = resp.complaints;
            self.by_unit = resp.by_unit;
            self.by_department = resp.by_department;
        } else {
            self.items.retain(|i| !resp.removed.contains(&i.ticket_id));
            for item in resp.items {
                match self
                    .items
                    .iter_mut()
                    .find(|i| i.ticket_id == item.ticket_id)
                {
                    Some(old) => *old = item,
                    None => self.items.push(item),
                }
            }
        }
        self.items.sort_by(|a, b| {
            (group_of(a), &a.nearest_due, &a.ticket_no).cmp(&(
                group_of(b),
                &b.nearest_due,
                &b.ticket_no,
            ))
        });
        self.stats = resp.stats;
        self.calendar_gap = resp.calendar_gap;
        self.cursor = resp.cursor;
        self.loaded = true;
        self.selected = keep
            .and_then(|id| self.items.iter().position(|i| i.ticket_id == id))
            .unwrap_or(0)
            .min(self.items.len().saturating_sub(1));
    }

    pub fn on_key(&mut self, key: KeyEvent) -> Action {
        if let Some(i) = list_move(key.code, self.selected, self.items.len()) {
            self.selected = i;
            return Action::None;
        }
        let Some(cmd) = keys::find(KEYS, &key, |_| true) else {
            return Action::None;
        };
        match cmd {
            Cmd::Move => Action::None,
            Cmd::Back => Action::Back,
            Cmd::Open => match self.items.get(self.selected) {
                Some(item) => Action::Open(Target::Ticket {
                    ticket_id: item.ticket_id.clone(),
                }),
                None => Action::None,
            },
            Cmd::Refresh => Action::Send(self.request()),
            Cmd::Find => Action::Open(Target::TicketSearch),
            Cmd::ByState | Cmd::ByUnit | Cmd::ByDepartment => {
                match cmd {
                    Cmd::ByState => self.filter = (self.filter + 1) % FILTERS.len(),
                    Cmd::ByUnit => self.unit_filter = cycle(&self.units, &self.unit_filter),
                    _ => self.department_filter = cycle(&self.departments, &self.department_filter),
                }
                // Another filter: a whole answer.
                self.cursor.clear();
                Action::Send(self.request())
            }
        }
    }

    pub fn on_answer(&mut self, answer: Answer) -> Action {
        if let Answer::Queue(resp) = answer {
            self.apply(resp);
        }
        Action::None
    }

    fn item_lines(
        &self,
        item: &pb::QueueItem,
        lang: Lang,
        theme: Theme,
        selected: bool,
    ) -> Line<'static> {
        let style = if selected {
            theme.selected()
        } else {
            urgency_style(theme, &item.urgency)
        };
        let mut spans = vec![
            Span::styled(
                format!(
                    "{}{} ",
                    if selected { "▶" } else { " " },
                    marker(&item.urgency)
                ),
                style,
            ),
            Span::styled(format!("{} ", item.ticket_no), style),
            Span::raw(pad_to(&item.subject_name, 8)),
            Span::raw(" "),
            Span::raw(pad_to(&ticket_word(lang, &item.state), 12)),
            Span::raw(" "),
        ];
        if item.paused {
            spans.push(Span::styled(
                format!("[{}] ", ticket_word(lang, "paused")),
                theme.warning(),
            ));
        }
        if !item.letter_no.is_empty() {
            spans.push(Span::raw(format!("{} ", item.letter_no)));
        }
        for d in item.deadlines.iter().filter(|d| !d.met) {
            let short = &d.due[5.min(d.due.len())..];
            let warn = if d.warn { "⚠" } else { "" };
            spans.push(Span::styled(
                format!("{} {short}{warn}  ", short_kind(lang, &d.kind)),
                urgency_style(theme, &d.urgency),
            ));
        }
        Line::from(spans)
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, app: &App) {
        let (cat, theme, lang) = (app.cat, app.theme, app.lang);
        let [gap_area, head, body, hint_area] = Layout::vertical([
            Constraint::Length(u16::from(self.calendar_gap.is_some()) * 2),
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(1),
        ])
        .areas(area);
        if let Some(gap) = &self.calendar_gap {
            frame.render_widget(
                Paragraph::new(Line::styled(cat.calendar_gap(gap), theme.warning()))
                    .wrap(ratatui::widgets::Wrap { trim: true }),
                gap_area,
            );
        }
        if !self.loaded {
            frame.render_widget(Paragraph::new(cat.loading), body);
            return;
        }
        let mut head_text = self
            .stats
            .as_ref()
            .map_or_else(String::new, |s| stats_text(cat, s));
        if !FILTERS[self.filter].is_empty() {
            head_text.push_str(&format!(
                "  [{}: {}]",
                cat.queue_filter,
                ticket_word(lang, FILTERS[self.filter])
            ));
        }
        for (filter, names) in [
            (&self.unit_filter, &self.units),
            (&self.department_filter, &self.departments),
        ] {
            if let Some(name) = filter.as_ref().and_then(|id| names.get(id)) {
                head_text.push_str(&format!("  [{name}]"));
            }
        }
        frame.render_widget(Paragraph::new(Line::styled(head_text, theme.title())), head);
        let mut lines: Vec<Line> = Vec::new();
        let mut selected_line = 0;
        for (g, group) in GROUPS.iter().enumerate() {
            let members: Vec<(usize, &pb::QueueItem)> = self
                .items
                .iter()
                .enumerate()
                .filter(|(_, i)| group_of(i) == g)
                .collect();
            if members.is_empty() {
                continue;
            }
            lines.push(Line::styled(
                format!(
                    "{} {} ({})",
                    marker(group),
                    ticket_word(lang, group),
                    members.len()
                ),
                urgency_style(theme, group).patch(theme.title()),
            ));
            for (i, item) in members {
                if i == self.selected {
                    selected_line = lines.len();
                }
                lines.push(self.item_lines(item, lang, theme, i == self.selected));
            }
        }
        if self.items.is_empty() {
            lines.push(Line::styled(cat.queue_empty, theme.dim()));
        }
        if !self.submissions.is_empty() {
            lines.push(Line::styled(cat.submissions_title, theme.title()));
            // One line per department: its periods, the most urgent first.
            let mut departments: Vec<&str> = Vec::new();
            for s in &self.submissions {
                if !departments.contains(&s.department_name.as_str()) {
                    departments.push(&s.department_name);
                }
            }
            for dept in departments {
                let mut spans = vec![Span::raw(format!(" {} ", pad_to(dept, 16)))];
                for s in self
                    .submissions
                    .iter()
                    .filter(|s| s.department_name == dept)
                {
                    spans.push(Span::styled(
                        // A full-year period falls due the next year:
                        // the date says which.
                        format!("{}{} {}  ", marker(&s.urgency), s.period, s.due),
                        urgency_style(theme, &s.urgency),
                    ));
                }
                lines.push(Line::from(spans));
            }
        }
        if !self.reviews.is_empty() {
            lines.push(Line::styled(cat.reviews_title, theme.title()));
            // Two days a line (each about 27 columns): 80 columns hold it.
            for pair in self.reviews.chunks(2) {
                let mut spans = vec![Span::raw(" ")];
                for r in pair {
                    spans.push(Span::styled(
                        format!("{}{} → {}  ", marker(&r.urgency), r.day, r.due),
                        urgency_style(theme, &r.urgency),
                    ));
                }
                lines.push(Line::from(spans));
            }
        }
        if !self.month_reports.is_empty() {
            lines.push(Line::styled(cat.months_title, theme.title()));
            // Three months a line (each about 23 columns).
            for months in self.month_reports.chunks(3) {
                let mut spans = vec![Span::raw(" ")];
                for m in months {
                    spans.push(Span::styled(
                        format!("{}{} → {}  ", marker(&m.urgency), m.month, m.due),
                        urgency_style(theme, &m.urgency),
                    ));
                }
                lines.push(Line::from(spans));
            }
        }
        if !self.complaints.is_empty() {
            lines.push(Line::styled(cat.complaints_due_title, theme.title()));
            for c in &self.complaints {
                lines.push(Line::styled(
                    format!(
                        " {}{} {} → {}",
                        marker(&c.urgency),
                        c.complaint_no,
                        c.complainant,
                        c.due
                    ),
                    urgency_style(theme, &c.urgency),
                ));
            }
        }
        if !self.by_unit.is_empty() || !self.by_department.is_empty() {
            lines.push(Line::styled(cat.overdue_stats_title, theme.title()));
            for c in self.by_unit.iter().chain(&self.by_department) {
                let style = if c.overdue > 0 {
                    theme.error()
                } else {
                    Style::default()
                };
                let counts = cat.unit_counts(c.open, c.overdue);
                lines.push(Line::styled(
                    format!("  {}{counts}", pad_to(&c.name, 22)),
                    style,
                ));
            }
        }
        // Keep the selected line in view.
        let height = body.height as usize;
        let skip = selected_line.saturating_sub(height.saturating_sub(2));
        frame.render_widget(
            Paragraph::new(lines.into_iter().skip(skip).collect::<Vec<_>>())
                .block(Block::default().borders(Borders::NONE)),
            body,
        );
        frame.render_widget(
            Paragraph::new(Line::styled(
                hint(cat, usize::from(hint_area.width)),
                theme.dim(),
            )),
            hint_area,
        );
    }
}

/// Deadline kinds in a queue row, where space is short.
fn short_kind(lang: Lang, kind: &str) -> &'static str {
    match kind {
        deadline::DEPARTMENT_REPLY => catalogue(lang).short_reply,
        deadline::NOTICE => catalogue(lang).short_notice,
        _ => catalogue(lang).short_limit,
    }
}

pub fn stats_text(cat: &Catalogue, s: &pb::QueueStats) -> String {
    cat.queue_stats(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, urgency: &str, due: &str) -> pb::QueueItem {
        pb::QueueItem {
            ticket_id: id.into(),
            ticket_no: format!("YY-{id}"),
            urgency: urgency.into(),
            nearest_due: due.into(),
            ..Default::default()
        }
    }

    #[test]
    fn changes_merge_and_the_selection_follows_its_ticket() {
        let mut q = QueueScreen::default();
        q.apply(pb::ListQueueResponse {
            full: true,
            items: vec![
                item("a", "later", "2026-12-20"),
                item("b", "overdue", "2026-11-20"),
                item("c", "soon", "2026-11-26"),
            ],
            cursor: "1".into(),
            ..Default::default()
        });
        let order: Vec<&str> = q.items.iter().map(|i| i.ticket_id.as_str()).collect();
        assert_eq!(order, ["b", "c", "a"]);
        q.selected = 2; // a
        // a becomes due today, b leaves, d arrives.
        q.apply(pb::ListQueueResponse {
            full: false,
            items: vec![
                item("a", "due_today", "2026-11-24"),
                item("d", "later", "2026-12-01"),
            ],
            removed: vec!["b".into()],
            cursor: "2".into(),
            ..Default::default()
        });
        let order: Vec<&str> = q.items.iter().map(|i| i.ticket_id.as_str()).collect();
        assert_eq!(order, ["a", "c", "d"]);
        assert_eq!(q.selected, 0, "still on a");
        assert!(matches!(q.request(), Call::ListQueue(r) if r.cursor == "2"));
    }

    #[test]
    fn unit_filters_cycle_through_what_was_seen_and_ask_anew() {
        let mut q = QueueScreen::default();
        let mut a = item("a", "later", "2026-12-20");
        a.org_unit = Some(pb::UnitRef {
            id: "u1".into(),
            name: "大沙镇".into(),
        });
        let mut b = item("b", "later", "2026-12-21");
        b.org_unit = Some(pb::UnitRef {
            id: "u2".into(),
            name: "东城街道".into(),
        });
        q.apply(pb::ListQueueResponse {
            full: true,
            items: vec![a, b],
            cursor: "5".into(),
            ..Default::default()
        });
        let key = |c| {
            KeyEvent::new(
                KeyCode::Char(c),
                ratatui::crossterm::event::KeyModifiers::NONE,
            )
        };
        let unit_of = |a: Action| match a {
            Action::Send(Call::ListQueue(r)) => (r.org_unit_id, r.cursor),
            _ => panic!("expected a queue request"),
        };
        assert_eq!(
            unit_of(q.on_key(key('u'))),
            ("u1".to_string(), String::new())
        );
        assert_eq!(unit_of(q.on_key(key('u'))).0, "u2");
        assert_eq!(
            unit_of(q.on_key(key('u'))).0,
            "",
            "past the last: no filter"
        );
    }
}
