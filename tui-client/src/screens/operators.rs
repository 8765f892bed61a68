//! Operators: a paged table of the operators in the caller's scope, with
//! search, create, disable/enable, password reset, and the SSH keys that
//! log an operator in at the SSH endpoint.

use credit_desk_proto::Lang;
use credit_desk_proto::pb::{self, OrgUnitKind, Role};
use credit_desk_proto::validate::{self, FieldError, Rule, field};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, TableState};
use tonic::Status;

use super::org_units::list_move;
use crate::app::{Action, App};
use crate::bind;
use crate::form::{Field, Form, FormEvent};
use crate::i18n::{self, Catalogue};
use crate::keys::{self, Binding, Key::Code, Key::Letter};
use crate::net::{Answer, Call};

pub const PAGE_SIZE: u32 = 50;
const QUERY: &str = "query";
const CONFIRM: &str = "confirm_password";
const ROLES: [Role; 6] = [
    Role::Counter,
    Role::Center,
    Role::Liaison,
    Role::Bank,
    Role::Supervisor,
    Role::Admin,
];

/// What a key does on the operator list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Move,
    New,
    Toggle,
    Edit,
    Unlock,
    ResetPassword,
    SshKeys,
    Find,
    Refresh,
    Back,
    NextPage,
    PreviousPage,
}

/// The operator list's keys (moving is `list_move`'s).
const KEYS: &[Binding<Cmd>] = &[
    bind!(
        "↑↓",
        [Code(KeyCode::Up), Code(KeyCode::Down)],
        key_select,
        Cmd::Move
    ),
    bind!("n", [Letter('n'), Code(KeyCode::F(2))], key_new, Cmd::New),
    bind!("e", [Letter('e')], key_edit, Cmd::Edit),
    bind!("d", [Letter('d')], key_toggle_enabled, Cmd::Toggle),
    bind!("p", [Letter('p')], key_reset_password, Cmd::ResetPassword),
    bind!("l", [Letter('l')], key_unlock, Cmd::Unlock),
    bind!("s", [Letter('s')], key_ssh_keys, Cmd::SshKeys),
    bind!("/", [Code(KeyCode::Char('/'))], key_find, Cmd::Find),
    bind!(
        "r",
        [Letter('r'), Code(KeyCode::F(5))],
        key_refresh,
        Cmd::Refresh
    ),
    bind!("Esc", [Code(KeyCode::Esc)], key_back, Cmd::Back),
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
];

pub enum Mode {
    List,
    Search(Form),
    /// Waiting for the org units the create or edit form offers (Some:
    /// editing that operator).
    LoadingUnits(Option<pb::Operator>),
    Create(Form),
    /// An operator's display name, role and unit.
    Edit {
        form: Form,
        operator: pb::Operator,
    },
    Reset {
        form: Form,
        operator: pb::Operator,
    },
    Confirm {
        operator: pb::Operator,
        enable: bool,
    },
    /// The selected operator's SSH keys.
    Keys(KeysPanel),
}

/// What a key does on an operator's SSH key list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyCmd {
    Move,
    Add,
    Remove,
    Back,
}

const KEY_LIST_KEYS: &[Binding<KeyCmd>] = &[
    bind!(
        "↑↓",
        [Code(KeyCode::Up), Code(KeyCode::Down)],
        key_select,
        KeyCmd::Move
    ),
    bind!(
        "a",
        [Letter('a'), Code(KeyCode::F(2))],
        key_add,
        KeyCmd::Add
    ),
    bind!("d", [Letter('d')], key_remove, KeyCmd::Remove),
    bind!("Esc", [Code(KeyCode::Esc)], key_back, KeyCmd::Back),
];

pub struct KeysPanel {
    pub operator: pb::Operator,
    pub keys: Vec<pb::SshKey>,
    pub loaded: bool,
    pub selected: usize,
    /// Pasting a new key.
    pub adding: Option<Form>,
    /// Asking before the selected key is removed.
    pub confirm_remove: bool,
}

impl KeysPanel {
    fn new(operator: pb::Operator) -> KeysPanel {
        KeysPanel {
            operator,
            keys: Vec::new(),
            loaded: false,
            selected: 0,
            adding: None,
            confirm_remove: false,
        }
    }

