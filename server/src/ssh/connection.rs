//! One SSH connection: authentication through the login path every
//! workstation uses, one session channel with a pty and a shell (nothing
//! else — no exec, no forwarding), and its input handed to the app.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use credit_desk::net::{Counting, Meter};
use credit_desk::remote::RemoteInput;
use credit_desk_proto::Lang;
use credit_desk_proto::pb;
use russh::keys::HashAlg;
use russh::server::{Auth, ChannelOpenHandle, Msg, PublicKeyOffer, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId, ChannelOpenFailure, Pty};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, mpsc, watch};

use super::session;
use crate::context::Ctx;
use crate::services::auth::{AuthService, Credential};
use crate::transport::LocalDialer;

/// How often the clerk's round trip is measured while they type (a
/// keepalive with a reply: two small packets).
const MEASURE_EVERY: Duration = Duration::from_secs(20);
/// Keystroke packets waiting for the app; past it the connection waits
/// (a paste of a key line is one packet; a flood is held by TCP).
const INPUT_QUEUE: usize = 16;
/// Keys a client may offer on one connection (ssh clients offer each key
/// they hold; a prober offering thousands gets nowhere and costs no more).
const MAX_KEY_OFFERS: u32 = 10;
const USERNAME_MAX: usize = 64;
const PASSWORD_MAX: usize = 256;
const ENV_VALUE_MAX: usize = 64;

/// What the client asked of its terminal.
#[derive(Debug, Clone, Default)]
pub struct TerminalRequest {
    pub term: String,
    pub cols: u32,
    pub rows: u32,
    pub no_color: bool,
    pub lang: Option<Lang>,
}

pub struct Connection {
    /// Sessions per operator, shared by the endpoint's connections.
    per_operator: Arc<super::Quota<String>>,
    ctx: Ctx,
    dialer: LocalDialer,
    peer: SocketAddr,
    stop: watch::Receiver<bool>,
    meter: Arc<Meter>,
    login: Option<pb::LoginResponse>,
    terminal: TerminalRequest,
    /// The session channel, until its shell starts.
    channel: Option<Channel<Msg>>,
    /// The channel whose shell runs the app.
    shell: Option<ChannelId>,
    input: Option<mpsc::Sender<RemoteInput>>,
    started: Arc<AtomicBool>,
    clerk_rtt_ms: Arc<AtomicU64>,
    measured_at: Option<Instant>,
    key_offers: u32,
}

impl Connection {
    pub fn new(
        ctx: Ctx,
        dialer: LocalDialer,
        peer: SocketAddr,
        stop: watch::Receiver<bool>,
        per_operator: Arc<super::Quota<String>>,
    ) -> Connection {
        Connection {
            per_operator,
            ctx,
            dialer,
            peer,
            stop,
            meter: Arc::new(Meter::default()),
            login: None,
            terminal: TerminalRequest::default(),
            channel: None,
            shell: None,
            input: None,
            started: Arc::new(AtomicBool::new(false)),
            clerk_rtt_ms: Arc::new(AtomicU64::new(0)),
            measured_at: None,
            key_offers: 0,
        }
    }

    /// The terminal's name in the audit trail and the session list.
    fn terminal_name(&self) -> String {
        format!("ssh {}", self.peer.ip())
    }

    async fn log_in(&mut self, user: &str, credential: Credential) -> Auth {
        let auth = AuthService::new(self.ctx.clone());
        let terminal = self.terminal_name();
        match auth
            .open_session(user, &terminal, Some(self.peer.ip()), credential)
            .await
        {
            Ok(login) => {
                self.login = Some(login);
                Auth::Accept
            }
            Err(e) => {
                tracing::info!(user, peer = %self.peer, error = %e, "SSH login refused");
                Auth::reject()
            }
        }
    }

    /// Measures the clerk's round trip now and then while they type: the
    /// status bar shows their link, not this process's loopback.
    fn measure(&mut self, session: &mut Session) {
        if self
            .measured_at
            .is_some_and(|at| at.elapsed() < MEASURE_EVERY)
        {
            return;
        }
        let (reply, replied) = tokio::sync::oneshot::channel();
        if session.send_ping(reply).is_err() {
            return;
        }
        let sent = Instant::now();
        self.measured_at = Some(sent);
        let rtt = self.clerk_rtt_ms.clone();
        tokio::spawn(async move {
            if replied.await.is_ok() {
                let ms = sent.elapsed().as_millis().max(1) as u64;
                rtt.store(ms, Ordering::Relaxed);
            }
        });
    }

