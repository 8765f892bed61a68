//! Consent capture, withdrawal and purposes, on both backends.

use credit_desk_proto::pb::{self, ConsentState, consent_client::ConsentClient};
use credit_desk_tests::{
    DEMO_PASSWORD, T0, TestServer, authed, both_backends, login, rid, unit, verify, violations,
};
use tonic::Code;

const DAY: i64 = 86_400_000;

fn consent(srv: &TestServer) -> ConsentClient<tonic::transport::Channel> {
    ConsentClient::new(srv.channel.clone())
}

fn capture(verification: &str, grantee: &str) -> pb::CaptureConsentRequest {
    pb::CaptureConsentRequest {
        request_id: rid(),
        verification_id: verification.into(),
        grantee_id: grantee.into(),
        purpose_code: "loan_approval".into(),
        form_serial: "SQ-2026-000123".into(),
        remarks: "借款人本人到场签字\n附身份证复印件".into(),
        ..Default::default()
    }
}

async fn consent_count(srv: &TestServer) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM consents")
        .fetch_one(srv.db.pool())
        .await
        .unwrap()
}

both_backends!(capture_on_a_live_verification, async |srv: &TestServer| {
    let token = login(srv, "counter", DEMO_PASSWORD).await.unwrap();
    let v = verify(srv, &token, 0).await.1;
    let bank = unit(srv, "B-RCB").await;
    let req = capture(&v, &bank);
    let first = consent(srv)
        .capture_consent(authed(req.clone(), &token))
        .await
        .unwrap()
        .into_inner();
    let c = first.consent.unwrap();
    assert_eq!(c.state(), ConsentState::Active);
    assert_eq!(c.grantee_name, "农村商业银行");
    assert_eq!(c.purpose_name, "贷款审批");
    assert_eq!(c.subject_name, "陈美玲");
    assert_eq!(c.subject_identifier, "441284********0023");
    assert!(c.scope.is_empty(), "every category by default");
    assert_eq!((c.valid_from_ms, c.valid_until_ms), (T0, T0 + 30 * DAY));
    assert_eq!(c.remarks, "借款人本人到场签字\n附身份证复印件");
    // A retry over a flaky link returns the same consent.
    let again = consent(srv)
        .capture_consent(authed(req, &token))
        .await
        .unwrap()
        .into_inner();
    assert!(again.replayed);
    assert_eq!(again.consent.unwrap().id, c.id);
    assert_eq!(consent_count(srv).await, 1);

    // Once the counter visit is over, the verification no longer serves.
    srv.clock.advance_ms(121 * 60_000);
    let token = login(srv, "counter", DEMO_PASSWORD).await.unwrap();
    let e = consent(srv)
        .capture_consent(authed(capture(&v, &bank), &token))
        .await
        .unwrap_err();
    assert_eq!(violations(&e), ["verification_id"]);
});

both_backends!(
    bad_input_names_the_field_and_creates_nothing,
    async |srv: &TestServer| {
        let token = login(srv, "center", DEMO_PASSWORD).await.unwrap();
        let v = verify(srv, &token, 0).await.1;
        let bank = unit(srv, "B-RCB").await;
        let township = unit(srv, "T-DASHA").await;
        let mut req = capture(&v, &township);
        req.purpose_code = "fortune_telling".into();
        req.valid_from_ms = T0 + DAY;
        req.valid_until_ms = T0;
        req.form_serial = " ".into();
        let e = consent(srv)
            .capture_consent(authed(req, &token))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
        assert_eq!(
            violations(&e),
            ["grantee_id", "purpose", "valid_until", "form_serial"]
        );

        let mut req = capture(&v, &bank);
        req.valid_until_ms = T0 + 91 * DAY;
        let e = consent(srv)
            .capture_consent(authed(req, &token))
            .await
            .unwrap_err();
        assert_eq!(violations(&e), ["valid_until"]);
        assert!(e.message().contains("90"), "{}", e.message());

        let e = consent(srv)
            .capture_consent(authed(capture(&rid(), &bank), &token))
            .await
            .unwrap_err();
        assert_eq!(violations(&e), ["verification_id"]);
        assert_eq!(consent_count(srv).await, 0);
    }
);

