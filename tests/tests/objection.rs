//! Objection tickets on both backends: filing annotates the records at
//! once, the department's reply changes the record, and every act is
//! checked against the ticket's version, state and the caller's scope.

use credit_desk_proto::errors as reason_code;
use credit_desk_proto::pb::change_calendar_request::Change;
use credit_desk_proto::pb::{self, act_on_ticket_request::Action};
use credit_desk_tests::{
    DEMO_PASSWORD, Session, T0, TestServer, both_backends, load_records, reason, rid, run,
    self_query, unit, verify, violations,
};

async fn home(s: &Session) -> pb::Home {
    s.auth()
        .home(pb::HomeRequest {})
        .await
        .unwrap()
        .into_inner()
        .home
        .unwrap()
}

async fn ticket_of(s: &Session, t: &pb::Ticket) -> pb::Ticket {
    s.objection()
        .get_ticket(pb::GetTicketRequest {
            ticket_id: t.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .ticket
        .unwrap()
}

async fn act(s: &Session, t: &pb::Ticket, action: Action) -> Result<pb::Ticket, tonic::Status> {
    let req = pb::ActOnTicketRequest {
        request_id: rid(),
        ticket_id: t.id.clone(),
        expected_version: t.version,
        action: Some(action),
    };
    Ok(s.objection()
        .act_on_ticket(req)
        .await?
        .into_inner()
        .ticket
        .unwrap())
}

both_backends!(
    an_objection_from_filing_to_closing,
    async |srv: &TestServer| {
        load_records(srv).await;
        let counter = srv.session("counter").await;
        let (subject, v) = verify(srv, &counter.token, 1).await;
        let report = run(srv, &counter.token, self_query(&subject, &v))
            .await
            .report
            .unwrap();
        let record = report.sections[0].records[0].clone();
        assert!(record.annotation.is_empty());

        let filing = pb::FileObjectionRequest {
            request_id: rid(),
            verification_id: v.clone(),
            record_ids: vec![record.id.clone()],
            reason_category: "wrong_content".into(),
            reason_text: "该案已于2025年8月执行完毕".into(),
            evidence: vec!["结案通知书复印件".into()],
            contact_phone: "13800138000".into(),
            contact_address: "四会市大沙镇马鞍村 12 号".into(),
            notify_by: "phone".into(),
        };
        // Bad input names the field and creates nothing.
        let mut bad = filing.clone();
        bad.request_id = rid();
        bad.contact_phone = "call me".into();
        let err = counter.objection().file_objection(bad).await.unwrap_err();
        assert_eq!(reason(&err), reason_code::VALIDATION);
        assert!(err.message().contains("联系电话"), "{}", err.message());

        let filed = counter
            .objection()
            .file_objection(filing.clone())
            .await
            .unwrap()
            .into_inner();
        let ticket = filed.ticket.unwrap();
        assert!(
            ticket.ticket_no.starts_with("YY-20261123-"),
            "{}",
            ticket.ticket_no
        );
        assert_eq!(ticket.state, "received");
        assert_eq!(ticket.overall_due, "2026-12-13");
        assert_eq!(
            ticket.subject_identifier, "441284********0010",
            "masked at the counter"
        );
        // A retry is the same ticket; a second objection on the record is refused.
        let again = counter
            .objection()
            .file_objection(filing.clone())
            .await
            .unwrap()
            .into_inner();
        assert!(again.replayed);
        assert_eq!(again.ticket.unwrap().id, ticket.id);
        let mut twice = filing.clone();
        twice.request_id = rid();
        let err = counter.objection().file_objection(twice).await.unwrap_err();
        assert_eq!(reason(&err), reason_code::ALREADY_EXISTS);

        // Annotated at once.
        let report = run(srv, &counter.token, self_query(&subject, &v))
            .await
            .report
            .unwrap();
        let annotated = &report.sections[0].records[0];
        assert!(
            annotated.annotation.contains(&ticket.ticket_no),
            "{annotated:?}"
        );

        // The counter cannot do the center's work; the bank cannot read it.
        let err = act(
            &counter,
            &ticket,
            Action::SendRequests(pb::SendRequests::default()),
        )
        .await
        .unwrap_err();
        assert_eq!(reason(&err), reason_code::OUT_OF_SCOPE);
        let bank = srv.session("bank").await;
        let err = bank
            .objection()
            .get_ticket(pb::GetTicketRequest {
                ticket_id: ticket.id.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(reason(&err), reason_code::PERMISSION_DENIED);

        let center = srv.session("center").await;
        // Closing now is refused by the state machine.
        let err = act(&center, &ticket, Action::Close(pb::Empty {}))
            .await
            .unwrap_err();
        assert_eq!(reason(&err), reason_code::WRONG_STATE);
        let sent = act(
            &center,
            &ticket,
            Action::SendRequests(pb::SendRequests {
                received_on: "2026-11-23".into(),
            }),
        )
        .await
        .unwrap();
        assert_eq!(sent.state, "request_sent");
        assert_eq!(sent.letters.len(), 1);
        // Received Monday 23 Nov: 10 working days end on Monday 7 Dec.
        assert_eq!(sent.letters[0].reply_due, "2026-12-07");
        // A second clerk acting on the old version loses with a clear reason.
        let err = act(
            &center,
            &ticket,
            Action::Pause(pb::Pause {
                reason: "等材料".into(),
            }),
        )
        .await
        .unwrap_err();
        assert_eq!(reason(&err), reason_code::STALE_VERSION);
        assert!(
            err.message().contains("reload") || err.message().contains("刷新"),
            "{}",
            err.message()
        );

        // The court's liaison answers: corrected.
        let liaison = srv.session("liaison").await;
        let seen = liaison
            .objection()
            .get_ticket(pb::GetTicketRequest {
                ticket_id: ticket.id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .ticket
            .unwrap();
        let replied = act(
            &liaison,
            &seen,
            Action::RecordReply(pb::RecordReply {
                letter_id: seen.letters[0].id.clone(),
                reply_text: "经核实，该案已执行完毕".into(),
                decisions: vec![pb::RecordDecision {
                    record_id: record.id.clone(),
                    outcome: "corrected".into(),
                    status: "已履行".into(),
                    end_date: "2025-08-15".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
        )
        .await
        .unwrap();
        assert_eq!(replied.state, "replied");
        assert_eq!(replied.records[0].outcome, "corrected");
        assert!(
            replied
                .deadlines
                .iter()
                .any(|d| d.kind == "notice" && !d.met)
        );

        // The next report shows the corrected version, without the annotation.
        let third = run(srv, &counter.token, self_query(&subject, &v)).await;
        assert_eq!(
            third.refusal_code,
            reason_code::refusal::FEE_CONFIRMATION_REQUIRED,
            "the third self-query this year"
        );
        let mut confirmed = self_query(&subject, &v);
        confirmed.fee_confirmed = true;
        let report = run(srv, &counter.token, confirmed).await.report.unwrap();
        let fixed = report
            .sections
            .iter()
            .flat_map(|s| &s.records)
            .find(|r| r.id == record.id)
            .unwrap();
        assert_eq!(
            (fixed.status.as_str(), fixed.version),
            ("已履行", record.version + 1)
        );
        assert!(fixed.annotation.is_empty());

        // Notice: one failed call, then reached; then closed.
        let t = act(
            &center,
            &replied,
            Action::Notify(pb::NotifyApplicant {
                channel: "phone".into(),
                reached: false,
                note: "无人接听".into(),
            }),
        )
        .await
        .unwrap();
        let err = act(&center, &t, Action::MarkUnreachable(pb::Empty {}))
            .await
            .unwrap_err();
        assert_eq!(
            reason(&err),
            reason_code::WRONG_STATE,
            "one attempt is not enough"
        );
        let t = act(
            &center,
            &t,
            Action::Notify(pb::NotifyApplicant {
                channel: "phone".into(),
                reached: true,
                note: String::new(),
            }),
        )
        .await
        .unwrap();
        assert_eq!(t.state, "notified");
        let t = act(&center, &t, Action::Close(pb::Empty {})).await.unwrap();
        assert_eq!(t.state, "closed");
        let actions: Vec<&str> = t.events.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "filed",
                "request_sent",
                "reply_recorded",
                "notice_failed",
                "notified",
                "closed"
            ]
        );
        assert!(t.deadlines.iter().all(|d| d.met));
    }
);

both_backends!(
    unconfirmed_records_keep_the_annotation_and_take_a_statement,
    async |srv: &TestServer| {
        load_records(srv).await;
        let counter = srv.session("counter").await;
        let (subject, v) = verify(srv, &counter.token, 1).await;
        let report = run(srv, &counter.token, self_query(&subject, &v))
            .await
            .report
            .unwrap();
        let record = report.sections[0].records[0].clone();
        let ticket = counter
            .objection()
            .file_objection(pb::FileObjectionRequest {
                request_id: rid(),
                verification_id: v.clone(),
                record_ids: vec![record.id.clone()],
                reason_category: "not_mine".into(),
                reason_text: "本人从未涉诉".into(),
                contact_phone: "0758-3312345".into(),
                contact_address: "大沙镇".into(),
                notify_by: "written".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .ticket
            .unwrap();
        let center = srv.session("center").await;
        let t = act(
            &center,
            &ticket,
            Action::Pause(pb::Pause {
                reason: "等待申请人补充材料".into(),
            }),
        )
        .await
        .unwrap();
        assert!(t.paused);
        let err = act(
            &center,
            &t,
            Action::SendRequests(pb::SendRequests::default()),
        )
        .await
        .unwrap_err();
        assert_eq!(reason(&err), reason_code::WRONG_STATE, "paused");
        srv.clock.advance_ms(2 * 86_400_000);
        let center = srv.session("center").await;
        let t = act(&center, &t, Action::Resume(pb::Empty {}))
            .await
            .unwrap();
        assert!(!t.paused);
        assert_eq!(t.paused_ms, 2 * 86_400_000);
        assert_eq!(t.overall_due, "2026-12-13", "the legal limit does not move");
        assert_eq!(t.overall_due_with_pauses, "2026-12-15");
        let t = act(
            &center,
            &t,
            Action::SendRequests(pb::SendRequests::default()),
        )
        .await
        .unwrap();
        let t = act(
            &center,
            &t,
            Action::RecordReply(pb::RecordReply {
                letter_id: t.letters[0].id.clone(),
                reply_text: "无法确认".into(),
                decisions: vec![pb::RecordDecision {
                    record_id: record.id.clone(),
                    outcome: "unconfirmed".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
        )
        .await
        .unwrap();
        assert_eq!(t.records[0].outcome, "unconfirmed");
        let counter = srv.session("counter").await;
        let (_, v2) = verify(srv, &counter.token, 1).await;
        let statement = pb::AddStatementRequest {
            request_id: rid(),
            record_id: record.id.clone(),
            verification_id: v2.clone(),
            text: "本人对该记录有异议，已申请核查".into(),
        };
        counter.objection().add_statement(statement).await.unwrap();
        let report = run(srv, &counter.token, self_query(&subject, &v2))
            .await
            .report
            .unwrap();
        let r = report.sections[0]
            .records
            .iter()
            .find(|r| r.id == record.id)
            .unwrap();
        assert!(
            r.annotation.starts_with("已核查，无法确认"),
            "{}",
            r.annotation
        );
        // A statement on a record that was not left unconfirmed is refused.
        let other = report.sections[1].records[0].id.clone();
        let err = counter
            .objection()
            .add_statement(pb::AddStatementRequest {
                request_id: rid(),
                record_id: other,
                verification_id: v2,
                text: "x".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(reason(&err), reason_code::VALIDATION);
    }
);

/// Files an objection on demo person 1's first court record as `counter`.
async fn file_one(srv: &TestServer, counter: &Session) -> pb::Ticket {
    let (subject, v) = verify(srv, &counter.token, 1).await;
    let report = run(srv, &counter.token, self_query(&subject, &v))
        .await
        .report
        .unwrap();
    let record = report.sections[0].records[0].id.clone();
    counter
        .objection()
        .file_objection(pb::FileObjectionRequest {
            request_id: rid(),
            verification_id: v,
            record_ids: vec![record],
            reason_category: "outdated".into(),
            reason_text: "已结案".into(),
            contact_phone: "13800138000".into(),
            contact_address: "大沙镇".into(),
            notify_by: "phone".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .ticket
        .unwrap()
}

async fn queue(s: &Session, cursor: &str) -> pb::ListQueueResponse {
    s.objection()
        .list_queue(pb::ListQueueRequest {
            cursor: cursor.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

both_backends!(
    queues_are_scoped_and_refresh_incrementally,
    async |srv: &TestServer| {
        load_records(srv).await;
        credit_desk_server::setup::add_operator(
            &srv.db,
            credit_desk_server::setup::OperatorSpec {
                username: "tax.liaison",
                display_name: "税务联络员",
                role: pb::Role::Liaison,
                unit_code: "D-TAX",
                password: DEMO_PASSWORD,
                must_change_password: false,
            },
            T0,
        )
        .await
        .unwrap();
        let counter = srv.session("counter").await;
        let ticket = file_one(srv, &counter).await;
        let center = srv.session("center").await;
        let liaison = srv.session("liaison").await;
        let tax = srv.session("tax.liaison").await;

        let q = queue(&counter, "").await;
        assert!(q.full);
        assert_eq!(q.items.len(), 1);
        let item = &q.items[0];
        assert_eq!(item.ticket_no, ticket.ticket_no);
        assert_eq!(item.nearest_due, "2026-12-13");
        assert_eq!(item.urgency, "later");
        assert_eq!(q.stats.unwrap().open, 1);
        // Nothing waits on the court before the letter is sent.
        assert!(queue(&liaison, "").await.items.is_empty());

        let sent = act(
            &center,
            &ticket,
            Action::SendRequests(pb::SendRequests::default()),
        )
        .await
        .unwrap();
        let court = queue(&liaison, "").await;
        assert_eq!(court.items.len(), 1);
        assert_eq!(court.items[0].letter_no, sent.letters[0].letter_no);
        assert_eq!(
            court.items[0]
                .deadlines
                .iter()
                .map(|d| d.kind.as_str())
                .collect::<Vec<_>>(),
            ["department_reply"],
            "a liaison sees their own clock only"
        );
        // The court's counts are its letter's (kept per department).
        let stats = court.stats.unwrap();
        assert_eq!((stats.open, stats.overdue), (1, 0));
        // Another department's liaison sees nothing and cannot read it.
        let other = queue(&tax, "").await;
        assert!(other.items.is_empty());
        assert_eq!(other.stats.unwrap().open, 0);
        let err = tax
            .objection()
            .get_ticket(pb::GetTicketRequest {
                ticket_id: ticket.id.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(reason(&err), reason_code::OUT_OF_SCOPE);
        let err = act(
            &tax,
            &sent,
            Action::RecordReply(pb::RecordReply {
                letter_id: sent.letters[0].id.clone(),
                ..Default::default()
            }),
        )
        .await
        .unwrap_err();
        assert_eq!(reason(&err), reason_code::PERMISSION_DENIED);

        // Department files: the court's file (records up to mid-2025)
        // delivered 2025H1, so 2025FY and 2026H1 are late; the counter is
        // not shown any.
        let first = queue(&center, "").await;
        let late = |q: &pb::ListQueueResponse, dept: &str| -> Vec<String> {
            q.submissions
                .iter()
                .filter(|d| d.department_name == dept)
                .map(|d| format!("{}:{}", d.period, d.urgency))
                .collect()
        };
        assert_eq!(
            late(&first, "市人民法院"),
            ["2025FY:overdue", "2026H1:overdue", "2026FY:later"]
        );
        assert!(q.submissions.is_empty());

        // The center's overview counts per filing unit and per department.
        assert_eq!(first.by_unit.len(), 1);
        assert_eq!(first.by_unit[0].name, "大沙镇便民服务中心");
        assert_eq!((first.by_unit[0].open, first.by_unit[0].overdue), (1, 0));
        assert_eq!(first.by_department[0].name, "市人民法院");
        // Filters: by department (the court's ticket, not the tax office's).
        let by_dept = |dept: String| pb::ListQueueRequest {
            department_id: dept,
            ..Default::default()
        };
        let court_id = first.items[0].departments[0].id.clone();
        let filtered = center
            .objection()
            .list_queue(by_dept(court_id))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(filtered.items.len(), 1);
        let tax_id = unit(srv, "D-TAX").await;
        let none = center
            .objection()
            .list_queue(by_dept(tax_id))
            .await
            .unwrap()
            .into_inner();
        assert!(none.items.is_empty());

        // Incremental: nothing changed, then one change, then it leaves.
        let same = queue(&center, &first.cursor).await;
        assert!(!same.full && same.items.is_empty() && same.removed.is_empty());
        let paused = act(
            &center,
            &sent,
            Action::Pause(pb::Pause {
                reason: "等待材料".into(),
            }),
        )
        .await
        .unwrap();
        let one = queue(&center, &same.cursor).await;
        assert!(!one.full);
        assert_eq!(one.items.len(), 1);
        assert!(one.items[0].paused);
        // A withdrawal needs a reason and the applicant: verified again, or
        // their written withdrawal on record.
        let withdraw = |reason: &str, written: &str| {
            Action::Withdraw(pb::Withdraw {
                reason: reason.into(),
                written_request: written.into(),
                ..Default::default()
            })
        };
        for (w, fields) in [
            (withdraw("", "书面申请 11-23"), vec!["reason"]),
            (withdraw("已与法院和解", ""), vec!["written_request"]),
            (withdraw("", ""), vec!["reason", "written_request"]),
        ] {
            let err = act(&center, &paused, w).await.unwrap_err();
            assert_eq!(reason(&err), reason_code::VALIDATION);
            assert_eq!(violations(&err), fields);
        }
        let err = act(&center, &paused, withdraw("和解", ""))
            .await
            .unwrap_err();
        assert!(err.message().contains("书面撤回申请"), "{}", err.message());
        let done = act(&center, &paused, withdraw("已与法院和解", "书面申请 11-23"))
            .await
            .unwrap();
        assert_eq!(done.state, "withdrawn");
        assert_eq!(
            (
                done.withdrawal_reason.as_str(),
                done.withdrawal_written.as_str()
            ),
            ("已与法院和解", "书面申请 11-23")
        );
        assert_eq!(
            (done.withdrawn_at_ms, done.withdrawal_verified_at_ms),
            (T0, 0)
        );
        assert!(!done.withdrawn_by.is_empty());
        let gone = queue(&center, &one.cursor).await;
        assert_eq!(gone.removed, std::slice::from_ref(&ticket.id));
        assert_eq!(gone.stats.unwrap().open, 0);
        // A cursor from another filter set is answered in full.
        let filtered = center
            .objection()
            .list_queue(pb::ListQueueRequest {
                cursor: gone.cursor.clone(),
                state: "received".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(filtered.full);
    }
);

both_backends!(
    a_calendar_change_moves_open_deadlines,
    async |srv: &TestServer| {
        load_records(srv).await;
        let counter = srv.session("counter").await;
        let ticket = file_one(srv, &counter).await;
        let center = srv.session("center").await;
        let sent = act(
            &center,
            &ticket,
            Action::SendRequests(pb::SendRequests {
                received_on: "2026-11-23".into(),
            }),
        )
        .await
        .unwrap();
        assert_eq!(sent.letters[0].reply_due, "2026-12-07");
        // The administrator corrects 2026: 1 December becomes a holiday.
        let official = credit_desk_proto::calendar::OFFICIAL[1].1;
        let csv = format!("{official}2026-12-01,holiday,测试假日\n");
        let admin = srv.session("admin").await;
        let file = |csv: String, confirm| pb::ChangeCalendarRequest {
            change: Some(Change::File(pb::CalendarFile {
                file_name: "2026-corrected.csv".into(),
                csv,
            })),
            confirm,
        };
        let change = |req| {
            let mut client = admin.objection();
            async move { client.change_calendar(req).await }
        };
        // A preview writes nothing and says what confirming does.
        let preview = change(file(csv.clone(), false)).await.unwrap().into_inner();
        assert!(!preview.applied);
        let year = &preview.years[0];
        assert_eq!(
            (year.year, year.added, year.removed, year.changed),
            (2026, 1, 0, 0)
        );
        assert_eq!(preview.moves_total, 1);
        let moved = &preview.moves[0];
        assert_eq!(
            (
                moved.ticket_no.as_str(),
                moved.deadline.as_str(),
                moved.from.as_str(),
                moved.to.as_str()
            ),
            (
                sent.ticket_no.as_str(),
                "reply_due",
                "2026-12-07",
                "2026-12-08"
            )
        );
        let reply_due = |t: pb::Ticket| t.letters[0].reply_due.clone();
        assert_eq!(reply_due(ticket_of(&center, &ticket).await), "2026-12-07");
        let imported = change(file(csv, true)).await.unwrap().into_inner();
        assert!(imported.applied);
        assert_eq!(imported.moves_total, 1);
        assert!(
            imported
                .calendar
                .iter()
                .any(|y| y.year == 2026 && y.source == "2026-corrected.csv")
        );
        let t = ticket_of(&center, &ticket).await;
        assert_eq!(t.letters[0].reply_due, "2026-12-08");
        let moved = t
            .events
            .iter()
            .find(|e| e.action == "deadline.recomputed")
            .unwrap();
        assert!(
            moved.detail.contains("2026-12-07") && moved.detail.contains("2026-12-08"),
            "{}",
            moved.detail
        );
        // A one-line file would wipe the year: the preview says so.
        let wipe = change(file("2026-12-02,holiday,x\n".into(), false))
            .await
            .unwrap()
            .into_inner();
        let year = &wipe.years[0];
        assert_eq!(
            (year.days_before, year.days_after, year.removed),
            (40, 1, 40)
        );
        // A change that would push an open deadline into a year the
        // calendar lacks is refused, naming the year (not an internal error).
        let december: String = (1..=31)
            .filter_map(|d| chrono::NaiveDate::from_ymd_opt(2026, 12, d))
            .filter(|d| chrono::Datelike::weekday(d).number_from_monday() <= 5)
            .map(|d| format!("{d},holiday,测试\n"))
            .collect();
        let err = change(file(format!("{official}{december}"), false))
            .await
            .unwrap_err();
        assert_eq!(reason(&err), reason_code::VALIDATION);
        assert_eq!(violations(&err), ["calendar"]);
        assert!(
            err.message().contains("工作日历缺少 2027 年"),
            "{}",
            err.message()
        );
        // The shipped schedule comes back, and the deadline with it.
        let restore = |confirm| pb::ChangeCalendarRequest {
            change: Some(Change::RestoreOfficial(2026)),
            confirm,
        };
        let restored = change(restore(true)).await.unwrap().into_inner();
        assert_eq!((restored.years[0].removed, restored.moves_total), (1, 1));
        assert!(
            restored
                .calendar
                .iter()
                .any(|y| y.year == 2026 && y.source == "official")
        );
        assert_eq!(reply_due(ticket_of(&center, &ticket).await), "2026-12-07");
        // Single days: added (as a preview), removed, each year checked.
        let day = |date: &str, kind: &str| pb::ChangeCalendarRequest {
            change: Some(Change::SetDay(pb::CalendarDay {
                date: date.into(),
                kind: kind.into(),
                name: "测试".into(),
            })),
            confirm: true,
        };
        let one = change(day("2026-12-03", "holiday"))
            .await
            .unwrap()
            .into_inner();
        assert_eq!((one.years[0].added, one.moves_total), (1, 1));
        let edited = change(pb::ChangeCalendarRequest {
            change: Some(Change::RemoveDay("2026-12-03".into())),
            confirm: true,
        })
        .await
        .unwrap()
        .into_inner();
        assert_eq!(edited.years[0].removed, 1);
        assert!(
            edited
                .calendar
                .iter()
                .any(|y| y.year == 2026 && y.source == "edited")
        );
        for (req, field, text) in [
            (day("2026-12-02", "workday"), "date", "调休上班日只能是周末"),
            (day("2027-01-01", "holiday"), "date", "工作日历缺少 2027 年"),
            (day("2026-12-02", "rest"), "kind", "应为 holiday"),
        ] {
            let err = change(req).await.unwrap_err();
            assert_eq!(reason(&err), reason_code::VALIDATION);
            assert_eq!(violations(&err), [field], "{}", err.message());
            assert!(err.message().contains(text), "{}", err.message());
        }
        let err = change(pb::ChangeCalendarRequest {
            change: Some(Change::RemoveDay("2026-12-02".into())),
            confirm: true,
        })
        .await
        .unwrap_err();
        assert!(err.message().contains("不是节假日"), "{}", err.message());
        let err = change(pb::ChangeCalendarRequest {
            change: Some(Change::RestoreOfficial(2031)),
            confirm: true,
        })
        .await
        .unwrap_err();
        assert!(err.message().contains("2031"), "{}", err.message());
        // A bad file is refused with its lines named, in the clerk's
        // language, and changes nothing.
        let err = change(file(
            "2026-12-02,rest,x\n2026-13-01,holiday,x\n".into(),
            true,
        ))
        .await
        .unwrap_err();
        assert_eq!(reason(&err), reason_code::VALIDATION);
        assert!(err.message().contains("第 1 行"), "{}", err.message());
        assert!(err.message().contains("第 2 行"), "{}", err.message());
        assert_eq!(reply_due(ticket_of(&center, &ticket).await), "2026-12-07");
        // Only administrators change the calendar.
        let err = center
            .objection()
            .change_calendar(restore(true))
            .await
            .unwrap_err();
        assert_eq!(reason(&err), reason_code::PERMISSION_DENIED);
    }
);

both_backends!(
    the_calendar_warns_before_it_runs_out,
    async |srv: &TestServer| {
        // The test clock is 2026-11-23 and 2027 is not held: from
        // 2026-12-17 on no request can be sent, 24 days ahead.
        let admin = srv.session("admin").await;
        let gap = home(&admin).await.calendar_gap.unwrap();
        assert_eq!(
            (gap.missing_year, gap.last_start.as_str()),
            (2027, "2026-12-17")
        );
        let center = srv.session("center").await;
        let q = queue(&center, "").await;
        assert_eq!(q.calendar_gap.unwrap().missing_year, 2027);
        let cal = admin
            .objection()
            .get_calendar(pb::GetCalendarRequest { year: 0 })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(cal.official_years, [2025, 2026]);
        assert!(cal.gap.is_some());
        // A bank officer has no queue and no calendar to keep: no warning.
        let bank = srv.session("bank").await;
        assert!(home(&bank).await.calendar_gap.is_none());
        // With 2027 imported the warning is gone.
        admin
            .objection()
            .change_calendar(pb::ChangeCalendarRequest {
                change: Some(Change::File(pb::CalendarFile {
                    file_name: "2027.csv".into(),
                    csv: "2027-01-01,holiday,元旦\n".into(),
                })),
                confirm: true,
            })
            .await
            .unwrap();
        assert!(home(&admin).await.calendar_gap.is_none());
    }
);

both_backends!(
    two_clerks_acting_at_once_cannot_both_win,
    async |srv: &TestServer| {
        load_records(srv).await;
        let counter = srv.session("counter").await;
        let ticket = file_one(srv, &counter).await;
        let center = srv.session("center").await;
        let (a, b) = tokio::join!(
            act(
                &center,
                &ticket,
                Action::Pause(pb::Pause {
                    reason: "等待材料".into()
                })
            ),
            act(
                &center,
                &ticket,
                Action::SendRequests(pb::SendRequests::default())
            ),
        );
        let results = [a, b];
        let won = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "{results:?}");
        let lost = results.iter().find_map(|r| r.as_ref().err()).unwrap();
        assert_eq!(reason(lost), reason_code::STALE_VERSION);
        let t = center
            .objection()
            .get_ticket(pb::GetTicketRequest {
                ticket_id: ticket.id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .ticket
            .unwrap();
        assert_eq!(t.version, ticket.version + 1, "exactly one change");
    }
);

both_backends!(confirmed_and_deleted_outcomes, async |srv: &TestServer| {
    load_records(srv).await;
    let counter = srv.session("counter").await;
    let (subject, v) = verify(srv, &counter.token, 1).await;
    let report = run(srv, &counter.token, self_query(&subject, &v))
        .await
        .report
        .unwrap();
    let ids: Vec<String> = report
        .sections
        .iter()
        .flat_map(|s| &s.records)
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(ids.len(), 2);
    let ticket = counter
        .objection()
        .file_objection(pb::FileObjectionRequest {
            request_id: rid(),
            verification_id: v.clone(),
            record_ids: ids.clone(),
            reason_category: "wrong_content".into(),
            reason_text: "两条记录均有误".into(),
            contact_phone: "13800138000".into(),
            contact_address: "大沙镇".into(),
            notify_by: "written".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .ticket
        .unwrap();
    assert_eq!(ticket.records.len(), 2);
    let center = srv.session("center").await;
    let t = act(
        &center,
        &ticket,
        Action::SendRequests(pb::SendRequests::default()),
    )
    .await
    .unwrap();
    assert_eq!(t.letters.len(), 1, "one letter per department");
    let decide = |id: &str, outcome: &str| pb::RecordDecision {
        record_id: id.into(),
        outcome: outcome.into(),
        ..Default::default()
    };
    // A reply must decide every disputed record of the department.
    let err = act(
        &center,
        &t,
        Action::RecordReply(pb::RecordReply {
            letter_id: t.letters[0].id.clone(),
            reply_text: "x".into(),
            decisions: vec![decide(&ids[0], "confirmed")],
            ..Default::default()
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(reason(&err), reason_code::VALIDATION);
    // A reply letter's number goes with its date, and the date is not
    // after today (T0 is 2026-11-23) nor before the request was received.
    for (no, day, field) in [
        ("四法函〔2026〕12号", "", "reply_letter_date"),
        ("", "2026-11-23", "reply_letter_no"),
        ("四法函〔2026〕12号", "2026-11-24", "reply_letter_date"),
        ("四法函〔2026〕12号", "2026-11-01", "reply_letter_date"),
    ] {
        let err = act(
            &center,
            &t,
            Action::RecordReply(pb::RecordReply {
                letter_id: t.letters[0].id.clone(),
                reply_text: "经核实".into(),
                decisions: vec![decide(&ids[0], "confirmed"), decide(&ids[1], "deleted")],
                reply_letter_no: no.into(),
                reply_letter_date: day.into(),
            }),
        )
        .await
        .unwrap_err();
        assert_eq!(violations(&err), [field], "{no:?} {day:?}");
    }
    let t = act(
        &center,
        &t,
        Action::RecordReply(pb::RecordReply {
            letter_id: t.letters[0].id.clone(),
            reply_text: "经核实".into(),
            decisions: vec![decide(&ids[0], "confirmed"), decide(&ids[1], "deleted")],
            reply_letter_no: "四法函〔2026〕12号".into(),
            reply_letter_date: "2026-11-23".into(),
        }),
    )
    .await
    .unwrap();
    assert_eq!(
        (
            t.letters[0].reply_letter_no.as_str(),
            t.letters[0].reply_letter_date.as_str()
        ),
        ("四法函〔2026〕12号", "2026-11-23"),
        "the department's letter is on record"
    );
    let outcomes: Vec<(&str, &str)> = t
        .records
        .iter()
        .map(|r| (r.record_id.as_str(), r.outcome.as_str()))
        .collect();
    assert!(outcomes.contains(&(ids[0].as_str(), "confirmed")));
    assert!(outcomes.contains(&(ids[1].as_str(), "deleted")));
    // The confirmed record stays, unannotated; the deleted one is off the
    // report (and still in the database).
    let mut q = self_query(&subject, &v);
    q.fee_confirmed = true;
    let report = run(srv, &counter.token, q).await.report.unwrap();
    let shown: Vec<&pb::ReportRecord> = report.sections.iter().flat_map(|s| &s.records).collect();
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].id, ids[0]);
    assert!(shown[0].annotation.is_empty());
    let kept: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM records WHERE id = $1 AND deleted_at IS NOT NULL")
            .bind(&ids[1])
            .fetch_one(srv.db.pool())
            .await
            .unwrap();
    assert_eq!(kept, 1);
    // Written notice reached; closed.
    let t = act(
        &center,
        &t,
        Action::Notify(pb::NotifyApplicant {
            channel: "written".into(),
            reached: true,
            note: "挂号信已签收".into(),
        }),
    )
    .await
    .unwrap();
    let t = act(&center, &t, Action::Close(pb::Empty {})).await.unwrap();
    assert_eq!(t.state, "closed");
    // Nothing more happens to a closed ticket.
    let err = act(&center, &t, Action::Pause(pb::Pause { reason: "x".into() }))
        .await
        .unwrap_err();
    assert_eq!(reason(&err), reason_code::WRONG_STATE);
});

// Tickets are found in any state — a withdrawn one too — by number, by the
// subject's whole identity number or part of the name, filtered by state,
// within the caller's part of the queue only.
both_backends!(
    closed_and_withdrawn_tickets_are_found_by_number_or_person,
    async |srv: &TestServer| {
        load_records(srv).await;
        let counter = srv.session("counter").await;
        let ticket = file_one(srv, &counter).await;
        let center = srv.session("center").await;
        act(
            &center,
            &ticket,
            Action::Withdraw(pb::Withdraw {
                reason: "已与法院和解".into(),
                written_request: "书面申请 11-23".into(),
                ..Default::default()
            }),
        )
        .await
        .unwrap();
        let find = async |s: &Session, query: &str, state: &str| {
            s.objection()
                .find_tickets(pb::FindTicketsRequest {
                    query: query.into(),
                    state: state.into(),
                })
                .await
        };
        let numbers = |r: Result<tonic::Response<pb::FindTicketsResponse>, tonic::Status>| {
            r.unwrap()
                .into_inner()
                .tickets
                .into_iter()
                .map(|t| t.ticket_no)
                .collect::<Vec<_>>()
        };
        let no = ticket.ticket_no.clone();
        for (query, state) in [
            (no.to_lowercase().as_str(), ""),
            ("441284196508120010", ""),
            ("４４１２８４１９６５０８１２００１０", "withdrawn"),
            ("李建", "withdrawn"),
        ] {
            assert_eq!(
                numbers(find(&counter, query, state).await),
                std::slice::from_ref(&no),
                "{query}"
            );
        }
        let found = find(&center, &no, "").await.unwrap().into_inner().tickets;
        assert_eq!(found[0].state, "withdrawn");
        assert!(found[0].closed_at_ms > 0);
        assert_eq!(found[0].subject_identifier, "441284********0010");
        assert!(numbers(find(&counter, "李建", "closed").await).is_empty());
        assert!(
            numbers(find(&counter, "441284", "").await).is_empty(),
            "no partial numbers"
        );

        // Another township sees none of it.
        credit_desk_tests::add_operator(srv, "jianggu", pb::Role::Counter, "T-JIANGGU").await;
        let other = srv.session("jianggu").await;
        assert!(numbers(find(&other, &no, "").await).is_empty());

        let bad = find(&counter, "李", "zzz").await.unwrap_err();
        assert_eq!(violations(&bad), ["state"]);
        let denied = find(&srv.session("bank").await, &no, "").await.unwrap_err();
        assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    }
);
