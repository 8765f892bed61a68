//! Query purposes (查询用途), administered by the center: the list with
//! retired ones greyed, a form to add one, retirement after a yes. Retiring
//! keeps the purpose on the consents and logs that name it; new consents
//! can no longer choose it.

use credit_desk_proto::Lang;
use credit_desk_proto::pb;
use credit_desk_proto::validate::{self, field};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph};
use tonic::Status;

use super::org_units::list_move;
use crate::app::{Action, App};
use crate::bind;
use crate::form::{Field, Form, FormEvent};
use crate::i18n::Catalogue;
use crate::keys::{self, Binding, Key::Code, Key::Letter};
use crate::net::{Answer, Call};

const NAME_ZH: &str = "name_zh";
const NAME_EN: &str = "name_en";

/// What a key does on the purposes list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Move,
    New,
    Retire,
    Restore,
    Refresh,
    Back,
}

/// The purposes list's keys (moving is `list_move`'s).
const KEYS: &[Binding<Cmd>] = &[
    bind!(
        "↑↓",
        [Code(KeyCode::Up), Code(KeyCode::Down)],
        key_select,
        Cmd::Move
    ),
    bind!("n", [Letter('n'), Code(KeyCode::F(2))], key_new, Cmd::New),
    // `d` disables on every list (operators too); `x` still works.
    bind!("d", [Letter('d'), Letter('x')], key_retire, Cmd::Retire),
    // The same key brings a retired purpose back (no question: harmless).
    bind!("d", [Letter('d'), Letter('x')], key_restore, Cmd::Restore),
    bind!(
        "r",
        [Letter('r'), Code(KeyCode::F(5))],
        key_refresh,
        Cmd::Refresh
    ),
    bind!("Esc", [Code(KeyCode::Esc)], key_back, Cmd::Back),
];

/// The screen's key line, `width` columns at most.

#[derive(Default)]
pub struct PurposesScreen {
    pub purposes: Option<Vec<pb::Purpose>>,
    pub selected: usize,
    pub new_purpose: Option<Form>,
    pub confirming: bool,
}

impl PurposesScreen {
    /// The open form's keys, or the list's.
    pub fn hint_line(&self, cat: &Catalogue, width: usize) -> String {
        match self.new_purpose.as_ref() {
            Some(form) => form.footer(cat, width),
            None => keys::footer(KEYS, cat, |c| self.offers(c), width),
        }
    }

    /// Retiring a live purpose, or bringing back a retired one.
    fn offers(&self, cmd: Cmd) -> bool {
        let retired = self.current().is_some_and(|p| p.retired);
        match cmd {
            Cmd::Retire => self.current().is_some() && !retired,
            Cmd::Restore => retired,
            _ => true,
        }
    }

    pub fn load() -> Call {
        Call::ListPurposes {
            include_retired: true,
            known_version: String::new(),
        }
    }

    pub fn is_typing(&self) -> bool {
        self.new_purpose.is_some()
    }

    fn current(&self) -> Option<&pb::Purpose> {
        self.purposes.as_ref().and_then(|p| p.get(self.selected))
    }

