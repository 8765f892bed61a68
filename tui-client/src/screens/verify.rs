//! Identity verification at the counter: the number is checked locally as
//! it is typed (the shared rules, no round trip), then one call looks the
//! subject up, compares the name and records how identity was checked.

use chrono::{FixedOffset, NaiveDate};
use credit_desk_proto::Lang;
use credit_desk_proto::ident::{self, Identifier};
use credit_desk_proto::pb::{self, VerificationMethod, VerifyOutcome};
use credit_desk_proto::validate::{self, VerificationInput, field};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::app::{Action, App};
use crate::bind;
use crate::form::{Field, Form, FormEvent};
use crate::i18n::Catalogue;
use crate::keys::{self, Binding, Key::Code, Key::Letter};
use crate::net::{Answer, Call};

/// What a key does once a verification is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Consent,
    Withdraw,
    Report,
    Register,
    Next,
    Back,
}

const KEYS: &[Binding<Cmd>] = &[
    bind!("C", [Letter('c')], key_capture_consent, Cmd::Consent),
    bind!("W", [Letter('w')], key_withdraw_consent, Cmd::Withdraw),
    bind!("Q", [Letter('q')], key_own_report, Cmd::Report),
    bind!(
        "F3",
        [Code(KeyCode::F(3))],
        key_register_subject,
        Cmd::Register
    ),
    bind!("F2", [Code(KeyCode::F(2))], key_next_person, Cmd::Next),
    bind!("Esc", [Code(KeyCode::Esc)], key_back, Cmd::Back),
];

const METHODS: [VerificationMethod; 4] = [
    VerificationMethod::IdCardReader,
    VerificationMethod::IdCardInspected,
    VerificationMethod::OtherDocument,
    VerificationMethod::AgentWithPoa,
];

pub struct VerifyScreen {
    pub form: Form,
    pub result: Option<pb::VerifyResponse>,
    /// Registering the person or organisation the registry did not know
    /// (the number and name come from the form above).
    pub registering: Option<Form>,
    /// The day of the last key, for the verification sent after a
    /// registration.
    today: NaiveDate,
}

fn method_label(cat: &Catalogue, m: VerificationMethod) -> &'static str {
    crate::i18n::method_name(cat.lang, m)
}

/// What the clerk sees under the number while typing: progress, the
/// broken rule, or what a valid number says.
pub fn live_note(
    value: &str,
    today: NaiveDate,
    cat: &Catalogue,
    lang: Lang,
) -> (Option<String>, Option<String>) {
    let n = ident::normalise(value);
    if n.is_empty() {
        return (None, None);
    }
    if n.chars().count() < 18 {
        return (
            None,
            Some(format!("{} {}/18", cat.typed_so_far, n.chars().count())),
        );
    }
    match ident::check_any(&n, today) {
        Ok(Identifier::Person(p)) => (
            None,
            Some(format!(
                "✓ {} {} {} {}",
                p.sex.name(lang),
                cat.born,
                p.birth_date,
                p.province
            )),
        ),
        Ok(Identifier::Organisation(o)) => {
            (None, Some(format!("✓ {} {}", o.registration, o.province)))
        }
        Err(e) => (Some(e.message(lang)), None),
    }
}

impl VerifyScreen {
    pub fn new(cat: &Catalogue) -> VerifyScreen {
        let methods = METHODS
            .iter()
            .map(|m| (*m as i32, method_label(cat, *m).to_string()))
            .collect();
        let mut form = Form::new(vec![
            Field::text(field::IDENTIFIER, cat.identifier),
            Field::text(field::NAME, cat.person_name),
            Field::choice(field::METHOD, cat.method, methods),
            Field::text(field::DOCUMENT, cat.document),
            Field::choice(
                field::ACTING_AS,
                cat.acting_as,
                vec![
                    (
                        pb::OrgActor::LegalRepresentative as i32,
                        cat.acting_legal_representative.into(),
                    ),
                    (
                        pb::OrgActor::AuthorisedAgent as i32,
                        cat.acting_authorised_agent.into(),
                    ),
                ],
            ),
            Field::text(field::AGENT_IDENTIFIER, cat.agent_identifier),
            Field::text(field::AGENT_NAME, cat.agent_name),
            Field::text(field::POA_REFERENCE, cat.poa_reference),
            Field::text(field::LICENCE, cat.licence),
        ])
        .submitting(|c| c.key_verify);
        Self::show_fields(&mut form, cat, NaiveDate::default());
        VerifyScreen {
            form,
            result: None,
            registering: None,
            today: NaiveDate::default(),
        }
    }

