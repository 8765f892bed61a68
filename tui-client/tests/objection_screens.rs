//! Objections on the workstation: filing from the report, the deadline
//! queue, the case file and its acts, drawn on TestBackend (snapshots in
//! both languages at 80×24).

use credit_desk::app::Event;
use credit_desk::net::{Answer, Call};
use credit_desk_proto::Lang;
use credit_desk_proto::pb::{self, Capability, Role, act_on_ticket_request::Action as Act};
use ratatui::crossterm::event::KeyCode;
use tonic_types::{ErrorDetails, StatusExt};

mod common;
use common::*;

const CENTER_CAPS: [Capability; 5] = [
    Capability::ChangeOwnPassword,
    Capability::FileObjections,
    Capability::HandleObjections,
    Capability::ViewQueue,
    Capability::ViewSubjects,
];

fn deadline(kind: &str, dept: &str, due: &str, urgency: &str, met: bool) -> pb::Deadline {
    pb::Deadline {
        kind: kind.into(),
        department_name: dept.into(),
        due: due.into(),
        urgency: urgency.into(),
        warn: urgency == "soon" || urgency == "due_today",
        met,
    }
}

fn ticket(version: u64) -> pb::Ticket {
    pb::Ticket {
        id: "t1".into(),
        ticket_no: "YY-20261123-0001".into(),
        version,
        state: "request_sent".into(),
        subject_name: "李建国".into(),
        subject_identifier: "441284196508120010".into(),
        org_unit_name: "大沙镇便民服务中心".into(),
        filed_by: "李柜员".into(),
        filed_at_ms: 1_795_395_600_000,
        applicant: "subject".into(),
        reason_category: "wrong_content".into(),
        reason_text: "该案已于2025年8月执行完毕，记录仍显示未履行".into(),
        evidence: vec!["结案通知书复印件".into()],
        contact_phone: "13800138000".into(),
        contact_address: "四会市大沙镇马鞍村 12 号".into(),
        notify_by: "phone".into(),
        received_on: "2026-11-23".into(),
        overall_due: "2026-12-13".into(),
        overall_due_with_pauses: "2026-12-13".into(),
        records: vec![pb::TicketRecord {
            record_id: "r1".into(),
            category_name: "法院判决与执行".into(),
            source_key: "(2025)粤1284执302号".into(),
            department_id: "d1".into(),
            department_name: "市人民法院".into(),
            outcome: "disputed".into(),
            status: "未履行".into(),
            details: "拒不履行生效判决".into(),
        }],
        letters: vec![pb::Letter {
            id: "l1".into(),
            letter_no: "HC-20261123-0001".into(),
            department_id: "d1".into(),
            department_name: "市人民法院".into(),
            sent_at_ms: 1_795_399_200_000,
            sent_by: "张中心".into(),
            received_on: "2026-11-23".into(),
            reply_due: "2026-12-07".into(),
            ..Default::default()
        }],
        events: vec![
            pb::TicketEvent {
                at_ms: 1_795_395_600_000,
                operator_name: "李柜员".into(),
                action: "filed".into(),
                detail: "1 record(s)".into(),
            },
            pb::TicketEvent {
                at_ms: 1_795_399_200_000,
                operator_name: "张中心".into(),
                action: "request_sent".into(),
                detail: "HC-20261123-0001 (reply due 2026-12-07)".into(),
            },
        ],
        deadlines: vec![
            deadline(
                "department_reply",
                "市人民法院",
                "2026-12-07",
                "later",
                false,
            ),
            deadline("overall", "", "2026-12-13", "later", false),
        ],
        updated_at_ms: 1_795_399_200_000,
        updated_by: "张中心".into(),
        attempts_required: 3,
        ..Default::default()
    }
}

