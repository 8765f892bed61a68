//! Backups of a SQLite database taken while a server writes, and restores.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use credit_desk_proto::pb;
use credit_desk_server::backup;
use credit_desk_server::db::{Db, audit};
use credit_desk_server::demo::DEMO_PEOPLE;
use credit_desk_tests::{Backend, TestServer, rid};

async fn count(db: &Db, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap()
}

// Counter verifications keep arriving (each writes its row and its audit
// entry in one transaction) while three backups are taken; each restores
// to a database whose audit chain verifies and whose rows agree with their
// audit entries: a snapshot, not a mixture.
#[tokio::test]
async fn a_backup_taken_while_writing_restores_to_a_consistent_database() {
    let Some(srv) = TestServer::start(Backend::Sqlite).await else {
        return;
    };
    let counter = srv.session("counter").await;
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut done = 0;
            while !stop.load(Ordering::Relaxed) || done < 20 {
                let (number, name, ..) = DEMO_PEOPLE[done % 2];
                counter
                    .identity()
                    .verify(pb::VerifyRequest {
                        request_id: rid(),
                        identifier: number.into(),
                        name: name.into(),
                        method: pb::VerificationMethod::IdCardReader as i32,
                        ..Default::default()
                    })
                    .await
                    .unwrap();
                done += 1;
            }
            done
        })
    };
    let dir = tempfile::tempdir().unwrap();
    let mut seqs = Vec::new();
    for i in 0..3 {
        let copy = dir.path().join(format!("backup-{i}.db"));
        let summary = backup::backup(&srv.db, &copy).await.unwrap();
        assert!(summary.bytes > 0);
        seqs.push(summary.audit_seq);
        // Never over an existing file.
        let again = backup::backup(&srv.db, &copy).await.unwrap_err();
        assert!(again.to_string().contains("never overwrites"), "{again}");

        let target = dir.path().join(format!("restored-{i}.db"));
        let url = format!("sqlite://{}", target.display());
        let seq = backup::restore(&copy, &url, false).await.unwrap();
        assert_eq!(seq, summary.audit_seq);
        let restored = Db::connect(&url).await.unwrap();
        let verdict = audit::verify(&restored).await.unwrap();
        assert!(verdict.result.is_ok(), "{:?}", verdict.result);
        assert_eq!(verdict.head.seq, seq);
        let rows = count(&restored, "SELECT COUNT(*) FROM verifications").await;
        let entries = count(
            &restored,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'subject.verify'",
        )
        .await;
        assert_eq!(
            rows, entries,
            "backup {i}: rows and their audit entries agree"
        );
        restored.pool().close().await;
        // An existing database is replaced only when asked.
        let e = backup::restore(&copy, &url, false).await.unwrap_err();
        assert!(e.to_string().contains("--replace"), "{e}");
        backup::restore(&copy, &url, true).await.unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let written = writer.await.unwrap();
    assert!(written >= 20);
    assert!(seqs.windows(2).all(|w| w[0] <= w[1]), "{seqs:?}");
    // A database a server has open is not replaced under it.
    let live = format!("sqlite://{}", srv.sqlite_file().unwrap().display());
    let e = backup::restore(&dir.path().join("backup-0.db"), &live, true)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("stop the servers"), "{e}");
    // A "backup" with a write-ahead log beside it is a live or crashed
    // database: what a check reads would not be what is copied.
    let copy = dir.path().join("backup-1.db");
    std::fs::write(dir.path().join("backup-1.db-wal"), b"x").unwrap();
    let e = backup::restore(
        &copy,
        &format!("sqlite://{}", dir.path().join("r.db").display()),
        false,
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("write-ahead log"), "{e}");
    srv.finish().await;
}
