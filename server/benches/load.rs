//! Province load: one PostgreSQL database, 1 and then 3 `credit-desk-server
//! serve` processes on it, and simulated township clerks spread over them.
//! Each clerk logs in on its own connection (from its own loopback address,
//! as terminals come from their own addresses) and repeats the counter's
//! day with think time between steps: the menu, verify a person, a self-
//! query with its report, a consent for a bank in 3 of 10 visits, an
//! objection to a record in 1 of 10, the queue every 5th visit. Prints
//! throughput, p50/p99 per RPC, errors (must be 0), the database
//! connections the servers held, and what the hot rows cost: every 20 ms
//! it samples the backends waiting on a lock and the statement they wait in
//! (the audit chain's head, the report, ticket and letter counters).
//!
//! `DATABASE_URL=postgres://… cargo bench -p credit-desk-server --bench load
//!  [-- CLERKS SECONDS THINK_MS]` (defaults 200 clerks, 60 s, 1000 ms).
#![allow(clippy::unwrap_used)] // test and bench support: a failure is the report

mod support;

use support::{authed, rid};

use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use credit_desk_proto::pb::{
    self, VerificationMethod, auth_client::AuthClient, consent_client::ConsentClient,
    identity_client::IdentityClient, objection_client::ObjectionClient, query_client::QueryClient,
    run_query_request::Basis,
};
use credit_desk_server::clock::{Clock, SystemClock};
use credit_desk_server::setup::{self, OperatorSpec};
use credit_desk_server::{demo, synth};
use sqlx::{Connection, Row};
use tonic::codec::CompressionEncoding;
use tonic::transport::Endpoint;

const PASSWORD: &str = "Load2026bench";

/// A person the clerks serve: id, identity number, name.
type Person = (String, String, String);

#[derive(Default)]
struct Tally {
    /// Milliseconds per RPC.
    times: BTreeMap<&'static str, Vec<f64>>,
    /// "RPC: code message" → count.
    errors: BTreeMap<String, u32>,
    /// Logins answered "busy, retry" (retried, not errors).
    busy_logins: u32,
}

type Shared = Arc<Mutex<Tally>>;

/// Times one call; a failure is counted, not fatal (the bench reports it).
async fn timed<T>(
    tally: &Shared,
    rpc: &'static str,
    call: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> Option<T> {
    let t = Instant::now();
    let result = call.await;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    let mut tally = tally.lock().unwrap();
    match result {
        Ok(answer) => {
            tally.times.entry(rpc).or_default().push(ms);
            Some(answer.into_inner())
        }
        Err(status) => {
            let message: String = status.message().chars().take(60).collect();
            *tally
                .errors
                .entry(format!("{rpc}: {:?} {message}", status.code()))
                .or_default() += 1;
            None
        }
    }
}

/// Small, seeded, good enough to vary think times and choices.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct Clerk {
    /// Which run (1 or 3 servers): its forms have their own serials.
    run: usize,
    number: usize,
    url: String,
    people: Vec<Person>,
    bank: String,
    think: Duration,
    /// Passed when every clerk has logged in: the day's work starts.
    morning_done: Arc<tokio::sync::Barrier>,
    work: Duration,
}