    fn is_ours(&self, channel: ChannelId) -> bool {
        self.channel.as_ref().is_some_and(|c| c.id() == channel)
    }
}

/// Runs one connection to its end: the SSH protocol over the socket
/// (bytes counted for the status bar), closed if no shell starts within
/// `grace`. `_place` is the connection's place among the endpoint's
/// sessions, given back when it ends.
pub async fn serve(
    config: Arc<russh::server::Config>,
    stream: TcpStream,
    connection: Connection,
    _places: (OwnedSemaphorePermit, super::Place<std::net::IpAddr>),
    grace: Duration,
) {
    let peer = connection.peer;
    let started = connection.started.clone();
    let deadline = tokio::time::Instant::now() + grace;
    let stream = Counting::mirrored(stream, connection.meter.clone());
    // The version exchange too must finish within the grace time: a socket
    // that says nothing must not hold a place.
    let opened = tokio::time::timeout_at(
        deadline,
        russh::server::run_stream(config, stream, connection),
    );
    let running = match opened.await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "SSH handshake failed");
            return;
        }
        Err(_) => {
            tracing::info!(%peer, "SSH connection closed: silent past the grace time");
            return;
        }
    };
    let handle = running.handle();
    tokio::pin!(running);
    tokio::select! {
        result = &mut running => {
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "SSH connection ended");
            }
            return;
        }
        () = tokio::time::sleep_until(deadline) => {}
    }
    if !started.load(Ordering::Relaxed) {
        tracing::info!(%peer, "SSH connection closed: no session within the grace time");
        let _ = handle
            .disconnect(
                russh::Disconnect::ByApplication,
                "login grace time over".into(),
                String::new(),
            )
            .await;
    }
    if let Err(e) = running.await {
        tracing::debug!(%peer, error = %e, "SSH connection ended");
    }
}

/// A login whose shell never started leaves no live session behind.
impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(login) = self.login.take() {
            let ctx = self.ctx.clone();
            tokio::spawn(async move { session::revoke(&ctx, &login.session_token).await });
        }
    }
}

impl russh::server::Handler for Connection {
    type Error = anyhow::Error;

    async fn auth_password(&mut self, user: &str, password: &str) -> anyhow::Result<Auth> {
        if user.is_empty() || user.chars().count() > USERNAME_MAX {
            return Ok(Auth::reject());
        }
        if password.is_empty() || password.chars().count() > PASSWORD_MAX {
            return Ok(Auth::reject());
        }
        Ok(self
            .log_in(user, Credential::Password(password.to_string()))
            .await)
    }