    fn height(&self) -> u16 {
        match &self.adding {
            Some(form) => form.height() + 2,
            None => (self.keys.len().max(1) as u16).min(6) + 3,
        }
    }

    /// `None`: leave the panel.
    fn on_key(
        &mut self,
        key: KeyEvent,
        cat: &Catalogue,
        lang: Lang,
        submit_ok: bool,
    ) -> Option<Action> {
        if let Some(form) = &mut self.adding {
            if key.code == KeyCode::Esc {
                self.adding = None;
                return Some(Action::None);
            }
            if form.handle_key(key) != FormEvent::Submit || !submit_ok {
                return Some(Action::None);
            }
            let line = form.value(field::SSH_KEY);
            if form.show_local_errors(&validate::collect([validate::ssh_public_key(&line)]), lang) {
                return Some(Action::None);
            }
            return Some(Action::Send(Call::AddSshKey(pb::AddSshKeyRequest {
                operator_id: self.operator.id.clone(),
                public_key: line,
            })));
        }
        if self.confirm_remove {
            self.confirm_remove = false;
            let chosen = self.keys.get(self.selected);
            return Some(match (key.code, chosen) {
                (KeyCode::Char('y') | KeyCode::Char('Y'), Some(k)) if submit_ok => {
                    Action::Send(Call::RemoveSshKey(pb::RemoveSshKeyRequest {
                        operator_id: self.operator.id.clone(),
                        fingerprint: k.fingerprint.clone(),
                    }))
                }
                _ => Action::None,
            });
        }
        if let Some(i) = list_move(key.code, self.selected, self.keys.len()) {
            self.selected = i;
            return Some(Action::None);
        }
        match keys::find(KEY_LIST_KEYS, &key, |c| self.offers(c)) {
            Some(KeyCmd::Back) => None,
            Some(KeyCmd::Add) => {
                self.adding = Some(Form::new(vec![Field::text(field::SSH_KEY, cat.ssh_key)]));
                Some(Action::None)
            }
            Some(KeyCmd::Remove) => {
                self.confirm_remove = true;
                Some(Action::None)
            }
            Some(KeyCmd::Move) | None => Some(Action::None),
        }
    }

    fn offers(&self, cmd: KeyCmd) -> bool {
        match cmd {
            KeyCmd::Remove => !self.keys.is_empty(),
            KeyCmd::Add => self.loaded,
            _ => true,
        }
    }

    fn hint_line(&self, cat: &Catalogue, width: usize) -> String {
        match (&self.adding, self.confirm_remove) {
            (Some(form), _) => form.footer(cat, width),
            (None, true) => cat.yes_no.to_string(),
            (None, false) => keys::footer(KEY_LIST_KEYS, cat, |c| self.offers(c), width),
        }
    }

    fn render(&self, frame: &mut Frame, area: Rect, app: &App) {
        let (cat, theme) = (app.cat, app.theme);
        let block = Block::default().borders(Borders::TOP).title(Span::styled(
            format!(
                "{} — {} ({})",
                cat.ssh_keys_title, self.operator.display_name, self.operator.username
            ),
            theme.title(),
        ));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if let Some(form) = &self.adding {
            form.render(inner, frame.buffer_mut(), theme, !app.help);
            return;
        }
        let [list, question] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
        if !self.loaded {
            frame.render_widget(Paragraph::new(cat.loading), list);
            return;
        }
        if self.keys.is_empty() {
            frame.render_widget(
                Paragraph::new(Line::styled(cat.no_ssh_keys, theme.dim())),
                list,
            );
        } else {
            let rows = self.keys.iter().map(|k| {
                Row::new(vec![
                    k.fingerprint.clone(),
                    k.algorithm.clone(),
                    k.comment.clone(),
                ])
            });
            let mut state = TableState::default().with_selected(Some(self.selected));
            frame.render_stateful_widget(
                Table::new(
                    rows,
                    [
                        Constraint::Length(51),
                        Constraint::Length(12),
                        Constraint::Min(8),
                    ],
                )
                .row_highlight_style(theme.selected())
                .highlight_symbol("▶"),
                list,
                &mut state,
            );
        }
        if self.confirm_remove {
            frame.render_widget(
                Paragraph::new(Line::styled(cat.confirm_remove_key, theme.warning())),
                question,
            );
        }
    }
}

