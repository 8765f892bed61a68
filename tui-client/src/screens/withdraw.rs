//! Withdrawing a consent (PIPL art. 15), at the counter, by the subject
//! verified again just now: the subject's consents are listed with their
//! state; a live one is withdrawn with the subject's reason, and a receipt
//! is printed for them to sign. Earlier queries on it stay valid and on
//! record.

use chrono::FixedOffset;
use credit_desk_proto::Lang;
use credit_desk_proto::pb::{self, ConsentState};
use credit_desk_proto::validate;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph, Wrap};

use crate::app::{Action, App};
use crate::bind;
use crate::form::{Field, Form, FormEvent};
use crate::i18n::Catalogue;
use crate::keys::{self, Binding, Key::Code, Key::Letter};
use crate::net::{Answer, Call};
use crate::print::{WIDTH, paginate, time, withdrawal_close, wrap};

const REASON: &str = "reason";

/// What a key does on the list of a person's consents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Up,
    Down,
    Withdraw,
    Receipt,
    Reprint,
    Back,
}

const KEYS: &[Binding<Cmd>] = &[
    bind!("↑↓", [Code(KeyCode::Up)], key_choose, Cmd::Up),
    bind!("↑↓", [Code(KeyCode::Down)], key_choose, Cmd::Down),
    bind!(
        "d/Enter",
        [Letter('d'), Code(KeyCode::Enter)],
        key_withdraw,
        Cmd::Withdraw
    ),
    bind!("p", [Letter('p')], key_receipt, Cmd::Receipt),
    bind!("b", [Letter('b')], key_reprint_consent, Cmd::Reprint),
    bind!("Esc", [Code(KeyCode::Esc)], key_back, Cmd::Back),
];

pub struct WithdrawScreen {
    pub subject_id: String,
    verification_id: String,
    pub consents: Option<Vec<pb::ConsentRecord>>,
    pub selected: usize,
    /// The reason form of the consent being withdrawn.
    pub form: Option<Form>,
    /// Category codes and names, for a reprinted consent receipt's scope.
    categories: Vec<(String, String, bool)>,
    /// Who reprints here.
    operator_name: String,
}

pub fn state_name(cat: &Catalogue, s: ConsentState) -> &'static str {
    crate::i18n::consent_state_name(cat.lang, s)
}

/// The subject's receipt for a withdrawn consent, with lines to sign.
pub fn receipt(c: &pb::ConsentRecord, cat: &Catalogue, offset: FixedOffset) -> String {
    let co = cat.colon;
    let mut lines = vec![
        cat.consent_withdrawal_receipt.to_string(),
        String::new(),
        format!(
            "{}{co}{} ({})",
            cat.consent_subject, c.subject_name, c.subject_identifier
        ),
        format!("{}{co}{}", cat.consent_grantee, c.grantee_name),
        format!("{}{co}{}", cat.purpose_label, c.purpose_name),
        format!("{}{co}{}", cat.consent_serial, c.form_serial),
        format!(
            "{}{co}{} — {}",
            cat.consent_validity,
            time(c.valid_from_ms, offset),
            time(c.valid_until_ms, offset)
        ),
    ];
    lines.extend(wrap(
        &format!("{}{co}{}", cat.withdraw_reason, c.withdrawal_reason),
        WIDTH,
    ));
    lines.push(format!("ID{co}{}", c.id));
    lines.extend(withdrawal_close(
        cat,
        &c.withdrawn_by,
        c.withdrawn_at_ms,
        cat.consent_withdrawal_effect,
        offset,
    ));
    paginate(&lines, cat, &c.form_serial, &c.withdrawn_by)
}

impl WithdrawScreen {
    pub fn new(subject_id: String, verification_id: String) -> WithdrawScreen {
        WithdrawScreen {
            subject_id,
            verification_id,
            consents: None,
            selected: 0,
            form: None,
            categories: Vec::new(),
            operator_name: String::new(),
        }
    }

    /// Who reprints a consent receipt here.
    pub fn with_operator(mut self, operator_name: &str) -> WithdrawScreen {
        self.operator_name = operator_name.to_string();
        self
    }

    pub fn load(&self) -> Call {
        Call::ListConsents(self.subject_id.clone())
    }

    pub fn is_typing(&self) -> bool {
        self.form.is_some()
    }

    fn current(&self) -> Option<&pb::ConsentRecord> {
        self.consents.as_ref().and_then(|c| c.get(self.selected))
    }

    fn withdrawn(&self) -> bool {
        self.current()
            .is_some_and(|c| c.state() == ConsentState::Withdrawn)
    }