fn queue_answer() -> Answer {
    let item = |id: &str, no: &str, name: &str, urgency: &str, due: &str| pb::QueueItem {
        ticket_id: id.into(),
        ticket_no: no.into(),
        state: "request_sent".into(),
        subject_name: name.into(),
        org_unit_name: "大沙镇便民服务中心".into(),
        deadlines: vec![
            deadline("department_reply", "市人民法院", due, urgency, false),
            deadline("overall", "", "2026-12-13", "later", false),
        ],
        urgency: urgency.into(),
        nearest_due: due.into(),
        version: 2,
        ..Default::default()
    };
    Answer::Queue(pb::ListQueueResponse {
        full: true,
        items: vec![
            item("t1", "YY-20261123-0001", "李建国", "later", "2026-12-07"),
            item("t2", "YY-20261105-0003", "黄志强", "overdue", "2026-11-19"),
            item("t3", "YY-20261110-0002", "陈美玲", "soon", "2026-11-25"),
        ],
        cursor: "7.2026-11-23.x".into(),
        submissions: vec![pb::SubmissionDue {
            department_id: "d2".into(),
            department_name: "市税务局".into(),
            period: "2026H1".into(),
            due: "2026-07-10".into(),
            urgency: "overdue".into(),
        }],
        stats: Some(pb::QueueStats {
            open: 3,
            overdue: 1,
            due_today: 0,
            soon: 1,
            warnings: 1,
            late_submissions: 1,
            ..Default::default()
        }),
        today: "2026-11-23".into(),
        ..Default::default()
    })
}

/// A center clerk on the queue, with the answer drawn.
fn on_queue(lang: Lang) -> credit_desk::app::App {
    let stats = pb::QueueStats {
        open: 3,
        overdue: 1,
        soon: 1,
        warnings: 1,
        ..Default::default()
    };
    let mut app = logged_in_as(lang, Role::Center, &CENTER_CAPS, Some(stats));
    let commands = app.update(key(KeyCode::Char('t')));
    assert!(matches!(call_of(&commands), Call::ListQueue(r) if r.cursor.is_empty()));
    answer(&mut app, &commands, queue_answer());
    app
}

#[test]
fn the_queue_groups_by_urgency_and_opens_a_ticket() {
    let mut app = on_queue(Lang::Zh);
    let text = screen_text(&app);
    let overdue = text.find("YY-20261105-0003").unwrap();
    let soon = text.find("YY-20261110-0002").unwrap();
    let later = text.find("YY-20261123-0001").unwrap();
    assert!(
        overdue < soon && soon < later,
        "nearest deadline first:\n{text}"
    );
    assert!(
        text.contains("!! YY-20261105-0003"),
        "a text marker without colour"
    );
    assert!(
        text.contains("市税务局"),
        "late department files are listed"
    );
    // The selection starts on the most urgent; Enter opens it.
    let commands = app.update(key(KeyCode::Enter));
    assert!(matches!(call_of(&commands), Call::GetTicket(id) if id == "t2"));
}

#[test]
fn acts_carry_the_version_and_a_stale_one_reloads() {
    let mut app = on_queue(Lang::Zh);
    app.update(key(KeyCode::End));
    let commands = app.update(key(KeyCode::Enter));
    answer(&mut app, &commands, Answer::Ticket(Box::new(ticket(2))));
    assert!(screen_text(&app).contains("部门回复（市人民法院）"));
    // Pause with a reason.
    app.update(key(KeyCode::Char('z')));
    type_text(&mut app, "等待申请人补充材料");
    let commands = app.update(key(KeyCode::Enter));
    let Call::ActOnTicket(req) = call_of(&commands) else {
        panic!()
    };
    assert_eq!(req.expected_version, 2);
    assert!(matches!(req.action, Some(Act::Pause(ref p)) if p.reason == "等待申请人补充材料"));
    // Someone else changed it first: the message names them, the screen reloads.
    let mut details = ErrorDetails::new();
    details.set_error_info(
        credit_desk_proto::errors::STALE_VERSION,
        credit_desk_proto::errors::DOMAIN,
        std::collections::HashMap::<String, String>::new(),
    );
    let status = tonic::Status::with_error_details(
        tonic::Code::Aborted,
        "已被 王五 于 2026-11-23 10:05 修改，请刷新后重新操作",
        details,
    );
    let (seq, _, _) = sent(&commands);
    let reload = app.update(Event::Reply {
        seq,
        result: Err(status),
        rtt_ms: 40,
    });
    assert!(matches!(call_of(&reload), Call::GetTicket(id) if id == "t1"));
    assert!(screen_text(&app).contains("王五"));
    // Back on the queue, only the changes are asked for.
    answer(&mut app, &reload, Answer::Ticket(Box::new(ticket(3))));
    let text = screen_text(&app);
    assert!(text.contains("王五"), "the refusal stays readable:\n{text}");
    let back = app.update(key(KeyCode::Esc));
    assert!(matches!(call_of(&back), Call::ListQueue(r) if r.cursor == "7.2026-11-23.x"));
}

