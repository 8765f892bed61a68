//! Opening the workstation in the current terminal: what the `credit-desk`
//! binary does, and what the server's embedded demo does with its own
//! in-process server. Both go through here so they behave the same.

use std::io::IsTerminal;

use anyhow::Context as _;
use credit_desk_proto::Lang;

use crate::app::{App, DemoInfo};
use crate::net::Client;
use crate::reference_cache;
use crate::run;
use crate::theme::Theme;

pub struct Options {
    /// `http://…` or `https://…` of the server.
    pub server: String,
    pub lang: Lang,
    /// CA certificate (PEM) to trust for an https:// server.
    pub ca_pem: Option<Vec<u8>>,
    /// The terminal's name in the audit trail.
    pub terminal_name: String,
    /// Shown on the login screen when the server is the embedded demo.
    pub demo: Option<DemoInfo>,
    /// Keep the reference lists between runs (not for the demo, whose
    /// server has a new port each time).
    pub keep_reference: bool,
}

/// The terminal's name when none was given: the host name, else a word.
pub fn default_terminal_name() -> String {
    std::env::var("HOSTNAME").unwrap_or_else(|_| "workstation".into())
}

/// Logs would tear the screen: they go to a file, and only when
/// `CREDIT_DESK_LOG_FILE` names one.
pub fn log_to_file_if_asked() -> anyhow::Result<()> {
    if let Ok(path) = std::env::var("CREDIT_DESK_LOG_FILE") {
        let file =
            std::fs::File::create(&path).with_context(|| format!("CREDIT_DESK_LOG_FILE {path}"))?;
        tracing_subscriber::fmt()
            .with_writer(std::sync::Mutex::new(file))
            .with_ansi(false)
            .init();
    }
    Ok(())
}

/// Runs the workstation in this process's terminal until the clerk quits.
pub async fn open(options: Options) -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() {
        anyhow::bail!("credit-desk needs a terminal");
    }
    let client = Client::new(&options.server, options.lang, options.ca_pem)?;
    client.connect_early();
    let cache = options
        .keep_reference
        .then(|| reference_cache::path_for(&options.server))
        .flatten();
    let mut app = App::new(
        options.lang,
        Theme::from_env(),
        options.server,
        client.meter.clone(),
        options.demo,
        options.terminal_name,
    );
    if let Some(lists) = cache.as_deref().and_then(reference_cache::load) {
        app.hold_reference(lists);
    }
    let mut terminal = ratatui::init();
    let result = run::run(
        &mut terminal,
        &mut app,
        client,
        crate::local_input::events(),
        run::LocalTerminal,
    )
    .await;
    ratatui::restore();
    if let (Some(path), Some(held)) = (&cache, &app.reference) {
        // A cache: losing it costs one fetch, so a failure only logs.
        if let Err(e) = reference_cache::save(path, &held.lists) {
            tracing::debug!(error = %e, path = %path.display(), "reference cache not saved");
        }
    }
    result
}