both_backends!(
    withdrawal_needs_the_subject_verified_again,
    async |srv: &TestServer| {
        let token = login(srv, "counter", DEMO_PASSWORD).await.unwrap();
        let v = verify(srv, &token, 0).await.1;
        let bank = unit(srv, "B-RCB").await;
        let c = consent(srv)
            .capture_consent(authed(capture(&v, &bank), &token))
            .await
            .unwrap()
            .into_inner()
            .consent
            .unwrap();
        let someone_else = verify(srv, &token, 2).await.1;
        let e = consent(srv)
            .withdraw_consent(authed(
                pb::WithdrawConsentRequest {
                    consent_id: c.id.clone(),
                    verification_id: someone_else,
                },
                &token,
            ))
            .await
            .unwrap_err();
        assert_eq!(violations(&e), ["verification_id"]);

        srv.clock.advance_ms(DAY);
        let token = login(srv, "counter", DEMO_PASSWORD).await.unwrap();
        let again = verify(srv, &token, 0).await.1;
        let w = consent(srv)
            .withdraw_consent(authed(
                pb::WithdrawConsentRequest {
                    consent_id: c.id.clone(),
                    verification_id: again,
                },
                &token,
            ))
            .await
            .unwrap()
            .into_inner()
            .consent
            .unwrap();
        assert_eq!(w.state(), ConsentState::Withdrawn);
        assert_eq!(w.withdrawn_at_ms, T0 + DAY);
        // It stays on record.
        let list = consent(srv)
            .list_consents(authed(
                pb::ListConsentsRequest {
                    subject_id: c.subject_id.clone(),
                },
                &token,
            ))
            .await
            .unwrap()
            .into_inner()
            .consents;
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].state(), ConsentState::Withdrawn);
    }
);

both_backends!(
    purposes_are_administered_and_roles_checked,
    async |srv: &TestServer| {
        let admin = login(srv, "admin", DEMO_PASSWORD).await.unwrap();
        let added = consent(srv)
            .add_purpose(authed(
                pb::AddPurposeRequest {
                    request_id: rid(),
                    code: "rental_screening".into(),
                    name_zh: "租赁资格审查".into(),
                    name_en: "rental screening".into(),
                },
                &admin,
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(!added.purpose.unwrap().retired);
        consent(srv)
            .retire_purpose(authed(
                pb::RetirePurposeRequest {
                    code: "credit_card".into(),
                },
                &admin,
            ))
            .await
            .unwrap();

        let counter = login(srv, "counter", DEMO_PASSWORD).await.unwrap();
        let list = consent(srv)
            .list_purposes(authed(
                pb::ListPurposesRequest {
                    include_retired: false,
                },
                &counter,
            ))
            .await
            .unwrap()
            .into_inner();
        let codes: Vec<_> = list.purposes.iter().map(|p| p.code.as_str()).collect();
        assert!(
            codes.contains(&"rental_screening") && !codes.contains(&"credit_card"),
            "{codes:?}"
        );
        assert_eq!(list.max_validity_days, 90);

        // A retired purpose cannot be consented to.
        let v = verify(srv, &counter, 0).await.1;
        let mut req = capture(&v, &unit(srv, "B-RCB").await);
        req.purpose_code = "credit_card".into();
        let e = consent(srv)
            .capture_consent(authed(req, &counter))
            .await
            .unwrap_err();
        assert_eq!(violations(&e), ["purpose"]);

        for user in ["bank", "liaison", "supervisor"] {
            let token = login(srv, user, DEMO_PASSWORD).await.unwrap();
            let e = consent(srv)
                .capture_consent(authed(capture(&v, &v), &token))
                .await
                .unwrap_err();
            assert_eq!(e.code(), Code::PermissionDenied, "{user}");
        }
        let e = consent(srv)
            .add_purpose(authed(
                pb::AddPurposeRequest {
                    request_id: rid(),
                    ..Default::default()
                },
                &counter,
            ))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied);
    }
);
