//! Colours, limited to the 16 ANSI colours thin terminals have. With
//! `NO_COLOR` set everything is drawn in the terminal's own colours and
//! emphasis uses only bold, reverse and text markers.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// Colour unless the `NO_COLOR` convention (no-color.org) asks otherwise.
    pub fn from_env() -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme { color: !no_color }
    }

    /// For a terminal at the far end of an SSH connection: colour when its
    /// `TERM` has colours and it did not send `NO_COLOR`; this process's
    /// own environment plays no part.
    pub fn for_terminal(term: &str, no_color: bool) -> Theme {
        let term = term.trim().to_ascii_lowercase();
        let monochrome = term.is_empty()
            || term == "dumb"
            || term.starts_with("vt1")
            || term.starts_with("vt2")
            || term.ends_with("-m")
            || term.contains("-mono");
        Theme {
            color: !no_color && !monochrome,
        }
    }

    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn title(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn label(self) -> Style {
        Style::new()
    }
    pub fn focused_label(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
    pub fn input(self) -> Style {
        Style::new().add_modifier(Modifier::UNDERLINED)
    }
    pub fn error(self) -> Style {
        self.fg(Color::LightRed).add_modifier(Modifier::BOLD)
    }
    pub fn ok(self) -> Style {
        self.fg(Color::LightGreen)
    }
    pub fn dim(self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }
    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }
    pub fn status_bar(self) -> Style {
        if self.color {
            Style::new().bg(Color::Blue).fg(Color::White)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }
    pub fn warning(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
}

#[cfg(test)]
mod tests {
    use super::Theme;

    #[test]
    fn a_remote_terminal_gets_colours_from_its_own_term() {
        for (term, no_color, color) in [
            ("xterm-256color", false, true),
            ("screen", false, true),
            ("linux", false, true),
            ("xterm-256color", true, false),
            ("dumb", false, false),
            ("vt100", false, false),
            ("vt220", false, false),
            ("xterm-mono", false, false),
            ("", false, false),
        ] {
            assert_eq!(Theme::for_terminal(term, no_color).color, color, "{term:?}");
        }
    }
}