    fn unknown_subject(&self) -> bool {
        self.result
            .as_ref()
            .is_some_and(|r| r.outcome() == VerifyOutcome::UnknownSubject)
    }

    pub fn is_typing(&self) -> bool {
        self.result.is_none() || self.registering.is_some()
    }

    /// The registration form: the card's or the licence's address, a phone,
    /// and for an organisation its legal representative.
    fn registration_form(&self, cat: &Catalogue) -> Form {
        let mut form = Form::new(vec![
            Field::text(field::ADDRESS, cat.subject_address),
            Field::text(field::PHONE, cat.subject_phone),
            Field::text(field::LEGAL_REPRESENTATIVE, cat.legal_representative),
        ])
        .submitting(|c| c.key_register_subject);
        form.set_hidden(
            field::LEGAL_REPRESENTATIVE,
            !Self::is_organisation(&self.form, self.today),
        );
        form
    }

    fn on_registration_key(&mut self, key: KeyEvent, lang: Lang, waiting: bool) -> Action {
        let Some(form) = &mut self.registering else {
            return Action::None;
        };
        if key.code == KeyCode::Esc {
            self.registering = None;
            return Action::None;
        }
        if form.handle_key(key) != FormEvent::Submit || waiting {
            return Action::None;
        }
        let req = pb::RegisterSubjectRequest {
            request_id: String::new(),
            identifier: ident::normalise(&self.form.raw(field::IDENTIFIER)),
            name: self.form.value(field::NAME),
            address: form.value(field::ADDRESS),
            phone: form.value(field::PHONE),
            legal_representative: form.value(field::LEGAL_REPRESENTATIVE),
        };
        let errors = validate::registration(&req, self.today);
        // The number and name are the form's above: an error there shows
        // there.
        let (above, here): (Vec<_>, Vec<_>) = errors
            .into_iter()
            .partition(|e| e.field == field::IDENTIFIER || e.field == field::NAME);
        if form.show_local_errors(&here, lang) | self.form.show_local_errors(&above, lang) {
            return Action::None;
        }
        let request_id = form.request_id();
        Action::Send(Call::RegisterSubject(pb::RegisterSubjectRequest {
            request_id,
            ..req
        }))
    }

    /// Whether the number typed is an organisation's credit code.
    fn is_organisation(form: &Form, today: NaiveDate) -> bool {
        matches!(
            ident::check_any(&form.raw(field::IDENTIFIER), today),
            Ok(Identifier::Organisation(_))
        )
    }

    /// The fields the subject and the method need: a person's agent with a
    /// power of attorney, or the person acting for an organisation and the
    /// licence inspected.
    fn show_fields(form: &mut Form, cat: &Catalogue, today: NaiveDate) {
        let m = VerificationMethod::try_from(form.choice(field::METHOD)).unwrap_or_default();
        form.set_hidden(field::DOCUMENT, m != VerificationMethod::OtherDocument);
        let organisation = Self::is_organisation(form, today);
        let acting = pb::OrgActor::try_from(form.choice(field::ACTING_AS)).unwrap_or_default();
        let agent = organisation || m == VerificationMethod::AgentWithPoa;
        let letter = match organisation {
            true => acting == pb::OrgActor::AuthorisedAgent,
            false => m == VerificationMethod::AgentWithPoa,
        };
        form.set_hidden(field::ACTING_AS, !organisation);
        form.set_hidden(field::LICENCE, !organisation);
        form.set_hidden(field::AGENT_IDENTIFIER, !agent);
        form.set_hidden(field::AGENT_NAME, !agent);
        form.set_hidden(field::POA_REFERENCE, !letter);
        let (id_label, name_label, letter_label) = match organisation {
            true => (
                cat.acting_identifier,
                cat.acting_name,
                cat.authorisation_letter,
            ),
            false => (cat.agent_identifier, cat.agent_name, cat.poa_reference),
        };
        form.set_label(field::AGENT_IDENTIFIER, id_label);
        form.set_label(field::AGENT_NAME, name_label);
        form.set_label(field::POA_REFERENCE, letter_label);
    }

