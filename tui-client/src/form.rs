//! A form: labelled single-line inputs (ratatui-textarea) and choices, with
//! Tab/Shift-Tab focus, an error under each field, and the request id that
//! makes a resubmitted create idempotent.

use credit_desk_proto::Lang;
use credit_desk_proto::validate::FieldError;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use ratatui_textarea::TextArea;
use tonic_types::StatusExt;
use unicode_width::UnicodeWidthStr;

use crate::bind;
use crate::i18n::Catalogue;
use crate::keys::{self, Binding, Entry, Key::Code, Key::Ctrl};
use crate::theme::Theme;

/// What the form's own keys do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nav {
    Next,
    Previous,
    ChoiceNext,
    ChoicePrevious,
    Submit,
}

/// Keys every form understands; the rest goes to the focused input. The
/// screen around the form adds its own (Esc, F10 …).
const KEYS: &[Binding<Nav>] = &[
    bind!("Tab", [Code(KeyCode::Tab)], key_move, Nav::Next),
    bind!(
        "Shift-Tab",
        [Code(KeyCode::BackTab)],
        key_move,
        Nav::Previous
    ),
    bind!("↑↓", [Code(KeyCode::Down)], key_move, Nav::Next),
    bind!("↑↓", [Code(KeyCode::Up)], key_move, Nav::Previous),
    bind!(
        "←→",
        [Code(KeyCode::Right), Code(KeyCode::Char(' '))],
        key_choose,
        Nav::ChoiceNext
    ),
    bind!("←→", [Code(KeyCode::Left)], key_choose, Nav::ChoicePrevious),
    // Ctrl-M and Ctrl-J are what some terminals send for Enter.
    bind!(
        "Enter",
        [Code(KeyCode::Enter), Ctrl('m'), Ctrl('j')],
        key_submit,
        Nav::Submit
    ),
];

/// A key for a multi-line text area (a reason, remarks): Ctrl-U empties
/// it, as it empties a form's field (the text area alone would take it for
/// undo). Returns whether the text changed.
pub fn edit_area(area: &mut TextArea<'static>, key: KeyEvent) -> bool {
    if keys::Key::Ctrl('u').matches(&key) {
        let had_text = area.lines().iter().any(|l| !l.is_empty());
        area.select_all();
        area.cut();
        return had_text;
    }
    area.input(key)
}

pub enum Input {
    Text(Box<TextArea<'static>>),
    Choice {
        options: Vec<(i32, String)>,
        selected: usize,
        /// Typed while the choice has focus: the options containing it are
        /// the ones ←→ step through (type-ahead in long lists).
        filter: String,
    },
}

/// Lists longer than this say in the footer that typing narrows them.
const LONG_LIST: usize = 5;

/// The options containing `filter` (any case), by index.
fn matching<'a>(options: &'a [(i32, String)], filter: &'a str) -> impl Iterator<Item = usize> + 'a {
    let filter = filter.to_lowercase();
    options
        .iter()
        .enumerate()
        .filter(move |(_, o)| o.1.to_lowercase().contains(&filter))
        .map(|(i, _)| i)
}

pub struct Field {
    /// The request field this input fills; server violations are matched
    /// to inputs by it.
    pub name: &'static str,
    pub label: &'static str,
    pub input: Input,
    pub error: Option<String>,
    /// A remark under the field when there is no error (live checks).
    pub note: Option<String>,
    /// Hidden fields are skipped by focus and not drawn.
    pub hidden: bool,
}

impl Field {
    pub fn text(name: &'static str, label: &'static str) -> Field {
        let mut area = TextArea::default();
        area.set_cursor_line_style(Style::default());
        Field {
            name,
            label,
            input: Input::Text(Box::new(area)),
            error: None,
            note: None,
            hidden: false,
        }
    }

