//! Org units: the caller's subtree as an indented tree, and a form to add a
//! unit below the selected one.

use credit_desk_proto::Lang;
use credit_desk_proto::pb::{self, OrgUnitKind};
use credit_desk_proto::validate::{self, FieldError, Rule, field};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph};
use tonic::Status;

/// What a key does on the org-unit tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Move,
    New,
    Edit,
    Toggle,
    Refresh,
    Back,
}

/// The org-unit tree's keys (moving is `list_move`'s).
const KEYS: &[Binding<Cmd>] = &[
    bind!(
        "↑↓",
        [Code(KeyCode::Up), Code(KeyCode::Down)],
        key_select,
        Cmd::Move
    ),
    bind!(
        "n",
        [Letter('n'), Code(KeyCode::F(2))],
        key_new_below,
        Cmd::New
    ),
    bind!("e", [Letter('e')], key_edit, Cmd::Edit),
    bind!("d", [Letter('d')], key_toggle_enabled, Cmd::Toggle),
    bind!(
        "r",
        [Letter('r'), Code(KeyCode::F(5))],
        key_refresh,
        Cmd::Refresh
    ),
    bind!("Esc", [Code(KeyCode::Esc)], key_back, Cmd::Back),
];

/// The screen's key line, `width` columns at most.
use crate::app::{Action, App};
use crate::bind;
use crate::form::{Field, Form, FormEvent};
use crate::i18n::{self, Catalogue};
use crate::keys::{self, Binding, Key::Code, Key::Letter};
use crate::net::{Answer, Call};

pub struct NewUnit {
    pub form: Form,
    pub parent: pb::OrgUnit,
}

/// Renaming or moving a unit: the form, the unit, and the ids of the
/// parents offered (in the form's choice order).
pub struct EditUnit {
    pub form: Form,
    pub unit: pb::OrgUnit,
    pub parents: Vec<String>,
}

#[derive(Default)]
pub struct OrgUnitsScreen {
    pub units: Vec<pb::OrgUnit>,
    pub selected: usize,
    pub loaded: bool,
    pub new_unit: Option<NewUnit>,
    pub edit: Option<EditUnit>,
    /// Disabling or enabling this unit, once confirmed with y.
    pub confirm: Option<pb::OrgUnit>,
    /// Said once the list read again after a change has come.
    pending_info: Option<String>,
}

const CHILD_KINDS: [OrgUnitKind; 4] = [
    OrgUnitKind::Township,
    OrgUnitKind::VillageStation,
    OrgUnitKind::Department,
    OrgUnitKind::Bank,
];

/// Moves a list selection by `delta`, clamped to the list.
pub fn step(selected: usize, len: usize, delta: isize) -> usize {
    if len == 0 {
        return 0;
    }
    selected.saturating_add_signed(delta).min(len - 1)
}

/// List movement keys shared by the list screens: arrows, j/k, pages, ends.
pub fn list_move(code: KeyCode, selected: usize, len: usize) -> Option<usize> {
    let delta: isize = match code {
        KeyCode::Up | KeyCode::Char('k') => -1,
        KeyCode::Down | KeyCode::Char('j') => 1,
        KeyCode::Home => -(len as isize),
        KeyCode::End => len as isize,
        _ => return None,
    };
    Some(step(selected, len, delta))
}

impl OrgUnitsScreen {
    /// The open form's keys, or the list's.
    pub fn hint_line(&self, cat: &Catalogue, width: usize) -> String {
        if let Some(unit) = &self.confirm {
            return match unit.disabled {
                true => cat.confirm_enable_unit.to_string(),
                false => cat.confirm_disable_unit.to_string(),
            };
        }
        let form = self.new_unit.as_ref().map(|n| &n.form);
        match form.or(self.edit.as_ref().map(|e| &e.form)) {
            Some(form) => form.footer(cat, width),
            None => keys::footer(KEYS, cat, |c| self.offers(c), width),
        }
    }

    /// The root (the center) is never disabled.
    fn offers(&self, cmd: Cmd) -> bool {
        match cmd {
            Cmd::Toggle => self
                .units
                .get(self.selected)
                .is_some_and(|u| !u.parent_id.is_empty()),
            _ => true,
        }
    }

    pub fn is_typing(&self) -> bool {
        self.new_unit.is_some() || self.edit.is_some()
    }