    pub fn on_key(
        &mut self,
        key: KeyEvent,
        cat: &Catalogue,
        lang: Lang,
        waiting: bool,
        today: NaiveDate,
    ) -> Action {
        self.today = today;
        if self.registering.is_some() {
            return self.on_registration_key(key, lang, waiting);
        }
        let verified = self
            .result
            .as_ref()
            .and_then(|r| Some((r.subject.as_ref()?, r.verification.as_ref()?)));
        // Letters are typed into the form until a verification is shown.
        let unknown = self.unknown_subject();
        let offered = |c: Cmd| match c {
            Cmd::Next | Cmd::Back => true,
            Cmd::Consent | Cmd::Withdraw | Cmd::Report => verified.is_some(),
            Cmd::Register => unknown,
        };
        if let Some(cmd) = keys::find(KEYS, &key, offered) {
            return match (cmd, verified) {
                (Cmd::Back, _) => Action::Back,
                (Cmd::Next, _) => {
                    *self = VerifyScreen::new(cat);
                    Action::None
                }
                (Cmd::Register, _) => {
                    self.registering = Some(self.registration_form(cat));
                    Action::None
                }
                (Cmd::Report, Some((s, v))) => Action::Open(crate::screens::Target::SelfReport {
                    subject_id: s.id.clone(),
                    verification_id: v.id.clone(),
                }),
                (Cmd::Withdraw, Some((s, v))) => Action::Open(crate::screens::Target::Withdraw {
                    subject_id: s.id.clone(),
                    verification_id: v.id.clone(),
                }),
                (Cmd::Consent, Some((s, v))) => Action::Open(crate::screens::Target::Consent {
                    verification_id: v.id.clone(),
                    subject_name: s.name.clone(),
                }),
                (_, None) => Action::None,
            };
        }
        let focused = self.form.focused();
        match self.form.handle_key(key) {
            FormEvent::Edited => {
                self.result = None;
                if [field::METHOD, field::ACTING_AS, field::IDENTIFIER].contains(&focused) {
                    Self::show_fields(&mut self.form, cat, today);
                }
                if focused == field::IDENTIFIER || focused == field::AGENT_IDENTIFIER {
                    let (error, note) = live_note(&self.form.raw(focused), today, cat, lang);
                    if let Some(e) = error {
                        self.form.set_error(focused, e);
                    }
                    self.form.set_note(focused, note);
                }
                Action::None
            }
            FormEvent::Submit if !waiting => self.submit(lang, today),
            _ => Action::None,
        }
    }

    fn submit(&mut self, lang: Lang, today: NaiveDate) -> Action {
        let req = self.request(today);
        let errors = validate::verification(&VerificationInput::from(&req), today);
        if self.form.show_local_errors(&errors, lang) {
            return Action::None;
        }
        Action::Send(Call::Verify(pb::VerifyRequest {
            request_id: self.form.request_id(),
            ..req
        }))
    }

    /// The verification the form asks for (without its request id).
    fn request(&self, today: NaiveDate) -> pb::VerifyRequest {
        let f = &self.form;
        pb::VerifyRequest {
            request_id: String::new(),
            identifier: ident::normalise(&f.raw(field::IDENTIFIER)),
            name: f.value(field::NAME),
            method: f.choice(field::METHOD),
            document: f.value(field::DOCUMENT),
            agent_identifier: ident::normalise(&f.raw(field::AGENT_IDENTIFIER)),
            agent_name: f.value(field::AGENT_NAME),
            poa_reference: f.value(field::POA_REFERENCE),
            acting_as: match Self::is_organisation(f, today) {
                true => f.choice(field::ACTING_AS),
                false => 0,
            },
            licence: f.value(field::LICENCE),
        }
    }