    fn offers(&self, cmd: Cmd) -> bool {
        match cmd {
            Cmd::Receipt => self.withdrawn(),
            Cmd::Reprint => self.current().is_some(),
            Cmd::Withdraw => self.current().is_some(),
            _ => true,
        }
    }

    /// The key line: the reason form's, or the list's.
    pub fn hint_line(&self, cat: &Catalogue, width: usize) -> String {
        match &self.form {
            Some(form) => form.footer(cat, width),
            None => keys::footer(KEYS, cat, |c| self.offers(c), width),
        }
    }

    pub fn on_key(
        &mut self,
        key: KeyEvent,
        cat: &Catalogue,
        lang: Lang,
        waiting: bool,
        offset: FixedOffset,
    ) -> Action {
        if let Some(form) = &mut self.form {
            if key.code == KeyCode::Esc {
                self.form = None;
                return Action::None;
            }
            if form.handle_key(key) != FormEvent::Submit || waiting {
                return Action::None;
            }
            let reason = form.value(REASON);
            let errors = validate::collect([validate::display_text(
                REASON,
                &reason,
                validate::REASON_MAX,
            )]);
            if form.show_local_errors(&errors, lang) {
                return Action::None;
            }
            let Some(c) = self.current() else {
                return Action::None;
            };
            return Action::Send(Call::WithdrawConsent(pb::WithdrawConsentRequest {
                consent_id: c.id.clone(),
                verification_id: self.verification_id.clone(),
                reason,
            }));
        }
        let n = self.consents.as_ref().map_or(0, Vec::len);
        match keys::find(KEYS, &key, |c| self.offers(c)) {
            Some(Cmd::Back) => Action::Back,
            Some(Cmd::Up) => {
                self.selected = self.selected.saturating_sub(1);
                Action::None
            }
            Some(Cmd::Down) => {
                self.selected = (self.selected + 1).min(n.saturating_sub(1));
                Action::None
            }
            Some(Cmd::Withdraw) => match self.current() {
                // Said, not silently ignored.
                Some(c) if c.state() == ConsentState::Withdrawn => {
                    Action::Refuse(cat.consent_already_withdrawn(&time(c.withdrawn_at_ms, offset)))
                }
                Some(_) => {
                    self.form = Some(
                        Form::new(vec![Field::text(REASON, cat.withdraw_reason)])
                            .submitting(|c| c.key_withdraw),
                    );
                    Action::None
                }
                None => Action::None,
            },
            Some(Cmd::Reprint) => match self.current() {
                Some(c) => Action::Send(Call::SaveText {
                    path: format!(
                        "{}-{}.txt",
                        cat.consent_receipt,
                        crate::print::file_name_part(&c.form_serial)
                    )
                    .into(),
                    text: super::consent::receipt_document(
                        c,
                        cat,
                        offset,
                        &self.categories,
                        Some((credit_desk_proto::now::ms(), &self.operator_name)),
                    ),
                }),
                None => Action::None,
            },
            Some(Cmd::Receipt) => match self.current() {
                Some(c) => Action::Send(Call::SaveText {
                    path: format!(
                        "{}-{}.txt",
                        cat.consent_withdrawal_receipt,
                        crate::print::file_name_part(&c.form_serial)
                    )
                    .into(),
                    text: receipt(c, cat, offset),
                }),
                None => Action::None,
            },
            None => Action::None,
        }
    }

    pub fn on_answer(&mut self, answer: Answer, cat: &Catalogue) -> Action {
        match answer {
            Answer::Consents(list) => {
                self.consents = Some(list);
                self.selected = 0;
                // A reprinted receipt names the scope as the first print
                // did: the names come with the reference lists (held by the
                // session, so mostly without a round trip).
                match self.categories.is_empty() {
                    true => Action::Send(Call::ListPurposes {
                        include_retired: false,
                        known_version: String::new(),
                    }),
                    false => Action::None,
                }
            }
            Answer::Purposes(lists) => {
                self.categories = lists
                    .categories
                    .iter()
                    .map(|c| {
                        let name = cat.lang.pick(&c.name_zh, &c.name_en);
                        (c.code.clone(), name.clone(), false)
                    })
                    .collect();
                Action::None
            }
            Answer::ConsentCaptured(updated) => {
                self.form = None;
                if let Some(list) = &mut self.consents
                    && let Some(c) = list.iter_mut().find(|c| c.id == updated.id)
                {
                    *c = updated;
                }
                Action::Info(cat.consent_withdrawn.to_string())
            }
            Answer::Saved(path) => Action::Info(format!("{} {}", cat.saved_to, path.display())),
            _ => Action::None,
        }
    }

