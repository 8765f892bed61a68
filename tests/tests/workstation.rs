//! Counter and center work driven through the workstation (keys into the
//! app, calls over the real client to the real server), on both backends.

use credit_desk_proto::Lang;
use credit_desk_tests::desk::Desk;
use credit_desk_tests::{TestServer, both_backends};
use ratatui::crossterm::event::KeyCode;

/// The center's case file of a ticket, opened from the queue.
async fn case_file(srv: &TestServer, ticket_no: &str) -> Desk {
    let mut desk = Desk::open(srv, Lang::Zh);
    desk.log_in("center").await;
    desk.key(KeyCode::Char('t')).await;
    desk.expect(ticket_no);
    desk.key(KeyCode::Enter).await;
    desk.expect("案卷编号");
    desk
}

/// Verifies a demo person at the counter (the menu's V).
async fn verify(desk: &mut Desk, number: &str, name: &str) {
    desk.key(KeyCode::Char('v')).await;
    desk.text(number).await;
    desk.key(KeyCode::Tab).await;
    desk.text(name).await;
    desk.key(KeyCode::Enter).await;
    desk.expect("核验通过");
}

// The third self-query of a year is charged: the clerk is told the fee, and
// once the person has paid, y runs it (it used to be refused as a reused
// request id, so the report could not be had again that year).
both_backends!(
    the_third_self_query_of_the_year_runs_once_the_fee_is_confirmed,
    async |srv: &TestServer| {
        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("counter").await;
        desk.expect("主菜单");
        verify(&mut desk, "441284199003070023", "陈美玲").await;
        for _ in 0..2 {
            desk.key(KeyCode::Char('q')).await;
            desk.expect("报告编号");
            desk.key(KeyCode::Esc).await;
        }
        desk.key(KeyCode::Char('q')).await;
        desk.expect("需收费 10.00 元");
        desk.key(KeyCode::Char('y')).await;
        let report = desk.expect("报告编号");
        assert!(!report.contains("请求编号已用于"), "{report}");
        let charged: Vec<(String, i64)> =
            sqlx::query_as("SELECT outcome, fee_applies FROM query_log ORDER BY at, id")
                .fetch_all(srv.db.pool())
                .await
                .unwrap();
        let outcomes: Vec<&str> = charged.iter().map(|(o, _)| o.as_str()).collect();
        assert_eq!(outcomes, ["allowed", "allowed", "refused", "allowed"]);
        assert_eq!(charged[3].1, 1, "the fourth attempt ran as charged");
    }
);