    /// The rename-and-move form: parents whose kind fits, never the unit
    /// itself or one below it; the root has no parent to choose.
    fn open_edit(&mut self, cat: &Catalogue) {
        let Some(unit) = self.units.get(self.selected).cloned() else {
            return;
        };
        let kind = OrgUnitKind::try_from(unit.kind).unwrap_or_default();
        let below = |u: &pb::OrgUnit| {
            // The unit's subtree follows it in the depth-first list.
            let at = self.units.iter().position(|x| x.id == unit.id).unwrap_or(0);
            self.units[at..]
                .iter()
                .take_while(|x| x.id == unit.id || x.depth > unit.depth)
                .any(|x| x.id == u.id)
        };
        let parents: Vec<&pb::OrgUnit> = self
            .units
            .iter()
            .filter(|u| !below(u))
            .filter(|u| {
                let parent = OrgUnitKind::try_from(u.kind).unwrap_or_default();
                validate::unit_kind_fits_parent(kind, parent).is_ok()
            })
            .collect();
        let choices = parents
            .iter()
            .enumerate()
            .map(|(i, u)| (i as i32, format!("{} [{}]", u.name, u.code)))
            .collect();
        let mut form = Form::new(vec![
            Field::text(field::NAME, cat.name).with_value(&unit.name),
            Field::choice(field::PARENT_ID, cat.parent_unit, choices),
        ]);
        if let Some(i) = parents.iter().position(|u| u.id == unit.parent_id) {
            form.select(field::PARENT_ID, i as i32);
        }
        form.set_hidden(field::PARENT_ID, unit.parent_id.is_empty());
        let parents = parents.iter().map(|u| u.id.clone()).collect();
        self.edit = Some(EditUnit {
            form,
            unit,
            parents,
        });
    }

    fn on_edit_key(&mut self, key: KeyEvent, lang: Lang, waiting: bool) -> Action {
        let Some(edit) = &mut self.edit else {
            return Action::None;
        };
        if key.code == KeyCode::Esc {
            self.edit = None;
            return Action::None;
        }
        if edit.form.handle_key(key) != FormEvent::Submit || waiting {
            return Action::None;
        }
        let name = edit.form.value(field::NAME);
        if edit
            .form
            .show_local_errors(&validate::collect([validate::unit_name(&name)]), lang)
        {
            return Action::None;
        }
        let parent_id = match edit.unit.parent_id.is_empty() {
            true => String::new(),
            false => usize::try_from(edit.form.choice(field::PARENT_ID))
                .ok()
                .and_then(|i| edit.parents.get(i))
                .cloned()
                .unwrap_or_default(),
        };
        Action::Send(Call::UpdateOrgUnit(pb::UpdateOrgUnitRequest {
            org_unit_id: edit.unit.id.clone(),
            name,
            parent_id,
            enabled: !edit.unit.disabled,
        }))
    }

    fn open_form(&mut self, cat: &Catalogue, lang: Lang) -> Action {
        let Some(parent) = self.units.get(self.selected).cloned() else {
            return Action::None;
        };
        let parent_kind = OrgUnitKind::try_from(parent.kind).unwrap_or_default();
        let kinds: Vec<(i32, String)> = CHILD_KINDS
            .iter()
            .filter(|k| validate::unit_kind_fits_parent(**k, parent_kind).is_ok())
            .map(|k| (*k as i32, i18n::kind_name(lang, *k).to_string()))
            .collect();
        if kinds.is_empty() {
            let e = FieldError::new(field::KIND, Rule::KindDoesNotFitParent);
            return Action::Refuse(format!("{}: {}", parent.name, e.message(lang)));
        }
        self.new_unit = Some(NewUnit {
            form: Form::new(vec![
                Field::text(field::CODE, cat.code),
                Field::text(field::NAME, cat.name),
                Field::choice(field::KIND, cat.kind, kinds),
            ]),
            parent,
        });
        Action::None
    }

