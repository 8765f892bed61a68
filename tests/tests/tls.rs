//! The server with `--tls-cert/--tls-key`: a client that trusts the
//! certificate logs in over TLS; a plain-text client gets nowhere.

use std::sync::Arc;

use credit_desk_proto::pb::{self, auth_client::AuthClient};
use credit_desk_server::clock::ManualClock;
use credit_desk_server::db::Db;
use credit_desk_server::demo;
use credit_desk_server::server::{Running, ServeOptions, TlsFiles};
use credit_desk_tests::{DEMO_PASSWORD, T0};
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

#[tokio::test]
async fn login_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let cert_pem = certified.cert.pem();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, &cert_pem).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();

    let db = Db::connect_and_migrate(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    demo::seed_if_empty(&db, T0).await.unwrap();
    let mut options = ServeOptions::new(db, ManualClock::new(T0) as Arc<_>);
    options.tls = Some(TlsFiles { cert, key });
    let server = Running::start(options, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let port = server.addr.port();

    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&cert_pem))
        .domain_name("localhost");
    let channel = Channel::from_shared(format!("https://localhost:{port}"))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let resp = AuthClient::new(channel)
        .login(pb::LoginRequest {
            username: "center".into(),
            password: DEMO_PASSWORD.into(),
            terminal: "tls".into(),
        })
        .await
        .unwrap();
    assert!(!resp.into_inner().session_token.is_empty());

    // Plain HTTP/2 to a TLS port fails.
    let plain = Channel::from_shared(format!("http://127.0.0.1:{port}"))
        .unwrap()
        .connect()
        .await;
    let refused = match plain {
        Err(_) => true,
        Ok(ch) => AuthClient::new(ch)
            .login(pb::LoginRequest::default())
            .await
            .is_err(),
    };
    assert!(refused);
    server.stop().await.unwrap();
}
