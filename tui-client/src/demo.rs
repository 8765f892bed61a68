//! `credit-desk demo`: an embedded server on a local SQLite file, seeded on
//! first run, listening on a loopback port for this workstation only.

use std::path::Path;
use std::sync::Arc;

use credit_desk_server::clock::{Clock, SystemClock};
use credit_desk_server::db::Db;
use credit_desk_server::demo::{DEMO_ACCOUNTS, DEMO_PASSWORD, seed_if_empty};
use credit_desk_server::server::{Running, ServeOptions};

use crate::app::DemoInfo;

pub struct Demo {
    pub server: Running,
    pub info: DemoInfo,
    pub seeded: bool,
}

pub async fn start(db_path: &Path) -> anyhow::Result<Demo> {
    let db = Db::connect_and_migrate(&format!("sqlite://{}", db_path.display())).await?;
    let seeded = seed_if_empty(&db, SystemClock.now_ms()).await?;
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
