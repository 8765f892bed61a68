//! Query-log search and export on both backends: the center and
//! supervisors find every attempt (refusals too) by subject, operator,
//! outcome and dates, page through them, export them as .xlsx; numbers are
//! masked; every search is audited; other roles are refused.

use credit_desk_proto::pb::{self, QueryOutcome};
use credit_desk_server::demo::DEMO_PEOPLE;
use credit_desk_tests::{TestServer, both_backends, load_records, reason, run, self_query, verify};

fn filter(f: impl FnOnce(&mut pb::QueryLogFilter)) -> pb::QueryLogFilter {
    let mut filter = pb::QueryLogFilter::default();
    f(&mut filter);
    filter
}

fn search(f: pb::QueryLogFilter) -> pb::SearchQueryLogRequest {
    pb::SearchQueryLogRequest {
        filter: Some(f),
        ..Default::default()
    }
}

async fn audited_searches(srv: &TestServer) -> i64 {
    sqlx::query_as::<_, (i64,)>(
        "SELECT COUNT(*) FROM audit_log WHERE action IN ('query_log.search', 'query_log.export')",
    )
    .fetch_one(srv.db.pool())
    .await
    .unwrap()
    .0
}

both_backends!(
    supervisors_search_and_export_every_attempt,
    async |srv: &TestServer| {
        load_records(srv).await;
        let counter = srv.session("counter").await;
        let (subject, v) = verify(srv, &counter.token, 1).await;
        let allowed = run(srv, &counter.token, self_query(&subject, &v)).await;
        assert!(allowed.allowed);
        // A supervisor may never query: the attempt is refused and logged.
        let supervisor = srv.session("supervisor").await;
        let refused = supervisor
            .query()
            .run_query(self_query(&subject, &v))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), tonic::Code::PermissionDenied);
        srv.clock.advance_ms(60_000);
        let (other, v2) = verify(srv, &counter.token, 2).await;
        run(srv, &counter.token, self_query(&other, &v2)).await;

        let mut sup = supervisor.supervision();
        let all = sup
            .search_query_log(search(pb::QueryLogFilter::default()))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(all.total, 3);
        let people: Vec<(&str, bool, &str)> = all
            .entries
            .iter()
            .map(|e| (e.subject_name.as_str(), e.allowed, e.refusal.as_str()))
            .collect();
        assert_eq!(
            people,
            [
                (DEMO_PEOPLE[2].1, true, ""),
                (DEMO_PEOPLE[1].1, false, "role_may_not_query"),
                (DEMO_PEOPLE[1].1, true, ""),
            ],
            "newest first"
        );
        let first = &all.entries[2];
        assert_eq!(first.subject_identifier, "441284********0010", "masked");
        assert_eq!(first.operator_username, "counter");
        assert_eq!(first.basis, "self");
        assert_eq!(first.terminal, "test");
        assert_eq!(first.report_no, allowed.report.unwrap().report_no);
        assert!(!all.entries[1].refusal_text.is_empty());

        // Filters.
        let count = async |f: pb::QueryLogFilter| {
            let mut sup = supervisor.supervision();
            sup.search_query_log(search(f))
                .await
                .unwrap()
                .into_inner()
                .total
        };
        let number = DEMO_PEOPLE[1].0;
        assert_eq!(
            count(filter(|f| f.subject_identifier = number.into())).await,
            2
        );
        assert_eq!(
            count(filter(|f| f.operator_username = "Supervisor".into())).await,
            1
        );
        assert_eq!(
            count(filter(|f| f.outcome = QueryOutcome::Refused as i32)).await,
            1
        );
        assert_eq!(
            count(filter(|f| f.outcome = QueryOutcome::Allowed as i32)).await,
            2
        );
        // A valid number nobody holds finds nothing.
        assert_eq!(
            count(filter(
                |f| f.subject_identifier = "11010519491231002X".into()
            ))
            .await,
            0
        );
        assert_eq!(
            count(filter(|f| {
                f.from_date = "2026-11-24".into();
                f.to_date = "2026-11-30".into();
            }))
            .await,
            0,
            "another week"
        );
        assert_eq!(
            count(filter(|f| {
                f.from_date = "2026-11-01".into();
                f.to_date = "2026-11-23".into();
            }))
            .await,
            3
        );

        // Bad filters name the field.
        let bad = sup
            .search_query_log(search(filter(|f| {
                f.from_date = "2026-11-23".into();
                f.to_date = "2026-11-01".into();
            })))
            .await
            .unwrap_err();
        assert_eq!(bad.code(), tonic::Code::InvalidArgument);
        assert!(bad.message().contains("截止日期"), "{}", bad.message());
        let bad = sup
            .search_query_log(pb::SearchQueryLogRequest {
                cursor: "garbage".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(bad.code(), tonic::Code::InvalidArgument);

        // Paging: one at a time, each page after the last, then no more.
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = sup
                .search_query_log(pb::SearchQueryLogRequest {
                    filter: None,
                    cursor: cursor.clone(),
                    limit: 1,
                })
                .await
                .unwrap()
                .into_inner();
            seen.extend(page.entries.into_iter().map(|e| e.id));
            if page.next_cursor.is_empty() {
                break;
            }
            cursor = page.next_cursor;
        }
        let ids: Vec<String> = all.entries.iter().map(|e| e.id.clone()).collect();
        assert_eq!(seen, ids);

        // Export: the same attempts, as a workbook.
        let before = audited_searches(srv).await;
        let export = sup
            .export_query_log(pb::QueryLogFilter::default())
            .await
            .unwrap()
            .into_inner();
        assert_eq!(export.rows, 3);
        assert!(export.file_name.ends_with(".xlsx"));
        use calamine::Reader;
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(export.xlsx)).expect("a workbook");
        let sheet = book.worksheet_range_at(0).unwrap().unwrap();
        assert_eq!(sheet.height(), 4, "a header and three attempts");
        let text: Vec<String> = sheet.rows().flatten().map(|c| c.to_string()).collect();
        assert!(text.contains(&"441284********0010".to_string()));
        assert!(!text.iter().any(|t| t.contains(number)), "no full number");
        assert!(text.contains(&"已拒绝".to_string()));
        assert_eq!(
            audited_searches(srv).await,
            before + 1,
            "the export is audited"
        );

        // Counter clerks and banks may not read the log.
        for role in ["counter", "bank"] {
            let s = srv.session(role).await;
            let denied = s
                .supervision()
                .search_query_log(search(pb::QueryLogFilter::default()))
                .await
                .unwrap_err();
            assert_eq!(denied.code(), tonic::Code::PermissionDenied, "{role}");
            assert!(!reason(&denied).is_empty());
        }
        // The center may.
        let center = srv.session("center").await;
        assert!(
            center
                .supervision()
                .search_query_log(search(pb::QueryLogFilter::default()))
                .await
                .is_ok()
        );
        assert!(audited_searches(srv).await >= 10, "every search is audited");
    }
);

