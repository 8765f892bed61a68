use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::Parser;
use credit_desk_server::clock::{Clock, SystemClock};
use credit_desk_server::config::{
    AuditCommand, CalendarCommand, Cli, Command, DbArg, FileConfig, IdCommand, KeysCommand,
    LogFormat, OperatorCommand, SettingCommand,
};
use credit_desk_server::db::{self, Db};
use credit_desk_server::server::{self, ServeOptions};
use credit_desk_server::setup::{self, OperatorSpec};
use credit_desk_server::{demo, domain, id_check, import_cli, synth, vault};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let file = match FileConfig::load(cli.config.as_deref()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e:#}");
            return std::process::ExitCode::from(2);
        }
    };
    let filter = std::env::var("RUST_LOG")
        .ok()
        .or_else(|| file.log.clone())
        .unwrap_or_else(|| "info".into());
    // The demo owns the terminal: its logs go to a file, if anywhere.
    if !matches!(cli.command, Command::Demo { .. }) {
        let logs = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr);
        match cli.log_format.or(file.log_format) {
            Some(LogFormat::Json) => logs.json().init(),
            _ => logs.with_ansi(std::io::stderr().is_terminal()).init(),
        }
    }
    match run(cli.command, &cli.db, file).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn open(file: &FileConfig, arg: &DbArg) -> anyhow::Result<Db> {
    let url = file.db(arg);
    let db = db::sealed::open_with_keys(&url, &file.key_file(arg)).await?;
    tracing::info!(db = %db::redact(&url), "database ready");
    Ok(db)
}

