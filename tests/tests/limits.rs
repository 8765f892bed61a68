//! The connection bounds, seen from raw TCP and a stock client: a server at
//! its connection limit closes new connections, a silent connection is
//! closed and its place freed, oversized messages are refused.

use std::time::Duration;

use credit_desk_proto::pb::{self, auth_client::AuthClient};
use credit_desk_server::clock::ManualClock;
use credit_desk_server::db::Db;
use credit_desk_server::server::{ConnectionLimits, Running, ServeOptions};
use credit_desk_tests::T0;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tonic::Code;

async fn server(limits: ConnectionLimits) -> (Running, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    credit_desk_server::vault::install_ephemeral();
    let db = Db::connect_and_migrate(&url).await.unwrap();
    let mut options = ServeOptions::new(db, ManualClock::new(T0));
    options.limits = limits;
    let running = Running::start(options, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    (running, dir)
}

/// A login for a username that does not exist.
fn stranger() -> pb::LoginRequest {
    pb::LoginRequest {
        username: "nobody".into(),
        password: "x".into(),
        terminal: String::new(),
    }
}

/// Waits (generously) for the server to close `stream`; true if it did.
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            // The server's HTTP/2 settings may arrive first.
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test]
async fn connections_past_the_limit_are_closed_and_silent_ones_give_their_place_back() {
    let (running, _dir) = server(ConnectionLimits {
        max_connections: 2,
        per_address: 8,
        first_byte: Duration::from_millis(300),
        silence: Duration::from_secs(600),
    })
    .await;
    // Connections that never speak are closed after the first-byte time.
    let mut a = TcpStream::connect(running.addr).await.unwrap();
    let mut b = TcpStream::connect(running.addr).await.unwrap();
    assert!(
        closed_by_server(&mut a).await,
        "a silent connection is closed"
    );
    assert!(
        closed_by_server(&mut b).await,
        "a silent connection is closed"
    );

    // Their places are free again: a real client gets through.
    let mut client = AuthClient::connect(running.url()).await.unwrap();
    let e = client.login(stranger()).await.unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated, "{e:?}");

    // With the client's connection held and one more, the limit is reached
    // and the next connection is closed without a word.
    // (This one speaks: the HTTP/2 preface and empty settings, so it is
    // held for the long silence time, not the short first-byte time.)
    let mut held = TcpStream::connect(running.addr).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(
        &mut held,
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00",
    )
    .await
    .unwrap();
    let mut refused = TcpStream::connect(running.addr).await.unwrap();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(60), refused.read(&mut buf))
        .await
        .expect("closed, not left hanging")
        .unwrap_or(0);
    assert_eq!(n, 0, "a connection past the limit gets no HTTP/2 settings");
    // A graceful stop waits for open connections; close ours.
    drop((held, client));
    running.stop().await.unwrap();
}

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

/// A connection from `ip` (a loopback address of its own).
async fn connect_from(ip: &str, to: std::net::SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{ip}:0").parse().unwrap()).unwrap();
    socket.connect(to).await.unwrap()
}

// A byte now and then does not keep a connection that never opens its
// session (it held a place for the 5-minute silence time), and one address
// cannot take every place.
#[tokio::test]
async fn a_trickle_does_not_hold_a_place_and_one_address_cannot_take_them_all() {
    let (running, _dir) = server(ConnectionLimits {
        max_connections: 16,
        per_address: 2,
        first_byte: Duration::from_millis(500),
        silence: Duration::from_secs(600),
    })
    .await;
    let mut trickle = TcpStream::connect(running.addr).await.unwrap();
    let started = tokio::time::Instant::now();
    let dripping = async {
        for byte in PREFACE.iter().take(20) {
            if tokio::io::AsyncWriteExt::write_all(&mut trickle, &[*byte])
                .await
                .is_err()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    dripping.await;
    assert!(
        closed_by_server(&mut trickle).await,
        "a trickle is closed at the first-byte time"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "closed at the handshake deadline, not the silence time"
    );

    // Two sessions from one address; a third from it is closed at once,
    // while another address still gets through.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = connect_from("127.0.0.3", running.addr).await;
        tokio::io::AsyncWriteExt::write_all(&mut s, PREFACE)
            .await
            .unwrap();
        held.push(s);
    }
    let mut third = connect_from("127.0.0.3", running.addr).await;
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(60), third.read(&mut buf))
        .await
        .expect("closed, not left hanging")
        .unwrap_or(0);
    assert_eq!(n, 0, "a third connection from one address gets nothing");
    let mut other = connect_from("127.0.0.4", running.addr).await;
    tokio::io::AsyncWriteExt::write_all(&mut other, PREFACE)
        .await
        .unwrap();
    let n = tokio::time::timeout(Duration::from_secs(60), other.read(&mut buf))
        .await
        .expect("an answer")
        .unwrap();
    assert!(n > 0, "another address gets the server's settings");
    drop((held, other));
    running.stop().await.unwrap();
}

#[tokio::test]
async fn oversized_requests_are_refused_before_they_are_handled() {
    let (running, _dir) = server(ConnectionLimits::default()).await;
    let mut client = AuthClient::connect(running.url()).await.unwrap();
    let e = client
        .login(pb::LoginRequest {
            username: "a".repeat(200 * 1024),
            password: "x".into(),
            terminal: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(e.message().contains("请求"), "{}", e.message());
    // The connection stays usable.
    let e = client.login(stranger()).await.unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    running.stop().await.unwrap();
}

/// A message whose field 1 is a number where every request of ours has a
/// string: it cannot be decoded as any of them.
#[derive(Clone, PartialEq, prost::Message)]
struct NotARequest {
    #[prost(uint64, tag = "1")]
    number: u64,
}

#[tokio::test]
async fn an_undecodable_request_is_invalid_argument_naming_the_request() {
    let (running, _dir) = server(ConnectionLimits::default()).await;
    let channel = tonic::transport::Channel::from_shared(running.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let e = grpc
        .unary::<_, NotARequest, _>(
            tonic::Request::new(NotARequest { number: 7 }),
            http::uri::PathAndQuery::from_static("/creditdesk.v1.Auth/Login"),
            tonic_prost::ProstCodec::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    use tonic_types::StatusExt;
    let bad = e.get_details_bad_request().expect("field violations");
    assert_eq!(bad.field_violations[0].field, "request");
    assert!(e.message().contains("无法解码"), "{}", e.message());
    running.stop().await.unwrap();
}