// The supervisor's screen: a subject's number finds the attempts on them,
// the chosen one is shown in full, and x exports them.
both_backends!(
    a_supervisor_finds_and_exports_attempts_on_the_workstation,
    async |srv: &TestServer| {
        use credit_desk_proto::Lang;
        use credit_desk_tests::desk::Desk;
        use ratatui::crossterm::event::KeyCode;

        let counter = srv.session("counter").await;
        let (subject, v) = verify(srv, &counter.token, 1).await;
        run(srv, &counter.token, self_query(&subject, &v)).await;
        let (other, v2) = verify(srv, &counter.token, 2).await;
        run(srv, &counter.token, self_query(&other, &v2)).await;

        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("supervisor").await;
        desk.key(KeyCode::Char('l')).await;
        desk.expect("查询记录检索");
        // A mistyped number is refused on the spot, naming the field.
        desk.text("441284196508120011").await;
        desk.key(KeyCode::Enter).await;
        desk.expect("证件号码");
        let before = audited_searches(srv).await;
        assert_eq!(before, 0, "nothing was asked of the server");
        desk.ctrl('u').await;
        desk.text(DEMO_PEOPLE[1].0).await;
        // The server's day (the test clock's), not this machine's.
        for _ in 0..3 {
            desk.key(KeyCode::Tab).await;
        }
        for _ in 0..2 {
            desk.ctrl('u').await;
            desk.text("2026-11-23").await;
            desk.key(KeyCode::Tab).await;
        }
        desk.key(KeyCode::Enter).await;
        let screen = desk.expect("1 / 1 条记录");
        assert!(screen.contains("441284********0010"), "{screen}");
        assert!(!screen.contains(DEMO_PEOPLE[1].0), "masked: {screen}");
        assert!(
            screen.contains("已查询") && screen.contains("本人查询"),
            "{screen}"
        );
        assert!(screen.contains("终端：test"), "{screen}");
        assert_eq!(audited_searches(srv).await, 1);

        desk.key(KeyCode::Char('x')).await;
        let screen = desk.expect("已保存到");
        let path = screen
            .lines()
            .find_map(|l| l.split("已保存到 ").nth(1))
            .map(|p| p.split_whitespace().next().unwrap_or_default().to_string())
            .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        use calamine::Reader;
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(book.worksheet_range_at(0).unwrap().unwrap().height(), 2);

        // Back to the filter: the whole day, both attempts.
        desk.key(KeyCode::Esc).await;
        desk.ctrl('u').await;
        desk.key(KeyCode::Enter).await;
        desk.expect("2 / 2 条记录");
    }
);

