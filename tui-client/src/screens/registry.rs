//! The subject registry (menu `s`): find a person, an organisation or a
//! farmer household by name or whole number, and read its card — identity,
//! households and members, and what the role may see of records (with
//! every version and where it came from), queries, consents, tickets and
//! verifications. From a card: open a member, a household or a ticket,
//! make a person the head of a new household, and keep a household's
//! members, head and village.

use chrono::{FixedOffset, Offset};
use credit_desk_proto::Lang;
use credit_desk_proto::pb::{self, change_household_request::Change};
use credit_desk_proto::validate::{self, field};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph};
use tonic::Status;

use super::Target;
use super::org_units::list_move;
use crate::app::{Action, App};
use crate::bind;
use crate::form::{Field, Form, FormEvent, pad_to};
use crate::i18n::{self, Catalogue, ticket_word};
use crate::keys::{self, Binding, Key::Code, Key::Letter};
use crate::net::{Answer, Call};
use crate::print;
use crate::theme::Theme;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Move,
    Open,
    Search,
    NextPage,
    PreviousPage,
    NewHousehold,
    AddMember,
    Edit,
    RemoveMember,
    Refresh,
    Back,
}

const LIST_KEYS: &[Binding<Cmd>] = &[
    bind!(
        "↑↓",
        [Code(KeyCode::Up), Code(KeyCode::Down)],
        key_select,
        Cmd::Move
    ),
    bind!("Enter", [Code(KeyCode::Enter)], key_open, Cmd::Open),
    bind!("/", [Code(KeyCode::Char('/'))], key_find, Cmd::Search),
    bind!(
        "PgDn",
        [Code(KeyCode::PageDown)],
        key_next_page,
        Cmd::NextPage
    ),
    bind!(
        "PgUp",
        [Code(KeyCode::PageUp)],
        key_previous_page,
        Cmd::PreviousPage
    ),
    bind!("Esc", [Code(KeyCode::Esc)], key_back, Cmd::Back),
];

/// Subjects a registry page lists.
const PAGE: u32 = 50;

const CARD_KEYS: &[Binding<Cmd>] = &[
    bind!(
        "↑↓",
        [Code(KeyCode::Up), Code(KeyCode::Down)],
        key_select,
        Cmd::Move
    ),
    bind!("Enter", [Code(KeyCode::Enter)], key_open, Cmd::Open),
    bind!("n", [Letter('n')], key_new_household, Cmd::NewHousehold),
    bind!("a", [Letter('a')], key_add_member, Cmd::AddMember),
    bind!("e", [Letter('e')], key_edit, Cmd::Edit),
    bind!("d", [Letter('d')], key_remove_member, Cmd::RemoveMember),
    bind!(
        "r",
        [Letter('r'), Code(KeyCode::F(5))],
        key_refresh,
        Cmd::Refresh
    ),
    bind!("Esc", [Code(KeyCode::Esc)], key_back, Cmd::Back),
];

/// Where a card line leads.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Link {
    Subject(String),
    Ticket(String),
}

/// How a card line is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Look {
    Heading,
    Plain,
    Dim,
}

/// One line of a card before wrapping: what it says, how, and where Enter
/// on it leads. A member line also names the member (for removal).
#[derive(Debug, Clone)]
struct CardLine {
    text: String,
    look: Look,
    link: Option<Link>,
}

impl CardLine {
    fn new(look: Look, text: impl Into<String>) -> CardLine {
        CardLine {
            text: text.into(),
            look,
            link: None,
        }
    }

    fn to(mut self, link: Link) -> CardLine {
        self.link = Some(link);
        self
    }
}

/// A household form open over a card.
enum Editing {
    /// A new household headed by the card's person.
    Create {
        head_id: String,
    },
    AddMember,
    /// Village, head, and the former head's relation to a new one.
    Details {
        member_ids: Vec<String>,
    },
}

