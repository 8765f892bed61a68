//! Counter and center work driven through the workstation (keys into the
//! app, calls over the real client to the real server), on both backends.

use credit_desk_proto::Lang;
use credit_desk_tests::desk::Desk;
use credit_desk_tests::{TestServer, both_backends};
use ratatui::crossterm::event::KeyCode;

/// Verifies a demo person at the counter (the menu's V).
async fn verify(desk: &mut Desk, number: &str, name: &str) {
    desk.key(KeyCode::Char('v')).await;
    desk.text(number).await;
    desk.key(KeyCode::Tab).await;
    desk.text(name).await;
    desk.key(KeyCode::Enter).await;
    desk.expect("核验通过");
}

// The third self-query of a year is charged: the clerk is told the fee, and
// once the person has paid, y runs it (it used to be refused as a reused
// request id, so the report could not be had again that year).
both_backends!(
    the_third_self_query_of_the_year_runs_once_the_fee_is_confirmed,
    async |srv: &TestServer| {
        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("counter").await;
        desk.expect("主菜单");
        verify(&mut desk, "441284199003070023", "陈美玲").await;
        for _ in 0..2 {
            desk.key(KeyCode::Char('q')).await;
            desk.expect("报告编号");
            desk.key(KeyCode::Esc).await;
        }
        desk.key(KeyCode::Char('q')).await;
        desk.expect("需收费 10.00 元");
        desk.key(KeyCode::Char('y')).await;
        let report = desk.expect("报告编号");
        assert!(!report.contains("请求编号已用于"), "{report}");
        let charged: Vec<(String, i64)> =
            sqlx::query_as("SELECT outcome, fee_applies FROM query_log ORDER BY at, id")
                .fetch_all(srv.db.pool())
                .await
                .unwrap();
        let outcomes: Vec<&str> = charged.iter().map(|(o, _)| o.as_str()).collect();
        assert_eq!(outcomes, ["allowed", "allowed", "refused", "allowed"]);
        assert_eq!(charged[3].1, 1, "the fourth attempt ran as charged");
    }
);