/// A day with an alert to conclude: more than one query is many, and
/// working hours last all day (what the hour is depends on the machine's
/// time zone, the server's, which the tests do not choose); the counter
/// queries 李建国 twice.
async fn two_queries_by_one_clerk(srv: &TestServer) {
    use credit_desk_server::settings::{self, indicator};
    for (key, value) in [(indicator::QUERIES, "1"), (indicator::WORKING_HOURS, "24")] {
        settings::set(&srv.db, key, value, credit_desk_tests::T0)
            .await
            .unwrap();
    }
    let counter = srv.session("counter").await;
    let (subject, v) = verify(srv, &counter.token, 1).await;
    run(srv, &counter.token, self_query(&subject, &v)).await;
    run(srv, &counter.token, self_query(&subject, &v)).await;
}

// The daily review: a finished day's attempts raise alerts once; each is
// concluded (a violation with a note); the day is signed off with the audit
// chain's head, after which its conclusions are final.
both_backends!(
    a_day_is_reviewed_alert_by_alert_and_signed_off,
    async |srv: &TestServer| {
        use credit_desk_proto::pb::AlertConclusion;
        two_queries_by_one_clerk(srv).await;

        let supervisor = srv.session("supervisor").await;
        let mut sup = supervisor.supervision();
        let day = |d: &str| pb::GetDayReviewRequest { day: d.into() };
        let not_over = sup.get_day_review(day("2026-11-23")).await.unwrap_err();
        assert_eq!(not_over.code(), tonic::Code::FailedPrecondition);
        assert!(
            not_over.message().contains("尚未结束"),
            "{}",
            not_over.message()
        );

        // The next morning (yesterday's session has expired).
        srv.clock.advance_ms(86_400_000);
        let supervisor = srv.session("supervisor").await;
        let mut sup = supervisor.supervision();
        // Yesterday waits in the supervisor's queue, due today (a Tuesday);
        // nobody else's queue shows it.
        let reviews_due = async |s: &credit_desk_tests::Session| {
            s.queue()
                .await
                .reviews
                .into_iter()
                .map(|r| (r.day, r.due, r.urgency))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            reviews_due(&supervisor).await,
            [(
                "2026-11-23".to_string(),
                "2026-11-24".to_string(),
                "due_today".to_string()
            )]
        );
        let center = srv.session("center").await;
        assert!(reviews_due(&center).await.is_empty());
        let review = sup
            .get_day_review(day("2026-11-23"))
            .await
            .unwrap()
            .into_inner();
        assert_eq!((review.attempts, review.refused), (2, 0));
        assert!(review.working_day);
        let found: Vec<(&str, &str, u32)> = review
            .alerts
            .iter()
            .map(|a| (a.indicator.as_str(), a.about.as_str(), a.evidence_count))
            .collect();
        assert_eq!(
            found,
            [
                ("many_queries", "李柜员 (counter)", 2),
                ("new_terminal", "李柜员 (counter) @ test", 2),
            ]
        );
        assert_eq!(review.alerts[0].indicator_name, "单个操作员当日查询量异常");
        assert_eq!(
            review.alerts[0].evidence[0].subject_identifier,
            "441284********0010"
        );
        // Opening it again prepares nothing twice.
        let again = sup
            .get_day_review(day("2026-11-23"))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(again.alerts.len(), 2);
        assert_eq!(again.alerts[0].id, review.alerts[0].id);

        // Not signed while an alert is open.
        let sign = pb::SignOffDayRequest {
            day: "2026-11-23".into(),
        };
        let open = sup.sign_off_day(sign.clone()).await.unwrap_err();
        assert_eq!(open.code(), tonic::Code::FailedPrecondition);
        assert!(open.message().contains("2 条预警"), "{}", open.message());
        // A violation needs a note.
        let conclude = |i: usize, c: AlertConclusion, note: &str| pb::ConcludeAlertRequest {
            alert_id: review.alerts[i].id.clone(),
            conclusion: c as i32,
            note: note.into(),
        };
        let bare = sup
            .conclude_alert(conclude(0, AlertConclusion::Violation, " "))
            .await
            .unwrap_err();
        assert_eq!(bare.code(), tonic::Code::InvalidArgument);
        assert!(bare.message().contains("备注：必填"), "{}", bare.message());
        sup.conclude_alert(conclude(
            0,
            AlertConclusion::Violation,
            "重复查询，已约谈经办员",
        ))
        .await
        .unwrap();
        let concluded = sup
            .conclude_alert(conclude(1, AlertConclusion::Normal, ""))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            concluded.alerts[0].conclusion,
            AlertConclusion::Violation as i32
        );
        assert_eq!(concluded.alerts[0].concluded_by, "吴主管");
        assert_eq!(concluded.signed_at_ms, 0);
        // A retried conclusion is the one recorded (no second audit row).
        srv.clock.advance_ms(60_000);
        let retried = sup
            .conclude_alert(conclude(1, AlertConclusion::Normal, ""))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            retried.alerts[1].concluded_at_ms,
            concluded.alerts[1].concluded_at_ms
        );

        let signed = sup.sign_off_day(sign.clone()).await.unwrap().into_inner();
        assert!(reviews_due(&supervisor).await.is_empty(), "signed off");
        assert!(signed.signed_at_ms > 0);
        assert_eq!(signed.chain_hash.len(), 64);
        // A retry changes nothing; conclusions are final.
        let retried = sup.sign_off_day(sign).await.unwrap().into_inner();
        assert_eq!(retried.signed_at_ms, signed.signed_at_ms);
        assert_eq!(retried.chain_seq, signed.chain_seq);
        let late = sup
            .conclude_alert(conclude(1, AlertConclusion::Violation, "改结论"))
            .await
            .unwrap_err();
        assert_eq!(late.code(), tonic::Code::FailedPrecondition);

        // The chain still proves itself, with every act of the review in it.
        let verdict = credit_desk_server::db::audit::verify(&srv.db)
            .await
            .unwrap();
        assert!(verdict.result.is_ok(), "{:?}", verdict.result);
        let acts: Vec<(String,)> = sqlx::query_as(
            "SELECT action FROM audit_log WHERE action LIKE 'review.%' OR action LIKE 'alert.%' ORDER BY seq",
        )
        .fetch_all(srv.db.pool())
        .await
        .unwrap();
        let acts: Vec<&str> = acts.iter().map(|(a,)| a.as_str()).collect();
        assert_eq!(
            acts,
            [
                "review.prepared",
                "alert.concluded",
                "alert.concluded",
                "review.signed"
            ]
        );

        // Only supervisors review days.
        let center = srv.session("center").await;
        let denied = center
            .supervision()
            .get_day_review(day("2026-11-23"))
            .await
            .unwrap_err();
        assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    }
);

