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

/// A demo database and a self-signed certificate for `localhost` in `dir`:
/// the server's options with TLS on, and the certificate (PEM).
async fn tls_options(dir: &tempfile::TempDir) -> (ServeOptions, String) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let cert_pem = certified.cert.pem();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, &cert_pem).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    credit_desk_server::vault::install_ephemeral();
    let db = Db::connect_and_migrate(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    demo::seed_if_empty(&db, T0).await.unwrap();
    let mut options = ServeOptions::new(db, ManualClock::new(T0) as Arc<_>);
    options.tls = Some(TlsFiles { cert, key });
    (options, cert_pem)
}

#[tokio::test]
async fn login_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let (options, cert_pem) = tls_options(&dir).await;
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

/// With TLS on the TCP listener, the SSH endpoint's in-process calls still
/// work (they never pass through TLS): an SSH clerk verifies a person.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ssh_endpoint_works_beside_tls() {
    use credit_desk_tests::ssh_clerk::SshClerk;
    use ratatui::crossterm::event::KeyCode;

    let dir = tempfile::tempdir().unwrap();
    let (mut options, _) = tls_options(&dir).await;
    let ssh = credit_desk_server::ssh::SshOptions::bind(
        "127.0.0.1:0".parse().unwrap(),
        &dir.path().join("host-key"),
    )
    .await
    .unwrap();
    let ssh_addr = ssh.listener.local_addr().unwrap();
    options.ssh = Some(ssh);
    let server = Running::start(options, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();

    let mut clerk = SshClerk::connect(ssh_addr, "counter", DEMO_PASSWORD, false)
        .await
        .unwrap();
    clerk.expect("主菜单").await;
    clerk.key(KeyCode::Char('v')).await;
    clerk.expect("证件号码").await;
    clerk.text("441284199003070023").await;
    clerk.key(KeyCode::Tab).await;
    clerk.text("陈美玲").await;
    clerk.key(KeyCode::Enter).await;
    clerk.expect("核验通过").await;
    clerk.key(KeyCode::Char('\u{3}')).await;
    clerk.expect_closed().await;
    server.stop().await.unwrap();
}
