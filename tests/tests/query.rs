//! Queries on both backends: the server decides the basis, logs every
//! attempt with the decision, and returns the whole report.

use credit_desk_proto::pb::{self, run_query_request::Basis};
use credit_desk_server::demo::DEMO_PEOPLE;
use credit_desk_tests::{
    TestServer, both_backends, load_records, rid, run, self_query, unit, verify,
};

async fn log_rows(srv: &TestServer) -> Vec<(String, String)> {
    sqlx::query_as("SELECT outcome, reason FROM query_log ORDER BY at, id")
        .fetch_all(srv.db.pool())
        .await
        .unwrap()
}

both_backends!(
    self_query_returns_the_whole_report,
    async |srv: &TestServer| {
        load_records(srv).await;
        let token = srv.session("counter").await;
        let (subject, v) = verify(srv, &token.token, 1).await;
        let resp = run(srv, &token.token, self_query(&subject, &v)).await;
        assert!(resp.allowed, "{resp:?}");
        assert!(!resp.fee_applies);
        let report = resp.report.unwrap();
        assert_eq!(report.report_no, "CD-20261123-000001");
        assert_eq!(report.subject.unwrap().identifier, DEMO_PEOPLE[1].0);
        let sections: Vec<(&str, usize)> = report
            .sections
            .iter()
            .map(|s| (s.code.as_str(), s.records.len()))
            .collect();
        assert_eq!(sections, [("court_judgment", 1), ("dishonest_debtor", 1)]);
        assert_eq!(
            report.withheld_for_age, 1,
            "the 2019 judgment is kept but not shown"
        );
        assert_eq!(report.basis, "self");
        assert_eq!(
            report.query_records.len(),
            1,
            "this very query is on record"
        );
        assert_eq!(
            log_rows(srv).await,
            [("allowed".to_string(), String::new())]
        );

        // A retry of the same request is the same query, not a second one.
        let req = self_query(&subject, &v);
        let a = run(srv, &token.token, req.clone()).await;
        let b = run(srv, &token.token, req).await;
        assert!(b.replayed);
        assert_eq!(a.report.unwrap().report_no, b.report.unwrap().report_no);
        assert_eq!(log_rows(srv).await.len(), 2);
    }
);

both_backends!(
    every_refusal_is_logged_with_its_reason,
    async |srv: &TestServer| {
        let counter = srv.session("counter").await;
        let (subject, v) = verify(srv, &counter.token, 0).await;
        let (_, other) = verify(srv, &counter.token, 2).await;
        let refused = run(srv, &counter.token, self_query(&subject, &other)).await;
        assert!(!refused.allowed && refused.report.is_none());
        assert_eq!(refused.refusal_code, "verification_of_another_subject");
        assert_eq!(refused.refusal_message, "该身份核验不是被查询人本人的");

        let bank = srv.session("bank").await;
        let r = run(srv, &bank.token, self_query(&subject, &v)).await;
        assert_eq!(r.refusal_code, "role_needs_consent");

        srv.clock.advance_ms(3 * 3_600_000);
        let counter = srv.session("counter").await;
        let r = run(srv, &counter.token, self_query(&subject, &v)).await;
        assert_eq!(r.refusal_code, "verification_expired");
        let reasons: Vec<String> = log_rows(srv)
            .await
            .into_iter()
            .map(|(o, r)| format!("{o}:{r}"))
            .collect();
        assert_eq!(
            reasons,
            [
                "refused:verification_of_another_subject",
                "refused:role_needs_consent",
                "refused:verification_expired"
            ]
        );
    }
);

