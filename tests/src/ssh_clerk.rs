//! A scripted clerk at an SSH client: keys go out as a terminal sends them,
//! at a typist's pace, and what comes back is fed to a terminal emulator
//! (vt100) so the script can wait for what a person would wait to see.

use std::num::NonZeroU16;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ratatui::crossterm::event::KeyCode;
use russh::client::{self, Handle, Msg};
use russh::keys::PublicKeyOrCertificate;
use russh::{ChannelMsg, ChannelWriteHalf};
use tokio::sync::Notify;

/// Five keys a second: a clerk who knows the screens.
pub const KEY_INTERVAL: Duration = Duration::from_millis(200);
/// Long enough for the slowest emulated link; a pass is far quicker.
const PATIENCE: Duration = Duration::from_secs(60);

struct Trusting;

impl client::Handler for Trusting {
    type Error = russh::Error;

    // The bench's own server on loopback; the host key is not the point.
    async fn check_server_key(
        &mut self,
        _key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

/// How the SSH clerk proves who they are.
pub enum Login<'a> {
    Password(&'a str),
    Key(&'a std::path::Path),
}

#[derive(Default)]
struct Seen {
    parser: Option<vt100::Parser>,
    /// Data messages received.
    chunks: u64,
    closed: bool,
}

pub struct SshClerk {
    _handle: Handle<Trusting>,
    write: ChannelWriteHalf<Msg>,
    seen: Arc<Mutex<Seen>>,
    changed: Arc<Notify>,
    last_key: Option<Instant>,
    /// Keys sent.
    pub keys: u64,
    /// Time spent waiting for the screen to show what was asked.
    pub waited: Duration,
    /// Keystroke-to-screen times of the probed keys.
    pub echoes: Vec<Duration>,
}

impl SshClerk {
    /// Connects (through `addr`, an emulated link, say), logs in with a
    /// password, and opens an 80×24 terminal with the workstation in it.
    /// `compress`: zlib, as `ssh -C` asks.
    pub async fn connect(
        addr: std::net::SocketAddr,
        user: &str,
        password: &str,
        compress: bool,
    ) -> anyhow::Result<SshClerk> {
        Self::connect_as(addr, user, Login::Password(password), compress).await
    }

    /// The same, logging in with a key (a stock sshd in the comparison).
    pub async fn connect_as(
        addr: std::net::SocketAddr,
        user: &str,
        login: Login<'_>,
        compress: bool,
    ) -> anyhow::Result<SshClerk> {
        let mut preferred = russh::Preferred::default();
        if compress {
            preferred.compression = std::borrow::Cow::Borrowed(&[
                russh::compression::ZLIB_LEGACY,
                russh::compression::ZLIB,
                russh::compression::NONE,
            ]);
        }
        let config = Arc::new(client::Config {
            preferred,
            nodelay: true,
            ..Default::default()
        });
        let mut handle = client::connect(config, addr, Trusting).await?;
        let auth = match login {
            Login::Password(password) => handle.authenticate_password(user, password).await?,
            Login::Key(path) => {
                let key = russh::keys::load_secret_key(path, None)?;
                let key = russh::keys::PrivateKeyWithHashAlg::new(Arc::new(key), None);
                handle.authenticate_publickey(user, key).await?
            }
        };
        anyhow::ensure!(auth.success(), "SSH login refused");
        let channel = handle.channel_open_session().await?;
        channel
            .request_pty(true, "xterm-256color", 80, 24, 0, 0, &[])
            .await?;
        channel.request_shell(true).await?;
        let (mut read, write) = channel.split();
        let seen = Arc::new(Mutex::new(Seen {
            parser: Some(vt100::Parser::new(
                NonZeroU16::new(24).unwrap(),
                NonZeroU16::new(80).unwrap(),
                0,
            )),
            ..Default::default()
        }));
        let changed = Arc::new(Notify::new());
        {
            let (seen, changed) = (seen.clone(), changed.clone());
            tokio::spawn(async move {
                while let Some(msg) = read.wait().await {
                    let mut s = seen.lock().unwrap();
                    match msg {
                        ChannelMsg::Data { data } => {
                            if let Some(p) = s.parser.as_mut() {
                                p.process(&data);
                            }
                            s.chunks += 1;
                        }
                        ChannelMsg::Eof | ChannelMsg::Close => s.closed = true,
                        _ => {}
                    }
                    drop(s);
                    changed.notify_waiters();
                }
                seen.lock().unwrap().closed = true;
                changed.notify_waiters();
            });
        }
        Ok(SshClerk {
            _handle: handle,
            write,
            seen,
            changed,
            last_key: None,
            keys: 0,
            waited: Duration::ZERO,
            echoes: Vec::new(),
        })
    }

    /// The screen as text, one line per row.
    pub fn screen(&self) -> String {
        let s = self.seen.lock().unwrap();
        s.parser
            .as_ref()
            .map(|p| p.screen().contents())
            .unwrap_or_default()
    }

    fn chunks(&self) -> u64 {
        self.seen.lock().unwrap().chunks
    }

    pub fn closed(&self) -> bool {
        self.seen.lock().unwrap().closed
    }

    /// Waits until `done` holds; returns how long that took.
    async fn wait_until(&self, what: &str, done: impl Fn(&Self) -> bool) -> Duration {
        let started = Instant::now();
        loop {
            let notified = self.changed.notified();
            if done(self) {
                return started.elapsed();
            }
            if started.elapsed() > PATIENCE {
                panic!("waited in vain for {what}; screen:\n{}", self.screen());
            }
            let _ = tokio::time::timeout(Duration::from_millis(500), notified).await;
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        if let Some(last) = self.last_key {
            let next = last + KEY_INTERVAL;
            tokio::time::sleep_until(next.into()).await;
        }
        self.write.data_bytes(bytes.to_vec()).await.unwrap();
        self.last_key = Some(Instant::now());
        self.keys += 1;
    }

    /// One key, at the typist's pace.
    pub async fn key(&mut self, code: KeyCode) {
        let bytes = encode(code);
        self.send(&bytes).await;
    }

    pub async fn text(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c)).await;
        }
    }

    /// Types `text` one key at a time, each time waiting for the screen to
    /// answer: the keystroke-to-screen time a clerk feels.
    pub async fn probe(&mut self, text: &str) {
        for c in text.chars() {
            let before = self.chunks();
            self.key(KeyCode::Char(c)).await;
            let echo = self.wait_until("an echo", |s| s.chunks() > before).await;
            self.echoes.push(echo);
            self.waited += echo;
        }
    }

    /// Waits until the screen shows `text` (as a clerk waits for an answer).
    pub async fn expect(&mut self, text: &str) {
        let waited = self.wait_until(text, |s| s.screen().contains(text)).await;
        self.waited += waited;
    }

    /// Waits until the screen shows one of `texts`; which one.
    pub async fn expect_one_of(&mut self, texts: &[&str]) -> usize {
        let waited = self
            .wait_until("one of the texts", |s| {
                texts.iter().any(|t| s.screen().contains(t))
            })
            .await;
        self.waited += waited;
        let screen = self.screen();
        texts
            .iter()
            .position(|t| screen.contains(t))
            .unwrap_or_default()
    }

    /// Waits until the server has closed the session.
    pub async fn expect_closed(&mut self) {
        let waited = self.wait_until("the end", |s| s.closed()).await;
        self.waited += waited;
    }
}

/// What a terminal (xterm) sends for a key.
pub fn encode(code: KeyCode) -> Vec<u8> {
    let s: &[u8] = match code {
        KeyCode::Char(c) => return c.to_string().into_bytes(),
        KeyCode::Enter => b"\r",
        KeyCode::Tab => b"\t",
        KeyCode::BackTab => b"\x1b[Z",
        KeyCode::Backspace => b"\x7f",
        KeyCode::Esc => b"\x1b",
        KeyCode::Up => b"\x1b[A",
        KeyCode::Down => b"\x1b[B",
        KeyCode::Right => b"\x1b[C",
        KeyCode::Left => b"\x1b[D",
        KeyCode::Home => b"\x1b[H",
        KeyCode::End => b"\x1b[F",
        KeyCode::PageUp => b"\x1b[5~",
        KeyCode::PageDown => b"\x1b[6~",
        KeyCode::F(1) => b"\x1bOP",
        KeyCode::F(2) => b"\x1bOQ",
        KeyCode::F(5) => b"\x1b[15~",
        KeyCode::F(10) => b"\x1b[21~",
        other => panic!("no encoding for {other:?} in the bench"),
    };
    s.to_vec()
}
