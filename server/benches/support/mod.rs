//! What the benches share: a scratch PostgreSQL database next to the one
//! `DATABASE_URL` names, dropped afterwards; open tickets in bulk.
#![allow(clippy::unwrap_used)] // test and bench support: a failure is the report
#![allow(dead_code)] // each bench uses its part

pub mod tickets;

use sqlx::{Connection, Executor};

/// A request carrying a workstation's session token.
pub fn authed<T>(m: T, token: &str) -> tonic::Request<T> {
    let mut r = tonic::Request::new(m);
    r.metadata_mut().insert(
        credit_desk_proto::SESSION_METADATA_KEY,
        token.parse().unwrap(),
    );
    r
}

/// A fresh request id.
pub fn rid() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub struct ScratchPg {
    pub admin_url: String,
    pub name: String,
    pub url: String,
}

impl ScratchPg {
    /// None (and a line saying so) when `DATABASE_URL` is not set.
    pub async fn create(tag: &str) -> Option<ScratchPg> {
        let Ok(admin_url) = std::env::var("DATABASE_URL") else {
            println!("PostgreSQL: skipped (DATABASE_URL not set)");
            return None;
        };
        let name = format!("cd_bench_{tag}_{}", std::process::id());
        let mut conn = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .unwrap();
        let url = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);
        Some(ScratchPg {
            admin_url,
            name,
            url,
        })
    }

    pub async fn drop(self) {
        let mut conn = sqlx::PgConnection::connect(&self.admin_url).await.unwrap();
        conn.execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {} WITH (FORCE)",
            self.name
        )))
        .await
        .unwrap();
    }
}