pub struct OperatorsScreen {
    pub rows: Vec<pb::Operator>,
    pub selected: usize,
    pub loaded: bool,
    pub query: String,
    /// Cursor of the page shown, and of the pages before it (for PgUp).
    page_cursor: String,
    previous_pages: Vec<String>,
    next_cursor: String,
    units: Vec<pb::OrgUnit>,
    pub mode: Mode,
}

impl Default for OperatorsScreen {
    fn default() -> Self {
        OperatorsScreen {
            rows: Vec::new(),
            selected: 0,
            loaded: false,
            query: String::new(),
            page_cursor: String::new(),
            previous_pages: Vec::new(),
            next_cursor: String::new(),
            units: Vec::new(),
            mode: Mode::List,
        }
    }
}

impl OperatorsScreen {
    pub fn is_typing(&self) -> bool {
        match &self.mode {
            Mode::Search(_) | Mode::Create(_) | Mode::Edit { .. } | Mode::Reset { .. } => true,
            Mode::Keys(panel) => panel.adding.is_some(),
            _ => false,
        }
    }

    /// The call that loads the page starting at `cursor`.
    pub fn load(&self, cursor: String) -> Call {
        Call::ListOperators(pb::ListOperatorsRequest {
            page: Some(pb::PageRequest {
                cursor,
                limit: PAGE_SIZE,
            }),
            org_unit_id: String::new(),
            query: self.query.clone(),
        })
    }

    fn create_form(&self, cat: &Catalogue, lang: Lang) -> Form {
        let roles = ROLES
            .iter()
            .map(|r| (*r as i32, i18n::role_name(lang, *r).to_string()))
            .collect();
        let units = self
            .units
            .iter()
            .enumerate()
            .map(|(i, u)| (i as i32, format!("{} [{}]", u.name, u.code)))
            .collect();
        Form::new(vec![
            Field::text(field::USERNAME, cat.username),
            Field::text(field::DISPLAY_NAME, cat.display_name),
            Field::choice(field::ROLE, cat.role, roles),
            Field::choice(field::ORG_UNIT_ID, cat.org_unit, units),
            Field::secret(field::INITIAL_PASSWORD, cat.initial_password),
        ])
    }

    /// The edit form, filled with the operator as they are.
    fn edit_form(&self, cat: &Catalogue, lang: Lang, operator: pb::Operator) -> Mode {
        let mut form = self.create_form(cat, lang);
        form.set_hidden(field::USERNAME, true);
        form.set_hidden(field::INITIAL_PASSWORD, true);
        form.set_text(field::DISPLAY_NAME, &operator.display_name);
        form.select(field::ROLE, operator.role);
        if let Some(i) = self.units.iter().position(|u| u.id == operator.org_unit_id) {
            form.select(field::ORG_UNIT_ID, i as i32);
        }
        form.focus_on(field::DISPLAY_NAME);
        Mode::Edit { form, operator }
    }

    fn submit_create(&mut self, lang: Lang) -> Action {
        let Mode::Create(form) = &mut self.mode else {
            return Action::None;
        };
        let username = form.value(field::USERNAME).to_lowercase();
        let display_name = form.value(field::DISPLAY_NAME);
        let role = Role::try_from(form.choice(field::ROLE)).unwrap_or_default();
        let unit = self.units.get(form.choice(field::ORG_UNIT_ID) as usize);
        let password = form.raw(field::INITIAL_PASSWORD);
        let unit_check = match unit {
            Some(u) => {
                validate::role_fits_unit(role, OrgUnitKind::try_from(u.kind).unwrap_or_default())
            }
            None => Err(FieldError::new(field::ORG_UNIT_ID, Rule::Required)),
        };
        let errors = validate::collect([
            validate::username(&username),
            validate::display_name(&display_name),
            unit_check,
            validate::new_password(field::INITIAL_PASSWORD, &password, &username),
        ]);
        if form.show_local_errors(&errors, lang) {
            return Action::None;
        }
        Action::Send(Call::CreateOperator(pb::CreateOperatorRequest {
            request_id: form.request_id(),
            username,
            display_name,
            role: role as i32,
            org_unit_id: unit.map(|u| u.id.clone()).unwrap_or_default(),
            initial_password: password,
        }))
    }