both_backends!(consent_queries_and_withdrawal, async |srv: &TestServer| {
    load_records(srv).await;
    let counter = srv.session("counter").await;
    let (subject, v) = verify(srv, &counter.token, 1).await;
    let bank_unit = unit(srv, "B-RCB").await;
    let consent = counter
        .consent()
        .capture_consent(pb::CaptureConsentRequest {
            request_id: rid(),
            verification_id: v.clone(),
            grantee_id: bank_unit.clone(),
            purpose_code: "loan_approval".into(),
            scope: vec!["dishonest_debtor".into()],
            form_serial: "SQ-1".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .consent
        .unwrap();
    let on_consent = |purpose: &str| pb::RunQueryRequest {
        request_id: rid(),
        subject_id: subject.clone(),
        basis: Some(Basis::ConsentBasis(pb::ConsentBasis {
            consent_id: consent.id.clone(),
            institution_id: bank_unit.clone(),
            purpose_code: purpose.into(),
        })),
        ..Default::default()
    };
    let bank = srv.session("bank").await;
    // The bank finds the consent by the customer's number.
    let found = bank
        .consent()
        .find_consents(pb::FindConsentsRequest {
            identifier: DEMO_PEOPLE[1].0.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .consents;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, consent.id);
    // A department's liaison holds no consent of this bank's.
    let liaison = srv.session("liaison").await;
    let none = liaison
        .consent()
        .find_consents(pb::FindConsentsRequest {
            identifier: DEMO_PEOPLE[1].0.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .consents;
    assert!(none.is_empty());
    let wrong = run(srv, &bank.token, on_consent("post_loan")).await;
    assert_eq!(wrong.refusal_code, "purpose_mismatch");
    let ok = run(srv, &bank.token, on_consent("loan_approval")).await;
    assert!(ok.allowed, "{ok:?}");
    let report = ok.report.unwrap();
    assert_eq!(report.institution_name, "农村商业银行");
    assert_eq!(report.purpose_name, "贷款审批");
    let codes: Vec<_> = report.sections.iter().map(|s| s.code.as_str()).collect();
    assert_eq!(codes, ["dishonest_debtor"], "only what the consent covers");

    // Withdrawn: later queries are refused, the earlier one stays on record.
    let again = verify(srv, &counter.token, 1).await.1;
    counter
        .consent()
        .withdraw_consent(pb::WithdrawConsentRequest {
            consent_id: consent.id.clone(),
            verification_id: again.clone(),
            reason: "不再需要".into(),
        })
        .await
        .unwrap();
    let after = run(srv, &bank.token, on_consent("loan_approval")).await;
    assert_eq!(after.refusal_code, "consent_withdrawn");
    let own = run(srv, &counter.token, self_query(&subject, &again))
        .await
        .report
        .unwrap();
    let by: Vec<_> = own
        .query_records
        .iter()
        .map(|q| q.institution.as_str())
        .collect();
    assert_eq!(by, ["本人查询", "农村商业银行"]);
});

both_backends!(
    the_third_self_query_of_a_year_needs_fee_confirmation,
    async |srv: &TestServer| {
        let counter = srv.session("counter").await;
        let (subject, v) = verify(srv, &counter.token, 2).await;
        for _ in 0..2 {
            let r = run(srv, &counter.token, self_query(&subject, &v)).await;
            assert!(r.allowed && !r.fee_applies);
        }
        let third = run(srv, &counter.token, self_query(&subject, &v)).await;
        assert!(!third.allowed && third.fee_applies);
        assert_eq!(third.refusal_code, "fee_confirmation_required");
        let mut confirmed = self_query(&subject, &v);
        confirmed.fee_confirmed = true;
        let paid = run(srv, &counter.token, confirmed).await;
        assert!(paid.allowed && paid.fee_applies);
    }
);

both_backends!(no_log_no_report, async |srv: &TestServer| {
    let counter = srv.session("counter").await;
    let (subject, v) = verify(srv, &counter.token, 0).await;
    // The log cannot be written: the query must fail, with no report.
    let drop = match srv.db.backend() {
        credit_desk_server::db::Backend::Sqlite => "DROP TABLE query_log",
        credit_desk_server::db::Backend::Postgres => "DROP TABLE query_log CASCADE",
    };
    sqlx::query(drop).execute(srv.db.pool()).await.unwrap();
    let e = counter
        .query()
        .run_query(self_query(&subject, &v))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::Internal);
});

both_backends!(
    explanations_appear_with_the_record,
    async |srv: &TestServer| {
        load_records(srv).await;
        let counter = srv.session("counter").await;
        let (subject, v) = verify(srv, &counter.token, 1).await;
        let report = run(srv, &counter.token, self_query(&subject, &v))
            .await
            .report
            .unwrap();
        let record = report
            .sections
            .iter()
            .find(|s| s.code == "dishonest_debtor")
            .unwrap()
            .records[0]
            .id
            .clone();
        counter
            .query()
            .add_explanation(pb::AddExplanationRequest {
                request_id: rid(),
                record_id: record.clone(),
                verification_id: v.clone(),
                text: "已与申请执行人达成和解，正在分期履行".into(),
            })
            .await
            .unwrap();
        let report = run(srv, &counter.token, self_query(&subject, &v))
            .await
            .report
            .unwrap();
        let rec = report
            .sections
            .iter()
            .flat_map(|s| &s.records)
            .find(|r| r.id == record)
            .unwrap();
        assert_eq!(rec.explanations.len(), 1);
        assert_eq!(
            rec.explanations[0].text,
            "已与申请执行人达成和解，正在分期履行"
        );
        assert_eq!(rec.explanations[0].taken_by, "李柜员");
    }
);

// Every attempt is logged, whoever makes it (条例 art. 22): a role that may
// not query is refused as before, and the refusal is on record once.
both_backends!(
    a_supervisors_query_attempt_is_refused_and_logged,
    async |srv: &TestServer| {
        let counter = srv.session("counter").await;
        let (subject, v) = verify(srv, &counter.token, 1).await;
        let supervisor = srv.session("supervisor").await;
        let req = self_query(&subject, &v);
        for _ in 0..2 {
            let e = supervisor.query().run_query(req.clone()).await.unwrap_err();
            assert_eq!(e.code(), tonic::Code::PermissionDenied, "{e:?}");
        }
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT q.outcome, q.reason, o.username FROM query_log q
             JOIN operators o ON o.id = q.operator_id",
        )
        .fetch_all(srv.db.pool())
        .await
        .unwrap();
        assert_eq!(
            rows,
            [(
                "refused".to_string(),
                "role_may_not_query".to_string(),
                "supervisor".to_string()
            )]
        );
    }
);

// Every issued report is kept as issued: a retry answers it again, the
// issuing unit reprints it by number — marked as a reprint, identical
// otherwise even after the records changed — an inspection (supervisor)
// reads it with the number masked, another unit finds nothing; every
// reprint is audited and the kept copy is sealed.
both_backends!(
    an_issued_report_is_reprinted_as_it_was_issued,
    async |srv: &TestServer| {
        load_records(srv).await;
        let counter = srv.session("counter").await;
        let (subject, v) = verify(srv, &counter.token, 1).await;
        let req = self_query(&subject, &v);
        let first = run(srv, &counter.token, req.clone()).await;
        let issued = first.report.clone().expect("allowed");
        assert!(issued.reprinted_at_ms == 0 && issued.reprinted_by.is_empty());

        // The records change after the report was issued.
        sqlx::query("UPDATE record_versions SET status = '已结清' WHERE 1 = 1")
            .execute(srv.db.pool())
            .await
            .unwrap();
        let retried = run(srv, &counter.token, req).await;
        assert!(retried.replayed);
        assert_eq!(
            retried.report.as_ref(),
            Some(&issued),
            "a retry is the report issued"
        );

        let reprint = |token: &credit_desk_tests::Session, no: &str| {
            let mut client = token.query();
            let no = no.to_string();
            async move {
                client
                    .get_issued_report(pb::GetIssuedReportRequest { report_no: no })
                    .await
            }
        };
        srv.clock.advance_ms(3_600_000);
        let counter = srv.session("counter").await;
        let again = reprint(&counter, &issued.report_no.to_lowercase())
            .await
            .unwrap()
            .into_inner();
        assert!(again.reprinted_at_ms > issued.generated_at_ms);
        assert_eq!(again.reprinted_by, "李柜员");
        assert_eq!(
            pb::Report {
                reprinted_at_ms: 0,
                reprinted_by: String::new(),
                ..again.clone()
            },
            issued,
            "exactly as first issued"
        );

        let inspection = reprint(&srv.session("supervisor").await, &issued.report_no)
            .await
            .unwrap()
            .into_inner();
        let seen = inspection.subject.unwrap();
        assert_eq!(
            seen.identifier, "441284********0010",
            "an inspection sees the number masked"
        );
        assert!(
            seen.phone.is_empty() && seen.birth_date.is_empty(),
            "{seen:?}"
        );
        let elsewhere = reprint(&srv.session("bank").await, &issued.report_no)
            .await
            .unwrap_err();
        assert_eq!(elsewhere.code(), tonic::Code::NotFound);
        let unknown = reprint(&counter, "CD-20261123-999999").await.unwrap_err();
        assert_eq!(unknown.code(), tonic::Code::NotFound);
        let bad = reprint(&counter, "\u{1b}[2J").await.unwrap_err();
        assert_eq!(bad.code(), tonic::Code::InvalidArgument);

        let audited: Vec<(String,)> =
            sqlx::query_as("SELECT target FROM audit_log WHERE action = 'report.reprint'")
                .fetch_all(srv.db.pool())
                .await
                .unwrap();
        assert_eq!(audited.len(), 2, "the counter's and the inspection's");
        let (body,): (String,) = sqlx::query_as("SELECT body FROM issued_reports")
            .fetch_one(srv.db.pool())
            .await
            .unwrap();
        assert!(body.starts_with("sm4:"), "sealed: {}", &body[..20]);
    }
);