async fn run(command: Command, db_arg: &DbArg, file: FileConfig) -> anyhow::Result<()> {
    let now = SystemClock.now_ms();
    match command {
        Command::Demo {
            file,
            subjects,
            lang,
            as_of,
        } => {
            // Before anything reads the clock: server, seed and workstation
            // all live on that day.
            if let Some(day) = as_of {
                credit_desk_proto::now::pretend_today(day);
            }
            demo::run(&file, subjects, credit_desk_proto::Lang::from_tag(&lang)).await?;
        }
        Command::Id {
            command: IdCommand::Check { numbers, lang },
        } => {
            let today = credit_desk_proto::now::today();
            let lang = credit_desk_proto::Lang::from_tag(&lang);
            let out = std::io::BufWriter::new(std::io::stdout().lock());
            let (good, bad) = if numbers.is_empty() {
                id_check::run(std::io::stdin().lock(), out, today, lang)?
            } else {
                id_check::run(numbers.join("\n").as_bytes(), out, today, lang)?
            };
            tracing::info!(valid = good, invalid = bad, "checked");
        }
        Command::Import {
            department,
            file: file_path,
            dry_run,
            period,
            lang,
        } => {
            let lang = credit_desk_proto::Lang::from_tag(&lang);
            let period = match period {
                Some(text) => {
                    let today = credit_desk_server::clock::local_date(now);
                    Some(
                        credit_desk_proto::periods::check("period", &text, today)
                            .map_err(|e| anyhow::anyhow!("--period: {}", e.message(lang)))?,
                    )
                }
                None => None,
            };
            let db = open(&file, db_arg).await?;
            let summary =
                import_cli::run(&db, &department, &file_path, dry_run, period, lang).await?;
            println!(
                "{}",
                credit_desk_server::messages::import::summary(lang, &summary)
            );
            if summary.rows_rejected > 0 {
                println!(
                    "{}",
                    lang.pick("被拒绝的行：", "rejected rows: ").to_string()
                        + &import_cli::error_file_path(&file_path)
                            .display()
                            .to_string()
                );
            }
        }
        Command::Seed {
            subjects,
            records_per_subject,
            seed,
        } => {
            let db = open(&file, db_arg).await?;
            demo::ensure_org_tree(&db, now).await?;
            let start_index = {
                let mut conn = db.read().await?;
                credit_desk_server::db::subjects::count(&mut conn).await? as u64
            };
            let bar = indicatif::ProgressBar::new(subjects);
            let started = std::time::Instant::now();
            let options = synth::Options {
                subjects,
                records_per_subject,
                seed,
                now_ms: now,
                start_index,
            };
            let counts = synth::generate(&db, &options, |done| bar.set_position(done)).await?;
            bar.finish_and_clear();
            let secs = started.elapsed().as_secs_f64();
            println!(
                "seeded {} subjects and {} records in {secs:.1} s ({:.0} records/s)",
                counts.subjects,
                counts.records,
                counts.records as f64 / secs.max(0.001)
            );
        }
        Command::Setting { command } => {
            let db = open(&file, db_arg).await?;
            match command {
                SettingCommand::Show => {
                    print!("{}", credit_desk_server::settings::show(&db).await?)
                }
                SettingCommand::Set { key, value } => {
                    credit_desk_server::settings::set(&db, &key, &value, now).await?;
                    println!("{key} = {}", value.trim());
                }
            }
        }
        Command::Calendar { command } => {
            let db = open(&file, db_arg).await?;
            let mut conn = db.read().await?;
            match command {
                CalendarCommand::Import { file: path } => {
                    drop(conn);
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    let days = credit_desk_proto::calendar::parse_csv(&text).map_err(|errors| {
                        let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
                        anyhow::anyhow!("{}: {}", path.display(), lines.join("; "))
                    })?;
                    let name = path.file_name().map_or_else(
                        || path.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    );
                    let edit = credit_desk_server::rules::calendar::Edit::File(days);
                    let changed = credit_desk_server::objections::change_calendar(
                        &db, &edit, &name, None, now, true,
                    )
                    .await?
                    .map_err(|e| anyhow::anyhow!("{}", e.describe(credit_desk_proto::Lang::En)))?;
                    for (year, d) in &changed.years {
                        println!(
                            "{year}: {} day(s), was {}; {} added, {} removed, {} changed",
                            d.days_after, d.days_before, d.added, d.removed, d.changed
                        );
                    }
                    println!("{} open deadline(s) recomputed", changed.moves.len());
                }
                CalendarCommand::Show { year } => {
                    let years = db::calendar::years(&mut conn).await?;
                    let mut days = Vec::new();
                    for y in years.iter().map(|y| y.year as i32) {
                        if year.is_none_or(|want| want == y) {
                            days.extend(db::calendar::days_of_year(&mut conn, y).await?);
                        }
                    }
                    if let Some(y) = year
                        && !years.iter().any(|r| r.year == i64::from(y))
                    {
                        bail!(
                            "{}",
                            credit_desk_proto::calendar::CalendarError::MissingYear(y)
                        );
                    }
                    print!("{}", credit_desk_proto::calendar::to_csv(&days));
                }
                CalendarCommand::AddWorkingDays { from, days } => {
                    let cal = db::calendar::load(&mut conn).await?;
                    println!("{}", cal.add_working_days(from, days)?);
                }
                CalendarCommand::IsWorkingDay { date } => {
                    let cal = db::calendar::load(&mut conn).await?;
                    println!("{}", cal.is_working_day(date)?);
                }
            }
        }
        Command::Audit { command } => {
            let db = open(&file, db_arg).await?;
            match command {
                AuditCommand::Verify => {
                    let started = std::time::Instant::now();
                    let verdict = db::audit::verify(&db).await?;
                    let took = started.elapsed().as_secs_f64();
                    match verdict.result {
                        Ok(()) => println!(
                            "audit chain intact: {} row(s) checked in {took:.2} s; head {} {}",
                            verdict.rows, verdict.head.seq, verdict.head.hash
                        ),
                        Err(broken) => bail!(
                            "audit chain broken: {broken} ({} row(s) read)",
                            verdict.rows
                        ),
                    }
                }
                AuditCommand::Head => {
                    let head = db::audit::head(&mut *db.read().await?).await?;
                    println!("{} {}", head.seq, head.hash);
                }
                AuditCommand::Checkpoint { before } => {
                    let month =
                        chrono::NaiveDate::parse_from_str(&format!("{before}-01"), "%Y-%m-%d")
                            .with_context(|| format!("--before {before:?}: expected YYYY-MM"))?;
                    let before_at = month
                        .and_time(chrono::NaiveTime::MIN)
                        .and_utc()
                        .timestamp_millis();
                    match db::audit::checkpoint(&db, before_at, now).await? {
                        Ok(c) => println!(
                            "checkpoint at row {} (before {month}): {}\nrows 1 to {} may now be \
                             archived; keep this line with the archive",
                            c.seq, c.hash, c.seq
                        ),
                        Err(why) => bail!("no checkpoint: {why}"),
                    }
                }
            }
        }
        Command::Keys { command } => match command {
            KeysCommand::New => {
                let path = file.key_file(db_arg);
                let existing = match std::fs::read_to_string(&path) {
                    Ok(text) => Some(vault::Vault::parse(&text)?),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(e) => return Err(e.into()),
                };
                let line = vault::Vault::new_key_line(existing.as_ref());
                let text = match existing {
                    Some(_) => line.clone(),
                    None => format!("{}{line}", vault::KEY_FILE_HEADER),
                };
                vault::write_private(&path, &text, true)?;
                let id = line.split_whitespace().next().unwrap_or_default();
                println!(
                    "key {id} added to {}: restart the servers on it, then run `keys rotate`",
                    path.display()
                );
            }
            KeysCommand::Rotate => {
                let db = open(&file, db_arg).await?;
                let vault = vault::installed()?;
                let started = std::time::Instant::now();
                let done = db::sealed::reseal(&db, vault, false).await?;
                println!(
                    "resealed {} value(s) and {} index(es) under key {} in {:.1} s",
                    done.values,
                    done.indexes,
                    vault.current_id(),
                    started.elapsed().as_secs_f64()
                );
            }
            KeysCommand::Status => {
                let db = open(&file, db_arg).await?;
                let vault = vault::installed()?;
                println!("current key: {}", vault.current_id());
                for (key, n) in db::sealed::census(&mut *db.read().await?).await? {
                    println!("{key}\t{n}");
                }
            }
        },
        Command::Backup { to } => {
            let db = open(&file, db_arg).await?;
            let done = credit_desk_server::backup::backup(&db, &to).await?;
            println!(
                "backed up to {} ({} bytes, audit trail up to entry {}); keep the key file apart",
                to.display(),
                done.bytes,
                done.audit_seq
            );
        }
        Command::Restore { from, replace } => {
            let seq = credit_desk_server::backup::restore(&from, &file.db(db_arg), replace).await?;
            println!(
                "restored {} (audit trail up to entry {seq}); start the servers with its key file",
                from.display()
            );
        }
        Command::Migrate => {
            open(&file, db_arg).await?;
        }
        Command::Init {
            admin_user,
            admin_password_file,
            center_name,
        } => {
            let db = open(&file, db_arg).await?;
            let center = setup::ensure_center(&db, &center_name, now).await?;
            let password = read_password(admin_password_file.as_deref(), &admin_user)?;
            setup::add_operator(
                &db,
                OperatorSpec {
                    username: &admin_user,
                    display_name: "系统管理员",
                    role: credit_desk_proto::pb::Role::Admin,
                    unit_code: &center.code,
                    password: &password,
                    must_change_password: false,
                },
                now,
            )
            .await?;
            println!(
                "initialised: center {} ({}), administrator {admin_user}",
                center.name, center.code
            );
        }
        Command::Serve { serve } => {
            let mut options = ServeOptions::new(open(&file, db_arg).await?, Arc::new(SystemClock));
            options.sessions = file.sessions(&serve)?;
            options.policy = file.policy(&serve)?;
            options.tls = file.tls(&serve)?;
            options.limits.per_address = file.connections_per_address(&serve)?;
            let listen = file.listen(&serve);
            if let Some(ssh_listen) = file.ssh_listen(&serve) {
                let host_key = file.ssh_host_key(serve.ssh_host_key.as_deref());
                options.ssh =
                    Some(credit_desk_server::ssh::SshOptions::bind(ssh_listen, &host_key).await?);
            }
            if let Some(addr) = file.metrics_listen(&serve) {
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen on {addr} for metrics"))?;
                options.metrics = Some(listener);
            }
            let shutdown = server::shutdown_signal()?;
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            server::serve(options, listener, shutdown).await?;
        }
        Command::SshHostKey { file: key_file } => {
            let path = file.ssh_host_key(key_file.as_deref());
            let key = credit_desk_server::ssh::host_key::load_or_create(&path)?;
            println!(
                "{} ({})",
                credit_desk_server::ssh::host_key::fingerprint(&key),
                path.display()
            );
        }
        Command::Operator { command } => {
            let db = open(&file, db_arg).await?;
            match command {
                OperatorCommand::Add {
                    username,
                    display_name,
                    role,
                    unit,
                    password_file,
                } => {
                    let role = domain::role_from_str(&role).with_context(|| {
                        format!("--role {role:?}: use counter, center, liaison, bank, supervisor or admin")
                    })?;
                    let password = read_password(password_file.as_deref(), &username)?;
                    setup::add_operator(
                        &db,
                        OperatorSpec {
                            username: &username,
                            display_name: &display_name,
                            role,
                            unit_code: &unit,
                            password: &password,
                            must_change_password: true,
                        },
                        now,
                    )
                    .await?;
                    println!("added operator {username}");
                }
                OperatorCommand::Disable { username } => {
                    setup::disable_operator(&db, &username, now).await?;
                    println!("disabled operator {username}");
                }
                OperatorCommand::ResetPassword {
                    username,
                    password_file,
                } => {
                    let password = read_password(password_file.as_deref(), &username)?;
                    setup::reset_password(&db, &username, &password, now).await?;
                    println!("password of {username} reset; it must be changed at next login");
                }
                OperatorCommand::AddSshKey { username, key_file } => {
                    let line = std::fs::read_to_string(&key_file)
                        .with_context(|| format!("--key-file {}", key_file.display()))?;
                    let key = setup::add_ssh_key(&db, &username, &line, now).await?;
                    println!(
                        "{} {} registered for {username}",
                        key.fingerprint, key.comment
                    );
                }
                OperatorCommand::SshKeys { username } => {
                    for key in setup::ssh_keys(&db, &username).await? {
                        println!("{} {}", key.fingerprint, key.comment);
                    }
                }
                OperatorCommand::RemoveSshKey {
                    username,
                    fingerprint,
                } => {
                    setup::remove_ssh_key(&db, &username, &fingerprint, now).await?;
                    println!("{fingerprint} removed from {username}");
                }
            }
        }
    }
    Ok(())
}

/// A password from a file (first line) or typed twice at a prompt.
fn read_password(file: Option<&Path>, username: &str) -> anyhow::Result<String> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("password file {}", path.display()))?;
        return Ok(text.lines().next().unwrap_or_default().to_string());
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "no password file given and no terminal to ask on (use --admin-password-file / --password-file)"
        );
    }
    let first = rpassword::prompt_password(format!("{username} 的密码 / password: "))?;
    let second = rpassword::prompt_password("再输一次 / again: ")?;
    if first != second {
        bail!("the two passwords differ");
    }
    Ok(first)
}