    pub fn on_key(&mut self, key: KeyEvent, cat: &Catalogue, lang: Lang, waiting: bool) -> Action {
        let submit_ok = !waiting;
        match &mut self.mode {
            Mode::List => {}
            Mode::Keys(panel) => {
                return match panel.on_key(key, cat, lang, submit_ok) {
                    Some(action) => action,
                    None => {
                        self.mode = Mode::List;
                        Action::None
                    }
                };
            }
            Mode::LoadingUnits(_) => {
                if key.code == KeyCode::Esc {
                    self.mode = Mode::List;
                }
                return Action::None;
            }
            Mode::Confirm { operator, enable } => {
                let action = match key.code {
                    KeyCode::Char('y') | KeyCode::Char('Y') if submit_ok => {
                        Action::Send(Call::SetOperatorEnabled(pb::SetOperatorEnabledRequest {
                            operator_id: operator.id.clone(),
                            enabled: *enable,
                        }))
                    }
                    KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => Action::None,
                    _ => return Action::None,
                };
                self.mode = Mode::List;
                return action;
            }
            Mode::Search(form) => {
                if key.code == KeyCode::Esc {
                    self.mode = Mode::List;
                    return Action::None;
                }
                if form.handle_key(key) == FormEvent::Submit && submit_ok {
                    self.query = form.value(QUERY);
                    self.mode = Mode::List;
                    self.previous_pages.clear();
                    self.page_cursor.clear();
                    return Action::Send(self.load(String::new()));
                }
                return Action::None;
            }
            Mode::Create(form) => {
                if key.code == KeyCode::Esc {
                    self.mode = Mode::List;
                    return Action::None;
                }
                if form.handle_key(key) == FormEvent::Submit && submit_ok {
                    return self.submit_create(lang);
                }
                return Action::None;
            }
            Mode::Edit { form, operator } => {
                if key.code == KeyCode::Esc {
                    self.mode = Mode::List;
                    return Action::None;
                }
                if form.handle_key(key) != FormEvent::Submit || !submit_ok {
                    return Action::None;
                }
                let display_name = form.value(field::DISPLAY_NAME);
                let role = Role::try_from(form.choice(field::ROLE)).unwrap_or_default();
                let unit = self.units.get(form.choice(field::ORG_UNIT_ID) as usize);
                let unit_check = match unit {
                    Some(u) => validate::role_fits_unit(
                        role,
                        OrgUnitKind::try_from(u.kind).unwrap_or_default(),
                    ),
                    None => Err(FieldError::new(field::ORG_UNIT_ID, Rule::Required)),
                };
                let errors = validate::collect([validate::display_name(&display_name), unit_check]);
                if form.show_local_errors(&errors, lang) {
                    return Action::None;
                }
                return Action::Send(Call::UpdateOperator(pb::UpdateOperatorRequest {
                    operator_id: operator.id.clone(),
                    display_name,
                    role: role as i32,
                    org_unit_id: unit.map(|u| u.id.clone()).unwrap_or_default(),
                }));
            }
            Mode::Reset { form, operator } => {
                if key.code == KeyCode::Esc {
                    self.mode = Mode::List;
                    return Action::None;
                }
                if form.handle_key(key) != FormEvent::Submit || !submit_ok {
                    return Action::None;
                }
                let new = form.raw(field::NEW_PASSWORD);
                let errors = validate::collect([validate::new_password(
                    field::NEW_PASSWORD,
                    &new,
                    &operator.username,
                )]);
                if form.show_local_errors(&errors, lang) {
                    return Action::None;
                }
                if form.raw(CONFIRM) != new {
                    form.set_error(CONFIRM, cat.passwords_differ.to_string());
                    return Action::None;
                }
                return Action::Send(Call::ResetPassword(pb::ResetPasswordRequest {
                    operator_id: operator.id.clone(),
                    new_password: new,
                }));
            }
        }
        if let Some(i) = list_move(key.code, self.selected, self.rows.len()) {
            self.selected = i;
            return Action::None;
        }
        let current = self.rows.get(self.selected).cloned();
        match keys::find(KEYS, &key, |c| self.offers(c)) {
            Some(Cmd::Back) => Action::Back,
            Some(Cmd::Refresh) => Action::Send(self.load(self.page_cursor.clone())),
            Some(Cmd::NextPage) => {
                let next = std::mem::take(&mut self.next_cursor);
                self.previous_pages
                    .push(std::mem::replace(&mut self.page_cursor, next.clone()));
                Action::Send(self.load(next))
            }
            Some(Cmd::PreviousPage) => {
                self.page_cursor = self.previous_pages.pop().unwrap_or_default();
                Action::Send(self.load(self.page_cursor.clone()))
            }
            Some(Cmd::Find) => {
                self.mode = Mode::Search(Form::new(vec![
                    Field::text(QUERY, cat.search).with_value(&self.query),
                ]));
                Action::None
            }
            Some(Cmd::New) => {
                if self.units.is_empty() {
                    self.mode = Mode::LoadingUnits(None);
                    Action::Send(Call::ListOrgUnits)
                } else {
                    self.mode = Mode::Create(self.create_form(cat, lang));
                    Action::None
                }
            }
            Some(Cmd::Edit) => match current {
                Some(operator) if self.units.is_empty() => {
                    self.mode = Mode::LoadingUnits(Some(operator));
                    Action::Send(Call::ListOrgUnits)
                }
                Some(operator) => {
                    self.mode = self.edit_form(cat, lang, operator);
                    Action::None
                }
                None => Action::None,
            },
            Some(Cmd::Toggle) => match current {
                Some(operator) => {
                    let enable = !operator.enabled;
                    self.mode = Mode::Confirm { operator, enable };
                    Action::None
                }
                None => Action::None,
            },
            Some(Cmd::Unlock) => match current {
                Some(op) if op.locked_until_ms > 0 => Action::Send(Call::UnlockOperator(op.id)),
                _ => Action::None,
            },
            Some(Cmd::ResetPassword) => match current {
                Some(operator) => {
                    self.mode = Mode::Reset {
                        form: Form::new(vec![
                            Field::secret(field::NEW_PASSWORD, cat.new_password),
                            Field::secret(CONFIRM, cat.confirm_password),
                        ]),
                        operator,
                    };
                    Action::None
                }
                None => Action::None,
            },
            Some(Cmd::SshKeys) => match current {
                Some(operator) => {
                    let call = Call::ListSshKeys(operator.id.clone());
                    self.mode = Mode::Keys(KeysPanel::new(operator));
                    Action::Send(call)
                }
                None => Action::None,
            },
            Some(Cmd::Move) | None => Action::None,
        }
    }

