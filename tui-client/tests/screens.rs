//! The workstation driven through its state machine and drawn on ratatui's
//! TestBackend: flows, and snapshots of the screens at 80×24 in both
//! languages.

use credit_desk::app::{App, Command, Event};
use credit_desk::net::{Answer, Call};
use credit_desk_proto::Lang;
use credit_desk_proto::pb::{self, Capability, Role};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use tonic_types::{ErrorDetails, StatusExt};

mod common;
use common::*;

/// Logs in as an administrator and returns the app on the main menu.
fn logged_in(lang: Lang) -> App {
    logged_in_as(
        lang,
        Role::Admin,
        &[
            Capability::ChangeOwnPassword,
            Capability::ManageOrgUnits,
            Capability::ManageOperators,
        ],
        None,
    )
}

#[test]
fn login_sends_the_credentials_and_terminal_then_shows_the_menu() {
    let mut app = app(Lang::Zh);
    type_text(&mut app, "Counter");
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "demo?2026");
    assert!(!app.help, "'?' in a field is a character, not help");
    let (_, token, call) = sent(&app.update(key(KeyCode::Enter)));
    assert_eq!(token, None);
    match call {
        Call::Login(req) => {
            assert_eq!(req.username, "counter");
            assert_eq!(req.password, "demo?2026");
            assert_eq!(req.terminal, "counter-1");
        }
        other => panic!("{other:?}"),
    }
    let app = logged_in(Lang::Zh);
    let text = screen_text(&app);
    assert!(text.contains("主菜单"), "{text}");
    assert!(text.contains("操作员管理"));
}

#[test]
fn empty_login_is_refused_locally() {
    let mut app = app(Lang::En);
    let commands = app.update(key(KeyCode::Enter));
    assert!(commands.is_empty(), "nothing goes to the server");
    let text = screen_text(&app);
    assert!(text.contains("is required"), "{text}");
}

#[test]
fn server_field_errors_land_next_to_the_field() {
    let mut app = app(Lang::Zh);
    type_text(&mut app, "x");
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "y");
    let (seq, _, _) = sent(&app.update(key(KeyCode::Enter)));
    let status = tonic::Status::with_error_details(
        tonic::Code::Unauthenticated,
        "用户名或密码错误",
        ErrorDetails::with_error_info(
            credit_desk_proto::errors::BAD_CREDENTIALS,
            credit_desk_proto::errors::DOMAIN,
            std::collections::HashMap::new(),
        ),
    );
    app.update(Event::Reply {
        seq,
        result: Err(status),
        rtt_ms: 5,
    });
    let text = screen_text(&app);
    assert!(text.contains("✗ 用户名或密码错误"), "{text}");
}

#[test]
fn a_forced_password_change_comes_first_and_esc_logs_out() {
    let mut app = app(Lang::Zh);
    type_text(&mut app, "zhao");
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "first2026go");
    let (seq, _, _) = sent(&app.update(key(KeyCode::Enter)));
    app.update(Event::Reply {
        seq,
        result: Ok(login_answer(
            Role::Counter,
            &[Capability::ChangeOwnPassword],
            true,
        )),
        rtt_ms: 1,
    });
    assert!(screen_text(&app).contains("请先设置自己的密码"));
    let (_, token, call) = sent(&app.update(key(KeyCode::Esc)));
    assert_eq!(token.as_deref(), Some("tok"));
    assert!(matches!(call, Call::Logout));
}

#[test]
fn an_ended_session_returns_to_login_keeping_the_username() {
    let mut app = logged_in(Lang::Zh);
    let (seq, token, _) = sent(&app.update(key(KeyCode::Char('u'))));
    assert_eq!(
        token.as_deref(),
        Some("tok"),
        "calls carry the session token"
    );
    let status = tonic::Status::with_error_details(
        tonic::Code::Unauthenticated,
        "会话已过期，请重新登录",
        ErrorDetails::with_error_info(
            credit_desk_proto::errors::SESSION_EXPIRED,
            credit_desk_proto::errors::DOMAIN,
            std::collections::HashMap::new(),
        ),
    );
    app.update(Event::Reply {
        seq,
        result: Err(status),
        rtt_ms: 3,
    });
    assert!(app.session.is_none());
    let text = screen_text(&app);
    assert!(text.contains("操作员登录"), "{text}");
    assert!(text.contains("admin"));
}

#[test]
fn link_down_is_shown_input_is_kept_and_esc_cancels() {
    let mut app = app(Lang::Zh);
    type_text(&mut app, "center");
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "demo2026");
    let (seq, _, _) = sent(&app.update(key(KeyCode::Enter)));
    app.update(Event::LinkDown {
        attempt: 2,
        retry_in_s: 2,
    });
    let text = screen_text(&app);
    assert!(text.contains("连接中断"), "{text}");
    assert!(text.contains("第 2 次重试"), "{text}");
    assert!(text.contains("center"), "the input is still there");
    let commands = app.update(key(KeyCode::Esc));
    assert!(matches!(commands.as_slice(), [Command::Cancel(s)] if *s == seq));
    // A late answer to the cancelled request changes nothing.
    app.update(Event::Reply {
        seq,
        result: Ok(login_answer(Role::Center, &[], false)),
        rtt_ms: 9,
    });
    assert!(app.session.is_none());
}

#[test]
fn resubmitting_a_create_reuses_its_request_id() {
    let mut app = logged_in(Lang::Zh);
    let (seq, _, _) = sent(&app.update(key(KeyCode::Char('o'))));
    app.update(Event::Reply {
        seq,
        result: Ok(Answer::OrgUnits(vec![pb::OrgUnit {
            id: "c".into(),
            code: "CENTER".into(),
            name: "中心".into(),
            kind: pb::OrgUnitKind::Center as i32,
            ..Default::default()
        }])),
        rtt_ms: 1,
    });
    app.update(key(KeyCode::Char('n')));
    type_text(&mut app, "T-NEW");
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "新镇");
    let request_id = |call: Call| match call {
        Call::CreateOrgUnit(r) => r.request_id,
        other => panic!("{other:?}"),
    };
    let (seq, _, call) = sent(&app.update(key(KeyCode::Enter)));
    let first = request_id(call);
    app.update(Event::Reply {
        seq,
        result: Err(tonic::Status::internal("lost")),
        rtt_ms: 1,
    });
    let (_, _, call) = sent(&app.update(key(KeyCode::Enter)));
    assert_eq!(request_id(call), first);
}

