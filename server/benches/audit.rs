//! The audit chain: what it costs per write and how long `audit verify`
//! takes. Per backend it prints (1) the commit latency of a small write
//! transaction without an audit entry and with one, one writer at a time;
//! (2) the throughput of 8 concurrent writers without and with (every
//! audited write takes the chain's head row, so on PostgreSQL they queue on
//! it until commit); (3) the time to verify a chain of 1 M rows (argument 1
//! changes the count). SQLite, and PostgreSQL when `DATABASE_URL` is set.
//! `cargo bench -p credit-desk-server --bench audit [-- ROWS]`
#![allow(clippy::unwrap_used)] // test and bench support: a failure is the report

mod support;

use std::time::{Duration, Instant};

use credit_desk_server::db::Db;
use credit_desk_server::db::audit::{self, Entry};

const SERIAL: usize = 400;
const WRITERS: usize = 8;
const PER_WRITER: usize = 100;

#[tokio::main]
async fn main() {
    let rows: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("audit.db").display());
    run("SQLite", &url, rows).await;
    if let Some(pg) = support::ScratchPg::create("audit").await {
        run("PostgreSQL", &pg.url, rows).await;
        pg.drop().await;
    }
}

/// One small write (a setting), audited or not.
async fn write(db: &Db, audited: bool, n: usize) {
    let mut tx = db.begin_write().await.unwrap();
    sqlx::query("UPDATE settings SET value = $1 WHERE key = 'consent_max_validity_days'")
        .bind(format!("{}", 30 + n % 60))
        .execute(&mut *tx)
        .await
        .unwrap();
    if audited {
        tx.audit(Entry::new(
            Some("bench"),
            "setting.set",
            "consent_max_validity_days",
            &n.to_string(),
            n as i64,
        ));
    }
    tx.commit().await.unwrap();
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

async fn run(name: &str, url: &str, rows: u64) {
    credit_desk_server::vault::install_ephemeral();
    let db = Db::connect_and_migrate(url).await.unwrap();
    println!("{name}");
    for audited in [false, true] {
        let mut times = Vec::with_capacity(SERIAL);
        for n in 0..SERIAL {
            let t = Instant::now();
            write(&db, audited, n).await;
            times.push(t.elapsed());
        }
        times.sort();
        let label = if audited { "with audit" } else { "no audit  " };
        println!(
            "  one writer, {label}: p50 {:.3} ms, p99 {:.3} ms per write",
            pct(&times, 0.5),
            pct(&times, 0.99)
        );
    }
    for audited in [false, true] {
        let t = Instant::now();
        let tasks: Vec<_> = (0..WRITERS)
            .map(|w| {
                let db = db.clone();
                tokio::spawn(async move {
                    for n in 0..PER_WRITER {
                        write(&db, audited, w * PER_WRITER + n).await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let secs = t.elapsed().as_secs_f64();
        let label = if audited { "with audit" } else { "no audit  " };
        println!(
            "  {WRITERS} writers,  {label}: {:.0} writes/s",
            (WRITERS * PER_WRITER) as f64 / secs
        );
    }

    // A long chain, appended in batches as a busy center would over years.
    let t = Instant::now();
    let batch = 2_000u64;
    let mut written = 0u64;
    while written < rows {
        let n = batch.min(rows - written);
        let mut tx = db.begin_write().await.unwrap();
        for i in 0..n {
            let k = written + i;
            tx.audit(Entry::new(
                Some("01a241b0-ed18-72e4-9b57-53c79660bceb"),
                "query.attempt",
                "01a241b0-fdfc-742e-8518-6ba966fef76e",
                &format!(
                    "subject 01a241b0-edbc-7617-b917-678c8ac4e0bf self: allowed CD-20261123-{k:06}"
                ),
                1_795_395_600_000 + k as i64,
            ));
        }
        tx.commit().await.unwrap();
        written += n;
    }
    println!(
        "  appended {rows} rows in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let verdict = audit::verify(&db).await.unwrap();
    assert!(verdict.result.is_ok(), "{:?}", verdict.result);
    println!(
        "  audit verify: {} rows in {:.2} s",
        verdict.rows,
        t.elapsed().as_secs_f64()
    );
    db.close().await;
}
