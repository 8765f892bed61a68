//! Consent capture at the counter (查询授权), on the verification just made:
//! grantee, purpose, validity, the paper form's serial number, an optional
//! scan fingerprint and multi-line remarks; then the receipt, which can be
//! written to a file for the counter printer.

use chrono::FixedOffset;
use credit_desk_proto::pb;
use credit_desk_proto::validate::{self, FieldError, Rule};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui_textarea::TextArea;
use tonic::Status;

use crate::app::{Action, App};
use crate::bind;
use crate::form::{Field, Form, FormEvent};
use crate::i18n::Catalogue;
use crate::keys::{self, Binding, Key::Code, Key::Ctrl, Key::Letter};
use crate::net::{Answer, Call};

const GRANTEE: &str = "grantee_id";
const PURPOSE: &str = "purpose";
const DAYS: &str = "valid_until";
const START: &str = "valid_from";
const SERIAL: &str = "form_serial";
const SCAN: &str = "scan_sha256";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Print,
    Submit,
    NextPart,
    PreviousPart,
    Up,
    Down,
    Tick,
    Back,
}

/// The screen's keys besides the form's; which work depends on the part
/// being edited (fields, remarks, scope) or the receipt being shown.
const KEYS: &[Binding<Cmd>] = &[
    bind!("p", [Letter('p')], key_print, Cmd::Print),
    bind!("Tab", [Code(KeyCode::Tab)], key_move, Cmd::NextPart),
    bind!(
        "Shift-Tab",
        [Code(KeyCode::BackTab)],
        key_move,
        Cmd::PreviousPart
    ),
    bind!("↑↓", [Code(KeyCode::Up)], key_select, Cmd::Up),
    bind!("↑↓", [Code(KeyCode::Down)], key_select, Cmd::Down),
    bind!("Space", [Code(KeyCode::Char(' '))], key_tick, Cmd::Tick),
    bind!("F10", [Code(KeyCode::F(10))], key_submit, Cmd::Submit),
    bind!("Ctrl-S", [Ctrl('s')], key_submit, Cmd::Submit),
    bind!("Esc", [Code(KeyCode::Esc)], key_back, Cmd::Back),
];

pub struct ConsentScreen {
    verification_id: String,
    pub subject_name: String,
    pub form: Option<Form>,
    grantees: Vec<pb::OrgUnit>,
    purposes: Vec<pb::Purpose>,
    max_days: u32,
    pub remarks: TextArea<'static>,
    pub in_remarks: bool,
    /// Choosing the scope: (code, name, chosen); none chosen = every category.
    pub scope: Vec<(String, String, bool)>,
    pub in_scope: bool,
    scope_cursor: usize,
    pub receipt: Option<pb::ConsentRecord>,
}

fn time(ms: i64, offset: FixedOffset) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&offset)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// The receipt's lines (screen and printout).
/// `names` turns category codes into their names for the scope line.
pub fn receipt_lines(
    c: &pb::ConsentRecord,
    cat: &Catalogue,
    offset: FixedOffset,
    names: &[(String, String, bool)],
) -> Vec<String> {
    let co = cat.colon;
    let scope = if c.scope.is_empty() {
        cat.scope_all.to_string()
    } else {
        c.scope
            .iter()
            .map(|code| {
                names
                    .iter()
                    .find(|n| n.0 == *code)
                    .map_or(code.as_str(), |n| n.1.as_str())
            })
            .collect::<Vec<_>>()
            .join("、")
    };
    let mut lines = vec![
        format!("{}", cat.consent_receipt),
        format!(
            "{}{co}{} ({})",
            cat.consent_subject, c.subject_name, c.subject_identifier
        ),
    ];
    // Who signed for the subject: an agent, or the organisation's person.
    if !c.agent_name.is_empty() {
        let (who, letter) = match c.acting_as() {
            pb::OrgActor::LegalRepresentative => (cat.acting_legal_representative, ""),
            pb::OrgActor::AuthorisedAgent => {
                (cat.acting_authorised_agent, cat.authorisation_letter)
            }
            pb::OrgActor::Unspecified => (cat.by_agent, cat.poa_reference),
        };
        let mut line = format!("{who}{co}{} ({})", c.agent_name, c.agent_identifier);
        if !letter.is_empty() {
            line.push_str(&format!("  {letter}{co}{}", c.poa_reference));
        }
        lines.push(line);
    }
    lines.extend([
        format!("{}{co}{}", cat.consent_grantee, c.grantee_name),
        format!("{}{co}{}", cat.purpose_label, c.purpose_name),
        format!("{}{co}{scope}", cat.consent_scope),
        format!(
            "{}{co}{} — {}",
            cat.consent_validity,
            time(c.valid_from_ms, offset),
            time(c.valid_until_ms, offset)
        ),
        format!("{}{co}{}", cat.consent_serial, c.form_serial),
    ]);
    if !c.scan_sha256.is_empty() {
        lines.push(format!("{}{co}{}", cat.consent_scan, c.scan_sha256));
    }
    for (i, r) in c.remarks.lines().enumerate() {
        let label = if i == 0 { cat.consent_remarks } else { "" };
        lines.push(format!("{label:>4}{}{r}", if i == 0 { co } else { "  " }));
    }
    lines.push(format!(
        "{}{co}{} / {} / {}",
        cat.consent_taken_by,
        c.operator_name,
        c.org_unit_name,
        time(c.created_at_ms, offset)
    ));
    lines.push(format!("ID{co}{}", c.id));
    lines
}