    /// Paging is offered only where there is a page to go to.
    fn offers(&self, cmd: Cmd) -> bool {
        match cmd {
            Cmd::NextPage => !self.next_cursor.is_empty(),
            Cmd::PreviousPage => !self.previous_pages.is_empty(),
            Cmd::Unlock => self
                .rows
                .get(self.selected)
                .is_some_and(|op| op.locked_until_ms > 0),
            _ => true,
        }
    }

    /// The list's key line, `width` columns at most.
    pub fn hint_line(&self, cat: &Catalogue, width: usize) -> String {
        match &self.mode {
            Mode::List | Mode::LoadingUnits(_) => {
                keys::footer(KEYS, cat, |c| self.offers(c), width)
            }
            Mode::Confirm { .. } => cat.yes_no.to_string(),
            Mode::Keys(panel) => panel.hint_line(cat, width),
            Mode::Search(form)
            | Mode::Create(form)
            | Mode::Edit { form, .. }
            | Mode::Reset { form, .. } => form.footer(cat, width),
        }
    }

    fn replace_row(&mut self, op: pb::Operator) {
        match self.rows.iter_mut().find(|r| r.id == op.id) {
            Some(row) => *row = op,
            None => {
                self.rows.push(op);
                self.rows.sort_by(|a, b| a.username.cmp(&b.username));
            }
        }
    }