    pub fn on_key(&mut self, key: KeyEvent, cat: &Catalogue, lang: Lang, waiting: bool) -> Action {
        if self.edit.is_some() {
            return self.on_edit_key(key, lang, waiting);
        }
        if let Some(unit) = self.confirm.take() {
            return match key.code {
                KeyCode::Char('y' | 'Y') if !waiting => {
                    Action::Send(Call::UpdateOrgUnit(pb::UpdateOrgUnitRequest {
                        org_unit_id: unit.id,
                        name: unit.name,
                        parent_id: unit.parent_id,
                        enabled: unit.disabled,
                    }))
                }
                _ => Action::None,
            };
        }
        if let Some(new) = &mut self.new_unit {
            if key.code == KeyCode::Esc {
                self.new_unit = None;
                return Action::None;
            }
            if new.form.handle_key(key) != FormEvent::Submit || waiting {
                return Action::None;
            }
            let code = new.form.value(field::CODE).to_uppercase();
            let name = new.form.value(field::NAME);
            let kind = OrgUnitKind::try_from(new.form.choice(field::KIND)).unwrap_or_default();
            let errors = validate::collect([
                validate::unit_code(&code),
                validate::unit_name(&name),
                validate::unit_kind_fits_parent(
                    kind,
                    OrgUnitKind::try_from(new.parent.kind).unwrap_or_default(),
                ),
            ]);
            if new.form.show_local_errors(&errors, lang) {
                return Action::None;
            }
            return Action::Send(Call::CreateOrgUnit(pb::CreateOrgUnitRequest {
                request_id: new.form.request_id(),
                code,
                name,
                kind: kind as i32,
                parent_id: new.parent.id.clone(),
            }));
        }
        if let Some(i) = list_move(key.code, self.selected, self.units.len()) {
            self.selected = i;
            return Action::None;
        }
        match keys::find(KEYS, &key, |c| self.offers(c)) {
            Some(Cmd::Back) => Action::Back,
            Some(Cmd::New) => self.open_form(cat, lang),
            Some(Cmd::Edit) => {
                self.open_edit(cat);
                Action::None
            }
            Some(Cmd::Toggle) => {
                self.confirm = self.units.get(self.selected).cloned();
                Action::None
            }
            Some(Cmd::Refresh) => Action::Send(Call::ListOrgUnits),
            Some(Cmd::Move) | None => Action::None,
        }
    }

    pub fn on_answer(&mut self, answer: Answer, cat: &Catalogue, _lang: Lang) -> Action {
        match answer {
            Answer::OrgUnits(units) => {
                let selected = self.units.get(self.selected).map(|u| u.id.clone());
                self.units = units;
                self.loaded = true;
                self.selected = selected
                    .and_then(|id| self.units.iter().position(|u| u.id == id))
                    .unwrap_or(self.selected)
                    .min(self.units.len().saturating_sub(1));
                match self.pending_info.take() {
                    Some(text) => Action::Info(text),
                    None => Action::None,
                }
            }
            Answer::OrgUnitCreated(unit) => {
                self.new_unit = None;
                // Place it after its parent's last descendant until the next refresh.
                let at = match self.units.iter().position(|u| u.id == unit.parent_id) {
                    Some(p) => {
                        let depth = self.units[p].depth;
                        p + 1
                            + self.units[p + 1..]
                                .iter()
                                .take_while(|u| u.depth > depth)
                                .count()
                    }
                    None => self.units.len(),
                };
                self.units.insert(at, unit);
                self.selected = at;
                Action::Info(cat.org_unit_created.to_string())
            }
            // A move reorders the tree: the list is read again.
            Answer::OrgUnitUpdated(unit) => {
                self.edit = None;
                let text = match unit.disabled {
                    true => cat.org_unit_disabled,
                    false => cat.org_unit_updated,
                };
                if let Some(u) = self.units.iter_mut().find(|u| u.id == unit.id) {
                    *u = unit;
                }
                self.pending_info = Some(text.to_string());
                Action::Send(Call::ListOrgUnits)
            }
            _ => Action::None,
        }
    }

