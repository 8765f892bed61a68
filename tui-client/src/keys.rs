//! One key table per screen drives both what a key does and what the
//! footer and the help overlay say about it (as gitui's key list does), so
//! a documented key always works and a working key is always documented.
//! Letters work in either case: Caps Lock on a counter keyboard is common.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use unicode_width::UnicodeWidthStr;

use crate::i18n::Catalogue;

/// A key as a table names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A letter, matched in either case, without Ctrl or Alt.
    Letter(char),
    /// Any other key, matched exactly, without Ctrl or Alt.
    Code(KeyCode),
    /// A letter with Ctrl held, e.g. Ctrl-S (Shift does not matter).
    Ctrl(char),
}

impl Key {
    pub fn matches(self, event: &KeyEvent) -> bool {
        let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
        let plain = !ctrl && !event.modifiers.contains(KeyModifiers::ALT);
        match (self, event.code) {
            (Key::Letter(l), KeyCode::Char(c)) => plain && c.eq_ignore_ascii_case(&l),
            (Key::Ctrl(l), KeyCode::Char(c)) => ctrl && c.eq_ignore_ascii_case(&l),
            (Key::Code(code), got) => plain && code == got,
            _ => false,
        }
    }
}

/// A table entry: `bind!("s", [Letter('s')], key_send, Cmd::Send)` — what
/// the footer writes, the keys, the catalogue's word, the command.
#[macro_export]
macro_rules! bind {
    ($shown:literal, [$($key:expr),+ $(,)?], $label:ident, $cmd:expr) => {
        $crate::keys::Binding {
            keys: &[$($key),+],
            shown: $shown,
            label: |c| c.$label,
            command: $cmd,
        }
    };
}

/// One entry of a screen's key table.
pub struct Binding<C: 'static> {
    pub keys: &'static [Key],
    /// How the footer writes the keys, e.g. `s` or `↑↓`.
    pub shown: &'static str,
    /// What the key does, from the catalogue.
    pub label: fn(&Catalogue) -> &'static str,
    pub command: C,
}

/// The command of the first binding that matches `event` and is offered
/// now (role, state); `None` for any other key.
pub fn find<C: Copy>(
    table: &[Binding<C>],
    event: &KeyEvent,
    offered: impl Fn(C) -> bool,
) -> Option<C> {
    table
        .iter()
        .filter(|b| offered(b.command))
        .find(|b| b.keys.iter().any(|k| k.matches(event)))
        .map(|b| b.command)
}

/// The one key of a screen (or a form on it) that only goes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Back;

pub const BACK: &[Binding<Back>] = &[crate::bind!(
    "Esc",
    [Key::Code(KeyCode::Esc)],
    key_back,
    Back
)];

/// Whether `event` is the key that goes back.
pub fn is_back(event: &KeyEvent) -> bool {
    find(BACK, event, |_| true).is_some()
}

/// What a footer says about one binding: the keys as written and the word.
pub type Entry = (&'static str, &'static str);

/// The entries of every offered binding, in table order.
pub fn entries<C: Copy>(
    table: &[Binding<C>],
    cat: &Catalogue,
    offered: impl Fn(C) -> bool,
) -> Vec<Entry> {
    table
        .iter()
        .filter(|b| offered(b.command))
        .map(|b| (b.shown, (b.label)(cat)))
        .collect()
}

/// The footer: every offered binding in table order (the table lists the
/// most used first), as many as fit in `width` columns.
pub fn footer<C: Copy>(
    table: &[Binding<C>],
    cat: &Catalogue,
    offered: impl Fn(C) -> bool,
    width: usize,
) -> String {
    fit(entries(table, cat, offered), width)
}

/// Entries as one line of at most `width` columns, cut between entries.
/// Neighbours that do the same thing share one word: `↑↓ PgDn PgUp 滚动`.
pub fn fit(entries: impl IntoIterator<Item = Entry>, width: usize) -> String {
    // (keys as shown, word), neighbours with one word merged.
    let mut items: Vec<(Vec<&str>, &str)> = Vec::new();
    for (shown, label) in entries {
        match items.last_mut() {
            Some((keys, last)) if *last == label => {
                if !keys.contains(&shown) {
                    keys.push(shown);
                }
            }
            _ => items.push((vec![shown], label)),
        }
    }
    let mut line = String::new();
    for (shown, label) in items {
        let item = format!("{} {label}", shown.join(" "));
        let sep = if line.is_empty() { "" } else { "  " };
        if line.width() + sep.len() + item.width() > width {
            break;
        }
        line.push_str(sep);
        line.push_str(&item);
    }
    line
}

