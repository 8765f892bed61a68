//! The event loop: terminal events and server answers in, commands out,
//! one redraw after each batch of events that reached the app and never
//! otherwise.
//! Calls run in their own tasks, so drawing and typing never wait for the
//! network.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use std::task::Poll;

use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::crossterm::event::{Event as TermEvent, KeyEventKind};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::app::{App, Command, Event};
use crate::net::{self, Client};

/// Turns a terminal event into an app event; `None` for what the app
/// ignores (mouse, focus, key releases), which then costs no redraw.
pub fn from_terminal(event: TermEvent) -> Option<Event> {
    match event {
        TermEvent::Key(key) if key.kind != KeyEventKind::Release => Some(Event::Key(key)),
        TermEvent::Resize(_, _) => Some(Event::Resize),
        _ => None,
    }
}

/// Where frames go, as far as pacing is concerned. A local terminal takes a
/// frame at once; a remote one ([`crate::remote::Outbox`]) is busy while a
/// frame is on its way, and the loop then waits and draws the latest state
/// once instead of queueing every intermediate one.
pub trait Output {
    fn busy(&self) -> bool;
    /// Resolves when [`Output::busy`] turns false.
    fn idle(&self) -> impl std::future::Future<Output = ()> + Send;
    /// How long a frame waits for the answer to a call just sent: an
    /// answer that comes within it is drawn in the same frame as the key
    /// that asked (no "loading" frame crosses a slow line first).
    fn settle(&self) -> Duration {
        Duration::ZERO
    }
}

/// This process's own terminal: writes complete before `draw` returns.
pub struct LocalTerminal;

impl Output for LocalTerminal {
    fn busy(&self) -> bool {
        false
    }
    async fn idle(&self) {
        std::future::pending::<()>().await
    }
}

// A handful per batch: the size of an answer is no cost.
#[allow(clippy::large_enum_variant)]
enum Incoming {
    Terminal(TermEvent),
    App(Event),
}

pub async fn run<B, S, O>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    client: Client,
    mut events: S,
    output: O,
) -> anyhow::Result<()>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    S: Stream<Item = std::io::Result<TermEvent>> + Unpin,
    O: Output,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let mut tasks: HashMap<u64, JoinHandle<()>> = HashMap::new();
    let mut dirty = true;
    let mut ended = false;
    // When the call now awaited was sent.
    let mut asked_at: Option<Instant> = None;
    while !ended && !app.quit {
        let settled = asked_at.map(|at| at + output.settle());
        let holding = settled.is_some_and(|t| Instant::now() < t);
        if dirty && !output.busy() && !holding {
            terminal.draw(|f| app.render(f))?;
            dirty = false;
        }
        let first = tokio::select! {
            next = events.next() => match next {
                Some(Ok(e)) => Incoming::Terminal(e),
                Some(Err(e)) => return Err(e.into()),
                None => break,
            },
            Some(e) = rx.recv() => Incoming::App(e),
            // Only while a frame is on its way: an idle output's `idle()`
            // is ready at once and would spin the loop.
            () = output.idle(), if dirty && output.busy() => continue,
            () = tokio::time::sleep_until(settled.unwrap_or_else(Instant::now).into()),
                if dirty && holding => continue,
        };
        // Everything already waiting is handled before the one redraw: an
        // answer and the status it changes make one frame, not two.
        let mut batch = vec![first];
        loop {
            if let Ok(e) = rx.try_recv() {
                batch.push(Incoming::App(e));
                continue;
            }
            // Polled with this task's own waker: crossterm's stream keeps
            // the first waker it is given, and a throwaway one (as
            // `now_or_never` gives) would leave the loop deaf to keys.
            let polled = futures::future::poll_fn(|cx| Poll::Ready(events.poll_next_unpin(cx)));
            match polled.await {
                Poll::Ready(Some(Ok(e))) => batch.push(Incoming::Terminal(e)),
                Poll::Ready(Some(Err(e))) => return Err(e.into()),
                Poll::Ready(None) => {
                    ended = true;
                    break;
                }
                Poll::Pending => break,
            }
        }
        for incoming in batch {
            let event = match incoming {
                Incoming::Terminal(TermEvent::Resize(cols, rows)) => {
                    // A remote terminal's size comes only this way; a local
                    // one is resized to what it reports.
                    terminal
                        .resize(ratatui::layout::Rect::new(0, 0, cols, rows))
                        .map_err(|e| anyhow::anyhow!("resize: {e}"))?;
                    Some(Event::Resize)
                }
                Incoming::Terminal(e) => from_terminal(e),
                Incoming::App(e) => Some(e),
            };
            let Some(event) = event else { continue };
            // The screen only says it is too small: a key would act unseen
            // (an F10 would submit blind). Quitting still works.
            if let Event::Key(key) = &event
                && too_small(terminal)
                && !is_quit(key)
            {
                continue;
            }
            dirty = true;
            if let Event::Reply { seq, .. } = &event {
                tasks.remove(seq);
            }
            for command in app.update(event) {
                match command {
                    Command::Send {
                        seq,
                        token,
                        call,
                        after,
                    } => {
                        let (client, tx) = (client.clone(), tx.clone());
                        // A delayed call waits in its own task: cancelling
                        // it before then means it is never sent.
                        let task = tokio::spawn(async move {
                            tokio::time::sleep(after).await;
                            perform(client, seq, token, call, tx).await;
                        });
                        tasks.insert(seq, task);
                    }
                    Command::Cancel(seq) => {
                        if let Some(task) = tasks.remove(&seq) {
                            task.abort();
                        }
                    }
                }
            }
            if app.quit {
                break;
            }
        }
        asked_at = match app.is_waiting() {
            true => asked_at.or(Some(Instant::now())),
            false => None,
        };
    }
    for task in tasks.into_values() {
        task.abort();
    }
    Ok(())
}

