//! Withdrawing a consent (PIPL art. 15), at the counter, by the subject
//! verified again just now: the subject's consents are listed with their
//! state; a live one is withdrawn after a yes. Earlier queries on it stay
//! valid and on record.

use credit_desk_proto::pb::{self, ConsentState};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph};

/// What a key does on the list of a person's consents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Up,
    Down,
    Withdraw,
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
    bind!("Esc", [Code(KeyCode::Esc)], key_back, Cmd::Back),
];

/// The list's key line, `width` columns at most.
pub fn hint_line(cat: &Catalogue, width: usize) -> String {
    keys::footer(KEYS, cat, |_| true, width)
}

use crate::app::{Action, App};
use crate::bind;
use crate::i18n::Catalogue;
use crate::keys::{self, Binding, Key::Code, Key::Letter};
use crate::net::{Answer, Call};

pub struct WithdrawScreen {
    pub subject_id: String,
    verification_id: String,
    pub consents: Option<Vec<pb::ConsentRecord>>,
    pub selected: usize,
    pub confirming: bool,
}

pub fn state_name(cat: &Catalogue, s: ConsentState) -> &'static str {
    crate::i18n::consent_state_name(cat.lang, s)
}

impl WithdrawScreen {
    pub fn new(subject_id: String, verification_id: String) -> WithdrawScreen {
        WithdrawScreen {
            subject_id,
            verification_id,
            consents: None,
            selected: 0,
            confirming: false,
        }
    }

    pub fn load(&self) -> Call {
        Call::ListConsents(self.subject_id.clone())
    }

    fn current(&self) -> Option<&pb::ConsentRecord> {
        self.consents.as_ref().and_then(|c| c.get(self.selected))
    }

    pub fn on_key(&mut self, key: KeyEvent, waiting: bool) -> Action {
        if self.confirming {
            self.confirming = false;
            return match (key.code, self.current()) {
                (KeyCode::Char('y' | 'Y'), Some(c)) if !waiting => {
                    Action::Send(Call::WithdrawConsent(pb::WithdrawConsentRequest {
                        consent_id: c.id.clone(),
                        verification_id: self.verification_id.clone(),
                    }))
                }
                _ => Action::None,
            };
        }
        let n = self.consents.as_ref().map_or(0, Vec::len);
        match keys::find(KEYS, &key, |c| c != Cmd::Withdraw || self.withdrawable()) {
            Some(Cmd::Back) => Action::Back,
            Some(Cmd::Up) => {
                self.selected = self.selected.saturating_sub(1);
                Action::None
            }
            Some(Cmd::Down) => {
                self.selected = (self.selected + 1).min(n.saturating_sub(1));
                Action::None
            }
            Some(Cmd::Withdraw) => {
                self.confirming = true;
                Action::None
            }
            None => Action::None,
        }
    }

    fn withdrawable(&self) -> bool {
        self.current()
            .is_some_and(|c| c.state() != ConsentState::Withdrawn)
    }

    pub fn on_answer(&mut self, answer: Answer, cat: &Catalogue) -> Action {
        match answer {
            Answer::Consents(list) => {
                self.consents = Some(list);
                self.selected = 0;
                Action::None
            }
            Answer::ConsentCaptured(updated) => {
                if let Some(list) = &mut self.consents
                    && let Some(c) = list.iter_mut().find(|c| c.id == updated.id)
                {
                    *c = updated;
                }
                Action::Info(cat.consent_withdrawn.to_string())
            }
            _ => Action::None,
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, app: &App) {
        let (cat, theme) = (app.cat, app.theme);
        let [list_area, ask, hint] = Layout::vertical([
            Constraint::Min(3),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(area);
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
                    "{}  {}  {} — {}  [{}]",
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
        if self.confirming {
            frame.render_widget(
                Paragraph::new(Line::styled(cat.confirm_withdraw, theme.warning())),
                ask,
            );
        }
        frame.render_widget(
            Paragraph::new(Line::styled(
                hint_line(cat, usize::from(hint.width)),
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
    fn withdraws_a_live_consent_after_a_yes_only() {
        let mut s = WithdrawScreen::new("s1".into(), "v9".into());
        s.on_answer(
            Answer::Consents(vec![
                consent("old", ConsentState::Withdrawn),
                consent("live", ConsentState::Active),
            ]),
            &ZH,
        );
        // The withdrawn one cannot be withdrawn again.
        s.on_key(key(KeyCode::Char('d')), false);
        assert!(!s.confirming);
        s.on_key(key(KeyCode::Down), false);
        s.on_key(key(KeyCode::Char('d')), false);
        assert!(s.confirming);
        assert!(matches!(
            s.on_key(key(KeyCode::Char('n')), false),
            Action::None
        ));
        s.on_key(key(KeyCode::Enter), false);
        match s.on_key(key(KeyCode::Char('y')), false) {
            Action::Send(Call::WithdrawConsent(r)) => {
                assert_eq!(
                    (r.consent_id.as_str(), r.verification_id.as_str()),
                    ("live", "v9")
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