/// The printed receipt: the lines above and where the subject (or agent)
/// and the clerk sign.
/// `reprint` (when, by whom) marks a later print; nothing else differs.
pub fn receipt_document(
    c: &pb::ConsentRecord,
    cat: &Catalogue,
    offset: FixedOffset,
    names: &[(String, String, bool)],
    reprint: Option<(i64, &str)>,
) -> String {
    let mut lines = receipt_lines(c, cat, offset, names);
    if let Some((at, by)) = reprint {
        lines[0].push_str(cat.reprint_mark);
        let when = format!("{}{}{} {by}", cat.reprinted, cat.colon, time(at, offset));
        lines.insert(1, when);
    }
    lines.extend(crate::print::signatures(cat));
    crate::print::paginate(&lines, cat, &c.form_serial, &c.operator_name)
}

impl ConsentScreen {
    pub fn new(verification_id: String, subject_name: String) -> ConsentScreen {
        ConsentScreen {
            verification_id,
            subject_name,
            form: None,
            grantees: Vec::new(),
            purposes: Vec::new(),
            max_days: 90,
            remarks: TextArea::default(),
            in_remarks: false,
            scope: Vec::new(),
            in_scope: false,
            scope_cursor: 0,
            receipt: None,
        }
    }

    pub fn is_typing(&self) -> bool {
        self.receipt.is_none()
    }

    fn submit(&mut self, lang: credit_desk_proto::Lang, now_ms: i64) -> Action {
        let Some(form) = &mut self.form else {
            return Action::None;
        };
        let days_text = form.value(DAYS);
        let mut errors = Vec::new();
        let days: i64 = match validate::validity_days(DAYS, &days_text, self.max_days) {
            Ok(d) => i64::from(d),
            Err(e) => {
                errors.push(e);
                0
            }
        };
        let valid_from = match start_ms(&form.value(START), now_ms) {
            Ok(ms) => ms,
            Err(e) => {
                errors.push(e);
                now_ms
            }
        };
        if form.value(SERIAL).is_empty() {
            errors.push(FieldError::new(SERIAL, Rule::Required));
        }
        if form.show_local_errors(&errors, lang) {
            self.in_remarks = false;
            return Action::None;
        }
        let grantee = self.grantees.get(form.choice(GRANTEE) as usize);
        let purpose = self.purposes.get(form.choice(PURPOSE) as usize);
        Action::Send(Call::CaptureConsent(pb::CaptureConsentRequest {
            request_id: form.request_id(),
            verification_id: self.verification_id.clone(),
            grantee_id: grantee.map(|g| g.id.clone()).unwrap_or_default(),
            purpose_code: purpose.map(|p| p.code.clone()).unwrap_or_default(),
            scope: self
                .scope
                .iter()
                .filter(|(_, _, on)| *on)
                .map(|(code, ..)| code.clone())
                .collect(),
            // Starting now is the server's now: this terminal's clock may be off.
            valid_from_ms: if valid_from == now_ms { 0 } else { valid_from },
            valid_until_ms: 0,
            valid_days: u32::try_from(days).unwrap_or_default(),
            form_serial: form.value(SERIAL),
            scan_sha256: form.value(SCAN),
            remarks: self.remarks.lines().join("\n"),
        }))
    }