// The supervisor reviews yesterday on the workstation: opens the day,
// marks one alert normal, records a violation with a note, signs off, and
// prints the paper copy with the audit chain's head.
both_backends!(
    a_supervisor_reviews_a_day_on_the_workstation,
    async |srv: &TestServer| {
        use credit_desk_proto::Lang;
        use credit_desk_tests::desk::Desk;
        use ratatui::crossterm::event::KeyCode;

        two_queries_by_one_clerk(srv).await;
        srv.clock.advance_ms(86_400_000);

        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("supervisor").await;
        // The day waits in the queue first.
        desk.key(KeyCode::Char('t')).await;
        let queue = desk.expect("待核查的查询操作日");
        assert!(queue.contains("2026-11-23 → 2026-11-24"), "{queue}");
        desk.key(KeyCode::Esc).await;
        desk.key(KeyCode::Char('d')).await;
        desk.expect("核查日期");
        desk.ctrl('u').await;
        desk.text("2026-11-23").await;
        desk.key(KeyCode::Enter).await;
        let screen = desk.expect("单个操作员当日查询量异常");
        assert!(screen.contains("预警 2 (待结论 2)"), "{screen}");
        assert!(screen.contains("未签核"), "{screen}");
        // Sign-off is not offered while alerts are open.
        assert!(!screen.contains("s 签核"), "{screen}");
        desk.key(KeyCode::Char('v')).await;
        desk.expect("核查说明");
        desk.key(KeyCode::Enter).await;
        desk.expect("必填");
        desk.text("同一人当日重复查询，已提醒经办员").await;
        desk.key(KeyCode::Enter).await;
        desk.expect("违规 吴主管");
        desk.key(KeyCode::Down).await;
        desk.key(KeyCode::Char('n')).await;
        let screen = desk.expect("s 签核");
        assert!(screen.contains("(待结论 0)"), "{screen}");
        desk.key(KeyCode::Char('s')).await;
        let screen = desk.expect("已签核 吴主管");
        assert!(!screen.contains("n 正常"), "final once signed: {screen}");
        desk.key(KeyCode::Char('p')).await;
        desk.expect("已保存到");
        let paper = desk
            .printed
            .last()
            .map(|(_, text)| text.clone())
            .unwrap_or_default();
        assert!(
            paper.contains("查询操作日核查表") && paper.contains("审计链 #"),
            "{paper}"
        );
        assert!(paper.contains("同一人当日重复查询"), "{paper}");
    }
);

