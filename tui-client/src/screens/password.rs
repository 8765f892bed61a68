//! The operator's own password change; forced after a reset or at first
//! login, when Esc logs out instead of going back.

use credit_desk_proto::Lang;
use credit_desk_proto::pb;
use credit_desk_proto::validate::{self, FieldError, Rule, field};
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::app::{Action, App};
use crate::form::{Field, Form, FormEvent};
use crate::i18n::Catalogue;
use crate::keys;
use crate::net::{Answer, Call};

const CONFIRM: &str = "confirm_password";

pub struct PasswordScreen {
    pub form: Form,
    pub forced: bool,
    username: String,
}

impl PasswordScreen {
    pub fn new(cat: &Catalogue, forced: bool, username: &str) -> PasswordScreen {
        PasswordScreen {
            form: Form::new(vec![
                Field::secret(field::CURRENT_PASSWORD, cat.current_password),
                Field::secret(field::NEW_PASSWORD, cat.new_password),
                Field::secret(CONFIRM, cat.confirm_password),
            ]),
            forced,
            username: username.to_string(),
        }
    }

    pub fn on_key(&mut self, key: KeyEvent, cat: &Catalogue, lang: Lang, waiting: bool) -> Action {
        if keys::is_back(&key) {
            return if self.forced {
                Action::Logout
            } else {
                Action::Back
            };
        }
        if self.form.handle_key(key) != FormEvent::Submit || waiting {
            return Action::None;
        }
        let current = self.form.raw(field::CURRENT_PASSWORD);
        let new = self.form.raw(field::NEW_PASSWORD);
        let mut errors = validate::collect([
            if current.is_empty() {
                Err(FieldError::new(field::CURRENT_PASSWORD, Rule::Required))
            } else {
                Ok(())
            },
            // The same policy the server applies, checked before the round trip.
            validate::new_password(field::NEW_PASSWORD, &new, &self.username),
        ]);
        if errors.is_empty() && new == current {
            errors.push(FieldError::new(
                field::NEW_PASSWORD,
                Rule::PasswordUnchanged,
            ));
        }
        if self.form.show_local_errors(&errors, lang) {
            return Action::None;
        }
        if self.form.raw(CONFIRM) != new {
            self.form
                .set_error(CONFIRM, cat.passwords_differ.to_string());
            self.form.focus = 2;
            return Action::None;
        }
        Action::Send(Call::ChangePassword(pb::ChangePasswordRequest {
            current_password: current,
            new_password: new,
        }))
    }

    pub fn on_answer(&mut self, answer: Answer, cat: &Catalogue) -> Action {
        match answer {
            Answer::Home(_) => Action::BackInfo(cat.password_changed.to_string()),
            _ => Action::None,
        }
    }

    /// The form's keys; Esc logs out when the change is forced.
    pub fn hint(&self, cat: &Catalogue, width: usize) -> String {
        if !self.forced {
            return self.form.footer(cat, width);
        }
        let esc = ("Esc", cat.key_logout);
        keys::fit(self.form.key_entries(cat).into_iter().chain([esc]), width)
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, app: &App) {
        let [intro, form, hint] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Min(6),
            Constraint::Length(1),
        ])
        .areas(area);
        if self.forced {
            frame.render_widget(
                Paragraph::new(Line::styled(
                    format!(" {}", app.cat.password_forced),
                    app.theme.warning(),
                )),
                intro,
            );
        }
        self.form
            .render(form, frame.buffer_mut(), app.theme, !app.help);
        frame.render_widget(
            Paragraph::new(Line::styled(
                self.hint(app.cat, usize::from(hint.width)),
                app.theme.dim(),
            )),
            hint,
        );
    }
}