pub struct RegistryScreen {
    form: Form,
    found: Option<pb::ListSubjectsResponse>,
    selected: usize,
    /// What was searched (empty: the whole registry, by name), and the
    /// cursors of the pages before this one and of this one.
    query: String,
    pages: Vec<String>,
    page: String,
    card: Option<Box<pb::GetSubjectResponse>>,
    /// The cards opened through links, to go back through with Esc.
    trail: Vec<String>,
    line: usize,
    editing: Option<(Editing, Form)>,
    confirm_remove: bool,
    /// A change was sent: its answer is announced as saved.
    saving: bool,
    /// Whether this operator keeps households (the server checks the township).
    keeps_households: bool,
    lang: Lang,
}

impl RegistryScreen {
    pub fn new(cat: &'static Catalogue, capabilities: &[i32]) -> RegistryScreen {
        RegistryScreen {
            form: Form::new(vec![Field::text(field::QUERY, cat.registry_query)])
                .submitting(|c| c.key_find),
            found: None,
            selected: 0,
            query: String::new(),
            pages: Vec::new(),
            page: String::new(),
            card: None,
            trail: Vec::new(),
            line: 0,
            editing: None,
            confirm_remove: false,
            saving: false,
            keeps_households: capabilities.contains(&(pb::Capability::VerifyIdentity as i32)),
            lang: cat.lang,
        }
    }

    pub fn is_typing(&self) -> bool {
        self.editing.is_some() || (self.found.is_none() && self.card.is_none())
    }

    fn kind(&self) -> pb::SubjectKind {
        self.card
            .as_ref()
            .and_then(|c| c.subject.as_ref())
            .map(|s| s.kind())
            .unwrap_or_default()
    }

    fn subject_id(&self) -> String {
        self.card
            .as_ref()
            .and_then(|c| c.subject.as_ref())
            .map(|s| s.id.clone())
            .unwrap_or_default()
    }

    /// The member on the selected card line, if it is one (never the head).
    fn selected_member(&self) -> Option<String> {
        let card = self.card.as_ref()?;
        let household = card.household.as_ref()?;
        match self.lines_of(card).get(self.line)?.link.as_ref()? {
            Link::Subject(id) if *id != household.head_id => household
                .members
                .iter()
                .any(|m| m.person.as_ref().is_some_and(|p| p.id == *id))
                .then(|| id.clone()),
            _ => None,
        }
    }

    /// Household keys only where the server says this operator keeps the
    /// household (its township's counter, the center).
    fn offers(&self, cmd: Cmd) -> bool {
        let Some(card) = &self.card else { return true };
        let keeps = self.keeps_households && card.keeps_household;
        let household = self.kind() == pb::SubjectKind::Household;
        match cmd {
            Cmd::NewHousehold => {
                keeps
                    && self.kind() == pb::SubjectKind::Person
                    && !card.households.iter().any(|h| h.relation == HEAD)
            }
            Cmd::AddMember | Cmd::Edit => keeps && household,
            Cmd::RemoveMember => keeps && self.selected_member().is_some(),
            _ => true,
        }
    }

    pub fn on_key(&mut self, key: KeyEvent, cat: &Catalogue, lang: Lang, waiting: bool) -> Action {
        if self.editing.is_some() {
            return self.on_form_key(key, lang, waiting);
        }
        if self.confirm_remove {
            self.confirm_remove = false;
            return match (key.code, self.selected_member()) {
                (KeyCode::Char('y' | 'Y'), Some(member)) if !waiting => {
                    self.saving = true;
                    Action::Send(self.change(Change::RemoveMember(member)))
                }
                _ => Action::None,
            };
        }
        if let Some(card) = &self.card {
            let count = self.lines_of(card).len();
            if let Some(i) = list_move(key.code, self.line, count) {
                self.line = i;
                return Action::None;
            }
            return self.on_card_key(key, cat, waiting);
        }
        let Some(found) = &self.found else {
            if keys::is_back(&key) {
                return Action::Back;
            }
            if self.form.handle_key(key) != FormEvent::Submit || waiting {
                return Action::None;
            }
            let query = self.form.value(field::QUERY);
            // Empty browses the whole registry by name.
            let check = validate::free_text(field::QUERY, &query, validate::SEARCH_MAX, false);
            if let Err(e) = check {
                self.form.show_local_errors(&[e], lang);
                return Action::None;
            }
            self.query = query;
            self.pages.clear();
            self.page.clear();
            return Action::Send(self.list());
        };
        if let Some(i) = list_move(key.code, self.selected, found.subjects.len()) {
            self.selected = i;
            return Action::None;
        }
        let more = !found.next_cursor.is_empty();
        let offered = |c: Cmd| match c {
            Cmd::NextPage => more,
            Cmd::PreviousPage => !self.pages.is_empty(),
            _ => true,
        };
        match keys::find(LIST_KEYS, &key, offered) {
            Some(Cmd::NextPage) if !waiting => {
                let next = found.next_cursor.clone();
                self.pages.push(std::mem::replace(&mut self.page, next));
                Action::Send(self.list())
            }
            Some(Cmd::PreviousPage) if !waiting => {
                self.page = self.pages.pop().unwrap_or_default();
                Action::Send(self.list())
            }
            Some(Cmd::Open) if !waiting => match found.subjects.get(self.selected) {
                Some(s) => Action::Send(Call::GetSubject(s.id.clone())),
                None => Action::None,
            },
            Some(Cmd::Search | Cmd::Back) => {
                self.found = None;
                Action::None
            }
            _ => Action::None,
        }
    }