#[test]
fn help_opens_with_f1_and_any_key_closes_it() {
    let mut app = logged_in(Lang::Zh);
    app.update(key(KeyCode::F(1)));
    assert!(app.help);
    let commands = app.update(key(KeyCode::Char('u')));
    assert!(!app.help);
    assert!(commands.is_empty(), "the closing key does nothing else");
    app.update(key(KeyCode::Char('?')));
    assert!(app.help, "'?' opens help outside text fields");
}

#[test]
fn verification_sends_the_normalised_number_once() {
    let (mut app, commands) = verifying(Lang::Zh);
    let (seq, token, call) = sent(&commands);
    assert_eq!(token.as_deref(), Some("tok"));
    let Call::Verify(req) = call else {
        panic!("{call:?}")
    };
    assert_eq!(
        req.identifier, "441284199003070023",
        "full-width digits became ASCII"
    );
    assert_eq!(req.name, "陈美玲");
    assert_eq!(req.method, pb::VerificationMethod::IdCardReader as i32);
    assert!(!req.request_id.is_empty());
    app.update(Event::Reply {
        seq,
        result: Ok(verified_answer()),
        rtt_ms: 80,
    });
    let text = screen_text(&app);
    assert!(text.contains("✓ 核验通过"), "{text}");
    assert!(
        text.contains("2026-11-23 11:00"),
        "expiry in local time:\n{text}"
    );
}

/// Reprinting a report by its number (zh-CN and en, 80×24): the number
/// asked for, then the report marked as a reprint, with no record actions.
#[test]
fn reprint_snapshots() {
    for lang in [Lang::Zh, Lang::En] {
        let suffix = lang.tag();
        let mut app = logged_in_as(
            lang,
            Role::Counter,
            &[Capability::VerifyIdentity, Capability::Query],
            None,
        );
        app.utc_offset = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
        app.update(key(KeyCode::Char('b')));
        type_text(&mut app, "ｃｄ-20261123-000001");
        insta::assert_snapshot!(format!("reprint_form_{suffix}"), draw(&app).backend());
        let commands = app.update(key(KeyCode::Enter));
        match call_of(&commands) {
            Call::GetIssuedReport(no) => assert_eq!(no, "CD-20261123-000001"),
            other => panic!("{other:?}"),
        }
        let Answer::Queried(resp) = report_answer() else {
            unreachable!()
        };
        let report = pb::Report {
            reprinted_at_ms: 1_795_482_000_000,
            reprinted_by: "李柜员".into(),
            ..resp.report.unwrap()
        };
        answer(&mut app, &commands, Answer::IssuedReport(Box::new(report)));
        insta::assert_snapshot!(format!("reprint_{suffix}"), draw(&app).backend());
        let text = screen_text(&app);
        assert!(
            !text.contains("Enter"),
            "no record actions on a reprint: {text}"
        );
    }
}

