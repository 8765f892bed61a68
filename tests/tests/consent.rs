//! Consent capture, withdrawal and purposes, on both backends.

use credit_desk_proto::pb::{self, ConsentState};
use credit_desk_tests::{T0, TestServer, both_backends, rid, unit, verify, violations};
use tonic::Code;

const DAY: i64 = 86_400_000;

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
    let token = srv.session("counter").await;
    let v = verify(srv, &token.token, 0).await.1;
    let bank = unit(srv, "B-RCB").await;
    let req = capture(&v, &bank);
    let first = token
        .consent()
        .capture_consent(req.clone())
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
    let again = token
        .consent()
        .capture_consent(req)
        .await
        .unwrap()
        .into_inner();
    assert!(again.replayed);
    assert_eq!(again.consent.unwrap().id, c.id);
    assert_eq!(consent_count(srv).await, 1);

    // Once the counter visit is over, the verification no longer serves.
    srv.clock.advance_ms(121 * 60_000);
    let token = srv.session("counter").await;
    let e = token
        .consent()
        .capture_consent(capture(&v, &bank))
        .await
        .unwrap_err();
    assert_eq!(violations(&e), ["verification_id"]);
});

both_backends!(
    bad_input_names_the_field_and_creates_nothing,
    async |srv: &TestServer| {
        let token = srv.session("center").await;
        let v = verify(srv, &token.token, 0).await.1;
        let bank = unit(srv, "B-RCB").await;
        let township = unit(srv, "T-DASHA").await;
        let mut req = capture(&v, &township);
        req.purpose_code = "fortune_telling".into();
        req.valid_from_ms = T0 + DAY;
        req.valid_until_ms = T0;
        req.form_serial = " ".into();
        let e = token.consent().capture_consent(req).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
        assert_eq!(
            violations(&e),
            ["grantee_id", "purpose", "valid_until", "form_serial"]
        );

        let mut req = capture(&v, &bank);
        req.valid_until_ms = T0 + 91 * DAY;
        let e = token.consent().capture_consent(req).await.unwrap_err();
        assert_eq!(violations(&e), ["valid_until"]);
        assert!(e.message().contains("90"), "{}", e.message());

        // Times whose difference overflows i64 are refused, not stored as
        // an everlasting consent.
        let mut req = capture(&v, &bank);
        req.valid_from_ms = i64::MIN + 1;
        req.valid_until_ms = i64::MAX;
        let e = token.consent().capture_consent(req).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
        assert_eq!(violations(&e), ["valid_from", "valid_until"]);
        let mut req = capture(&v, &bank);
        req.valid_from_ms = i64::MAX;
        let e = token.consent().capture_consent(req).await.unwrap_err();
        assert_eq!(violations(&e), ["valid_from", "valid_until"]);

        let e = token
            .consent()
            .capture_consent(capture(&rid(), &bank))
            .await
            .unwrap_err();
        assert_eq!(violations(&e), ["verification_id"]);
        assert_eq!(consent_count(srv).await, 0);
    }
);

both_backends!(
    withdrawal_needs_the_subject_verified_again,
    async |srv: &TestServer| {
        let token = srv.session("counter").await;
        let v = verify(srv, &token.token, 0).await.1;
        let bank = unit(srv, "B-RCB").await;
        let c = token
            .consent()
            .capture_consent(capture(&v, &bank))
            .await
            .unwrap()
            .into_inner()
            .consent
            .unwrap();
        let someone_else = verify(srv, &token.token, 2).await.1;
        // No reason: refused, naming the field.
        let e = token
            .consent()
            .withdraw_consent(pb::WithdrawConsentRequest {
                consent_id: c.id.clone(),
                verification_id: v.clone(),
                reason: " ".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(violations(&e), ["reason"]);
        let e = token
            .consent()
            .withdraw_consent(pb::WithdrawConsentRequest {
                consent_id: c.id.clone(),
                verification_id: someone_else,
                reason: "不再需要".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(violations(&e), ["verification_id"]);

        srv.clock.advance_ms(DAY);
        let token = srv.session("counter").await;
        let again = verify(srv, &token.token, 0).await.1;
        let w = token
            .consent()
            .withdraw_consent(pb::WithdrawConsentRequest {
                consent_id: c.id.clone(),
                verification_id: again,
                reason: "不再需要".into(),
            })
            .await
            .unwrap()
            .into_inner()
            .consent
            .unwrap();
        assert_eq!(w.state(), ConsentState::Withdrawn);
        assert_eq!(w.withdrawn_at_ms, T0 + DAY);
        assert_eq!(w.withdrawal_reason, "不再需要");
        assert!(!w.withdrawn_by.is_empty());
        // It stays on record.
        let list = token
            .consent()
            .list_consents(pb::ListConsentsRequest {
                subject_id: c.subject_id.clone(),
            })
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
        let admin = srv.session("admin").await;
        let lists = async |known: &str| {
            srv.session("counter")
                .await
                .consent()
                .list_purposes(pb::ListPurposesRequest {
                    include_retired: false,
                    known_version: known.into(),
                })
                .await
                .unwrap()
                .into_inner()
        };
        let before = lists("").await;
        assert!(!before.version.is_empty() && !before.unchanged);
        let added = admin
            .consent()
            .add_purpose(pb::AddPurposeRequest {
                request_id: rid(),
                code: "rental_screening".into(),
                name_zh: "租赁资格审查".into(),
                name_en: "rental screening".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(!added.purpose.unwrap().retired);
        admin
            .consent()
            .retire_purpose(pb::RetirePurposeRequest {
                code: "credit_card".into(),
            })
            .await
            .unwrap();

        let counter = srv.session("counter").await;
        let list = counter
            .consent()
            .list_purposes(pb::ListPurposesRequest {
                include_retired: false,
                known_version: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        // The lists changed, so did their version; the version held is
        // answered in a few bytes, an old one with the lists.
        assert_ne!(list.version, before.version);
        let again = lists(&list.version).await;
        assert!(again.unchanged && again.purposes.is_empty() && again.grantees.is_empty());
        assert_eq!(again.version, list.version);
        let stale = lists(&before.version).await;
        assert!(!stale.unchanged);
        assert_eq!(stale.purposes.len(), list.purposes.len());
        let codes: Vec<_> = list.purposes.iter().map(|p| p.code.as_str()).collect();
        assert!(
            codes.contains(&"rental_screening") && !codes.contains(&"credit_card"),
            "{codes:?}"
        );
        assert_eq!(list.max_validity_days, 90);

        // A retired purpose cannot be consented to.
        let v = verify(srv, &counter.token, 0).await.1;
        let mut req = capture(&v, &unit(srv, "B-RCB").await);
        req.purpose_code = "credit_card".into();
        let e = counter.consent().capture_consent(req).await.unwrap_err();
        assert_eq!(violations(&e), ["purpose"]);

        for user in ["bank", "liaison", "supervisor"] {
            let token = srv.session(user).await;
            let e = token
                .consent()
                .capture_consent(capture(&v, &v))
                .await
                .unwrap_err();
            assert_eq!(e.code(), Code::PermissionDenied, "{user}");
        }
        let e = counter
            .consent()
            .add_purpose(pb::AddPurposeRequest {
                request_id: rid(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied);
    }
);
