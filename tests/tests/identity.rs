//! Verification at the counter and the subject registry, on both backends.

use credit_desk_proto::errors as reason_code;
use credit_desk_proto::pb::{self, VerificationMethod, VerifyOutcome};
use credit_desk_server::clock::MINUTE_MS;
use credit_desk_server::demo::DEMO_PEOPLE;
use credit_desk_tests::{TestServer, both_backends, reason, violations};
use tonic::Code;
use tonic_types::StatusExt;

fn request(identifier: &str, name: &str) -> pb::VerifyRequest {
    pb::VerifyRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        identifier: identifier.into(),
        name: name.into(),
        method: VerificationMethod::IdCardReader as i32,
        ..Default::default()
    }
}

async fn verification_count(srv: &TestServer) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM verifications")
        .fetch_one(srv.db.pool())
        .await
        .unwrap()
}

both_backends!(verified_subject_gets_an_event, async |srv: &TestServer| {
    let token = srv.session("counter").await;
    let (number, name, ..) = DEMO_PEOPLE[0];
    // Typed with a full-width input method and a lower-case x would also do.
    let typed = format!(" {} ", number.replace('0', "０"));
    let resp = token
        .identity()
        .verify(request(&typed, name))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resp.outcome(), VerifyOutcome::Verified);
    let subject = resp.subject.unwrap();
    assert_eq!(subject.name, name);
    assert_eq!(subject.identifier, number);
    assert_eq!(subject.township, "大沙镇便民服务中心");
    let v = resp.verification.unwrap();
    assert_eq!(v.method(), VerificationMethod::IdCardReader);
    assert_eq!(v.org_unit_name, "大沙镇便民服务中心");
    assert_eq!(v.expires_at_ms - v.created_at_ms, 120 * MINUTE_MS);
    let terminal: String = sqlx::query_scalar("SELECT terminal FROM verifications WHERE id = $1")
        .bind(&v.id)
        .fetch_one(srv.db.pool())
        .await
        .unwrap();
    assert_eq!(terminal, "test", "the terminal named at login is recorded");
});

both_backends!(
    outcomes_are_distinct_and_create_nothing,
    async |srv: &TestServer| {
        let token = srv.session("counter").await;
        let (number, ..) = DEMO_PEOPLE[0];
        let mismatch = token
            .identity()
            .verify(request(number, "陈美丽"))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(mismatch.outcome(), VerifyOutcome::NameMismatch);
        assert!(
            mismatch.subject.is_none(),
            "nothing about the registered person is disclosed: {:?}",
            mismatch.subject
        );
        assert!(mismatch.verification.is_none());

        let unknown_number = "11010519491231002X";
        let unknown = token
            .identity()
            .verify(request(unknown_number, "王丽"))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(unknown.outcome(), VerifyOutcome::UnknownSubject);
        assert!(unknown.subject.is_none());

        let e = token
            .identity()
            .verify(request("110105194912310021", "王丽"))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
        let v = &e.get_details_bad_request().unwrap().field_violations[0];
        assert_eq!(v.field, "identifier");
        assert_eq!(v.description, "校验位应为 X，实为 1");
        assert_eq!(verification_count(srv).await, 0);
    }
);

both_backends!(
    agents_need_their_own_identity_and_poa,
    async |srv: &TestServer| {
        let token = srv.session("center").await;
        let (number, name, ..) = DEMO_PEOPLE[0];
        let mut req = request(number, name);
        req.method = VerificationMethod::AgentWithPoa as i32;
        let e = token.identity().verify(req.clone()).await.unwrap_err();
        let fields: Vec<_> = e
            .get_details_bad_request()
            .unwrap()
            .field_violations
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, ["agent_identifier", "agent_name", "poa_reference"]);
        req.agent_identifier = DEMO_PEOPLE[1].0.into();
        req.agent_name = DEMO_PEOPLE[1].1.into();
        req.poa_reference = "SQWT-2026-0001".into();
        let resp = token.identity().verify(req).await.unwrap().into_inner();
        let v = resp.verification.unwrap();
        assert_eq!(
            v.agent_identifier, "441284********0010",
            "the agent's number is masked"
        );
        assert_eq!(v.poa_reference, "SQWT-2026-0001");
    }
);

both_backends!(
    a_retried_verification_records_once,
    async |srv: &TestServer| {
        let token = srv.session("counter").await;
        let (number, name, ..) = DEMO_PEOPLE[2];
        let req = request(number, name);
        let a = token
            .identity()
            .verify(req.clone())
            .await
            .unwrap()
            .into_inner();
        let b = token.identity().verify(req).await.unwrap().into_inner();
        assert!(!a.replayed && b.replayed);
        assert_eq!(a.verification.unwrap().id, b.verification.unwrap().id);
        assert_eq!(verification_count(srv).await, 1);
    }
);

