//! The workstation on a terminal at the far end of a byte stream (the
//! server's SSH endpoint): raw input bytes become key events, frames go out
//! through a writer that never queues more than one, and the size comes
//! from the client, not from this process's terminal.

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::Stream;
use ratatui::crossterm::event::Event as TermEvent;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::{Notify, mpsc};

use crate::compact_backend::SharedSize;

/// How long a lone Esc waits for the rest of a key's sequence. An SSH
/// packet carries a whole sequence (a terminal writes it at once), so a
/// split is rare and the wait can be short: a bare Esc costs this much,
/// far less than a township round trip.
pub const ESC_TIMEOUT: Duration = Duration::from_millis(60);

/// An unfinished sequence longer than this is noise, not a key.
const MAX_SEQUENCE: usize = 64;

/// The largest terminal drawn: a frame (and the app's two cell buffers) are
/// bounded by it whatever size a client claims.
pub const MAX_COLS: u16 = 320;
pub const MAX_ROWS: u16 = 120;

/// Lets [`crate::theme::Theme`] alone decide colours: crossterm also
/// honours `NO_COLOR`, read once from this process's environment, which on
/// a server hosting many remote terminals would take colours from all.
pub fn colours_by_theme_only() {
    ratatui::crossterm::style::Colored::set_ansi_color_disabled(false);
}

/// Clamps a client's claimed size to what is drawn (never zero).
pub fn clamp_size(cols: u32, rows: u32) -> (u16, u16) {
    (
        cols.clamp(1, MAX_COLS as u32) as u16,
        rows.clamp(1, MAX_ROWS as u32) as u16,
    )
}

/// Bytes typed at the far terminal, parsed with crossterm's own parser (as
/// published by `terminput`). A trailing lone Esc is held back: it may be
/// the start of a function key whose rest is in the next packet; see
/// [`ESC_TIMEOUT`].
#[derive(Debug, Default)]
pub struct InputParser {
    buffer: Vec<u8>,
}

impl InputParser {
    /// Parses a packet; the events it completes are appended to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut VecDeque<TermEvent>) {
        for &byte in bytes {
            // Esc pressed twice in one read is two Escs (the parser would
            // make it Alt-Esc, which nothing here means): the first goes,
            // the second waits like any lone Esc.
            if byte == 0x1b && self.holds_escape() {
                out.push_back(TermEvent::Key(
                    ratatui::crossterm::event::KeyCode::Esc.into(),
                ));
                continue;
            }
            self.buffer.push(byte);
            // A lone Esc starts a sequence: the next byte (in this packet or
            // the next) decides; with none, the timeout does.
            if self.buffer == [0x1b] {
                continue;
            }
            self.parse(out);
        }
    }

    fn parse(&mut self, out: &mut VecDeque<TermEvent>) {
        match terminput::Event::parse_from(&self.buffer) {
            Ok(Some(event)) => {
                self.buffer.clear();
                if let Ok(event) = terminput_crossterm::to_crossterm(event) {
                    out.push_back(event);
                }
            }
            Ok(None) if self.buffer.len() < MAX_SEQUENCE => {}
            // Unparseable or endless: dropped, and typing goes on.
            _ => self.buffer.clear(),
        }
    }

    /// Whether a lone Esc waits for the rest of a sequence.
    pub fn holds_escape(&self) -> bool {
        self.buffer == [0x1b]
    }

    /// The timeout passed (or something other than bytes came): a held Esc
    /// is a key by itself.
    pub fn flush(&mut self, out: &mut VecDeque<TermEvent>) {
        if self.holds_escape() {
            self.buffer.clear();
            out.push_back(TermEvent::Key(
                ratatui::crossterm::event::KeyCode::Esc.into(),
            ));
        }
    }
}

/// What arrives from the far terminal.
#[derive(Debug)]
pub enum RemoteInput {
    Bytes(Vec<u8>),
    /// The window is now this many columns and rows.
    Resize(u32, u32),
}

