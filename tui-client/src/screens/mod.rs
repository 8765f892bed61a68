//! One module per screen. [`Screen`] dispatches to them; each screen owns
//! its state, turns keys and answers into [`Action`]s, and draws itself.

pub mod calendar;
pub mod complaints;
pub mod consent;
pub mod consent_query;
pub mod day_review;
pub mod intake;
pub mod login;
pub mod menu;
pub mod month_report;
pub mod my_day;
pub mod objection;
pub mod operators;
pub mod org_units;
pub mod password;
pub mod purposes;
pub mod query_log;
pub mod queue;
pub mod registry;
pub mod report;
pub mod settings;
pub mod ticket;
pub mod ticket_search;
pub mod verify;
pub mod withdraw;

use credit_desk_proto::Lang;
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use tonic::Status;

use crate::app::{Action, App};
use crate::i18n::Catalogue;
use crate::net::{Answer, Call};

// Only a handful of screens exist at a time (the current one and the way
// back): their sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub enum Screen {
    Login(login::LoginScreen),
    Menu(menu::MenuScreen),
    Password(password::PasswordScreen),
    OrgUnits(org_units::OrgUnitsScreen),
    Operators(operators::OperatorsScreen),
    Verify(verify::VerifyScreen),
    Intake(intake::IntakeScreen),
    Report(report::ReportScreen),
    Consent(Box<consent::ConsentScreen>),
    ConsentQuery(consent_query::ConsentQueryScreen),
    Withdraw(withdraw::WithdrawScreen),
    Purposes(purposes::PurposesScreen),
    Queue(queue::QueueScreen),
    Ticket(ticket::TicketScreen),
    Objection(Box<objection::ObjectionScreen>),
    Calendar(calendar::CalendarScreen),
    QueryLog(query_log::QueryLogScreen),
    DayReview(day_review::DayReviewScreen),
    MonthReport(month_report::MonthReportScreen),
    TicketSearch(ticket_search::TicketSearchScreen),
    MyDay(my_day::MyDayScreen),
    Registry(Box<registry::RegistryScreen>),
    Settings(settings::SettingsScreen),
    Complaints(complaints::ComplaintsScreen),
}

/// Screens reachable from the menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    ChangePassword {
        forced: bool,
    },
    OrgUnits,
    Operators,
    Purposes,
    Queue,
    Ticket {
        ticket_id: String,
    },
    /// Filing an objection on these records (id, label) of the verified subject.
    Objection {
        verification_id: String,
        records: Vec<(String, String)>,
    },
    Calendar,
    /// Searching the query log (center, supervisors).
    QueryLog,
    /// The daily review of query operations (supervisors).
    DayReview,
    MonthReport,
    /// Reprinting an issued report by its number.
    Reprint,
    /// Finding tickets in any state.
    TicketSearch,
    /// The clerk's own day.
    MyDay,
    /// The subject registry and households.
    Registry,
    /// The center's settings (administrators).
    Settings,
    Complaints,
    Verify,
    Intake,
    /// The subject's own report, on the verification just made.
    SelfReport {
        subject_id: String,
        verification_id: String,
    },
    /// Finding a consent to query on.
    ConsentQuery,
    /// The subject's consents, to withdraw one.
    Withdraw {
        subject_id: String,
        verification_id: String,
    },
    /// A report on a consent.
    ConsentReport {
        subject_id: String,
        basis: credit_desk_proto::pb::run_query_request::Basis,
    },
    /// Consent capture on the verification just made.
    Consent {
        verification_id: String,
        subject_name: String,
    },
}