    pub fn on_answer(&mut self, answer: Answer, cat: &Catalogue, lang: Lang) -> Action {
        match answer {
            Answer::Operators(page) => {
                self.rows = page.operators;
                self.next_cursor = page.next_cursor;
                self.loaded = true;
                self.selected = self.selected.min(self.rows.len().saturating_sub(1));
                Action::None
            }
            Answer::OrgUnits(units) => {
                self.units = units;
                self.mode = match std::mem::replace(&mut self.mode, Mode::List) {
                    Mode::LoadingUnits(Some(operator)) => self.edit_form(cat, lang, operator),
                    _ => Mode::Create(self.create_form(cat, lang)),
                };
                Action::None
            }
            Answer::OperatorCreated(op) => {
                let id = op.id.clone();
                self.replace_row(op);
                self.selected = self.rows.iter().position(|r| r.id == id).unwrap_or(0);
                self.mode = Mode::List;
                Action::Info(cat.operator_created.to_string())
            }
            Answer::OperatorUpdated(op) => {
                self.replace_row(op);
                self.mode = Mode::List;
                Action::Info(cat.operator_updated.to_string())
            }
            Answer::PasswordReset(op) => {
                self.replace_row(op);
                self.mode = Mode::List;
                Action::Info(cat.password_reset_done.to_string())
            }
            Answer::Unlocked(op) => {
                self.replace_row(op);
                Action::Info(cat.operator_unlocked.to_string())
            }
            Answer::SshKeys(keys) => {
                let Mode::Keys(panel) = &mut self.mode else {
                    return Action::None;
                };
                let before = panel.keys.len();
                let was_loaded = std::mem::replace(&mut panel.loaded, true);
                let added = panel.adding.take().is_some();
                panel.keys = keys;
                panel.selected = panel.selected.min(panel.keys.len().saturating_sub(1));
                match (was_loaded, added, panel.keys.len() < before) {
                    (true, true, _) => Action::Info(cat.ssh_key_added.to_string()),
                    (true, false, true) => Action::Info(cat.ssh_key_removed.to_string()),
                    _ => Action::None,
                }
            }
            _ => Action::None,
        }
    }

    pub fn on_error(&mut self, status: &Status) -> bool {
        match &mut self.mode {
            Mode::Create(form)
            | Mode::Edit { form, .. }
            | Mode::Reset { form, .. }
            | Mode::Search(form) => form.apply_status(status),
            Mode::Keys(KeysPanel {
                adding: Some(form), ..
            }) => form.apply_status(status),
            Mode::LoadingUnits(_) => {
                self.mode = Mode::List;
                false
            }
            _ => false,
        }
    }

