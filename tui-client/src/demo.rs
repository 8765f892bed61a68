//! `credit-desk demo`: an embedded server on a local SQLite file, seeded on
//! first run, listening on a loopback port for this workstation only.

use std::path::Path;
use std::sync::Arc;

use credit_desk_server::clock::{Clock, SystemClock};
use credit_desk_server::db::Db;
use credit_desk_server::demo::{DEMO_ACCOUNTS, DEMO_PASSWORD, seed_if_empty};
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

pub fn info() -> DemoInfo {
    DemoInfo {
        accounts: DEMO_ACCOUNTS
            .iter()
            .map(|a| (a.username.to_string(), a.role))
            .collect(),
        password: DEMO_PASSWORD.to_string(),
    }
}
