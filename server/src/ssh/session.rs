//! The workstation app of one SSH session: the same `App` and event loop as
//! a township terminal, drawing into the SSH channel through a one-frame
//! outbox and calling the services over an in-process connection.

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use credit_desk::app::App;
use credit_desk::compact_backend::{CompactBackend, SharedSize};
use credit_desk::net::{Client, Meter};
use credit_desk::remote::{self, Outbox, RemoteInput};
use credit_desk::theme::Theme;
use credit_desk_proto::pb;
use futures::{Stream, StreamExt};
use ratatui::crossterm::{cursor, execute, terminal};
use ratatui::layout::Size;
use ratatui::{Terminal, TerminalOptions, Viewport};
use russh::Channel;
use russh::server::Msg;
use tokio::sync::{mpsc, watch};

use super::connection::TerminalRequest;
use crate::context::Ctx;
use crate::db::sessions;
use crate::transport::LocalDialer;

pub struct Start {
    /// Ended with the app: one workstation per connection.
    pub connection: russh::server::Handle,
    pub ctx: Ctx,
    pub dialer: LocalDialer,
    pub channel: Channel<Msg>,
    pub login: pb::LoginResponse,
    pub terminal: TerminalRequest,
    pub terminal_name: String,
    pub meter: Arc<Meter>,
    pub clerk_rtt_ms: Arc<AtomicU64>,
    pub input: mpsc::Receiver<RemoteInput>,
    pub stop: watch::Receiver<bool>,
    /// The operator's session place, given back when the session ends.
    pub _operator_place: super::Place<String>,
}

/// How long a client may keep its connection after its channel closed.
const LEAVE_GRACE: Duration = Duration::from_secs(10);

/// Why the input ended without the clerk quitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    Idle,
    Stopping,
}

/// Runs the app until the clerk quits or logs out, the input ends (the
/// client went away), the session sits idle, or the server stops; then
/// restores the clerk's terminal, closes the channel and ends the session.
pub async fn run(start: Start) {
    let Start {
        connection,
        ctx,
        dialer,
        channel,
        login,
        terminal: request,
        terminal_name,
        meter,
        clerk_rtt_ms,
        input,
        stop,
        _operator_place: operator_place,
    } = start;
    let token = login.session_token.clone();
    let lang = request.lang.unwrap_or_default();
    let outbox = Outbox::new();
    let mut writer = tokio::spawn(outbox.clone().write_to(channel.make_writer()));
    let label = format!("SSH {}", terminal_name.trim_start_matches("ssh "));
    let client = Client::in_process(&label, lang, move || {
        let dialer = dialer.clone();
        async move { dialer.dial().await }
    });
    let mut app = App::new(
        lang,
        Theme::for_terminal(&request.term, request.no_color),
        label,
        meter,
        None,
        terminal_name,
    );
    app.link.clerk_rtt_ms = Some(clerk_rtt_ms);
    app.leave_when_logged_out = true;
    app.logged_in(login);

    let idle = Duration::from_millis(ctx.sessions.idle_ms.max(1000) as u64);
    let cut = Arc::new(std::sync::Mutex::new(None));
    let (cols, rows) = remote::clamp_size(request.cols, request.rows);
    let size = SharedSize::new(Size::new(cols, rows));
    let events = until_cut(remote::events(input, size.clone()), idle, stop, cut.clone());
    let result = async {
        let mut writer = outbox.frame_writer();
        execute!(
            writer,
            terminal::EnterAlternateScreen,
            terminal::Clear(terminal::ClearType::All)
        )?;
        // The size comes from the client (its pty request, then its
        // window changes), as a local terminal's comes from the tty.
        let mut terminal = Terminal::with_options(
            CompactBackend::new(writer, size),
            TerminalOptions {
                viewport: Viewport::Fullscreen,
            },
        )?;
        credit_desk::run::run(&mut terminal, &mut app, client, events, outbox.clone()).await?;
        drop(terminal);
        let mut writer = outbox.frame_writer();
        execute!(writer, cursor::Show, terminal::LeaveAlternateScreen)?;
        let cut = *cut.lock().unwrap_or_else(|e| e.into_inner());
        let farewell = match cut {
            Some(Cut::Idle) => app.cat.ssh_idle.to_string(),
            Some(Cut::Stopping) => app.cat.ssh_server_stopping.to_string(),
            None => match &app.ended_because {
                Some(why) => format!("{} — {why}", app.cat.error_session_ended),
                None => app.cat.ssh_bye.to_string(),
            },
        };
        write!(writer, "{farewell}\r\n")?;
        writer.flush()?;
        anyhow::Ok(())
    }
    .await;
    if let Err(e) = result {
        tracing::debug!(error = %e, "SSH session ended with an error");
    }
    // What was drawn last reaches the clerk before the channel closes (a
    // gone client makes this return at once).
    let _ = tokio::time::timeout(Duration::from_secs(5), outbox.idle()).await;
    outbox.close();
    // A client that does not read would hold the writer (and the rest of
    // this) for ever.
    if tokio::time::timeout(Duration::from_secs(5), &mut writer)
        .await
        .is_err()
    {
        writer.abort();
    }
    revoke(&ctx, &token).await;
    // The operator may open another session now.
    drop(operator_place);
    let _ = channel.exit_status(0).await;
    let _ = channel.eof().await;
    let _ = channel.close().await;
    // The connection ends with its workstation: a new login is a new
    // connection, limited and audited as one. Clients leave by themselves
    // once the channel is closed (and exit cleanly); one that stays is sent
    // away.
    tokio::time::sleep(LEAVE_GRACE).await;
    let _ = connection
        .disconnect(
            russh::Disconnect::ByApplication,
            String::new(),
            String::new(),
        )
        .await;
}

