//! The help overlay (F1 or `?`): every key the workstation understands.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::app::App;
use crate::form::pad_to;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let cat = app.cat;
    let keys = cat.help_keys;
    let key_width = keys
        .iter()
        .map(|(k, _)| unicode_width::UnicodeWidthStr::width(*k))
        .max()
        .unwrap_or(0)
        + 2;
    let mut lines: Vec<Line> = keys
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(pad_to(k, key_width), app.theme.focused_label()),
                Span::raw(*what),
            ])
        })
        .collect();
    lines.push(Line::default());
    // Every key of the screen, wrapped between keys to the popup (at most
    // 70 columns, inside its border).
    let width = usize::from(70.min(area.width).saturating_sub(2));
    for line in crate::keys::wrap(&app.screen_hint(usize::MAX), width) {
        lines.push(Line::styled(line, app.theme.dim()));
    }
    lines.push(Line::styled(cat.help_close, app.theme.dim()));
    let height = (lines.len() as u16 + 2).min(area.height);
    let [popup] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(70.min(area.width))])
        .flex(Flex::Center)
        .areas(popup);
    // One column more on each side: a double-width character straddling the
    // border would otherwise hide the border's first cell.
    let x = popup.x.saturating_sub(1).max(area.x);
    let right = (popup.right() + 1).min(area.right());
    frame.render_widget(Clear, Rect::new(x, popup.y, right - x, popup.height));
    frame.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(Span::styled(
            format!(" {} ", cat.help_title),
            app.theme.title(),
        ))),
        popup,
    );
}