#[test]
fn requests_are_sent_with_the_departments_receipt_date() {
    let mut app = on_queue(Lang::Zh);
    let commands = app.update(key(KeyCode::Enter));
    let mut received = ticket(1);
    received.state = "received".into();
    received.letters.clear();
    answer(&mut app, &commands, Answer::Ticket(Box::new(received)));
    // No letter waits: the footer does not offer a reply, and `a` does nothing.
    let footer = screen_text(&app);
    assert!(
        footer.contains("s 发函") && !footer.contains("a 回复"),
        "{footer}"
    );
    assert!(app.update(key(KeyCode::Char('a'))).is_empty());
    // Caps Lock on: an upper-case letter is the same key.
    app.update(key(KeyCode::Char('S')));
    type_text(&mut app, "2026-13-01");
    assert!(app.update(key(KeyCode::Enter)).is_empty(), "not a date");
    for _ in 0..10 {
        app.update(key(KeyCode::Backspace));
    }
    type_text(&mut app, "2026-11-25");
    let commands = app.update(key(KeyCode::Enter));
    let Call::ActOnTicket(req) = call_of(&commands) else {
        panic!()
    };
    assert!(matches!(req.action, Some(Act::SendRequests(ref s)) if s.received_on == "2026-11-25"));
}

#[test]
fn a_reply_decides_each_record_of_the_department() {
    let mut app = logged_in_as(
        Lang::Zh,
        Role::Liaison,
        &[Capability::ViewQueue, Capability::AnswerRequests],
        None,
    );
    let commands = app.update(key(KeyCode::Char('t')));
    answer(&mut app, &commands, queue_answer());
    let commands = app.update(key(KeyCode::Enter));
    let mut two = ticket(4);
    let mut second = two.records[0].clone();
    second.record_id = "r2".into();
    second.source_key = "(2025)粤1284执400号".into();
    two.records.push(second);
    answer(&mut app, &commands, Answer::Ticket(Box::new(two)));
    app.update(key(KeyCode::Char('a')));
    // Record 1: deleted.
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Right));
    // Record 2: confirmed.
    app.update(key(KeyCode::BackTab));
    app.update(key(KeyCode::Right));
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Right));
    app.update(key(KeyCode::Right));
    for _ in 0..4 {
        app.update(key(KeyCode::Tab));
    }
    type_text(&mut app, "经核实");
    let commands = app.update(key(KeyCode::Enter));
    let Call::ActOnTicket(req) = call_of(&commands) else {
        panic!()
    };
    let Some(Act::RecordReply(reply)) = req.action else {
        panic!()
    };
    let decided: Vec<(&str, &str)> = reply
        .decisions
        .iter()
        .map(|d| (d.record_id.as_str(), d.outcome.as_str()))
        .collect();
    assert_eq!(decided, [("r1", "deleted"), ("r2", "confirmed")]);
    assert_eq!(reply.reply_text, "经核实");
}

