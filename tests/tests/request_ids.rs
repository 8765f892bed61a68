//! A request id is a UUID, however it is spelled: the same id in upper
//! case, in braces or without dashes is one request, replayed, never a
//! second verification (or consent, query log, ticket).

use credit_desk_proto::errors as reason_code;
use credit_desk_proto::pb::{self, VerificationMethod};
use credit_desk_server::demo::DEMO_PEOPLE;
use credit_desk_tests::{TestServer, both_backends, reason};

fn verify_req(request_id: &str, person: usize) -> pb::VerifyRequest {
    let (number, name, ..) = DEMO_PEOPLE[person];
    pb::VerifyRequest {
        request_id: request_id.into(),
        identifier: number.into(),
        name: name.into(),
        method: VerificationMethod::IdCardInspected as i32,
        ..Default::default()
    }
}

both_backends!(
    one_request_id_in_any_spelling_is_one_request,
    async |srv: &TestServer| {
        let mut identity = srv.session("counter").await.identity();
        let id = uuid::Uuid::now_v7();
        let first = identity
            .verify(verify_req(&id.to_string(), 0))
            .await
            .unwrap()
            .into_inner();
        assert!(!first.replayed);
        let made = first.verification.unwrap().id;
        for spelling in [
            id.hyphenated().to_string().to_uppercase(),
            id.braced().to_string(),
            id.simple().to_string(),
            format!("urn:uuid:{id}"),
        ] {
            let again = identity
                .verify(verify_req(&spelling, 0))
                .await
                .unwrap()
                .into_inner();
            assert!(again.replayed, "{spelling}");
            assert_eq!(again.verification.unwrap().id, made, "{spelling}");
        }
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM verifications")
            .fetch_one(srv.db.pool())
            .await
            .unwrap();
        assert_eq!(stored, 1);
        // The same id, however spelled, with other content is refused.
        let e = identity
            .verify(verify_req(&id.simple().to_string(), 2))
            .await
            .unwrap_err();
        assert_eq!(reason(&e), reason_code::REQUEST_ID_REUSED);
    }
);
