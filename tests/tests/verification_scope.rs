//! A verification stands for a person at one counter: another township's
//! clerk can neither see its id nor use it, on any RPC that takes one.
//! (Found by testing the release server: a clerk of one township took an id
//! from GetSubject and acted for a person who never came to their counter.)

use credit_desk_proto::errors as reason_code;
use credit_desk_proto::pb::{self, Role};
use credit_desk_tests::{
    Session, TestServer, add_operator, both_backends, load_records, reason, rid, run, self_query,
    unit, verify, violations,
};
use tonic::Code;

async fn count(srv: &TestServer, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(srv.db.pool())
        .await
        .unwrap()
}

/// Asserts a refusal names `verification_id` as an unknown value.
fn refused_as_unknown(result: Result<impl std::fmt::Debug, tonic::Status>, what: &str) {
    let e = result.expect_err(what);
    assert_eq!(e.code(), Code::InvalidArgument, "{what}: {e:?}");
    assert_eq!(reason(&e), reason_code::VALIDATION, "{what}");
    assert_eq!(violations(&e), ["verification_id"], "{what}");
}

both_backends!(
    a_verification_serves_only_the_counter_that_made_it,
    async |srv: &TestServer| {
        load_records(srv).await;
        add_operator(srv, "jianggu", Role::Counter, "T-JIANGGU").await;
        let dasha = srv.session("counter").await;
        let jianggu = srv.session("jianggu").await;
        let bank = unit(srv, "B-RCB").await;

        // 李建国 at 大沙镇's counter: his own report, a consent, a negative
        // record to object to or explain.
        let (subject, v) = verify(srv, &dasha.token, 1).await;
        let report = run(srv, &dasha.token, self_query(&subject, &v)).await;
        assert!(report.allowed, "{report:?}");
        let record = report.report.unwrap().sections[0].records[0].clone();
        assert!(record.negative);
        let consent = dasha
            .consent()
            .capture_consent(pb::CaptureConsentRequest {
                request_id: rid(),
                verification_id: v.clone(),
                grantee_id: bank.clone(),
                purpose_code: "loan_approval".into(),
                form_serial: "SQ-1".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .consent
            .unwrap();

        // The subject's history shows the visit to 江谷镇 without its id; to
        // 大沙镇 with it.
        let history = async |who: &Session| {
            who.identity()
                .get_subject(pb::GetSubjectRequest {
                    subject_id: subject.clone(),
                })
                .await
                .unwrap()
                .into_inner()
                .verifications
        };
        let seen = history(&jianggu).await;
        assert_eq!(seen.len(), 1);
        assert!(seen[0].id.is_empty(), "{seen:?}");
        assert_eq!(seen[0].org_unit_name, "大沙镇便民服务中心");
        assert_eq!(history(&dasha).await[0].id, v);

        let before = (
            count(srv, "consents").await,
            count(srv, "tickets").await,
            count(srv, "record_explanations").await,
            count(srv, "record_statements").await,
        );
        // Every RPC that takes a verification id, from the other township.
        let refused = run(srv, &jianggu.token, self_query(&subject, &v)).await;
        assert!(!refused.allowed);
        assert!(refused.report.is_none());
        assert_eq!(refused.refusal_code, "verification_of_another_unit");
        let logged: String = sqlx::query_scalar("SELECT reason FROM query_log WHERE id = $1")
            .bind(&refused.query_log_id)
            .fetch_one(srv.db.pool())
            .await
            .unwrap();
        assert_eq!(logged, "verification_of_another_unit");

        let mut consents = jianggu.consent();
        refused_as_unknown(
            consents
                .capture_consent(pb::CaptureConsentRequest {
                    request_id: rid(),
                    verification_id: v.clone(),
                    grantee_id: bank.clone(),
                    purpose_code: "loan_approval".into(),
                    form_serial: "SQ-2".into(),
                    ..Default::default()
                })
                .await,
            "CaptureConsent",
        );
        refused_as_unknown(
            consents
                .withdraw_consent(pb::WithdrawConsentRequest {
                    consent_id: consent.id.clone(),
                    verification_id: v.clone(),
                    reason: "不再需要".into(),
                })
                .await,
            "WithdrawConsent",
        );
        let mut objections = jianggu.objection();
        refused_as_unknown(
            objections
                .file_objection(pb::FileObjectionRequest {
                    request_id: rid(),
                    verification_id: v.clone(),
                    record_ids: vec![record.id.clone()],
                    reason_category: "outdated".into(),
                    reason_text: "已结案".into(),
                    contact_phone: "13800138000".into(),
                    contact_address: "江谷镇".into(),
                    notify_by: "phone".into(),
                    ..Default::default()
                })
                .await,
            "FileObjection",
        );
        refused_as_unknown(
            objections
                .add_statement(pb::AddStatementRequest {
                    request_id: rid(),
                    record_id: record.id.clone(),
                    verification_id: v.clone(),
                    text: "本人声明".into(),
                })
                .await,
            "AddStatement",
        );
        refused_as_unknown(
            jianggu
                .query()
                .add_explanation(pb::AddExplanationRequest {
                    request_id: rid(),
                    record_id: record.id.clone(),
                    verification_id: v.clone(),
                    text: "已和解".into(),
                })
                .await,
            "AddExplanation",
        );
        let after = (
            count(srv, "consents").await,
            count(srv, "tickets").await,
            count(srv, "record_explanations").await,
            count(srv, "record_statements").await,
        );
        assert_eq!(before, after, "nothing was written for the other township");
        let withdrawn: Option<i64> =
            sqlx::query_scalar("SELECT withdrawn_at FROM consents WHERE id = $1")
                .bind(&consent.id)
                .fetch_one(srv.db.pool())
                .await
                .unwrap();
        assert_eq!(withdrawn, None);

        // The counter that made it still can: the refusal is about the unit.
        let mine = dasha
            .query()
            .add_explanation(pb::AddExplanationRequest {
                request_id: rid(),
                record_id: record.id.clone(),
                verification_id: v.clone(),
                text: "已和解".into(),
            })
            .await;
        assert!(mine.is_ok(), "{mine:?}");
    }
);