/// A number the registry does not know (zh-CN and en, 80×24): F3 opens
/// the registration under the number and name typed; its errors stay
/// local; registered, the verification goes again by itself.
#[test]
fn an_unknown_person_is_registered_then_verified() {
    for lang in [Lang::Zh, Lang::En] {
        let suffix = lang.tag();
        let (mut app, commands) = verifying(lang);
        let unknown = Answer::Verified(pb::VerifyResponse {
            outcome: pb::VerifyOutcome::UnknownSubject as i32,
            ..Default::default()
        });
        answer(&mut app, &commands, unknown);
        insta::assert_snapshot!(format!("verify_unknown_{suffix}"), draw(&app).backend());
        app.update(key(KeyCode::F(3)));
        let commands = app.update(key(KeyCode::Enter));
        assert!(commands.is_empty(), "the address is missing: nothing sent");
        insta::assert_snapshot!(format!("verify_register_{suffix}"), draw(&app).backend());
        type_text(&mut app, "四会市大沙镇马鞍村 12 号");
        let commands = app.update(key(KeyCode::Enter));
        let Call::RegisterSubject(req) = call_of(&commands) else {
            panic!("{:?}", call_of(&commands))
        };
        assert_eq!(
            (
                req.identifier.as_str(),
                req.name.as_str(),
                req.address.as_str()
            ),
            ("441284199003070023", "陈美玲", "四会市大沙镇马鞍村 12 号")
        );
        assert!(!req.request_id.is_empty());
        let registered = Answer::Registered(pb::RegisterSubjectResponse::default());
        let commands = answer(&mut app, &commands, registered);
        match call_of(&commands) {
            Call::Verify(v) => assert_eq!(v.identifier, "441284199003070023"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn an_invalid_number_never_leaves_the_workstation() {
    let (mut app, commands) = verifying(Lang::Zh);
    let (seq, _, _) = sent(&commands);
    app.update(Event::Reply {
        seq,
        result: Ok(verified_answer()),
        rtt_ms: 80,
    });
    app.update(key(KeyCode::F(2))); // the next person
    type_text(&mut app, "441284199003070024");
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "陈美玲");
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Right)); // another method: clears the live error
    let commands = app.update(key(KeyCode::Enter));
    assert!(commands.is_empty(), "refused before any round trip");
    assert!(screen_text(&app).contains("校验位应为 3，实为 4"));
    // The focus went back to the number; corrected, it goes out.
    app.update(key(KeyCode::Backspace));
    type_text(&mut app, "3");
    assert!(matches!(
        sent(&app.update(key(KeyCode::Enter))).2,
        Call::Verify(_)
    ));
}

#[test]
fn report_keys_find_and_print() {
    let mut app = reporting(Lang::Zh);
    let text = screen_text(&app);
    assert!(text.contains("CD-20261123-000001"), "{text}");
    app.update(key(KeyCode::Char('/')));
    type_text(&mut app, "和解");
    app.update(key(KeyCode::Enter));
    let found = screen_text(&app);
    assert!(
        found.lines().nth(1).unwrap().contains("和解"),
        "found line scrolled to the top"
    );
    assert!(found.contains("“和解” 第 1/1 处"), "counted: {found}");
    // n is offered once there is something to find again.
    assert!(found.contains("n 下一处"), "{found}");
    app.update(key(KeyCode::Char('/')));
    app.update(ctrl('u'));
    type_text(&mut app, "不存在的词");
    app.update(key(KeyCode::Enter));
    let none = screen_text(&app);
    assert!(none.contains("✗ 未找到 “不存在的词”"), "{none}");
    let (_, _, call) = sent(&app.update(key(KeyCode::Char('p'))));
    match call {
        Call::SaveText { path, text } => {
            assert_eq!(path, std::path::PathBuf::from("CD-20261123-000001.txt"));
            assert!(text.contains("第 1/1 页"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_explanation_is_taken_on_a_chosen_negative_record() {
    let mut app = reporting(Lang::Zh);
    app.update(key(KeyCode::Enter));
    assert!(
        screen_text(&app).contains("▶ 市人民法院"),
        "the record is chosen"
    );
    app.update(key(KeyCode::Char('e')));
    type_text(&mut app, "判决已履行完毕");
    app.update(key(KeyCode::Enter));
    type_text(&mut app, "附结案证明");
    let (seq, _, call) = sent(&app.update(key(KeyCode::F(10))));
    let Call::AddExplanation(req) = call else {
        panic!("{call:?}")
    };
    assert_eq!(req.record_id, "(2025)粤1284执302号");
    assert_eq!(req.verification_id, "0192f5a0-0000-7000-8000-00000000abcd");
    assert_eq!(req.text, "判决已履行完毕\n附结案证明");
    app.update(Event::Reply {
        seq,
        result: Ok(Answer::ExplanationAdded {
            record_id: req.record_id.clone(),
            explanation: pb::Explanation {
                text: req.text.clone(),
                added_at_ms: 1_795_395_700_000,
                taken_by: "柜员".into(),
            },
        }),
        rtt_ms: 50,
    });
    let text = screen_text(&app);
    assert!(
        text.contains("判决已履行完毕"),
        "shown with the record: {text}"
    );
    assert!(text.contains("说明已记录"), "{text}");
}

fn consent_record() -> pb::ConsentRecord {
    pb::ConsentRecord {
        id: "0192f5a0-0000-7000-8000-0000000c0001".into(),
        subject_id: "s1".into(),
        subject_name: "陈美玲".into(),
        subject_identifier: "4412**********0023".into(),
        grantee_id: "b1".into(),
        grantee_name: "农村商业银行".into(),
        purpose_code: "loan_approval".into(),
        purpose_name: "贷款审批".into(),
        scope: vec!["court_judgment".into()],
        valid_from_ms: 1_795_395_600_000,
        valid_until_ms: 1_795_395_600_000 + 30 * 86_400_000,
        form_serial: "SQ-2026-0042".into(),
        remarks: "本人持身份证原件到场".into(),
        operator_name: "李柜员".into(),
        org_unit_name: "大沙镇便民服务中心".into(),
        created_at_ms: 1_795_395_600_000,
        state: pb::ConsentState::Active as i32,
        ..Default::default()
    }
}

/// From a finished verification, `c` opens consent capture with its lists.
fn consenting(lang: Lang) -> App {
    let (mut app, commands) = verifying(lang);
    let (seq, _, _) = sent(&commands);
    app.update(Event::Reply {
        seq,
        result: Ok(verified_answer()),
        rtt_ms: 80,
    });
    let (seq, _, call) = sent(&app.update(key(KeyCode::Char('c'))));
    assert!(matches!(call, Call::ListPurposes { .. }), "{call:?}");
    app.update(Event::Reply {
        seq,
        result: Ok(Answer::Purposes(pb::ListPurposesResponse {
            purposes: vec![pb::Purpose {
                code: "loan_approval".into(),
                name_zh: "贷款审批".into(),
                name_en: "Loan approval".into(),
                retired: false,
            }],
            max_validity_days: 90,
            grantees: vec![pb::OrgUnit {
                id: "b1".into(),
                name: "农村商业银行".into(),
                ..Default::default()
            }],
            categories: vec![pb::RecordCategory {
                code: "court_judgment".into(),
                name_zh: "法院判决".into(),
                name_en: "Court judgments".into(),
            }],
            ..Default::default()
        })),
        rtt_ms: 60,
    });
    app
}

#[test]
fn snapshots() {
    for lang in [Lang::Zh, Lang::En] {
        let suffix = lang.tag();
        let login = app(lang);
        insta::assert_snapshot!(format!("login_{suffix}"), draw(&login).backend());
        let mut menu = logged_in(lang);
        insta::assert_snapshot!(format!("menu_{suffix}"), draw(&menu).backend());
        menu.update(key(KeyCode::F(1)));
        insta::assert_snapshot!(format!("help_{suffix}"), draw(&menu).backend());
        let (mut verify, commands) = verifying(lang);
        insta::assert_snapshot!(format!("verify_form_{suffix}"), draw(&verify).backend());
        let (seq, _, _) = sent(&commands);
        verify.update(Event::Reply {
            seq,
            result: Ok(verified_answer()),
            rtt_ms: 80,
        });
        insta::assert_snapshot!(format!("verify_done_{suffix}"), draw(&verify).backend());
        let report = reporting(lang);
        insta::assert_snapshot!(format!("report_80x24_{suffix}"), draw(&report).backend());
        let mut wide = Terminal::new(TestBackend::new(120, 40)).unwrap();
        wide.draw(|f| report.render(f)).unwrap();
        insta::assert_snapshot!(format!("report_120x40_{suffix}"), wide.backend());
        let mut consent = consenting(lang);
        insta::assert_snapshot!(format!("consent_form_{suffix}"), draw(&consent).backend());
        consent.update(key(KeyCode::F(10)));
        type_text(&mut consent, "SQ-2026-0042");
        let (seq, _, call) = sent(&consent.update(key(KeyCode::F(10))));
        assert!(matches!(call, Call::CaptureConsent(_)), "{call:?}");
        consent.update(Event::Reply {
            seq,
            result: Ok(Answer::ConsentCaptured(consent_record())),
            rtt_ms: 90,
        });
        insta::assert_snapshot!(
            format!("consent_receipt_{suffix}"),
            draw(&consent).backend()
        );
    }
}

/// Logging out with the server unreachable: the clerk is at the login
/// screen at once (it used to retry for ever, and Esc said "cancelled" while
/// the session went on), and the late failure changes nothing.
#[test]
fn logout_is_immediate_whatever_the_link() {
    let mut app = logged_in(Lang::Zh);
    let commands = app.update(key(KeyCode::Char('q')));
    let (seq, token, call) = sent(&commands);
    assert!(matches!(call, Call::Logout) && token.as_deref() == Some("tok"));
    assert!(app.session.is_none());
    assert!(screen_text(&app).contains("操作员登录"));
    app.update(Event::Reply {
        seq,
        result: Err(tonic::Status::unavailable("connection refused")),
        rtt_ms: 0,
    });
    let text = screen_text(&app);
    assert!(
        app.session.is_none() && !text.contains("connection refused"),
        "{text}"
    );
}

/// What the workstation's clock says in the reference-data test.
static NOW: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(1_795_395_600_000);

/// Reference data is used as held for ten minutes; after that the server is
/// asked whether the version held is still current, and an answer that it
/// is brings back the lists held.
#[test]
fn reference_data_is_held_then_revalidated() {
    use std::sync::atomic::Ordering;
    let (mut app, commands) = verifying(Lang::Zh);
    app.now = || NOW.load(Ordering::SeqCst);
    let (seq, _, _) = sent(&commands);
    app.update(Event::Reply {
        seq,
        result: Ok(verified_answer()),
        rtt_ms: 80,
    });
    let lists = pb::ListPurposesResponse {
        purposes: vec![pb::Purpose {
            code: "loan_approval".into(),
            name_zh: "贷款审批".into(),
            ..Default::default()
        }],
        max_validity_days: 90,
        grantees: vec![pb::OrgUnit {
            id: "b1".into(),
            name: "农村商业银行".into(),
            ..Default::default()
        }],
        version: "v1".into(),
        ..Default::default()
    };
    let commands = app.update(key(KeyCode::Char('c')));
    answer(&mut app, &commands, Answer::Purposes(lists));
    let first = screen_text(&app);
    assert!(first.contains("农村商业银行"), "{first}");

    // Within ten minutes: nothing is sent.
    app.update(key(KeyCode::Esc));
    NOW.fetch_add(9 * 60_000, Ordering::SeqCst);
    let commands = app.update(key(KeyCode::Char('c')));
    assert!(
        !commands.iter().any(|c| matches!(c, Command::Send { .. })),
        "{commands:?}"
    );
    assert_eq!(screen_text(&app), first);

    // Later: the version held is asked about, and "unchanged" is enough.
    app.update(key(KeyCode::Esc));
    NOW.fetch_add(2 * 60_000, Ordering::SeqCst);
    let commands = app.update(key(KeyCode::Char('c')));
    match call_of(&commands) {
        Call::ListPurposes {
            include_retired: false,
            known_version,
        } => assert_eq!(known_version, "v1"),
        other => panic!("{other:?}"),
    }
    let unchanged = pb::ListPurposesResponse {
        version: "v1".into(),
        unchanged: true,
        ..Default::default()
    };
    answer(&mut app, &commands, Answer::Purposes(unchanged));
    assert!(screen_text(&app).contains("农村商业银行"));
}

/// The operators screen's SSH key panel (zh-CN and en, 80×24): a key
/// listed, and the paste form.
#[test]
fn ssh_key_panel_snapshots() {
    for lang in [Lang::Zh, Lang::En] {
        let suffix = lang.tag();
        let mut app = logged_in_as(lang, Role::Admin, &[Capability::ManageOperators], None);
        let commands = app.update(key(KeyCode::Char('u')));
        let operators = pb::ListOperatorsResponse {
            operators: vec![pb::Operator {
                id: "op-1".into(),
                username: "counter".into(),
                display_name: "李柜员".into(),
                role: Role::Counter as i32,
                org_unit_name: "大沙镇便民服务中心".into(),
                enabled: true,
                ..Default::default()
            }],
            next_cursor: String::new(),
        };
        answer(&mut app, &commands, Answer::Operators(operators));
        let commands = app.update(key(KeyCode::Char('s')));
        match call_of(&commands) {
            Call::ListSshKeys(id) => assert_eq!(id, "op-1"),
            other => panic!("{other:?}"),
        }
        let keys = vec![pb::SshKey {
            fingerprint: "SHA256:qKHNxkdE4cg/cbhoLW1O3NOpU97KxeWZJbf58fBOejc".into(),
            algorithm: "ssh-ed25519".into(),
            comment: "li@dasha-1".into(),
            added_at_ms: 1_795_395_600_000,
        }];
        answer(&mut app, &commands, Answer::SshKeys(keys));
        insta::assert_snapshot!(format!("ssh_keys_{suffix}"), draw(&app).backend());
        app.update(key(KeyCode::Char('a')));
        insta::assert_snapshot!(format!("ssh_key_add_{suffix}"), draw(&app).backend());
    }
}

/// The supervisor's query log (zh-CN and en, 80×24): the filter, and the
/// attempts found with a refused one chosen.
#[test]
fn query_log_snapshots() {
    for lang in [Lang::Zh, Lang::En] {
        let suffix = lang.tag();
        let mut app = logged_in_as(
            lang,
            Role::Supervisor,
            &[Capability::ViewQueue, Capability::ReviewQueries],
            None,
        );
        app.today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        app.utc_offset = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
        app.update(key(KeyCode::Char('l')));
        insta::assert_snapshot!(format!("query_log_form_{suffix}"), draw(&app).backend());
        let commands = app.update(key(KeyCode::Enter));
        match call_of(&commands) {
            Call::SearchQueryLog(r) => {
                let f = r.filter.unwrap();
                assert_eq!(
                    (f.from_date.as_str(), f.to_date.as_str()),
                    ("2026-11-23", "2026-11-23")
                );
            }
            other => panic!("{other:?}"),
        }
        let entry = |at_ms: i64, name: &str, allowed: bool| pb::QueryLogEntry {
            id: format!("q-{at_ms}"),
            at_ms,
            operator_username: "counter".into(),
            operator_name: "李柜员".into(),
            org_unit_name: "大沙镇便民服务中心".into(),
            terminal: "desk-1".into(),
            subject_name: name.into(),
            subject_identifier: "441284********0010".into(),
            basis: if allowed { "self" } else { "consent" }.into(),
            consent_form_serial: if allowed { "" } else { "SQ-2026-7001" }.into(),
            purpose_name: if allowed { "" } else { "贷款审批" }.into(),
            institution_name: if allowed {
                ""
            } else {
                "四会农村商业银行"
            }
            .into(),
            allowed,
            refusal: if allowed { "" } else { "consent_expired" }.into(),
            refusal_text: if allowed { "" } else { "该授权已过期" }.into(),
            report_no: if allowed { "CD-20261123-000001" } else { "" }.into(),
            fee_applies: false,
        };
        let page = pb::SearchQueryLogResponse {
            entries: vec![
                entry(1_795_399_200_000, "李建国", true),
                entry(1_795_395_600_000, "李建国", false),
            ],
            total: 2,
            next_cursor: String::new(),
        };
        answer(&mut app, &commands, Answer::QueryLog(page));
        app.update(key(KeyCode::Down));
        insta::assert_snapshot!(format!("query_log_list_{suffix}"), draw(&app).backend());
    }
}

/// The supervisor's daily review (zh-CN and en, 80×24): the day asked for,
/// then its alerts with the chosen one's evidence.
#[test]
fn day_review_snapshots() {
    for lang in [Lang::Zh, Lang::En] {
        let suffix = lang.tag();
        let mut app = logged_in_as(
            lang,
            Role::Supervisor,
            &[
                Capability::ViewQueue,
                Capability::ReviewQueries,
                Capability::ReviewDays,
            ],
            None,
        );
        app.today = chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        app.utc_offset = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
        app.update(key(KeyCode::Char('d')));
        insta::assert_snapshot!(format!("day_review_form_{suffix}"), draw(&app).backend());
        let commands = app.update(key(KeyCode::Enter));
        match call_of(&commands) {
            Call::GetDayReview(day) => assert_eq!(day, "2026-11-23", "yesterday by default"),
            other => panic!("{other:?}"),
        }
        let attempt = |at_ms: i64| pb::QueryLogEntry {
            id: format!("q-{at_ms}"),
            at_ms,
            operator_username: "counter".into(),
            operator_name: "李柜员".into(),
            terminal: "desk-1".into(),
            subject_name: "李建国".into(),
            subject_identifier: "441284********0010".into(),
            basis: "self".into(),
            allowed: true,
            ..Default::default()
        };
        let review = pb::DayReview {
            day: "2026-11-23".into(),
            working_day: true,
            attempts: 61,
            refused: 2,
            alerts: vec![
                pb::Alert {
                    id: "a1".into(),
                    indicator: "many_queries".into(),
                    indicator_name: "单个操作员当日查询量异常".into(),
                    about: "李柜员 (counter)".into(),
                    evidence: vec![attempt(1_795_395_600_000), attempt(1_795_399_200_000)],
                    evidence_count: 51,
                    conclusion: pb::AlertConclusion::Violation as i32,
                    note: "重复查询，已约谈经办员".into(),
                    concluded_by: "吴主管".into(),
                    concluded_at_ms: 1_795_482_000_000,
                },
                pb::Alert {
                    id: "a2".into(),
                    indicator: "new_terminal".into(),
                    indicator_name: "操作员使用新终端".into(),
                    about: "李柜员 (counter) @ desk-1".into(),
                    evidence: vec![attempt(1_795_395_600_000)],
                    evidence_count: 1,
                    ..Default::default()
                },
            ],
            chain_seq: 1234,
            chain_hash: "5f1d8c0e9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d".into(),
            ..Default::default()
        };
        answer(&mut app, &commands, Answer::DayReview(review));
        insta::assert_snapshot!(format!("day_review_{suffix}"), draw(&app).backend());
    }
}

/// The monthly security statistics (zh-CN and en, 80×24): the month asked
/// for, the figures, and the sign-off form.
#[test]
fn month_report_snapshots() {
    for lang in [Lang::Zh, Lang::En] {
        let suffix = lang.tag();
        let mut app = logged_in_as(
            lang,
            Role::Supervisor,
            &[
                Capability::ViewQueue,
                Capability::ReviewQueries,
                Capability::ReviewDays,
            ],
            None,
        );
        app.today = chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        app.update(key(KeyCode::Char('m')));
        insta::assert_snapshot!(format!("month_report_form_{suffix}"), draw(&app).backend());
        let commands = app.update(key(KeyCode::Enter));
        match call_of(&commands) {
            Call::GetMonthReport(month) => assert_eq!(month, "2026-11", "last month by default"),
            other => panic!("{other:?}"),
        }
        let row = |code: &str, zh: &str, en: &str, value: u64| pb::MonthRow {
            code: code.into(),
            label: lang.pick(zh, en).into(),
            value,
        };
        let section = |title: &str, rows| pb::MonthSection {
            code: String::new(),
            title: title.into(),
            rows,
        };
        let report = pb::MonthReport {
            month: "2026-11".into(),
            reporter: "四会市综合征信中心".into(),
            due: "2026-12-05".into(),
            sections: vec![
                section(
                    lang.pick("一、信息安全事件", "1. Security incidents"),
                    vec![
                        row("abnormal_queries", "异常查询", "abnormal queries", 2),
                        row("violating_queries", "违规查询", "violating queries", 1),
                        row(
                            "unlawful_provision",
                            "违规提供信息",
                            "unlawful provision of information",
                            0,
                        ),
                        row("misuse", "滥用信息", "misuse of information", 0),
                        row(
                            "leaks",
                            "信息泄露（含信用报告泄露）",
                            "leaks (reports included)",
                            0,
                        ),
                    ],
                ),
                section(
                    lang.pick("三、查询情况", "3. Queries"),
                    vec![
                        row("attempts", "查询次数", "query attempts", 1284),
                        row("refused", "拒绝查询", "refused", 37),
                        row("self", "本人查询", "self-queries", 902),
                        row("consent", "凭授权查询", "queries on a consent", 382),
                    ],
                ),
                section(
                    lang.pick("五、异议处理", "5. Objections"),
                    vec![
                        row("received", "受理", "received", 6),
                        row("closed", "办结", "closed", 5),
                        row("overdue", "逾期未办结", "overdue", 0),
                    ],
                ),
            ],
            chain_seq: 1234,
            chain_hash: "5f1d8c0e9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d".into(),
            ..Default::default()
        };
        answer(&mut app, &commands, Answer::MonthReport(report));
        insta::assert_snapshot!(format!("month_report_{suffix}"), draw(&app).backend());
        app.update(key(KeyCode::Char('s')));
        insta::assert_snapshot!(format!("month_report_sign_{suffix}"), draw(&app).backend());
    }
}

/// Complaints (zh-CN and en, 80×24): the list with the chosen one in full,
/// and the form of a new complaint.
#[test]
fn complaints_snapshots() {
    for lang in [Lang::Zh, Lang::En] {
        let suffix = lang.tag();
        let mut app = logged_in_as(
            lang,
            Role::Center,
            &[Capability::FileObjections, Capability::HandleComplaints],
            None,
        );
        let commands = app.update(key(KeyCode::Char('c')));
        let complaint = pb::ComplaintRecord {
            id: "c1".into(),
            complaint_no: "TS-20261123-0001".into(),
            channel: pb::ComplaintChannel::InPerson as i32,
            complainant: "李建国".into(),
            contact: "13800138000".into(),
            subject_name: "李建国".into(),
            subject_identifier: "441284********0010".into(),
            about: "报告上的查询记录有疑问".into(),
            received_on: "2026-11-23".into(),
            due_on: "2026-12-23".into(),
            urgency: "later".into(),
            filed_by: "李柜员".into(),
            org_unit_name: "大沙镇便民服务中心".into(),
            state: "open".into(),
            ..Default::default()
        };
        answer(&mut app, &commands, Answer::Complaints(vec![complaint]));
        insta::assert_snapshot!(format!("complaints_{suffix}"), draw(&app).backend());
        app.update(key(KeyCode::Char('n')));
        insta::assert_snapshot!(format!("complaint_form_{suffix}"), draw(&app).backend());
    }
}

/// A supervisor reads complaints but is not offered taking one.
#[test]
fn a_supervisor_reads_complaints_only() {
    let mut app = logged_in_as(
        Lang::Zh,
        Role::Supervisor,
        &[Capability::ReviewQueries],
        None,
    );
    let commands = app.update(key(KeyCode::Char('c')));
    answer(&mut app, &commands, Answer::Complaints(Vec::new()));
    let screen = screen_text(&app);
    assert!(!screen.contains("n 新增"), "{screen}");
    assert!(app.update(key(KeyCode::Char('n'))).is_empty());
    assert!(!screen_text(&app).contains("投诉方式"));
}

/// A terminal smaller than 80×24 asks to be enlarged, in the UI's
/// language, instead of drawing a broken layout; at 80×24 the screen is
/// back.
#[test]
fn a_small_terminal_asks_to_be_enlarged() {
    use ratatui::{Terminal, backend::TestBackend};
    for (lang, says) in [
        (Lang::Zh, "请把窗口放大到至少 80×24"),
        (Lang::En, "enlarge it to at least 80×24"),
    ] {
        let app = logged_in(lang);
        for (w, h) in [(60, 24), (80, 20), (40, 10)] {
            let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
            terminal.draw(|f| app.render(f)).unwrap();
            let text: String = terminal
                .backend()
                .buffer()
                .content
                .iter()
                .map(|c| c.symbol())
                .collect();
            let compact: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(compact.contains(&format!("{w}×{h}")), "{w}×{h}: {compact}");
            assert!(
                compact.replace(' ', "").contains(&says.replace(' ', "")),
                "{w}×{h}: {compact}"
            );
        }
        let text = screen_text(&app);
        assert!(!text.contains("80×24"), "{text}");
    }
}

/// The clerk's own day (zh-CN and en, 80×24): verifications and queries in
/// one timeline, newest first.
#[test]
fn my_day_snapshots() {
    for lang in [Lang::Zh, Lang::En] {
        let suffix = lang.tag();
        let mut app = logged_in_as(
            lang,
            Role::Counter,
            &[Capability::VerifyIdentity, Capability::Query],
            None,
        );
        app.utc_offset = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
        let commands = app.update(key(KeyCode::Char('y')));
        assert!(matches!(call_of(&commands), Call::MyDay));
        let day = pb::MyDayResponse {
            day: "2026-11-23".into(),
            verifications: vec![pb::MyVerification {
                at_ms: 1_795_395_600_000,
                subject_name: "李建国".into(),
                subject_identifier: "441284********0010".into(),
                method: pb::VerificationMethod::IdCardReader as i32,
            }],
            queries: vec![
                pb::QueryLogEntry {
                    at_ms: 1_795_395_900_000,
                    subject_name: "李建国".into(),
                    subject_identifier: "441284********0010".into(),
                    basis: "self".into(),
                    allowed: true,
                    report_no: "CD-20261123-000001".into(),
                    ..Default::default()
                },
                pb::QueryLogEntry {
                    at_ms: 1_795_399_200_000,
                    subject_name: "陈美玲".into(),
                    subject_identifier: "441284********0023".into(),
                    basis: "self".into(),
                    allowed: false,
                    refusal_text: lang
                        .pick("本次核验已过期", "the verification has expired")
                        .into(),
                    ..Default::default()
                },
            ],
            more: false,
        };
        answer(&mut app, &commands, Answer::MyDay(day));
        insta::assert_snapshot!(format!("my_day_{suffix}"), draw(&app).backend());
        let text = screen_text(&app);
        let newest = text.find("陈美玲").unwrap();
        let oldest = text.find("441284********0010").unwrap();
        assert!(newest < oldest, "newest first:\n{text}");
    }
}

fn subject(id: &str, name: &str, identifier: &str, kind: pb::SubjectKind) -> pb::SubjectSummary {
    pb::SubjectSummary {
        id: id.into(),
        kind: kind as i32,
        identifier: identifier.into(),
        name: name.into(),
        township: "大沙镇便民服务中心".into(),
        ..Default::default()
    }
}

/// A center clerk's card of 李建国: a record corrected by an objection
/// (two versions), a query, a consent and a ticket.
fn center_card() -> pb::GetSubjectResponse {
    let mut li = subject(
        "s1",
        "李建国",
        "441284196508120010",
        pb::SubjectKind::Person,
    );
    li.sex = "male".into();
    li.birth_date = "1965-08-12".into();
    li.address = "四会市大沙镇马鞍村 12 号".into();
    let version = |version, current, status: &str, file: &str, ticket: &str| pb::CardVersion {
        version,
        current,
        start_date: "2024-03-01".into(),
        has_amount: true,
        amount_cents: 1_280_050,
        status: status.into(),
        negative: true,
        created_at_ms: 1_795_395_600_000,
        import_file: file.into(),
        ticket_no: ticket.into(),
        operator_name: "刘中心".into(),
        ..Default::default()
    };
    pb::GetSubjectResponse {
        subject: Some(li),
        households: vec![pb::HouseholdRef {
            household_id: "h1".into(),
            name: "李建国户".into(),
            relation: "户主".into(),
        }],
        records_shown: true,
        records: vec![pb::CardRecord {
            record_id: "r1".into(),
            category: "法院判决与执行".into(),
            department: "四会市人民法院".into(),
            source_key: "(2024)粤1284民初1001号".into(),
            versions: vec![
                version(2, true, "已履行", "", "YY-2026-000001"),
                version(1, false, "未履行", "court-2025H1.xlsx", ""),
            ],
            ..Default::default()
        }],
        queries: vec![pb::CardQuery {
            at_ms: 1_795_399_200_000,
            institution: "四会农商银行营业部".into(),
            operator_name: "王银行".into(),
            purpose: "贷款审批".into(),
            allowed: true,
            report_no: "CD-20261123-000002".into(),
        }],
        consents: vec![pb::CardConsent {
            consent_id: "c1".into(),
            grantee: "四会农商银行营业部".into(),
            purpose: "贷款审批".into(),
            valid_from_ms: 1_795_395_600_000,
            valid_until_ms: 1_826_931_600_000,
            withdrawn_at_ms: 0,
            form_serial: "SQ-2026-0001".into(),
        }],
        tickets: vec![pb::CardTicket {
            ticket_id: "t1".into(),
            ticket_no: "YY-2026-000001".into(),
            state: "closed".into(),
            received_on: "2026-11-02".into(),
            closed_at_ms: 1_795_395_600_000,
        }],
        ..Default::default()
    }
}

#[test]
fn registry_snapshots() {
    for lang in [Lang::Zh, Lang::En] {
        let suffix = lang.tag();
        let mut app = logged_in_as(
            lang,
            Role::Center,
            &[Capability::VerifyIdentity, Capability::ViewSubjects],
            None,
        );
        app.utc_offset = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
        app.update(key(KeyCode::Char('s')));
        type_text(&mut app, "李建国");
        let commands = app.update(key(KeyCode::Enter));
        let Call::ListSubjects(req) = call_of(&commands) else {
            panic!("a registry search")
        };
        assert_eq!(req.query, "李建国");
        let found = pb::ListSubjectsResponse {
            subjects: vec![
                subject(
                    "s1",
                    "李建国",
                    "441284196508120010",
                    pb::SubjectKind::Person,
                ),
                subject(
                    "h1",
                    "李建国户",
                    "H441284196508120010",
                    pb::SubjectKind::Household,
                ),
            ],
            next_cursor: String::new(),
        };
        let mut paged = found.clone();
        paged.next_cursor = "s1".into();
        answer(&mut app, &commands, Answer::Subjects(paged));
        // More than a page: PgDn asks for the next by its cursor, PgUp back.
        let commands = app.update(key(KeyCode::PageDown));
        let Call::ListSubjects(next) = call_of(&commands) else {
            panic!("the next page")
        };
        assert_eq!(next.page.unwrap().cursor, "s1");
        answer(&mut app, &commands, Answer::Subjects(found.clone()));
        let text = screen_text(&app);
        assert!(text.contains(lang.pick("第 2 页", "page 2")), "{text}");
        let commands = app.update(key(KeyCode::PageUp));
        let Call::ListSubjects(back) = call_of(&commands) else {
            panic!("the first page")
        };
        assert_eq!(back.page.unwrap().cursor, "");
        answer(&mut app, &commands, Answer::Subjects(found));
        insta::assert_snapshot!(format!("registry_found_{suffix}"), draw(&app).backend());
        let commands = app.update(key(KeyCode::Enter));
        assert!(matches!(call_of(&commands), Call::GetSubject(id) if id == "s1"));
        answer(
            &mut app,
            &commands,
            Answer::SubjectCard(Box::new(center_card())),
        );
        insta::assert_snapshot!(format!("registry_card_{suffix}"), draw(&app).backend());
        let text = screen_text(&app);
        assert!(text.contains("(2024)粤1284民初1001号"), "whole:\n{text}");
        // The person heads a household already: no second one offered.
        app.update(key(KeyCode::Char('n')));
        assert!(!screen_text(&app).contains("建立农户"));

        // The household's card, opened from its line, with the edit form.
        for _ in 0..3 {
            app.update(key(KeyCode::Down));
        }
        let commands = app.update(key(KeyCode::Enter));
        assert!(matches!(call_of(&commands), Call::GetSubject(id) if id == "h1"));
        let mut chen = subject(
            "s2",
            "陈美玲",
            "441284199003070023",
            pb::SubjectKind::Person,
        );
        chen.sex = "female".into();
        let household = pb::GetSubjectResponse {
            subject: Some(subject(
                "h1",
                "李建国户",
                "H441284196508120010",
                pb::SubjectKind::Household,
            )),
            household: Some(pb::HouseholdCard {
                head_id: "s1".into(),
                village: "大沙镇马鞍村".into(),
                members: vec![
                    pb::HouseholdMember {
                        person: center_card().subject,
                        relation: "户主".into(),
                    },
                    pb::HouseholdMember {
                        person: Some(chen),
                        relation: "配偶".into(),
                    },
                ],
            }),
            keeps_household: true,
            ..Default::default()
        };
        answer(
            &mut app,
            &commands,
            Answer::SubjectCard(Box::new(household)),
        );
        app.update(key(KeyCode::Char('e')));
        insta::assert_snapshot!(
            format!("registry_household_edit_{suffix}"),
            draw(&app).backend()
        );
        // Making the spouse head: the old head's relation is asked for.
        app.update(key(KeyCode::Tab));
        app.update(key(KeyCode::Right));
        app.update(key(KeyCode::Tab));
        type_text(&mut app, "配偶");
        let commands = app.update(key(KeyCode::Enter));
        let Call::ChangeHousehold(req) = call_of(&commands) else {
            panic!("a household change")
        };
        assert_eq!(req.household_id, "h1");
        match req.change {
            Some(pb::change_household_request::Change::Details(d)) => {
                assert_eq!(
                    (
                        d.village.as_str(),
                        d.head_id.as_str(),
                        d.former_head_relation.as_str()
                    ),
                    ("大沙镇马鞍村", "s2", "配偶")
                );
            }
            other => panic!("{other:?}"),
        }
    }
}

fn demo_units() -> Vec<pb::OrgUnit> {
    let unit = |id: &str, code: &str, name: &str, kind: pb::OrgUnitKind, parent: &str, depth| {
        pb::OrgUnit {
            id: id.into(),
            code: code.into(),
            name: name.into(),
            kind: kind as i32,
            parent_id: parent.into(),
            depth,
            disabled: false,
        }
    };
    vec![
        unit(
            "c",
            "CENTER",
            "四会市综合征信中心",
            pb::OrgUnitKind::Center,
            "",
            0,
        ),
        unit(
            "t1",
            "T-DASHA",
            "大沙镇便民服务中心",
            pb::OrgUnitKind::Township,
            "c",
            1,
        ),
        unit(
            "v1",
            "S-MAAN",
            "马鞍村信用服务站",
            pb::OrgUnitKind::VillageStation,
            "t1",
            2,
        ),
        unit(
            "t2",
            "T-JIANGGU",
            "江谷镇便民服务中心",
            pb::OrgUnitKind::Township,
            "c",
            1,
        ),
    ]
}

/// The administrator's edit forms and the settings screen (zh-CN and en,
/// 80×24): an operator's name, role and unit; a station's name and parent
/// (only townships offered); the settings with their ranges.
#[test]
fn administration_edit_snapshots() {
    for lang in [Lang::Zh, Lang::En] {
        let suffix = lang.tag();
        let mut app = logged_in_as(
            lang,
            Role::Admin,
            &[
                Capability::ManageOperators,
                Capability::ManageOrgUnits,
                Capability::ManageSettings,
            ],
            None,
        );
        let commands = app.update(key(KeyCode::Char('u')));
        let operators = pb::ListOperatorsResponse {
            operators: vec![pb::Operator {
                id: "op-1".into(),
                username: "counter".into(),
                display_name: "李柜员".into(),
                role: Role::Counter as i32,
                org_unit_id: "t1".into(),
                org_unit_name: "大沙镇便民服务中心".into(),
                enabled: true,
                ..Default::default()
            }],
            next_cursor: String::new(),
        };
        answer(&mut app, &commands, Answer::Operators(operators));
        let commands = app.update(key(KeyCode::Char('e')));
        assert!(matches!(call_of(&commands), Call::ListOrgUnits));
        answer(&mut app, &commands, Answer::OrgUnits(demo_units()));
        insta::assert_snapshot!(format!("operator_edit_{suffix}"), draw(&app).backend());
        // The unit chosen must fit the role: a counter cannot go to the center.
        app.update(key(KeyCode::Tab));
        app.update(key(KeyCode::Tab));
        app.update(key(KeyCode::Left));
        let commands = app.update(key(KeyCode::Enter));
        assert!(commands.is_empty(), "refused before sending");
        // The cursor went to the field the refusal names: the role.
        let refused = screen_text(&app);
        assert!(refused.contains(lang.pick("▶角色", "▶Role")), "{refused}");
        app.update(key(KeyCode::Tab));
        app.update(key(KeyCode::Right));
        app.update(key(KeyCode::Right));
        app.update(key(KeyCode::Right));
        let commands = app.update(key(KeyCode::Enter));
        match call_of(&commands) {
            Call::UpdateOperator(req) => {
                assert_eq!(
                    (req.display_name.as_str(), req.org_unit_id.as_str()),
                    ("李柜员", "t2")
                )
            }
            other => panic!("{other:?}"),
        }
        answer(
            &mut app,
            &commands,
            Answer::OperatorUpdated(pb::Operator::default()),
        );
        app.update(key(KeyCode::Esc));

        let commands = app.update(key(KeyCode::Char('o')));
        answer(&mut app, &commands, Answer::OrgUnits(demo_units()));
        app.update(key(KeyCode::Down));
        app.update(key(KeyCode::Down));
        app.update(key(KeyCode::Char('e')));
        insta::assert_snapshot!(format!("org_unit_edit_{suffix}"), draw(&app).backend());
        app.update(key(KeyCode::Tab));
        app.update(key(KeyCode::Right));
        let commands = app.update(key(KeyCode::Enter));
        match call_of(&commands) {
            Call::UpdateOrgUnit(req) => {
                assert_eq!((req.parent_id.as_str(), req.enabled), ("t2", true))
            }
            other => panic!("{other:?}"),
        }
        // A move reorders the tree: the list is read again.
        let moved = demo_units()[2].clone();
        let commands = answer(&mut app, &commands, Answer::OrgUnitUpdated(moved));
        assert!(matches!(call_of(&commands), Call::ListOrgUnits));
        answer(&mut app, &commands, Answer::OrgUnits(demo_units()));
        app.update(key(KeyCode::Esc));

        let commands = app.update(key(KeyCode::Char('e')));
        assert!(matches!(call_of(&commands), Call::ListSettings));
        let setting = |key: &str, meaning: &str, value, min, max| pb::Setting {
            key: key.into(),
            meaning: meaning.into(),
            value,
            default_value: value,
            min,
            max,
        };
        let settings = vec![
            setting(
                "consent_max_validity_days",
                lang.pick(
                    "查询授权的最长有效期（天）",
                    "longest validity of a consent, in days",
                ),
                90,
                1,
                3650,
            ),
            setting(
                "self_query_fee_cents",
                lang.pick(
                    "本人查询每年前两次免费，此后每次收费（分）",
                    "fee for a self-query beyond the year's two free ones, in fen (1/100 yuan)",
                ),
                1000,
                0,
                100_000,
            ),
        ];
        answer(&mut app, &commands, Answer::Settings(settings));
        app.update(key(KeyCode::Down));
        app.update(key(KeyCode::Enter));
        app.update(key(KeyCode::Char('x')));
        app.update(key(KeyCode::Enter));
        insta::assert_snapshot!(format!("settings_edit_{suffix}"), draw(&app).backend());
    }
}

/// The menu's counters were being read again (a slow link) when the clerk
/// opened the verification screen: that read is dropped, so the first
/// Enter there verifies instead of being refused as still waiting (a tmux
/// run on a busy machine lost it).
#[test]
fn a_screen_opened_over_a_pending_read_is_not_blocked_by_it() {
    let mut app = logged_in_as(
        Lang::Zh,
        Role::Counter,
        &[
            Capability::VerifyIdentity,
            Capability::ViewSubjects,
            Capability::ViewQueue,
        ],
        Some(pb::QueueStats::default()),
    );
    app.update(key(KeyCode::Char('v')));
    type_text(&mut app, "441284199003070023");
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "陈美玲");
    let commands = app.update(key(KeyCode::Enter));
    answer(&mut app, &commands, verified_answer());
    // Back on the menu after a write: the counters are read again.
    let commands = app.update(key(KeyCode::Esc));
    let (home, _, call) = sent(&commands);
    assert!(matches!(call, Call::Home), "{call:?}");
    let commands = app.update(key(KeyCode::Char('v')));
    assert!(
        commands
            .iter()
            .any(|c| matches!(c, Command::Cancel(seq) if *seq == home)),
        "{commands:?}"
    );
    type_text(&mut app, "441284199003070023");
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "陈美玲");
    let commands = app.update(key(KeyCode::Enter));
    assert!(
        matches!(call_of(&commands), Call::Verify(_)),
        "{commands:?}"
    );
}