/// Builds a screen and the call that loads its data (one round trip).
pub fn open(target: Target, app: &App) -> (Screen, Option<Call>) {
    match target {
        Target::ChangePassword { forced } => {
            let username = app
                .session
                .as_ref()
                .and_then(|s| s.home.operator.as_ref())
                .map(|o| o.username.clone())
                .unwrap_or_default();
            (
                Screen::Password(password::PasswordScreen::new(app.cat, forced, &username)),
                None,
            )
        }
        Target::Verify => (Screen::Verify(verify::VerifyScreen::new(app.cat)), None),
        Target::Withdraw {
            subject_id,
            verification_id,
        } => {
            let me = app.operator_name();
            let screen =
                withdraw::WithdrawScreen::new(subject_id, verification_id).with_operator(me);
            let call = screen.load();
            (Screen::Withdraw(screen), Some(call))
        }
        Target::ConsentQuery => (
            Screen::ConsentQuery(consent_query::ConsentQueryScreen::new(app.cat)),
            None,
        ),
        Target::ConsentReport { subject_id, basis } => {
            let screen = report::ReportScreen::new(subject_id, basis);
            let call = screen.request(false);
            (Screen::Report(screen), Some(call))
        }
        Target::Consent {
            verification_id,
            subject_name,
        } => (
            Screen::Consent(Box::new(consent::ConsentScreen::new(
                verification_id,
                subject_name,
            ))),
            Some(Call::ListPurposes {
                include_retired: false,
                known_version: String::new(),
            }),
        ),
        Target::SelfReport {
            subject_id,
            verification_id,
        } => {
            let screen = report::ReportScreen::self_query(subject_id, verification_id);
            let call = screen.request(false);
            (Screen::Report(screen), Some(call))
        }
        Target::Intake => (
            Screen::Intake(intake::IntakeScreen::new(app.today)),
            Some(Call::ListImports),
        ),
        Target::Queue => {
            let screen = queue::QueueScreen::default();
            let call = screen.request();
            (Screen::Queue(screen), Some(call))
        }
        Target::Ticket { ticket_id } => {
            let caps = app.capabilities();
            let verification = app.session.as_ref().and_then(|s| s.verification.clone());
            let me = app.operator_name();
            let screen = ticket::TicketScreen::new(ticket_id, caps)
                .with_verification(verification)
                .with_operator(me);
            let call = screen.load();
            (Screen::Ticket(screen), Some(call))
        }
        Target::Objection {
            verification_id,
            records,
        } => (
            Screen::Objection(Box::new(objection::ObjectionScreen::new(
                verification_id,
                records,
                app.cat,
                app.lang,
            ))),
            None,
        ),
        Target::Calendar => (
            Screen::Calendar(calendar::CalendarScreen::default()),
            Some(calendar::CalendarScreen::load()),
        ),
        Target::QueryLog => (
            Screen::QueryLog(query_log::QueryLogScreen::new(app.cat, app.today)),
            None,
        ),
        Target::DayReview => (
            Screen::DayReview(day_review::DayReviewScreen::new(app.cat, app.today)),
            None,
        ),
        Target::MyDay => (
            Screen::MyDay(my_day::MyDayScreen::default()),
            Some(my_day::MyDayScreen::load()),
        ),
        Target::Registry => {
            let caps = app.capabilities();
            (
                Screen::Registry(Box::new(registry::RegistryScreen::new(app.cat, &caps))),
                None,
            )
        }
        Target::Settings => (
            Screen::Settings(settings::SettingsScreen::default()),
            Some(settings::SettingsScreen::load()),
        ),
        Target::TicketSearch => (
            Screen::TicketSearch(ticket_search::TicketSearchScreen::new(app.cat, app.lang)),
            None,
        ),
        Target::Reprint => (Screen::Report(report::ReportScreen::reprint(app.cat)), None),
        Target::MonthReport => (
            Screen::MonthReport(month_report::MonthReportScreen::new(app.cat, app.today)),
            None,
        ),
        Target::Complaints => {
            let caps = app.capabilities();
            let screen = complaints::ComplaintsScreen::new(&caps);
            let call = screen.load();
            (Screen::Complaints(screen), Some(call))
        }
        Target::Purposes => (
            Screen::Purposes(purposes::PurposesScreen::default()),
            Some(purposes::PurposesScreen::load()),
        ),
        Target::OrgUnits => (
            Screen::OrgUnits(org_units::OrgUnitsScreen::default()),
            Some(Call::ListOrgUnits),
        ),
        Target::Operators => {
            let screen = operators::OperatorsScreen::default();
            let call = screen.load(String::new());
            (Screen::Operators(screen), Some(call))
        }
    }
}

