//! A ratatui backend that writes as few bytes as it can, for terminals at
//! the end of a slow link (the SSH endpoint). crossterm's backend moves the
//! cursor before every cell that does not follow the last one — and after
//! every Chinese character, which is two columns wide — and resets colours
//! and attributes at the end of every frame; over a township line that was
//! half of what the workstation sent. This one knows where the cursor is
//! and what the terminal's attributes are, across frames, and only says
//! what changed.

use std::fmt::Write as _;
use std::io::{self, Write};

use ratatui::backend::{Backend, ClearType, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use ratatui::style::{Color, Modifier};
use unicode_width::UnicodeWidthStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pen {
    fg: Color,
    bg: Color,
    modifier: Modifier,
}

impl Default for Pen {
    fn default() -> Self {
        Pen {
            fg: Color::Reset,
            bg: Color::Reset,
            modifier: Modifier::empty(),
        }
    }
}

/// The far terminal's size, set by whoever hears of its changes (the SSH
/// endpoint's window-change requests) and read by the backend.
#[derive(Debug, Default)]
pub struct SharedSize(std::sync::atomic::AtomicU32);

impl SharedSize {
    pub fn new(size: Size) -> std::sync::Arc<SharedSize> {
        let shared = std::sync::Arc::new(SharedSize::default());
        shared.set(size);
        shared
    }

    pub fn set(&self, size: Size) {
        let packed = (u32::from(size.width) << 16) | u32::from(size.height);
        self.0.store(packed, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn get(&self) -> Size {
        let packed = self.0.load(std::sync::atomic::Ordering::Relaxed);
        Size::new((packed >> 16) as u16, (packed & 0xffff) as u16)
    }
}

pub struct CompactBackend<W: Write> {
    writer: W,
    size: std::sync::Arc<SharedSize>,
    /// Where the terminal's cursor is, when known.
    cursor: Option<Position>,
    /// The terminal's current colours and attributes, when known.
    pen: Option<Pen>,
    cursor_shown: Option<bool>,
    /// What is to be written, sent as one piece at `flush` (the end of
    /// each frame).
    out: String,
}

impl<W: Write> CompactBackend<W> {
    pub fn new(writer: W, size: std::sync::Arc<SharedSize>) -> CompactBackend<W> {
        CompactBackend {
            writer,
            size,
            cursor: None,
            pen: None,
            cursor_shown: None,
            out: String::new(),
        }
    }

    fn put(&mut self, x: u16, y: u16, cell: &Cell) {
        self.move_to(Position { x, y });
        self.set_pen(Pen {
            fg: cell.fg,
            bg: cell.bg,
            modifier: cell.modifier,
        });
        let symbol = cell.symbol();
        self.out.push_str(symbol);
        // Past the last column the terminal's cursor is in limbo, but
        // nothing is ever drawn there, so the next cell moves it anyway.
        let width = symbol.width().max(1) as u16;
        self.cursor = Some(Position { x: x + width, y });
    }

    fn move_to(&mut self, p: Position) {
        match self.cursor {
            Some(c) if c == p => return,
            // Forward on the same row (cells the frame leaves as they were):
            // shorter than an absolute move.
            Some(c) if c.y == p.y && c.x < p.x => {
                let _ = write!(self.out, "\x1b[{}C", p.x - c.x);
            }
            _ => {
                let _ = write!(self.out, "\x1b[{};{}H", p.y + 1, p.x + 1);
            }
        }
        self.cursor = Some(p);
    }

    fn set_pen(&mut self, to: Pen) {
        let from = self.pen;
        if from == Some(to) {
            return;
        }
        let mut codes: Vec<u8> = Vec::new();
        let mut colours_from = from;
        match from {
            // Attributes only switched on: add them. Anything switched off
            // (or an unknown state): reset and draw the pen whole, which is
            // rarely longer than switching each off.
            Some(f) if f.modifier & !to.modifier == Modifier::empty() => {
                push_modifiers(&mut codes, to.modifier - f.modifier);
            }
            _ => {
                codes.push(0);
                push_modifiers(&mut codes, to.modifier);
                colours_from = Some(Pen::default());
            }
        }
        let before = colours_from.unwrap_or_default();
        if before.fg != to.fg {
            push_colour(&mut codes, to.fg, false);
        }
        if before.bg != to.bg {
            push_colour(&mut codes, to.bg, true);
        }
        if !codes.is_empty() {
            self.out.push_str("\x1b[");
            let joined: Vec<String> = codes.iter().map(u8::to_string).collect();
            self.out.push_str(&joined.join(";"));
            self.out.push('m');
        }
        self.pen = Some(to);
    }

    fn emit(&mut self) -> io::Result<()> {
        if !self.out.is_empty() {
            self.writer.write_all(self.out.as_bytes())?;
            self.out.clear();
        }
        Ok(())
    }
}

fn push_modifiers(codes: &mut Vec<u8>, m: Modifier) {
    for (flag, code) in [
        (Modifier::BOLD, 1),
        (Modifier::DIM, 2),
        (Modifier::ITALIC, 3),
        (Modifier::UNDERLINED, 4),
        (Modifier::SLOW_BLINK, 5),
        (Modifier::RAPID_BLINK, 6),
        (Modifier::REVERSED, 7),
        (Modifier::HIDDEN, 8),
        (Modifier::CROSSED_OUT, 9),
    ] {
        if m.contains(flag) {
            codes.push(code);
        }
    }
}

/// The 16 colours the workstation uses; anything else is drawn in the
/// terminal's own colour (the theme never asks for more).
fn push_colour(codes: &mut Vec<u8>, c: Color, background: bool) {
    let base = match c {
        Color::Black => 30,
        Color::Red => 31,
        Color::Green => 32,
        Color::Yellow => 33,
        Color::Blue => 34,
        Color::Magenta => 35,
        Color::Cyan => 36,
        Color::Gray => 37,
        Color::DarkGray => 90,
        Color::LightRed => 91,
        Color::LightGreen => 92,
        Color::LightYellow => 93,
        Color::LightBlue => 94,
        Color::LightMagenta => 95,
        Color::LightCyan => 96,
        Color::White => 97,
        _ => 39,
    };
    codes.push(if background { base + 10 } else { base });
}

impl<W: Write> Backend for CompactBackend<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        for (x, y, cell) in content {
            self.put(x, y, cell);
        }
        Ok(())
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        if self.cursor_shown != Some(false) {
            self.out.push_str("\x1b[?25l");
            self.cursor_shown = Some(false);
        }
        Ok(())
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        if self.cursor_shown != Some(true) {
            self.out.push_str("\x1b[?25h");
            self.cursor_shown = Some(true);
        }
        Ok(())
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        Ok(self.cursor.unwrap_or_default())
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.move_to(position.into());
        Ok(())
    }

    fn clear(&mut self) -> io::Result<()> {
        self.clear_region(ClearType::All)
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        // What was not sent yet is moot once the whole screen is erased (a
        // client flooding window changes cannot pile up erasures).
        if clear_type == ClearType::All && !self.out.is_empty() {
            self.out.clear();
            // The terminal never heard what was dropped: its state is as
            // unknown as after a connection.
            self.pen = None;
            self.cursor = None;
            self.cursor_shown = None;
        }
        // Erasing paints with the current background: plain first.
        self.set_pen(Pen::default());
        self.out.push_str(match clear_type {
            ClearType::All => "\x1b[2J",
            ClearType::AfterCursor => "\x1b[J",
            ClearType::BeforeCursor => "\x1b[1J",
            ClearType::CurrentLine => "\x1b[2K",
            ClearType::UntilNewLine => "\x1b[K",
        });
        Ok(())
    }

    fn size(&self) -> io::Result<Size> {
        Ok(self.size.get())
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        Ok(WindowSize {
            columns_rows: self.size.get(),
            pixels: Size::default(),
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        self.emit()?;
        self.writer.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::TerminalOptions;
    use ratatui::Viewport;
    use ratatui::layout::Rect;
    use ratatui::style::Style;
    use ratatui::text::Line;

    fn frame(backend: CompactBackend<Vec<u8>>, draws: &[Line<'static>]) -> (Vec<String>, String) {
        let mut terminal = Terminal::with_options(
            backend,
            TerminalOptions {
                viewport: Viewport::Fixed(Rect::new(0, 0, 20, 3)),
            },
        )
        .unwrap();
        let mut outs = Vec::new();
        let mut before = 0;
        for line in draws {
            terminal
                .draw(|f| f.render_widget(line.clone(), f.area()))
                .unwrap();
            let all = &terminal.backend().writer;
            outs.push(String::from_utf8_lossy(&all[before..]).into_owned());
            before = all.len();
        }
        // What a terminal shows after all of it.
        let mut screen = vt100::Parser::new(
            std::num::NonZeroU16::new(3).unwrap(),
            std::num::NonZeroU16::new(20).unwrap(),
            0,
        );
        screen.process(&terminal.backend().writer);
        (outs, screen.screen().contents())
    }

    #[test]
    fn wide_characters_need_no_cursor_moves() {
        let backend = CompactBackend::new(Vec::new(), SharedSize::new(Size::new(20, 3)));
        let (outs, shown) = frame(backend, &[Line::raw("核验通过 ok")]);
        assert_eq!(
            outs[0], "\x1b[1;1H\x1b[0m核验通过\x1b[1Cok\x1b[?25l",
            "one move at the start, one step over the blank"
        );
        assert!(shown.starts_with("核验通过 ok"), "{shown:?}");
    }

    #[test]
    fn a_frame_says_only_what_changed() {
        let backend = CompactBackend::new(Vec::new(), SharedSize::new(Size::new(20, 3)));
        let (outs, shown) = frame(
            backend,
            &[
                Line::styled("证件号码 4412", Style::new().bold()),
                Line::styled("证件号码 44128", Style::new().bold()),
            ],
        );
        // The second frame: a move to the new digit and the digit, in the
        // attributes the terminal already has.
        assert_eq!(outs[1], "\x1b[1;14H8", "{:?}", outs[1]);
        assert!(shown.starts_with("证件号码 44128"), "{shown:?}");
    }

    #[test]
    fn attributes_switched_off_are_reset_and_redrawn() {
        let mut b = CompactBackend::new(Vec::new(), SharedSize::new(Size::new(20, 3)));
        let bold_red = Pen {
            fg: Color::Red,
            bg: Color::Reset,
            modifier: Modifier::BOLD,
        };
        b.set_pen(bold_red);
        assert_eq!(b.out, "\x1b[0;1;31m");
        b.out.clear();
        b.set_pen(Pen {
            modifier: Modifier::BOLD | Modifier::REVERSED,
            ..bold_red
        });
        assert_eq!(b.out, "\x1b[7m");
        b.out.clear();
        b.set_pen(Pen {
            fg: Color::Red,
            ..Pen::default()
        });
        assert_eq!(b.out, "\x1b[0;31m");
        b.out.clear();
        b.set_pen(Pen {
            fg: Color::Red,
            ..Pen::default()
        });
        assert_eq!(b.out, "", "nothing changed, nothing said");
    }

    #[test]
    fn the_cursor_is_shown_and_hidden_once() {
        let mut b = CompactBackend::new(Vec::new(), SharedSize::new(Size::new(20, 3)));
        b.hide_cursor().unwrap();
        b.hide_cursor().unwrap();
        b.show_cursor().unwrap();
        b.show_cursor().unwrap();
        b.flush().unwrap();
        assert_eq!(String::from_utf8(b.writer).unwrap(), "\x1b[?25l\x1b[?25h");
    }

    /// A client that floods window changes while not reading gets one
    /// erasure, not one per change.
    #[test]
    fn erasures_that_were_never_sent_do_not_pile_up() {
        let mut b = CompactBackend::new(Vec::new(), SharedSize::new(Size::new(20, 3)));
        b.hide_cursor().unwrap();
        for _ in 0..10_000 {
            b.clear().unwrap();
        }
        assert!(b.out.len() < 32, "{:?}", b.out);
        b.flush().unwrap();
        assert_eq!(String::from_utf8(b.writer).unwrap(), "\x1b[0m\x1b[2J");
    }

    /// Whatever the frames, a terminal shows after this backend's bytes
    /// exactly what it shows after crossterm's (characters, colours,
    /// attributes, cell by cell): fewer bytes, the same screen.
    #[test]
    fn the_terminal_shows_what_the_stock_backend_would_show() {
        #[derive(Clone, Default)]
        struct Shared(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                self.0.borrow_mut().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let words = [
            "核验通过",
            "ok",
            "证件号码",
            "李建国",
            "—",
            "a",
            "报告 CD-7",
        ];
        let styles = [
            Style::new(),
            Style::new().bold(),
            Style::new().reversed(),
            Style::new().fg(Color::LightRed).bold(),
            Style::new().fg(Color::Cyan).underlined(),
            Style::new().bg(Color::Blue).fg(Color::White),
            Style::new().dark_gray(),
        ];
        let area = Rect::new(0, 0, 24, 6);
        let options = || TerminalOptions {
            viewport: Viewport::Fixed(area),
        };
        let mut compact = Terminal::with_options(
            CompactBackend::new(Vec::new(), SharedSize::new(area.as_size())),
            options(),
        )
        .unwrap();
        let stock_bytes = Shared::default();
        let mut stock = Terminal::with_options(
            ratatui::backend::CrosstermBackend::new(stock_bytes.clone()),
            options(),
        )
        .unwrap();
        // A fixed walk through many different frames.
        let mut seed = 7u32;
        let mut next = |n: usize| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (seed >> 16) as usize % n
        };
        let terminal = || {
            vt100::Parser::new(
                std::num::NonZeroU16::new(6).unwrap(),
                std::num::NonZeroU16::new(24).unwrap(),
                0,
            )
        };
        for frame in 0..200 {
            let lines: Vec<Line> = (0..6)
                .map(|_| {
                    let spans: Vec<ratatui::text::Span> = (0..next(4))
                        .map(|_| {
                            let pad = " ".repeat(next(3));
                            ratatui::text::Span::styled(
                                format!("{pad}{}", words[next(words.len())]),
                                styles[next(styles.len())],
                            )
                        })
                        .collect();
                    Line::from(spans)
                })
                .collect();
            let draw = |f: &mut ratatui::Frame| {
                f.render_widget(ratatui::widgets::Paragraph::new(lines.clone()), f.area())
            };
            compact.draw(draw).unwrap();
            stock.draw(draw).unwrap();
            let (mut ours, mut theirs) = (terminal(), terminal());
            ours.process(&compact.backend().writer);
            theirs.process(&stock_bytes.0.borrow());
            for y in 0..6u16 {
                for x in 0..24u16 {
                    let (a, b) = (
                        ours.screen().cell(y, x).unwrap(),
                        theirs.screen().cell(y, x).unwrap(),
                    );
                    let at = format!("frame {frame} ({x},{y})");
                    // Erased or a space: the same blank; its colour and
                    // boldness cannot be seen.
                    let blank = |c: &vt100::Cell| c.contents().trim().is_empty();
                    if blank(a) && blank(b) {
                        assert_eq!(a.bgcolor(), b.bgcolor(), "blank's bg at {at}");
                        assert_eq!(a.inverse(), b.inverse(), "blank's reverse at {at}");
                        assert_eq!(a.underline(), b.underline(), "blank's underline at {at}");
                        continue;
                    }
                    assert_eq!(a.contents(), b.contents(), "symbol at {at}");
                    assert_eq!(a.bold(), b.bold(), "bold at {at}");
                    assert_eq!(a.inverse(), b.inverse(), "reverse at {at}");
                    assert_eq!(a.underline(), b.underline(), "underline at {at}");
                    assert_eq!(a.fgcolor(), b.fgcolor(), "fg at {at}");
                    assert_eq!(a.bgcolor(), b.bgcolor(), "bg at {at}");
                }
            }
        }
        let (ours, theirs) = (compact.backend().writer.len(), stock_bytes.0.borrow().len());
        assert!(
            ours * 3 < theirs * 2,
            "{ours} bytes against crossterm's {theirs}"
        );
    }
}
