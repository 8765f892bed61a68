//! County scale on one SQLite file: 1 M subjects × 10 records and 100 k
//! open objection tickets (the first two change with arguments), seeded
//! once into FILE and reused by later runs. Prints the seed's time and the
//! file's size, how long the server takes to open it, and p50/p99 of:
//! Verify; the report (RunQuery) beside the bare SQL reads and writes it
//! makes; the queue's first page for the center, a township clerk and a
//! department liaison; a registry search by name and by identity number.
//!
//! `cargo bench -p credit-desk-server --bench county [-- FILE [SUBJECTS RECORDS]]`
//! (FILE defaults to target/county-bench.db; seeding 1 M × 10 takes about
//! ten minutes and 6 GB of disk).
#![allow(clippy::unwrap_used)] // test and bench support: a failure is the report

mod support;

use support::{authed, rid};

use std::path::PathBuf;
use std::time::Instant;

use credit_desk_proto::pb::{
    self, VerificationMethod, auth_client::AuthClient, identity_client::IdentityClient,
    objection_client::ObjectionClient, query_client::QueryClient, run_query_request::Basis,
};
use credit_desk_server::clock::{Clock, SystemClock};
use credit_desk_server::db::{Db, queries, sealed, subjects, tickets};
use credit_desk_server::server::{Running, ServeOptions};
use credit_desk_server::{demo, synth};
use prost::Message;
use sqlx::Row;
use tonic::codec::CompressionEncoding;
use tonic::transport::Channel;

const TICKETS: u64 = 100_000;
const SAMPLES: usize = 200;

/// "p50 … ms, p99 … ms" of milliseconds.
fn percentiles(mut ms: Vec<f64>) -> String {
    ms.sort_by(f64::total_cmp);
    let pick = |q: f64| ms[((ms.len() as f64 - 1.0) * q) as usize];
    format!("p50 {:.1} ms, p99 {:.1} ms", pick(0.5), pick(0.99))
}

fn file_bytes(path: &std::path::Path) -> u64 {
    ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok())
        .map(|m| m.len())
        .sum()
}

