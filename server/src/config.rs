//! Command line, environment (`CREDIT_DESK_*`) and an optional TOML file.
//! Precedence: command line, then environment, then the file, then the
//! built-in default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use serde::Deserialize;

use crate::clock::{HOUR_MS, MINUTE_MS};
use crate::context::{Policy, SessionPolicy};

pub const DEFAULT_DB: &str = "sqlite://./credit-desk.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50051";

#[derive(Debug, Parser)]
#[command(
    name = "credit-desk-server",
    version,
    about = "credit-desk gRPC server (综合征信中心)"
)]
pub struct Cli {
    /// TOML file with the same settings (db, listen, tls_cert, tls_key,
    /// session_idle_minutes, session_hours, log).
    #[arg(long, env = "CREDIT_DESK_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Log lines as text (default) or as JSON objects, one per line, for a
    /// log collector.
    #[arg(long, env = "CREDIT_DESK_LOG_FORMAT", global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    #[command(flatten)]
    pub db: DbArg,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Args, Default)]
pub struct DbArg {
    /// Database: sqlite://PATH (default ./credit-desk.db) or postgres://…
    #[arg(long, env = "CREDIT_DESK_DB", global = true)]
    pub db: Option<String>,
    /// Keys for personal data at rest (default: next to a SQLite database,
    /// else ./credit-desk.keys; made on first start).
    #[arg(long, env = "CREDIT_DESK_KEY_FILE", global = true, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The demo: an embedded server on a local SQLite file with demo data
    /// (seeded on first run), and the workstation opened in this terminal.
    Demo {
        /// The demo's SQLite file (never the --db of a real center).
        #[arg(long, value_name = "FILE", default_value = "credit-desk-demo.db")]
        file: PathBuf,
        /// Synthetic subjects (with records) added on first run.
        #[arg(long, default_value_t = 2000)]
        subjects: u64,
        /// Interface language: zh-CN (default) or en.
        #[arg(long, env = "CREDIT_DESK_LANG", default_value = "zh-CN")]
        lang: String,
        /// Run the demo as if today were this date (YYYY-MM-DD), at the
        /// real time of day: training on a chosen working day.
        #[arg(long, value_name = "DATE")]
        as_of: Option<chrono::NaiveDate>,
    },
    /// Create or migrate the database and create the first administrator.
    Init {
        #[arg(long, default_value = "admin")]
        admin_user: String,
        /// File holding the administrator's password (else asked for).
        #[arg(long)]
        admin_password_file: Option<PathBuf>,
        /// Name of the center, the root of the org tree.
        #[arg(long, default_value = "综合征信中心")]
        center_name: String,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Copy a SQLite database to FILE while servers keep serving (one
    /// consistent snapshot, checked). PostgreSQL: pg_dump (README).
    Backup {
        #[arg(long)]
        to: PathBuf,
    },
    /// Put a backup in place of the SQLite database (servers stopped).
    Restore {
        #[arg(long)]
        from: PathBuf,
        /// Replace an existing database file.
        #[arg(long)]
        replace: bool,
    },
    /// Serve gRPC.
    Serve {
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Import a department's data file (.xlsx or .csv) against its template.
    Import {
        /// Code of the source department (e.g. D-COURT, D-TAX).
        #[arg(long)]
        department: String,
        #[arg(long)]
        file: PathBuf,
        /// Check every row and report, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// The delivery period the file is for (2025H1, 2025FY); without
        /// it, the period of the file's latest record date.
        #[arg(long)]
        period: Option<String>,
        /// Language of the row errors: zh-CN (default) or en.
        #[arg(long, default_value = "zh-CN")]
        lang: String,
    },
    /// Generate a deterministic synthetic population (demo, benchmarks):
    /// persons and organisations with valid identifiers and records of
    /// every category. Creates the demo org tree if it is missing.
    Seed {
        #[arg(long)]
        subjects: u64,
        #[arg(long, default_value_t = 5)]
        records_per_subject: u32,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
    /// The working-day calendar: import a year, check dates.
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// The center's settings (consent validity, deadline warnings, notice attempts).
    Setting {
        #[command(subcommand)]
        command: SettingCommand,
    },
    /// The audit trail's hash chain (SM3).
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Keys for personal data at rest (identity numbers, phones, addresses).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Identifier tools.
    Id {
        #[command(subcommand)]
        command: IdCommand,
    },
    /// Manage operators from the command line.
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
    /// Print the SSH host key's fingerprint (making the key if there is
    /// none yet), for staff to compare with what their ssh client shows.
    SshHostKey {
        #[arg(long)]
        file: Option<PathBuf>,
    },
}

#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:50051).
    #[arg(long, env = "CREDIT_DESK_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// PEM certificate chain; with --tls-key turns on TLS.
    #[arg(long, env = "CREDIT_DESK_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    #[arg(long, env = "CREDIT_DESK_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Minutes without a call after which a session ends (default 30).
    #[arg(long, env = "CREDIT_DESK_SESSION_IDLE_MINUTES")]
    pub session_idle_minutes: Option<u32>,
    /// Hours after login at which a session ends (default 12).
    #[arg(long, env = "CREDIT_DESK_SESSION_HOURS")]
    pub session_hours: Option<u32>,
    /// Minutes a counter verification stays usable (default 120).
    #[arg(long, env = "CREDIT_DESK_VERIFICATION_MINUTES")]
    pub verification_minutes: Option<u32>,
    /// Also serve the workstation over SSH on this address (off unless
    /// given), e.g. 0.0.0.0:2222.
    #[arg(long, env = "CREDIT_DESK_SSH_LISTEN")]
    pub ssh_listen: Option<SocketAddr>,
    /// The SSH host key's file, made on first start (default
    /// ./credit-desk-ssh-host-key).
    #[arg(long, env = "CREDIT_DESK_SSH_HOST_KEY")]
    pub ssh_host_key: Option<PathBuf>,
    /// Serve Prometheus metrics on this address (off unless given), e.g.
    /// 127.0.0.1:9464.
    #[arg(long, env = "CREDIT_DESK_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Open connections one client address may hold (default 128): raise it
    /// when many terminals reach the server through one NAT gateway.
    #[arg(long, env = "CREDIT_DESK_CONNECTIONS_PER_ADDRESS")]
    pub connections_per_address: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum IdCommand {
    /// Check identity numbers and credit codes: the numbers given, or one
    /// per line on stdin; prints one JSON object per line.
    Check {
        numbers: Vec<String>,
        /// Language of the reasons: zh-CN (default) or en.
        #[arg(long, default_value = "zh-CN")]
        lang: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Append a new key to the key file; it becomes the current key. Restart
    /// every server on the new file, then run `keys rotate`.
    New,
    /// Reseal every value under the current key (in short transactions,
    /// beside running servers); afterwards the older keys can be removed.
    Rotate,
    /// How many values each key seals (and how many are in the clear).
    Status,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole chain: names the first row that was edited, deleted
    /// or inserted, and exits non-zero if there is one.
    Verify,
    /// Print the chain's head (its last row's number and SM3 hash) for a
    /// paper record: a later `verify` ending at the same hash proves that
    /// history up to it was not rewritten.
    Head,
    /// Check the whole chain, then keep a checkpoint at the last row before
    /// the month BEFORE (YYYY-MM, UTC): the rows up to it may then be
    /// archived (README: archiving), and `verify` starts there.
    Checkpoint {
        #[arg(long, value_name = "YYYY-MM")]
        before: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SettingCommand {
    /// Print every setting with its value, meaning and range.
    Show,
    /// Set one: `setting set deadline_warning_working_days 2`.
    Set { key: String, value: String },
}

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// Add or correct years from a CSV file of `date,kind,name` lines (kind
    /// `holiday` or `workday`); the years the file's dates fall in are
    /// replaced whole, and open deadlines are recomputed.
    Import { file: PathBuf },
    /// Print the years held and their exceptions as CSV (all years, or one).
    Show { year: Option<i32> },
    /// Print the date N working days after --from (day 0), as YYYY-MM-DD.
    AddWorkingDays {
        #[arg(long)]
        from: chrono::NaiveDate,
        #[arg(long)]
        days: u32,
    },
    /// Print `true` or `false`.
    IsWorkingDay { date: chrono::NaiveDate },
}

#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Add an operator; they must change the password at first login.
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        /// counter, center, liaison, bank, supervisor or admin.
        #[arg(long)]
        role: String,
        /// Code of the operator's org unit (e.g. CENTER, T-DASHA).
        #[arg(long)]
        unit: String,
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// Disable an operator and end their sessions.
    Disable { username: String },
    /// Set a new password (to be changed at next login); lifts a lockout.
    ResetPassword {
        username: String,
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// Register an SSH public key (an OpenSSH `.pub` line) for an operator.
    AddSshKey {
        username: String,
        /// The `.pub` file (e.g. ~/.ssh/id_ed25519.pub of the operator).
        #[arg(long)]
        key_file: PathBuf,
    },
    /// List an operator's SSH keys with their fingerprints.
    SshKeys { username: String },
    /// Remove an operator's SSH key by its fingerprint (SHA256:…).
    RemoveSshKey {
        username: String,
        fingerprint: String,
    },
}

/// The optional TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub db: Option<String>,
    pub key_file: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub session_idle_minutes: Option<u32>,
    pub session_hours: Option<u32>,
    pub verification_minutes: Option<u32>,
    pub ssh_listen: Option<SocketAddr>,
    pub ssh_host_key: Option<PathBuf>,
    pub metrics_listen: Option<SocketAddr>,
    pub connections_per_address: Option<usize>,
    /// tracing filter, e.g. "info" or "credit_desk_server=debug".
    pub log: Option<String>,
    /// "text" or "json".
    pub log_format: Option<LogFormat>,
}

impl FileConfig {
    pub fn load(path: Option<&Path>) -> anyhow::Result<FileConfig> {
        let Some(path) = path else {
            return Ok(FileConfig::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("--config {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("--config {}", path.display()))
    }

    pub fn db(&self, arg: &DbArg) -> String {
        arg.db
            .clone()
            .or_else(|| self.db.clone())
            .unwrap_or_else(|| DEFAULT_DB.to_string())
    }

    pub fn key_file(&self, arg: &DbArg) -> PathBuf {
        arg.key_file
            .clone()
            .or_else(|| self.key_file.clone())
            .unwrap_or_else(|| crate::vault::default_key_file(&self.db(arg)))
    }

    pub fn listen(&self, args: &ServeArgs) -> SocketAddr {
        args.listen
            .or(self.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("default address parses"))
    }

    /// Open connections one client address may hold.
    pub fn connections_per_address(&self, args: &ServeArgs) -> anyhow::Result<usize> {
        let n = args
            .connections_per_address
            .or(self.connections_per_address)
            .unwrap_or(crate::limits::MAX_CONNECTIONS_PER_ADDRESS);
        anyhow::ensure!(
            (1..=crate::limits::MAX_CONNECTIONS).contains(&n),
            "connections_per_address: must be 1–{}",
            crate::limits::MAX_CONNECTIONS
        );
        Ok(n)
    }

    /// Where the metrics endpoint listens, if it is to run at all.
    pub fn metrics_listen(&self, args: &ServeArgs) -> Option<SocketAddr> {
        args.metrics_listen.or(self.metrics_listen)
    }

    /// Where the SSH endpoint listens, if it is to run at all.
    pub fn ssh_listen(&self, args: &ServeArgs) -> Option<SocketAddr> {
        args.ssh_listen.or(self.ssh_listen)
    }

    pub fn ssh_host_key(&self, file: Option<&Path>) -> PathBuf {
        file.map(Path::to_path_buf)
            .or_else(|| self.ssh_host_key.clone())
            .unwrap_or_else(crate::ssh::default_host_key_path)
    }

    pub fn tls(&self, args: &ServeArgs) -> anyhow::Result<Option<crate::server::TlsFiles>> {
        let cert = args.tls_cert.clone().or_else(|| self.tls_cert.clone());
        let key = args.tls_key.clone().or_else(|| self.tls_key.clone());
        match (cert, key) {
            (Some(cert), Some(key)) => Ok(Some(crate::server::TlsFiles { cert, key })),
            (None, None) => Ok(None),
            _ => anyhow::bail!("tls_cert and tls_key: give both or neither"),
        }
    }

    pub fn sessions(&self, args: &ServeArgs) -> anyhow::Result<SessionPolicy> {
        let idle = args
            .session_idle_minutes
            .or(self.session_idle_minutes)
            .unwrap_or(30);
        let hours = args.session_hours.or(self.session_hours).unwrap_or(12);
        anyhow::ensure!(
            (1..=24 * 60).contains(&idle),
            "session_idle_minutes: must be 1–1440"
        );
        anyhow::ensure!((1..=72).contains(&hours), "session_hours: must be 1–72");
        Ok(SessionPolicy {
            idle_ms: i64::from(idle) * MINUTE_MS,
            absolute_ms: i64::from(hours) * HOUR_MS,
        })
    }
}

impl FileConfig {
    pub fn policy(&self, args: &ServeArgs) -> anyhow::Result<Policy> {
        let minutes = args
            .verification_minutes
            .or(self.verification_minutes)
            .unwrap_or(120);
        anyhow::ensure!(
            (5..=24 * 60).contains(&minutes),
            "verification_minutes: must be 5–1440"
        );
        Ok(Policy {
            verification_ms: i64::from(minutes) * MINUTE_MS,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_packaged_configuration_file_is_read() {
        let file: FileConfig = toml::from_str(include_str!("../../packaging/server.toml"))
            .expect("packaging/server.toml parses");
        assert_eq!(
            file.db.as_deref(),
            Some("sqlite:///var/lib/credit-desk/credit-desk.db")
        );
        assert!(file.key_file.is_some() && file.listen.is_some());
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        // A subcommand's own argument must not shadow a global one (the
        // demo's file once collided with the global --db at run time).
        let cli = Cli::try_parse_from(["credit-desk-server", "demo", "--file", "x.db"]).unwrap();
        assert!(
            matches!(cli.command, Command::Demo { ref file, .. } if file.as_os_str() == "x.db")
        );
        assert!(cli.db.db.is_none());
    }

    #[test]
    fn command_line_beats_file_beats_default() {
        let file: FileConfig = toml::from_str(
            "db = \"postgres://x/y\"\nlisten = \"0.0.0.0:6000\"\nsession_idle_minutes = 10",
        )
        .unwrap();
        let none = ServeArgs::default();
        assert_eq!(file.db(&DbArg::default()), "postgres://x/y");
        assert_eq!(
            file.db(&DbArg {
                db: Some("sqlite://a.db".into()),
                ..DbArg::default()
            }),
            "sqlite://a.db"
        );
        // The key file sits next to a SQLite database unless named.
        assert_eq!(
            FileConfig::default().key_file(&DbArg::default()),
            PathBuf::from("./credit-desk.db.keys")
        );
        assert_eq!(
            file.key_file(&DbArg::default()),
            PathBuf::from("credit-desk.keys")
        );
        assert_eq!(FileConfig::default().db(&DbArg::default()), DEFAULT_DB);
        assert_eq!(file.listen(&none).to_string(), "0.0.0.0:6000");
        assert_eq!(
            FileConfig::default().listen(&none).to_string(),
            DEFAULT_LISTEN
        );
        let s = file.sessions(&none).unwrap();
        assert_eq!(s.idle_ms, 10 * MINUTE_MS);
        assert_eq!(s.absolute_ms, 12 * HOUR_MS);
    }

    #[test]
    fn connections_per_address_default_file_and_flag() {
        let none = ServeArgs::default();
        assert_eq!(
            FileConfig::default()
                .connections_per_address(&none)
                .unwrap(),
            crate::limits::MAX_CONNECTIONS_PER_ADDRESS
        );
        let file: FileConfig = toml::from_str("connections_per_address = 600").unwrap();
        assert_eq!(file.connections_per_address(&none).unwrap(), 600);
        let flag = ServeArgs {
            connections_per_address: Some(5),
            ..ServeArgs::default()
        };
        assert_eq!(file.connections_per_address(&flag).unwrap(), 5);
        let zero: FileConfig = toml::from_str("connections_per_address = 0").unwrap();
        let err = zero.connections_per_address(&none).unwrap_err().to_string();
        assert!(
            err.contains("connections_per_address") && err.contains("1–1024"),
            "{err}"
        );
    }

    #[test]
    fn bad_settings_are_named() {
        assert!(toml::from_str::<FileConfig>("dbb = 1").is_err());
        let file: FileConfig = toml::from_str("session_hours = 0").unwrap();
        let err = file
            .sessions(&ServeArgs::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("session_hours"), "{err}");
        let file: FileConfig = toml::from_str("tls_cert = \"a.pem\"").unwrap();
        assert!(
            file.tls(&ServeArgs::default())
                .unwrap_err()
                .to_string()
                .contains("tls_key")
        );
    }

    #[test]
    fn cli_parses() {
        Cli::command_for_test();
        let cli = Cli::try_parse_from([
            "credit-desk-server",
            "serve",
            "--db",
            "sqlite://x.db",
            "--listen",
            "127.0.0.1:0",
        ])
        .unwrap();
        assert!(matches!(cli.command, Command::Serve { .. }));
        assert!(Cli::try_parse_from(["credit-desk-server", "serve", "--tls-cert", "a"]).is_err());
    }

    impl Cli {
        fn command_for_test() {
            use clap::CommandFactory;
            Cli::command().debug_assert();
        }
    }
}
