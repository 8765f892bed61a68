//! Server memory under attack. The real `credit-desk-server` binary serves a
//! demo SQLite file in its own process; this bench attacks it and reads the
//! process's RSS from /proc (sampled every 10 ms) while a health check runs
//! on a connection of its own every 50 ms. For each attack it prints the
//! peak and the settled RSS, the slowest health answer, and how the server
//! answered:
//! - a burst of 1000 logins at once (half for unknown users);
//! - 500 idle HTTP/2 connections;
//! - 5 connections × 200 calls whose answers are never read (stream
//!   window 0);
//! - workbook bombs (10 M blank cells; one cell at XFD1048576).
//!
//! Targets: peak under 300 MB in each, health answered within 100 ms.
//!
//! Then, nothing attacking and nothing watching: the server's CPU over a
//! quiet minute, and RSS and CPU with 500 logged-in workstations idle on
//! their own connections (targets: under 150 MB, 0 % CPU).
//! `cargo bench -p credit-desk-server --bench resources`
#![allow(clippy::unwrap_used)] // test and bench support: a failure is the report

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use credit_desk_proto::pb::{self, auth_client::AuthClient, intake_client::IntakeClient};
use credit_desk_server::clock::{Clock, SystemClock};
use credit_desk_server::db::org_units;
use credit_desk_server::demo;
use credit_desk_server::intake::table::crafted::{sheet, workbook};
use prost::Message;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

const MIB: u64 = 1024 * 1024;

fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

/// Samples the server's RSS and times health checks until stopped.
struct Watch {
    peak: Arc<AtomicU64>,
    slowest_health_us: Arc<AtomicU64>,
    health_failures: Arc<AtomicU64>,
    health_checks: Arc<AtomicU64>,
}

