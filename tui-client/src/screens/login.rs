//! Login: username and password; in demo mode the demo accounts beside them.

use credit_desk_proto::Lang;
use credit_desk_proto::pb;
use credit_desk_proto::validate::{FieldError, Rule, field};
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::{Action, App, GLOBAL_KEYS, Global};
use crate::form::{Field, Form, FormEvent, pad_to};
use crate::i18n::{self, Catalogue};
use crate::keys;
use crate::net::Call;

pub struct LoginScreen {
    pub form: Form,
}

impl LoginScreen {
    /// A refused login empties the password and puts the cursor there, so
    /// Enter does not send the same wrong password again towards the
    /// lockout. False if nothing named a field (the app shows a notice).
    pub fn on_error(&mut self, status: &tonic::Status) -> bool {
        self.form.set_text(field::PASSWORD, "");
        let placed = self.form.apply_status(status);
        if !placed {
            self.form.focus_on(field::PASSWORD);
        }
        placed
    }

    /// `username` pre-fills the form after a session ended.
    pub fn new(cat: &Catalogue, username: &str) -> LoginScreen {
        let mut form = Form::new(vec![
            Field::text(field::USERNAME, cat.username).with_value(username),
            Field::secret(field::PASSWORD, cat.password),
        ])
        .submitting(|c| c.key_login);
        if !username.is_empty() {
            form.focus = 1;
        }
        LoginScreen { form }
    }

    pub fn on_key(&mut self, key: KeyEvent, lang: Lang, waiting: bool) -> Action {
        if self.form.handle_key(key) != FormEvent::Submit || waiting {
            return Action::None;
        }
        let username = self.form.value(field::USERNAME).to_lowercase();
        let password = self.form.raw(field::PASSWORD);
        let mut missing = Vec::new();
        if username.is_empty() {
            missing.push(FieldError::new(field::USERNAME, Rule::Required));
        }
        if password.is_empty() {
            missing.push(FieldError::new(field::PASSWORD, Rule::Required));
        }
        if self.form.show_local_errors(&missing, lang) {
            return Action::None;
        }
        Action::Send(Call::Login(pb::LoginRequest {
            username,
            password,
            terminal: String::new(),
        }))
    }

    /// The form's keys, then help and quit: a newcomer's first screen.
    pub fn hint(&self, cat: &Catalogue, width: usize) -> String {
        let global = keys::entries(GLOBAL_KEYS, cat, |g| g != Global::HelpUnlessTyping);
        keys::fit(self.form.key_entries(cat).into_iter().chain(global), width)
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, app: &App) {
        let cat = app.cat;
        let [_, middle, _] = Layout::vertical([
            Constraint::Min(0),
            Constraint::Length(12),
            Constraint::Min(0),
        ])
        .areas(area);
        let [_, center, _] = Layout::horizontal([
            Constraint::Min(0),
            Constraint::Length(70),
            Constraint::Min(0),
        ])
        .areas(middle);
        let block = Block::default().borders(Borders::ALL).title(Span::styled(
            format!(" {} ", cat.login_title),
            app.theme.title(),
        ));
        let inner = block.inner(center);
        frame.render_widget(block, center);
        let (form_area, demo_area) = match &app.demo {
            Some(_) => {
                let [a, b] =
                    Layout::horizontal([Constraint::Min(30), Constraint::Length(30)]).areas(inner);
                (a, Some(b))
            }
            None => (inner, None),
        };
        let [_, fields, hint] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(4),
            Constraint::Length(2),
        ])
        .areas(form_area);
        self.form
            .render(fields, frame.buffer_mut(), app.theme, !app.help);
        frame.render_widget(
            Paragraph::new(
                keys::wrap(&self.hint(cat, usize::MAX), usize::from(hint.width))
                    .into_iter()
                    .map(|l| Line::styled(l, app.theme.dim()))
                    .collect::<Vec<_>>(),
            ),
            hint,
        );
        if let (Some(area), Some(demo)) = (demo_area, &app.demo) {
            let mut lines = vec![Line::styled(cat.demo_accounts, app.theme.title())];
            for (user, role) in &demo.accounts {
                lines.push(Line::from(format!(
                    " {}{}",
                    pad_to(user, 11),
                    i18n::role_name(app.lang, *role)
                )));
            }
            lines.push(Line::from(format!(
                " {}: {}",
                cat.demo_password, demo.password
            )));
            frame.render_widget(
                Paragraph::new(lines).block(Block::default().borders(Borders::LEFT)),
                area,
            );
        }
    }
}
