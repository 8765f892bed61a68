//! `credit-desk demo`: an embedded server on a local SQLite file, seeded on
//! first run, listening on a loopback port for this workstation only.

use std::path::Path;
use std::sync::Arc;

use credit_desk_server::clock::{Clock, SystemClock, local_date};
use credit_desk_server::db::{Db, org_units};
use credit_desk_server::demo::{DEMO_ACCOUNTS, DEMO_PASSWORD, seed_if_empty};
use credit_desk_server::intake::{self, Job};
use credit_desk_server::server::{Running, ServeOptions};
use credit_desk_server::synth;

use crate::app::DemoInfo;

pub struct Demo {
    pub server: Running,
    pub info: DemoInfo,
    pub seeded: bool,
}

pub async fn start(db_path: &Path, synthetic_subjects: u64) -> anyhow::Result<Demo> {
    let db = Db::connect_and_migrate(&format!("sqlite://{}", db_path.display())).await?;
    let now = SystemClock.now_ms();
    let seeded = seed_if_empty(&db, now).await?;
    if seeded && synthetic_subjects > 0 {
        // A county's worth of people in miniature, so lists and (later)
        // reports have something in them.
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

/// The example department files (with their bad rows): the demo people
/// 李建国 and 黄志强 then have court and tax records in their reports, and
/// the import log has something in it.
async fn import_example_files(db: &Db, now: i64) -> anyhow::Result<()> {
    const FILES: [(&str, &str, &[u8]); 2] = [
        (
            "D-COURT",
            "court-2025H1.xlsx",
            include_bytes!("../../tests/fixtures/court-2025H1.xlsx"),
        ),
        (
            "D-TAX",
            "tax-2025H1.csv",
            include_bytes!("../../tests/fixtures/tax-2025H1.csv"),
        ),
    ];
    for (code, name, bytes) in FILES {
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
            lang: credit_desk_proto::Lang::Zh,
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

pub fn info() -> DemoInfo {
    DemoInfo {
        accounts: DEMO_ACCOUNTS
            .iter()
            .map(|a| (a.username.to_string(), a.role))
            .collect(),
        password: DEMO_PASSWORD.to_string(),
    }
}
