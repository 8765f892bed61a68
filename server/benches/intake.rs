//! Import throughput: a tax department .xlsx of 100 k rows (argument 1
//! changes the count) into a fresh SQLite database, then the same file
//! again (nothing changes), and — with DATABASE_URL — the same on PostgreSQL.
//! `cargo bench -p credit-desk-server --bench intake`
#![allow(clippy::unwrap_used)] // test and bench support: a failure is the report

mod support;

use std::time::Instant;

use credit_desk_proto::Lang;
use credit_desk_server::clock::{Clock, SystemClock, local_date};
use credit_desk_server::db::{Db, org_units};
use credit_desk_server::intake::{self, Job};
use credit_desk_server::{demo, synth};
use rust_xlsxwriter::Workbook;

fn tax_file(rows: u32) -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let headers = [
        "纳税人识别号",
        "纳税人名称",
        "欠税编号",
        "欠税起始日期",
        "缴清日期",
        "欠税金额（元）",
        "状态",
        "备注",
    ];
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for i in 0..rows {
        let r = i + 1;
        sheet
            .write_string(r, 0, synth::person_number(u64::from(i)))
            .unwrap();
        sheet.write_string(r, 1, format!("纳税人{i}")).unwrap();
        sheet.write_string(r, 2, format!("QS-{i:07}")).unwrap();
        sheet.write_string(r, 3, "2025-01-15").unwrap();
        sheet.write_string(r, 4, "").unwrap();
        sheet.write_number(r, 5, f64::from(i % 5000) + 0.5).unwrap();
        sheet.write_string(r, 6, "未缴").unwrap();
        sheet.write_string(r, 7, "个人所得税").unwrap();
    }
    book.save_to_buffer().unwrap()
}

async fn run(url: &str, bytes: &[u8], label: &str) {
    credit_desk_server::vault::install_ephemeral();
    let db = Db::connect_and_migrate(url).await.unwrap();
    let now = SystemClock.now_ms();
    demo::ensure_org_tree(&db, now).await.unwrap();
    let dept = {
        let mut conn = db.read().await.unwrap();
        org_units::get_by_code(&mut conn, "D-TAX")
            .await
            .unwrap()
            .unwrap()
    };
    for pass in ["first import", "same file again"] {
        let job = Job {
            department: &dept,
            file_name: "tax.xlsx",
            bytes,
            operator_id: None,
            dry_run: false,
            period: None,
            lang: Lang::Zh,
            today: local_date(now),
            now_ms: now,
            cancel: None,
        };
        let started = Instant::now();
        let s = intake::run(&db, job, |_, _| {}).await.unwrap();
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{label} {pass}: {} rows in {secs:.2} s = {:.0} rows/s ({}: {} new, {} unchanged)",
            s.rows_total,
            f64::from(s.rows_total) / secs,
            s.status,
            s.records_created,
            s.records_unchanged
        );
    }
    db.close().await;
}

#[tokio::main]
async fn main() {
    let rows: u32 = std::env::args()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(100_000);
    let started = Instant::now();
    let bytes = tax_file(rows);
    println!(
        "generated a {rows}-row xlsx ({} KiB) in {:.1} s",
        bytes.len() / 1024,
        started.elapsed().as_secs_f64()
    );
    let dir = tempfile::tempdir().unwrap();
    run(
        &format!("sqlite://{}", dir.path().join("bench.db").display()),
        &bytes,
        "SQLite",
    )
    .await;
    if let Some(pg) = support::ScratchPg::create("intake").await {
        run(&pg.url, &bytes, "PostgreSQL").await;
        pg.drop().await;
    }
}