/// The app's terminal events from the far terminal's input. The stream ends
/// when the sender is dropped (the connection is gone).
/// A resize is also written to `size`, where the terminal's backend reads
/// it.
pub fn events(
    input: mpsc::Receiver<RemoteInput>,
    size: Arc<SharedSize>,
) -> impl Stream<Item = io::Result<TermEvent>> + Unpin + Send {
    struct State {
        input: mpsc::Receiver<RemoteInput>,
        parser: InputParser,
        ready: VecDeque<TermEvent>,
        size: Arc<SharedSize>,
    }
    let state = State {
        input,
        parser: InputParser::default(),
        ready: VecDeque::new(),
        size,
    };
    Box::pin(futures::stream::unfold(state, |mut s| async move {
        loop {
            if let Some(event) = s.ready.pop_front() {
                return Some((Ok(event), s));
            }
            let next = if s.parser.holds_escape() {
                match tokio::time::timeout(ESC_TIMEOUT, s.input.recv()).await {
                    Ok(next) => next,
                    Err(_) => {
                        s.parser.flush(&mut s.ready);
                        continue;
                    }
                }
            } else {
                s.input.recv().await
            };
            match next? {
                RemoteInput::Bytes(bytes) => s.parser.feed(&bytes, &mut s.ready),
                RemoteInput::Resize(cols, rows) => {
                    s.parser.flush(&mut s.ready);
                    let (cols, rows) = clamp_size(cols, rows);
                    s.size.set(ratatui::layout::Size::new(cols, rows));
                    s.ready.push_back(TermEvent::Resize(cols, rows));
                }
            }
        }
    }))
}

#[derive(Debug, Default)]
struct OutboxState {
    pending: Vec<u8>,
    /// The writer is handing bytes to the connection (which waits for the
    /// client's flow-control window).
    writing: bool,
    closed: bool,
    /// Frames pushed so far (what a slow client was spared shows here).
    frames: u64,
}

/// Frames on their way to the far terminal. The run loop draws only while
/// the outbox is idle, so at most one frame waits: a slow client sees the
/// latest screen when it catches up, never a backlog of stale ones, and the
/// server holds one frame per session, not an unbounded queue.
#[derive(Debug, Default)]
pub struct Outbox {
    state: Mutex<OutboxState>,
    /// Something to write (for the writer) or all written (for the loop).
    changed: Notify,
}

