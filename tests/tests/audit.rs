//! The audit trail on both backends: security-relevant acts land in one
//! SM3 hash chain in the same transaction as the act, a retried request
//! adds nothing, and the verifier names the first row that was edited,
//! deleted or inserted.

use credit_desk_server::clock::Clock as _;
use credit_desk_server::db::audit::{self, Break};
use credit_desk_tests::{TestServer, both_backends, load_records, run, self_query, verify};
use sqlx::Executor;

async fn actions(srv: &TestServer) -> Vec<String> {
    sqlx::query_as::<_, (String,)>("SELECT action FROM audit_log ORDER BY seq")
        .fetch_all(srv.db.pool())
        .await
        .unwrap()
        .into_iter()
        .map(|(a,)| a)
        .collect()
}

async fn check(srv: &TestServer) -> Result<(), Break> {
    audit::verify(&srv.db).await.unwrap().result
}

async fn exec(srv: &TestServer, sql: &'static str) {
    srv.db.pool().execute(sql).await.unwrap();
}

type Saved = (
    String,
    i64,
    Option<String>,
    String,
    String,
    String,
    String,
    i64,
);

/// Deletes the chain's n-th row, returning it.
async fn take(srv: &TestServer, seq: i64) -> Saved {
    let saved: Saved = sqlx::query_as(
        "SELECT id, at, operator_id, action, target, detail, hash, seq FROM audit_log WHERE seq = $1",
    )
    .bind(seq)
    .fetch_one(srv.db.pool())
    .await
    .unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq = $1")
        .bind(seq)
        .execute(srv.db.pool())
        .await
        .unwrap();
    saved
}