    pub fn on_key(&mut self, key: KeyEvent, cat: &Catalogue, lang: Lang, waiting: bool) -> Action {
        if let Some(form) = &mut self.new_purpose {
            if key.code == KeyCode::Esc {
                self.new_purpose = None;
                return Action::None;
            }
            if form.handle_key(key) != FormEvent::Submit || waiting {
                return Action::None;
            }
            let code = form.value(field::CODE).trim().to_lowercase();
            let (name_zh, name_en) = (form.value(NAME_ZH), form.value(NAME_EN));
            let errors = validate::collect([
                validate::purpose_code(&code),
                validate::display_text(NAME_ZH, &name_zh, 40),
                validate::display_text(NAME_EN, &name_en, 80),
            ]);
            if form.show_local_errors(&errors, lang) {
                return Action::None;
            }
            return Action::Send(Call::AddPurpose(pb::AddPurposeRequest {
                request_id: form.request_id(),
                code,
                name_zh,
                name_en,
            }));
        }
        if self.confirming {
            self.confirming = false;
            return match (key.code, self.current()) {
                (KeyCode::Char('y' | 'Y'), Some(p)) if !waiting => {
                    Action::Send(Call::RetirePurpose(p.code.clone()))
                }
                _ => Action::None,
            };
        }
        let n = self.purposes.as_ref().map_or(0, Vec::len);
        if let Some(i) = list_move(key.code, self.selected, n) {
            self.selected = i;
            return Action::None;
        }
        match keys::find(KEYS, &key, |c| self.offers(c)) {
            Some(Cmd::Back) => Action::Back,
            Some(Cmd::New) => {
                self.new_purpose = Some(Form::new(vec![
                    Field::text(field::CODE, cat.code),
                    Field::text(NAME_ZH, cat.name_zh),
                    Field::text(NAME_EN, cat.name_en),
                ]));
                Action::None
            }
            Some(Cmd::Retire) => {
                self.confirming = true;
                Action::None
            }
            Some(Cmd::Restore) if !waiting => match self.current() {
                Some(p) => Action::Send(Call::RestorePurpose(p.code.clone())),
                None => Action::None,
            },
            Some(Cmd::Refresh) => Action::Send(Self::load()),
            Some(Cmd::Move | Cmd::Restore) | None => Action::None,
        }
    }

    pub fn on_answer(&mut self, answer: Answer, cat: &Catalogue) -> Action {
        match answer {
            Answer::Purposes(resp) => {
                self.selected = self.selected.min(resp.purposes.len().saturating_sub(1));
                self.purposes = Some(resp.purposes);
                Action::None
            }
            Answer::PurposeSaved(saved) => {
                let list = self.purposes.get_or_insert_default();
                let done = match list.iter().position(|p| p.code == saved.code) {
                    Some(i) => {
                        let done = match saved.retired {
                            true => cat.purpose_retired_done,
                            false => cat.purpose_restored_done,
                        };
                        list[i] = saved;
                        self.selected = i;
                        done
                    }
                    None => {
                        list.push(saved);
                        self.selected = list.len() - 1;
                        self.new_purpose = None;
                        cat.purpose_added
                    }
                };
                Action::Info(done.to_string())
            }
            _ => Action::None,
        }
    }