    fn state_text(op: &pb::Operator, cat: &Catalogue) -> String {
        let mut parts = vec![if op.enabled {
            cat.enabled
        } else {
            cat.disabled
        }];
        if op.locked_until_ms > 0 {
            parts.push(cat.locked);
        }
        if op.must_change_password {
            parts.push(cat.must_change);
        }
        parts.join(",")
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, app: &App) {
        let (cat, theme) = (app.cat, app.theme);
        let panel_height = match &self.mode {
            Mode::Search(f)
            | Mode::Create(f)
            | Mode::Edit { form: f, .. }
            | Mode::Reset { form: f, .. } => f.height() + 2,
            Mode::Confirm { .. } | Mode::LoadingUnits(_) => 2,
            Mode::Keys(panel) => panel.height(),
            Mode::List => 0,
        };
        let [table_area, panel, hint] = Layout::vertical([
            Constraint::Min(3),
            Constraint::Length(panel_height),
            Constraint::Length(1),
        ])
        .areas(area);
        let header = Row::new(vec![
            cat.username,
            cat.display_name,
            cat.role,
            cat.org_unit,
            cat.state,
            cat.last_login,
        ])
        .style(theme.title());
        let rows: Vec<Row> = self
            .rows
            .iter()
            .map(|op| {
                let role = i18n::role_name(app.lang, Role::try_from(op.role).unwrap_or_default());
                let state = Self::state_text(op, cat);
                let row = Row::new(vec![
                    op.username.clone(),
                    op.display_name.clone(),
                    role.to_string(),
                    op.org_unit_name.clone(),
                    state,
                    // MM-DD HH:MM; never: a dash.
                    match op.last_login_at_ms {
                        0 => "—".to_string(),
                        at => crate::print::time(at, app.utc_offset)
                            .get(5..)
                            .unwrap_or_default()
                            .to_string(),
                    },
                ]);
                if op.enabled {
                    row
                } else {
                    row.style(theme.dim())
                }
            })
            .collect();
        let mut title = if self.loaded {
            format!("{} ({})", cat.operators_title, self.rows.len())
        } else {
            cat.loading.to_string()
        };
        if !self.query.is_empty() {
            title.push_str(&format!(" · {}: {}", cat.search, self.query));
        }
        if !self.next_cursor.is_empty() {
            title.push_str(&format!(" · {}", cat.more_pages));
        }
        let mut state =
            TableState::default().with_selected((!self.rows.is_empty()).then_some(self.selected));
        frame.render_stateful_widget(
            Table::new(
                rows,
                [
                    Constraint::Length(12),
                    Constraint::Length(10),
                    Constraint::Length(12),
                    Constraint::Min(10),
                    Constraint::Length(12),
                    Constraint::Length(11),
                ],
            )
            .header(header)
            .block(Block::default().borders(Borders::TOP).title(title))
            .row_highlight_style(theme.selected())
            .highlight_symbol("▶"),
            table_area,
            &mut state,
        );
        let panel_block = |t: String| {
            Block::default()
                .borders(Borders::TOP)
                .title(Span::styled(t, theme.title()))
        };
        match &self.mode {
            Mode::List => {}
            Mode::Keys(keys) => keys.render(frame, panel, app),
            Mode::LoadingUnits(_) => frame.render_widget(
                Paragraph::new(cat.loading).block(panel_block(cat.new_operator.into())),
                panel,
            ),
            Mode::Confirm { operator, enable } => {
                let q = if *enable {
                    cat.confirm_enable
                } else {
                    cat.confirm_disable
                };
                frame.render_widget(
                    Paragraph::new(Line::styled(q, theme.warning())).block(panel_block(format!(
                        "{} ({})",
                        operator.display_name, operator.username
                    ))),
                    panel,
                );
            }
            Mode::Search(form)
            | Mode::Create(form)
            | Mode::Edit { form, .. }
            | Mode::Reset { form, .. } => {
                let title = match &self.mode {
                    Mode::Search(_) => cat.search.to_string(),
                    Mode::Create(_) => cat.new_operator.to_string(),
                    Mode::Edit { operator, .. } => {
                        format!("{} — {}", cat.edit_operator_title, operator.username)
                    }
                    Mode::Reset { operator, .. } => {
                        format!(
                            "{} — {} ({})",
                            cat.reset_password_title, operator.display_name, operator.username
                        )
                    }
                    _ => String::new(),
                };
                let block = panel_block(title);
                let inner = block.inner(panel);
                frame.render_widget(block, panel);
                form.render(inner, frame.buffer_mut(), theme, !app.help);
            }
        }
        let hint_text = self.hint_line(cat, usize::from(hint.width));
        frame.render_widget(Paragraph::new(Line::styled(hint_text, theme.dim())), hint);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::{KeyEventKind, KeyModifiers};

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new_with_kind(code, KeyModifiers::NONE, KeyEventKind::Press)
    }

    fn op(name: &str, enabled: bool) -> pb::Operator {
        pb::Operator {
            id: format!("id-{name}"),
            username: name.into(),
            enabled,
            ..Default::default()
        }
    }

    fn page(names: &[&str], next: &str) -> Answer {
        Answer::Operators(pb::ListOperatorsResponse {
            operators: names.iter().map(|n| op(n, true)).collect(),
            next_cursor: next.into(),
        })
    }