async fn put_back(srv: &TestServer, r: &Saved) {
    sqlx::query(
        "INSERT INTO audit_log (id, at, operator_id, action, target, detail, hash, seq)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&r.0)
    .bind(r.1)
    .bind(&r.2)
    .bind(&r.3)
    .bind(&r.4)
    .bind(&r.5)
    .bind(&r.6)
    .bind(r.7)
    .execute(srv.db.pool())
    .await
    .unwrap();
}

/// The id of the chain's n-th row.
async fn row(srv: &TestServer, seq: i64) -> String {
    sqlx::query_as::<_, (String,)>("SELECT id FROM audit_log WHERE seq = $1")
        .bind(seq)
        .fetch_one(srv.db.pool())
        .await
        .unwrap()
        .0
}

both_backends!(
    the_counter_day_is_chained_and_tampering_is_named,
    async |srv: &TestServer| {
        load_records(srv).await;
        // A failed login, a login, a verification, a query, a logout.
        let mut auth = srv.auth();
        let wrong = auth
            .login(credit_desk_proto::pb::LoginRequest {
                username: "counter".into(),
                password: "not-the-password".into(),
                terminal: "desk-9".into(),
            })
            .await;
        assert!(wrong.is_err());
        let session = srv.session("counter").await;
        let (subject, v) = verify(srv, &session.token, 1).await;
        let req = self_query(&subject, &v);
        run(srv, &session.token, req.clone()).await;
        // A retried query is the same query: no second audit row.
        assert!(run(srv, &session.token, req).await.replayed);
        session
            .auth()
            .logout(credit_desk_proto::pb::LogoutRequest {})
            .await
            .unwrap();

        let acts = actions(srv).await;
        let day: Vec<&str> = acts
            .iter()
            .map(String::as_str)
            .skip_while(|a| *a != "login.failed")
            .collect();
        assert_eq!(
            day,
            [
                "login.failed",
                "login",
                "subject.verify",
                "query.attempt",
                "logout"
            ],
            "{acts:?}"
        );
        let detail: (String, String) =
            sqlx::query_as("SELECT target, detail FROM audit_log WHERE action = 'query.attempt'")
                .fetch_one(srv.db.pool())
                .await
                .unwrap();
        assert!(
            detail.1.contains("allowed CD-20261123-000001"),
            "{detail:?}"
        );
        let rows = acts.len() as i64;
        assert_eq!(check(srv).await, Ok(()));
        let mut conn = srv.db.read().await.unwrap();
        let head = audit::head(&mut conn).await.unwrap();
        drop(conn);
        assert_eq!(head.seq, rows);

        // Edited: a row's detail rewritten.
        let third = row(srv, 3).await;
        exec(
            srv,
            "UPDATE audit_log SET detail = detail || ' ' WHERE seq = 3",
        )
        .await;
        assert_eq!(
            check(srv).await,
            Err(Break::Edited {
                seq: 3,
                id: third.clone()
            })
        );
        exec(
            srv,
            "UPDATE audit_log SET detail = substr(detail, 1, length(detail) - 1) WHERE seq = 3",
        )
        .await;
        assert_eq!(check(srv).await, Ok(()), "undoing the edit mends the chain");
        // A blanked hash is an edit too, not a failure to read.
        let second = row(srv, 2).await;
        let kept: (Option<String>,) = sqlx::query_as("SELECT hash FROM audit_log WHERE seq = 2")
            .fetch_one(srv.db.pool())
            .await
            .unwrap();
        exec(srv, "UPDATE audit_log SET hash = NULL WHERE seq = 2").await;
        assert_eq!(check(srv).await, Err(Break::Edited { seq: 2, id: second }));
        sqlx::query("UPDATE audit_log SET hash = $1 WHERE seq = 2")
            .bind(kept.0)
            .execute(srv.db.pool())
            .await
            .unwrap();
        assert_eq!(check(srv).await, Ok(()));

        // Deleted: a row in the middle, then the last row; put back, the
        // chain is whole again.
        let fourth = take(srv, 4).await;
        assert_eq!(check(srv).await, Err(Break::Deleted { from: 4, to: 4 }));
        put_back(srv, &fourth).await;
        assert_eq!(check(srv).await, Ok(()));
        let last = take(srv, rows).await;
        assert_eq!(
            check(srv).await,
            Err(Break::Deleted {
                from: rows,
                to: rows
            })
        );
        put_back(srv, &last).await;
        assert_eq!(check(srv).await, Ok(()));

        // Inserted: a row given the next place without moving the head,
        // and one written around the chain (no place in it).
        exec(srv, "INSERT INTO audit_log (id, at, operator_id, action, target, detail, seq, hash) SELECT 'forged', 1, NULL, 'login', 'x', '', seq + 1, hash FROM audit_head").await;
        assert_eq!(
            check(srv).await,
            Err(Break::Inserted {
                seq: Some(rows + 1),
                id: "forged".into()
            })
        );
        exec(srv, "UPDATE audit_log SET seq = 0 WHERE id = 'forged'").await;
        assert_eq!(
            check(srv).await,
            Err(Break::Inserted {
                seq: Some(0),
                id: "forged".into()
            }),
            "a place before the first row is no place"
        );
        exec(
            srv,
            "UPDATE audit_log SET seq = NULL, hash = NULL WHERE id = 'forged'",
        )
        .await;
        assert_eq!(
            check(srv).await,
            Err(Break::Inserted {
                seq: None,
                id: "forged".into()
            })
        );
    }
);

both_backends!(
    rows_from_before_the_chain_are_chained_once_on_migration,
    async |srv: &TestServer| {
        // A database that predates the chain: rows without a place, the
        // head not yet sealed.
        exec(srv, "UPDATE audit_log SET seq = NULL, hash = NULL").await;
        exec(srv, "UPDATE audit_head SET seq = 0, hash = ''").await;
        let before = actions(srv).await.len();
        assert!(before > 0, "the demo seed is audited");
        let sealed = audit::seal_unchained(&srv.db).await.unwrap();
        assert_eq!(sealed as usize, before);
        assert_eq!(check(srv).await, Ok(()));
        // Sealing again changes nothing, and a row slipped in afterwards
        // without a place is an insertion, not history to be chained.
        assert_eq!(audit::seal_unchained(&srv.db).await.unwrap(), 0);
        exec(srv, "INSERT INTO audit_log (id, at, operator_id, action, target, detail) VALUES ('late', 1, NULL, 'x', 'x', '')").await;
        assert_eq!(audit::seal_unchained(&srv.db).await.unwrap(), 0);
        assert!(matches!(
            check(srv).await,
            Err(Break::Inserted { seq: None, .. })
        ));
    }
);

// Old months are archived (a partition detached, dumped and dropped) after
// a checkpoint: the chain still verifies from the checkpoint, a checkpoint
// that does not match its row is named, and rows removed without one are
// named as deleted.
both_backends!(
    months_before_a_checkpoint_can_be_archived,
    async |srv: &TestServer| {
        let month = |s: &str| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .unwrap()
                .and_time(chrono::NaiveTime::MIN)
                .and_utc()
                .timestamp_millis()
        };
        // November's acts, then December's (T0 is 2026-11-23).
        srv.session("counter").await;
        srv.session("center").await;
        let december = month("2026-12-01");
        srv.clock
            .advance_ms(december - srv.clock.now_ms() + 3_600_000);
        srv.session("counter").await;
        let now = srv.clock.now_ms();

        let refused = audit::checkpoint(&srv.db, month("2026-11-01"), now)
            .await
            .unwrap();
        assert!(matches!(refused, Err(audit::NoCheckpoint::NothingBefore)));
        let cp = audit::checkpoint(&srv.db, december, now)
            .await
            .unwrap()
            .unwrap();
        let november: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE at < $1")
            .bind(december)
            .fetch_one(srv.db.pool())
            .await
            .unwrap();
        assert_eq!(cp.seq, november, "the last row of November");
        // Made again: the same checkpoint, nothing added but its audit row.
        let again = audit::checkpoint(&srv.db, december, now)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again, cp);

        // November archived: what is left verifies from the checkpoint.
        sqlx::query("DELETE FROM audit_log WHERE at < $1")
            .bind(december)
            .execute(srv.db.pool())
            .await
            .unwrap();
        assert_eq!(check(srv).await, Ok(()));
        let verdict = audit::verify(&srv.db).await.unwrap();
        assert_eq!(
            verdict.rows as i64,
            verdict.head.seq - cp.seq,
            "only the rows kept were read"
        );

        // A checkpoint edited to fit forged history is named.
        sqlx::query("UPDATE audit_checkpoints SET hash = $1 WHERE seq = $2")
            .bind("00".repeat(32))
            .bind(cp.seq)
            .execute(srv.db.pool())
            .await
            .unwrap();
        assert_eq!(check(srv).await, Err(Break::Checkpoint { seq: cp.seq }));
        sqlx::query("UPDATE audit_checkpoints SET hash = $1 WHERE seq = $2")
            .bind(&cp.hash)
            .bind(cp.seq)
            .execute(srv.db.pool())
            .await
            .unwrap();
        assert_eq!(check(srv).await, Ok(()));

        // Rows removed past the checkpoint, without a new one: deleted.
        let first_kept = cp.seq + 1;
        take(srv, first_kept).await;
        assert_eq!(
            check(srv).await,
            Err(Break::Deleted {
                from: 1,
                to: first_kept
            })
        );
    }
);
