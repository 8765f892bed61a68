//! The workstation's link against a real server: unreachable first, then
//! the same client reconnects by itself once the server is up, and the byte
//! meter counts what crossed the wire.

use std::sync::Arc;

use credit_desk::net::{self, Answer, Call, Client};
use credit_desk_proto::{Lang, pb};
use credit_desk_server::clock::SystemClock;
use credit_desk_server::db::Db;
use credit_desk_server::demo::{DEMO_PASSWORD, seed_if_empty};
use credit_desk_server::server::{Running, ServeOptions};

fn login() -> Call {
    Call::Login(pb::LoginRequest {
        username: "counter".into(),
        password: DEMO_PASSWORD.into(),
        terminal: "test".into(),
    })
}

#[tokio::test]
async fn reconnects_when_the_server_comes_back() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::new(&format!("http://127.0.0.1:{port}"), Lang::Zh, None).unwrap();

    let down = client.call(None, login(), &|_, _| {}).await.unwrap_err();
    assert!(net::is_link_failure(&down), "{down:?}");

    let dir = tempfile::tempdir().unwrap();
    credit_desk_server::vault::install_ephemeral();
    let db = Db::connect_and_migrate(&format!("sqlite://{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    seed_if_empty(&db, credit_desk_server::clock::Clock::now_ms(&SystemClock))
        .await
        .unwrap();
    let server = Running::start(
        ServeOptions::new(db, Arc::new(SystemClock)),
        format!("127.0.0.1:{port}").parse().unwrap(),
    )
    .await
    .unwrap();

    let answer = client.call(None, login(), &|_, _| {}).await.unwrap();
    let Answer::Login(resp) = answer else {
        panic!("{answer:?}")
    };
    let home = resp.home.unwrap();
    assert_eq!(home.org_unit.unwrap().code, "T-DASHA");
    let (sent, received) = client.meter.totals();
    assert!(
        sent > 100 && received > 100,
        "sent {sent}, received {received}"
    );
    eprintln!("login incl. menu data: {sent} bytes sent, {received} bytes received");

    // The session works for the next screen on the same connection.
    let answer = client
        .call(Some(&resp.session_token), Call::Home, &|_, _| {})
        .await
        .unwrap();
    assert!(matches!(answer, Answer::Home(_)));
    server.stop().await.unwrap();
}
