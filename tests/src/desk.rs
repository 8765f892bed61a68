//! The workstation as staff use it, against the real test server: keys go
//! into the app's `update()`, the calls it asks for go over the real client
//! (the one the `credit-desk` binary uses), and the answers come back as
//! events; the screen is drawn at 80×24 on ratatui's TestBackend.

use std::collections::VecDeque;

use credit_desk::app::{App, Command, Event};
use credit_desk::net::{Answer, Call, Client};
use credit_desk::theme::Theme;
use credit_desk_proto::Lang;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::{DEMO_PASSWORD, TestServer};

pub struct Desk {
    pub app: App,
    client: Client,
    /// Documents the clerk printed (kept here rather than written into the
    /// test's working directory; printing itself is tested in `net`).
    pub printed: Vec<(std::path::PathBuf, String)>,
    /// Calls sent to the server so far (each one round trip at least).
    pub calls: u64,
    /// Time the clerk waited for answers so far.
    pub waited: std::time::Duration,
    /// Seconds of retry countdown shown while the link was down.
    pub link_downs: u64,
    /// Keys follow one another at once, as a practised clerk's do: a call
    /// the app delays (the menu's counters) is held, and sent only if no
    /// later key cancels it and the clerk then [`Desk::pause`]s. By
    /// default the clerk reads each screen, so a delayed call goes at once.
    pub brisk: bool,
    held: Option<Command>,
}

impl Desk {
    pub fn open(srv: &TestServer, lang: Lang) -> Desk {
        Desk::connect(&srv.running.url(), lang)
    }

    /// A workstation talking to the server at `url` (through an emulated
    /// link, say).
    pub fn connect(url: &str, lang: Lang) -> Desk {
        let client = Client::new(url, lang, None).expect("a client");
        client.connect_early();
        let app = App::new(
            lang,
            Theme { color: false },
            url.to_string(),
            client.meter.clone(),
            None,
            "desk-1".into(),
        );
        Desk {
            app,
            client,
            printed: Vec::new(),
            calls: 0,
            waited: std::time::Duration::ZERO,
            link_downs: 0,
            brisk: false,
            held: None,
        }
    }

    /// Presses a key and waits for every call it led to.
    pub async fn key(&mut self, code: KeyCode) {
        let event = Event::Key(KeyEvent::new_with_kind(
            code,
            KeyModifiers::NONE,
            KeyEventKind::Press,
        ));
        let commands = self.app.update(event);
        self.run(commands).await;
    }

    /// Presses Ctrl and a letter.
    pub async fn ctrl(&mut self, letter: char) {
        let event = Event::Key(KeyEvent::new_with_kind(
            KeyCode::Char(letter),
            KeyModifiers::CONTROL,
            KeyEventKind::Press,
        ));
        let commands = self.app.update(event);
        self.run(commands).await;
    }

    pub async fn text(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c)).await;
        }
    }

    /// Sends what the app asked for, one call after another, the way the
    /// workstation's runner does (`run::perform`: retried with backoff
    /// while the link is down, the same request each time), feeding the
    /// link's state and each answer back, until the app asks for nothing
    /// more.
    async fn run(&mut self, commands: Vec<Command>) {
        let mut queue: VecDeque<Command> = commands.into();
        while let Some(command) = queue.pop_front() {
            let (seq, token, call) = match command {
                Command::Cancel(seq) => {
                    if matches!(self.held, Some(Command::Send { seq: held, .. }) if held == seq) {
                        self.held = None;
                    }
                    continue;
                }
                Command::Send { after, .. } if self.brisk && !after.is_zero() => {
                    self.held = Some(command);
                    continue;
                }
                Command::Send {
                    seq, token, call, ..
                } => (seq, token, call),
            };
            if let Call::SaveText { path, text } = call {
                self.printed.push((path.clone(), text));
                queue.extend(self.app.update(Event::Reply {
                    seq,
                    result: Ok(Answer::Saved(path)),
                    rtt_ms: 0,
                }));
                continue;
            }
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let started = std::time::Instant::now();
            credit_desk::run::perform(self.client.clone(), seq, token, call, tx).await;
            self.calls += 1;
            self.waited += started.elapsed();
            while let Ok(event) = rx.try_recv() {
                if let Event::LinkDown { .. } = event {
                    self.link_downs += 1;
                }
                queue.extend(self.app.update(event));
            }
        }
    }

    /// The clerk stays on the screen a while: a call the app delayed and
    /// nothing cancelled is sent now.
    pub async fn pause(&mut self) {
        if let Some(Command::Send { after, .. }) = &mut self.held {
            *after = std::time::Duration::ZERO;
        }
        let held = self.held.take();
        self.run(held.into_iter().collect()).await;
    }

    /// Whether a delayed call is held, not yet sent.
    pub fn holds_a_call(&self) -> bool {
        self.held.is_some()
    }

    pub fn screen(&self) -> String {
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("a test terminal");
        terminal
            .draw(|f| self.app.render(f))
            .expect("drawing to memory");
        terminal.backend().to_string()
    }

    /// Asserts the screen shows `text`, and returns it.
    pub fn expect(&self, text: &str) -> String {
        let screen = self.screen();
        assert!(screen.contains(text), "expected {text:?} on:\n{screen}");
        screen
    }

    /// Logs a demo account in from the login screen.
    pub async fn log_in(&mut self, username: &str) {
        self.text(username).await;
        self.key(KeyCode::Tab).await;
        self.text(DEMO_PASSWORD).await;
        self.key(KeyCode::Enter).await;
    }
}
