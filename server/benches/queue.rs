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

use chrono::NaiveDate;
use credit_desk_proto::pb::{self, auth_client::AuthClient, objection_client::ObjectionClient};
use credit_desk_server::clock::{Clock, SystemClock, local_date};
use credit_desk_server::db::Db;
use credit_desk_server::db::bulk::{self, Table, V};
use credit_desk_server::server::{Running, ServeOptions};
use credit_desk_server::{demo, synth};
use prost::Message;
use sqlx::Row;
use tonic::codec::CompressionEncoding;
use tonic::transport::Channel;

const TICKETS: Table = Table {
    name: "tickets",
    columns: &[
        "id",
        "ticket_no",
        "subject_id",
        "org_unit_id",
        "filed_by",
        "verification_id",
        "applicant",
        "agent_name",
        "agent_identifier",
        "poa_reference",
        "reason_category",
        "reason_text",
        "evidence",
        "contact_phone",
        "contact_address",
        "notify_by",
        "state",
        "received_on",
        "overall_due",
        "pause_reason",
        "paused_ms",
        "version",
        "next_due",
        "change_seq",
        "created_at",
        "updated_at",
        "updated_by",
    ],
};
const TICKET_RECORDS: Table = Table {
    name: "ticket_records",
    columns: &["ticket_id", "record_id", "department_id", "outcome"],
};
const LETTERS: Table = Table {
    name: "ticket_letters",
    columns: &[
        "id",
        "ticket_id",
        "letter_no",
        "department_id",
        "sent_at",
        "sent_by",
        "received_on",
        "reply_due",
    ],
};

fn authed<T>(m: T, token: &str) -> tonic::Request<T> {
    let mut r = tonic::Request::new(m);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    r
}

async fn scalar(db: &Db, sql: &'static str) -> String {
    sqlx::query(sql)
        .fetch_one(db.pool())
        .await
        .unwrap()
        .get::<String, _>(0)
}

/// `n` open tickets on as many records, received over the last 25 days;
/// two in five wait on the department that delivered the record.
async fn seed_tickets(db: &Db, n: u64, now: i64) {
    synth::generate(
        db,
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
    let records: Vec<(String, String, String)> =
        sqlx::query("SELECT r.id, r.subject_id, r.source_unit_id FROM records r ORDER BY r.id")
            .fetch_all(db.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
    let center_op = scalar(db, "SELECT id FROM operators WHERE username = 'center'").await;
    // Filed across the demo's townships and village stations, as in a county.
    let units: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM org_units WHERE kind IN ('township', 'village_station') ORDER BY code",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let township = units[0].clone();
    let verification = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "INSERT INTO verifications (id, subject_id, method, document, operator_id, org_unit_id,
                                    terminal, created_at, expires_at)
         VALUES ($1, $2, 'id_card_inspected', '', $3, $4, 'bench', $5, $5)",
    )
    .bind(&verification)
    .bind(&records[0].1)
    .bind(&center_op)
    .bind(&township)
    .bind(now)
    .execute(db.pool())
    .await
    .unwrap();
    let today = local_date(now);
    let cal = {
        let mut conn = db.read().await.unwrap();
        credit_desk_server::db::calendar::load(&mut conn)
            .await
            .unwrap()
    };
    let (mut tickets, mut disputed, mut letters) = (Vec::new(), Vec::new(), Vec::new());
    // Personal data is stored sealed, as the server writes it.
    let sealed: Vec<String> = ["", "13800138000", "大沙镇"]
        .iter()
        .map(|v| credit_desk_server::db::sealed::seal(v).unwrap())
        .collect();
    for (i, (record, subject, department)) in records.iter().enumerate().take(n as usize) {
        let id = uuid::Uuid::now_v7().to_string();
        let received: NaiveDate = today - chrono::Days::new(i as u64 % 25);
        let overall = received + chrono::Days::new(20);
        let mut next_due = overall;
        let state = if i % 5 < 2 {
            let due = cal.add_working_days(received, 10).unwrap();
            next_due = next_due.min(due);
            letters.push(vec![
                V::from(uuid::Uuid::now_v7().to_string()),
                V::from(id.clone()),
                V::from(format!("HC-BENCH-{i:06}")),
                V::from(department.clone()),
                V::from(now),
                V::from(center_op.clone()),
                V::from(received.to_string()),
                V::from(due.to_string()),
            ]);
            "request_sent"
        } else {
            "received"
        };
        disputed.push(vec![
            V::from(id.clone()),
            V::from(record.clone()),
            V::from(department.clone()),
            V::from("disputed"),
        ]);
        tickets.push(vec![
            V::from(id),
            V::from(format!("YY-BENCH-{i:06}")),
            V::from(subject.clone()),
            V::from(units[i % units.len()].clone()),
            V::from(center_op.clone()),
            V::from(verification.clone()),
            V::from("subject"),
            V::from(""),
            V::from(sealed[0].clone()),
            V::from(""),
            V::from("wrong_content"),
            V::from("记录有误"),
            V::from(""),
            V::from(sealed[1].clone()),
            V::from(sealed[2].clone()),
            V::from("phone"),
            V::from(state),
            V::from(received.to_string()),
            V::from(overall.to_string()),
            V::from(""),
            V::from(0),
            V::from(1),
            V::from(next_due.to_string()),
            V::from(i as i64 + 1),
            V::from(now),
            V::from(now),
            V::from(center_op.clone()),
        ]);
    }
    let mut tx = db.begin_write().await.unwrap();
    bulk::insert(&mut tx, &TICKETS, &tickets).await.unwrap();
    bulk::insert(&mut tx, &TICKET_RECORDS, &disputed)
        .await
        .unwrap();
    bulk::insert(&mut tx, &LETTERS, &letters).await.unwrap();
    sqlx::query("INSERT INTO counters (name, last) VALUES ('queue', $1)")
        .bind(n as i64)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // Statistics, as a maintained database has them (autovacuum on
    // PostgreSQL, `PRAGMA optimize` on SQLite): without them the planners
    // guess the new tables are empty.
    sqlx::query("ANALYZE").execute(db.pool()).await.unwrap();
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
    seed_tickets(&db, n, now).await;
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