/// Ends the session in the database (a copy of its token is worth nothing
/// after the SSH connection is gone).
pub async fn revoke(ctx: &Ctx, token: &str) {
    let hash = crate::token::token_hash(token);
    let result = async {
        let mut tx = ctx.db.begin_write().await?;
        sessions::revoke(&mut tx, &hash, ctx.now_ms()).await?;
        tx.commit().await?;
        anyhow::Ok(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "ending an SSH session's login");
    }
}

/// The terminal events, ending early when nothing is typed for `idle` or
/// the server stops (`cut` says which).
fn until_cut<S>(
    events: S,
    idle: Duration,
    stop: watch::Receiver<bool>,
    cut: Arc<std::sync::Mutex<Option<Cut>>>,
) -> impl Stream<Item = std::io::Result<ratatui::crossterm::event::Event>> + Unpin
where
    S: Stream<Item = std::io::Result<ratatui::crossterm::event::Event>> + Unpin,
{
    Box::pin(futures::stream::unfold(
        (events, stop, cut),
        move |(mut events, mut stop, cut)| async move {
            if *stop.borrow() {
                *cut.lock().unwrap_or_else(|e| e.into_inner()) = Some(Cut::Stopping);
                return None;
            }
            let why = tokio::select! {
                next = events.next() => return next.map(|e| (e, (events, stop, cut))),
                () = tokio::time::sleep(idle) => Cut::Idle,
                _ = stop.changed() => Cut::Stopping,
            };
            *cut.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
            None
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut_of(cut: &std::sync::Mutex<Option<Cut>>) -> Option<Cut> {
        *cut.lock().unwrap()
    }

    /// Keys keep a session open; a quiet one ends after the idle time and
    /// says why (the clerk reads it on their terminal).
    #[tokio::test(start_paused = true)]
    async fn a_quiet_session_is_cut_after_the_idle_time() {
        let (keys, rx) = mpsc::channel(4);
        let (_stop_tx, stop) = watch::channel(false);
        let cut = Arc::new(std::sync::Mutex::new(None));
        let size = SharedSize::new(Size::new(80, 24));
        let mut events = until_cut(
            remote::events(rx, size),
            Duration::from_secs(60),
            stop,
            cut.clone(),
        );
        tokio::time::sleep(Duration::from_secs(50)).await;
        keys.send(RemoteInput::Bytes(b"x".to_vec())).await.unwrap();
        assert!(events.next().await.is_some(), "a key within the idle time");
        tokio::time::sleep(Duration::from_secs(50)).await;
        keys.send(RemoteInput::Bytes(b"y".to_vec())).await.unwrap();
        assert!(
            events.next().await.is_some(),
            "the clock restarts at each key"
        );
        assert!(events.next().await.is_none());
        assert_eq!(cut_of(&cut), Some(Cut::Idle));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stopping_server_cuts_the_session() {
        let (_keys, rx) = mpsc::channel(4);
        let (stop_tx, stop) = watch::channel(false);
        let cut = Arc::new(std::sync::Mutex::new(None));
        let size = SharedSize::new(Size::new(80, 24));
        let mut events = until_cut(
            remote::events(rx, size),
            Duration::from_secs(3600),
            stop,
            cut.clone(),
        );
        stop_tx.send(true).unwrap();
        assert!(events.next().await.is_none());
        assert_eq!(cut_of(&cut), Some(Cut::Stopping));
    }
}