both_backends!(
    who_may_verify_and_what_they_see,
    async |srv: &TestServer| {
        let (number, name, ..) = DEMO_PEOPLE[0];
        for user in ["liaison", "bank", "supervisor", "admin"] {
            let token = srv.session(user).await;
            let e = token
                .identity()
                .verify(request(number, name))
                .await
                .unwrap_err();
            assert_eq!(e.code(), Code::PermissionDenied, "{user}");
            assert_eq!(reason(&e), reason_code::PERMISSION_DENIED);
        }
        // Lists: masked for the counter and the supervisor, full for the center.
        for (user, expected) in [
            ("counter", "441284********0023"),
            ("supervisor", "441284********0023"),
            ("center", number),
        ] {
            let token = srv.session(user).await;
            let list = token
                .identity()
                .list_subjects(pb::ListSubjectsRequest {
                    query: "陈美".into(),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .subjects;
            assert_eq!(list.len(), 1, "{user}");
            assert_eq!(list[0].identifier, expected, "{user}");
        }
        // A household lists its members.
        let token = srv.session("center").await;
        let list = token
            .identity()
            .list_subjects(pb::ListSubjectsRequest {
                query: "李建国户".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .subjects;
        let detail = token
            .identity()
            .get_subject(pb::GetSubjectRequest {
                subject_id: list[0].id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        let names: Vec<_> = detail
            .household
            .iter()
            .flat_map(|h| &h.members)
            .map(|m| m.person.as_ref().unwrap().name.as_str())
            .collect();
        assert_eq!(names, ["李建国", "陈美玲"]);
    }
);

both_backends!(
    registry_search_pages_by_opaque_cursor_and_bounds_its_input,
    async |srv: &TestServer| {
        let token = srv.session("counter").await;
        let search = |query: &str, cursor: &str| pb::ListSubjectsRequest {
            query: query.into(),
            page: Some(pb::PageRequest {
                limit: 1,
                cursor: cursor.into(),
            }),
        };
        // 李建国 and his household: page through them one at a time.
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = token
                .identity()
                .list_subjects(search("李", &cursor))
                .await
                .unwrap()
                .into_inner();
            seen.extend(page.subjects.iter().map(|s| s.id.clone()));
            assert!(
                page.next_cursor.is_empty() || uuid::Uuid::parse_str(&page.next_cursor).is_ok(),
                "the cursor is an id, not an identity number: {}",
                page.next_cursor
            );
            if page.next_cursor.is_empty() {
                break;
            }
            cursor = page.next_cursor;
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "no subject twice");
        assert!(seen.len() >= 2, "{seen:?}");

        // Numbers are sealed: a whole one finds its holder (full-width
        // digits too); a part of one only narrows a name (registry.rs).
        for (query, found) in [
            ("441284196508120010", 1),
            ("４４１２８４１９６５０８１２００１０", 1),
        ] {
            let list = token
                .identity()
                .list_subjects(search(query, ""))
                .await
                .unwrap()
                .into_inner();
            assert_eq!(list.subjects.len(), found, "{query}");
        }

        // LIKE's wildcards are literal characters, not "everything".
        for wild in ["%", "_", "\\"] {
            let list = token
                .identity()
                .list_subjects(search(wild, ""))
                .await
                .unwrap()
                .into_inner();
            assert!(
                list.subjects.is_empty(),
                "{wild:?} matched {:?}",
                list.subjects
            );
        }
        // Too long, control characters, a cursor that is not ours: the field
        // is named, nothing is INTERNAL.
        for (req, field) in [
            (search(&"陈".repeat(20_000), ""), "query"),
            // Past the request size limit the request as a whole is named.
            (search(&"陈".repeat(300_000), ""), "request"),
            (search("\u{1b}[2J", ""), "query"),
            (search("李", "441284199003070023"), "cursor"),
        ] {
            let e = token.identity().list_subjects(req).await.unwrap_err();
            assert_eq!(e.code(), tonic::Code::InvalidArgument);
            assert_eq!(violations(&e), [field]);
        }
    }
);

// An organisation registered from its licence at the center: its type read
// off the credit code, its legal representative kept, who then verifies
// for it in person; a retry registers once; bad input names every field;
// a supervisor may not register anyone.
both_backends!(
    an_organisation_is_registered_from_its_licence,
    async |srv: &TestServer| {
        let center = srv.session("center").await;
        let req = pb::RegisterSubjectRequest {
            request_id: credit_desk_tests::rid(),
            identifier: "9144030071526726XG".into(),
            name: "深圳市某某科技有限公司".into(),
            address: "深圳市南山区科技园".into(),
            phone: "0755-26001234".into(),
            legal_representative: "张三".into(),
        };
        let first = center
            .identity()
            .register_subject(req.clone())
            .await
            .unwrap()
            .into_inner();
        let subject = first.subject.unwrap();
        assert_eq!(subject.kind, pb::SubjectKind::Organisation as i32);
        assert_eq!(subject.identifier, "9144030071526726XG");
        assert_eq!(subject.legal_representative, "张三");
        assert!(!subject.org_type.is_empty());
        assert!(!first.replayed);
        let again = center
            .identity()
            .register_subject(req)
            .await
            .unwrap()
            .into_inner();
        assert!(again.replayed);
        assert_eq!(again.subject.unwrap().id, subject.id);

        let verified = center
            .identity()
            .verify(pb::VerifyRequest {
                acting_as: pb::OrgActor::LegalRepresentative as i32,
                agent_identifier: DEMO_PEOPLE[1].0.into(),
                agent_name: "张三".into(),
                licence: "营业执照正本".into(),
                ..request("9144030071526726XG", "深圳市某某科技有限公司")
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(verified.outcome, VerifyOutcome::Verified as i32);

        let bad = center
            .identity()
            .register_subject(pb::RegisterSubjectRequest {
                request_id: credit_desk_tests::rid(),
                identifier: "9144030071526726XA".into(),
                phone: "abc".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(bad.code(), Code::InvalidArgument);
        assert_eq!(violations(&bad), ["identifier", "name", "address", "phone"]);

        let denied = srv
            .session("supervisor")
            .await
            .identity()
            .register_subject(pb::RegisterSubjectRequest::default())
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied);
    }
);
