//! Report latency and size: a self-query (verify, then RunQuery) against an
//! in-process server on SQLite (and on PostgreSQL when `DATABASE_URL` is
//! set), for the demo's size and for 100 k subjects × 10 records. Prints
//! p50/p99 of the Verify and RunQuery round trips on loopback (identity
//! numbers, phones and addresses sealed with SM4, found by blind index)
//! and the report response's size, plain and zstd-compressed.
//! `cargo bench -p credit-desk-server --bench report [-- SUBJECTS RECORDS]`
#![allow(clippy::unwrap_used)] // test and bench support: a failure is the report

mod support;

use std::time::Instant;

use credit_desk_proto::pb::{
    self, VerificationMethod, auth_client::AuthClient, identity_client::IdentityClient,
    query_client::QueryClient, run_query_request::Basis,
};
use credit_desk_server::clock::{Clock, SystemClock};
use credit_desk_server::db::Db;
use credit_desk_server::server::{Running, ServeOptions};
use credit_desk_server::{demo, synth};
use prost::Message;
use sqlx::Row;
use tonic::codec::CompressionEncoding;
use tonic::transport::Channel;

fn authed<T>(m: T, token: &str) -> tonic::Request<T> {
    let mut r = tonic::Request::new(m);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    r
}

async fn measure(subjects: u64, records: u32) {
    let dir = tempfile::tempdir().unwrap();
    println!("SQLite:");
    measure_on(
        &format!("sqlite://{}", dir.path().join("r.db").display()),
        subjects,
        records,
    )
    .await;
    if let Some(pg) = support::ScratchPg::create("report").await {
        println!("PostgreSQL:");
        measure_on(&pg.url, subjects, records).await;
        pg.drop().await;
    }
}

async fn measure_on(url: &str, subjects: u64, records: u32) {
    let vault = credit_desk_server::vault::install_ephemeral();
    let db = Db::connect_and_migrate(url).await.unwrap();
    let now = SystemClock.now_ms();
    demo::seed_if_empty(&db, now).await.unwrap();
    let started = Instant::now();
    let opts = synth::Options {
        subjects,
        records_per_subject: records,
        seed: 7,
        now_ms: now,
        start_index: 0,
    };
    synth::generate(&db, &opts, |_| {}).await.unwrap();
    println!(
        "seeded {subjects} subjects × {records} records in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let people: Vec<(String, String, String)> = sqlx::query(
        "SELECT id, identifier, name FROM subjects WHERE kind = 'person' ORDER BY id LIMIT 2000",
    )
    .fetch_all(db.pool())
    .await
    .unwrap()
    .into_iter()
    .map(|r| {
        let sealed: String = r.get("identifier");
        (r.get("id"), vault.open(&sealed).unwrap(), r.get("name"))
    })
    .collect();
    let server = Running::start(
        ServeOptions::new(db, std::sync::Arc::new(SystemClock)),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let channel = Channel::from_shared(server.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let token = AuthClient::new(channel.clone())
        .login(pb::LoginRequest {
            username: "counter".into(),
            password: demo::DEMO_PASSWORD.into(),
            terminal: "bench".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .session_token;
    let mut identity = IdentityClient::new(channel.clone());
    let mut query = QueryClient::new(channel).accept_compressed(CompressionEncoding::Zstd);
    let (mut times, mut plain, mut packed) = (Vec::new(), Vec::new(), Vec::new());
    let mut verify_times = Vec::new();
    let step = (people.len() / 200).max(1);
    for (id, identifier, name) in people.iter().step_by(step).take(200) {
        let t = Instant::now();
        let v = identity
            .verify(authed(
                pb::VerifyRequest {
                    request_id: uuid::Uuid::now_v7().to_string(),
                    identifier: identifier.clone(),
                    name: name.clone(),
                    method: VerificationMethod::IdCardReader as i32,
                    ..Default::default()
                },
                &token,
            ))
            .await
            .unwrap()
            .into_inner()
            .verification
            .unwrap();
        verify_times.push(t.elapsed().as_secs_f64() * 1000.0);
        let req = pb::RunQueryRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            subject_id: id.clone(),
            basis: Some(Basis::SelfBasis(pb::SelfBasis {
                verification_id: v.id,
            })),
            categories: vec![],
            fee_confirmed: true,
        };
        let t = Instant::now();
        let resp = query
            .run_query(authed(req, &token))
            .await
            .unwrap()
            .into_inner();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(resp.allowed);
        let bytes = resp.encode_to_vec();
        packed.push(zstd::bulk::compress(&bytes, 3).unwrap().len());
        plain.push(bytes.len());
    }
    times.sort_by(|a, b| a.total_cmp(b));
    verify_times.sort_by(|a, b| a.total_cmp(b));
    plain.sort();
    packed.sort();
    let pick = |v: &[f64], q: f64| v[((v.len() as f64 - 1.0) * q) as usize];
    println!(
        "RunQuery ({} reports): p50 {:.1} ms, p99 {:.1} ms; report response median {} B plain, {} B zstd",
        times.len(),
        pick(&times, 0.5),
        pick(&times, 0.99),
        plain[plain.len() / 2],
        packed[packed.len() / 2]
    );
    println!(
        "Verify ({} verifications): p50 {:.1} ms, p99 {:.1} ms",
        verify_times.len(),
        pick(&verify_times, 0.5),
        pick(&verify_times, 0.99)
    );
    server.stop().await.unwrap();
}

/// What sealing costs per value, apart from everything else.
fn sealing_cost() {
    let vault = credit_desk_server::vault::install_ephemeral();
    let n = 100_000;
    let number = "441284196508120010";
    let t = Instant::now();
    let sealed: Vec<String> = (0..n).map(|_| vault.seal(number)).collect();
    let seal = t.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    let t = Instant::now();
    for s in &sealed {
        assert_eq!(vault.open(s).unwrap().len(), number.len());
    }
    let open = t.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    let t = Instant::now();
    for _ in 0..n {
        assert_eq!(vault.index(number).len(), 64);
    }
    let index = t.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    println!(
        "per identity number: SM4-GCM seal {seal:.1} µs, open {open:.1} µs; HMAC-SM3 blind index {index:.1} µs"
    );
}

#[tokio::main]
async fn main() {
    sealing_cost();
    let args: Vec<u64> = std::env::args().filter_map(|a| a.parse().ok()).collect();
    if let [subjects, records, ..] = args[..] {
        measure(subjects, records as u32).await;
        return;
    }
    println!("— demo size —");
    measure(2_000, 3).await;
    println!("— 100 k subjects × 10 records —");
    measure(100_000, 10).await;
}