    pub fn on_error(&mut self, status: &tonic::Status) -> bool {
        match &mut self.form {
            Some(form) => form.apply_status(status),
            None => false,
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, app: &App) {
        let (cat, theme) = (app.cat, app.theme);
        let form_height = self.form.as_ref().map_or(0, |f| f.height() + 3);
        let [list_area, form_area, hint] = Layout::vertical([
            Constraint::Min(3),
            Constraint::Length(form_height),
            Constraint::Length(1),
        ])
        .areas(area);
        frame.render_widget(
            Paragraph::new(Line::styled(
                self.hint_line(cat, usize::from(hint.width)),
                theme.dim(),
            )),
            hint,
        );
        let Some(list) = &self.consents else {
            frame.render_widget(Paragraph::new(cat.loading), list_area);
            return;
        };
        let day = |ms: i64| {
            chrono::DateTime::from_timestamp_millis(ms)
                .map(|t| {
                    t.with_timezone(&app.utc_offset)
                        .format("%Y-%m-%d")
                        .to_string()
                })
                .unwrap_or_default()
        };
        let items: Vec<ListItem> = list
            .iter()
            .map(|c| {
                ListItem::new(format!(
                    "{}  {}  {}  {} — {}  [{}]",
                    c.form_serial,
                    c.grantee_name,
                    c.purpose_name,
                    day(c.valid_from_ms),
                    day(c.valid_until_ms),
                    state_name(cat, c.state())
                ))
            })
            .collect();
        let title = if list.is_empty() {
            cat.no_consents
        } else {
            cat.consent_title
        };
        let mut state =
            ListState::default().with_selected((!list.is_empty()).then_some(self.selected));
        frame.render_stateful_widget(
            List::new(items)
                .block(Block::default().borders(Borders::TOP).title(title))
                .highlight_style(theme.selected())
                .highlight_symbol("▶"),
            list_area,
            &mut state,
        );
        if let Some(form) = &self.form {
            let block = Block::default()
                .borders(Borders::TOP)
                .title(Span::styled(cat.withdraw_title, theme.title()));
            let inner = block.inner(form_area);
            frame.render_widget(block, form_area);
            let [ask, fields] =
                Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(inner);
            frame.render_widget(
                Paragraph::new(Line::styled(cat.confirm_withdraw, theme.warning()))
                    .wrap(Wrap { trim: true }),
                ask,
            );
            form.render(fields, frame.buffer_mut(), theme, !app.help);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::ZH;
    use ratatui::crossterm::event::{KeyEventKind, KeyModifiers};

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new_with_kind(code, KeyModifiers::NONE, KeyEventKind::Press)
    }

    fn consent(id: &str, state: ConsentState) -> pb::ConsentRecord {
        pb::ConsentRecord {
            id: id.into(),
            state: state as i32,
            ..Default::default()
        }
    }

    #[test]
    fn withdraws_a_live_consent_with_a_reason_only() {
        let mut s = WithdrawScreen::new("s1".into(), "v9".into());
        s.on_answer(
            Answer::Consents(vec![
                consent("old", ConsentState::Withdrawn),
                consent("live", ConsentState::Active),
            ]),
            &ZH,
        );
        let offset = FixedOffset::east_opt(8 * 3600).unwrap();
        let press =
            |s: &mut WithdrawScreen, code| s.on_key(key(code), &ZH, Lang::Zh, false, offset);
        // The withdrawn one cannot be withdrawn again, and the clerk is told why.
        assert!(
            matches!(press(&mut s, KeyCode::Char('d')), Action::Refuse(m) if m.contains("已于")),
        );
        assert!(s.form.is_none());
        press(&mut s, KeyCode::Down);
        press(&mut s, KeyCode::Char('d'));
        assert!(s.form.is_some());
        // No reason: refused on the field.
        assert!(matches!(press(&mut s, KeyCode::Enter), Action::None));
        for c in "不再申请贷款".chars() {
            press(&mut s, KeyCode::Char(c));
        }
        match press(&mut s, KeyCode::Enter) {
            Action::Send(Call::WithdrawConsent(r)) => {
                assert_eq!(
                    (
                        r.consent_id.as_str(),
                        r.verification_id.as_str(),
                        r.reason.as_str()
                    ),
                    ("live", "v9", "不再申请贷款")
                );
            }
            _ => panic!("expected the withdrawal"),
        }
        s.on_answer(
            Answer::ConsentCaptured(consent("live", ConsentState::Withdrawn)),
            &ZH,
        );
        assert_eq!(
            s.consents.as_ref().unwrap()[1].state(),
            ConsentState::Withdrawn
        );
    }
}