    fn on_card_key(&mut self, key: KeyEvent, cat: &Catalogue, waiting: bool) -> Action {
        let Some(card) = &self.card else {
            return Action::None;
        };
        // While a card loads, nothing acts on the one shown.
        if waiting {
            return Action::None;
        }
        match keys::find(CARD_KEYS, &key, |c| self.offers(c)) {
            Some(Cmd::Open) if !waiting => match self
                .lines_of(card)
                .into_iter()
                .nth(self.line)
                .and_then(|l| l.link)
            {
                Some(Link::Subject(id)) => {
                    self.trail.push(self.subject_id());
                    Action::Send(Call::GetSubject(id))
                }
                Some(Link::Ticket(ticket_id)) => Action::Open(Target::Ticket { ticket_id }),
                None => Action::None,
            },
            Some(Cmd::Refresh) if !waiting => Action::Send(Call::GetSubject(self.subject_id())),
            Some(Cmd::NewHousehold) => {
                let form = Form::new(vec![Field::text(field::VILLAGE, cat.village)])
                    .submitting(|c| c.key_submit);
                let head_id = self.subject_id();
                self.editing = Some((Editing::Create { head_id }, form));
                Action::None
            }
            Some(Cmd::AddMember) => {
                let form = Form::new(vec![
                    Field::text(field::IDENTIFIER, cat.member_identifier),
                    Field::text(field::RELATION, cat.relation),
                ])
                .submitting(|c| c.key_submit);
                self.editing = Some((Editing::AddMember, form));
                Action::None
            }
            Some(Cmd::Edit) => {
                let Some(household) = &card.household else {
                    return Action::None;
                };
                let members: Vec<(String, String)> = household
                    .members
                    .iter()
                    .filter_map(|m| m.person.as_ref())
                    .map(|p| (p.id.clone(), p.name.clone()))
                    .collect();
                let choices = members
                    .iter()
                    .enumerate()
                    .map(|(i, (_, name))| (i as i32, name.clone()))
                    .collect();
                let mut form = Form::new(vec![
                    Field::text(field::VILLAGE, cat.village).with_value(&household.village),
                    Field::choice(field::HEAD_ID, cat.head, choices),
                    Field::text(field::FORMER_HEAD_RELATION, cat.former_head_relation),
                ])
                .submitting(|c| c.key_submit);
                if let Some(i) = members.iter().position(|(id, _)| *id == household.head_id) {
                    form.select(field::HEAD_ID, i as i32);
                }
                let member_ids = members.into_iter().map(|(id, _)| id).collect();
                self.editing = Some((Editing::Details { member_ids }, form));
                Action::None
            }
            Some(Cmd::RemoveMember) => {
                self.confirm_remove = true;
                Action::None
            }
            Some(Cmd::Back) => {
                match self.trail.pop() {
                    Some(id) => return Action::Send(Call::GetSubject(id)),
                    None => self.card = None,
                }
                Action::None
            }
            _ => Action::None,
        }
    }