#[test]
fn an_objection_is_filed_from_marked_report_records() {
    let mut app = reporting(Lang::Zh);
    app.update(key(KeyCode::Enter));
    app.update(key(KeyCode::Char(' ')));
    assert!(screen_text(&app).contains("▶✓"), "marked");
    app.update(key(KeyCode::Char('o')));
    assert!(screen_text(&app).contains("异议申请"));
    // Category (a choice), phone, address, notify: then the grounds.
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "13800138000");
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "四会市大沙镇马鞍村 12 号");
    let nothing = app.update(key(KeyCode::F(10)));
    assert!(nothing.is_empty(), "the grounds are required");
    type_text(&mut app, "该案已执行完毕");
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "结案通知书");
    let commands = app.update(key(KeyCode::F(10)));
    let Call::FileObjection(req) = call_of(&commands) else {
        panic!()
    };
    assert_eq!(req.record_ids, ["(2025)粤1284执302号"]);
    assert_eq!(req.verification_id, "0192f5a0-0000-7000-8000-00000000abcd");
    assert_eq!(req.reason_text, "该案已执行完毕");
    assert_eq!(req.evidence, ["结案通知书"]);
    assert_eq!(req.notify_by, "phone");
    let mut filed = ticket(1);
    filed.state = "received".into();
    filed.letters.clear();
    answer(&mut app, &commands, Answer::Ticket(Box::new(filed)));
    let text = screen_text(&app);
    assert!(text.contains("YY-20261123-0001"), "{text}");
    assert!(text.contains("异议已受理"), "{text}");
}

/// The line of the screen that holds `label`.
fn line_with<'a>(text: &'a str, label: &str) -> &'a str {
    text.lines().find(|l| l.contains(label)).unwrap_or("")
}

// Tab goes round every part in order and Shift-Tab back the same way; an
// empty reason is named as required beside its label; Ctrl-U empties a
// multi-line field as it does a one-line one (it undid the last edit).
#[test]
fn the_objection_form_goes_round_in_order_and_names_an_empty_reason() {
    let mut app = reporting(Lang::Zh);
    app.update(key(KeyCode::Enter));
    app.update(key(KeyCode::Char(' ')));
    app.update(key(KeyCode::Char('o')));
    let focused = |app: &credit_desk::app::App| {
        let text = screen_text(app);
        let line = text
            .lines()
            .find(|l| l.contains('▶'))
            .unwrap_or("")
            .to_string();
        [
            "异议类别",
            "联系电话",
            "联系地址",
            "通知方式",
            "异议理由",
            "证明材料",
        ]
        .into_iter()
        .find(|label| line.contains(label))
        .unwrap_or("none")
    };
    let order = [
        "异议类别",
        "联系电话",
        "联系地址",
        "通知方式",
        "异议理由",
        "证明材料",
    ];
    for i in 0..order.len() * 2 {
        assert_eq!(focused(&app), order[i % order.len()], "Tab #{i}");
        app.update(key(KeyCode::Tab));
    }
    for i in 0..order.len() * 2 {
        assert_eq!(
            focused(&app),
            order[(order.len() * 2 - i) % order.len()],
            "Shift-Tab #{i}"
        );
        app.update(key(KeyCode::BackTab));
    }

    // Phone and address filled, the reason left empty.
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "13800138000");
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "四会市大沙镇马鞍村 12 号");
    assert!(app.update(key(KeyCode::F(10))).is_empty());
    let text = screen_text(&app);
    assert!(line_with(&text, "异议理由").contains("! 必填"), "{text}");
    assert_eq!(focused(&app), "异议理由");
    type_text(&mut app, "该案已执行完毕");
    let text = screen_text(&app);
    assert!(!line_with(&text, "异议理由").contains("必填"), "{text}");

    // Ctrl-U empties the reason.
    app.update(ctrl('u'));
    assert!(!screen_text(&app).contains("该案已执行完毕"));
    assert!(app.update(key(KeyCode::F(10))).is_empty(), "empty again");
}

fn calendar_answer(days: bool) -> Answer {
    let year = |year: i32, source: &str, n: u32| pb::CalendarYear {
        year,
        source: source.into(),
        days: n,
        ..Default::default()
    };
    let day = |date: &str, kind: &str, name: &str| pb::CalendarDay {
        date: date.into(),
        kind: kind.into(),
        name: name.into(),
    };
    Answer::Calendar(pb::CalendarResponse {
        years: vec![
            year(2025, "official", 33),
            year(2026, "2026-corrected.csv", 40),
        ],
        days: if days {
            vec![
                day("2026-10-01", "holiday", "国庆节"),
                day("2026-10-10", "workday", "国庆节调休上班"),
            ]
        } else {
            Vec::new()
        },
        official_years: vec![2025, 2026],
        gap: None,
    })
}

