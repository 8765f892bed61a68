//! `credit-desk-server demo`: an embedded server on a local SQLite file,
//! seeded on first run, listening on a loopback port, with the workstation
//! opened in this terminal, in-process.

use std::path::Path;
use std::sync::Arc;

use credit_desk::app::DemoInfo;
use credit_desk_proto::Lang;

use super::{DEMO_ACCOUNTS, DEMO_PASSWORD, seed_if_empty};
use crate::clock::{Clock, SystemClock, local_date};
use crate::db::{Db, org_units};
use crate::intake::{self, Job};
use crate::server::{Running, ServeOptions};
use crate::synth;

/// The example department files (with some bad rows, as real ones have):
/// the demo people 李建国 and 黄志强 then have court and tax records, and
/// the import log has something in it. Tests import them too.
pub const EXAMPLE_FILES: [(&str, &str, &[u8]); 2] = [
    ("D-COURT", "court-2025H1.xlsx", COURT_EXAMPLE),
    ("D-TAX", "tax-2025H1.csv", TAX_EXAMPLE),
];
pub const COURT_EXAMPLE: &[u8] = include_bytes!("court-2025H1.xlsx");
pub const TAX_EXAMPLE: &[u8] = include_bytes!("tax-2025H1.csv");

pub struct Demo {
    pub server: Running,
    pub info: DemoInfo,
    pub seeded: bool,
}

/// Opens (seeding on first run) the demo database and starts a server on
/// a loopback port for this process only.
pub async fn start(db_path: &Path, synthetic_subjects: u64) -> anyhow::Result<Demo> {
    let url = format!("sqlite://{}", db_path.display());
    let db = crate::db::sealed::open_with_keys(&url, &crate::vault::default_key_file(&url)).await?;
    let now = SystemClock.now_ms();
    let seeded = seed_if_empty(&db, now).await?;
    if seeded && synthetic_subjects > 0 {
        // A county's worth of people in miniature, so lists and reports
        // have something in them.
        let options = synth::Options {
            subjects: synthetic_subjects,
            records_per_subject: 3,
            seed: 2026,
            now_ms: now,
            start_index: 0,
        };
        synth::generate(&db, &options, |_| {}).await?;
    }
    if seeded {
        import_example_files(&db, now).await?;
        super::seed_query_history(&db, now).await?;
    }
    let server = Running::start(
        ServeOptions::new(db, Arc::new(SystemClock)),
        "127.0.0.1:0".parse()?,
    )
    .await?;
    Ok(Demo {
        server,
        info: info(),
        seeded,
    })
}

async fn import_example_files(db: &Db, now: i64) -> anyhow::Result<()> {
    for (code, name, bytes) in EXAMPLE_FILES {
        let department = {
            let mut conn = db.read().await?;
            org_units::get_by_code(&mut conn, code)
                .await?
                .ok_or_else(|| anyhow::anyhow!("demo department {code} missing"))?
        };
        let job = Job {
            department: &department,
            file_name: name,
            bytes,
            operator_id: None,
            dry_run: false,
            period: None,
            lang: Lang::Zh,
            today: local_date(now),
            now_ms: now,
            cancel: None,
        };
        intake::run(db, job, |_, _| {})
            .await
            .map_err(|e| anyhow::anyhow!(e.to_string()))?;
    }
    Ok(())
}

/// What the login screen shows of the demo accounts.
pub fn info() -> DemoInfo {
    DemoInfo {
        accounts: DEMO_ACCOUNTS
            .iter()
            .map(|a| (a.username.to_string(), a.role))
            .collect(),
        password: DEMO_PASSWORD.to_string(),
    }
}

/// The whole demo: server up, workstation in this terminal, server down.
pub async fn run(db_path: &Path, synthetic_subjects: u64, lang: Lang) -> anyhow::Result<()> {
    credit_desk::launch::log_to_file_if_asked()?;
    let demo = start(db_path, synthetic_subjects).await?;
    let cat = credit_desk::i18n::catalogue(lang);
    eprintln!(
        "{} {} ({}) — {}: {}",
        cat.demo_accounts,
        DEMO_ACCOUNTS
            .iter()
            .map(|a| a.username)
            .collect::<Vec<_>>()
            .join(", "),
        db_path.display(),
        cat.demo_password,
        DEMO_PASSWORD
    );
    let result = credit_desk::launch::open(credit_desk::launch::Options {
        server: demo.server.url(),
        lang,
        ca_pem: None,
        terminal_name: credit_desk::launch::default_terminal_name(),
        demo: Some(demo.info.clone()),
        keep_reference: false,
    })
    .await;
    demo.server.stop().await?;
    result
}
