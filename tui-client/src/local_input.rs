//! The local terminal's input: the bytes typed (read on a thread of their
//! own) go through the same parser as the SSH endpoint's, and window
//! changes come from SIGWINCH.
//!
//! Not crossterm's `EventStream`: it reads at most 1 KiB at a time and
//! returns after the first event it parses, while its readiness is
//! edge-triggered, so the rest of a longer burst (a pasted reason) stayed
//! unread until the next key was pressed.

use std::io::{self, Read};

use futures::Stream;
use ratatui::crossterm::event::Event as TermEvent;
use tokio::sync::mpsc;

use crate::compact_backend::SharedSize;
use crate::remote::{self, RemoteInput};

/// Chunks read at once; a burst of any length is read whole, chunk after
/// chunk.
const READ_BYTES: usize = 4096;

/// Events from this process's terminal (standard input in raw mode).
pub fn events() -> impl Stream<Item = io::Result<TermEvent>> + Unpin + Send {
    let (tx, rx) = mpsc::channel(64);
    let resizes = tx.clone();
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut changes) = signal(SignalKind::window_change()) else {
            return;
        };
        while changes.recv().await.is_some() {
            if let Ok((cols, rows)) = ratatui::crossterm::terminal::size() {
                let resize = RemoteInput::Resize(cols.into(), rows.into());
                if resizes.send(resize).await.is_err() {
                    return;
                }
            }
        }
    });
    from_reader(io::stdin(), tx, rx)
}

/// Events parsed from whatever `source` yields, read on a thread of its
/// own (a blocking read never holds up the runtime); `tx` may also carry
/// resizes.
fn from_reader<R: Read + Send + 'static>(
    mut source: R,
    tx: mpsc::Sender<RemoteInput>,
    rx: mpsc::Receiver<RemoteInput>,
) -> impl Stream<Item = io::Result<TermEvent>> + Unpin + Send {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; READ_BYTES];
        loop {
            match source.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    if tx
                        .blocking_send(RemoteInput::Bytes(buf[..n].to_vec()))
                        .is_err()
                    {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    });
    // The size is the terminal's own here: the run loop resizes to what a
    // resize event says.
    let size = SharedSize::new(ratatui::layout::Size::new(80, 24));
    remote::events(rx, size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use ratatui::crossterm::event::KeyCode;

    /// A paste far longer than one read arrives whole, in order, without
    /// waiting for another key.
    #[tokio::test]
    async fn a_long_burst_arrives_whole() {
        let text = format!("{}理由很长END", "a".repeat(3 * READ_BYTES));
        let (tx, rx) = mpsc::channel(64);
        let events = from_reader(io::Cursor::new(text.clone().into_bytes()), tx, rx);
        let typed: String = events
            .filter_map(|e| async move {
                match e {
                    Ok(TermEvent::Key(k)) => match k.code {
                        KeyCode::Char(c) => Some(c),
                        _ => None,
                    },
                    _ => None,
                }
            })
            .collect()
            .await;
        assert_eq!(typed, text);
    }
}
