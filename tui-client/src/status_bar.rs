//! The bottom line: server and link state, operator and unit, last round
//! trip, bytes on the wire this session. At 80 columns the less important
//! parts give way first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use crate::app::App;
use crate::i18n;

/// 1234 → "1.2K", for the byte counters.
pub fn human_bytes(n: u64) -> String {
    match n {
        0..1_000 => format!("{n}B"),
        1_000..1_000_000 => format!("{:.1}K", n as f64 / 1_000.0),
        _ => format!("{:.1}M", n as f64 / 1_000_000.0),
    }
}

/// The status line's text for a given width.
pub fn text(app: &App, width: usize) -> String {
    let cat = app.cat;
    let link = &app.link;
    let server = link
        .server
        .trim_start_matches("http://")
        .trim_start_matches("https://");
    let state = match (link.up, link.retry) {
        (true, _) => format!("● {server}"),
        (false, Some((attempt, secs))) => format!(
            "○ {server} {} · {}",
            cat.status_down,
            i18n::retrying(app.lang, attempt, secs)
        ),
        (false, None) => format!("○ {server} {}", cat.status_down),
    };
    let (who_long, who_short) = match &app.session {
        Some(s) => {
            let op = s.home.operator.clone().unwrap_or_default();
            let unit = s.home.org_unit.clone().unwrap_or_default();
            // One name for the operator in every width (the one staff know
            // each other by); only the unit shortens, to its code.
            (
                format!("{}@{}", op.display_name, unit.name),
                format!("{}@{}", op.display_name, unit.code),
            )
        }
        None => Default::default(),
    };
    let rtt = match &link.clerk_rtt_ms {
        Some(ms) => Some(ms.load(std::sync::atomic::Ordering::Relaxed)).filter(|&ms| ms > 0),
        None => link.rtt_ms,
    };
    let rtt = rtt
        .map(|ms| format!("{} {ms}ms", cat.status_rtt))
        .unwrap_or_default();
    let (sent, received) = link.bytes_shown;
    let bytes = format!("↑{} ↓{}", human_bytes(sent), human_bytes(received));
    // From the fullest line to the barest; the first that fits is used.
    let help = cat.status_help;
    let candidates: [&[&str]; 4] = [
        &[&state, &who_long, &rtt, &bytes, help],
        &[&state, &who_short, &rtt, &bytes, help],
        &[&state, &who_short, &rtt, &bytes],
        &[&state, &rtt, &bytes],
    ];
    let join = |parts: &&[&str]| {
        let kept: Vec<&str> = parts.iter().copied().filter(|p| !p.is_empty()).collect();
        format!(" {}", kept.join(" │ "))
    };
    candidates
        .iter()
        .map(join)
        .find(|line| line.width() <= width)
        .unwrap_or_else(|| join(&candidates[3]))
}

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let style = if app.link.up {
        app.theme.status_bar()
    } else {
        app.theme.error()
    };
    frame.render_widget(
        Paragraph::new(Line::styled(text(app, area.width as usize), style))
            .style(app.theme.status_bar()),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_like_a_person_would() {
        assert_eq!(human_bytes(0), "0B");
        assert_eq!(human_bytes(999), "999B");
        assert_eq!(human_bytes(1_234), "1.2K");
        assert_eq!(human_bytes(5_600_000), "5.6M");
    }
}