    fn on_form_key(&mut self, key: KeyEvent, lang: Lang, waiting: bool) -> Action {
        let Some((editing, form)) = &mut self.editing else {
            return Action::None;
        };
        if keys::is_back(&key) {
            self.editing = None;
            return Action::None;
        }
        if form.handle_key(key) != FormEvent::Submit || waiting {
            return Action::None;
        }
        self.saving = true;
        let request_id = form.request_id();
        let household_id = self
            .card
            .as_ref()
            .and_then(|c| c.subject.as_ref())
            .map(|s| s.id.clone())
            .unwrap_or_default();
        let change = match editing {
            Editing::Create { head_id } => {
                let village = form.value(field::VILLAGE);
                if form.show_local_errors(&validate::collect([validate::village(&village)]), lang) {
                    return Action::None;
                }
                return Action::Send(Call::CreateHousehold(pb::CreateHouseholdRequest {
                    request_id,
                    head_id: head_id.clone(),
                    village,
                }));
            }
            Editing::AddMember => {
                let identifier = form.value(field::IDENTIFIER);
                let relation = form.value(field::RELATION);
                let today = credit_desk_proto::now::today();
                let errors = validate::collect([
                    validate::household_person(field::IDENTIFIER, &identifier, today),
                    validate::relation(field::RELATION, &relation),
                ]);
                if form.show_local_errors(&errors, lang) {
                    return Action::None;
                }
                Change::AddMember(pb::AddHouseholdMember {
                    identifier,
                    relation,
                })
            }
            Editing::Details { member_ids } => {
                let village = form.value(field::VILLAGE);
                let relation = form.value(field::FORMER_HEAD_RELATION);
                let mut errors = validate::collect([validate::village(&village)]);
                if !relation.is_empty()
                    && let Err(e) = validate::relation(field::FORMER_HEAD_RELATION, &relation)
                {
                    errors.push(e);
                }
                if form.show_local_errors(&errors, lang) {
                    return Action::None;
                }
                let head_id = usize::try_from(form.choice(field::HEAD_ID))
                    .ok()
                    .and_then(|i| member_ids.get(i))
                    .cloned()
                    .unwrap_or_default();
                Change::Details(pb::HouseholdDetails {
                    village,
                    head_id,
                    former_head_relation: relation,
                })
            }
        };
        Action::Send(Call::ChangeHousehold(pb::ChangeHouseholdRequest {
            request_id,
            household_id,
            change: Some(change),
        }))
    }

    fn list(&self) -> Call {
        Call::ListSubjects(pb::ListSubjectsRequest {
            query: self.query.clone(),
            page: Some(pb::PageRequest {
                cursor: self.page.clone(),
                limit: PAGE,
            }),
        })
    }

