//! The append-only logs' monthly partitions on PostgreSQL (migration 0025,
//! `db::partitions`): logins, queries and audit entries land in their
//! month's partition; months are made ahead; rows that waited in the
//! default partition (a month nobody had made) move into their month when
//! it is made; servers making them at once take turns.

use credit_desk_server::db::Db;
use credit_desk_server::db::partitions::{self, LOGS, MONTHS_AHEAD, Month};
use credit_desk_tests::{Backend, T0, TestServer, run, self_query, verify};

/// The partition holding the newest row of `log`.
async fn newest_partition(db: &Db, log: &str) -> String {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT tableoid::regclass::text FROM {log} ORDER BY at DESC LIMIT 1"
    )))
    .fetch_one(db.pool())
    .await
    .unwrap()
}

async fn rows_in(db: &Db, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn logs_are_kept_by_month_on_postgres() {
    let Some(srv) = TestServer::start(Backend::Postgres).await else {
        return;
    };
    let db = srv.db.clone();
    let session = srv.session("counter").await;
    let (subject, verification) = verify(&srv, &session.token, 0).await;
    assert!(
        run(&srv, &session.token, self_query(&subject, &verification))
            .await
            .allowed
    );
    // The demo's older history waited in the default partitions until the
    // server (or this call, whichever comes first) made its months.
    partitions::ensure(&db, T0).await.unwrap();
    let this_month = Month::of_ms(T0);
    for log in LOGS {
        assert_eq!(
            newest_partition(&db, log).await,
            this_month.partition(log),
            "{log}"
        );
        assert_eq!(rows_in(&db, &format!("{log}_default")).await, 0, "{log}");
    }
    // This month and the ones ahead exist already: nothing to make.
    assert_eq!(
        partitions::ensure(&db, T0).await.unwrap(),
        Vec::<String>::new()
    );

    // A clock far ahead of every made month: the row waits in the default
    // partition, and moves when its month is made.
    let mut far = this_month;
    for _ in 0..6 {
        far = far.next();
    }
    let at = far.start_ms() + 1_000;
    sqlx::query(
        "INSERT INTO login_attempts (id, username, operator_id, at, success, terminal)
         VALUES ('far', 'counter', NULL, $1, 0, 't')",
    )
    .bind(at)
    .execute(db.pool())
    .await
    .unwrap();
    assert_eq!(
        newest_partition(&db, "login_attempts").await,
        "login_attempts_default"
    );
    let made = partitions::ensure(&db, at).await.unwrap();
    assert_eq!(
        made.len(),
        LOGS.len() * (1 + MONTHS_AHEAD as usize),
        "{made:?}"
    );
    assert!(made.contains(&far.partition("login_attempts")), "{made:?}");
    assert_eq!(
        newest_partition(&db, "login_attempts").await,
        far.partition("login_attempts")
    );
    assert_eq!(rows_in(&db, "login_attempts_default").await, 0);
    let moved: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM login_attempts WHERE id = 'far' AND at = $1")
            .bind(at)
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(moved, 1, "the row moved, not lost or doubled");

    // Two servers making the same months at once: each month is made by
    // one of them, and neither fails.
    let later = far.next().next().next().next().start_ms();
    let (a, b) = tokio::join!(
        partitions::ensure(&db, later),
        partitions::ensure(&db, later)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len() + b.len(), LOGS.len() * (1 + MONTHS_AHEAD as usize));
    assert!(a.iter().all(|name| !b.contains(name)), "{a:?} {b:?}");
    srv.finish().await;
}

#[tokio::test]
async fn sqlite_keeps_each_log_whole() {
    let Some(srv) = TestServer::start(Backend::Sqlite).await else {
        return;
    };
    assert!(partitions::ensure(&srv.db, T0).await.unwrap().is_empty());
    srv.finish().await;
}
