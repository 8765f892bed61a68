//! Deadline queue: ListQueue latency with 100 k open objection tickets
//! (argument 1 changes the count) filed across the demo's townships and
//! stations, as the center (the whole queue), a township clerk (its share)
//! and a department liaison (the requests waiting on the court); and the bytes of an incremental
//! refresh with no change and with one change. SQLite, and PostgreSQL when
//! `DATABASE_URL` is set.
//! `cargo bench -p credit-desk-server --bench queue [-- TICKETS]`
#![allow(clippy::unwrap_used)] // test and bench support: a failure is the report

mod support;

use std::time::Instant;

use credit_desk_proto::pb::{self, auth_client::AuthClient, objection_client::ObjectionClient};
use credit_desk_server::clock::{Clock, SystemClock};
use credit_desk_server::db::Db;
use credit_desk_server::server::{Running, ServeOptions};
use credit_desk_server::{demo, synth};
use prost::Message;
use tonic::codec::CompressionEncoding;
use tonic::transport::Channel;

fn authed<T>(m: T, token: &str) -> tonic::Request<T> {
    let mut r = tonic::Request::new(m);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    r
}

fn sizes(resp: &pb::ListQueueResponse) -> (usize, usize) {
    let bytes = resp.encode_to_vec();
    (bytes.len(), zstd::bulk::compress(&bytes, 3).unwrap().len())
}

async fn measure_on(url: &str, n: u64) {
    credit_desk_server::vault::install_ephemeral();
    let db = Db::connect_and_migrate(url).await.unwrap();
    let now = SystemClock.now_ms();
    demo::seed_if_empty(&db, now).await.unwrap();
    let started = Instant::now();
    synth::generate(
        &db,
        &synth::Options {
            subjects: n,
            records_per_subject: 1,
            seed: 11,
            now_ms: now,
            start_index: 0,
        },
        |_| {},
    )
    .await
    .unwrap();
    support::tickets::seed_tickets(&db, n, now).await;
    println!(
        "seeded {n} open tickets in {:.1} s",
        started.elapsed().as_secs_f64()
    );
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
    let mut queue =
        ObjectionClient::new(channel.clone()).accept_compressed(CompressionEncoding::Zstd);
    for who in ["center", "counter", "liaison"] {
        let token = AuthClient::new(channel.clone())
            .login(pb::LoginRequest {
                username: who.into(),
                password: demo::DEMO_PASSWORD.into(),
                terminal: "bench".into(),
            })
            .await
            .unwrap()
            .into_inner()
            .session_token;
        let mut times = Vec::new();
        let mut last = pb::ListQueueResponse::default();
        for _ in 0..30 {
            let t = Instant::now();
            last = queue
                .list_queue(authed(pb::ListQueueRequest::default(), &token))
                .await
                .unwrap()
                .into_inner();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let mut inc_times = Vec::new();
        let mut unchanged = pb::ListQueueResponse::default();
        for _ in 0..30 {
            let t = Instant::now();
            unchanged = queue
                .list_queue(authed(
                    pb::ListQueueRequest {
                        cursor: last.cursor.clone(),
                        ..Default::default()
                    },
                    &token,
                ))
                .await
                .unwrap()
                .into_inner();
            inc_times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(|a, b| a.total_cmp(b));
        inc_times.sort_by(|a, b| a.total_cmp(b));
        let pick = |v: &[f64], q: f64| v[((v.len() as f64 - 1.0) * q) as usize];
        let stats = last.stats.unwrap_or_default();
        println!(
            "{who}: whole queue ({} open, {} shown) p50 {:.1} ms p99 {:.1} ms, {} B / {} B zstd; \
             refresh p50 {:.1} ms p99 {:.1} ms",
            stats.open,
            last.items.len(),
            pick(&times, 0.5),
            pick(&times, 0.99),
            sizes(&last).0,
            sizes(&last).1,
            pick(&inc_times, 0.5),
            pick(&inc_times, 0.99),
        );
        if who == "center" {
            let (plain, packed) = sizes(&unchanged);
            println!("  refresh, no change: {plain} B ({packed} B zstd)");
            // One ticket changes: a pause by the center.
            let item = &last.items[0];
            let ticket = queue
                .act_on_ticket(authed(
                    pb::ActOnTicketRequest {
                        request_id: uuid::Uuid::now_v7().to_string(),
                        ticket_id: item.ticket_id.clone(),
                        expected_version: item.version,
                        action: Some(pb::act_on_ticket_request::Action::Pause(pb::Pause {
                            reason: "等待材料".into(),
                        })),
                    },
                    &token,
                ))
                .await
                .unwrap()
                .into_inner();
            assert!(ticket.ticket.unwrap().paused);
            let one = queue
                .list_queue(authed(
                    pb::ListQueueRequest {
                        cursor: unchanged.cursor.clone(),
                        ..Default::default()
                    },
                    &token,
                ))
                .await
                .unwrap()
                .into_inner();
            assert_eq!(one.items.len(), 1);
            let (plain, packed) = sizes(&one);
            println!("  refresh, one change: {plain} B ({packed} B zstd)");
        }
    }
    server.stop().await.unwrap();
}

#[tokio::main]
async fn main() {
    let n: u64 = std::env::args()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    println!("SQLite:");
    measure_on(
        &format!("sqlite://{}", dir.path().join("q.db").display()),
        n,
    )
    .await;
    if let Some(pg) = support::ScratchPg::create("queue").await {
        println!("PostgreSQL:");
        measure_on(&pg.url, n).await;
        pg.drop().await;
    }
}