impl Clerk {
    async fn run(self, tally: Shared) {
        // Its own source address: the server limits logins per address.
        let source = Ipv4Addr::new(
            127,
            1,
            (self.number / 250) as u8,
            (self.number % 250 + 2) as u8,
        );
        let channel = Endpoint::from_shared(self.url.clone())
            .unwrap()
            .local_address(Some(IpAddr::V4(source)))
            .connect()
            .await
            .unwrap();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ ((self.number as u64 + 1) * 0x2545_F491));
        // Logins spread over the first seconds, as a morning's do.
        tokio::time::sleep(self.think.mul_f64(rng.next() * 3.0)).await;
        let mut auth = AuthClient::new(channel.clone());
        let login = pb::LoginRequest {
            username: format!("load{:03}", self.number),
            password: PASSWORD.into(),
            terminal: format!("load-{}", self.number),
        };
        // A burst of logins meets the server's hashing limit: it answers
        // "busy, retry in 1 s", and the workstation's clerk does so.
        let session = loop {
            let t = Instant::now();
            match auth.login(login.clone()).await {
                Ok(answer) => {
                    let ms = t.elapsed().as_secs_f64() * 1000.0;
                    tally
                        .lock()
                        .unwrap()
                        .times
                        .entry("Login")
                        .or_default()
                        .push(ms);
                    break answer.into_inner();
                }
                Err(status) if status.code() == tonic::Code::ResourceExhausted => {
                    tally.lock().unwrap().busy_logins += 1;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(status) => {
                    let error = format!("Login: {:?} {}", status.code(), status.message());
                    *tally.lock().unwrap().errors.entry(error).or_default() += 1;
                    self.morning_done.wait().await;
                    return;
                }
            }
        };
        let token = session.session_token;
        self.morning_done.wait().await;
        let until = Instant::now() + self.work;
        let mut identity = IdentityClient::new(channel.clone());
        let mut query =
            QueryClient::new(channel.clone()).accept_compressed(CompressionEncoding::Zstd);
        let mut consent = ConsentClient::new(channel.clone());
        let mut objection = ObjectionClient::new(channel);
        let mut objected = HashSet::new();
        let mut visit = 0usize;
        let think = |rng: &mut Rng| tokio::time::sleep(self.think.mul_f64(0.5 + rng.next()));
        while Instant::now() < until {
            let (subject_id, identifier, name) = &self.people[visit % self.people.len()];
            visit += 1;
            let home = auth.home(authed(pb::HomeRequest::default(), &token));
            timed(&tally, "Home", home).await;
            think(&mut rng).await;
            let verify = identity.verify(authed(
                pb::VerifyRequest {
                    request_id: rid(),
                    identifier: identifier.clone(),
                    name: name.clone(),
                    method: VerificationMethod::IdCardReader as i32,
                    ..Default::default()
                },
                &token,
            ));
            let Some(verified) = timed(&tally, "Verify", verify).await else {
                continue;
            };
            let verification = verified.verification.unwrap_or_default().id;
            think(&mut rng).await;
            let run = query.run_query(authed(
                pb::RunQueryRequest {
                    request_id: rid(),
                    subject_id: subject_id.clone(),
                    basis: Some(Basis::SelfBasis(pb::SelfBasis {
                        verification_id: verification.clone(),
                    })),
                    categories: vec![],
                    fee_confirmed: true,
                },
                &token,
            ));
            let report = timed(&tally, "RunQuery", run).await;
            if let Some(r) = &report
                && !r.allowed
            {
                *tally
                    .lock()
                    .unwrap()
                    .errors
                    .entry(format!("RunQuery refused: {}", r.refusal_code))
                    .or_default() += 1;
            }
            if rng.next() < 0.3 {
                think(&mut rng).await;
                let capture = consent.capture_consent(authed(
                    pb::CaptureConsentRequest {
                        request_id: rid(),
                        verification_id: verification.clone(),
                        grantee_id: self.bank.clone(),
                        purpose_code: "loan_approval".into(),
                        form_serial: format!("SQ-{}-{}-{visit}", self.run, self.number),
                        ..Default::default()
                    },
                    &token,
                ));
                timed(&tally, "CaptureConsent", capture).await;
            }
            let record = report
                .and_then(|r| r.report)
                .and_then(|r| r.sections.into_iter().flat_map(|s| s.records).next());
            if let Some(record) = record
                && rng.next() < 0.1
                && objected.insert(record.id.clone())
            {
                think(&mut rng).await;
                let file = objection.file_objection(authed(
                    pb::FileObjectionRequest {
                        request_id: rid(),
                        verification_id: verification.clone(),
                        record_ids: vec![record.id],
                        reason_category: "wrong_content".into(),
                        reason_text: "该案已执行完毕".into(),
                        contact_phone: "13800138000".into(),
                        contact_address: "大沙镇马鞍村 12 号".into(),
                        notify_by: "phone".into(),
                        ..Default::default()
                    },
                    &token,
                ));
                timed(&tally, "FileObjection", file).await;
            }
            if visit.is_multiple_of(5) {
                think(&mut rng).await;
                let list = objection.list_queue(authed(pb::ListQueueRequest::default(), &token));
                timed(&tally, "ListQueue", list).await;
            }
            think(&mut rng).await;
        }
        timed(
            &tally,
            "Logout",
            auth.logout(authed(pb::LogoutRequest::default(), &token)),
        )
        .await;
    }
}

/// What the database showed while the clerks worked.
#[derive(Default)]
struct DbWatch {
    samples: u64,
    max_connections: i64,
    lock_waiters: i64,
    /// The statement a waiting backend was in → samples.
    waits: BTreeMap<String, u64>,
}