    fn change(&self, change: Change) -> Call {
        Call::ChangeHousehold(pb::ChangeHouseholdRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            household_id: self.subject_id(),
            change: Some(change),
        })
    }

    pub fn on_answer(&mut self, answer: Answer, cat: &Catalogue) -> Action {
        match answer {
            Answer::Subjects(found) => {
                self.selected = 0;
                self.found = Some(found);
                Action::None
            }
            Answer::SubjectCard(card) => {
                // Only the answer to a change is announced as saved.
                let saved = std::mem::take(&mut self.saving);
                let same = self.subject_id()
                    == card
                        .subject
                        .as_ref()
                        .map(|s| s.id.clone())
                        .unwrap_or_default();
                if saved || !same {
                    self.editing = None;
                }
                if !same {
                    self.line = 0;
                }
                self.card = Some(card);
                let count = self
                    .card
                    .as_ref()
                    .map(|c| self.lines_of(c).len())
                    .unwrap_or(0);
                self.line = self.line.min(count.saturating_sub(1));
                match saved {
                    true => Action::Info(cat.household_saved.into()),
                    false => Action::None,
                }
            }
            _ => Action::None,
        }
    }

    pub fn on_error(&mut self, status: &Status) -> bool {
        self.saving = false;
        match &mut self.editing {
            Some((_, form)) => form.apply_status(status),
            None if self.card.is_some() => false,
            None => self.form.apply_status(status),
        }
    }

    pub fn hint(&self, cat: &Catalogue, width: usize) -> String {
        if let Some((_, form)) = &self.editing {
            return form.footer(cat, width);
        }
        if self.confirm_remove {
            return cat.confirm_remove_member.to_string();
        }
        match (&self.card, &self.found) {
            (Some(_), _) => keys::footer(CARD_KEYS, cat, |c| self.offers(c), width),
            (None, Some(found)) => keys::footer(
                LIST_KEYS,
                cat,
                |c| match c {
                    Cmd::NextPage => !found.next_cursor.is_empty(),
                    Cmd::PreviousPage => !self.pages.is_empty(),
                    _ => true,
                },
                width,
            ),
            (None, None) => self.form.footer(cat, width),
        }
    }

    /// The card's lines as keys see them (which line links where).
    fn lines_of(&self, card: &pb::GetSubjectResponse) -> Vec<CardLine> {
        card_lines(card, i18n::catalogue(self.lang), chrono::Utc.fix())
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, app: &App) {
        let (cat, theme) = (app.cat, app.theme);
        let [body, hint] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
        let hint_style = match self.confirm_remove {
            true => theme.warning(),
            false => theme.dim(),
        };
        frame.render_widget(
            Paragraph::new(Line::styled(
                self.hint(cat, usize::from(hint.width)),
                hint_style,
            )),
            hint,
        );
        if let Some(card) = &self.card {
            let lines = card_lines(card, cat, app.utc_offset);
            render_card(frame, body, &lines, self.line, theme);
            if let Some((editing, form)) = &self.editing {
                let title = match editing {
                    Editing::Create { .. } => format!(
                        "{} {}",
                        cat.household_new,
                        card.subject
                            .as_ref()
                            .map(|s| s.name.as_str())
                            .unwrap_or_default()
                    ),
                    Editing::AddMember => cat.household_add_title.to_string(),
                    Editing::Details { .. } => cat.household_edit_title.to_string(),
                };
                let height = (form.height() + 2).min(body.height);
                let panel = Rect {
                    y: body.y + body.height - height,
                    height,
                    ..body
                };
                frame.render_widget(ratatui::widgets::Clear, panel);
                frame.render_widget(Block::default().borders(Borders::TOP).title(title), panel);
                form.render(
                    Rect {
                        y: panel.y + 1,
                        height: panel.height.saturating_sub(1),
                        ..panel
                    },
                    frame.buffer_mut(),
                    theme,
                    !app.help,
                );
            }
            return;
        }
        let [form_area, list_area] = Layout::vertical([
            Constraint::Length(self.form.height() + 1),
            Constraint::Min(3),
        ])
        .areas(body);
        self.form.render(
            Rect {
                y: form_area.y + 1,
                height: form_area.height.saturating_sub(1),
                ..form_area
            },
            frame.buffer_mut(),
            theme,
            !app.help && self.found.is_none(),
        );
        let Some(found) = &self.found else { return };
        let title = match found.subjects.len() {
            0 => cat.found_none.to_string(),
            n if !found.next_cursor.is_empty() || !self.pages.is_empty() => {
                cat.registry_page(self.pages.len() + 1, n)
            }
            n => format!("{} {n}", cat.found_count),
        };
        let width = usize::from(list_area.width).saturating_sub(2);
        // The name column as wide as the longest name, up to a limit (a
        // longer one is cut with "…"; the card shows it whole).
        let name_width = found
            .subjects
            .iter()
            .map(|s| unicode_width::UnicodeWidthStr::width(s.name.as_str()))
            .max()
            .unwrap_or(0)
            .clamp(8, 24);
        let items: Vec<ListItem> = found
            .subjects
            .iter()
            .map(|s| {
                let kind = i18n::subject_kind_name(cat.lang, s.kind());
                ListItem::new(print::fit(
                    &format!(
                        "{} {} {} {}",
                        print::fit(&s.name, name_width),
                        pad_to(&s.identifier, 19),
                        pad_to(kind, 8),
                        s.township
                    ),
                    width,
                ))
            })
            .collect();
        let mut state = ListState::default()
            .with_selected((!found.subjects.is_empty()).then_some(self.selected));
        frame.render_stateful_widget(
            List::new(items)
                .block(Block::default().borders(Borders::TOP).title(title))
                .highlight_style(theme.selected())
                .highlight_symbol("▶"),
            list_area,
            &mut state,
        );
    }
}