    /// Whether a key of the tables works in the part being edited.
    fn offers(&self, cmd: Cmd) -> bool {
        match cmd {
            Cmd::Print => self.receipt.is_some(),
            Cmd::Back => true,
            Cmd::Submit => self.receipt.is_none() && self.form.is_some(),
            Cmd::NextPart | Cmd::PreviousPart => self.in_scope || self.in_remarks,
            Cmd::Up | Cmd::Down | Cmd::Tick => self.in_scope,
        }
    }

    /// The keys of the part being edited, then submit and back.
    pub fn hint(&self, cat: &Catalogue, width: usize) -> String {
        let own = keys::entries(KEYS, cat, |c| self.offers(c));
        match &self.form {
            Some(form) if self.receipt.is_none() && !self.in_scope && !self.in_remarks => {
                keys::fit(form.key_entries(cat).into_iter().chain(own), width)
            }
            _ => keys::fit(own, width),
        }
    }

    pub fn on_key(
        &mut self,
        key: KeyEvent,
        cat: &Catalogue,
        lang: credit_desk_proto::Lang,
        waiting: bool,
        now_ms: i64,
    ) -> Action {
        match keys::find(KEYS, &key, |c| self.offers(c)) {
            Some(Cmd::Back) => return Action::Back,
            Some(Cmd::Print) => {
                let Some(receipt) = &self.receipt else {
                    return Action::None;
                };
                return Action::Send(Call::SaveText {
                    path: format!(
                        "{}-{}.txt",
                        cat.consent_receipt,
                        crate::print::file_name_part(&receipt.form_serial)
                    )
                    .into(),
                    text: receipt_document(
                        receipt,
                        cat,
                        *credit_desk_proto::now::local().offset(),
                        &self.scope,
                        None,
                    ),
                });
            }
            Some(Cmd::Submit) if waiting => return Action::None,
            Some(Cmd::Submit) => return self.submit(lang, now_ms),
            // Fields → remarks → scope → the first field, and back.
            Some(Cmd::NextPart) => {
                if self.in_scope
                    && let Some(f) = &mut self.form
                {
                    f.focus = 0;
                }
                self.in_scope = self.in_remarks;
                self.in_remarks = false;
                return Action::None;
            }
            Some(Cmd::PreviousPart) => {
                if self.in_remarks
                    && let Some(f) = &mut self.form
                {
                    f.focus = f.fields.len() - 1;
                }
                self.in_remarks = self.in_scope;
                self.in_scope = false;
                return Action::None;
            }
            Some(Cmd::Up) => {
                self.scope_cursor = self.scope_cursor.saturating_sub(1);
                return Action::None;
            }
            Some(Cmd::Down) => {
                self.scope_cursor = (self.scope_cursor + 1).min(self.scope.len().saturating_sub(1));
                return Action::None;
            }
            Some(Cmd::Tick) => {
                if let Some(item) = self.scope.get_mut(self.scope_cursor) {
                    item.2 = !item.2;
                }
                if let Some(f) = &mut self.form {
                    f.content_changed();
                }
                return Action::None;
            }
            None => {}
        }
        if self.receipt.is_some() || self.in_scope {
            return Action::None;
        }
        if self.in_remarks {
            if crate::form::edit_area(&mut self.remarks, key)
                && let Some(f) = &mut self.form
            {
                f.content_changed();
            }
            return Action::None;
        }
        let Some(form) = &mut self.form else {
            return Action::None;
        };
        // Tab past the last field goes to the remarks; Shift-Tab before the
        // first to the scope.
        if key.code == KeyCode::Tab && form.focus == form.fields.len() - 1 {
            self.in_remarks = true;
            return Action::None;
        }
        if key.code == KeyCode::BackTab && form.focus == 0 {
            self.in_scope = true;
            return Action::None;
        }
        match form.handle_key(key) {
            FormEvent::Submit if !waiting => self.submit(lang, now_ms),
            _ => Action::None,
        }
    }

