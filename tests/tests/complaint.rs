//! Complaints on both backends: filed once however often the request is
//! retried, seen by the unit that filed them and by the center, assigned to
//! a center clerk, answered in writing once, overdue after 30 days.

use credit_desk_proto::pb::{self, ComplaintChannel};
use credit_desk_server::demo::DEMO_PEOPLE;
use credit_desk_tests::{T0, TestServer, both_backends, rid};

fn complaint(about: &str) -> pb::FileComplaintRequest {
    pb::FileComplaintRequest {
        request_id: rid(),
        channel: ComplaintChannel::InPerson as i32,
        complainant: "李建国".into(),
        contact: "13800138000".into(),
        subject_identifier: DEMO_PEOPLE[1].0.into(),
        about: about.into(),
        received_on: String::new(),
    }
}

both_backends!(
    a_complaint_is_filed_once_assigned_and_answered_in_writing,
    async |srv: &TestServer| {
        let counter = srv.session("counter").await;
        let req = complaint("查询记录中有一条不认识的机构查询");
        let filed = counter
            .complaint()
            .file_complaint(req.clone())
            .await
            .unwrap()
            .into_inner();
        assert_eq!(filed.complaint_no, "TS-20261123-0001");
        assert_eq!(
            (filed.received_on.as_str(), filed.due_on.as_str()),
            ("2026-11-23", "2026-12-23")
        );
        assert_eq!(filed.urgency, "later");
        assert_eq!(filed.subject_identifier, "441284********0010");
        assert_eq!(filed.filed_by, "李柜员");
        assert_eq!(filed.state, "open");
        // A retry is the same complaint.
        let again = counter
            .complaint()
            .file_complaint(req)
            .await
            .unwrap()
            .into_inner();
        assert!(again.replayed);
        assert_eq!(again.id, filed.id);

        // Bad input names the fields.
        let bad = counter
            .complaint()
            .file_complaint(pb::FileComplaintRequest {
                request_id: rid(),
                received_on: "2026-11-24".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(bad.code(), tonic::Code::InvalidArgument);
        let huge = counter
            .complaint()
            .file_complaint(complaint(&"长".repeat(2_001)))
            .await
            .unwrap_err();
        assert_eq!(huge.code(), tonic::Code::InvalidArgument);
        assert!(huge.message().contains("投诉事项"), "{}", huge.message());
        for label in ["投诉人", "联系方式", "投诉事项", "投诉方式", "收到投诉日期"]
        {
            assert!(bad.message().contains(label), "{label}: {}", bad.message());
        }

        // Who sees it.
        let list = async |s: &credit_desk_tests::Session, state: &str| {
            s.complaint()
                .list_complaints(pb::ListComplaintsRequest {
                    state: state.into(),
                })
                .await
                .map(|r| r.into_inner().complaints.len())
        };
        assert_eq!(list(&counter, "").await.unwrap(), 1);
        let center = srv.session("center").await;
        assert_eq!(list(&center, "").await.unwrap(), 1);
        let supervisor = srv.session("supervisor").await;
        assert_eq!(list(&supervisor, "").await.unwrap(), 1);
        let bank = srv.session("bank").await;
        assert_eq!(
            list(&bank, "").await.unwrap_err().code(),
            tonic::Code::PermissionDenied
        );

        // Only a center clerk is assigned, and only the center answers.
        let assign = |who: &str| pb::AssignComplaintRequest {
            complaint_id: filed.id.clone(),
            assignee_username: who.into(),
        };
        let wrong = center
            .complaint()
            .assign_complaint(assign("counter"))
            .await
            .unwrap_err();
        assert_eq!(wrong.code(), tonic::Code::InvalidArgument);
        let assigned = center
            .complaint()
            .assign_complaint(assign("Center"))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(assigned.assigned_to, "陈业务");
        let answer = pb::AnswerComplaintRequest {
            complaint_id: filed.id.clone(),
            answer: "经核实，该查询凭您签署的授权书进行，授权书编号 SQ-2026-7001。".into(),
        };
        let denied = counter
            .complaint()
            .answer_complaint(answer.clone())
            .await
            .unwrap_err();
        assert_eq!(denied.code(), tonic::Code::PermissionDenied);
        // Waiting for its answer, it is in the center's queue (not the counter's).
        let queued = async |s: &credit_desk_tests::Session| {
            s.queue()
                .await
                .complaints
                .into_iter()
                .map(|c| (c.complaint_no, c.due, c.urgency))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            queued(&center).await,
            [(
                "TS-20261123-0001".to_string(),
                "2026-12-23".to_string(),
                "later".to_string()
            )]
        );
        assert!(queued(&counter).await.is_empty());
        let answered = center
            .complaint()
            .answer_complaint(answer.clone())
            .await
            .unwrap()
            .into_inner();
        assert_eq!(answered.state, "answered");
        assert_eq!(answered.answer_letter_no, "DF-20261123-0001");
        assert_eq!(answered.answered_by, "陈业务");
        assert_eq!(answered.urgency, "", "no clock once answered");
        // The same answer again is the answer given; another one is refused.
        let retried = center
            .complaint()
            .answer_complaint(answer)
            .await
            .unwrap()
            .into_inner();
        assert_eq!(retried.answer_letter_no, "DF-20261123-0001");
        let other = center
            .complaint()
            .answer_complaint(pb::AnswerComplaintRequest {
                complaint_id: filed.id.clone(),
                answer: "另一份答复".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(other.code(), tonic::Code::FailedPrecondition);
        assert_eq!(list(&center, "").await.unwrap(), 0, "no open complaint");
        assert!(queued(&center).await.is_empty(), "answered: off the queue");
        assert_eq!(list(&center, "all").await.unwrap(), 1);

        // A complaint left 31 days is overdue.
        let late = counter
            .complaint()
            .file_complaint(complaint("答复迟迟未到"))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(late.complaint_no, "TS-20261123-0002");
        srv.clock.advance_ms(31 * 86_400_000);
        let center = srv.session("center").await;
        let open = center
            .complaint()
            .list_complaints(pb::ListComplaintsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .complaints;
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].urgency, "overdue");

        // Every act is in the audit chain, and the chain holds.
        let acts: Vec<(String,)> = sqlx::query_as(
            "SELECT action FROM audit_log WHERE action LIKE 'complaint.%' ORDER BY seq",
        )
        .fetch_all(srv.db.pool())
        .await
        .unwrap();
        let acts: Vec<&str> = acts.iter().map(|(a,)| a.as_str()).collect();
        assert_eq!(
            acts,
            [
                "complaint.file",
                "complaint.assign",
                "complaint.answer",
                "complaint.file"
            ]
        );
        let verdict = credit_desk_server::db::audit::verify(&srv.db)
            .await
            .unwrap();
        assert!(verdict.result.is_ok(), "{:?}", verdict.result);
        let _ = T0;
    }
);

// At the counter a complaint is taken on the workstation; the center
// assigns it, answers it in writing and prints the answer letter.
both_backends!(
    a_complaint_is_taken_and_answered_on_the_workstation,
    async |srv: &TestServer| {
        use credit_desk_proto::Lang;
        use credit_desk_tests::desk::Desk;
        use ratatui::crossterm::event::KeyCode;

        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("counter").await;
        desk.key(KeyCode::Char('c')).await;
        desk.expect("没有待答复的投诉");
        desk.key(KeyCode::Char('n')).await;
        desk.expect("投诉方式");
        // Nothing filled in: the fields are named.
        desk.key(KeyCode::Enter).await;
        desk.expect("必填");
        // The cursor is on the first field refused: the complainant.
        desk.text("李建国").await;
        desk.key(KeyCode::Tab).await;
        desk.text("13800138000").await;
        desk.key(KeyCode::Tab).await;
        desk.key(KeyCode::Tab).await;
        desk.text("报告上的查询记录有疑问").await;
        desk.key(KeyCode::Enter).await;
        let screen = desk.expect("已保存投诉 TS-20261123-0001");
        assert!(screen.contains("2026-12-23"), "due in 30 days: {screen}");
        // The counter neither assigns nor answers.
        assert!(!screen.contains("w 答复"), "{screen}");

        let mut center = Desk::open(srv, Lang::Zh);
        center.log_in("center").await;
        // The complaint's clock is in the center's queue.
        center.key(KeyCode::Char('t')).await;
        let queue = center.expect("待书面答复的投诉");
        assert!(
            queue.contains("TS-20261123-0001 李建国 → 2026-12-23"),
            "{queue}"
        );
        center.key(KeyCode::Esc).await;
        center.key(KeyCode::Char('c')).await;
        center.expect("TS-20261123-0001");
        center.key(KeyCode::Char('g')).await;
        center.text("center").await;
        center.key(KeyCode::Enter).await;
        center.expect("陈业务");
        center.key(KeyCode::Char('w')).await;
        center.text("经核实，该查询凭您签署的授权书进行。").await;
        center.key(KeyCode::Enter).await;
        let screen = center.expect("DF-20261123-0001");
        assert!(screen.contains("已答复"), "{screen}");
        center.key(KeyCode::Char('p')).await;
        center.expect("已保存到");
        let letter = center
            .printed
            .last()
            .map(|(_, t)| t.clone())
            .unwrap_or_default();
        assert!(
            letter.contains("投诉答复函") && letter.contains("凭您签署的授权书"),
            "{letter}"
        );
    }
);