/// What the head is called in the household register.
const HEAD: &str = "户主";

/// The card as lines: identity, households or members, records with their
/// versions, queries, consents, tickets, verifications.
fn card_lines(
    card: &pb::GetSubjectResponse,
    cat: &Catalogue,
    offset: FixedOffset,
) -> Vec<CardLine> {
    let mut out = Vec::new();
    let Some(s) = &card.subject else { return out };
    let day = |ms: i64| {
        print::time(ms, offset)
            .get(..10)
            .unwrap_or_default()
            .to_string()
    };
    let kind = i18n::subject_kind_name(cat.lang, s.kind());
    let sex = match s.sex.as_str() {
        "male" => cat.sex_male,
        "female" => cat.sex_female,
        _ => "",
    };
    out.push(CardLine::new(
        Look::Heading,
        format!("{} {} {kind} {sex} {}", s.name, s.identifier, s.birth_date)
            .trim_end()
            .to_string(),
    ));
    if !s.township.is_empty() || !s.address.is_empty() {
        out.push(CardLine::new(
            Look::Plain,
            format!("{} {}", s.township, s.address).trim().to_string(),
        ));
    }
    if !s.legal_representative.is_empty() {
        out.push(CardLine::new(
            Look::Plain,
            format!("{} {}", cat.legal_representative, s.legal_representative),
        ));
    }
    if let Some(h) = &card.household {
        out.push(CardLine::new(
            Look::Heading,
            format!("{} · {} {}", cat.card_members, cat.village, h.village),
        ));
        for m in &h.members {
            let Some(p) = &m.person else { continue };
            out.push(
                CardLine::new(
                    Look::Plain,
                    format!(
                        "  {} {} {}",
                        pad_to(&m.relation, 8),
                        pad_to(&p.name, 12),
                        p.identifier
                    ),
                )
                .to(Link::Subject(p.id.clone())),
            );
        }
    }
    if !card.households.is_empty() {
        out.push(CardLine::new(Look::Heading, cat.card_households));
        for h in &card.households {
            out.push(
                CardLine::new(
                    Look::Plain,
                    format!("  {} ({} {})", h.name, cat.relation, h.relation),
                )
                .to(Link::Subject(h.household_id.clone())),
            );
        }
    }
    // Records only for those who see them; a counter is told how.
    let none = match card.records_shown {
        true => cat.card_no_records,
        false => cat.card_records_hidden,
    };
    section(&mut out, cat.card_records, card.records.is_empty(), none);
    for r in &card.records {
        // On a household's card, whose record it is.
        let member = match r.member_name.is_empty() {
            true => String::new(),
            false => format!("[{}] ", r.member_name),
        };
        let mut head = format!(
            "▸ {member}{} · {} · {}",
            r.category, r.department, r.source_key
        );
        if r.deleted_at_ms != 0 {
            head.push_str(&format!(
                " [{} {} {}]",
                cat.card_deleted,
                day(r.deleted_at_ms),
                r.deleted_by_ticket
            ));
        }
        out.push(CardLine::new(Look::Plain, head));
        for v in &r.versions {
            let mut text = format!("    v{}", v.version);
            if v.current {
                text.push_str(&format!(" {}", cat.card_current));
            }
            if !v.start_date.is_empty() || !v.end_date.is_empty() {
                text.push_str(&format!(" {}～{}", v.start_date, v.end_date));
            }
            if v.has_amount {
                text.push_str(&format!(" {}", print::yuan(v.amount_cents)));
            }
            text.push_str(&format!(" {}", v.status));
            if v.negative {
                text.push_str(" *");
            }
            if !v.details.is_empty() {
                text.push_str(&format!(" {}", v.details));
            }
            let source = match (v.import_file.as_str(), v.ticket_no.as_str()) {
                (_, no) if !no.is_empty() => format!("{} {no}", cat.card_by_ticket),
                (file, _) if !file.is_empty() => format!("{} {file}", cat.card_by_import),
                _ => String::new(),
            };
            text.push_str(&format!(
                " · {source} {} {}",
                v.operator_name,
                day(v.created_at_ms)
            ));
            out.push(CardLine::new(Look::Dim, text));
        }
    }
    if card.records_shown {
        section(
            &mut out,
            cat.card_queries,
            card.queries.is_empty(),
            cat.card_no_queries,
        );
        for q in &card.queries {
            let outcome = match q.allowed {
                true => format!("{} {}", cat.log_allowed, q.report_no),
                false => cat.log_refused.to_string(),
            };
            out.push(CardLine::new(
                Look::Plain,
                format!(
                    "  {} {} {} {} {outcome}",
                    print::time(q.at_ms, offset),
                    q.institution,
                    q.operator_name,
                    q.purpose
                ),
            ));
        }
    }
    section(
        &mut out,
        cat.card_consents,
        card.consents.is_empty(),
        cat.card_no_consents,
    );
    for c in &card.consents {
        let mut text = format!(
            "  {} {} {}～{} {}",
            c.grantee,
            c.purpose,
            day(c.valid_from_ms),
            day(c.valid_until_ms),
            c.form_serial
        );
        if c.withdrawn_at_ms != 0 {
            text.push_str(&format!(
                " [{} {}]",
                cat.card_withdrawn,
                day(c.withdrawn_at_ms)
            ));
        }
        out.push(CardLine::new(Look::Plain, text));
    }
    section(
        &mut out,
        cat.card_tickets,
        card.tickets.is_empty(),
        cat.card_no_tickets,
    );
    for t in &card.tickets {
        let mut text = format!(
            "  {} {} {}",
            t.ticket_no,
            ticket_word(cat.lang, &t.state),
            t.received_on
        );
        if t.closed_at_ms != 0 {
            text.push_str(&format!(" → {}", day(t.closed_at_ms)));
        }
        out.push(CardLine::new(Look::Plain, text).to(Link::Ticket(t.ticket_id.clone())));
    }
    let none = cat.card_no_verifications;
    section(
        &mut out,
        cat.card_verifications,
        card.verifications.is_empty(),
        none,
    );
    for v in &card.verifications {
        let method = pb::VerificationMethod::try_from(v.method).unwrap_or_default();
        out.push(CardLine::new(
            Look::Dim,
            format!(
                "  {} {} {} {}",
                print::time(v.created_at_ms, offset),
                i18n::method_name(cat.lang, method),
                v.org_unit_name,
                v.operator_name
            ),
        ));
    }
    out
}