impl Watch {
    fn start(pid: u32, health: Channel, stop: Arc<AtomicBool>) -> Watch {
        let w = Watch {
            peak: Arc::new(AtomicU64::new(0)),
            slowest_health_us: Arc::new(AtomicU64::new(0)),
            health_failures: Arc::new(AtomicU64::new(0)),
            health_checks: Arc::new(AtomicU64::new(0)),
        };
        let (peak, s) = (w.peak.clone(), stop.clone());
        tokio::spawn(async move {
            while !s.load(Ordering::Relaxed) {
                peak.fetch_max(rss_bytes(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
        let (slowest, failures, checks) = (
            w.slowest_health_us.clone(),
            w.health_failures.clone(),
            w.health_checks.clone(),
        );
        tokio::spawn(async move {
            let mut client = HealthClient::new(health);
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let ok = tokio::time::timeout(
                    Duration::from_secs(5),
                    client.check(HealthCheckRequest::default()),
                )
                .await
                .is_ok_and(|r| r.is_ok());
                slowest.fetch_max(t.elapsed().as_micros() as u64, Ordering::Relaxed);
                checks.fetch_add(1, Ordering::Relaxed);
                if !ok {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        w
    }
}

struct Target {
    pid: u32,
    addr: SocketAddr,
    url: String,
    health: Channel,
}

/// Runs one attack and prints what the server did.
async fn phase<F: Future<Output = String>>(t: &Target, name: &str, attack: F) {
    let before = rss_bytes(t.pid);
    let stop = Arc::new(AtomicBool::new(false));
    let watch = Watch::start(t.pid, t.health.clone(), stop.clone());
    let started = Instant::now();
    let outcome = attack.await;
    let secs = started.elapsed().as_secs_f64();
    // Let the server return what it can before reading the settled figure.
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(100)).await;
    println!(
        "{name} ({secs:.1} s): RSS before {} MiB, peak {} MiB, after {} MiB; health slowest {:.1} ms over {} checks, {} failed",
        before / MIB,
        watch.peak.load(Ordering::Relaxed) / MIB,
        rss_bytes(t.pid) / MIB,
        watch.slowest_health_us.load(Ordering::Relaxed) as f64 / 1000.0,
        watch.health_checks.load(Ordering::Relaxed),
        watch.health_failures.load(Ordering::Relaxed),
    );
    println!("    {outcome}");
}

fn tally(codes: &BTreeMap<String, u32>) -> String {
    codes
        .iter()
        .map(|(c, n)| format!("{c} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// CPU time the process has used (user + system), in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces): state is the
    // first, utime the 12th, stime the 13th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    tick(11).unwrap_or(0) + tick(12).unwrap_or(0)
}

/// The share of one core the server used over `window`, nothing asked of it.
async fn quiet_cpu(pid: u32, window: Duration) -> (f64, u64) {
    let ticks_per_s = 100.0; // USER_HZ on Linux
    let before = cpu_ticks(pid);
    tokio::time::sleep(window).await;
    let ticks = cpu_ticks(pid) - before;
    (
        ticks as f64 / ticks_per_s / window.as_secs_f64() * 100.0,
        ticks,
    )
}

/// 500 workstations logged in and idle, each on its own connection after
/// one call (the menu's). Their sessions are made in the database as a
/// login makes them: 500 logins from one address would meet the
/// per-address limit, and the password hash is measured elsewhere.
async fn idle_sessions(t: &Target, tokens: &[String]) {
    let at_rest = rss_bytes(t.pid);
    let mut held = Vec::new();
    for token in tokens {
        let channel = Endpoint::from_shared(t.url.clone())
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut req = tonic::Request::new(pb::HomeRequest::default());
        req.metadata_mut().insert(
            credit_desk_proto::SESSION_METADATA_KEY,
            token.parse().unwrap(),
        );
        AuthClient::new(channel.clone()).home(req).await.unwrap();
        held.push(channel);
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rss = rss_bytes(t.pid);
    let window = Duration::from_secs(60);
    let (cpu, ticks) = quiet_cpu(t.pid, window).await;
    println!(
        "{} logged-in idle sessions: RSS {} MiB (before them {} MiB), after {} s {} MiB; CPU over {} s idle {cpu:.2} % ({ticks} ticks)",
        held.len(),
        rss / MIB,
        at_rest / MIB,
        window.as_secs() + 5,
        rss_bytes(t.pid) / MIB,
        window.as_secs(),
    );
}

async fn login(
    channel: Channel,
    username: String,
    password: &str,
) -> Result<String, tonic::Status> {
    Ok(AuthClient::new(channel)
        .login(pb::LoginRequest {
            username,
            password: password.into(),
            terminal: "bench".into(),
        })
        .await?
        .into_inner()
        .session_token)
}

async fn login_burst(t: &Target) -> String {
    let mut channels = Vec::new();
    for _ in 0..10 {
        channels.push(
            Endpoint::from_shared(t.url.clone())
                .unwrap()
                .connect()
                .await
                .unwrap(),
        );
    }
    let calls = (0..1000).map(|i| {
        let channel = channels[i % channels.len()].clone();
        async move {
            let r = if i.is_multiple_of(2) {
                login(channel, format!("nobody{i}"), "wrong-password").await
            } else {
                login(channel, "counter".into(), demo::DEMO_PASSWORD).await
            };
            match r {
                Ok(_) => "OK".to_string(),
                Err(e) => format!("{:?}", e.code()),
            }
        }
    });
    let mut codes = BTreeMap::new();
    for code in futures::future::join_all(calls).await {
        *codes.entry(code).or_insert(0) += 1;
    }
    format!("1000 logins: {}", tally(&codes))
}

async fn idle_connections(t: &Target) -> String {
    let mut held = Vec::new();
    let mut failed = 0;
    for _ in 0..500 {
        match Endpoint::from_shared(t.url.clone())
            .unwrap()
            .connect()
            .await
        {
            Ok(c) => held.push(c),
            Err(_) => failed += 1,
        }
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    format!("{} connections open for 5 s, {failed} refused", held.len())
}

/// A gRPC message frame: uncompressed flag, length, bytes.
fn grpc_frame(message: &impl Message) -> bytes::Bytes {
    let body = message.encode_to_vec();
    let mut out = Vec::with_capacity(body.len() + 5);
    out.push(0);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
    out.into()
}

async fn never_read(t: &Target, token: &str) -> String {
    // Streams, answers and clients are held, never polled.
    let (mut held, mut clients) = (Vec::new(), Vec::new());
    let (mut opened, mut waited) = (0, 0);
    for _ in 0..5 {
        let tcp = tokio::net::TcpStream::connect(t.addr).await.unwrap();
        let (client, connection) = h2::client::Builder::new()
            .initial_window_size(0)
            .handshake::<_, bytes::Bytes>(tcp)
            .await
            .unwrap();
        tokio::spawn(connection);
        for _ in 0..200 {
            // The server allows so many streams per connection; past them
            // the client waits for one to end, which never happens.
            let Ok(Ok(mut ready)) =
                tokio::time::timeout(Duration::from_millis(200), client.clone().ready()).await
            else {
                waited += 1;
                continue;
            };
            let req = http::Request::post(format!(
                "http://{}/creditdesk.v1.Objection/GetCalendar",
                t.addr
            ))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .header("authorization", format!("Bearer {token}"))
            .body(())
            .unwrap();
            let (response, mut send) = ready.send_request(req, false).unwrap();
            send.send_data(grpc_frame(&pb::GetCalendarRequest { year: 2026 }), true)
                .unwrap();
            held.push((response, send));
            opened += 1;
        }
        clients.push(client);
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    // What came back meanwhile: headers only (the answers' bodies wait on
    // the zero window), or a whole error answer.
    let mut answered = BTreeMap::new();
    for (response, _) in &mut held {
        use futures::FutureExt;
        let status = match response.now_or_never() {
            None => "no headers".to_string(),
            Some(Err(e)) => format!("reset {:?}", e.reason()),
            Some(Ok(r)) => format!(
                "headers, grpc-status {}",
                r.headers()
                    .get("grpc-status")
                    .map_or("pending", |v| v.to_str().unwrap_or("?"))
            ),
        };
        *answered.entry(status).or_insert(0) += 1;
    }
    format!(
        "{opened} calls sent and never read ({waited} could not open: the per-connection stream limit); {}",
        tally(&answered)
    )
}

async fn bombs(t: &Target, token: &str, department: &str) -> String {
    let header = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>当事人证件号码</t></is></c></row>"#;
    let blank = workbook(&sheet(
        "",
        &format!(
            "{header}{}",
            format!("<row>{}</row>", "<c/>".repeat(800)).repeat(12_500)
        ),
    ));
    let far = workbook(&sheet(
        "",
        &format!(r#"{header}<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>"#),
    ));
    let mut out = Vec::new();
    for (name, bytes) in [("blank.xlsx", blank), ("far.xlsx", far)] {
        let size = bytes.len();
        let mut client = IntakeClient::new(
            Endpoint::from_shared(t.url.clone())
                .unwrap()
                .connect()
                .await
                .unwrap(),
        )
        .max_encoding_message_size(64 << 20);
        let mut req = tonic::Request::new(pb::ImportFileRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            department_id: department.into(),
            file_name: name.into(),
            content: bytes,
            dry_run: false,
            period: String::new(),
        });
        req.metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let answer = match client.import_file(req).await {
            Err(e) => format!("{:?}", e.code()),
            Ok(stream) => {
                let mut stream = stream.into_inner();
                loop {
                    match stream.message().await {
                        Ok(Some(p)) if p.summary.is_some() => break "imported".to_string(),
                        Ok(Some(_)) => continue,
                        Ok(None) => break "ended".to_string(),
                        Err(e) => break format!("{:?}: {}", e.code(), e.message()),
                    }
                }
            }
        };
        out.push(format!("{name} ({} KiB): {answer}", size / 1024));
    }
    out.join("; ")
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("attack.db").display());
    let tokens: Vec<String> = (0..500)
        .map(|_| credit_desk_server::token::new_token())
        .collect();
    let court = {
        // Keys in the file next to the database, as the server will read
        // them (the demo's personal data is sealed at rest).
        let keys = credit_desk_server::vault::default_key_file(&url);
        let db = credit_desk_server::db::sealed::open_with_keys(&url, &keys)
            .await
            .unwrap();
        demo::seed_if_empty(&db, SystemClock.now_ms())
            .await
            .unwrap();
        let mut conn = db.read().await.unwrap();
        let id = org_units::get_by_code(&mut conn, "D-COURT")
            .await
            .unwrap()
            .unwrap()
            .id;
        drop(conn);
        // Sessions for the idle workstations, as a login writes them.
        let mut conn = db.read().await.unwrap();
        let counter = credit_desk_server::db::operators::get_by_username(&mut conn, "counter")
            .await
            .unwrap()
            .unwrap();
        drop(conn);
        let now = SystemClock.now_ms();
        let mut tx = db.begin_write().await.unwrap();
        for token in &tokens {
            credit_desk_server::db::sessions::insert(
                &mut tx,
                &credit_desk_server::token::token_hash(token),
                &counter.id,
                "bench",
                now,
                now + 12 * 3_600_000,
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        db.close().await;
        id
    };
    let addr: SocketAddr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_credit-desk-server"))
        // Every workstation here comes from 127.0.0.1.
        .args(["serve", "--db", &url, "--listen", &addr.to_string()])
        .args(["--connections-per-address", "1024"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = server.id().unwrap();
    let url = format!("http://{addr}");
    let health = loop {
        if let Ok(c) = Endpoint::from_shared(url.clone()).unwrap().connect().await {
            break c;
        }
        if let Some(status) = server.try_wait().unwrap() {
            panic!("the server exited before serving: {status}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let t = Target {
        pid,
        addr,
        url,
        health,
    };
    println!("server pid {pid}, RSS at rest {} MiB", rss_bytes(pid) / MIB);
    let counter = login(t.health.clone(), "counter".into(), demo::DEMO_PASSWORD)
        .await
        .unwrap();
    let center = login(t.health.clone(), "center".into(), demo::DEMO_PASSWORD)
        .await
        .unwrap();
    phase(&t, "login burst", login_burst(&t)).await;
    phase(&t, "idle connections", idle_connections(&t)).await;
    phase(&t, "never-read calls", never_read(&t, &counter)).await;
    phase(&t, "workbook bombs", bombs(&t, &center, &court)).await;
    let (cpu, ticks) = quiet_cpu(pid, Duration::from_secs(60)).await;
    println!("quiet, no connections but the watch's: CPU over 60 s {cpu:.2} % ({ticks} ticks)");
    idle_sessions(&t, &tokens).await;
    server.kill().await.unwrap();
}