fn figure(report: &pb::MonthReport, section: &str, row: &str) -> u64 {
    report
        .sections
        .iter()
        .find(|s| s.code == section)
        .and_then(|s| s.rows.iter().find(|r| r.code == row))
        .map(|r| r.value)
        .unwrap_or_else(|| panic!("{section}/{row} missing"))
}

/// The figure shown after `label` on a screen.
fn on_screen(screen: &str, label: &str) -> Option<u64> {
    screen.lines().find_map(|line| {
        let mut words = line.trim_matches('"').split_whitespace();
        words.find(|w| *w == label)?;
        words.next()?.parse().ok()
    })
}

fn complaint_received_on(day: &str) -> pb::FileComplaintRequest {
    pb::FileComplaintRequest {
        request_id: credit_desk_tests::rid(),
        channel: pb::ComplaintChannel::Letter as i32,
        complainant: "李建国".into(),
        contact: "13800138000".into(),
        subject_identifier: String::new(),
        about: "查询记录有疑问".into(),
        received_on: day.into(),
    }
}

// The monthly security statistics: November counted from the data (the
// queries, the alerts and their conclusions, complaints received and
// overdue), refused before the month is over and while an alert is open,
// signed off with the incidents found outside the system (explained in a
// note), and kept as signed.
both_backends!(
    a_month_is_counted_and_signed_off_by_the_fifth,
    async |srv: &TestServer| {
        use credit_desk_proto::pb::AlertConclusion;
        two_queries_by_one_clerk(srv).await;
        let counter = srv.session("counter").await;
        for day in ["2026-10-31", "2026-11-20"] {
            counter
                .complaint()
                .file_complaint(complaint_received_on(day))
                .await
                .unwrap();
        }
        let supervisor = srv.session("supervisor").await;
        let month = |m: &str| pb::GetMonthReportRequest { month: m.into() };
        let not_over = supervisor
            .supervision()
            .get_month_report(month("2026-11"))
            .await
            .unwrap_err();
        assert_eq!(not_over.code(), tonic::Code::FailedPrecondition);
        assert!(
            not_over.message().contains("尚未结束"),
            "{}",
            not_over.message()
        );
        let bad = supervisor
            .supervision()
            .get_month_report(month("2026-13"))
            .await
            .unwrap_err();
        assert_eq!(bad.code(), tonic::Code::InvalidArgument);
        assert!(bad.message().contains("统计月份"), "{}", bad.message());

        // The morning of 2 December: November waits in the queue, due on
        // the 5th.
        srv.clock.advance_ms(9 * 86_400_000);
        let supervisor = srv.session("supervisor").await;
        let mut sup = supervisor.supervision();
        let months_due = async |s: &credit_desk_tests::Session| {
            s.queue()
                .await
                .month_reports
                .into_iter()
                .map(|m| (m.month, m.due))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            months_due(&supervisor).await,
            [("2026-11".to_string(), "2026-12-05".to_string())]
        );
        assert!(months_due(&srv.session("center").await).await.is_empty());
        // The menus count the duties: the supervisor's day and month, the
        // center's complaints (one past its 30 days).
        let counters = async |s: &credit_desk_tests::Session| {
            let home = s
                .auth()
                .home(pb::HomeRequest {})
                .await
                .unwrap()
                .into_inner();
            home.home.and_then(|h| h.queue).unwrap_or_default()
        };
        let c = counters(&supervisor).await;
        assert_eq!((c.days_to_review, c.months_to_sign), (1, 1));
        let c = counters(&srv.session("center").await).await;
        assert_eq!((c.complaints_open, c.complaints_overdue), (2, 1));
        assert_eq!((c.days_to_review, c.months_to_sign), (0, 0));

        let report = sup
            .get_month_report(month("2026-11"))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            (report.month.as_str(), report.due.as_str()),
            ("2026-11", "2026-12-05")
        );
        assert!(!report.reporter.is_empty());
        for (section, row, expected) in [
            ("incidents", "abnormal_queries", 2),
            ("incidents", "violating_queries", 0),
            ("incidents", "leaks", 0),
            ("alerts", "many_queries", 1),
            ("alerts", "new_terminal", 1),
            ("alerts", "open", 2),
            ("queries", "attempts", 2),
            ("queries", "self", 2),
            ("queries", "consent", 0),
            ("queries", "days_with_queries", 1),
            ("queries", "days_signed", 0),
            ("complaints", "received", 1),
            ("complaints", "answered", 0),
            ("complaints", "overdue", 1),
            ("objections", "received", 0),
        ] {
            assert_eq!(figure(&report, section, row), expected, "{section}/{row}");
        }
        assert_eq!(report.open_alerts, 2);
        assert_eq!((report.signed_at_ms, report.chain_hash.len()), (0, 64));

        // Not signed while an alert of the month is open.
        let sign = |leaks: u32, note: &str| pb::SignOffMonthRequest {
            month: "2026-11".into(),
            leaks,
            note: note.into(),
            ..Default::default()
        };
        let open = sup.sign_off_month(sign(0, "")).await.unwrap_err();
        assert_eq!(open.code(), tonic::Code::FailedPrecondition);
        assert!(
            open.message().contains("2 条异常查询预警"),
            "{}",
            open.message()
        );
        let day = sup
            .get_day_review(pb::GetDayReviewRequest {
                day: "2026-11-23".into(),
            })
            .await
            .unwrap()
            .into_inner();
        for (alert, conclusion) in day
            .alerts
            .iter()
            .zip([AlertConclusion::Violation, AlertConclusion::Normal])
        {
            sup.conclude_alert(pb::ConcludeAlertRequest {
                alert_id: alert.id.clone(),
                conclusion: conclusion as i32,
                note: "已核实".into(),
            })
            .await
            .unwrap();
        }

        // Incidents entered must be explained, and stay within bounds.
        let bare = sup.sign_off_month(sign(1, " ")).await.unwrap_err();
        assert_eq!(bare.code(), tonic::Code::InvalidArgument);
        assert!(bare.message().contains("备注：必填"), "{}", bare.message());
        let huge = sup.sign_off_month(sign(10_001, "x")).await.unwrap_err();
        assert!(
            huge.message().contains("信息泄露：最多为 10000"),
            "{}",
            huge.message()
        );

        let signed = sup
            .sign_off_month(sign(1, "柜台遗留一份报告，已收回销毁"))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(signed.signed_by, "吴主管");
        assert!(signed.signed_at_ms > 0);
        assert_eq!(signed.note, "柜台遗留一份报告，已收回销毁");
        for (section, row, expected) in [
            ("incidents", "violating_queries", 1),
            ("incidents", "leaks", 1),
            ("alerts", "concluded_normal", 1),
            ("alerts", "open", 0),
        ] {
            assert_eq!(figure(&signed, section, row), expected, "{section}/{row}");
        }
        assert!(months_due(&supervisor).await.is_empty(), "signed off");
        assert_eq!(counters(&supervisor).await.months_to_sign, 0);

        // Signed figures stay as signed: a retry with other figures, a
        // complaint back-dated into November, a conclusion changed later.
        srv.session("counter")
            .await
            .complaint()
            .file_complaint(complaint_received_on("2026-11-25"))
            .await
            .unwrap();
        let retried = sup
            .sign_off_month(sign(1, "柜台遗留一份报告，已收回销毁"))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(retried, signed, "a retry is the sign-off made");
        let other = sup.sign_off_month(sign(5, "另一份")).await.unwrap_err();
        assert_eq!(other.code(), tonic::Code::FailedPrecondition);
        assert!(
            other.message().contains("已由 吴主管 签核"),
            "{}",
            other.message()
        );
        let read = sup
            .get_month_report(month("2026-11"))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(read, signed);

        let xlsx = sup
            .export_month_report(month("2026-11"))
            .await
            .unwrap()
            .into_inner();
        assert!(xlsx.xlsx.starts_with(b"PK"), "a zip container");
        assert_eq!(xlsx.file_name, "security-statistics-2026-11.xlsx");

        let acts: Vec<(String, String)> = sqlx::query_as(
            "SELECT action, target FROM audit_log WHERE action LIKE 'month.%' ORDER BY seq",
        )
        .fetch_all(srv.db.pool())
        .await
        .unwrap();
        assert_eq!(acts, [("month.signed".to_string(), "2026-11".to_string())]);
        let verdict = credit_desk_server::db::audit::verify(&srv.db)
            .await
            .unwrap();
        assert!(verdict.result.is_ok(), "{:?}", verdict.result);

        let denied = srv
            .session("center")
            .await
            .supervision()
            .get_month_report(month("2026-11"))
            .await
            .unwrap_err();
        assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    }
);