    /// Keys nobody registered for this user are turned down before the
    /// client signs with them, and are no failed login: ssh clients offer
    /// every key they hold.
    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: PublicKeyOffer<'_>,
    ) -> anyhow::Result<Auth> {
        self.key_offers += 1;
        if user.is_empty()
            || user.chars().count() > USERNAME_MAX
            || self.key_offers > MAX_KEY_OFFERS
        {
            return Ok(Auth::reject());
        }
        let fingerprint = offer.public_key.fingerprint(HashAlg::Sha256).to_string();
        let mut conn = self.ctx.db.read().await?;
        let owner = crate::db::ssh_keys::owner(&mut conn, &fingerprint).await?;
        let user = user.trim().to_lowercase();
        let operator = crate::db::operators::get_by_username(&mut conn, &user).await?;
        Ok(match (owner, operator) {
            (Some(owner), Some(op)) if owner == op.id => Auth::Accept,
            _ => Auth::reject(),
        })
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> anyhow::Result<Auth> {
        let fingerprint = key.public_key.fingerprint(HashAlg::Sha256).to_string();
        Ok(self.log_in(user, Credential::PublicKey(fingerprint)).await)
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> anyhow::Result<()> {
        // One workstation per connection.
        if self.login.is_none() || self.channel.is_some() {
            reply
                .reject(ChannelOpenFailure::AdministrativelyProhibited)
                .await;
            return Ok(());
        }
        self.channel = Some(channel);
        reply.accept().await;
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        term: &str,
        cols: u32,
        rows: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(Pty, u32)],
        session: &mut Session,
    ) -> anyhow::Result<()> {
        if !self.is_ours(channel) {
            session.channel_failure(channel)?;
            return Ok(());
        }
        self.terminal.term = term.chars().take(ENV_VALUE_MAX).collect();
        self.terminal.cols = cols;
        self.terminal.rows = rows;
        session.channel_success(channel)?;
        Ok(())
    }

    /// Only what decides how the screen looks: `NO_COLOR`, and the
    /// interface language as `CREDIT_DESK_LANG` (sent with `SendEnv`).
    async fn env_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        value: &str,
        session: &mut Session,
    ) -> anyhow::Result<()> {
        let accepted = self.is_ours(channel) && value.len() <= ENV_VALUE_MAX;
        match name {
            "NO_COLOR" if accepted => self.terminal.no_color = !value.is_empty(),
            "CREDIT_DESK_LANG" if accepted => self.terminal.lang = Some(Lang::from_tag(value)),
            _ => {
                session.channel_failure(channel)?;
                return Ok(());
            }
        }
        session.channel_success(channel)?;
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> anyhow::Result<()> {
        if !self.is_ours(channel) || self.login.is_none() {
            session.channel_failure(channel)?;
            return Ok(());
        }
        let (Some(login), Some(channel_handle)) = (self.login.take(), self.channel.take()) else {
            return Ok(());
        };
        let operator = login
            .home
            .as_ref()
            .and_then(|h| h.operator.as_ref())
            .map(|o| o.id.clone())
            .unwrap_or_default();
        let Some(operator_place) = self.per_operator.take(operator) else {
            // Said on the clerk's terminal, then the channel closes.
            let cat = credit_desk::i18n::catalogue(self.terminal.lang.unwrap_or_default());
            session.channel_success(channel)?;
            session.data(
                channel,
                format!("{}\r\n", cat.ssh_too_many_sessions).into_bytes(),
            )?;
            session.exit_status_request(channel, 1)?;
            session.close(channel)?;
            let ctx = self.ctx.clone();
            tokio::spawn(async move { session::revoke(&ctx, &login.session_token).await });
            return Ok(());
        };
        let (input, input_rx) = mpsc::channel(INPUT_QUEUE);
        self.input = Some(input);
        self.started.store(true, Ordering::Relaxed);
        session.channel_success(channel)?;
        self.measure(session);
        tokio::spawn(session::run(session::Start {
            connection: session.handle(),
            ctx: self.ctx.clone(),
            dialer: self.dialer.clone(),
            channel: channel_handle,
            login,
            terminal: self.terminal.clone(),
            terminal_name: self.terminal_name(),
            meter: self.meter.clone(),
            clerk_rtt_ms: self.clerk_rtt_ms.clone(),
            input: input_rx,
            stop: self.stop.clone(),
            _operator_place: operator_place,
        }));
        self.shell = Some(channel);
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _data: &[u8],
        session: &mut Session,
    ) -> anyhow::Result<()> {
        session.channel_failure(channel)?;
        session.close(channel)?;
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        session: &mut Session,
    ) -> anyhow::Result<()> {
        session.channel_failure(channel)?;
        session.close(channel)?;
        Ok(())
    }

    async fn data(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> anyhow::Result<()> {
        if self.shell != Some(channel) {
            return Ok(());
        }
        if let Some(input) = &self.input
            && input.send(RemoteInput::Bytes(data.to_vec())).await.is_err()
        {
            self.input = None;
        }
        self.measure(session);
        Ok(())
    }

    async fn window_change_request(
        &mut self,
        channel: ChannelId,
        cols: u32,
        rows: u32,
        _pix_width: u32,
        _pix_height: u32,
        _session: &mut Session,
    ) -> anyhow::Result<()> {
        if self.shell == Some(channel)
            && let Some(input) = &self.input
        {
            let _ = input.send(RemoteInput::Resize(cols, rows)).await;
        }
        Ok(())
    }

    /// The client is gone from the channel: the app ends with its input.
    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> anyhow::Result<()> {
        if self.shell == Some(channel) {
            self.input = None;
        }
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> anyhow::Result<()> {
        if self.shell == Some(channel) {
            self.input = None;
        }
        Ok(())
    }
}