    fn cursor_of(action: Action) -> String {
        match action {
            Action::Send(Call::ListOperators(req)) => req.page.unwrap().cursor,
            _ => panic!("expected a page load"),
        }
    }

    #[test]
    fn pages_forward_and_back() {
        let (cat, lang) = (&i18n::ZH, Lang::Zh);
        let mut s = OperatorsScreen::default();
        s.on_answer(page(&["a", "b"], "b"), cat, lang);
        assert_eq!(
            cursor_of(s.on_key(key(KeyCode::PageDown), cat, lang, false)),
            "b"
        );
        s.on_answer(page(&["c"], ""), cat, lang);
        assert!(matches!(
            s.on_key(key(KeyCode::PageDown), cat, lang, false),
            Action::None
        ));
        assert_eq!(
            cursor_of(s.on_key(key(KeyCode::PageUp), cat, lang, false)),
            ""
        );
    }

    #[test]
    fn only_a_locked_operator_is_offered_an_unlock() {
        let (cat, lang) = (&i18n::ZH, Lang::Zh);
        let mut s = OperatorsScreen::default();
        s.on_answer(page(&["a"], ""), cat, lang);
        assert!(!s.hint_line(cat, 200).contains("解除锁定"));
        assert!(matches!(
            s.on_key(key(KeyCode::Char('l')), cat, lang, false),
            Action::None
        ));
        let locked = pb::Operator {
            locked_until_ms: 1,
            ..op("a", true)
        };
        s.on_answer(
            Answer::Operators(pb::ListOperatorsResponse {
                operators: vec![locked],
                next_cursor: String::new(),
            }),
            cat,
            lang,
        );
        assert!(s.hint_line(cat, 200).contains("l 解除锁定"));
        match s.on_key(key(KeyCode::Char('l')), cat, lang, false) {
            Action::Send(Call::UnlockOperator(id)) => assert_eq!(id, "id-a"),
            _ => panic!("expected the unlock"),
        }
        s.on_answer(Answer::Unlocked(op("a", true)), cat, lang);
        assert_eq!(s.rows[0].locked_until_ms, 0);
    }

    #[test]
    fn disabling_asks_first() {
        let (cat, lang) = (&i18n::ZH, Lang::Zh);
        let mut s = OperatorsScreen::default();
        s.on_answer(page(&["a"], ""), cat, lang);
        assert!(matches!(
            s.on_key(key(KeyCode::Char('d')), cat, lang, false),
            Action::None
        ));
        assert!(matches!(s.mode, Mode::Confirm { enable: false, .. }));
        match s.on_key(key(KeyCode::Char('y')), cat, lang, false) {
            Action::Send(Call::SetOperatorEnabled(req)) => {
                assert_eq!(req.operator_id, "id-a");
                assert!(!req.enabled);
            }
            _ => panic!("expected the update"),
        }
        s.on_answer(Answer::OperatorUpdated(op("a", false)), cat, lang);
        assert!(!s.rows[0].enabled);
    }

    #[test]
    fn create_checks_locally_with_the_shared_rules() {
        let (cat, lang) = (&i18n::ZH, Lang::Zh);
        let mut s = OperatorsScreen::default();
        assert!(matches!(
            s.on_key(key(KeyCode::Char('n')), cat, lang, false),
            Action::Send(Call::ListOrgUnits)
        ));
        s.on_answer(
            Answer::OrgUnits(vec![pb::OrgUnit {
                id: "u1".into(),
                kind: OrgUnitKind::Township as i32,
                ..Default::default()
            }]),
            cat,
            lang,
        );
        for c in "Bad".chars() {
            s.on_key(key(KeyCode::Char(c)), cat, lang, false);
        }
        assert!(matches!(
            s.on_key(key(KeyCode::Enter), cat, lang, false),
            Action::None
        ));
        let Mode::Create(form) = &s.mode else {
            panic!()
        };
        let bad: Vec<_> = form
            .fields
            .iter()
            .filter(|f| f.error.is_some())
            .map(|f| f.name)
            .collect();
        assert_eq!(bad, [field::DISPLAY_NAME, field::INITIAL_PASSWORD]);
    }
}