    pub fn on_answer(&mut self, answer: Answer) -> Action {
        match answer {
            Answer::Verified(resp) => self.result = Some(resp),
            // Registered: the verification the clerk asked for goes again,
            // now finding the subject.
            Answer::Registered(_) => {
                self.registering = None;
                self.result = None;
                self.form.content_changed();
                return Action::Send(Call::Verify(pb::VerifyRequest {
                    request_id: self.form.request_id(),
                    ..self.request(self.today)
                }));
            }
            _ => {}
        }
        Action::None
    }

    pub fn on_error(&mut self, status: &tonic::Status) -> bool {
        match &mut self.registering {
            Some(form) => form.apply_status(status) || self.form.apply_status(status),
            None => self.form.apply_status(status),
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, app: &App) {
        let (cat, theme) = (app.cat, app.theme);
        let form_height = self.form.height() + 1;
        let [form_area, result_area, hint] = Layout::vertical([
            Constraint::Length(form_height),
            Constraint::Min(4),
            Constraint::Length(1),
        ])
        .areas(area);
        self.form.render(
            Rect {
                y: form_area.y + 1,
                height: form_area.height.saturating_sub(1),
                ..form_area
            },
            frame.buffer_mut(),
            theme,
            !app.help && self.result.is_none(),
        );
        if let Some(form) = &self.registering {
            let title = format!(
                "{}: {} {}",
                cat.register_title,
                self.form.value(field::NAME),
                ident::normalise(&self.form.raw(field::IDENTIFIER))
            );
            let block = Block::default().borders(Borders::TOP).title(title);
            let inner = block.inner(result_area);
            frame.render_widget(block, result_area);
            form.render(inner, frame.buffer_mut(), theme, !app.help);
        } else if let Some(result) = &self.result {
            let lines = result_lines(result, cat, app.utc_offset);
            let style = match result.outcome() {
                VerifyOutcome::Verified => theme.ok(),
                _ => theme.error(),
            };
            frame.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .block(Block::default().borders(Borders::TOP).border_style(style)),
                result_area,
            );
        }
        let hint_text = self.hint_line(cat, usize::from(hint.width));
        frame.render_widget(Paragraph::new(Line::styled(hint_text, theme.dim())), hint);
    }
}

impl VerifyScreen {
    /// The form's keys while typing; after a verification, what can follow.
    pub fn hint_line(&self, cat: &Catalogue, width: usize) -> String {
        if let Some(form) = &self.registering {
            return form.footer(cat, width);
        }
        let verified = self
            .result
            .as_ref()
            .is_some_and(|r| r.subject.is_some() && r.verification.is_some());
        let unknown = self.unknown_subject();
        let own = keys::entries(KEYS, cat, |c| match c {
            Cmd::Next | Cmd::Back => true,
            Cmd::Register => unknown,
            _ => verified,
        });
        if verified {
            return keys::fit(own, width);
        }
        keys::fit(self.form.key_entries(cat).into_iter().chain(own), width)
    }
}

fn local_time(ms: i64, offset: FixedOffset) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&offset)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

