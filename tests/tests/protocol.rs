//! What stock gRPC clients see: reflection, health, compression.

use credit_desk_proto::pb::{self, auth_client::AuthClient};
use credit_desk_tests::{DEMO_PASSWORD, TestServer, both_backends};
use tonic::codec::CompressionEncoding;
use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
};

both_backends!(reflection_lists_every_service, async |srv: &TestServer| {
    let mut client = ServerReflectionClient::new(srv.channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = stream.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection answer");
    };
    let mut names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
    names.sort();
    for expected in [
        "creditdesk.v1.Admin",
        "creditdesk.v1.Auth",
        "grpc.health.v1.Health",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
});

both_backends!(zstd_and_gzip_both_work, async |srv: &TestServer| {
    for encoding in [CompressionEncoding::Zstd, CompressionEncoding::Gzip] {
        let mut client = AuthClient::new(srv.channel.clone())
            .send_compressed(encoding)
            .accept_compressed(encoding);
        let resp = client
            .login(pb::LoginRequest {
                username: "center".into(),
                password: DEMO_PASSWORD.into(),
                terminal: format!("{encoding:?}"),
            })
            .await
            .unwrap();
        let used = resp
            .metadata()
            .get("grpc-encoding")
            .map(|v| v.to_str().unwrap().to_string());
        assert_eq!(
            used,
            Some(encoding.to_string()),
            "the answer is compressed as asked"
        );
    }
});

// Every answer's headers cross a township line: no `date` (a new value each
// second, ~25 bytes a call, read by no gRPC client). (That small answers go
// uncompressed is tested where it is decided, `services::respond`.)
both_backends!(answers_carry_no_date, async |srv: &TestServer| {
    let mut client = AuthClient::new(srv.channel.clone())
        .send_compressed(CompressionEncoding::Zstd)
        .accept_compressed(CompressionEncoding::Zstd);
    let login = client
        .login(pb::LoginRequest {
            username: "center".into(),
            password: DEMO_PASSWORD.into(),
            terminal: "protocol".into(),
        })
        .await
        .unwrap();
    assert!(
        login.metadata().get("date").is_none(),
        "{:?}",
        login.metadata()
    );
    assert_eq!(
        login
            .metadata()
            .get("grpc-encoding")
            .map(|v| v.to_str().unwrap()),
        Some("zstd"),
        "a login answer is worth compressing"
    );
    let token = login.into_inner().session_token;
    let mut logout = tonic::Request::new(pb::LogoutRequest {});
    logout.metadata_mut().insert(
        credit_desk_proto::SESSION_METADATA_KEY,
        token.parse().unwrap(),
    );
    let answer = client.logout(logout).await.unwrap();
    assert!(answer.metadata().get("date").is_none());
});