/// A card section's heading, and a line saying it holds nothing when so.
fn section(out: &mut Vec<CardLine>, heading: &str, empty: bool, none: &str) {
    out.push(CardLine::new(Look::Heading, heading));
    if empty {
        out.push(CardLine::new(Look::Dim, format!("  {none}")));
    }
}

/// Draws the card's lines wrapped to the width (nothing is cut: a case
/// number shows whole), scrolled so the selected line is in view.
fn render_card(frame: &mut Frame, area: Rect, lines: &[CardLine], selected: usize, theme: Theme) {
    let width = usize::from(area.width).saturating_sub(1).max(10);
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|l| print::wrap_words(&l.text, width))
        .collect();
    let height = usize::from(area.height);
    // The first line drawn: the selected line's rows end within the area.
    let mut first = 0;
    let upto: usize = rows.iter().take(selected + 1).map(Vec::len).sum();
    if upto > height {
        let mut shown = upto;
        while shown > height && first < selected {
            shown -= rows[first].len();
            first += 1;
        }
    }
    let mut out: Vec<Line> = Vec::new();
    for (i, (line, wrapped)) in lines.iter().zip(&rows).enumerate().skip(first) {
        let style = match line.look {
            Look::Heading => theme.title(),
            Look::Plain => Style::default(),
            Look::Dim => theme.dim(),
        };
        let style = if i == selected {
            theme.selected()
        } else {
            style
        };
        for (j, row) in wrapped.iter().enumerate() {
            let mark = match (i == selected, j) {
                (true, 0) => "▶",
                _ => " ",
            };
            out.push(Line::styled(format!("{mark}{row}"), style));
        }
        if out.len() >= height {
            break;
        }
    }
    frame.render_widget(Paragraph::new(out), area);
}
