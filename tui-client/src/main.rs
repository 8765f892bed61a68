use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use credit_desk::app::App;
use credit_desk::net::Client;
use credit_desk::theme::Theme;
use credit_desk::{demo, i18n, run};
use credit_desk_proto::Lang;

#[derive(Debug, Parser)]
#[command(
    name = "credit-desk",
    version,
    about = "credit-desk workstation (综合征信中心业务工作站)"
)]
struct Cli {
    /// Server address, e.g. http://10.1.0.5:50051 or https://credit.example:50051
    #[arg(
        long,
        env = "CREDIT_DESK_SERVER",
        default_value = "http://127.0.0.1:50051"
    )]
    server: String,
    /// Interface language: zh-CN (default) or en.
    #[arg(long, env = "CREDIT_DESK_LANG", default_value = "zh-CN", global = true)]
    lang: String,
    /// CA certificate (PEM) to trust for an https:// server.
    #[arg(long, env = "CREDIT_DESK_CA_CERT")]
    ca_cert: Option<PathBuf>,
    /// Name of this terminal in the audit trail (default: host name).
    #[arg(long, env = "CREDIT_DESK_TERMINAL")]
    terminal_name: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run an embedded server on a local SQLite file with demo data, and
    /// open the workstation on it.
    Demo {
        #[arg(long, default_value = "credit-desk-demo.db")]
        db: PathBuf,
        /// Synthetic subjects (with records) added on first run.
        #[arg(long, default_value_t = 2000)]
        subjects: u64,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let lang = Lang::from_tag(&cli.lang);
    let terminal_name = cli
        .terminal_name
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "workstation".into());
    // Logs would tear the screen: they go to a file, and only when asked.
    if let Ok(path) = std::env::var("CREDIT_DESK_LOG_FILE") {
        let file =
            std::fs::File::create(&path).with_context(|| format!("CREDIT_DESK_LOG_FILE {path}"))?;
        tracing_subscriber::fmt()
            .with_writer(std::sync::Mutex::new(file))
            .with_ansi(false)
            .init();
    }

    let (server, demo) = match cli.command {
        Some(Command::Demo { db, subjects }) => {
            let demo = demo::start(&db, subjects).await?;
            let cat = i18n::catalogue(lang);
            eprintln!(
                "{} {} ({}) — {}: {}",
                cat.demo_accounts,
                demo.info
                    .accounts
                    .iter()
                    .map(|a| a.0.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                db.display(),
                cat.demo_password,
                demo.info.password
            );
            (demo.server.url(), Some(demo))
        }
        None => (cli.server.clone(), None),
    };
    if !std::io::stdout().is_terminal() {
        anyhow::bail!("credit-desk needs a terminal");
    }
    let ca = match &cli.ca_cert {
        Some(p) => Some(std::fs::read(p).with_context(|| format!("--ca-cert {}", p.display()))?),
        None => None,
    };
    let client = Client::new(&server, lang, ca)?;
    let mut app = App::new(
        lang,
        Theme::from_env(),
        server,
        client.meter.clone(),
        demo.as_ref().map(|d| d.info.clone()),
        terminal_name,
    );
    let mut terminal = ratatui::init();
    let result = run::run(
        &mut terminal,
        &mut app,
        client,
        ratatui::crossterm::event::EventStream::new(),
    )
    .await;
    ratatui::restore();
    if let Some(demo) = demo {
        demo.server.stop().await?;
    }
    result
}