// The supervisor signs November off on the workstation: the month waits in
// the queue; its statistics show the day's alerts as open, so sign-off is
// not offered until the daily review concluded them; the sign-off form
// checks its figures; the signed report prints with the audit chain's head
// and saves as a workbook.
both_backends!(
    a_supervisor_signs_a_month_off_on_the_workstation,
    async |srv: &TestServer| {
        use credit_desk_proto::Lang;
        use credit_desk_tests::desk::Desk;
        use ratatui::crossterm::event::KeyCode;

        two_queries_by_one_clerk(srv).await;
        srv.clock.advance_ms(9 * 86_400_000);

        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("supervisor").await;
        desk.key(KeyCode::Char('t')).await;
        let queue = desk.expect("待签核的征信信息安全情况统计表");
        assert!(queue.contains("2026-11 → 2026-12-05"), "{queue}");
        desk.key(KeyCode::Esc).await;

        desk.key(KeyCode::Char('m')).await;
        desk.expect("统计月份");
        desk.ctrl('u').await;
        desk.text("2026-11").await;
        desk.key(KeyCode::Enter).await;
        let screen = desk.expect("一、信息安全事件");
        assert!(screen.contains("2 条预警待结论"), "{screen}");
        assert!(!screen.contains("s 签核"), "{screen}");
        assert_eq!(on_screen(&screen, "异常查询"), Some(2), "{screen}");

        // Conclude the day's alerts, then come back.
        desk.key(KeyCode::Esc).await;
        desk.key(KeyCode::Esc).await;
        desk.key(KeyCode::Char('d')).await;
        desk.ctrl('u').await;
        desk.text("2026-11-23").await;
        desk.key(KeyCode::Enter).await;
        desk.expect("单个操作员当日查询量异常");
        desk.key(KeyCode::Char('n')).await;
        desk.key(KeyCode::Down).await;
        desk.key(KeyCode::Char('n')).await;
        desk.expect("(待结论 0)");
        desk.key(KeyCode::Esc).await;
        desk.key(KeyCode::Esc).await;
        desk.key(KeyCode::Char('m')).await;
        desk.key(KeyCode::Enter).await;
        desk.expect("s 签核");

        desk.key(KeyCode::Char('s')).await;
        desk.expect("系统以外发现的事件");
        // A leak entered without saying what happened is refused here.
        desk.key(KeyCode::Down).await;
        desk.key(KeyCode::Down).await;
        desk.ctrl('u').await;
        desk.text("1").await;
        desk.key(KeyCode::Enter).await;
        desk.expect("必填");
        // The cursor went to the failing field.
        desk.text("柜台遗留一份报告，已收回销毁").await;
        desk.key(KeyCode::Enter).await;
        let screen = desk.expect("已签核 吴主管");
        assert!(!screen.contains("s 签核"), "{screen}");
        assert_eq!(
            on_screen(&screen, "信息泄露（含信用报告泄露）"),
            Some(1),
            "{screen}"
        );

        desk.key(KeyCode::Char('p')).await;
        desk.expect("已保存到");
        let paper = desk
            .printed
            .last()
            .map(|(_, text)| text.clone())
            .unwrap_or_default();
        assert!(paper.contains("征信信息安全情况统计表"), "{paper}");
        assert!(
            paper.contains("审计链 #") && paper.contains("柜台遗留一份报告"),
            "{paper}"
        );

        desk.key(KeyCode::Char('x')).await;
        let screen = desk.expect("security-statistics-2026-11");
        let path = screen
            .lines()
            .find_map(|l| l.split("已保存到 ").nth(1))
            .map(|p| p.split_whitespace().next().unwrap_or_default().to_string())
            .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        use calamine::Reader;
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let sheet = book.worksheet_range_at(0).unwrap().unwrap();
        let leaks = sheet
            .rows()
            .find(|r| r[0].to_string().starts_with("信息泄露"))
            .map(|r| r[1].to_string());
        assert_eq!(leaks.as_deref(), Some("1"));

        // The queue no longer lists the month.
        desk.key(KeyCode::Esc).await;
        desk.key(KeyCode::Esc).await;
        desk.key(KeyCode::Char('t')).await;
        let queue = desk.screen();
        assert!(!queue.contains("待签核的征信信息安全情况统计表"), "{queue}");
    }
);