    pub fn on_answer(
        &mut self,
        answer: Answer,
        cat: &Catalogue,
        lang: credit_desk_proto::Lang,
    ) -> Action {
        match answer {
            Answer::Purposes(list) => {
                self.grantees = list.grantees;
                self.purposes = list.purposes;
                self.max_days = list.max_validity_days;
                self.scope = list
                    .categories
                    .iter()
                    .map(|c| {
                        (
                            c.code.clone(),
                            lang.pick(c.name_zh.clone(), c.name_en.clone()),
                            false,
                        )
                    })
                    .collect();
                let grantees = self
                    .grantees
                    .iter()
                    .enumerate()
                    .map(|(i, g)| (i as i32, g.name.clone()))
                    .collect();
                let purposes = self
                    .purposes
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (i as i32, lang.pick(p.name_zh.clone(), p.name_en.clone())))
                    .collect();
                let mut form = Form::new(vec![
                    Field::choice(GRANTEE, cat.consent_grantee, grantees),
                    Field::choice(PURPOSE, cat.purpose_label, purposes),
                    Field::text(DAYS, cat.consent_days).with_value("30"),
                    Field::text(START, cat.consent_start),
                    Field::text(SERIAL, cat.consent_serial),
                    Field::text(SCAN, cat.consent_scan),
                ]);
                form.set_note(START, Some(cat.consent_start_note.to_string()));
                self.form = Some(form);
                Action::None
            }
            Answer::ConsentCaptured(c) => {
                self.receipt = Some(c);
                Action::None
            }
            Answer::Saved(path) => Action::Info(format!("{} {}", cat.saved_to, path.display())),
            _ => Action::None,
        }
    }

    pub fn on_error(&mut self, status: &Status) -> bool {
        self.in_remarks = false;
        match &mut self.form {
            Some(f) => f.apply_status(status),
            None => false,
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, app: &App) {
        let (cat, theme) = (app.cat, app.theme);
        let [body, hint] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
        if let Some(c) = &self.receipt {
            let lines: Vec<Line> = receipt_lines(c, cat, app.utc_offset, &self.scope)
                .into_iter()
                .map(Line::from)
                .collect();
            frame.render_widget(Paragraph::new(lines), body);
            frame.render_widget(
                Paragraph::new(Line::styled(
                    self.hint(cat, usize::from(hint.width)),
                    theme.dim(),
                )),
                hint,
            );
            return;
        }
        let Some(form) = &self.form else {
            frame.render_widget(Paragraph::new(cat.loading), body);
            return;
        };
        let [who, fields, scope_line, remarks] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Length(form.height()),
            Constraint::Length(1),
            Constraint::Min(3),
        ])
        .areas(body);
        let chosen: Vec<&str> = self
            .scope
            .iter()
            .filter(|(_, _, on)| *on)
            .map(|(_, name, _)| name.as_str())
            .collect();
        let summary = if chosen.is_empty() {
            cat.scope_all.to_string()
        } else {
            chosen.join("、")
        };
        let (scope_style, mark) = if self.in_scope {
            (theme.focused_label(), "▶")
        } else {
            (theme.label(), " ")
        };
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!("{mark}{}{}{summary}", cat.consent_scope, cat.colon),
                scope_style,
            )),
            scope_line,
        );
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!(" {}{}{}", cat.consent_subject, cat.colon, self.subject_name),
                theme.title(),
            )),
            who,
        );
        form.render(
            fields,
            frame.buffer_mut(),
            theme,
            !app.help && !self.in_remarks && !self.in_scope,
        );
        if self.in_scope {
            // The category list takes the remarks' place while choosing.
            let items: Vec<ratatui::widgets::ListItem> = self
                .scope
                .iter()
                .map(|(_, name, on)| {
                    ratatui::widgets::ListItem::new(format!(
                        "[{}] {name}",
                        if *on { "x" } else { " " }
                    ))
                })
                .collect();
            let mut state =
                ratatui::widgets::ListState::default().with_selected(Some(self.scope_cursor));
            frame.render_stateful_widget(
                ratatui::widgets::List::new(items)
                    .block(
                        Block::default()
                            .borders(Borders::TOP)
                            .title(cat.scope_choose),
                    )
                    .highlight_style(theme.selected()),
                remarks,
                &mut state,
            );
            frame.render_widget(
                Paragraph::new(Line::styled(
                    self.hint(cat, usize::from(hint.width)),
                    theme.dim(),
                )),
                hint,
            );
            return;
        }
        let mut area = self.remarks.clone();
        let label_style = if self.in_remarks {
            theme.focused_label()
        } else {
            theme.label()
        };
        area.set_block(Block::default().borders(Borders::TOP).title(Line::styled(
            match self.in_remarks {
                true => format!("▶{}", cat.consent_remarks),
                false => format!(" {}", cat.consent_remarks),
            },
            label_style,
        )));
        area.set_cursor_style(if self.in_remarks {
            theme.selected()
        } else {
            ratatui::style::Style::default()
        });
        frame.render_widget(&area, remarks);
        frame.render_widget(
            Paragraph::new(Line::styled(
                self.hint(cat, usize::from(hint.width)),
                theme.dim(),
            )),
            hint,
        );
    }
}

