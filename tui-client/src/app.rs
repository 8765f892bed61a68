//! The workstation's state machine (Elm style): `update` takes one event —
//! a key, a server answer, a link report — changes the state and returns the
//! commands to run; `render` draws the state. Neither does I/O, so the whole
//! app runs on any ratatui backend and is tested without a terminal.

use std::sync::Arc;
use std::time::Duration;

use credit_desk_proto::Lang;
use credit_desk_proto::errors as reason;
use credit_desk_proto::pb;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use tonic::Status;
use tonic_types::StatusExt;

use crate::bind;
use crate::i18n::{self, Catalogue};
use crate::keys::{self, Binding, Key::Code, Key::Ctrl};
use crate::net::{Answer, Call, Meter};
use crate::screens::{self, Screen};
use crate::theme::Theme;

/// Keys that work on every screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Global {
    Help,
    /// `?` opens the help only where it is not typed into a field.
    HelpUnlessTyping,
    Quit,
}

pub const GLOBAL_KEYS: &[Binding<Global>] = &[
    bind!("F1", [Code(KeyCode::F(1))], key_help, Global::Help),
    bind!(
        "?",
        [Code(KeyCode::Char('?'))],
        key_help,
        Global::HelpUnlessTyping
    ),
    bind!("Ctrl-C", [Ctrl('c')], key_quit, Global::Quit),
];

/// Something that happened, fed to [`App::update`].
// A few events a second at most: the size of the reply variant is no cost.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Event {
    Key(KeyEvent),
    /// The answer to the request with this sequence number.
    Reply {
        seq: u64,
        result: Result<Answer, Status>,
        rtt_ms: u64,
    },
    /// A request could not reach the server; it is retried in `retry_in_s`.
    LinkDown {
        attempt: u32,
        retry_in_s: u64,
    },
    /// A streamed call (an import) has got this far.
    Progress {
        seq: u64,
        done: u32,
        total: u32,
    },
    /// The terminal changed size: only a redraw is needed.
    Resize,
}

/// What the app asks its runner to do.
// One per request at most: the size of a call is no cost.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Command {
    Send {
        seq: u64,
        token: Option<String>,
        call: Call,
        /// Sent only after this long (zero: at once); a `Cancel` before
        /// then means it never leaves the workstation.
        after: Duration,
    },
    Cancel(u64),
}

/// What a screen asks of the app after a key or an answer.
pub enum Action {
    None,
    Send(Call),
    Back,
    Open(screens::Target),
    Logout,
    Quit,
    /// Stay, and say what was done.
    Info(String),
    /// Stay, and say why what was asked cannot be done (shown with ✗,
    /// never with the ✓ of a success).
    Refuse(String),
    /// Go back to the previous screen, and say what was done.
    BackInfo(String),
}

/// How long the menu's counters are taken as true without asking again.
const COUNTERS_FRESH_MS: i64 = 60_000;
/// How long the menu waits before it asks for its counters again: a clerk
/// passing through it (Esc back, then the next item's letter) costs no
/// round trip, and one who stays sees them a second later.
pub const MENU_REFRESH_AFTER: Duration = Duration::from_secs(1);
/// How long reference data (purposes, grantees, categories) is used without
/// asking; after that the server is asked whether it changed (a few bytes
/// when it did not).
const REFERENCE_FRESH_MS: i64 = 10 * 60_000;

/// Reference data held by the workstation: kept across logins (and, by
/// the `credit-desk` binary, across runs in its cache file), and always
/// checked against the server's version before it is trusted again.
pub struct Reference {
    pub lists: pb::ListPurposesResponse,
    pub checked_at: i64,
}

pub struct Session {
    pub token: String,
    pub home: pb::Home,
    /// The latest live verification made at this workstation: a person
    /// verified again can withdraw what they asked for (an objection).
    pub verification: Option<pb::Verification>,
    /// When the menu's counters were last known true (a home or a queue
    /// answer, nothing written since): returning to the menu within a
    /// minute costs no round trip.
    pub counters_at: Option<i64>,
}

/// Shown on the login screen in demo mode.
#[derive(Debug, Clone)]
pub struct DemoInfo {
    pub accounts: Vec<(String, pb::Role)>,
    pub password: String,
}