async fn watch_db(admin_url: String, db_name: String, until: Instant) -> DbWatch {
    let mut conn = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    let mut w = DbWatch::default();
    while Instant::now() < until {
        let rows = sqlx::query(
            "SELECT wait_event_type, left(regexp_replace(query, '\\s+', ' ', 'g'), 70) AS q
               FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(&db_name)
        .fetch_all(&mut conn)
        .await
        .unwrap();
        w.samples += 1;
        w.max_connections = w.max_connections.max(rows.len() as i64);
        for row in rows {
            if row.get::<Option<String>, _>("wait_event_type").as_deref() == Some("Lock") {
                w.lock_waiters += 1;
                *w.waits.entry(row.get("q")).or_default() += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    w
}

fn spawn_server(db_url: &str, keys: &std::path::Path) -> (tokio::process::Child, String) {
    let addr: SocketAddr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_credit-desk-server"))
        .args(["serve", "--db", db_url, "--listen", &addr.to_string()])
        .arg("--key-file")
        .arg(keys)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    (child, format!("http://{addr}"))
}

async fn wait_serving(child: &mut tokio::process::Child, url: &str) {
    loop {
        if Endpoint::from_shared(url.to_string())
            .unwrap()
            .connect()
            .await
            .is_ok()
        {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the server exited before serving: {status}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn pick(v: &[f64], q: f64) -> f64 {
    v[((v.len() as f64 - 1.0) * q) as usize]
}

#[allow(clippy::too_many_arguments)]
async fn run(
    pg: &support::ScratchPg,
    keys: &std::path::Path,
    servers: usize,
    people: &[Person],
    bank: &str,
    clerks: usize,
    seconds: u64,
    think: Duration,
) {
    let mut children = Vec::new();
    let mut urls = Vec::new();
    for _ in 0..servers {
        let (mut child, url) = spawn_server(&pg.url, keys);
        wait_serving(&mut child, &url).await;
        children.push(child);
        urls.push(url);
    }
    let tally: Shared = Arc::default();
    let morning_done = Arc::new(tokio::sync::Barrier::new(clerks + 1));
    let work = Duration::from_secs(seconds);
    let per = (people.len() / clerks).max(1);
    let mut tasks = Vec::new();
    for number in 0..clerks {
        let start = (number * per) % people.len();
        let clerk = Clerk {
            run: servers,
            number,
            url: urls[number % servers].clone(),
            people: people
                .iter()
                .cycle()
                .skip(start)
                .take(per)
                .cloned()
                .collect(),
            bank: bank.to_string(),
            think,
            morning_done: morning_done.clone(),
            work,
        };
        tasks.push(tokio::spawn(clerk.run(tally.clone())));
    }
    // The logins first (their hashing is bounded and measured apart), then
    // the day's work, watched.
    let morning = Instant::now();
    morning_done.wait().await;
    let morning = morning.elapsed().as_secs_f64();
    let started = Instant::now();
    let watch = tokio::spawn(watch_db(
        pg.admin_url.clone(),
        pg.name.clone(),
        started + work,
    ));
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let watch = watch.await.unwrap();
    for mut child in children {
        child.kill().await.unwrap();
    }
    let tally = std::mem::take(&mut *tally.lock().unwrap());
    let calls: usize = tally
        .times
        .iter()
        .filter(|(rpc, _)| **rpc != "Login")
        .map(|(_, t)| t.len())
        .sum();
    let errors: u32 = tally.errors.values().sum();
    println!(
        "{servers} server(s), {clerks} clerks, think {} ms, {elapsed:.0} s: {calls} calls, {:.0} calls/s, errors {errors}; database connections at most {}",
        think.as_millis(),
        calls as f64 / elapsed,
        watch.max_connections,
    );
    println!(
        "  {:<15} {:>7} {:>9} {:>9}",
        "RPC", "calls", "p50 ms", "p99 ms"
    );
    for (rpc, mut times) in tally.times {
        times.sort_by(f64::total_cmp);
        println!(
            "  {rpc:<15} {:>7} {:>9.1} {:>9.1}",
            times.len(),
            pick(&times, 0.5),
            pick(&times, 0.99)
        );
    }
    println!(
        "  logins took {morning:.1} s (all {clerks} at once); answered \"busy, retry in 1 s\" (and retried): {}",
        tally.busy_logins
    );
    for (what, n) in &tally.errors {
        println!("  error: {what} × {n}");
    }
    println!(
        "  lock waits: {:.2} backends waiting on average over {} samples",
        watch.lock_waiters as f64 / watch.samples.max(1) as f64,
        watch.samples
    );
    let mut waits: Vec<_> = watch.waits.into_iter().collect();
    waits.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    for (statement, n) in waits.iter().take(5) {
        println!(
            "    {:>5.1} % of samples: {statement}",
            *n as f64 * 100.0 / watch.samples.max(1) as f64
        );
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args().filter_map(|a| a.parse().ok()).collect();
    let clerks = args.first().copied().unwrap_or(200) as usize;
    let seconds = args.get(1).copied().unwrap_or(60);
    let think = Duration::from_millis(args.get(2).copied().unwrap_or(1000));
    let Some(pg) = support::ScratchPg::create("load").await else {
        println!("the load bench needs PostgreSQL: set DATABASE_URL");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("load.keys");
    let (people, bank) = {
        let db = credit_desk_server::db::sealed::open_with_keys(&pg.url, &keys)
            .await
            .unwrap();
        let vault = credit_desk_server::vault::installed().unwrap();
        let now = SystemClock.now_ms();
        demo::seed_if_empty(&db, now).await.unwrap();
        let t = Instant::now();
        let opts = synth::Options {
            subjects: 20_000,
            records_per_subject: 5,
            seed: 11,
            now_ms: now,
            start_index: 0,
        };
        synth::generate(&db, &opts, |_| {}).await.unwrap();
        println!(
            "seeded 20 000 subjects × 5 records in {:.0} s",
            t.elapsed().as_secs_f64()
        );
        let townships: Vec<String> =
            sqlx::query_scalar("SELECT code FROM org_units WHERE code LIKE 'T-%' ORDER BY code")
                .fetch_all(db.pool())
                .await
                .unwrap();
        let t = Instant::now();
        for n in 0..clerks {
            let username = format!("load{n:03}");
            let spec = OperatorSpec {
                username: &username,
                display_name: "压测柜员",
                role: pb::Role::Counter,
                unit_code: &townships[n % townships.len()],
                password: PASSWORD,
                must_change_password: false,
            };
            setup::add_operator(&db, spec, now).await.unwrap();
        }
        println!(
            "{clerks} clerks added in {:.0} s",
            t.elapsed().as_secs_f64()
        );
        let people: Vec<Person> = sqlx::query(
            "SELECT id, identifier, name FROM subjects WHERE kind = 'person' ORDER BY id LIMIT 8000",
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
        let bank: String = sqlx::query_scalar("SELECT id FROM org_units WHERE code = 'B-RCB'")
            .fetch_one(db.pool())
            .await
            .unwrap();
        db.close().await;
        (people, bank)
    };
    // Each run serves its own people: the first run's objections are
    // still open, and a record is objected to once.
    for (servers, people) in [1, 3].into_iter().zip(people.chunks(people.len() / 2)) {
        run(&pg, &keys, servers, people, &bank, clerks, seconds, think).await;
    }
    log_sizes(&pg).await;
    pg.drop().await;
}

/// What a row of each append-only log costs on disk, over its monthly
/// partitions, for the sizing note in the README.
async fn log_sizes(pg: &support::ScratchPg) {
    let mut conn = sqlx::PgConnection::connect(&pg.url).await.unwrap();
    sqlx::query("VACUUM ANALYZE")
        .execute(&mut conn)
        .await
        .unwrap();
    for log in ["query_log", "audit_log", "login_attempts", "issued_reports"] {
        let rows: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {log}")))
                .fetch_one(&mut conn)
                .await
                .unwrap();
        // A partitioned log's bytes are its partitions'; a plain table's its own.
        let (table, indexes): (i64, i64) = sqlx::query_as(
            "SELECT CAST(SUM(pg_table_size(c)) AS BIGINT), CAST(SUM(pg_indexes_size(c)) AS BIGINT)
               FROM (SELECT inhrelid AS c FROM pg_inherits WHERE inhparent = CAST($1 AS regclass)
                     UNION ALL SELECT CAST($1 AS regclass)) parts",
        )
        .bind(log)
        .fetch_one(&mut conn)
        .await
        .unwrap();
        println!(
            "{log}: {rows} rows; {} B a row in the table, {} B in its indexes",
            table / rows.max(1),
            indexes / rows.max(1)
        );
    }
}