/// When a consent starts: empty or today is now; a later day starts at
/// its local midnight (the server bounds how far ahead).
fn start_ms(text: &str, now_ms: i64) -> Result<i64, FieldError> {
    use chrono::TimeZone;
    if text.trim().is_empty() {
        return Ok(now_ms);
    }
    let day = validate::date(START, text)?;
    let today = chrono::DateTime::from_timestamp_millis(now_ms)
        .unwrap_or_default()
        .with_timezone(&chrono::Local)
        .date_naive();
    match day.cmp(&today) {
        std::cmp::Ordering::Less => Err(FieldError::new(START, Rule::StartsInThePast)),
        std::cmp::Ordering::Equal => Ok(now_ms),
        std::cmp::Ordering::Greater => Ok(chrono::Local
            .from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
            .earliest()
            .map_or(now_ms, |t| t.timestamp_millis())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::ZH;
    use credit_desk_proto::Lang;
    use ratatui::crossterm::event::{KeyEventKind, KeyModifiers};

    const NOW: i64 = 1_795_395_600_000;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new_with_kind(code, KeyModifiers::NONE, KeyEventKind::Press)
    }

    fn press(s: &mut ConsentScreen, code: KeyCode) -> Action {
        s.on_key(key(code), &ZH, Lang::Zh, false, NOW)
    }

    fn loaded() -> ConsentScreen {
        let mut s = ConsentScreen::new("v1".into(), "李建国".into());
        s.on_answer(
            Answer::Purposes(pb::ListPurposesResponse {
                purposes: vec![pb::Purpose {
                    code: "loan_approval".into(),
                    name_zh: "贷款审批".into(),
                    ..Default::default()
                }],
                max_validity_days: 90,
                grantees: vec![pb::OrgUnit {
                    id: "b1".into(),
                    name: "农村商业银行".into(),
                    ..Default::default()
                }],
                categories: ["court_judgment", "tax_arrears"]
                    .map(|code| pb::RecordCategory {
                        code: code.into(),
                        name_zh: code.into(),
                        name_en: code.into(),
                    })
                    .to_vec(),
                ..Default::default()
            }),
            &ZH,
            Lang::Zh,
        );
        s
    }

    fn request(a: Action) -> pb::CaptureConsentRequest {
        match a {
            Action::Send(Call::CaptureConsent(r)) => r,
            _ => panic!("expected a capture"),
        }
    }

    #[test]
    fn capture_carries_every_field_and_multi_line_remarks() {
        let mut s = loaded();
        assert!(
            matches!(press(&mut s, KeyCode::F(10)), Action::None),
            "the serial is required"
        );
        // The focus went to the serial number.
        for c in "SQ-1".chars() {
            press(&mut s, KeyCode::Char(c));
        }
        press(&mut s, KeyCode::Tab);
        press(&mut s, KeyCode::Tab);
        assert!(s.in_remarks);
        for c in "第一行".chars() {
            press(&mut s, KeyCode::Char(c));
        }
        press(&mut s, KeyCode::Enter);
        for c in "第二行".chars() {
            press(&mut s, KeyCode::Char(c));
        }
        let r = request(press(&mut s, KeyCode::F(10)));
        assert_eq!(
            (r.grantee_id.as_str(), r.purpose_code.as_str()),
            ("b1", "loan_approval")
        );
        assert_eq!(r.form_serial, "SQ-1");
        assert_eq!(r.remarks, "第一行\n第二行");
        assert_eq!(
            (r.valid_from_ms, r.valid_until_ms, r.valid_days),
            (0, 0, 30),
            "starting now, by the server's clock"
        );
        // Same content: the same request. Remarks edited: a new one.
        let again = request(press(&mut s, KeyCode::F(10)));
        assert_eq!(again.request_id, r.request_id);
        press(&mut s, KeyCode::Char('!'));
        let edited = request(press(&mut s, KeyCode::F(10)));
        assert_ne!(edited.request_id, r.request_id);
    }

    #[test]
    fn a_consent_may_start_on_a_later_day_never_an_earlier_one() {
        let now = 1_795_395_600_000; // 2026-11-23 01:00 UTC
        assert_eq!(start_ms("", now), Ok(now));
        let today = chrono::DateTime::from_timestamp_millis(now)
            .unwrap()
            .with_timezone(&chrono::Local)
            .date_naive();
        assert_eq!(start_ms(&today.to_string(), now), Ok(now), "today is now");
        let later = start_ms(&(today + chrono::Days::new(3)).to_string(), now).unwrap();
        assert!(
            later > now + 2 * 86_400_000 && later <= now + 3 * 86_400_000,
            "{later}"
        );
        let earlier = (today - chrono::Days::new(1)).to_string();
        assert_eq!(
            start_ms(&earlier, now).unwrap_err().rule,
            Rule::StartsInThePast
        );
        assert_eq!(
            start_ms("2026-13-01", now).unwrap_err().rule,
            Rule::NoSuchDate
        );
        // The request carries it, and the validity runs from it.
        let mut s = loaded();
        s.form.as_mut().unwrap().focus = 3;
        for c in (today + chrono::Days::new(3)).to_string().chars() {
            press(&mut s, KeyCode::Char(c));
        }
        s.form.as_mut().unwrap().focus = 4;
        for c in "SQ-3".chars() {
            press(&mut s, KeyCode::Char(c));
        }
        let r = request(press(&mut s, KeyCode::F(10)));
        assert_eq!(r.valid_from_ms, later);
        assert_eq!((r.valid_until_ms, r.valid_days), (0, 30));
    }

    #[test]
    fn scope_is_chosen_with_space_after_the_remarks() {
        let mut s = loaded();
        s.form.as_mut().unwrap().focus = 4;
        for c in "SQ-2".chars() {
            press(&mut s, KeyCode::Char(c));
        }
        press(&mut s, KeyCode::Tab);
        press(&mut s, KeyCode::Tab);
        press(&mut s, KeyCode::Tab);
        assert!(s.in_scope && !s.in_remarks);
        // The footer names the scope's keys, and they work.
        assert!(
            s.hint(&ZH, 200).contains("Space 勾选"),
            "{}",
            s.hint(&ZH, 200)
        );
        press(&mut s, KeyCode::Down);
        press(&mut s, KeyCode::Char(' '));
        let r = request(press(&mut s, KeyCode::F(10)));
        assert_eq!(r.scope, ["tax_arrears"]);
        // Shift-Tab goes back to the remarks, where Space is typed.
        press(&mut s, KeyCode::BackTab);
        assert!(s.in_remarks && !s.hint(&ZH, 200).contains("勾选"));
        press(&mut s, KeyCode::Char(' '));
        assert_eq!(
            request(press(&mut s, KeyCode::F(10))).scope,
            ["tax_arrears"]
        );
        // Tab goes round every part: scope, then the first field (the
        // grantee) again; Shift-Tab from there goes back to the scope.
        press(&mut s, KeyCode::Tab);
        press(&mut s, KeyCode::Tab);
        assert!(!s.in_scope && !s.in_remarks);
        assert_eq!(s.form.as_ref().unwrap().focus, 0, "back to the grantee");
        press(&mut s, KeyCode::BackTab);
        assert!(s.in_scope);
        press(&mut s, KeyCode::BackTab);
        press(&mut s, KeyCode::BackTab);
        assert!(!s.in_remarks && !s.in_scope);
        let last = s.form.as_ref().unwrap().fields.len() - 1;
        assert_eq!(s.form.as_ref().unwrap().focus, last);
    }

    #[test]
    fn validity_over_the_maximum_is_refused_locally() {
        let mut s = loaded();
        s.form.as_mut().unwrap().focus = 2;
        press(&mut s, KeyCode::Backspace);
        press(&mut s, KeyCode::Backspace);
        for c in "91".chars() {
            press(&mut s, KeyCode::Char(c));
        }
        assert!(matches!(press(&mut s, KeyCode::F(10)), Action::None));
        let f = s.form.as_ref().unwrap();
        assert!(f.fields[2].error.as_deref().unwrap().contains("90"));
    }
}