impl Screen {
    pub fn title(&self, cat: &Catalogue) -> &'static str {
        match self {
            Screen::Login(_) => cat.login_title,
            Screen::Menu(_) => cat.menu_title,
            Screen::Password(_) => cat.password_title,
            Screen::OrgUnits(_) => cat.org_units_title,
            Screen::Operators(_) => cat.operators_title,
            Screen::Verify(_) => cat.verify_title,
            Screen::Intake(_) => cat.import_title,
            Screen::Report(_) => cat.report_title,
            Screen::Consent(_) => cat.consent_title,
            Screen::ConsentQuery(_) => cat.consent_query_title,
            Screen::Withdraw(_) => cat.withdraw_title,
            Screen::Purposes(_) => cat.purposes_title,
            Screen::Queue(_) => cat.queue_title,
            Screen::Ticket(_) => cat.case_file_title,
            Screen::Objection(_) => cat.objection_title,
            Screen::Calendar(_) => cat.calendar_title,
            Screen::QueryLog(_) => cat.query_log_title,
            Screen::TicketSearch(_) => cat.ticket_search_title,
            Screen::MyDay(_) => cat.my_day_title,
            Screen::Registry(_) => cat.registry_title,
            Screen::Settings(_) => cat.settings_title,
            Screen::DayReview(_) => cat.review_title,
            Screen::MonthReport(_) => cat.month_title,
            Screen::Complaints(_) => cat.complaints_title,
        }
    }

    /// Whether the screen is only a loading page until its answer comes:
    /// cancelling that answer leaves nothing to look at, so it goes back.
    pub fn only_loading(&self) -> bool {
        match self {
            Screen::Report(s) => s.response.is_none(),
            Screen::Ticket(s) => s.ticket.is_none(),
            _ => false,
        }
    }

    /// What to fetch again when the screen comes back into view (after the
    /// screen above it closed, or when an act was refused as stale): only
    /// screens whose data others change.
    pub fn reload(&self, session_has_queue: bool) -> Option<Call> {
        match self {
            Screen::Queue(s) => Some(s.request()),
            Screen::Ticket(s) => Some(s.load()),
            Screen::Menu(_) if session_has_queue => Some(Call::Home),
            _ => None,
        }
    }

    /// Streamed progress of the waiting call (imports only).
    pub fn on_progress(&mut self, done: u32, total: u32) {
        if let Screen::Intake(s) = self {
            s.on_progress(done, total);
        }
    }

    /// The screen's key line, fitted to `width` columns where the screen
    /// builds it from its key table.
    pub fn hint(&self, cat: &Catalogue, width: usize) -> std::borrow::Cow<'static, str> {
        match self {
            Screen::Menu(_) => menu::hint(cat, width).into(),
            Screen::Login(s) => s.hint(cat, width).into(),
            Screen::Password(s) => s.hint(cat, width).into(),
            Screen::OrgUnits(s) => s.hint_line(cat, width).into(),
            Screen::Operators(s) => s.hint_line(cat, width).into(),
            Screen::Verify(s) => s.hint_line(cat, width).into(),
            Screen::Intake(s) => s.hint(cat, width).into(),
            Screen::Report(s) => s.hint_line(cat, width).into(),
            Screen::Consent(s) => s.hint(cat, width).into(),
            Screen::ConsentQuery(s) => s.hint(cat, width).into(),
            Screen::Withdraw(s) => s.hint_line(cat, width).into(),
            Screen::Purposes(s) => s.hint_line(cat, width).into(),
            Screen::Queue(_) => queue::hint(cat, width).into(),
            Screen::Ticket(s) => s.hint(cat, width).into(),
            Screen::Objection(s) => s.hint(cat, width).into(),
            Screen::Calendar(s) => s.hint_line(cat, width).into(),
            Screen::QueryLog(s) => s.hint(cat, width).into(),
            Screen::TicketSearch(s) => s.hint(cat, width).into(),
            Screen::MyDay(s) => s.hint(cat, width).into(),
            Screen::Registry(s) => s.hint(cat, width).into(),
            Screen::Settings(s) => s.hint(cat, width).into(),
            Screen::DayReview(s) => s.hint(cat, width).into(),
            Screen::MonthReport(s) => s.hint(cat, width).into(),
            Screen::Complaints(s) => s.hint(cat, width).into(),
        }
    }

    /// Whether keys go into a text field (then `?` is a character, not help).
    pub fn is_typing(&self) -> bool {
        match self {
            Screen::Login(_) | Screen::Password(_) => true,
            Screen::Verify(s) => s.is_typing(),
            Screen::Intake(s) => s.is_typing(),
            Screen::Report(s) => s.is_typing(),
            Screen::Consent(s) => s.is_typing(),
            Screen::ConsentQuery(s) => s.is_typing(),
            Screen::Withdraw(s) => s.is_typing(),
            Screen::Purposes(s) => s.is_typing(),
            Screen::Queue(_) => false,
            Screen::Ticket(s) => s.is_typing(),
            Screen::Objection(s) => s.is_typing(),
            Screen::Calendar(s) => s.is_typing(),
            Screen::QueryLog(s) => s.is_typing(),
            Screen::TicketSearch(s) => s.is_typing(),
            Screen::MyDay(_) => false,
            Screen::Registry(s) => s.is_typing(),
            Screen::Settings(s) => s.is_typing(),
            Screen::DayReview(s) => s.is_typing(),
            Screen::MonthReport(s) => s.is_typing(),
            Screen::Complaints(s) => s.is_typing(),
            Screen::Menu(_) => false,
            Screen::OrgUnits(s) => s.is_typing(),
            Screen::Operators(s) => s.is_typing(),
        }
    }

    pub fn on_key(
        &mut self,
        key: KeyEvent,
        cat: &Catalogue,
        lang: Lang,
        waiting: bool,
        today: chrono::NaiveDate,
        now_ms: i64,
    ) -> Action {
        match self {
            Screen::Verify(s) => s.on_key(key, cat, lang, waiting, today),
            Screen::Intake(s) => s.on_key(key, lang, waiting),
            Screen::Report(s) => s.on_key(key, cat, lang, waiting),
            Screen::Consent(s) => s.on_key(key, cat, lang, waiting, now_ms),
            Screen::ConsentQuery(s) => s.on_key(key, lang, waiting, today),
            Screen::Withdraw(s) => s.on_key(
                key,
                cat,
                lang,
                waiting,
                *credit_desk_proto::now::local().offset(),
            ),
            Screen::Purposes(s) => s.on_key(key, cat, lang, waiting),
            Screen::Queue(s) => s.on_key(key),
            Screen::Ticket(s) => s.on_key(key, cat, lang, waiting),
            Screen::Objection(s) => s.on_key(key, cat, lang, waiting),
            Screen::Calendar(s) => s.on_key(key, cat, lang, waiting),
            Screen::QueryLog(s) => s.on_key(key, lang, waiting, today),
            Screen::TicketSearch(s) => s.on_key(key, lang, waiting),
            Screen::MyDay(s) => s.on_key(key, waiting),
            Screen::Registry(s) => s.on_key(key, cat, lang, waiting),
            Screen::Settings(s) => s.on_key(key, cat, lang, waiting),
            Screen::DayReview(s) => s.on_key(key, cat, lang, waiting),
            Screen::MonthReport(s) => s.on_key(key, cat, lang, waiting),
            Screen::Complaints(s) => s.on_key(key, cat, waiting),
            Screen::Login(s) => s.on_key(key, lang, waiting),
            Screen::Menu(s) => s.on_key(key),
            Screen::Password(s) => s.on_key(key, cat, lang, waiting),
            Screen::OrgUnits(s) => s.on_key(key, cat, lang, waiting),
            Screen::Operators(s) => s.on_key(key, cat, lang, waiting),
        }
    }

    pub fn on_answer(&mut self, answer: Answer, cat: &Catalogue, lang: Lang) -> Action {
        match self {
            Screen::Login(_) | Screen::Menu(_) => Action::None,
            Screen::Verify(s) => s.on_answer(answer),
            Screen::Intake(s) => s.on_answer(answer, cat),
            Screen::Report(s) => s.on_answer(answer, cat),
            Screen::Consent(s) => s.on_answer(answer, cat, lang),
            Screen::ConsentQuery(s) => s.on_answer(answer),
            Screen::Withdraw(s) => s.on_answer(answer, cat),
            Screen::Purposes(s) => s.on_answer(answer, cat),
            Screen::Queue(s) => s.on_answer(answer),
            Screen::Ticket(s) => s.on_answer(answer, cat),
            Screen::Objection(s) => s.on_answer(answer, cat),
            Screen::Calendar(s) => s.on_answer(answer, cat),
            Screen::QueryLog(s) => s.on_answer(answer, cat),
            Screen::TicketSearch(s) => s.on_answer(answer),
            Screen::MyDay(s) => s.on_answer(answer),
            Screen::Registry(s) => s.on_answer(answer, cat),
            Screen::Settings(s) => s.on_answer(answer, cat),
            Screen::DayReview(s) => s.on_answer(answer, cat),
            Screen::MonthReport(s) => s.on_answer(answer, cat),
            Screen::Complaints(s) => s.on_answer(answer, cat),
            Screen::Password(s) => s.on_answer(answer, cat),
            Screen::OrgUnits(s) => s.on_answer(answer, cat, lang),
            Screen::Operators(s) => s.on_answer(answer, cat, lang),
        }
    }

    /// Places a server error next to the fields it names; false if the
    /// screen has nowhere to put it (the app then shows it as a notice).
    pub fn on_error(&mut self, status: &Status) -> bool {
        match self {
            Screen::Login(s) => s.on_error(status),
            Screen::Menu(_) => false,
            Screen::Password(s) => s.form.apply_status(status),
            Screen::Verify(s) => s.on_error(status),
            Screen::Intake(s) => s.on_error(status),
            Screen::Report(s) => s.on_error(status),
            Screen::Consent(s) => s.on_error(status),
            Screen::ConsentQuery(s) => s.on_error(status),
            Screen::Withdraw(s) => s.on_error(status),
            Screen::Purposes(s) => s.on_error(status),
            Screen::Queue(_) => false,
            Screen::Ticket(s) => s.on_error(status),
            Screen::Objection(s) => s.on_error(status),
            Screen::Calendar(s) => s.on_error(status),
            Screen::QueryLog(s) => s.on_error(status),
            Screen::TicketSearch(s) => s.on_error(status),
            Screen::MyDay(_) => false,
            Screen::Registry(s) => s.on_error(status),
            Screen::Settings(s) => s.on_error(status),
            Screen::DayReview(s) => s.on_error(status),
            Screen::MonthReport(s) => s.on_error(status),
            Screen::Complaints(s) => s.on_error(status),
            Screen::OrgUnits(s) => s.on_error(status),
            Screen::Operators(s) => s.on_error(status),
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, app: &App) {
        match self {
            Screen::Login(s) => s.render(frame, area, app),
            Screen::Menu(s) => s.render(frame, area, app),
            Screen::Password(s) => s.render(frame, area, app),
            Screen::OrgUnits(s) => s.render(frame, area, app),
            Screen::Operators(s) => s.render(frame, area, app),
            Screen::Verify(s) => s.render(frame, area, app),
            Screen::Intake(s) => s.render(frame, area, app),
            Screen::Report(s) => s.render(frame, area, app),
            Screen::Consent(s) => s.render(frame, area, app),
            Screen::ConsentQuery(s) => s.render(frame, area, app),
            Screen::Withdraw(s) => s.render(frame, area, app),
            Screen::Purposes(s) => s.render(frame, area, app),
            Screen::Queue(s) => s.render(frame, area, app),
            Screen::Ticket(s) => s.render(frame, area, app),
            Screen::Objection(s) => s.render(frame, area, app),
            Screen::Calendar(s) => s.render(frame, area, app),
            Screen::QueryLog(s) => s.render(frame, area, app),
            Screen::TicketSearch(s) => s.render(frame, area, app),
            Screen::MyDay(s) => s.render(frame, area, app),
            Screen::Registry(s) => s.render(frame, area, app),
            Screen::Settings(s) => s.render(frame, area, app),
            Screen::DayReview(s) => s.render(frame, area, app),
            Screen::MonthReport(s) => s.render(frame, area, app),
            Screen::Complaints(s) => s.render(frame, area, app),
        }
    }
}