impl Outbox {
    pub fn new() -> Arc<Outbox> {
        Arc::new(Outbox::default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OutboxState> {
        // A panic while holding it cannot leave the bytes half-updated in a
        // way that matters more than going on.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a frame drawn now would wait behind another (never once
    /// closed: nothing will be written any more).
    pub fn busy(&self) -> bool {
        let s = self.lock();
        !s.closed && (s.writing || !s.pending.is_empty())
    }

    /// Resolves once nothing is waiting or being written.
    pub async fn idle(&self) {
        loop {
            let notified = self.changed.notified();
            if !self.busy() || self.lock().closed {
                return;
            }
            notified.await;
        }
    }

    fn push(&self, bytes: &[u8]) -> io::Result<()> {
        let mut s = self.lock();
        if s.closed {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        s.pending.extend_from_slice(bytes);
        s.frames += 1;
        drop(s);
        self.changed.notify_waiters();
        Ok(())
    }

    /// Frames drawn so far.
    pub fn frames(&self) -> u64 {
        self.lock().frames
    }

    /// Stops the writer (the session is over).
    pub fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_waiters();
    }

    /// Sends what is pushed to `sink` until the outbox is closed or the
    /// sink fails (the client went away).
    pub async fn write_to<W: AsyncWrite + Unpin>(self: Arc<Self>, mut sink: W) -> io::Result<()> {
        loop {
            let notified = self.changed.notified();
            let bytes = {
                let mut s = self.lock();
                if s.closed {
                    return Ok(());
                }
                s.writing = !s.pending.is_empty();
                std::mem::take(&mut s.pending)
            };
            if bytes.is_empty() {
                notified.await;
                continue;
            }
            let result = async {
                sink.write_all(&bytes).await?;
                sink.flush().await
            }
            .await;
            {
                let mut s = self.lock();
                s.writing = false;
                // A failed write closes in the same step: no frame slips in
                // to wait for a writer that is gone.
                if result.is_err() {
                    s.closed = true;
                    s.pending.clear();
                }
            }
            self.changed.notify_waiters();
            result?;
        }
    }

    /// The terminal backend's writer: bytes of a frame gather here and go
    /// to the outbox whole, on flush (ratatui flushes once per frame).
    pub fn frame_writer(self: &Arc<Self>) -> FrameWriter {
        FrameWriter {
            outbox: self.clone(),
            frame: Vec::new(),
        }
    }
}

pub struct FrameWriter {
    outbox: Arc<Outbox>,
    frame: Vec<u8>,
}

impl io::Write for FrameWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.frame.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.frame.is_empty() {
            return Ok(());
        }
        let result = self.outbox.push(&self.frame);
        self.frame.clear();
        result
    }
}

/// How long a remote frame waits for an answer to a call just sent. The
/// services are in the same process: most answers come within it.
pub const SETTLE: Duration = Duration::from_millis(100);

impl crate::run::Output for Arc<Outbox> {
    fn busy(&self) -> bool {
        Outbox::busy(self)
    }
    async fn idle(&self) {
        Outbox::idle(self).await
    }
    fn settle(&self) -> Duration {
        SETTLE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn keys(parser: &mut InputParser, bytes: &[u8]) -> Vec<KeyEvent> {
        let mut out = VecDeque::new();
        parser.feed(bytes, &mut out);
        out.into_iter()
            .filter_map(|e| match e {
                TermEvent::Key(k) => Some(k),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn bytes_become_the_keys_a_clerk_typed() {
        let mut p = InputParser::default();
        let got = keys(&mut p, "a李\r\x7f\t\x03".as_bytes());
        let codes: Vec<KeyCode> = got.iter().map(|k| k.code).collect();
        assert_eq!(
            codes,
            [
                KeyCode::Char('a'),
                KeyCode::Char('李'),
                KeyCode::Enter,
                KeyCode::Backspace,
                KeyCode::Tab,
                KeyCode::Char('c'),
            ]
        );
        assert_eq!(got[5].modifiers, KeyModifiers::CONTROL);
    }

    #[test]
    fn function_keys_are_keys_not_esc_and_letters() {
        let mut p = InputParser::default();
        let codes: Vec<KeyCode> = keys(&mut p, b"\x1bOP\x1b[A\x1b[15~\x1b[Z")
            .iter()
            .map(|k| k.code)
            .collect();
        assert_eq!(
            codes,
            [KeyCode::F(1), KeyCode::Up, KeyCode::F(5), KeyCode::BackTab]
        );
    }

    #[test]
    fn a_sequence_split_across_packets_is_one_key() {
        let mut p = InputParser::default();
        assert!(keys(&mut p, b"\x1b").is_empty());
        assert!(p.holds_escape());
        assert_eq!(keys(&mut p, b"[B")[0].code, KeyCode::Down);
        // A character split inside its UTF-8 bytes too.
        let bytes = "国".as_bytes();
        assert!(keys(&mut p, &bytes[..1]).is_empty());
        assert_eq!(keys(&mut p, &bytes[1..])[0].code, KeyCode::Char('国'));
    }

    #[test]
    fn a_lone_esc_is_esc_after_the_timeout() {
        let mut p = InputParser::default();
        assert!(keys(&mut p, b"\x1b").is_empty());
        let mut out = VecDeque::new();
        p.flush(&mut out);
        assert!(matches!(out[0], TermEvent::Key(k) if k.code == KeyCode::Esc));
        assert!(!p.holds_escape());
    }

    /// Esc Esc arriving together (a quick double press, or tmux) went
    /// nowhere: the parser made it Alt-Esc.
    #[test]
    fn esc_pressed_twice_in_one_read_is_two_escs() {
        let mut p = InputParser::default();
        let got = keys(&mut p, b"\x1b\x1b\x1b\x1b");
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(
            got.iter()
                .all(|k| k.code == KeyCode::Esc && k.modifiers.is_empty())
        );
        assert!(p.holds_escape(), "the last waits for the timeout");
        // A function key after an Esc is still a function key.
        let got = keys(&mut p, b"\x1bOP");
        let codes: Vec<KeyCode> = got.iter().map(|k| k.code).collect();
        assert_eq!(codes, [KeyCode::Esc, KeyCode::F(1)]);
    }

    #[test]
    fn noise_is_dropped_and_typing_goes_on() {
        let mut p = InputParser::default();
        let mut noise = b"\x1b[".to_vec();
        noise.extend(std::iter::repeat_n(b'1', 200));
        keys(&mut p, &noise);
        assert_eq!(keys(&mut p, b"x")[0].code, KeyCode::Char('x'));
    }

    #[test]
    fn a_claimed_size_is_bounded() {
        assert_eq!(clamp_size(80, 24), (80, 24));
        assert_eq!(clamp_size(0, 0), (1, 1));
        assert_eq!(clamp_size(100_000, 100_000), (MAX_COLS, MAX_ROWS));
    }

    #[tokio::test]
    async fn esc_arrives_after_the_timeout_and_a_resize_as_a_resize() {
        use futures::StreamExt;
        let (tx, rx) = mpsc::channel(4);
        let size = SharedSize::new(ratatui::layout::Size::new(80, 24));
        let mut events = events(rx, size.clone());
        tx.send(RemoteInput::Bytes(b"\x1b".to_vec())).await.unwrap();
        tx.send(RemoteInput::Resize(100, 30)).await.unwrap();
        // The resize in the next packet ends the wait for the sequence.
        let first = events.next().await.unwrap().unwrap();
        assert!(
            matches!(first, TermEvent::Key(k) if k.code == KeyCode::Esc),
            "{first:?}"
        );
        let second = events.next().await.unwrap().unwrap();
        assert_eq!(second, TermEvent::Resize(100, 30));
        assert_eq!(size.get(), ratatui::layout::Size::new(100, 30));
        drop(tx);
        assert!(events.next().await.is_none());
    }

    /// A client that stops reading gets no backlog: while its frame waits,
    /// the app goes on taking keys but draws nothing; when the client reads
    /// again it gets one frame with everything typed meanwhile.
    #[tokio::test]
    async fn a_client_that_stops_reading_gets_the_latest_screen_not_a_backlog() {
        use crate::app::App;
        use crate::net::{Client, Meter};
        use crate::theme::Theme;
        use credit_desk_proto::Lang;
        use ratatui::{Terminal, TerminalOptions, Viewport};
        use tokio::io::AsyncReadExt;

        let outbox = Outbox::new();
        // A pipe far smaller than a frame, not read: the client is stuck.
        let (near, mut far) = tokio::io::duplex(64);
        let writer = tokio::spawn(outbox.clone().write_to(near));
        let (keys, input) = mpsc::channel(64);
        let looping = {
            let outbox = outbox.clone();
            tokio::spawn(async move {
                let size = SharedSize::new(ratatui::layout::Size::new(80, 24));
                let mut terminal = Terminal::with_options(
                    crate::compact_backend::CompactBackend::new(
                        outbox.frame_writer(),
                        size.clone(),
                    ),
                    TerminalOptions {
                        viewport: Viewport::Fullscreen,
                    },
                )
                .unwrap();
                let mut app = App::new(
                    Lang::En,
                    Theme { color: false },
                    "test".into(),
                    Arc::new(Meter::default()),
                    None,
                    "t".into(),
                );
                let client = Client::in_process("test", Lang::En, || async {
                    Err::<tokio::io::DuplexStream, _>(io::Error::other("no server here"))
                });
                crate::run::run(&mut terminal, &mut app, client, events(input, size), outbox)
                    .await
                    .unwrap();
            })
        };
        // The first frame is drawn and stuck in the pipe.
        while outbox.frames() == 0 {
            tokio::task::yield_now().await;
        }
        let typed = "abcdefghijklmnopqrst";
        for c in typed.chars() {
            keys.send(RemoteInput::Bytes(c.to_string().into_bytes()))
                .await
                .unwrap();
            for _ in 0..20 {
                tokio::task::yield_now().await;
            }
        }
        assert_eq!(
            outbox.frames(),
            1,
            "nothing drawn while the client is stuck"
        );

        // The client reads again: one more frame, with all twenty keys.
        let mut seen = Vec::new();
        let mut chunk = [0u8; 4096];
        while !String::from_utf8_lossy(&seen).contains(typed) {
            let n = far.read(&mut chunk).await.unwrap();
            seen.extend_from_slice(&chunk[..n]);
        }
        assert_eq!(outbox.frames(), 2);
        drop(keys);
        looping.await.unwrap();
        outbox.close();
        drop(far);
        let _ = writer.await;
    }

    #[tokio::test]
    async fn the_outbox_holds_one_frame_and_says_when_it_is_written() {
        use std::io::Write;
        let outbox = Outbox::new();
        let (near, mut far) = tokio::io::duplex(16);
        let writer = tokio::spawn(outbox.clone().write_to(near));
        let mut frame = outbox.frame_writer();
        frame.write_all(b"0123456789abcdef0123").unwrap();
        assert!(!outbox.busy(), "nothing leaves before the frame is flushed");
        frame.flush().unwrap();
        assert!(outbox.busy());
        let mut got = vec![0; 20];
        tokio::io::AsyncReadExt::read_exact(&mut far, &mut got)
            .await
            .unwrap();
        assert_eq!(&got, b"0123456789abcdef0123");
        outbox.idle().await;
        assert!(!outbox.busy());
        outbox.close();
        writer.await.unwrap().unwrap();
    }
}