    pub fn on_error(&mut self, status: &Status) -> bool {
        match &mut self.new_purpose {
            Some(form) => form.apply_status(status),
            None => false,
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, app: &App) {
        let (cat, theme) = (app.cat, app.theme);
        let form_height = self.new_purpose.as_ref().map_or(0, |f| f.height() + 2);
        let [list_area, form_area, ask, hint] = Layout::vertical([
            Constraint::Min(3),
            Constraint::Length(form_height),
            Constraint::Length(u16::from(self.confirming)),
            Constraint::Length(1),
        ])
        .areas(area);
        let Some(purposes) = &self.purposes else {
            frame.render_widget(Paragraph::new(cat.loading), list_area);
            return;
        };
        let items: Vec<ListItem> = purposes
            .iter()
            .map(|p| {
                let name = match app.lang {
                    Lang::Zh => &p.name_zh,
                    Lang::En => &p.name_en,
                };
                let mut spans = vec![
                    Span::raw(crate::form::pad_to(name, 24)),
                    Span::styled(format!(" {}", p.code), theme.dim()),
                ];
                if p.retired {
                    spans.push(Span::styled(
                        format!("  [{}]", cat.purpose_retired),
                        theme.warning(),
                    ));
                }
                let line = Line::from(spans);
                ListItem::new(if p.retired {
                    line.style(theme.dim())
                } else {
                    line
                })
            })
            .collect();
        let mut state =
            ListState::default().with_selected((!purposes.is_empty()).then_some(self.selected));
        frame.render_stateful_widget(
            List::new(items)
                .block(Block::default().borders(Borders::TOP).title(format!(
                    "{} ({})",
                    cat.purposes_title,
                    purposes.len()
                )))
                .highlight_style(theme.selected())
                .highlight_symbol("▶"),
            list_area,
            &mut state,
        );
        if let Some(form) = &self.new_purpose {
            let block = Block::default()
                .borders(Borders::TOP)
                .title(Span::styled(cat.new_purpose, theme.title()));
            let inner = block.inner(form_area);
            frame.render_widget(block, form_area);
            form.render(inner, frame.buffer_mut(), theme, !app.help);
        }
        if self.confirming {
            frame.render_widget(
                Paragraph::new(Line::styled(cat.confirm_retire, theme.warning())),
                ask,
            );
        }
        let hint_text = self.hint_line(cat, usize::from(hint.width));
        frame.render_widget(Paragraph::new(Line::styled(hint_text, theme.dim())), hint);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n;
    use ratatui::crossterm::event::KeyModifiers;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn purpose(code: &str, retired: bool) -> pb::Purpose {
        pb::Purpose {
            code: code.into(),
            name_zh: code.into(),
            name_en: code.into(),
            retired,
        }
    }

    fn loaded() -> PurposesScreen {
        let mut s = PurposesScreen::default();
        s.on_answer(
            Answer::Purposes(pb::ListPurposesResponse {
                purposes: vec![purpose("loan_approval", false), purpose("old", true)],
                ..Default::default()
            }),
            &i18n::ZH,
        );
        s
    }

    fn type_text(s: &mut PurposesScreen, text: &str) {
        for c in text.chars() {
            s.on_key(key(KeyCode::Char(c)), &i18n::ZH, Lang::Zh, false);
        }
    }

    #[test]
    fn retiring_asks_first_and_only_for_live_purposes() {
        let mut s = loaded();
        assert!(matches!(
            s.on_key(key(KeyCode::Char('x')), &i18n::ZH, Lang::Zh, false),
            Action::None
        ));
        assert!(s.confirming);
        match s.on_key(key(KeyCode::Char('y')), &i18n::ZH, Lang::Zh, false) {
            Action::Send(Call::RetirePurpose(code)) => assert_eq!(code, "loan_approval"),
            _ => panic!("expected a retire call"),
        }
        // A retired one cannot be retired again; n after the question is a no.
        s.on_key(key(KeyCode::Down), &i18n::ZH, Lang::Zh, false);
        s.on_key(key(KeyCode::Char('x')), &i18n::ZH, Lang::Zh, false);
        assert!(!s.confirming);
        s.selected = 0;
        s.on_key(key(KeyCode::Char('x')), &i18n::ZH, Lang::Zh, false);
        assert!(matches!(
            s.on_key(key(KeyCode::Char('n')), &i18n::ZH, Lang::Zh, false),
            Action::None
        ));
    }

    #[test]
    fn a_bad_code_is_caught_before_sending_and_a_good_one_is_sent() {
        let mut s = loaded();
        let fill = |s: &mut PurposesScreen, code: &str| {
            s.on_key(key(KeyCode::Char('n')), &i18n::ZH, Lang::Zh, false);
            type_text(s, code);
            s.on_key(key(KeyCode::Tab), &i18n::ZH, Lang::Zh, false);
            type_text(s, "就业资格");
            s.on_key(key(KeyCode::Tab), &i18n::ZH, Lang::Zh, false);
            type_text(s, "Employment");
        };
        fill(&mut s, "Bad Code");
        assert!(matches!(
            s.on_key(key(KeyCode::Enter), &i18n::ZH, Lang::Zh, false),
            Action::None
        ));
        let form = s.new_purpose.as_ref().unwrap();
        assert!(form.fields[0].error.is_some(), "the code is named");
        s.on_key(key(KeyCode::Esc), &i18n::ZH, Lang::Zh, false);
        fill(&mut s, "employment_check");
        match s.on_key(key(KeyCode::Enter), &i18n::ZH, Lang::Zh, false) {
            Action::Send(Call::AddPurpose(r)) => {
                assert_eq!(r.code, "employment_check");
                assert_eq!(r.name_zh, "就业资格");
                assert_eq!(r.name_en, "Employment");
            }
            _ => panic!("expected an add call"),
        }
        // The answer closes the form and selects the new purpose.
        s.on_answer(
            Answer::PurposeSaved(purpose("employment_check", false)),
            &i18n::ZH,
        );
        assert!(s.new_purpose.is_none());
        assert_eq!(s.selected, 2);
    }
}