    pub fn secret(name: &'static str, label: &'static str) -> Field {
        let mut f = Field::text(name, label);
        if let Input::Text(area) = &mut f.input {
            // '*' rather than '•': the latter is double width on some CJK terminals.
            area.set_mask_char('*');
        }
        f
    }

    pub fn choice(name: &'static str, label: &'static str, options: Vec<(i32, String)>) -> Field {
        Field {
            name,
            label,
            input: Input::Choice {
                options,
                selected: 0,
                filter: String::new(),
            },
            error: None,
            note: None,
            hidden: false,
        }
    }

    pub fn with_value(mut self, value: &str) -> Field {
        if let Input::Text(area) = &mut self.input {
            area.insert_str(value);
        }
        self
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum FormEvent {
    Submit,
    Edited,
    Moved,
    Ignored,
}

pub struct Form {
    pub fields: Vec<Field>,
    pub focus: usize,
    /// Generated at the first submit and kept until the content changes, so
    /// submitting the same content again (after a lost answer) is
    /// recognised by the server as the same request.
    request_id: Option<String>,
    /// What Enter does here, for the footer ("登录", "核验" …).
    submit_label: fn(&Catalogue) -> &'static str,
}

impl Form {
    pub fn new(fields: Vec<Field>) -> Form {
        Form {
            fields,
            focus: 0,
            request_id: None,
            submit_label: |c| c.key_submit,
        }
    }

    /// Names what Enter does on this form.
    pub fn submitting(mut self, label: fn(&Catalogue) -> &'static str) -> Form {
        self.submit_label = label;
        self
    }

    fn offers(&self, nav: Nav) -> bool {
        match nav {
            Nav::ChoiceNext | Nav::ChoicePrevious => {
                matches!(self.fields[self.focus].input, Input::Choice { .. })
            }
            _ => true,
        }
    }

    /// The footer of a form that Esc leaves.
    pub fn footer(&self, cat: &Catalogue, width: usize) -> String {
        let back = keys::entries(keys::BACK, cat, |_| true);
        keys::fit(self.key_entries(cat).into_iter().chain(back), width)
    }

    /// The footer entries of the form's keys that work on the focused field.
    pub fn key_entries(&self, cat: &Catalogue) -> Vec<Entry> {
        let mut entries = keys::entries(KEYS, cat, |n| self.offers(n));
        if let Some(enter) = entries.last_mut() {
            enter.1 = (self.submit_label)(cat);
        }
        // A long list is narrowed by typing part of a name.
        if let Input::Choice { options, .. } = &self.fields[self.focus].input
            && options.len() > LONG_LIST
        {
            entries.insert(
                entries.len() - 1,
                (cat.key_type_shown, cat.key_type_to_filter),
            );
        }
        entries
    }

    /// Something outside the fields that goes into the same request
    /// changed: the next submit is a new request.
    pub fn content_changed(&mut self) {
        self.request_id = None;
    }

    pub fn request_id(&mut self) -> String {
        self.request_id
            .get_or_insert_with(|| uuid::Uuid::now_v7().to_string())
            .clone()
    }

    fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The text of a field as typed (passwords must not be trimmed).
    pub fn raw(&self, name: &str) -> String {
        match self.field(name).map(|f| &f.input) {
            Some(Input::Text(area)) => area.lines().join(""),
            _ => String::new(),
        }
    }

    pub fn value(&self, name: &str) -> String {
        self.raw(name).trim().to_string()
    }

    pub fn choice(&self, name: &str) -> i32 {
        match self.field(name).map(|f| &f.input) {
            Some(Input::Choice {
                options, selected, ..
            }) => options.get(*selected).map_or(0, |o| o.0),
            _ => 0,
        }
    }

    pub fn select(&mut self, name: &str, value: i32) {
        if let Some(Field {
            input: Input::Choice {
                options, selected, ..
            },
            ..
        }) = self.fields.iter_mut().find(|f| f.name == name)
            && let Some(i) = options.iter().position(|o| o.0 == value)
        {
            *selected = i;
        }
    }

    /// Replaces a text field's content (a secret field stays masked).
    pub fn set_text(&mut self, name: &str, value: &str) {
        if let Some(f) = self.fields.iter_mut().find(|f| f.name == name)
            && let Input::Text(area) = &mut f.input
        {
            let mask = area.mask_char();
            let mut fresh = TextArea::default();
            fresh.set_cursor_line_style(Style::default());
            if let Some(m) = mask {
                fresh.set_mask_char(m);
            }
            fresh.insert_str(value);
            **area = fresh;
        }
    }

    /// Moves the cursor to a field.
    pub fn focus_on(&mut self, name: &str) {
        if let Some(i) = self.fields.iter().position(|f| f.name == name) {
            self.move_focus(i);
        }
    }

    /// Moves the cursor to field `i`; what was typed to narrow a list is
    /// forgotten on leaving it.
    pub fn move_focus(&mut self, i: usize) {
        if let Input::Choice { filter, .. } = &mut self.fields[self.focus].input {
            filter.clear();
        }
        self.focus = i;
    }

    pub fn clear_errors(&mut self) {
        self.fields.iter_mut().for_each(|f| f.error = None);
    }

    /// Puts a message under its field; returns false if no field has that name.
    pub fn set_error(&mut self, name: &str, message: String) -> bool {
        match self.fields.iter_mut().find(|f| f.name == name) {
            Some(f) => {
                f.error = Some(message);
                true
            }
            None => false,
        }
    }

    /// Shows local validation failures; true if there were any.
    pub fn show_local_errors(&mut self, errors: &[FieldError], lang: Lang) -> bool {
        self.clear_errors();
        for e in errors {
            self.set_error(e.field, e.message(lang));
        }
        self.focus_first_error();
        !errors.is_empty()
    }

    /// Spreads a server error's field violations over the fields. Returns
    /// true if at least one was placed next to a field.
    pub fn apply_status(&mut self, status: &tonic::Status) -> bool {
        self.clear_errors();
        let mut placed = false;
        if let Some(bad) = status.get_details_bad_request() {
            for v in bad.field_violations {
                placed |= self.set_error(&v.field, v.description);
            }
        }
        self.focus_first_error();
        placed
    }

    fn focus_first_error(&mut self) {
        if let Some(i) = self.fields.iter().position(|f| f.error.is_some()) {
            self.move_focus(i);
        }
    }

    /// Shows or hides a field (e.g. the agent's fields for an agent).
    pub fn set_hidden(&mut self, name: &str, hidden: bool) {
        if let Some(f) = self.fields.iter_mut().find(|f| f.name == name) {
            f.hidden = hidden;
            if hidden {
                f.error = None;
            }
        }
    }

    /// Names a field differently (the same input means another thing, e.g.
    /// an organisation's acting person rather than a person's agent).
    pub fn set_label(&mut self, name: &str, label: &'static str) {
        if let Some(f) = self.fields.iter_mut().find(|f| f.name == name) {
            f.label = label;
        }
    }

    pub fn set_note(&mut self, name: &str, note: Option<String>) {
        if let Some(f) = self.fields.iter_mut().find(|f| f.name == name) {
            f.note = note;
        }
    }

    /// The name of the focused field.
    pub fn focused(&self) -> &'static str {
        self.fields[self.focus].name
    }

    fn step_focus(&mut self, forward: bool) {
        let n = self.fields.len();
        let mut at = self.focus;
        for _ in 0..n {
            at = if forward {
                (at + 1) % n
            } else {
                (at + n - 1) % n
            };
            if !self.fields[at].hidden {
                break;
            }
        }
        self.move_focus(at);
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> FormEvent {
        let nav = keys::find(KEYS, &key, |n| self.offers(n));
        match nav {
            Some(Nav::Submit) => return FormEvent::Submit,
            Some(Nav::Next | Nav::Previous) => {
                self.step_focus(nav == Some(Nav::Next));
                return FormEvent::Moved;
            }
            _ => {}
        }
        // Ctrl-U empties the field, as in a shell (the text area would
        // take it for undo).
        let clear = keys::Key::Ctrl('u');
        if clear.matches(&key) {
            let name = self.fields[self.focus].name;
            match &mut self.fields[self.focus].input {
                Input::Text(_) => {
                    self.set_text(name, "");
                    let field = &mut self.fields[self.focus];
                    field.error = None;
                    self.request_id = None;
                    return FormEvent::Edited;
                }
                Input::Choice { filter, .. } if !filter.is_empty() => {
                    filter.clear();
                    return FormEvent::Moved;
                }
                Input::Choice { .. } => return FormEvent::Ignored,
            }
        }
        let field = &mut self.fields[self.focus];
        let edited = match nav {
            Some(step @ (Nav::ChoiceNext | Nav::ChoicePrevious)) => {
                if let Input::Choice {
                    options,
                    selected,
                    filter,
                } = &mut field.input
                {
                    // Through the options the typed text matches (all of
                    // them when nothing is typed), round.
                    let shown: Vec<usize> = matching(options, filter).collect();
                    let at = shown.iter().position(|i| i == selected).unwrap_or(0);
                    let len = shown.len().max(1);
                    let by = if step == Nav::ChoiceNext { 1 } else { len - 1 };
                    if let Some(i) = shown.get((at + by) % len) {
                        *selected = *i;
                    }
                }
                true
            }
            _ => match &mut field.input {
                Input::Text(area) => area.input(key),
                Input::Choice {
                    options,
                    selected,
                    filter,
                } => {
                    // Narrowing is not an edit (the request stays the same)
                    // unless it moves the choice.
                    let before = *selected;
                    let taken = match key.code {
                        KeyCode::Backspace => filter.pop().is_some(),
                        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                            filter.push(c);
                            let first = matching(options, filter).next();
                            match first {
                                Some(i) => {
                                    *selected = i;
                                    true
                                }
                                // Nothing holds it: the key is not taken.
                                None => {
                                    filter.pop();
                                    false
                                }
                            }
                        }
                        _ => false,
                    };
                    if taken && *selected == before {
                        return FormEvent::Moved;
                    }
                    taken
                }
            },
        };
        if edited {
            field.error = None;
            self.request_id = None;
            FormEvent::Edited
        } else {
            FormEvent::Ignored
        }
    }

    /// Rows the form needs: one per visible field plus one per error or
    /// note shown.
    pub fn height(&self) -> u16 {
        self.fields
            .iter()
            .filter(|f| !f.hidden)
            .map(|f| 1 + u16::from(f.error.is_some() || f.note.is_some()))
            .sum()
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: Theme, active: bool) {
        let label_width = self
            .fields
            .iter()
            .map(|f| f.label.width())
            .max()
            .unwrap_or(0) as u16
            + 2;
        let mut y = area.y;
        for (i, field) in self.fields.iter().enumerate() {
            if y >= area.bottom() {
                break;
            }
            if field.hidden {
                continue;
            }
            let focused = active && i == self.focus;
            let label_style = if focused {
                theme.focused_label()
            } else {
                theme.label()
            };
            let marker = if focused { "▶" } else { " " };
            let label = format!("{marker}{}", pad_to(field.label, label_width as usize - 1));
            Paragraph::new(Span::styled(label, label_style))
                .render(Rect::new(area.x, y, label_width.min(area.width), 1), buf);
            let input_area = Rect::new(
                area.x + label_width,
                y,
                area.width.saturating_sub(label_width).min(40),
                1,
            );
            match &field.input {
                Input::Text(textarea) => {
                    let mut textarea = textarea.as_ref().clone();
                    textarea.set_style(theme.input());
                    textarea.set_cursor_style(if focused {
                        theme.selected()
                    } else {
                        Style::default()
                    });
                    (&textarea).render(input_area, buf);
                }
                Input::Choice {
                    options,
                    selected,
                    filter,
                } => {
                    let text = options.get(*selected).map_or("", |o| o.1.as_str());
                    let line = if focused {
                        let mut spans = vec![
                            Span::raw("◀ "),
                            Span::styled(text.to_string(), theme.selected()),
                            Span::raw(" ▶"),
                        ];
                        if !filter.is_empty() {
                            let shown = matching(options, filter).count();
                            spans.push(Span::styled(
                                format!("  “{filter}” {shown}/{}", options.len()),
                                theme.dim(),
                            ));
                        }
                        Line::from(spans)
                    } else {
                        Line::from(format!("  {text}"))
                    };
                    Paragraph::new(line).render(input_area, buf);
                }
            }
            y += 1;
            let below = match (&field.error, &field.note) {
                (Some(err), _) => Some(Span::styled(format!("! {err}"), theme.error())),
                (None, Some(note)) => Some(Span::styled(note.clone(), theme.dim())),
                (None, None) => None,
            };
            if let Some(line) = below
                && y < area.bottom()
            {
                let width = area.width.saturating_sub(label_width);
                Paragraph::new(line).render(Rect::new(area.x + label_width, y, width, 1), buf);
                y += 1;
            }
        }
    }
}

/// Pads text to a display width (CJK characters count two columns).
pub fn pad_to(text: &str, width: usize) -> String {
    let w = text.width();
    format!("{text}{}", " ".repeat(width.saturating_sub(w)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::{KeyEventKind, KeyModifiers};

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new_with_kind(code, KeyModifiers::NONE, KeyEventKind::Press)
    }

    fn typed(form: &mut Form, text: &str) {
        for c in text.chars() {
            form.handle_key(key(KeyCode::Char(c)));
        }
    }

    fn form() -> Form {
        Form::new(vec![
            Field::text("username", "用户名"),
            Field::secret("password", "密码"),
            Field::choice("role", "角色", vec![(1, "柜台".into()), (2, "中心".into())]),
        ])
    }

    #[test]
    fn typing_in_a_long_list_narrows_it() {
        let banks = [
            "建设银行支行",
            "农商银行营业部",
            "邮储银行支行",
            "农业银行支行",
            "供电局",
        ];
        let mut f = Form::new(vec![Field::choice(
            "grantee_id",
            "被授权机构",
            banks
                .iter()
                .enumerate()
                .map(|(i, b)| (i as i32, b.to_string()))
                .collect(),
        )]);
        typed(&mut f, "农");
        assert_eq!(f.choice("grantee_id"), 1, "the first holding it");
        f.handle_key(key(KeyCode::Right));
        assert_eq!(
            f.choice("grantee_id"),
            3,
            "→ steps through the matches only"
        );
        f.handle_key(key(KeyCode::Right));
        assert_eq!(f.choice("grantee_id"), 1, "round");
        typed(&mut f, "业");
        assert_eq!(f.choice("grantee_id"), 3, "农业");
        // A key nothing holds is not taken; Backspace widens again.
        assert_eq!(f.handle_key(key(KeyCode::Char('x'))), FormEvent::Ignored);
        assert_eq!(f.choice("grantee_id"), 3);
        f.handle_key(key(KeyCode::Backspace));
        f.handle_key(key(KeyCode::Backspace));
        f.handle_key(key(KeyCode::Right));
        assert_eq!(f.choice("grantee_id"), 4, "all options again");
        let ctrl_u = KeyEvent::new_with_kind(
            KeyCode::Char('u'),
            KeyModifiers::CONTROL,
            KeyEventKind::Press,
        );
        typed(&mut f, "供");
        assert_eq!(
            f.handle_key(ctrl_u),
            FormEvent::Moved,
            "Ctrl-U clears the typed text"
        );
        let buf = {
            let mut buf = Buffer::empty(Rect::new(0, 0, 60, 1));
            typed(&mut f, "银行");
            f.render(
                Rect::new(0, 0, 60, 1),
                &mut buf,
                Theme::for_terminal("xterm", true),
                true,
            );
            buf
        };
        let line: String = buf.content.iter().map(|c| c.symbol()).collect();
        assert!(line.contains("4/5"), "the matches are counted: {line}");
    }

    #[test]
    fn tab_cycles_and_typing_fills_the_focused_field() {
        let mut f = form();
        typed(&mut f, "wang");
        assert_eq!(f.handle_key(key(KeyCode::Tab)), FormEvent::Moved);
        typed(&mut f, " pass word ");
        assert_eq!(f.value("username"), "wang");
        assert_eq!(
            f.raw("password"),
            " pass word ",
            "passwords are not trimmed"
        );
        f.handle_key(key(KeyCode::Tab));
        assert_eq!(f.choice("role"), 1);
        f.handle_key(key(KeyCode::Right));
        assert_eq!(f.choice("role"), 2);
        f.handle_key(key(KeyCode::Right));
        assert_eq!(f.choice("role"), 1);
        assert_eq!(f.handle_key(key(KeyCode::Tab)), FormEvent::Moved);
        assert_eq!(f.focus, 0);
        assert_eq!(f.handle_key(key(KeyCode::BackTab)), FormEvent::Moved);
        assert_eq!(f.focus, 2);
        assert_eq!(f.handle_key(key(KeyCode::Enter)), FormEvent::Submit);
    }

    #[test]
    fn the_footer_names_the_keys_that_work_on_the_focused_field() {
        let cat = crate::i18n::catalogue(Lang::En);
        let mut f = form().submitting(|c| c.key_login);
        assert_eq!(
            f.footer(cat, 80),
            "Tab Shift-Tab ↑↓ move  Enter log in  Esc back"
        );
        // Space and the arrows are text on a text field …
        typed(&mut f, "a b");
        assert_eq!(f.value("username"), "a b");
        // … and choose on a choice, where the footer says so.
        f.focus = 2;
        assert_eq!(
            f.footer(cat, 80),
            "Tab Shift-Tab ↑↓ move  ←→ choose  Enter log in  Esc back"
        );
        f.handle_key(key(KeyCode::Char(' ')));
        assert_eq!(f.choice("role"), 2);
        f.handle_key(key(KeyCode::Left));
        assert_eq!(f.choice("role"), 1);
        let ctrl_m = KeyEvent::new_with_kind(
            KeyCode::Char('m'),
            KeyModifiers::CONTROL,
            KeyEventKind::Press,
        );
        assert_eq!(f.handle_key(ctrl_m), FormEvent::Submit);
    }

    #[test]
    fn request_id_survives_resubmit_but_not_an_edit() {
        let mut f = form();
        typed(&mut f, "wang");
        let a = f.request_id();
        assert_eq!(f.request_id(), a);
        typed(&mut f, "x");
        assert_ne!(f.request_id(), a);
    }

    #[test]
    fn errors_go_next_to_their_fields_and_clear_on_edit() {
        let mut f = form();
        let status = tonic::Status::with_error_details(
            tonic::Code::InvalidArgument,
            "bad",
            tonic_types::ErrorDetails::with_bad_request(vec![
                tonic_types::FieldViolation::new("password", "至少 8 个字符"),
                tonic_types::FieldViolation::new("elsewhere", "x"),
            ]),
        );
        assert!(f.apply_status(&status));
        assert_eq!(f.focus, 1);
        assert_eq!(f.fields[1].error.as_deref(), Some("至少 8 个字符"));
        assert_eq!(f.height(), 4);
        typed(&mut f, "a");
        assert_eq!(f.fields[1].error, None);
    }

    #[test]
    fn cjk_labels_pad_by_display_width() {
        assert_eq!(pad_to("用户名", 8), "用户名  ");
        assert_eq!(pad_to("Name", 8), "Name    ");
    }
}