pub struct Link {
    pub server: String,
    pub up: bool,
    pub retry: Option<(u32, u64)>,
    pub rtt_ms: Option<u64>,
    pub meter: Arc<Meter>,
    /// The bytes shown, as of the last answer: the status bar changes with
    /// answers, not with every key (over SSH each key moves bytes, and a
    /// counter redrawn after each would cost more than the echo).
    pub bytes_shown: (u64, u64),
    /// Over SSH the link that matters is the clerk's, to the SSH endpoint:
    /// its round trip (ms, 0 until measured) is shown instead of the
    /// in-process call's.
    pub clerk_rtt_ms: Option<Arc<std::sync::atomic::AtomicU64>>,
}

/// A line under the screen: the outcome of the last action.
pub enum Notice {
    Info(String),
    Error(String),
}

pub struct App {
    pub lang: Lang,
    pub cat: &'static Catalogue,
    pub theme: Theme,
    pub screen: Screen,
    /// Where Esc goes from the current screen.
    stack: Vec<Screen>,
    pub session: Option<Session>,
    pub link: Link,
    pub help: bool,
    pub notice: Option<Notice>,
    pending: Option<u64>,
    /// The pending call only reads (a screen's data, the menu's counters).
    pending_reads: bool,
    /// The pending call is a quiet refresh sent after a delay (the menu's
    /// counters): nothing waits for it, and nothing says "loading".
    pending_quiet: bool,
    /// The notice outlives the next answer (a reload after a refusal).
    keep_notice: bool,
    next_seq: u64,
    pub quit: bool,
    /// Something was typed on this screen and not yet sent: Ctrl-C asks
    /// before it is lost.
    unsent_input: bool,
    /// Ctrl-C was pressed once over unsent input; a second one quits.
    quit_asked: bool,
    pub demo: Option<DemoInfo>,
    /// The app ends with its session (the SSH endpoint: a new login is a
    /// new SSH connection, so it is limited and audited like one).
    pub leave_when_logged_out: bool,
    /// Why the session ended, when the app ends with it.
    pub ended_because: Option<String>,
    pub terminal_name: String,
    /// Today, for local checks (birth dates not in the future).
    pub today: chrono::NaiveDate,
    /// How times are shown (the workstation's zone; fixed in tests).
    pub utc_offset: chrono::FixedOffset,
    /// The workstation's clock (fixed in tests).
    pub now: fn() -> i64,
    /// Purposes, grantees and categories as last answered. Not personal
    /// data, and the same for every operator: a township terminal holds
    /// them from one day to the next and pays a few bytes to revalidate.
    pub reference: Option<Reference>,
}

impl App {
    pub fn new(
        lang: Lang,
        theme: Theme,
        server: String,
        meter: Arc<Meter>,
        demo: Option<DemoInfo>,
        terminal_name: String,
    ) -> App {
        App {
            lang,
            cat: i18n::catalogue(lang),
            theme,
            screen: Screen::Login(screens::login::LoginScreen::new(i18n::catalogue(lang), "")),
            stack: Vec::new(),
            session: None,
            link: Link {
                server,
                up: true,
                retry: None,
                rtt_ms: None,
                meter,
                bytes_shown: (0, 0),
                clerk_rtt_ms: None,
            },
            help: false,
            notice: None,
            pending: None,
            pending_reads: false,
            pending_quiet: false,
            keep_notice: false,
            next_seq: 1,
            quit: false,
            unsent_input: false,
            quit_asked: false,
            demo,
            leave_when_logged_out: false,
            ended_because: None,
            terminal_name,
            today: credit_desk_proto::now::today(),
            utc_offset: *credit_desk_proto::now::local().offset(),
            now: credit_desk_proto::now::ms,
            reference: None,
        }
    }

    /// Whether the clerk waits for an answer (a quiet refresh is not waited
    /// for).
    pub fn is_waiting(&self) -> bool {
        self.pending.is_some() && !self.pending_quiet
    }