fn too_small<B: Backend>(terminal: &Terminal<B>) -> bool {
    terminal
        .size()
        .is_ok_and(|s| s.width < crate::app::MIN_WIDTH || s.height < crate::app::MIN_HEIGHT)
}

fn is_quit(key: &ratatui::crossterm::event::KeyEvent) -> bool {
    key.code == ratatui::crossterm::event::KeyCode::Char('c')
        && key
            .modifiers
            .contains(ratatui::crossterm::event::KeyModifiers::CONTROL)
}

/// Waits out a retry's backoff, telling the screen once a second how long
/// is left (the status line counts down instead of standing still).
async fn count_down(attempt: u32, wait: std::time::Duration, tx: &mpsc::UnboundedSender<Event>) {
    let mut left = wait.as_secs().max(1);
    while left > 0 {
        let _ = tx.send(Event::LinkDown {
            attempt,
            retry_in_s: left,
        });
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        left -= 1;
    }
}

/// Runs one call, retrying with backoff while the link is down. The same
/// request (with the same request id) is sent each time, so a create that
/// reached the server before the link dropped is not made twice.
pub async fn perform(
    client: Client,
    seq: u64,
    token: Option<String>,
    call: net::Call,
    tx: mpsc::UnboundedSender<Event>,
) {
    let mut attempt = 0;
    loop {
        let started = Instant::now();
        let progress_tx = tx.clone();
        let progress = move |done, total| {
            let _ = progress_tx.send(Event::Progress { seq, done, total });
        };
        let result = client.call(token.as_deref(), call.clone(), &progress).await;
        match result {
            // Logging out has happened on this side; the server is told
            // once, not retried for ever.
            Err(status) if net::is_link_failure(&status) && !matches!(call, net::Call::Logout) => {
                attempt += 1;
                let wait = net::backoff(attempt);
                tracing::debug!(%status, attempt, "link failure");
                count_down(attempt, wait, &tx).await;
            }
            result => {
                let rtt_ms = started.elapsed().as_millis() as u64;
                let _ = tx.send(Event::Reply {
                    seq,
                    result,
                    rtt_ms,
                });
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys pressed while the screen only says it is too small do nothing
    /// (they acted unseen); Ctrl-C still quits.
    #[tokio::test]
    async fn keys_do_nothing_on_a_terminal_too_small() {
        use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
        let client = Client::new("http://127.0.0.1:9", credit_desk_proto::Lang::Zh, None).unwrap();
        let mut app = App::new(
            credit_desk_proto::Lang::Zh,
            crate::theme::Theme { color: false },
            "http://127.0.0.1:9".into(),
            client.meter.clone(),
            None,
            "t".into(),
        );
        let typed = |app: &App| match &app.screen {
            crate::screens::Screen::Login(login) => login.form.value("username"),
            _ => panic!("still on the login screen"),
        };
        for (cols, rows, expected) in [(70, 20, ""), (80, 24, "x")] {
            let key = |code, modifiers| Ok(TermEvent::Key(KeyEvent::new(code, modifiers)));
            let events = futures::stream::iter(vec![
                key(KeyCode::Char('x'), KeyModifiers::NONE),
                key(KeyCode::Char('c'), KeyModifiers::CONTROL),
            ]);
            let backend = ratatui::backend::TestBackend::new(cols, rows);
            let mut terminal = Terminal::new(backend).unwrap();
            app.quit = false;
            run(
                &mut terminal,
                &mut app,
                client.clone(),
                events,
                LocalTerminal,
            )
            .await
            .unwrap();
            assert!(app.quit, "Ctrl-C quits");
            assert_eq!(typed(&app), expected, "at {cols}×{rows}");
        }
    }

    /// The retry line said "15 秒后" for fifteen seconds.
    #[tokio::test(start_paused = true)]
    async fn a_retry_counts_down_once_a_second() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        count_down(4, std::time::Duration::from_secs(3), &tx).await;
        let mut left = Vec::new();
        while let Ok(Event::LinkDown {
            attempt,
            retry_in_s,
        }) = rx.try_recv()
        {
            assert_eq!(attempt, 4);
            left.push(retry_in_s);
        }
        assert_eq!(left, [3, 2, 1]);
    }
}