    pub fn on_error(&mut self, status: &Status) -> bool {
        let form = self.new_unit.as_mut().map(|n| &mut n.form);
        match form.or(self.edit.as_mut().map(|e| &mut e.form)) {
            Some(form) => form.apply_status(status),
            None => false,
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, app: &App) {
        let (cat, theme) = (app.cat, app.theme);
        let form_height = match (&self.new_unit, &self.edit) {
            (Some(n), _) => n.form.height() + 2,
            (None, Some(e)) => e.form.height() + 2,
            (None, None) => 0,
        };
        let [list_area, form_area, hint] = Layout::vertical([
            Constraint::Min(3),
            Constraint::Length(form_height),
            Constraint::Length(1),
        ])
        .areas(area);
        let items: Vec<ListItem> = self
            .units
            .iter()
            .map(|u| {
                let kind =
                    i18n::kind_name(app.lang, OrgUnitKind::try_from(u.kind).unwrap_or_default());
                let mut spans = vec![
                    Span::raw(format!("{}{} ", "  ".repeat(u.depth as usize), u.name)),
                    Span::styled(format!("[{}] {kind}", u.code), theme.dim()),
                ];
                if u.disabled {
                    spans.push(Span::styled(format!(" {}", cat.disabled), theme.warning()));
                }
                ListItem::new(Line::from(spans))
            })
            .collect();
        let mut state =
            ListState::default().with_selected((!self.units.is_empty()).then_some(self.selected));
        let title = if self.loaded || !self.units.is_empty() {
            format!("{} ({})", cat.org_units_title, self.units.len())
        } else {
            cat.loading.to_string()
        };
        frame.render_stateful_widget(
            List::new(items)
                .block(Block::default().borders(Borders::TOP).title(title))
                .highlight_style(theme.selected())
                .highlight_symbol("▶"),
            list_area,
            &mut state,
        );
        if let Some(new) = &self.new_unit {
            let block = Block::default().borders(Borders::TOP).title(Span::styled(
                format!("{} — {}", cat.new_org_unit, new.parent.name),
                theme.title(),
            ));
            let inner = block.inner(form_area);
            frame.render_widget(block, form_area);
            new.form.render(inner, frame.buffer_mut(), theme, !app.help);
        }
        if let Some(edit) = &self.edit {
            let block = Block::default().borders(Borders::TOP).title(Span::styled(
                format!("{} — {}", cat.edit_org_unit, edit.unit.name),
                theme.title(),
            ));
            let inner = block.inner(form_area);
            frame.render_widget(block, form_area);
            edit.form
                .render(inner, frame.buffer_mut(), theme, !app.help);
        }
        let hint_text = self.hint_line(cat, usize::from(hint.width));
        let style = match self.confirm {
            Some(_) => theme.warning(),
            None => theme.dim(),
        };
        frame.render_widget(Paragraph::new(Line::styled(hint_text, style)), hint);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn movement_is_clamped() {
        assert_eq!(list_move(KeyCode::Down, 0, 3), Some(1));
        assert_eq!(list_move(KeyCode::Down, 2, 3), Some(2));
        assert_eq!(list_move(KeyCode::Up, 0, 3), Some(0));
        assert_eq!(list_move(KeyCode::End, 0, 3), Some(2));
        assert_eq!(list_move(KeyCode::Home, 2, 3), Some(0));
        assert_eq!(list_move(KeyCode::Down, 0, 0), Some(0));
        assert_eq!(list_move(KeyCode::Enter, 0, 3), None);
    }

    fn unit(id: &str, parent: &str, depth: u32, kind: OrgUnitKind) -> pb::OrgUnit {
        pb::OrgUnit {
            id: id.into(),
            code: id.to_uppercase(),
            name: id.into(),
            kind: kind as i32,
            parent_id: parent.into(),
            depth,
            disabled: false,
        }
    }

    #[test]
    fn a_created_unit_lands_under_its_parent() {
        let mut s = OrgUnitsScreen::default();
        s.on_answer(
            Answer::OrgUnits(vec![
                unit("c", "", 0, OrgUnitKind::Center),
                unit("t1", "c", 1, OrgUnitKind::Township),
                unit("v1", "t1", 2, OrgUnitKind::VillageStation),
                unit("t2", "c", 1, OrgUnitKind::Township),
            ]),
            &i18n::ZH,
            Lang::Zh,
        );
        s.on_answer(
            Answer::OrgUnitCreated(unit("v2", "t1", 2, OrgUnitKind::VillageStation)),
            &i18n::ZH,
            Lang::Zh,
        );
        let ids: Vec<_> = s.units.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids, ["c", "t1", "v1", "v2", "t2"]);
        assert_eq!(s.selected, 3);
    }

    #[test]
    fn the_form_offers_only_kinds_that_fit() {
        let mut s = OrgUnitsScreen {
            units: vec![
                unit("c", "", 0, OrgUnitKind::Center),
                unit("t1", "c", 1, OrgUnitKind::Township),
                unit("v1", "t1", 2, OrgUnitKind::VillageStation),
            ],
            selected: 1,
            ..Default::default()
        };
        s.open_form(&i18n::ZH, Lang::Zh);
        let form = &s.new_unit.as_ref().unwrap().form;
        assert_eq!(form.choice(field::KIND), OrgUnitKind::VillageStation as i32);
        s.new_unit = None;
        s.selected = 2;
        assert!(matches!(
            s.open_form(&i18n::ZH, Lang::Zh),
            Action::Refuse(_)
        ));
        assert!(s.new_unit.is_none());
    }
}