/// Seeds FILE unless an earlier run finished doing so (its marker file).
async fn seed_once(path: &std::path::Path, url: &str, subjects: u64, records: u32) {
    let done = path.with_extension("seeded");
    if done.exists() {
        println!(
            "reusing {} ({} subjects × {records} records as seeded)",
            path.display(),
            subjects
        );
        return;
    }
    // An interrupted seed is started over.
    for suffix in ["", "-wal", "-shm", ".keys"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let keys = credit_desk_server::vault::default_key_file(url);
    let db = sealed::open_with_keys(url, &keys).await.unwrap();
    let now = SystemClock.now_ms();
    demo::seed_if_empty(&db, now).await.unwrap();
    let t = Instant::now();
    let opts = synth::Options {
        subjects,
        records_per_subject: records,
        seed: 5,
        now_ms: now,
        start_index: 0,
    };
    let mut shown = 0;
    synth::generate(&db, &opts, |n| {
        if n >= shown + subjects / 10 {
            shown = n;
            println!("  {n} subjects, {:.0} s", t.elapsed().as_secs_f64());
        }
    })
    .await
    .unwrap();
    let seeded = t.elapsed().as_secs_f64();
    support::tickets::seed_tickets(&db, TICKETS, now).await;
    db.close().await;
    println!(
        "seeded {subjects} subjects × {records} records in {seeded:.0} s ({:.0} records/s), {TICKETS} open tickets; file {:.2} GB",
        (subjects * u64::from(records)) as f64 / seeded,
        file_bytes(path) as f64 / 1e9
    );
    std::fs::write(done, format!("{subjects} {records}\n")).unwrap();
}

/// The reads the report is made of, timed without the server around them.
async fn bare_report_reads(db: &Db, subject_id: &str, since_ms: i64) -> f64 {
    let mut conn = db.read().await.unwrap();
    let t = Instant::now();
    subjects::get(&mut conn, subject_id).await.unwrap().unwrap();
    queries::records_of(&mut conn, subject_id).await.unwrap();
    queries::notes_of_subject(&mut conn, subject_id)
        .await
        .unwrap();
    tickets::annotations_of_subject(&mut conn, subject_id)
        .await
        .unwrap();
    queries::query_records(&mut conn, subject_id, since_ms)
        .await
        .unwrap();
    t.elapsed().as_secs_f64() * 1000.0
}

/// The writes the report is made with (its query log row, the issued
/// report, an audit entry, the commit), timed without the server around
/// them: a SQLite commit waits for the disk (`synchronous = FULL`).
async fn bare_report_writes(
    db: &Db,
    subject_id: &str,
    operator: &(String, String),
    report: &[u8],
) -> f64 {
    let t = Instant::now();
    let now = SystemClock.now_ms();
    let id = credit_desk_server::db::new_id();
    let mut tx = db.begin_write().await.unwrap();
    queries::insert_log(
        &mut tx,
        queries::LogEntry {
            id: &id,
            at: now,
            operator_id: &operator.0,
            org_unit_id: &operator.1,
            terminal: "bench",
            subject_id,
            basis: "self",
            consent_id: None,
            verification_id: None,
            purpose: None,
            institution_id: None,
            allowed: true,
            reason: "",
            report_no: Some(&id),
            fee_applies: false,
        },
    )
    .await
    .unwrap();
    credit_desk_server::db::issued::insert(&mut tx, &id, &id, now, report)
        .await
        .unwrap();
    credit_desk_server::db::audit::record(
        &mut tx,
        Some(&operator.0),
        "query.attempt",
        &id,
        "bench",
        now,
    );
    tx.commit().await.unwrap();
    t.elapsed().as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let path = args
        .iter()
        .find(|a| a.parse::<u64>().is_err())
        .map_or_else(|| PathBuf::from("../target/county-bench.db"), PathBuf::from);
    let numbers: Vec<u64> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let subjects = numbers.first().copied().unwrap_or(1_000_000);
    let records = numbers.get(1).copied().unwrap_or(10) as u32;
    let url = format!("sqlite://{}", path.display());
    seed_once(&path, &url, subjects, records).await;
    println!("file {:.2} GB", file_bytes(&path) as f64 / 1e9);

    let t = Instant::now();
    let keys = credit_desk_server::vault::default_key_file(&url);
    let db = sealed::open_with_keys(&url, &keys).await.unwrap();
    db.ping().await.unwrap();
    println!("opened in {:.2} s", t.elapsed().as_secs_f64());
    let vault = credit_desk_server::vault::installed().unwrap();

    // People spread over the whole table, not its first pages.
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM subjects")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let mut people = Vec::new();
    for i in 0..20 {
        let rows = sqlx::query(
            "SELECT id, identifier, name FROM subjects WHERE kind = 'person'
              ORDER BY id LIMIT 10 OFFSET $1",
        )
        .bind(total * i / 20)
        .fetch_all(db.pool())
        .await
        .unwrap();
        for r in rows {
            let sealed: String = r.get("identifier");
            let id: String = r.get("id");
            people.push((id, vault.open(&sealed).unwrap(), r.get::<String, _>("name")));
        }
    }
    let server = Running::start(
        ServeOptions::new(db.clone(), std::sync::Arc::new(SystemClock)),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let channel = Channel::from_shared(server.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let login = async |who: &str| {
        AuthClient::new(channel.clone())
            .login(pb::LoginRequest {
                username: who.into(),
                password: demo::DEMO_PASSWORD.into(),
                terminal: "bench".into(),
            })
            .await
            .unwrap()
            .into_inner()
            .session_token
    };
    let counter = login("counter").await;
    let mut identity = IdentityClient::new(channel.clone());
    let mut query = QueryClient::new(channel.clone()).accept_compressed(CompressionEncoding::Zstd);
    let (mut verify_ms, mut report_ms, mut bare_ms) = (Vec::new(), Vec::new(), Vec::new());
    let mut bare_with_writes_ms = Vec::new();
    let operator: (String, String) =
        sqlx::query_as("SELECT id, org_unit_id FROM operators WHERE username = 'counter'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    for (id, identifier, name) in people.iter().cycle().take(SAMPLES) {
        let t = Instant::now();
        let v = identity
            .verify(authed(
                pb::VerifyRequest {
                    request_id: rid(),
                    identifier: identifier.clone(),
                    name: name.clone(),
                    method: VerificationMethod::IdCardReader as i32,
                    ..Default::default()
                },
                &counter,
            ))
            .await
            .unwrap()
            .into_inner();
        verify_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let answer = query
            .run_query(authed(
                pb::RunQueryRequest {
                    request_id: rid(),
                    subject_id: id.clone(),
                    basis: Some(Basis::SelfBasis(pb::SelfBasis {
                        verification_id: v.verification.unwrap().id,
                    })),
                    categories: vec![],
                    fee_confirmed: true,
                },
                &counter,
            ))
            .await
            .unwrap()
            .into_inner();
        report_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(answer.allowed, "{}", answer.refusal_code);
        let since = SystemClock.now_ms() - 2 * 365 * 86_400_000;
        let reads = bare_report_reads(&db, id, since).await;
        bare_ms.push(reads);
        let report = answer.report.unwrap_or_default().encode_to_vec();
        bare_with_writes_ms.push(reads + bare_report_writes(&db, id, &operator, &report).await);
    }
    println!("Verify: {}", percentiles(verify_ms));
    println!("RunQuery (the report): {}", percentiles(report_ms));
    println!("  the bare SQL reads it makes: {}", percentiles(bare_ms));
    println!(
        "  those reads and the writes it makes: {}",
        percentiles(bare_with_writes_ms)
    );

    let mut objection =
        ObjectionClient::new(channel.clone()).accept_compressed(CompressionEncoding::Zstd);
    for who in ["center", "counter", "liaison"] {
        let token = login(who).await;
        let mut ms = Vec::new();
        let mut rows = 0;
        for _ in 0..50 {
            let t = Instant::now();
            let page = objection
                .list_queue(authed(pb::ListQueueRequest::default(), &token))
                .await
                .unwrap()
                .into_inner();
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
            rows = page.items.len();
        }
        println!(
            "queue first page as {who} ({rows} rows): {}",
            percentiles(ms)
        );
    }

    let center = login("center").await;
    let mut registry = IdentityClient::new(channel);
    type Pick = fn(&(String, String, String)) -> &String;
    let by: [(&str, Pick); 2] = [("name", |p| &p.2), ("identity number", |p| &p.1)];
    for (what, pick) in by {
        let mut ms = Vec::new();
        for person in people.iter().cycle().take(SAMPLES) {
            let text = pick(person);
            let t = Instant::now();
            let found = registry
                .list_subjects(authed(
                    pb::ListSubjectsRequest {
                        query: text.clone(),
                        ..Default::default()
                    },
                    &center,
                ))
                .await
                .unwrap()
                .into_inner();
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
            assert!(!found.subjects.is_empty(), "{what} {text} found nothing");
        }
        println!("registry search by {what}: {}", percentiles(ms));
    }
    server.stop().await.unwrap();
}
