//! Counter work during a large import: a 250 k-row tax CSV (argument 1
//! changes the count) is imported through the RPC while a counter clerk
//! verifies people (a short write) and logs in (a hash and a write) as fast
//! as the server answers. Prints the counters' p50/p99/max latency and
//! errors with no import running and during the import, and how long the
//! import took. SQLite, and PostgreSQL when `DATABASE_URL` is set.
//! `cargo bench -p credit-desk-server --bench import_load [-- ROWS]`
#![allow(clippy::unwrap_used)] // test and bench support: a failure is the report

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use credit_desk_proto::pb::{
    self, VerificationMethod, auth_client::AuthClient, identity_client::IdentityClient,
    intake_client::IntakeClient,
};
use credit_desk_server::clock::{Clock, SystemClock};
use credit_desk_server::db::{Db, org_units};
use credit_desk_server::demo::{self, DEMO_PEOPLE};
use credit_desk_server::server::{Running, ServeOptions};
use credit_desk_server::synth;
use tonic::transport::Channel;

fn tax_csv(rows: u32) -> Vec<u8> {
    let mut out = String::from(
        "纳税人识别号,纳税人名称,欠税编号,欠税起始日期,缴清日期,欠税金额（元）,状态,备注\n",
    );
    for i in 0..rows {
        out.push_str(&format!(
            "{},纳税人{i},QS-{i:07},2025-01-15,,{}.50,未缴,个人所得税\n",
            synth::person_number(u64::from(i)),
            i % 5000
        ));
    }
    out.into_bytes()
}

fn authed<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut req = tonic::Request::new(message);
    req.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    req
}

async fn login(channel: &Channel, username: &str) -> Result<String, tonic::Status> {
    Ok(AuthClient::new(channel.clone())
        .login(pb::LoginRequest {
            username: username.into(),
            password: demo::DEMO_PASSWORD.into(),
            terminal: "bench".into(),
        })
        .await?
        .into_inner()
        .session_token)
}

#[derive(Default)]
struct Latencies {
    /// Start of each call that took over a second (since the counter began).
    slow: Vec<(f64, f64)>,
    verify: Vec<f64>,
    login: Vec<f64>,
    errors: Vec<String>,
}

/// A counter clerk's work until `stop`: a verification every call, a login
/// every tenth.
async fn counter(channel: Channel, stop: Arc<AtomicBool>) -> Latencies {
    let token = login(&channel, "counter").await.unwrap();
    let mut identity = IdentityClient::new(channel.clone());
    let mut out = Latencies::default();
    let mut i = 0usize;
    let began = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let (number, name, ..) = DEMO_PEOPLE[i % DEMO_PEOPLE.len()];
        let t = Instant::now();
        let r = identity
            .verify(authed(
                pb::VerifyRequest {
                    request_id: uuid::Uuid::now_v7().to_string(),
                    identifier: number.into(),
                    name: name.into(),
                    method: VerificationMethod::IdCardReader as i32,
                    ..Default::default()
                },
                &token,
            ))
            .await;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        out.verify.push(ms);
        if ms > 1000.0 {
            out.slow.push(((t - began).as_secs_f64(), ms));
        }
        if let Err(e) = r {
            out.errors.push(format!("verify: {e:?}"));
        }
        if i.is_multiple_of(10) {
            let t = Instant::now();
            let r = login(&channel, "counter").await;
            out.login.push(t.elapsed().as_secs_f64() * 1000.0);
            if let Err(e) = r {
                out.errors.push(format!("login: {e:?}"));
            }
        }
        i += 1;
        // A clerk's pace is far slower; this keeps the server busy.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    out
}

fn summary(label: &str, mut v: Vec<f64>) -> String {
    if v.is_empty() {
        return format!("{label}: none");
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let pick = |q: f64| v[((v.len() as f64 - 1.0) * q) as usize];
    format!(
        "{label} ({} calls): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        v.len(),
        pick(0.5),
        pick(0.99),
        v[v.len() - 1]
    )
}

fn report(phase: &str, l: Latencies) {
    println!(
        "  {phase}: {}; {}; {} errors",
        summary("verify", l.verify),
        summary("login", l.login),
        l.errors.len()
    );
    for (at, ms) in &l.slow {
        println!("    a verification at {at:.1} s took {ms:.0} ms");
    }
    for e in l.errors.iter().take(3) {
        println!("    e.g. {e}");
    }
}

async fn measure_on(url: &str, label: &str, csv: &[u8]) {
    credit_desk_server::vault::install_ephemeral();
    let db = Db::connect_and_migrate(url).await.unwrap();
    let now = SystemClock.now_ms();
    demo::seed_if_empty(&db, now).await.unwrap();
    let tax = {
        let mut conn = db.read().await.unwrap();
        org_units::get_by_code(&mut conn, "D-TAX")
            .await
            .unwrap()
            .unwrap()
            .id
    };
    let server = Running::start(
        ServeOptions::new(db, Arc::new(SystemClock)),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let channel = Channel::from_shared(server.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    println!("{label}:");

    // The same work with nothing else running, for comparison.
    let stop = Arc::new(AtomicBool::new(false));
    let idle = tokio::spawn(counter(channel.clone(), stop.clone()));
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.store(true, Ordering::Relaxed);
    report("no import", idle.await.unwrap());

    let center = login(&channel, "center").await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let busy = tokio::spawn(counter(channel.clone(), stop.clone()));
    let started = Instant::now();
    let mut stream = IntakeClient::new(channel.clone())
        .max_encoding_message_size(64 << 20)
        .import_file(authed(
            pb::ImportFileRequest {
                request_id: uuid::Uuid::now_v7().to_string(),
                department_id: tax,
                file_name: "tax.csv".into(),
                content: csv.to_vec(),
                dry_run: false,
                period: String::new(),
            },
            &center,
        ))
        .await
        .unwrap()
        .into_inner();
    let mut summary = None;
    let mut last_report = 0.0;
    while let Some(p) = stream.message().await.unwrap() {
        let at = started.elapsed().as_secs_f64();
        if at - last_report > 2.0 || p.rows_done == 0 {
            println!(
                "    import at {at:.1} s: {} of {} rows",
                p.rows_done, p.rows_total
            );
            last_report = at;
        }
        if p.summary.is_some() {
            summary = p.summary;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let s = summary.unwrap();
    report(
        &format!(
            "during the import ({} rows, {} new records, {secs:.1} s)",
            s.rows_total, s.records_created
        ),
        busy.await.unwrap(),
    );
    server.stop().await.unwrap();
}

#[tokio::main]
async fn main() {
    let rows: u32 = std::env::args()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(250_000);
    let csv = tax_csv(rows);
    println!("a {rows}-row tax CSV of {} MiB", csv.len() >> 20);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    measure_on(&url, "SQLite", &csv).await;
    if let Some(pg) = support::ScratchPg::create("import_load").await {
        measure_on(&pg.url, "PostgreSQL", &csv).await;
        pg.drop().await;
    }
}
