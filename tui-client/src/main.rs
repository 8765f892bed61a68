use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use credit_desk::launch::{self, Options};
use credit_desk_proto::Lang;

#[derive(Debug, Parser)]
#[command(
    name = "credit-desk",
    version,
    about = "credit-desk workstation (综合征信中心业务工作站)",
    after_help = "The demo with an embedded server: credit-desk-server demo"
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
    #[arg(long, env = "CREDIT_DESK_LANG", default_value = "zh-CN")]
    lang: String,
    /// CA certificate (PEM) to trust for an https:// server.
    #[arg(long, env = "CREDIT_DESK_CA_CERT")]
    ca_cert: Option<PathBuf>,
    /// Name of this terminal in the audit trail (default: host name).
    #[arg(long, env = "CREDIT_DESK_TERMINAL")]
    terminal_name: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    launch::log_to_file_if_asked()?;
    let ca_pem = match &cli.ca_cert {
        Some(p) => Some(std::fs::read(p).with_context(|| format!("--ca-cert {}", p.display()))?),
        None => None,
    };
    launch::open(Options {
        server: cli.server,
        lang: Lang::from_tag(&cli.lang),
        ca_pem,
        terminal_name: cli
            .terminal_name
            .unwrap_or_else(launch::default_terminal_name),
        demo: None,
        keep_reference: true,
    })
    .await
}
