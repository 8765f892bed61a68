//! Open objection tickets in bulk, as a county's queue holds them.

use chrono::NaiveDate;
use credit_desk_server::clock::local_date;
use credit_desk_server::db::Db;
use credit_desk_server::db::bulk::{self, Table, V};
use sqlx::Row;

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

async fn scalar(db: &Db, sql: &'static str) -> String {
    sqlx::query(sql)
        .fetch_one(db.pool())
        .await
        .unwrap()
        .get::<String, _>(0)
}

/// `n` open tickets on the first `n` records (by id), received over the last 25 days;
/// two in five wait on the department that delivered the record.
pub async fn seed_tickets(db: &Db, n: u64, now: i64) {
    let records: Vec<(String, String, String)> = sqlx::query(
        "SELECT r.id, r.subject_id, r.source_unit_id FROM records r ORDER BY r.id LIMIT $1",
    )
    .bind(n as i64)
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