/// An administrator on the calendar screen with 2026's days shown.
fn on_calendar(lang: Lang) -> credit_desk::app::App {
    let mut app = logged_in_as(
        lang,
        Role::Admin,
        &[Capability::ChangeOwnPassword, Capability::ManageCalendar],
        None,
    );
    let commands = app.update(key(KeyCode::Char('h')));
    assert!(matches!(call_of(&commands), Call::GetCalendar(0)));
    answer(&mut app, &commands, calendar_answer(false));
    app.update(key(KeyCode::Down));
    let commands = app.update(key(KeyCode::Enter));
    assert!(matches!(call_of(&commands), Call::GetCalendar(2026)));
    answer(&mut app, &commands, calendar_answer(true));
    app
}

#[test]
fn the_calendar_shows_a_year_and_imports_a_file() {
    let mut app = on_calendar(Lang::Zh);
    let text = screen_text(&app);
    assert!(
        text.contains("2026-10-10  调休上班  国庆节调休上班"),
        "{text}"
    );
    assert!(text.contains("国务院公布"), "{text}");
    app.update(key(KeyCode::Char('i')));
    type_text(&mut app, "/tmp/2027.csv");
    let commands = app.update(key(KeyCode::Enter));
    assert!(
        matches!(call_of(&commands), Call::PreviewCalendarFile(p) if p == std::path::Path::new("/tmp/2027.csv"))
    );
    let request = pb::ChangeCalendarRequest {
        change: Some(pb::change_calendar_request::Change::File(
            pb::CalendarFile {
                file_name: "2027.csv".into(),
                csv: "2027-01-01,holiday,元旦\n".into(),
            },
        )),
        confirm: false,
    };
    let change = pb::CalendarYearChange {
        year: 2027,
        days_after: 35,
        added: 35,
        ..Default::default()
    };
    let preview = pb::ChangeCalendarResponse {
        years: vec![change],
        moves_total: 2,
        ..Default::default()
    };
    answer(
        &mut app,
        &commands,
        Answer::CalendarChanged(Box::new((request.clone(), preview))),
    );
    let text = screen_text(&app);
    assert!(text.contains("预览（尚未写入）"), "{text}");
    assert!(text.contains("2027 年（新增年份）：共 35 天"), "{text}");
    // y sends the previewed request again, now to be written.
    let commands = app.update(key(KeyCode::Char('y')));
    assert!(
        matches!(call_of(&commands), Call::ChangeCalendar(r) if r.confirm && r.change == request.change)
    );
    let applied = pb::ChangeCalendarResponse {
        applied: true,
        years: vec![change],
        moves_total: 2,
        calendar: vec![pb::CalendarYear {
            year: 2027,
            source: "2027.csv".into(),
            days: 35,
            ..Default::default()
        }],
        ..Default::default()
    };
    answer(
        &mut app,
        &commands,
        Answer::CalendarChanged(Box::new((request, applied))),
    );
    let text = screen_text(&app);
    assert!(text.contains("2027  2027.csv (35)"), "{text}");
}

#[test]
fn snapshots() {
    for lang in [Lang::Zh, Lang::En] {
        let suffix = lang.tag();
        let menu = logged_in_as(
            lang,
            Role::Center,
            &CENTER_CAPS,
            Some(pb::QueueStats {
                open: 3,
                overdue: 1,
                soon: 1,
                warnings: 1,
                complaints_open: 2,
                complaints_overdue: 1,
                ..Default::default()
            }),
        );
        insta::assert_snapshot!(format!("menu_center_{suffix}"), draw(&menu).backend());
        let mut app = on_queue(lang);
        insta::assert_snapshot!(format!("queue_{suffix}"), draw(&app).backend());
        app.update(key(KeyCode::End));
        let commands = app.update(key(KeyCode::Enter));
        answer(&mut app, &commands, Answer::Ticket(Box::new(ticket(2))));
        insta::assert_snapshot!(format!("ticket_{suffix}"), draw(&app).backend());
        let calendar = on_calendar(lang);
        insta::assert_snapshot!(format!("calendar_{suffix}"), draw(&calendar).backend());
    }
}