    pub fn update(&mut self, event: Event) -> Vec<Command> {
        match event {
            Event::Resize => Vec::new(),
            Event::LinkDown {
                attempt,
                retry_in_s,
            } => {
                self.link.up = false;
                self.link.retry = Some((attempt, retry_in_s));
                Vec::new()
            }
            Event::Key(key) => self.on_key(key),
            Event::Progress { seq, done, total } => {
                if self.pending == Some(seq) {
                    self.link.up = true;
                    self.screen.on_progress(done, total);
                }
                Vec::new()
            }
            Event::Reply {
                seq,
                result,
                rtt_ms,
            } => {
                if self.pending != Some(seq) {
                    return Vec::new(); // cancelled or superseded
                }
                self.pending = None;
                self.link.up = true;
                self.link.retry = None;
                self.link.rtt_ms = Some(rtt_ms);
                self.link.bytes_shown = self.link.meter.totals();
                self.on_reply(result)
            }
        }
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Command> {
        let typing = self.screen.is_typing();
        match keys::find(GLOBAL_KEYS, &key, |g| {
            g != Global::HelpUnlessTyping || !typing
        }) {
            Some(Global::Quit) if self.unsent_input && !self.quit_asked => {
                self.quit_asked = true;
                self.notice = Some(Notice::Error(self.cat.quit_with_unsent_input.into()));
                return Vec::new();
            }
            Some(Global::Quit) => {
                self.quit = true;
                return Vec::new();
            }
            // Any key closes the help, the help keys open it.
            _ if self.help => {
                self.help = false;
                return Vec::new();
            }
            Some(Global::Help | Global::HelpUnlessTyping) => {
                self.help = true;
                return Vec::new();
            }
            None => {}
        }
        if std::mem::take(&mut self.quit_asked) {
            // Any other key after the question: back to the work.
            self.notice = None;
        }
        let edits = matches!(
            key.code,
            KeyCode::Char(_) | KeyCode::Backspace | KeyCode::Delete
        );
        if typing && edits && !matches!(self.screen, Screen::Login(_)) {
            self.unsent_input = true;
        }
        if key.code == KeyCode::Esc
            && self.is_waiting()
            && let Some(seq) = self.pending.take()
        {
            self.link.retry = None;
            let mut out = vec![Command::Cancel(seq)];
            // A page that was only waiting for this answer is left.
            if self.screen.only_loading() {
                out.extend(self.apply(Action::Back));
            }
            self.notice = Some(Notice::Info(self.cat.cancelled.into()));
            return out;
        }
        let action = self.screen.on_key(
            key,
            self.cat,
            self.lang,
            self.is_waiting(),
            self.today,
            (self.now)(),
        );
        self.apply(action)
    }

    /// The logged-in operator's display name ("" before login).
    pub fn operator_name(&self) -> &str {
        self.session
            .as_ref()
            .and_then(|s| s.home.operator.as_ref())
            .map(|o| o.display_name.as_str())
            .unwrap_or_default()
    }

    /// What the logged-in operator may do (none before login).
    pub fn capabilities(&self) -> Vec<i32> {
        self.session
            .as_ref()
            .map(|s| s.home.capabilities.clone())
            .unwrap_or_default()
    }

    /// Starts with reference data kept from an earlier run; it is checked
    /// with the server (a few bytes when unchanged) before its first use.
    pub fn hold_reference(&mut self, lists: pb::ListPurposesResponse) {
        if !lists.version.is_empty() && !lists.unchanged {
            self.reference = Some(Reference {
                lists,
                checked_at: i64::MIN,
            });
        }
    }

    /// Keeps reference data; an answer that it is unchanged is the data
    /// held.
    fn remember_reference(&mut self, lists: pb::ListPurposesResponse) -> pb::ListPurposesResponse {
        let now = (self.now)();
        match (&mut self.reference, lists.unchanged) {
            (Some(held), true) if held.lists.version == lists.version => {
                held.checked_at = now;
                held.lists.clone()
            }
            _ => {
                self.reference = Some(Reference {
                    lists: lists.clone(),
                    checked_at: now,
                });
                lists
            }
        }
    }

    /// Opens the operator's main menu (or the forced password change) for a
    /// session that was opened: by the login screen, or by the SSH endpoint
    /// before the app started.
    pub fn logged_in(&mut self, resp: pb::LoginResponse) {
        // Lists held from an earlier session are confirmed by the login's
        // answer: the consent form then opens without a round trip.
        if let Some(held) = &mut self.reference
            && !resp.reference_version.is_empty()
            && held.lists.version == resp.reference_version
        {
            held.checked_at = (self.now)();
        }
        let home = resp.home.unwrap_or_default();
        let forced = home
            .operator
            .as_ref()
            .is_some_and(|o| o.must_change_password);
        self.session = Some(Session {
            token: resp.session_token,
            home,
            verification: None,
            counters_at: Some((self.now)()),
        });
        self.notice = None;
        self.stack.clear();
        self.screen = self.menu();
        if forced {
            self.open(screens::Target::ChangePassword { forced: true });
        }
    }

    fn on_reply(&mut self, result: Result<Answer, Status>) -> Vec<Command> {
        match result {
            Ok(Answer::Login(resp)) => {
                self.logged_in(resp);
                Vec::new()
            }
            Ok(Answer::Purposes(lists)) if !lists.version.is_empty() => {
                let lists = self.remember_reference(lists);
                let action = self
                    .screen
                    .on_answer(Answer::Purposes(lists), self.cat, self.lang);
                self.apply(action)
            }
            // Logging out does not wait for this answer.
            Ok(Answer::LoggedOut) => Vec::new(),
            Ok(Answer::Home(home)) => {
                if let Some(s) = &mut self.session {
                    s.home = home.clone();
                    s.counters_at = Some((self.now)());
                }
                let action = self
                    .screen
                    .on_answer(Answer::Home(home), self.cat, self.lang);
                self.apply(action)
            }
            Ok(answer) => {
                if let (Answer::Verified(v), Some(s)) = (&answer, &mut self.session)
                    && v.verification.is_some()
                {
                    s.verification = v.verification.clone();
                }
                // A queue answer carries the same counters as the menu's.
                if let (Answer::Queue(q), Some(s)) = (&answer, &mut self.session)
                    && let Some(stats) = q.stats
                {
                    s.home.queue = Some(stats);
                    s.home.calendar_gap = q.calendar_gap.clone();
                    s.counters_at = Some((self.now)());
                }
                if !std::mem::take(&mut self.keep_notice) {
                    self.notice = None;
                }
                let action = self.screen.on_answer(answer, self.cat, self.lang);
                self.apply(action)
            }
            Err(status) => {
                let why = status.get_details_error_info().map(|i| i.reason);
                let session_over = self.session.is_some()
                    && matches!(
                        why.as_deref(),
                        Some(
                            reason::UNAUTHENTICATED
                                | reason::SESSION_EXPIRED
                                | reason::ACCOUNT_DISABLED
                        )
                    );
                if session_over {
                    self.end_session(Some(status.message().to_string()));
                    return Vec::new();
                }
                if !self.screen.on_error(&status) {
                    self.notice = Some(Notice::Error(status.message().to_string()));
                }
                // Someone else changed it: show theirs, keep the message.
                if why.as_deref() == Some(reason::STALE_VERSION)
                    && let Some(call) = self.screen.reload(false)
                {
                    self.keep_notice = true;
                    return self.send(call);
                }
                Vec::new()
            }
        }
    }

    /// Back to the login screen. A session that ended by itself keeps the
    /// username filled in (the same clerk logs in again); a logout does not
    /// (the next clerk may be someone else).
    fn end_session(&mut self, message: Option<String>) {
        if self.leave_when_logged_out {
            self.session = None;
            self.ended_because = message;
            self.quit = true;
            return;
        }
        let session = self.session.take();
        let username = match &message {
            Some(_) => session
                .and_then(|s| s.home.operator)
                .map(|o| o.username)
                .unwrap_or_default(),
            None => String::new(),
        };
        self.stack.clear();
        self.screen = Screen::Login(screens::login::LoginScreen::new(self.cat, &username));
        self.notice =
            message.map(|m| Notice::Error(format!("{} — {m}", self.cat.error_session_ended)));
    }

    /// Whether the operator has a deadline queue (its counters are on the menu).
    fn has_queue(&self) -> bool {
        self.session
            .as_ref()
            .is_some_and(|s| s.home.queue.is_some())
    }

    fn menu(&self) -> Screen {
        let caps = self
            .session
            .as_ref()
            .map(|s| s.home.capabilities.clone())
            .unwrap_or_default();
        Screen::Menu(screens::menu::MenuScreen::new(&caps, self.cat))
    }

    fn open(&mut self, target: screens::Target) -> Vec<Command> {
        let (screen, call) = screens::open(target, self);
        let previous = std::mem::replace(&mut self.screen, screen);
        self.stack.push(previous);
        self.notice = None;
        match call {
            Some(call) => self.send(call),
            // What the screen left behind was still reading (the menu's
            // counters on a slow link): dropped, so the new screen's first
            // Enter is not refused as "still waiting".
            None if self.pending_reads => self
                .pending
                .take()
                .map(Command::Cancel)
                .into_iter()
                .collect(),
            None => Vec::new(),
        }
    }

    fn apply(&mut self, action: Action) -> Vec<Command> {
        if matches!(action, Action::Open(_) | Action::Back | Action::BackInfo(_)) {
            // Leaving a screen on purpose leaves its input with it.
            self.unsent_input = false;
        }
        match action {
            Action::None => Vec::new(),
            Action::Send(call) => self.send(call),
            Action::Open(target) => self.open(target),
            Action::Back => {
                if let Some(previous) = self.stack.pop() {
                    self.screen = previous;
                    self.notice = None;
                    match self.screen.reload(self.has_queue()) {
                        Some(Call::Home) if self.counters_fresh() => {}
                        Some(Call::Home) => return self.send_later(Call::Home, MENU_REFRESH_AFTER),
                        Some(call) => return self.send(call),
                        None => {}
                    }
                }
                Vec::new()
            }
            Action::Logout => {
                let Some(token) = self.session.as_ref().map(|s| s.token.clone()) else {
                    return Vec::new();
                };
                // Logged out here at once, whatever the link: the server is
                // told once, without retries (a session it never hears of
                // ends at its idle limit), and its answer changes nothing.
                self.end_session(None);
                let mut out: Vec<Command> = self
                    .pending
                    .take()
                    .map(Command::Cancel)
                    .into_iter()
                    .collect();
                out.push(Command::Send {
                    seq: self.next_sequence(),
                    token: Some(token),
                    call: Call::Logout,
                    after: Duration::ZERO,
                });
                out
            }
            Action::Quit => {
                self.quit = true;
                Vec::new()
            }
            Action::Info(message) => {
                self.notice = Some(Notice::Info(message));
                Vec::new()
            }
            Action::Refuse(message) => {
                self.notice = Some(Notice::Error(message));
                Vec::new()
            }
            Action::BackInfo(message) => {
                let out = self.apply(Action::Back);
                self.notice = Some(Notice::Info(message));
                out
            }
        }
    }

    fn next_sequence(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// Whether the menu's counters are recent and nothing was written since.
    fn counters_fresh(&self) -> bool {
        let now = (self.now)();
        self.session
            .as_ref()
            .and_then(|s| s.counters_at)
            .is_some_and(|at| now.saturating_sub(at) < COUNTERS_FRESH_MS)
    }

    fn send(&mut self, call: Call) -> Vec<Command> {
        self.send_later(call, Duration::ZERO)
    }

    /// Sends `call` after `after` (zero: at once). A delayed call is a
    /// quiet read that the next call, or leaving the screen, cancels.
    fn send_later(&mut self, call: Call, after: Duration) -> Vec<Command> {
        // What was typed is on its way (a refusal keeps it on the screen).
        self.unsent_input = false;
        if !call.only_reads()
            && let Some(s) = &mut self.session
        {
            s.counters_at = None;
        }
        // This workstation changes reference data: ask again next time.
        if matches!(
            call,
            Call::AddPurpose(_)
                | Call::RetirePurpose(_)
                | Call::RestorePurpose(_)
                | Call::CreateOrgUnit(_)
                | Call::UpdateOrgUnit(_)
        ) {
            self.reference = None;
        }
        let mut out = Vec::new();
        // One request at a time: a new one supersedes a waiting one.
        if let Some(old) = self.pending.take() {
            out.push(Command::Cancel(old));
        }
        let call = match call {
            Call::Login(mut req) => {
                req.terminal = self.terminal_name.clone();
                Call::Login(req)
            }
            Call::ListPurposes {
                include_retired: false,
                ..
            } => {
                let now = (self.now)();
                let held = self.reference.as_ref();
                if let Some(r) =
                    held.filter(|r| now.saturating_sub(r.checked_at) < REFERENCE_FRESH_MS)
                {
                    // Known and recent: the screen has it at once.
                    let lists = r.lists.clone();
                    let action =
                        self.screen
                            .on_answer(Answer::Purposes(lists), self.cat, self.lang);
                    out.extend(self.apply(action));
                    return out;
                }
                Call::ListPurposes {
                    include_retired: false,
                    known_version: held.map(|r| r.lists.version.clone()).unwrap_or_default(),
                }
            }
            other => other,
        };
        let seq = self.next_sequence();
        self.pending = Some(seq);
        self.pending_reads = call.only_reads();
        self.pending_quiet = !after.is_zero();
        out.push(Command::Send {
            seq,
            token: self.session.as_ref().map(|s| s.token.clone()),
            call,
            after,
        });
        out
    }

    pub fn render(&self, frame: &mut Frame) {
        // Every screen is laid out for 80×24: smaller, it says so rather
        // than drawing a broken layout.
        let area = frame.area();
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            let text = self.cat.too_small(area.width, area.height);
            let top = area.height.saturating_sub(2) / 2;
            frame.render_widget(
                Paragraph::new(Line::styled(text, self.theme.warning()))
                    .alignment(ratatui::layout::Alignment::Center)
                    .wrap(ratatui::widgets::Wrap { trim: true }),
                Rect {
                    y: area.y + top,
                    height: area.height - top,
                    ..area
                },
            );
            return;
        }
        let [title, body, notice, status] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(frame.area());
        let screen_title = self.screen.title(self.cat);
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(self.cat.app_title, self.theme.title()),
                Span::raw(" · "),
                Span::styled(screen_title, self.theme.title()),
            ])),
            title,
        );
        self.screen.render(frame, body, self);
        self.render_notice(frame, notice);
        crate::status_bar::render(frame, status, self);
        if self.help {
            crate::help::render(frame, body, self);
        }
        scrub_controls(frame.buffer_mut());
    }

    /// The current screen's own key line, repeated in the help overlay
    /// (`width` columns wide).
    pub fn screen_hint(&self, width: usize) -> std::borrow::Cow<'static, str> {
        self.screen.hint(self.cat, width)
    }

    fn render_notice(&self, frame: &mut Frame, area: Rect) {
        let line = match &self.notice {
            _ if self.is_waiting() && !self.link.up => Line::styled(
                format!("… {}", self.cat.error_unreachable),
                self.theme.warning(),
            ),
            _ if self.is_waiting() && self.notice.is_none() => {
                Line::styled(format!("… {}", self.cat.loading), self.theme.dim())
            }
            Some(Notice::Info(m)) => Line::styled(format!("✓ {m}"), self.theme.ok()),
            Some(Notice::Error(m)) => Line::styled(format!("✗ {m}"), self.theme.error()),
            None => Line::default(),
        };
        frame.render_widget(Paragraph::new(line), area);
    }
}

/// The smallest terminal the screens are laid out for.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// The last line of defence for text from the server (names, remarks,
/// reasons typed by other clerks): no cell may carry a control character to
/// the terminal, whichever widget drew it. ratatui's text widgets already
/// drop them; a cell set directly would not.
pub fn scrub_controls(buffer: &mut ratatui::buffer::Buffer) {
    for cell in buffer.content.iter_mut() {
        if cell.symbol().contains(char::is_control) {
            cell.set_symbol("\u{FFFD}");
        }
    }
}

#[cfg(test)]
mod scrub_tests {
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;

    #[test]
    fn no_cell_keeps_a_control_character() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 8, 1));
        buf[(0, 0)].set_symbol("\u{1b}");
        buf[(1, 0)].set_symbol("\u{9b}");
        buf[(2, 0)].set_symbol("李");
        super::scrub_controls(&mut buf);
        assert_eq!(buf[(0, 0)].symbol(), "\u{FFFD}");
        assert_eq!(buf[(1, 0)].symbol(), "\u{FFFD}");
        assert_eq!(buf[(2, 0)].symbol(), "李");
    }
}
