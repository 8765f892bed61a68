//! The Prometheus endpoint, scraped as Prometheus would (HTTP on loopback).

use credit_desk_server::demo::DEMO_PASSWORD;
use credit_desk_tests::{Backend, TestServer, login};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn scrape(srv: &TestServer) -> String {
    let mut tcp = tokio::net::TcpStream::connect(srv.metrics).await.unwrap();
    tcp.write_all(b"GET /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    answer
}

/// The value of the sample `name{labels}` (0 when absent).
fn sample(text: &str, name_and_labels: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name_and_labels)?.trim().parse().ok())
        .unwrap_or(0.0)
}

// Calls are counted by method and outcome (refused ones too) and timed;
// the pool, live sessions, locked accounts and the queue are read at each
// scrape.
#[tokio::test]
async fn calls_sessions_and_the_queue_are_exposed() {
    let Some(srv) = TestServer::start(Backend::Sqlite).await else {
        return;
    };
    let before = scrape(&srv).await;
    let ok = r#"creditdesk_rpc_total{method="/creditdesk.v1.Auth/Login",outcome="Ok"}"#;
    let bad =
        r#"creditdesk_rpc_total{method="/creditdesk.v1.Auth/Login",outcome="Unauthenticated"}"#;
    login(&srv, "counter", DEMO_PASSWORD).await.unwrap();
    login(&srv, "counter", DEMO_PASSWORD).await.unwrap();
    login(&srv, "counter", "wrong-password").await.unwrap_err();
    let after = scrape(&srv).await;
    assert_eq!(sample(&after, ok) - sample(&before, ok), 2.0, "{after}");
    assert_eq!(sample(&after, bad) - sample(&before, bad), 1.0, "{after}");
    let timed = r#"creditdesk_rpc_seconds_count{method="/creditdesk.v1.Auth/Login",outcome="Ok"}"#;
    assert!(sample(&after, timed) >= 2.0, "{after}");
    assert!(sample(&after, "creditdesk_sessions_live") >= 2.0, "{after}");
    assert!(
        sample(&after, "creditdesk_db_pool_connections") >= 1.0,
        "{after}"
    );
    assert!(after.contains("creditdesk_tickets_open"), "{after}");
    assert!(after.contains("# EOF"), "{after}");

    // Logins by way and outcome; an account locked by wrong passwords
    // counts as one lockout however many refusals follow. (One test: the
    // figures are the process's, and a parallel test would move them.)
    let locked_out = "creditdesk_lockouts_total";
    let logins =
        |outcome: &str| format!(r#"creditdesk_logins_total{{way="password",outcome="{outcome}"}}"#);
    assert_eq!(
        sample(&after, &logins("ok")) - sample(&before, &logins("ok")),
        2.0
    );
    assert_eq!(
        sample(&after, &logins("refused")) - sample(&before, &logins("refused")),
        1.0
    );
    for _ in 0..7 {
        login(&srv, "liaison", "wrong-password").await.unwrap_err();
    }
    let locked = scrape(&srv).await;
    assert_eq!(
        sample(&locked, locked_out) - sample(&after, locked_out),
        1.0,
        "{locked}"
    );
    assert!(
        sample(&locked, &logins("locked")) - sample(&after, &logins("locked")) >= 2.0,
        "{locked}"
    );
    srv.finish().await;
}