fn result_lines(
    r: &pb::VerifyResponse,
    cat: &Catalogue,
    offset: FixedOffset,
) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let headline = match r.outcome() {
        VerifyOutcome::Verified => format!("✓ {}", cat.verified),
        VerifyOutcome::NameMismatch => format!("✗ {}", cat.name_mismatch),
        _ => format!("✗ {}", cat.unknown_subject),
    };
    lines.push(Line::from(Span::raw(headline)));
    if let Some(s) = &r.subject {
        let kind = crate::i18n::subject_kind_name(cat.lang, s.kind());
        let mut who = format!(" {} {} [{kind}]", s.name, s.identifier);
        // The credit code's registration (农民专业合作社 …), else the type.
        match cat.org_types.iter().find(|t| t.0 == s.org_type) {
            _ if !s.registration.is_empty() && cat.lang == Lang::Zh => {
                who.push_str(&format!(" {}", s.registration));
            }
            Some((_, t)) => who.push_str(&format!(" {t}")),
            None => {}
        }
        lines.push(Line::from(who));
        lines.push(Line::from(format!(
            " {}: {}  {}: {}",
            cat.township, s.township, cat.address, s.address
        )));
    }
    if let Some(v) = &r.verification {
        let method = method_label(cat, v.method());
        let mut how = format!(" {}: {method}", cat.method);
        let acting = match v.acting_as() {
            pb::OrgActor::LegalRepresentative => Some(cat.acting_legal_representative),
            pb::OrgActor::AuthorisedAgent => Some(cat.acting_authorised_agent),
            pb::OrgActor::Unspecified => None,
        };
        match acting {
            Some(acting) => {
                how.push_str(&format!(
                    " ({acting} {} {})",
                    v.agent_name, v.agent_identifier
                ));
                lines.push(Line::from(how));
                lines.push(Line::from(format!(" {}: {}", cat.licence, v.licence)));
            }
            None => {
                if !v.agent_name.is_empty() {
                    how.push_str(&format!(
                        " ({} {} {})",
                        cat.by_agent, v.agent_name, v.agent_identifier
                    ));
                }
                lines.push(Line::from(how));
            }
        }
        lines.push(Line::from(format!(
            " {} {}  ({} {})",
            cat.valid_until,
            local_time(v.expires_at_ms, offset),
            cat.verification_no,
            &v.id[v.id.len().saturating_sub(8)..]
        )));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{EN, ZH};

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[test]
    fn live_notes_follow_the_typing() {
        assert_eq!(live_note("", today(), &ZH, Lang::Zh), (None, None));
        assert_eq!(
            live_note("4412", today(), &ZH, Lang::Zh),
            (None, Some("已输入 4/18".into()))
        );
        assert_eq!(
            live_note("441284199003070023", today(), &ZH, Lang::Zh),
            (None, Some("✓ 女 出生 1990-03-07 广东省".into()))
        );
        assert_eq!(
            live_note("441284199003070024", today(), &EN, Lang::En),
            (Some("the check character should be 3, not 4".into()), None)
        );
    }

    #[test]
    fn method_decides_which_fields_show() {
        use ratatui::crossterm::event::{KeyEventKind, KeyModifiers};
        let key = |c| KeyEvent::new_with_kind(c, KeyModifiers::NONE, KeyEventKind::Press);
        let mut s = VerifyScreen::new(&ZH);
        let visible = |s: &VerifyScreen| s.form.fields.iter().filter(|f| !f.hidden).count();
        assert_eq!(visible(&s), 3);
        s.form.focus = 2;
        s.on_key(key(KeyCode::Right), &ZH, Lang::Zh, false, today());
        s.on_key(key(KeyCode::Right), &ZH, Lang::Zh, false, today());
        assert_eq!(
            s.form.choice(field::METHOD),
            VerificationMethod::OtherDocument as i32
        );
        assert_eq!(visible(&s), 4);
        s.on_key(key(KeyCode::Right), &ZH, Lang::Zh, false, today());
        assert_eq!(visible(&s), 6);
        // Tab skips hidden fields.
        s.on_key(key(KeyCode::Left), &ZH, Lang::Zh, false, today());
        s.on_key(key(KeyCode::Left), &ZH, Lang::Zh, false, today());
        s.on_key(key(KeyCode::Tab), &ZH, Lang::Zh, false, today());
        assert_eq!(s.form.focused(), field::IDENTIFIER);
    }
}
#[cfg(test)]
mod typing_tests {
    use super::*;
    use crate::i18n::ZH;
    use ratatui::crossterm::event::{KeyEventKind, KeyModifiers};

    #[test]
    fn typing_shows_the_live_note() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let mut s = VerifyScreen::new(&ZH);
        for c in "4412".chars() {
            let k =
                KeyEvent::new_with_kind(KeyCode::Char(c), KeyModifiers::NONE, KeyEventKind::Press);
            s.on_key(k, &ZH, Lang::Zh, false, today);
        }
        assert_eq!(s.form.fields[0].note.as_deref(), Some("已输入 4/18"));
    }
}