/// An objection filed at the counter on demo person 1's first court record.
async fn filed_objection(
    srv: &TestServer,
) -> (
    credit_desk_proto::pb::ReportRecord,
    credit_desk_proto::pb::Ticket,
) {
    use credit_desk_proto::pb;
    use credit_desk_tests::{rid, run, self_query, verify};
    let counter = srv.session("counter").await;
    let (subject, v) = verify(srv, &counter.token, 1).await;
    let report = run(srv, &counter.token, self_query(&subject, &v))
        .await
        .report
        .unwrap();
    let record = report.sections[0].records[0].clone();
    let filed = counter
        .objection()
        .file_objection(pb::FileObjectionRequest {
            request_id: rid(),
            verification_id: v,
            record_ids: vec![record.id.clone()],
            reason_category: "wrong_content".into(),
            reason_text: "已执行完毕".into(),
            contact_phone: "13800138000".into(),
            contact_address: "大沙镇".into(),
            notify_by: "phone".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .ticket
        .unwrap();
    (record, filed)
}

/// An objection on demo person 1's first court record, corrected by the
/// court: the state the counter, the center and the court's liaison reach
/// through their screens (covered in objection tests), made here by RPC.
async fn corrected_record(srv: &TestServer) -> (String, String) {
    decided_record(
        srv,
        credit_desk_proto::pb::RecordDecision {
            outcome: "corrected".into(),
            status: "已履行".into(),
            end_date: "2025-08-15".into(),
            ..Default::default()
        },
    )
    .await
}

/// The same objection, with the court's `decision` on the record.
async fn decided_record(
    srv: &TestServer,
    decision: credit_desk_proto::pb::RecordDecision,
) -> (String, String) {
    use credit_desk_proto::pb::{self, act_on_ticket_request::Action};
    use credit_desk_tests::rid;
    let (record, filed) = filed_objection(srv).await;
    let act = async |s: &credit_desk_tests::Session, t: &pb::Ticket, action| {
        s.objection()
            .act_on_ticket(pb::ActOnTicketRequest {
                request_id: rid(),
                ticket_id: t.id.clone(),
                expected_version: t.version,
                action: Some(action),
            })
            .await
            .unwrap()
            .into_inner()
            .ticket
            .unwrap()
    };
    let center = srv.session("center").await;
    let sent = act(
        &center,
        &filed,
        Action::SendRequests(pb::SendRequests {
            received_on: "2026-11-23".into(),
        }),
    )
    .await;
    let liaison = srv.session("liaison").await;
    act(
        &liaison,
        &sent,
        Action::RecordReply(pb::RecordReply {
            letter_id: sent.letters[0].id.clone(),
            reply_text: "经核实，该案已执行完毕".into(),
            decisions: vec![pb::RecordDecision {
                record_id: record.id.clone(),
                ..decision
            }],
            ..Default::default()
        }),
    )
    .await;
    (record.id, filed.ticket_no)
}

async fn visible_status(srv: &TestServer, record: &str) -> String {
    sqlx::query_scalar(
        "SELECT v.status FROM visible_records r
           JOIN record_versions v ON v.record_id = r.id AND v.version = r.current_version
          WHERE r.id = $1",
    )
    .bind(record)
    .fetch_one(srv.db.pool())
    .await
    .unwrap()
}

// A department's file delivered again after an objection corrected one of
// its records: the row is held back as a conflict (named with the
// objection, the file's value against the decided one), the decided content
// stays, and the rest of the file goes in.
both_backends!(
    a_re_import_holds_back_what_an_objection_decided,
    async |srv: &TestServer| {
        credit_desk_tests::load_records(srv).await;
        let (record, ticket_no) = corrected_record(srv).await;
        assert_eq!(visible_status(srv, &record).await, "已履行");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("court-2025H1.xlsx");
        std::fs::write(&path, credit_desk_tests::COURT).unwrap();
        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("center").await;
        desk.key(KeyCode::Char('i')).await;
        // The department is a choice: → until the court is chosen.
        for _ in 0..10 {
            let screen = desk.expect("报送部门");
            if screen
                .lines()
                .any(|l| l.contains("报送部门") && l.contains("D-COURT"))
            {
                break;
            }
            desk.key(KeyCode::Right).await;
        }
        desk.key(KeyCode::Tab).await;
        desk.text(&path.display().to_string()).await;
        // A dry run proposes the period and already shows the conflict;
        // it cannot be taken from there: nothing was imported.
        desk.key(KeyCode::Enter).await;
        desk.expect("以下 1 行涉及已由异议裁定的记录");
        let screen = desk.expect("按文件日期推定报送期为 2025H1");
        assert!(!screen.contains("F6 采用文件内容"), "{screen}");
        desk.key(KeyCode::Enter).await;
        let screen = desk.expect("以下 1 行涉及已由异议裁定的记录");
        assert!(screen.contains(&format!("异议 {ticket_no}")), "{screen}");
        // The line wraps instead of losing the decided value at 80 columns.
        assert!(screen.contains("2025-08-15"), "{screen}");
        assert_eq!(
            visible_status(srv, &record).await,
            "已履行",
            "the decision stands"
        );
        let held: (String, String) = sqlx::query_as(
            "SELECT file_value, decided_value FROM import_conflicts WHERE record_id = $1",
        )
        .bind(&record)
        .fetch_one(srv.db.pool())
        .await
        .unwrap();
        assert!(held.1.contains("2025-08-15"), "{held:?}");
        assert_ne!(held.0, held.1, "kept for a person's decision: {held:?}");

        // The row waits for a person after the screen is left: the import
        // screen lists it when opened again.
        desk.key(KeyCode::Esc).await;
        desk.key(KeyCode::Char('i')).await;
        let screen = desk.expect("court-2025H1.xlsx：1 行待人工决定");
        assert!(screen.contains(&format!("异议 {ticket_no}")), "{screen}");
        // The center decides for the file after all: F6, then y.
        desk.expect("F6 采用文件内容");
        desk.key(KeyCode::F(6)).await;
        desk.expect("的裁定？y 确认");
        desk.key(KeyCode::Char('y')).await;
        desk.expect("已采用第 2 行的文件内容");
        let taken: (String, Option<String>, i64) = sqlx::query_as(
            "SELECT v.end_date, v.import_id, CASE WHEN v.ticket_id IS NULL THEN 0 ELSE 1 END
               FROM visible_records r
               JOIN record_versions v ON v.record_id = r.id AND v.version = r.current_version
              WHERE r.id = $1",
        )
        .bind(&record)
        .fetch_one(srv.db.pool())
        .await
        .unwrap();
        assert_ne!(taken.0, "2025-08-15", "the file's end date now");
        assert!(
            taken.1.is_some() && taken.2 == 1,
            "names the import and the objection: {taken:?}"
        );
        // Nothing waits any more (the dry run keeps its log of the row).
        let pending: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM import_conflicts c JOIN imports i ON i.id = c.import_id
              WHERE i.status <> 'dry_run'",
        )
        .fetch_one(srv.db.pool())
        .await
        .unwrap();
        assert_eq!(pending, 0);
    }
);

// Who may take a held-back row, and a retry takes it once.
both_backends!(
    a_held_back_row_is_taken_once_and_only_by_the_department_or_center,
    async |srv: &TestServer| {
        use credit_desk_proto::pb;
        credit_desk_tests::load_records(srv).await;
        let (record, _) = corrected_record(srv).await;
        let center = srv.session("center").await;
        let court = credit_desk_tests::unit(srv, "D-COURT").await;
        let mut stream = center
            .intake()
            .import_file(pb::ImportFileRequest {
                request_id: credit_desk_tests::rid(),
                department_id: court,
                file_name: "court.xlsx".into(),
                content: credit_desk_tests::COURT.to_vec(),
                dry_run: false,
                period: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        let mut summary = None;
        while let Some(p) = stream.message().await.unwrap() {
            summary = p.summary.or(summary);
        }
        let summary = summary.unwrap();
        assert_eq!(summary.records_conflicting, 1);
        let req = pb::AcceptConflictRequest {
            request_id: credit_desk_tests::rid(),
            import_id: summary.import_id.clone(),
            row: summary.conflicts[0].row,
        };
        credit_desk_tests::add_operator(srv, "tax-liaison", pb::Role::Liaison, "D-TAX").await;
        for (user, reason) in [
            ("tax-liaison", credit_desk_proto::errors::OUT_OF_SCOPE),
            ("bank", credit_desk_proto::errors::PERMISSION_DENIED),
        ] {
            let e = srv
                .session(user)
                .await
                .intake()
                .accept_conflict(req.clone())
                .await
                .unwrap_err();
            assert_eq!(credit_desk_tests::reason(&e), reason, "{user}");
        }
        let liaison = srv.session("liaison").await;
        let first = liaison
            .intake()
            .accept_conflict(req.clone())
            .await
            .unwrap()
            .into_inner();
        let again = liaison
            .intake()
            .accept_conflict(req)
            .await
            .unwrap()
            .into_inner();
        assert!(!first.replayed && again.replayed);
        assert_eq!(first.version, again.version);
        let versions: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM record_versions WHERE record_id = $1")
                .bind(&record)
                .fetch_one(srv.db.pool())
                .await
                .unwrap();
        assert_eq!(i64::from(first.version), versions, "one new version");
    }
);

// A statement taken at the counter on a record the court could not confirm
// shows at once with its day and clerk (it showed 1970-01-01 and no clerk
// until the report was loaded again).
both_backends!(
    a_new_statement_shows_its_day_and_clerk_at_once,
    async |srv: &TestServer| {
        credit_desk_tests::load_records(srv).await;
        decided_record(
            srv,
            credit_desk_proto::pb::RecordDecision {
                outcome: "unconfirmed".into(),
                ..Default::default()
            },
        )
        .await;
        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("counter").await;
        verify(&mut desk, "441284196508120010", "李建国").await;
        desk.key(KeyCode::Char('q')).await;
        desk.expect("报告编号");
        desk.key(KeyCode::Enter).await;
        desk.key(KeyCode::Char('s')).await;
        desk.text("本人对核查结果有异议，保留意见").await;
        desk.key(KeyCode::F(10)).await;
        let screen = desk.expect("本人声明已记录");
        assert!(!screen.contains("1970-01-01"), "{screen}");
        assert!(screen.contains("李柜员)：本人对核查结果有异议"), "{screen}");
    }
);

// Paused time is counted as it was: a pause of seconds is not a day.
both_backends!(
    a_short_pause_is_shown_as_it_was,
    async |srv: &TestServer| {
        credit_desk_tests::load_records(srv).await;
        let (_, ticket) = filed_objection(srv).await;
        let mut desk = case_file(srv, &ticket.ticket_no).await;
        desk.key(KeyCode::Char('z')).await;
        desk.text("等待申请人补充材料").await;
        desk.key(KeyCode::Enter).await;
        srv.clock.advance_ms(7_000);
        desk.key(KeyCode::Char('z')).await;
        desk.key(KeyCode::Char('y')).await;
        let case_file = desk.expect("已暂停共 不足 1 分钟");
        assert!(!case_file.contains("已暂停共 1 天"), "{case_file}");
    }
);

// A refusal is marked ✗, never with the ✓ of a success.
both_backends!(
    a_refused_statement_is_marked_as_a_refusal,
    async |srv: &TestServer| {
        credit_desk_tests::load_records(srv).await;
        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("counter").await;
        verify(&mut desk, "441284196508120010", "李建国").await;
        desk.key(KeyCode::Char('q')).await;
        desk.expect("报告编号");
        desk.key(KeyCode::Enter).await;
        desk.key(KeyCode::Char('s')).await;
        let screen = desk.expect("✗ 只能对核查无法确认的异议记录添加本人声明");
        assert!(!screen.contains("✓ 只能"), "{screen}");
    }
);

/// Files an objection on the first record of the report on screen.
async fn object_to_first_record(desk: &mut Desk) {
    desk.key(KeyCode::Char('q')).await;
    desk.expect("报告编号");
    desk.key(KeyCode::Enter).await;
    desk.key(KeyCode::Char('o')).await;
    desk.expect("异议类别");
    desk.key(KeyCode::Tab).await;
    desk.text("13800138000").await;
    desk.key(KeyCode::Tab).await;
    desk.text("四会市大沙镇马鞍村").await;
    desk.key(KeyCode::F(10)).await;
    desk.text("该案已执行完毕").await;
    desk.key(KeyCode::F(10)).await;
}

// A refusal names the field as staff call it, never by its wire name.
both_backends!(
    a_refusal_names_the_field_in_the_clerks_language,
    async |srv: &TestServer| {
        credit_desk_tests::load_records(srv).await;
        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("counter").await;
        verify(&mut desk, "441284196508120010", "李建国").await;
        object_to_first_record(&mut desk).await;
        desk.expect("异议已受理");
        for _ in 0..3 {
            desk.key(KeyCode::Esc).await;
        }
        desk.expect("核验通过");
        object_to_first_record(&mut desk).await;
        // The refusal names the objection to go on with.
        let screen = desk.expect("✗ 异议记录：已在 YY-");
        assert!(screen.contains("中"), "{screen}");
        assert!(!screen.contains("record_ids"), "{screen}");
    }
);

// Numbers and dates a clerk types are checked against what they mean, and
// the message names the rule that failed.
both_backends!(
    typed_days_and_dates_name_the_rule_they_break,
    async |srv: &TestServer| {
        credit_desk_tests::load_records(srv).await;
        let (_, ticket) = filed_objection(srv).await;

        // A consent's validity in days.
        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("counter").await;
        verify(&mut desk, "441284199003070023", "陈美玲").await;
        desk.key(KeyCode::Char('c')).await;
        desk.expect("授权书编号");
        desk.key(KeyCode::Tab).await;
        desk.key(KeyCode::Tab).await;
        for (typed, says) in [
            ("abc", "应为整数"),
            ("0", "至少为 1"),
            ("91", "有效期最长 90 天"),
        ] {
            for _ in 0..4 {
                desk.key(KeyCode::Backspace).await;
            }
            desk.text(typed).await;
            desk.key(KeyCode::F(10)).await;
            desk.expect(says);
        }

        // A department's receipt date.
        let mut desk = case_file(srv, &ticket.ticket_no).await;
        desk.key(KeyCode::Char('s')).await;
        desk.expect("部门收函日期");
        for (typed, says) in [
            ("2026-13-01", "没有这一天"),
            ("2026-11-28", "已发生的事不能晚于今天"),
            ("2026-10-23", "不能早于 2026-11-23"),
        ] {
            for _ in 0..12 {
                desk.key(KeyCode::Backspace).await;
            }
            desk.text(typed).await;
            desk.key(KeyCode::Enter).await;
            desk.expect(says);
        }
    }
);

// A person's number with a mistyped region is checked as a person's: the
// clerk is told the region is wrong, not an organisation code's rules.
both_backends!(
    a_mistyped_region_is_named_as_such_at_the_counter,
    async |srv: &TestServer| {
        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("counter").await;
        desk.key(KeyCode::Char('v')).await;
        desk.text("991284196508120010").await;
        let screen = desk.expect("地区码 991284 无效");
        assert!(!screen.contains("统一社会信用代码"), "{screen}");
    }
);

// A refused login empties the password: Enter again sends nothing towards
// the lockout.
both_backends!(
    a_wrong_password_is_not_sent_twice,
    async |srv: &TestServer| {
        let mut desk = Desk::open(srv, Lang::Zh);
        desk.text("counter").await;
        desk.key(KeyCode::Tab).await;
        desk.text("wrong-password").await;
        desk.key(KeyCode::Enter).await;
        desk.expect("用户名或密码错误");
        desk.key(KeyCode::Enter).await;
        let failures: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM login_attempts WHERE username = 'counter' AND success = 0",
        )
        .fetch_one(srv.db.pool())
        .await
        .unwrap();
        assert_eq!(failures, 1, "the second Enter sent nothing");
        // The right password goes in where the cursor is.
        desk.text(credit_desk_tests::DEMO_PASSWORD).await;
        desk.key(KeyCode::Enter).await;
        desk.expect("主菜单");
    }
);

// Ctrl-C over a half-filled form asks first; with nothing typed it quits.
both_backends!(
    ctrl_c_asks_before_typed_input_is_lost,
    async |srv: &TestServer| {
        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("counter").await;
        desk.key(KeyCode::Char('v')).await;
        desk.text("44128419").await;
        desk.ctrl('c').await;
        assert!(!desk.app.quit);
        desk.expect("再按 Ctrl-C 退出");
        // Any other key goes back to the form, the input intact.
        desk.text("65").await;
        desk.expect("4412841965");
        desk.ctrl('c').await;
        assert!(!desk.app.quit, "asked again: the input is still unsent");
        desk.ctrl('c').await;
        assert!(desk.app.quit);

        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("counter").await;
        desk.ctrl('c').await;
        assert!(desk.app.quit, "nothing typed on the menu: quits at once");
    }
);

// A file path that leads nowhere is refused at the file field, in the
// clerk's language (it showed "No such file or directory (os error 2)").
both_backends!(
    a_missing_import_file_is_named_in_the_clerks_language,
    async |srv: &TestServer| {
        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("center").await;
        desk.key(KeyCode::Char('i')).await;
        desk.expect("报送部门");
        desk.key(KeyCode::Tab).await;
        desk.text("/nowhere/court.xlsx").await;
        desk.key(KeyCode::Enter).await;
        let screen = desk.expect("找不到文件 /nowhere/court.xlsx");
        assert!(!screen.contains("os error"), "{screen}");
    }
);

// The case file's history reads in the clerk's language, records by their
// department's key (it showed "1 record(s)", "reply due" and record ids).
both_backends!(
    the_case_history_reads_in_the_clerks_language,
    async |srv: &TestServer| {
        credit_desk_tests::load_records(srv).await;
        let (record, ticket_no) = corrected_record(srv).await;
        let mut desk = case_file(srv, &ticket_no).await;
        // The whole case file, a line at a time.
        let mut screen = desk.screen();
        for _ in 0..30 {
            desk.key(KeyCode::Down).await;
            screen.push_str(&desk.screen());
        }
        assert!(screen.contains("异议记录 1 条"), "{}", desk.screen());
        assert!(screen.contains("部门回复期限"));
        // The reply's line wraps at 80 columns: the record and its outcome.
        assert!(screen.contains("(2024)粤1284民初1001"));
        assert!(screen.contains("已更正"));
        for raw in ["record(s)", "reply due", record.as_str()] {
            assert!(!screen.contains(raw), "{raw}");
        }
    }
);

// A report on a consent limited to some categories says which were not
// queried, never that the person has no records (it read as clean).
both_backends!(
    a_scoped_report_says_what_it_did_not_query,
    async |srv: &TestServer| {
        use credit_desk_proto::pb;
        credit_desk_tests::load_records(srv).await;
        let counter = srv.session("counter").await;
        let (_, v) = credit_desk_tests::verify(srv, &counter.token, 1).await;
        counter
            .consent()
            .capture_consent(pb::CaptureConsentRequest {
                request_id: credit_desk_tests::rid(),
                verification_id: v,
                grantee_id: credit_desk_tests::unit(srv, "B-RCB").await,
                purpose_code: "loan_approval".into(),
                scope: vec!["traffic_violation".into()],
                form_serial: "SQ-SCOPE-1".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("bank").await;
        desk.key(KeyCode::Char('r')).await;
        desk.text("441284196508120010").await;
        desk.key(KeyCode::Enter).await;
        desk.expect("有效的查询授权");
        desk.key(KeyCode::Enter).await;
        let report = desk.expect("报告编号");
        assert!(report.contains("（授权范围内无记录）"), "{report}");
        assert!(
            report.contains("【法院判决与执行】  未授权查询"),
            "{report}"
        );
        assert!(!report.contains("（无记录）"), "{report}");
    }
);

/// How many special days the database holds for `year`.
async fn days_held(srv: &TestServer, year: i64) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM calendar_days WHERE year = $1")
        .bind(year)
        .fetch_one(srv.db.pool())
        .await
        .unwrap()
}

// A one-line calendar file used to replace a whole year at once. Now every
// change is previewed (days added and removed per year, deadlines that
// move) and written only after y; the official year can be restored; single
// days are added and removed; and the menu warns that 2027 is missing.
both_backends!(
    calendar_changes_are_previewed_confirmed_and_restorable,
    async |srv: &TestServer| {
        let official = days_held(srv, 2026).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("2026-one-line.csv");
        std::fs::write(&file, "2026-12-02,holiday,测试\n").unwrap();
        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("admin").await;
        // The test clock is 2026-11-23: requests stop after 2026-12-17.
        desk.expect("工作日历缺少 2027 年");
        desk.expect("2026-12-17 之后无法发出核实协查函");
        desk.key(KeyCode::Char('h')).await;
        desk.expect("国务院公布");
        desk.key(KeyCode::Down).await;
        desk.key(KeyCode::Enter).await;
        desk.expect(&format!("2026 年 · 1/{official}"));
        // The one-line file: a preview, and Esc leaves the year as it was.
        desk.key(KeyCode::Char('i')).await;
        desk.text(file.to_str().unwrap()).await;
        desk.key(KeyCode::Enter).await;
        desk.expect("预览（尚未写入）");
        desk.expect(&format!(
            "2026 年：现有 {official} 天 → 1 天（新增 1，删除 {official}"
        ));
        desk.key(KeyCode::Esc).await;
        assert_eq!(days_held(srv, 2026).await, official);
        // Confirmed, it is written, and the list shows the one day.
        desk.key(KeyCode::Enter).await;
        desk.expect("预览（尚未写入）");
        desk.key(KeyCode::Char('y')).await;
        desk.expect("✓ 已更新 2026 年工作日历：新增 1，删除");
        desk.expect("2026 年 · 1/1");
        assert_eq!(days_held(srv, 2026).await, 1);
        // The shipped schedule is restored the same way.
        desk.key(KeyCode::Tab).await;
        desk.key(KeyCode::Char('o')).await;
        desk.expect(&format!("2026 年：现有 1 天 → {official} 天"));
        desk.key(KeyCode::Char('y')).await;
        desk.expect(&format!("2026 年 · 1/{official}"));
        desk.expect("2026  国务院公布");
        assert_eq!(days_held(srv, 2026).await, official);
        // One day added: a weekday cannot be a make-up working day.
        desk.key(KeyCode::Char('a')).await;
        desk.text("2026-12-02").await;
        desk.key(KeyCode::Tab).await;
        desk.key(KeyCode::Right).await;
        desk.key(KeyCode::Enter).await;
        desk.expect("调休上班日只能是周末");
        desk.key(KeyCode::Tab).await;
        desk.key(KeyCode::Left).await;
        desk.key(KeyCode::Tab).await;
        desk.text("测试假日").await;
        desk.key(KeyCode::Enter).await;
        desk.expect("新增 1，删除 0");
        desk.key(KeyCode::Char('y')).await;
        desk.expect("手工修改");
        assert_eq!(days_held(srv, 2026).await, official + 1);
        // ... and removed again: the last day of the list, d, y.
        desk.key(KeyCode::End).await;
        desk.expect(&format!("2026 年 · {}/{}", official + 1, official + 1));
        desk.key(KeyCode::Char('d')).await;
        desk.expect("新增 0，删除 1");
        desk.key(KeyCode::Char('y')).await;
        assert_eq!(days_held(srv, 2026).await, official);
        // A file with bad lines names each, in Chinese.
        std::fs::write(&file, "2026-12-02,rest,x\n2026-13-01,holiday,x\n").unwrap();
        desk.key(KeyCode::Char('i')).await;
        desk.text(file.to_str().unwrap()).await;
        desk.key(KeyCode::Enter).await;
        desk.expect("第 1 行");
        // A file that is not there is named, not "os error 2".
        desk.key(KeyCode::Esc).await;
        desk.key(KeyCode::Char('i')).await;
        desk.text("/nonexistent/2027.csv").await;
        desk.key(KeyCode::Enter).await;
        desk.expect("找不到文件 /nonexistent/2027.csv");
    }
);

// Importing court-2025H1.xlsx in November 2026 marked the court's 2026H1
// delivered. The import screen now has a period: left empty, a dry run
// proposes it from the file's dates and fills it in for the clerk to check;
// the import then counts for that period and says so.
both_backends!(
    an_import_counts_for_the_period_the_clerk_checked,
    async |srv: &TestServer| {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("court-2025H1.xlsx");
        std::fs::write(&file, credit_desk_tests::COURT).unwrap();
        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("liaison").await;
        desk.key(KeyCode::Char('i')).await;
        desk.expect("报送期");
        desk.key(KeyCode::Tab).await;
        desk.text(file.to_str().unwrap()).await;
        desk.key(KeyCode::Enter).await;
        desk.expect("按文件日期推定报送期为 2025H1");
        let delivered = || async {
            sqlx::query_scalar::<_, String>("SELECT period FROM imports WHERE period IS NOT NULL")
                .fetch_all(srv.db.pool())
                .await
                .unwrap()
        };
        assert!(delivered().await.is_empty(), "only a dry run so far");
        desk.key(KeyCode::Enter).await;
        desk.expect("报送期 2025H1");
        assert_eq!(delivered().await, ["2025H1"]);
        // A period that is not one is refused on its field.
        desk.key(KeyCode::Esc).await;
        desk.key(KeyCode::Char('i')).await;
        desk.key(KeyCode::Tab).await;
        desk.text(file.to_str().unwrap()).await;
        desk.key(KeyCode::Tab).await;
        desk.text("2025Q3").await;
        desk.key(KeyCode::Enter).await;
        desk.expect("应为报送期");
    }
);

// An objection could be withdrawn from the queue without the applicant and
// without a reason, and a consent withdrawal had neither reason nor
// receipt. Now the applicant is verified again at the counter (or their
// written withdrawal is recorded), a reason is required, and a receipt with
// signature lines is printed.
both_backends!(
    an_objection_is_withdrawn_by_the_applicant_verified_again_with_a_receipt,
    async |srv: &TestServer| {
        credit_desk_tests::load_records(srv).await;
        let (_, ticket) = filed_objection(srv).await;
        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("counter").await;
        // Not verified today: only the written withdrawal is offered, and
        // without its reference nothing is withdrawn.
        desk.key(KeyCode::Char('t')).await;
        desk.expect(&ticket.ticket_no);
        desk.key(KeyCode::Enter).await;
        desk.key(KeyCode::Char('w')).await;
        desk.expect("申请人签字的书面撤回申请");
        desk.text("已与法院和解").await;
        desk.key(KeyCode::Enter).await;
        desk.expect("撤回须由申请人本人确认");
        desk.key(KeyCode::Esc).await;
        desk.key(KeyCode::Esc).await;
        desk.key(KeyCode::Esc).await;
        // The applicant at the counter: verified, then the withdrawal.
        verify(&mut desk, "441284196508120010", "李建国").await;
        desk.key(KeyCode::Esc).await;
        desk.key(KeyCode::Char('t')).await;
        desk.key(KeyCode::Enter).await;
        desk.key(KeyCode::Char('w')).await;
        desk.expect("申请人已在本柜台重新核验身份");
        desk.key(KeyCode::Enter).await;
        desk.expect("必填");
        desk.text("已与法院和解").await;
        desk.key(KeyCode::Enter).await;
        desk.expect("异议已撤回；h 打印撤回回执");
        desk.key(KeyCode::Char('h')).await;
        let (path, receipt) = desk.printed.last().unwrap();
        assert!(path.to_string_lossy().contains(&ticket.ticket_no));
        for text in [
            "撤回异议回执",
            "已与法院和解",
            "申请人已在本柜台重新核验身份",
            "申请人（或代理人）签字：",
            "经办人签字：",
        ] {
            assert!(receipt.contains(text), "{text} in\n{receipt}");
        }
        let state: String = sqlx::query_scalar("SELECT state FROM tickets WHERE id = $1")
            .bind(&ticket.id)
            .fetch_one(srv.db.pool())
            .await
            .unwrap();
        assert_eq!(state, "withdrawn");
    }
);

both_backends!(
    a_consent_is_withdrawn_with_a_reason_and_a_receipt,
    async |srv: &TestServer| {
        use credit_desk_proto::pb;
        use credit_desk_tests::{rid, unit, verify as verified};
        let counter = srv.session("counter").await;
        let (_, v) = verified(srv, &counter.token, 0).await;
        let bank = unit(srv, "B-RCB").await;
        counter
            .consent()
            .capture_consent(pb::CaptureConsentRequest {
                request_id: rid(),
                verification_id: v,
                grantee_id: bank,
                purpose_code: "loan_approval".into(),
                form_serial: "SQ-0001".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("counter").await;
        verify(&mut desk, "441284199003070023", "陈美玲").await;
        desk.key(KeyCode::Char('w')).await;
        desk.expect("[有效]");
        desk.key(KeyCode::Enter).await;
        desk.expect("填写撤回原因后按");
        desk.key(KeyCode::Enter).await;
        desk.expect("必填");
        desk.text("贷款已结清").await;
        desk.key(KeyCode::Enter).await;
        desk.expect("授权已撤回；p 打印撤回回执");
        desk.expect("[已撤回]");
        // Enter again says why nothing happens.
        desk.key(KeyCode::Enter).await;
        desk.expect("该授权已于");
        desk.key(KeyCode::Char('p')).await;
        let (_, receipt) = desk.printed.last().unwrap();
        for text in ["查询授权撤回回执", "贷款已结清", "SQ-0001", "经办人签字："]
        {
            assert!(receipt.contains(text), "{text} in\n{receipt}");
        }
    }
);

// An organisation could only be "verified" with a person's method, and a 93…
// cooperative showed as 企业. Now it is verified through the person acting
// for it — its registered legal representative, or an agent with a letter
// of authorisation — with the licence inspected, and its type follows the
// credit code.
both_backends!(
    an_organisation_is_verified_through_its_legal_representative_and_licence,
    async |srv: &TestServer| {
        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("counter").await;
        let attempt = async |desk: &mut Desk, representative: &str| {
            desk.key(KeyCode::Char('v')).await;
            desk.text("93441284MA4W00011D").await;
            desk.expect("农民专业合作社");
            desk.key(KeyCode::Tab).await;
            desk.text("四会市大沙镇兴旺农业专业合作社").await;
            desk.expect("办理人身份");
            desk.expect("查验的执照");
            // Method, then who acts (the legal representative), then them.
            desk.key(KeyCode::Tab).await;
            desk.key(KeyCode::Tab).await;
            desk.key(KeyCode::Tab).await;
            desk.text("441284196508120010").await;
            desk.key(KeyCode::Tab).await;
            desk.text(representative).await;
            desk.key(KeyCode::Tab).await;
            desk.text("营业执照正本").await;
            desk.key(KeyCode::Enter).await;
        };
        attempt(&mut desk, "王五").await;
        desk.expect("与登记的法定代表人（负责人）不符");
        desk.key(KeyCode::Esc).await;
        attempt(&mut desk, "李建国").await;
        let shown = desk.expect("核验通过");
        assert!(shown.contains("农民专业合作社"), "{shown}");
        assert!(!shown.contains("[机构] 企业"), "{shown}");
        assert!(shown.contains("法定代表人（负责人）本人 李建国"), "{shown}");
        assert!(shown.contains("营业执照正本"), "{shown}");
        let (acting, licence): (String, String) = sqlx::query_as(
            "SELECT acting_as, licence FROM verifications ORDER BY created_at DESC LIMIT 1",
        )
        .fetch_one(srv.db.pool())
        .await
        .unwrap();
        assert_eq!(
            (acting.as_str(), licence.as_str()),
            ("legal_representative", "营业执照正本")
        );
    }
);

// A consent given through an agent named only the grantor, and one paper
// form serial was accepted for two people.
both_backends!(
    a_consent_receipt_names_the_agent_and_a_form_serial_is_used_once,
    async |srv: &TestServer| {
        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("counter").await;
        // 陈美玲 through her agent 黄志强 with a power of attorney.
        desk.key(KeyCode::Char('v')).await;
        desk.text("441284199003070023").await;
        desk.key(KeyCode::Tab).await;
        desk.text("陈美玲").await;
        desk.key(KeyCode::Tab).await;
        for _ in 0..3 {
            desk.key(KeyCode::Right).await;
        }
        desk.key(KeyCode::Tab).await;
        desk.text("441284198811230035").await;
        desk.key(KeyCode::Tab).await;
        desk.text("黄志强").await;
        desk.key(KeyCode::Tab).await;
        desk.text("WT-2026-007").await;
        desk.key(KeyCode::Enter).await;
        desk.expect("核验通过");
        let capture = async |desk: &mut Desk| {
            desk.key(KeyCode::Char('c')).await;
            desk.expect("授权书编号");
            // Past purpose, days and start date to the serial.
            for _ in 0..4 {
                desk.key(KeyCode::Tab).await;
            }
            desk.text("sq-2026-0042").await;
            desk.key(KeyCode::F(10)).await;
        };
        capture(&mut desk).await;
        let receipt = desk.expect("查询授权回执");
        assert!(receipt.contains("代理人：黄志强"), "{receipt}");
        assert!(receipt.contains("WT-2026-007"), "{receipt}");
        assert!(receipt.contains("SQ-2026-0042"), "{receipt}");
        desk.key(KeyCode::Char('p')).await;
        let (_, printed) = desk.printed.last().unwrap();
        for text in [
            "黄志强",
            "WT-2026-007",
            "申请人（或代理人）签字：",
            "经办人签字：",
        ] {
            assert!(printed.contains(text), "{text} in\n{printed}");
        }
        // Reprinted from the person's consents (w, then b): marked as a
        // reprint, otherwise line for line the first print.
        let first = printed.clone();
        desk.key(KeyCode::Esc).await;
        desk.key(KeyCode::Char('w')).await;
        desk.expect("SQ-2026-0042");
        desk.key(KeyCode::Char('b')).await;
        let (_, again) = desk.printed.last().unwrap();
        assert!(again.contains("查询授权回执（补打）"), "{again}");
        let body = |text: &str| -> Vec<String> {
            text.lines()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty() && !l.contains("补打") && !l.contains("查询授权回执"))
                .collect()
        };
        assert_eq!(body(&first), body(again));
        desk.key(KeyCode::Esc).await;
        // The same paper form for another person is refused on its field.
        desk.key(KeyCode::F(2)).await;
        desk.text("441284196508120010").await;
        desk.key(KeyCode::Tab).await;
        desk.text("李建国").await;
        desk.key(KeyCode::Enter).await;
        desk.expect("核验通过");
        capture(&mut desk).await;
        desk.expect("该纸质授权书编号已登记在另一份授权上");
    }
);

// Dates a clerk types are checked against what they follow: a department's
// receipt of the request cannot be in the future, before the objection was
// filed, or on a day off; a date that does not exist says so; a corrected
// end cannot come before the record's start.
both_backends!(
    dates_are_checked_against_the_facts_they_follow,
    async |srv: &TestServer| {
        credit_desk_tests::load_records(srv).await;
        let (_, ticket) = filed_objection(srv).await;
        // Filed on Monday 2026-11-23; today is Sunday 2026-11-29.
        srv.clock.advance_ms(6 * 86_400_000);
        let mut desk = case_file(srv, &ticket.ticket_no).await;
        let send = async |desk: &mut Desk, day: &str, rule: &str| {
            desk.key(KeyCode::Char('s')).await;
            desk.text(day).await;
            desk.key(KeyCode::Enter).await;
            desk.expect(rule);
            desk.key(KeyCode::Esc).await;
        };
        send(&mut desk, "2026-13-01", "没有这一天").await;
        send(&mut desk, "2026-11-30", "已发生的事不能晚于今天").await;
        send(&mut desk, "2026-10-23", "不能早于 2026-11-23").await;
        send(&mut desk, "2026-11-28", "应为工作日").await;
        // A working day between the filing and today is taken.
        desk.key(KeyCode::Char('s')).await;
        desk.text("2026-11-24").await;
        desk.key(KeyCode::Enter).await;
        desk.expect("2026-12-08");
        // The court corrects the record, with an end before its start.
        desk.key(KeyCode::Char('a')).await;
        for _ in 0..4 {
            desk.key(KeyCode::Tab).await;
        }
        desk.text("2000-01-01").await;
        desk.key(KeyCode::Tab).await;
        desk.text("已核实更正").await;
        desk.key(KeyCode::Enter).await;
        desk.expect("不能早于 2024-03-05");
    }
);

// Paging down the case file ran past its end onto an empty page.
both_backends!(
    paging_the_case_file_stops_at_its_last_page,
    async |srv: &TestServer| {
        credit_desk_tests::load_records(srv).await;
        let (_, ticket) = filed_objection(srv).await;
        let mut desk = case_file(srv, &ticket.ticket_no).await;
        for _ in 0..20 {
            desk.key(KeyCode::PageDown).await;
            desk.screen();
        }
        // The end of the history is on screen, not an empty page.
        desk.expect("受理异议");
        desk.key(KeyCode::PageUp).await;
        desk.key(KeyCode::Home).await;
        desk.expect("案卷编号");
    }
);

// On a township line every return to the menu cost a round trip for its
// counters. They are taken as true for a minute after a home or queue
// answer, unless something was written since.
both_backends!(
    returning_to_the_menu_asks_again_only_after_a_change,
    async |srv: &TestServer| {
        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("counter").await;
        desk.key(KeyCode::Char('t')).await;
        desk.expect("时限队列");
        let calls = desk.calls;
        desk.key(KeyCode::Esc).await;
        desk.expect("主菜单");
        assert_eq!(desk.calls, calls, "the queue's counters serve the menu");
        // A verification is written: the menu asks again.
        verify(&mut desk, "441284199003070023", "陈美玲").await;
        let calls = desk.calls;
        desk.key(KeyCode::Esc).await;
        desk.expect("主菜单");
        assert_eq!(desk.calls, calls + 1, "counters asked for after a change");
    }
);

// Reference data (purposes, grantees, categories) is fetched once a
// session: the consent form opened again costs no round trip, and what the
// workstation holds is the same lists.
both_backends!(
    the_consent_form_opened_again_costs_no_round_trip,
    async |srv: &TestServer| {
        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("counter").await;
        verify(&mut desk, "441284199003070023", "陈美玲").await;
        let before = desk.calls;
        desk.key(KeyCode::Char('c')).await;
        let first = desk.expect("授权书编号");
        assert_eq!(desk.calls, before + 1, "the first form asks");
        desk.key(KeyCode::Esc).await;
        desk.expect("核验通过");
        let before = desk.calls;
        desk.key(KeyCode::Char('c')).await;
        let again = desk.expect("授权书编号");
        assert_eq!(
            desk.calls, before,
            "the second form is drawn from what is held"
        );
        assert_eq!(first, again);
    }
);

// A person the registry does not know: the clerk registers them from the
// identity card at the counter (sex and birth date read off the number,
// the township the counter's), the verification then goes through, and
// the report says there is nothing on record. A second registration of
// the number is refused naming it.
both_backends!(
    an_unknown_person_is_registered_and_gets_an_empty_report,
    async |srv: &TestServer| {
        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("counter").await;
        desk.key(KeyCode::Char('v')).await;
        desk.text("441284198801011234").await;
        desk.key(KeyCode::Tab).await;
        desk.text("王小明").await;
        desk.key(KeyCode::Enter).await;
        let screen = desk.expect("库中无此证件号码");
        assert!(screen.contains("F3 登记新主体"), "{screen}");
        desk.key(KeyCode::F(3)).await;
        let form = desk.expect("登记新主体（按身份证或营业执照）");
        assert!(form.contains("王小明 441284198801011234"), "{form}");
        assert!(!form.contains("法定代表人"), "a person has none: {form}");
        desk.key(KeyCode::Enter).await;
        desk.expect("! 必填");
        desk.text("四会市大沙镇马鞍村 8 号").await;
        desk.key(KeyCode::Enter).await;
        let verified = desk.expect("核验通过");
        assert!(verified.contains("王小明"), "{verified}");

        let (township, sex, birth): (Option<String>, String, String) = sqlx::query_as(
            "SELECT t.code, p.sex, p.birth_date FROM subjects s
             JOIN persons p ON p.subject_id = s.id
             LEFT JOIN org_units t ON t.id = s.township_id
             WHERE s.name = '王小明'",
        )
        .fetch_one(srv.db.pool())
        .await
        .unwrap();
        assert_eq!(
            (township.as_deref(), sex.as_str(), birth.as_str()),
            (Some("T-DASHA"), "male", "1988-01-01")
        );

        desk.key(KeyCode::Char('q')).await;
        let report = desk.expect("报告编号");
        assert!(report.contains("（无记录）"), "{report}");

        // Registered once: the same number again is refused, naming it.
        let again = srv
            .session("counter")
            .await
            .identity()
            .register_subject(credit_desk_proto::pb::RegisterSubjectRequest {
                request_id: credit_desk_tests::rid(),
                identifier: "441284198801011234".into(),
                name: "王小明".into(),
                address: "四会市".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(again.code(), tonic::Code::InvalidArgument);
        assert!(again.message().contains("已登记"), "{}", again.message());
        let audited: Vec<(String,)> =
            sqlx::query_as("SELECT action FROM audit_log WHERE action = 'subject.register'")
                .fetch_all(srv.db.pool())
                .await
                .unwrap();
        assert_eq!(audited.len(), 1);
    }
);

// A report reprinted by its number at the counter (menu b): shown and
// printed marked as a reprint, otherwise line for line the printout of the
// report as issued.
both_backends!(
    a_report_is_reprinted_by_its_number_as_first_printed,
    async |srv: &TestServer| {
        credit_desk_tests::load_records(srv).await;
        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("counter").await;
        verify(&mut desk, "441284196508120010", "李建国").await;
        desk.key(KeyCode::Char('q')).await;
        let report = desk.expect("报告编号");
        let number = report
            .split_whitespace()
            .find_map(|w| {
                w.split("报告编号：")
                    .nth(1)
                    .filter(|n| n.starts_with("CD-"))
            })
            .or_else(|| report.split_whitespace().find(|w| w.starts_with("CD-")))
            .map(|n| n.trim_matches('"').to_string())
            .unwrap_or_else(|| panic!("no report number:\n{report}"));
        desk.key(KeyCode::Char('p')).await;
        desk.expect("已保存到");
        let original = desk.printed.last().unwrap().1.clone();
        desk.key(KeyCode::Esc).await;
        desk.key(KeyCode::Esc).await;
        desk.expect("主菜单");

        desk.key(KeyCode::Char('b')).await;
        desk.expect("报告编号");
        desk.text(&number.to_lowercase()).await;
        desk.key(KeyCode::Enter).await;
        let shown = desk.expect("（补打）");
        assert!(
            shown.contains("补打：") && shown.contains("李柜员"),
            "{shown}"
        );
        desk.key(KeyCode::Char('p')).await;
        desk.expect("已保存到");
        let reprint = desk.printed.last().unwrap().1.clone();
        assert!(reprint.contains("信用报告（补打）"), "{reprint}");
        let body = |text: &str| -> Vec<String> {
            text.lines()
                .filter(|l| !l.contains("信用报告") && !l.starts_with("补打："))
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string)
                .collect()
        };
        assert_eq!(body(&reprint), body(&original));

        // A number nobody issued (or not this unit's) is simply not found.
        desk.key(KeyCode::Esc).await;
        desk.key(KeyCode::Char('b')).await;
        desk.text("CD-20200101-000001").await;
        desk.key(KeyCode::Enter).await;
        let screen = desk.expect("报告编号：不存在");
        assert!(!screen.contains("（补打）"), "{screen}");
    }
);

// A withdrawn ticket is no longer in the queue: the clerk finds it from the
// queue (`/`) by the person's name and opens its case file.
both_backends!(
    a_withdrawn_ticket_is_found_from_the_queue_and_opened,
    async |srv: &TestServer| {
        use credit_desk_proto::pb;
        credit_desk_tests::load_records(srv).await;
        let counter = srv.session("counter").await;
        let (subject, v) = credit_desk_tests::verify(srv, &counter.token, 1).await;
        let report = credit_desk_tests::run(
            srv,
            &counter.token,
            credit_desk_tests::self_query(&subject, &v),
        )
        .await
        .report
        .unwrap();
        let ticket = counter
            .objection()
            .file_objection(pb::FileObjectionRequest {
                request_id: credit_desk_tests::rid(),
                verification_id: v,
                record_ids: vec![report.sections[0].records[0].id.clone()],
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
            .unwrap();
        srv.session("center")
            .await
            .objection()
            .act_on_ticket(pb::ActOnTicketRequest {
                request_id: credit_desk_tests::rid(),
                ticket_id: ticket.id.clone(),
                expected_version: ticket.version,
                action: Some(pb::act_on_ticket_request::Action::Withdraw(pb::Withdraw {
                    reason: "已与法院和解".into(),
                    written_request: "书面申请 11-23".into(),
                    ..Default::default()
                })),
            })
            .await
            .unwrap();

        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("counter").await;
        desk.key(KeyCode::Char('t')).await;
        let queue = desk.expect("/ 查找案卷");
        assert!(!queue.contains(&ticket.ticket_no), "withdrawn: {queue}");
        desk.key(KeyCode::Char('/')).await;
        desk.expect("案卷编号/证件号码/姓名");
        desk.text("李建国").await;
        desk.key(KeyCode::Enter).await;
        let found = desk.expect("找到 1");
        assert!(
            found.contains(&ticket.ticket_no) && found.contains("已撤回"),
            "{found}"
        );
        assert!(found.contains("441284********0010"), "{found}");
        desk.key(KeyCode::Enter).await;
        let case = desk.expect("案卷编号");
        assert!(case.contains(&ticket.ticket_no), "{case}");
    }
);

// The clerk's own day (menu y) lists this operator's verifications and
// queries of today, not another clerk's nor yesterday's.
both_backends!(the_clerk_sees_their_own_day, async |srv: &TestServer| {
    let center = srv.session("center").await;
    credit_desk_tests::verify(srv, &center.token, 2).await;
    let counter = srv.session("counter").await;
    let (subject, v) = credit_desk_tests::verify(srv, &counter.token, 0).await;
    credit_desk_tests::run(
        srv,
        &counter.token,
        credit_desk_tests::self_query(&subject, &v),
    )
    .await;
    let mut desk = Desk::open(srv, Lang::Zh);
    desk.log_in("counter").await;
    verify(&mut desk, "441284196508120010", "李建国").await;
    desk.key(KeyCode::Esc).await;
    desk.key(KeyCode::Char('y')).await;
    let day = desk.expect("核验 2 · 查询 1");
    assert!(day.contains("2026-11-23"), "{day}");
    assert!(day.contains("441284********0010"), "{day}");
    assert!(!day.contains("黄志强"), "the center's verification: {day}");

    // The next day starts empty.
    srv.clock.advance_ms(86_400_000);
    let mut desk = Desk::open(srv, Lang::Zh);
    desk.log_in("counter").await;
    desk.key(KeyCode::Char('y')).await;
    desk.expect("今天还没有核验或查询");
});

// The registry at the counter (menu s): a person found by name shows the
// household they belong to but not their records (those only through a
// logged query); the household's card lists its members, and the clerk
// adds a member by number and removes them again. The center sees every
// record with its versions and origin, a case number whole.
both_backends!(
    the_registry_shows_cards_and_keeps_households,
    async |srv: &TestServer| {
        credit_desk_tests::load_records(srv).await;
        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("counter").await;
        desk.key(KeyCode::Char('s')).await;
        desk.text("李建国").await;
        desk.key(KeyCode::Enter).await;
        let found = desk.expect("找到 2");
        assert!(found.contains("H441284********0010"), "{found}");
        desk.key(KeyCode::Enter).await;
        let card = desk.expect("所属农户");
        assert!(card.contains("441284********0010"), "masked: {card}");
        assert!(card.contains("信息记录只能通过查询查看"), "{card}");
        assert!(!card.contains("民初"), "no records at the counter: {card}");
        for _ in 0..3 {
            desk.key(KeyCode::Down).await;
        }
        desk.key(KeyCode::Enter).await;
        let household = desk.expect("农户成员");
        assert!(household.contains("户主"), "{household}");
        assert!(
            household.contains("配偶") && household.contains("陈美玲"),
            "{household}"
        );
        desk.key(KeyCode::Char('a')).await;
        desk.expect("添加农户成员");
        desk.key(KeyCode::Enter).await;
        desk.expect("! 必填");
        desk.text("441284198811230035").await;
        desk.key(KeyCode::Tab).await;
        desk.text("兄弟").await;
        desk.key(KeyCode::Enter).await;
        let saved = desk.expect("农户已保存");
        assert!(saved.contains("黄志强"), "{saved}");
        // The new member is the last line of the members: select and remove.
        for _ in 0..5 {
            desk.key(KeyCode::Down).await;
        }
        let selected = desk.expect("▶  兄弟");
        assert!(selected.contains("d 移出成员"), "{selected}");
        desk.key(KeyCode::Char('d')).await;
        desk.expect("按 y 确认移出该成员");
        desk.key(KeyCode::Char('y')).await;
        let after = desk.expect("农户已保存");
        assert!(!after.contains("黄志强"), "{after}");
        let members: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM household_members")
            .fetch_one(srv.db.pool())
            .await
            .unwrap();
        assert_eq!(members, 2);
        // Esc goes back through the cards opened, then to the list.
        desk.key(KeyCode::Esc).await;
        desk.expect("所属农户");

        let mut center = Desk::open(srv, Lang::Zh);
        center.log_in("center").await;
        center.key(KeyCode::Char('s')).await;
        center.text("441284196508120010").await;
        center.key(KeyCode::Enter).await;
        center.key(KeyCode::Enter).await;
        let card = center.expect("信息记录（含历次版本");
        assert!(card.contains("(2016)粤1284民初1号"), "whole: {card}");
        assert!(card.contains("导入 old.csv"), "{card}");
        // The household's card (its line on his card) lists the members' records.
        for _ in 0..3 {
            center.key(KeyCode::Down).await;
        }
        center.key(KeyCode::Enter).await;
        let household = center.expect("农户成员");
        assert!(household.contains("[李建国] 法院判决与执行"), "{household}");
        center.key(KeyCode::Esc).await;
        center.expect("所属农户");
        // An empty search browses the whole registry by name.
        center.key(KeyCode::Esc).await;
        center.key(KeyCode::Esc).await;
        center.ctrl('u').await;
        center.key(KeyCode::Enter).await;
        let all = center.expect("找到 5");
        assert!(
            all.contains("黄志强") && all.contains("兴旺农业专…"),
            "{all}"
        );
    }
);

/// Presses `code` until a screen line holding the selection mark shows
/// `text` (at most `limit` times).
async fn select_line(desk: &mut Desk, code: KeyCode, text: &str, limit: usize) {
    for _ in 0..limit {
        let screen = desk.screen();
        if screen.lines().any(|l| l.contains('▶') && l.contains(text)) {
            return;
        }
        desk.key(code).await;
    }
    panic!("no selected line with {text:?} on:\n{}", desk.screen());
}

// The administrator's everyday changes, each on its screen: an operator
// renamed and moved to another township (e), a unit disabled and enabled
// again (d, y) and renamed (e), a retired purpose brought back (d), and a
// setting changed within its range (Enter).
both_backends!(
    an_administrator_edits_operators_units_purposes_and_settings,
    async |srv: &TestServer| {
        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("admin").await;
        desk.key(KeyCode::Char('u')).await;
        desk.key(KeyCode::Char('/')).await;
        desk.text("counter").await;
        desk.key(KeyCode::Enter).await;
        select_line(&mut desk, KeyCode::Down, "counter", 5).await;
        desk.key(KeyCode::Char('e')).await;
        desk.expect("修改操作员 — counter");
        desk.ctrl('u').await;
        desk.text("张柜员").await;
        desk.key(KeyCode::Tab).await;
        desk.key(KeyCode::Tab).await;
        for _ in 0..20 {
            if desk.screen().contains("江谷镇便民服务中心 [T-JIANGGU]") {
                break;
            }
            desk.key(KeyCode::Right).await;
        }
        desk.key(KeyCode::Enter).await;
        let done = desk.expect("已更新");
        assert!(done.contains("张柜员"), "{done}");
        let (name, unit): (String, String) = sqlx::query_as(
            "SELECT o.display_name, u.code FROM operators o
               JOIN org_units u ON u.id = o.org_unit_id WHERE o.username = 'counter'",
        )
        .fetch_one(srv.db.pool())
        .await
        .unwrap();
        assert_eq!((name.as_str(), unit.as_str()), ("张柜员", "T-JIANGGU"));
        desk.key(KeyCode::Esc).await;

        desk.key(KeyCode::Char('o')).await;
        select_line(&mut desk, KeyCode::Down, "T-JINGKOU", 20).await;
        desk.key(KeyCode::Char('d')).await;
        desk.expect("按 y 确认停用该单位");
        desk.key(KeyCode::Char('y')).await;
        let disabled = desk.expect("单位已停用");
        assert!(
            disabled
                .lines()
                .any(|l| l.contains("T-JINGKOU") && l.contains("停用")),
            "{disabled}"
        );
        desk.key(KeyCode::Char('d')).await;
        desk.expect("按 y 确认重新启用该单位");
        desk.key(KeyCode::Char('y')).await;
        desk.expect("单位已保存");
        desk.key(KeyCode::Char('e')).await;
        desk.expect("修改单位 — 迳口镇便民服务中心");
        desk.ctrl('u').await;
        desk.text("迳口镇政务服务中心").await;
        desk.key(KeyCode::Enter).await;
        let renamed = desk.expect("单位已保存");
        assert!(renamed.contains("迳口镇政务服务中心"), "{renamed}");
        desk.key(KeyCode::Esc).await;

        desk.key(KeyCode::Char('g')).await;
        select_line(&mut desk, KeyCode::Down, "贷款审批", 20).await;
        desk.key(KeyCode::Char('d')).await;
        desk.key(KeyCode::Char('y')).await;
        let retired = desk.expect("已停用");
        assert!(retired.contains("d 恢复启用"), "{retired}");
        desk.key(KeyCode::Char('d')).await;
        desk.expect("用途已恢复启用");
        desk.key(KeyCode::Esc).await;

        desk.key(KeyCode::Char('e')).await;
        let settings = desk.expect("查询授权的最长有效期（天）");
        assert!(settings.contains("设定值 90"), "{settings}");
        desk.key(KeyCode::Enter).await;
        desk.ctrl('u').await;
        desk.text("0").await;
        desk.key(KeyCode::Enter).await;
        desk.expect("至少为 1");
        desk.ctrl('u').await;
        desk.text("120").await;
        desk.key(KeyCode::Enter).await;
        let saved = desk.expect("设置已保存");
        assert!(saved.contains("设定值 120"), "{saved}");
        let stored: i64 = {
            let mut conn = srv.db.read().await.unwrap();
            credit_desk_server::settings::get(
                &mut conn,
                credit_desk_server::services::consent::MAX_VALIDITY_SETTING,
            )
            .await
            .unwrap()
        };
        assert_eq!(stored, 120);
    }
);

// The center's paper for an objection, from the case file: the reply is
// recorded with the department's letter number and date (the date asked
// for once the number is given), then the verification request to the
// court (l), the written notice to the applicant with the outcome and the
// reply letter (o), and the acceptance receipt again, marked a reprint (b).
both_backends!(
    the_case_file_prints_requests_notice_and_receipt_reprints,
    async |srv: &TestServer| {
        use credit_desk_proto::pb::{self, act_on_ticket_request::Action};
        credit_desk_tests::load_records(srv).await;
        let (_, filed) = filed_objection(srv).await;
        let center = srv.session("center").await;
        center
            .objection()
            .act_on_ticket(pb::ActOnTicketRequest {
                request_id: credit_desk_tests::rid(),
                ticket_id: filed.id.clone(),
                expected_version: filed.version,
                action: Some(Action::SendRequests(pb::SendRequests {
                    received_on: "2026-11-23".into(),
                })),
            })
            .await
            .unwrap();
        let mut desk = case_file(srv, &filed.ticket_no).await;
        desk.key(KeyCode::Char('a')).await;
        desk.expect("回函文号");
        desk.key(KeyCode::Tab).await;
        desk.key(KeyCode::Tab).await;
        desk.text("已履行").await;
        desk.key(KeyCode::Tab).await;
        desk.key(KeyCode::Tab).await;
        desk.text("2025-08-15").await;
        desk.key(KeyCode::Tab).await;
        desk.text("经核实，已执行完毕").await;
        desk.key(KeyCode::Tab).await;
        desk.text("四法函〔2026〕12号").await;
        desk.key(KeyCode::Enter).await;
        // Refused: the cursor is on the field the refusal names.
        desk.expect("▶回函日期");
        desk.expect("! 必填");
        desk.text("2026-11-23").await;
        desk.key(KeyCode::Enter).await;
        desk.expect("部门已回复");

        for key in ['l', 'o', 'b'] {
            desk.key(KeyCode::Char(key)).await;
        }
        let printed: Vec<&str> = desk.printed.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(printed.len(), 3, "{:?}", desk.printed);
        let request = printed[0];
        assert!(request.contains("信用信息核实协查函"), "{request}");
        assert!(request.contains("致：市人民法院"), "{request}");
        assert!(
            request.contains("(2024)粤1284民初1001号"),
            "whole: {request}"
        );
        assert!(request.contains("2026-12-07"), "the reply due: {request}");
        let notice = printed[1];
        assert!(notice.contains("异议处理结果书面告知书"), "{notice}");
        assert!(notice.contains("→ 已更正"), "{notice}");
        assert!(notice.contains("四法函〔2026〕12号 2026-11-23"), "{notice}");
        let receipt = printed[2];
        assert!(receipt.contains("异议申请受理回执（补打）"), "{receipt}");
        assert!(receipt.contains(&filed.ticket_no), "{receipt}");
        for text in printed {
            assert!(
                text.lines()
                    .all(|l| unicode_width::UnicodeWidthStr::width(l) <= 80),
                "nothing past 80 columns:\n{text}"
            );
        }
    }
);

// Reference lists (purposes, grantees, categories) are not fetched again
// for the next operator at the same workstation, and a workstation that
// kept them in its cache file from an earlier run pays a revalidation of a
// few bytes for them, not the lists; the session token is sent in the
// header that HTTP/2 indexes, so it is not paid for again on every call.
both_backends!(
    reference_lists_are_kept_across_logins_and_runs,
    async |srv: &TestServer| {
        let bytes_down = |desk: &Desk| desk.app.link.meter.totals().1;
        let mut desk = Desk::open(srv, Lang::Zh);
        desk.log_in("counter").await;
        verify(&mut desk, "441284196508120010", "李建国").await;
        let (calls, down) = (desk.calls, bytes_down(&desk));
        desk.key(KeyCode::Char('c')).await;
        desk.expect("银行"); // the first grantee, a bank
        assert_eq!(desk.calls, calls + 1, "the lists are fetched once");
        let first_fetch = bytes_down(&desk) - down;

        // The next clerk at the same terminal: no call for the lists.
        desk.key(KeyCode::Esc).await;
        desk.key(KeyCode::Esc).await;
        desk.key(KeyCode::Char('q')).await;
        desk.expect("操作员登录");
        desk.log_in("counter").await;
        verify(&mut desk, "441284196508120010", "李建国").await;
        let calls = desk.calls;
        desk.key(KeyCode::Char('c')).await;
        desk.expect("银行"); // the first grantee, a bank
        assert_eq!(desk.calls, calls, "held lists are used at once");

        // The next run, from the cache file: the login's answer names the
        // lists' version, so lists still current cost no call at all.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("reference.pb");
        let held = &desk.app.reference.as_ref().unwrap().lists;
        credit_desk::reference_cache::save(&file, held).unwrap();
        let mut next_day = Desk::open(srv, Lang::Zh);
        next_day
            .app
            .hold_reference(credit_desk::reference_cache::load(&file).unwrap());
        next_day.log_in("counter").await;
        verify(&mut next_day, "441284196508120010", "李建国").await;
        let calls = next_day.calls;
        next_day.key(KeyCode::Char('c')).await;
        next_day.expect("银行"); // the first grantee, a bank
        assert_eq!(next_day.calls, calls, "confirmed by the login's answer");

        // Lists that changed since they were kept: the login's version
        // differs, and the form asks once and gets the lists whole.
        let mut stale = credit_desk::reference_cache::load(&file).unwrap();
        stale.version = "0000000000000000".into();
        stale.grantees.clear();
        let mut later = Desk::open(srv, Lang::Zh);
        later.app.hold_reference(stale);
        later.log_in("counter").await;
        verify(&mut later, "441284196508120010", "李建国").await;
        let (calls, down) = (later.calls, bytes_down(&later));
        later.key(KeyCode::Char('c')).await;
        later.expect("银行"); // the grantees are back
        assert_eq!(later.calls, calls + 1, "asked once");
        let refetch = bytes_down(&later) - down;
        assert!(
            refetch * 10 > first_fetch * 9,
            "the lists came whole: {refetch} B against {first_fetch} B"
        );
    }
);

// A clerk who only passes through the menu (Esc back, then the next item's
// letter) costs no round trip for the menu's counters; one who stays on
// the menu sees them refreshed a moment later.
both_backends!(
    the_menu_refreshes_its_counters_only_for_a_clerk_who_stays,
    async |srv: &TestServer| {
        let mut desk = Desk::open(srv, Lang::Zh);
        desk.brisk = true;
        desk.log_in("counter").await;
        verify(&mut desk, "441284196508120010", "李建国").await;

        // Passing through: the refresh waits, and leaving cancels it.
        let calls = desk.calls;
        desk.key(KeyCode::Esc).await;
        desk.expect("主菜单");
        assert!(desk.holds_a_call(), "the refresh waits a moment");
        assert!(!desk.screen().contains("加载"), "nothing says loading");
        desk.key(KeyCode::Char('t')).await;
        desk.expect("时限队列");
        assert!(!desk.holds_a_call(), "leaving the menu cancelled it");
        assert_eq!(desk.calls, calls + 1, "only the queue was asked for");

        // The queue's answer carried the counters: back on the menu they
        // are fresh, and nothing is asked.
        desk.key(KeyCode::Esc).await;
        desk.expect("主菜单");
        assert!(!desk.holds_a_call());

        // Staying on the menu after a write: the counters are asked for.
        verify(&mut desk, "441284196508120010", "李建国").await;
        desk.key(KeyCode::Esc).await;
        let calls = desk.calls;
        desk.pause().await;
        assert_eq!(desk.calls, calls + 1, "the counters were refreshed");
        assert!(!desk.holds_a_call());
    }
);