/// Esc while a case file loads cancels the call and goes back to the queue
/// (it used to leave an empty loading page).
#[test]
fn esc_while_a_case_file_loads_goes_back() {
    let mut app = on_queue(Lang::Zh);
    let commands = app.update(key(KeyCode::Enter));
    let (seq, _, _) = sent(&commands);
    let back = app.update(key(KeyCode::Esc));
    assert!(
        back.iter()
            .any(|c| matches!(c, credit_desk::app::Command::Cancel(s) if *s == seq)),
        "the load is cancelled"
    );
    let text = screen_text(&app);
    assert!(
        text.contains("YY-20261105-0003"),
        "back on the queue:\n{text}"
    );
    assert!(!text.contains("加载中"), "{text}");
}

/// Finding tickets from the queue (zh-CN and en, 80×24): the search, then
/// what it found in any state; Enter opens the chosen one.
#[test]
fn tickets_are_found_in_any_state() {
    for lang in [Lang::Zh, Lang::En] {
        let suffix = lang.tag();
        let mut app = on_queue(lang);
        app.update(key(KeyCode::Char('/')));
        type_text(&mut app, "李建国");
        insta::assert_snapshot!(format!("ticket_search_form_{suffix}"), draw(&app).backend());
        let commands = app.update(key(KeyCode::Enter));
        match call_of(&commands) {
            Call::FindTickets(r) => {
                assert_eq!((r.query.as_str(), r.state.as_str()), ("李建国", ""))
            }
            other => panic!("{other:?}"),
        }
        let found = |no: &str, state: &str, closed: i64| pb::FoundTicket {
            ticket_id: format!("id-{no}"),
            ticket_no: no.into(),
            state: state.into(),
            subject_name: "李建国".into(),
            subject_identifier: "441284********0010".into(),
            org_unit_name: "大沙镇便民服务中心".into(),
            received_on: "2026-10-12".into(),
            closed_at_ms: closed,
        };
        let answer_found = Answer::FoundTickets(pb::FindTicketsResponse {
            tickets: vec![
                found("YY-20261112-0002", "withdrawn", 1_795_395_600_000),
                found("YY-20261012-0001", "closed", 1_793_000_000_000),
            ],
            more: false,
        });
        answer(&mut app, &commands, answer_found);
        insta::assert_snapshot!(format!("ticket_search_{suffix}"), draw(&app).backend());
        app.update(key(KeyCode::Down));
        let commands = app.update(key(KeyCode::Enter));
        match call_of(&commands) {
            Call::GetTicket(id) => assert_eq!(id, "id-YY-20261012-0001"),
            other => panic!("{other:?}"),
        }
    }
}

/// A closed or withdrawn ticket offers no act: its keys are not in the
/// footer and pressing them opens no form (they used to open one that the
/// server then refused).
#[test]
fn an_ended_ticket_offers_no_act() {
    for state in ["closed", "withdrawn"] {
        let mut app = on_queue(Lang::Zh);
        app.update(key(KeyCode::End));
        let commands = app.update(key(KeyCode::Enter));
        let ended = pb::Ticket {
            state: state.into(),
            ..ticket(4)
        };
        answer(&mut app, &commands, Answer::Ticket(Box::new(ended)));
        let text = screen_text(&app);
        for act in ["s 发函", "c 办结", "z 暂停", "w 撤回", "n 通知"] {
            assert!(!text.contains(act), "{state}: {act} offered:\n{text}");
        }
        assert!(text.contains("p 打印"), "{state}: printing stays:\n{text}");
        for letter in ['s', 'c', 'z', 'w', 'n', 'u', 'a'] {
            let commands = app.update(key(KeyCode::Char(letter)));
            assert!(commands.is_empty(), "{state}: {letter} sent {commands:?}");
            assert_eq!(
                screen_text(&app),
                text,
                "{state}: {letter} changed the screen"
            );
        }
    }
}
