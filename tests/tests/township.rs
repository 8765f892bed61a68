//! The workstation over an emulated township link (`link.rs`): a line cut
//! while a create's answer is on its way back ends, after the runner's
//! retry with the same request, with exactly one row — never none, never
//! two — and the clerk sees the link go down meanwhile.

use std::time::Duration;

use credit_desk_proto::Lang;
use credit_desk_tests::desk::Desk;
use credit_desk_tests::link::{Link, LinkSpec};
use credit_desk_tests::{TestServer, both_backends};
use ratatui::crossterm::event::KeyCode;

/// A slow line, so an answer spends a while on it.
const LINE: LinkSpec = LinkSpec {
    bits_per_s: 256_000,
    one_way_delay: Duration::from_millis(150),
    jitter: Duration::ZERO,
};

/// Presses `key` and cuts the line as soon as the server starts answering
/// (its bytes are then on the wire, not yet at the workstation).
async fn press_and_cut_the_answer(desk: &mut Desk, link: &Link, key: KeyCode) {
    let before = link.bytes_down();
    let cutter = async {
        while link.bytes_down() == before {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        link.cut();
    };
    tokio::join!(desk.key(key), cutter);
}

async fn count(srv: &TestServer, table: &'static str) -> i64 {
    let sql = match table {
        "consents" => "SELECT COUNT(*) FROM consents",
        "query_log" => "SELECT COUNT(*) FROM query_log",
        _ => "SELECT COUNT(*) FROM tickets",
    };
    sqlx::query_scalar(sql)
        .fetch_one(srv.db.pool())
        .await
        .unwrap()
}

both_backends!(
    a_create_cut_off_in_flight_is_made_exactly_once,
    async |srv: &TestServer| {
        credit_desk_tests::load_records(srv).await;
        let link = Link::start(srv.running.addr, LINE).await.unwrap();
        let mut desk = Desk::connect(&link.url(), Lang::Zh);
        desk.log_in("counter").await;
        desk.expect("主菜单");
        desk.key(KeyCode::Char('v')).await;
        desk.text("441284196508120010").await;
        desk.key(KeyCode::Tab).await;
        desk.text("李建国").await;
        desk.key(KeyCode::Enter).await;
        desk.expect("核验通过");

        // A consent.
        desk.key(KeyCode::Char('c')).await;
        desk.key(KeyCode::Right).await;
        // Past purpose, days and start date to the serial.
        for _ in 0..4 {
            desk.key(KeyCode::Tab).await;
        }
        desk.text("SQ-2026-0901").await;
        let downs = desk.link_downs;
        press_and_cut_the_answer(&mut desk, &link, KeyCode::F(10)).await;
        desk.expect("查询授权回执");
        assert!(desk.link_downs > downs, "the clerk saw the link go down");
        assert_eq!(count(srv, "consents").await, 1);

        // The person's own report (a logged query).
        desk.key(KeyCode::Esc).await;
        let queries = count(srv, "query_log").await;
        let downs = desk.link_downs;
        press_and_cut_the_answer(&mut desk, &link, KeyCode::Char('q')).await;
        desk.expect("报告编号");
        assert!(desk.link_downs > downs);
        assert_eq!(count(srv, "query_log").await, queries + 1);

        // An objection on the report's first record.
        desk.key(KeyCode::Enter).await;
        desk.key(KeyCode::Char('o')).await;
        desk.expect("异议类别");
        desk.key(KeyCode::Tab).await;
        desk.text("13800138000").await;
        desk.key(KeyCode::Tab).await;
        desk.text("四会市大沙镇马鞍村").await;
        desk.key(KeyCode::F(10)).await;
        desk.text("该案已执行完毕").await;
        let downs = desk.link_downs;
        press_and_cut_the_answer(&mut desk, &link, KeyCode::F(10)).await;
        desk.expect("异议已受理");
        assert!(desk.link_downs > downs);
        assert_eq!(count(srv, "tickets").await, 1);
        assert!(
            link.counters
                .connections
                .load(std::sync::atomic::Ordering::Relaxed)
                >= 4
        );
    }
);