/// Splits a key line ("k what  k what  …") between its entries into lines
/// of at most `width` columns.
pub fn wrap(hint: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for item in hint.split("  ").filter(|i| !i.is_empty()) {
        match lines.last_mut() {
            Some(line) if line.width() + 2 + item.width() <= width => {
                line.push_str("  ");
                line.push_str(item);
            }
            _ => lines.push(item.to_string()),
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::KeyEventKind;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new_with_kind(code, modifiers, KeyEventKind::Press)
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Cmd {
        Print,
        Close,
        Back,
    }

    const TABLE: &[Binding<Cmd>] = &[
        Binding {
            keys: &[Key::Letter('p')],
            shown: "p",
            label: |c| c.key_print,
            command: Cmd::Print,
        },
        Binding {
            keys: &[Key::Letter('c')],
            shown: "c",
            label: |c| c.key_close,
            command: Cmd::Close,
        },
        Binding {
            keys: &[Key::Code(KeyCode::Esc)],
            shown: "Esc",
            label: |c| c.key_back,
            command: Cmd::Back,
        },
    ];

    #[test]
    fn letters_match_in_either_case_and_only_when_offered() {
        let all = |_| true;
        let p = |c| find(TABLE, &press(KeyCode::Char(c), KeyModifiers::NONE), all);
        assert_eq!(p('p'), Some(Cmd::Print));
        assert_eq!(p('P'), Some(Cmd::Print));
        assert_eq!(p('x'), None);
        let shifted = press(KeyCode::Char('C'), KeyModifiers::SHIFT);
        assert_eq!(find(TABLE, &shifted, all), Some(Cmd::Close));
        let ctrl = press(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(find(TABLE, &ctrl, all), None, "Ctrl-C is not c");
        assert!(Key::Ctrl('c').matches(&ctrl));
        assert!(Key::Ctrl('c').matches(&press(KeyCode::Char('C'), KeyModifiers::CONTROL)));
        assert!(!Key::Ctrl('c').matches(&press(KeyCode::Char('c'), KeyModifiers::NONE)));
        let esc = press(KeyCode::Esc, KeyModifiers::NONE);
        assert_eq!(find(TABLE, &esc, all), Some(Cmd::Back));
        let no_close = |c| c != Cmd::Close;
        let c = press(KeyCode::Char('c'), KeyModifiers::NONE);
        assert_eq!(find(TABLE, &c, no_close), None);
    }

    #[test]
    fn the_footer_lists_what_is_offered_and_what_fits() {
        let cat = crate::i18n::catalogue(credit_desk_proto::Lang::En);
        assert_eq!(
            footer(TABLE, cat, |_| true, 80),
            "p print  c close  Esc back"
        );
        assert_eq!(
            footer(TABLE, cat, |c| c != Cmd::Close, 80),
            "p print  Esc back"
        );
        assert_eq!(footer(TABLE, cat, |_| true, 16), "p print  c close");
        // Neighbours doing the same share the word; a key is written once.
        const MOVES: &[Binding<Cmd>] = &[
            Binding {
                keys: &[Key::Code(KeyCode::Down)],
                shown: "↑↓",
                label: |c| c.key_scroll,
                command: Cmd::Print,
            },
            Binding {
                keys: &[Key::Code(KeyCode::Up)],
                shown: "↑↓",
                label: |c| c.key_scroll,
                command: Cmd::Print,
            },
            Binding {
                keys: &[Key::Code(KeyCode::PageDown)],
                shown: "PgDn",
                label: |c| c.key_scroll,
                command: Cmd::Print,
            },
            Binding {
                keys: &[Key::Code(KeyCode::Esc)],
                shown: "Esc",
                label: |c| c.key_back,
                command: Cmd::Back,
            },
        ];
        assert_eq!(footer(MOVES, cat, |_| true, 80), "↑↓ PgDn scroll  Esc back");
    }

    #[test]
    fn key_lines_wrap_between_keys() {
        assert_eq!(
            wrap("s send  a reply  p print", 15),
            ["s send  a reply", "p print"]
        );
        assert_eq!(wrap("p 打印  Esc 返回", 80), ["p 打印  Esc 返回"]);
    }
}
