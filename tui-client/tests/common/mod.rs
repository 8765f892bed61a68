//! What the workstation's screen tests share: an app with a fixed day
//! and zone, keys, drawing at 80×24, and the canned server answers.
#![allow(clippy::unwrap_used)] // test and bench support: a failure is the report
#![allow(dead_code)]

use std::sync::Arc;

use credit_desk::app::{App, Command, DemoInfo, Event};
use credit_desk::net::{Answer, Call, Meter};
use credit_desk::theme::Theme;
use credit_desk_proto::Lang;
use credit_desk_proto::pb::{self, Capability, Role};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// Ctrl and a letter.
pub fn ctrl(letter: char) -> Event {
    Event::Key(ratatui::crossterm::event::KeyEvent::new(
        KeyCode::Char(letter),
        ratatui::crossterm::event::KeyModifiers::CONTROL,
    ))
}

pub fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new_with_kind(
        code,
        KeyModifiers::NONE,
        KeyEventKind::Press,
    ))
}

pub fn type_text(app: &mut App, text: &str) -> Vec<Command> {
    text.chars()
        .flat_map(|c| app.update(key(KeyCode::Char(c))))
        .collect()
}

pub fn demo() -> DemoInfo {
    DemoInfo {
        accounts: vec![
            ("counter".into(), Role::Counter),
            ("center".into(), Role::Center),
            ("admin".into(), Role::Admin),
        ],
        password: "demo2026".into(),
    }
}

pub fn app(lang: Lang) -> App {
    let mut app = App::new(
        lang,
        Theme { color: false },
        "http://127.0.0.1:50051".into(),
        Arc::new(Meter::default()),
        Some(demo()),
        "counter-1".into(),
    );
    // Fixed day and zone, so snapshots do not depend on when or where they run.
    app.today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    app.utc_offset = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    app
}

pub fn draw(app: &App) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|f| app.render(f)).unwrap();
    terminal
}

pub fn screen_text(app: &App) -> String {
    draw(app).backend().to_string()
}

pub fn login_answer(role: Role, caps: &[Capability], must_change: bool) -> Answer {
    Answer::Login(pb::LoginResponse {
        session_token: "tok".into(),
        expires_at_ms: 0,
        idle_timeout_s: 1800,
        home: Some(pb::Home {
            operator: Some(pb::Operator {
                id: "op1".into(),
                username: "admin".into(),
                display_name: "系统管理员".into(),
                role: role as i32,
                must_change_password: must_change,
                enabled: true,
                ..Default::default()
            }),
            org_unit: Some(pb::OrgUnit {
                id: "u1".into(),
                code: "CENTER".into(),
                name: "四会市综合征信中心".into(),
                kind: pb::OrgUnitKind::Center as i32,
                ..Default::default()
            }),
            capabilities: caps.iter().map(|c| *c as i32).collect(),
            server_time_ms: 0,
            queue: None,
            calendar_gap: None,
        }),
        reference_version: String::new(),
    })
}

pub fn sent(commands: &[Command]) -> (u64, Option<String>, Call) {
    commands
        .iter()
        .find_map(|c| match c {
            Command::Send {
                seq, token, call, ..
            } => Some((*seq, token.clone(), call.clone())),
            _ => None,
        })
        .expect("a request was sent")
}

/// Logs in with this role and these capabilities; the app is on the menu.
pub fn logged_in_as(
    lang: Lang,
    role: Role,
    caps: &[Capability],
    queue: Option<pb::QueueStats>,
) -> App {
    let mut app = app(lang);
    type_text(&mut app, "someone");
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "demo2026");
    let (seq, _, _) = sent(&app.update(key(KeyCode::Enter)));
    let Answer::Login(mut resp) = login_answer(role, caps, false) else {
        unreachable!()
    };
    if let Some(home) = &mut resp.home {
        home.queue = queue;
    }
    app.update(Event::Reply {
        seq,
        result: Ok(Answer::Login(resp)),
        rtt_ms: 42,
    });
    app
}

/// Answers the request in `commands`; returns the next commands.
pub fn answer(app: &mut App, commands: &[Command], answer: Answer) -> Vec<Command> {
    let (seq, _, _) = sent(commands);
    app.update(Event::Reply {
        seq,
        result: Ok(answer),
        rtt_ms: 50,
    })
}

pub fn call_of(commands: &[Command]) -> Call {
    sent(commands).2
}

pub fn verified_answer() -> Answer {
    Answer::Verified(pb::VerifyResponse {
        outcome: pb::VerifyOutcome::Verified as i32,
        subject: Some(pb::SubjectSummary {
            id: "s1".into(),
            kind: pb::SubjectKind::Person as i32,
            identifier: "441284199003070023".into(),
            name: "陈美玲".into(),
            birth_date: "1990-03-07".into(),
            sex: "female".into(),
            township: "大沙镇便民服务中心".into(),
            address: "四会市大沙镇马鞍村 12 号".into(),
            ..Default::default()
        }),
        verification: Some(pb::Verification {
            id: "0192f5a0-0000-7000-8000-00000000abcd".into(),
            subject_id: "s1".into(),
            method: pb::VerificationMethod::IdCardReader as i32,
            created_at_ms: 1_795_395_600_000,
            expires_at_ms: 1_795_402_800_000,
            ..Default::default()
        }),
        replayed: false,
    })
}

/// A counter clerk on the verification screen with a number and name typed.
pub fn verifying(lang: Lang) -> (App, Vec<Command>) {
    let mut app = logged_in_as(
        lang,
        Role::Counter,
        &[
            Capability::ChangeOwnPassword,
            Capability::VerifyIdentity,
            Capability::ViewSubjects,
        ],
        None,
    );
    app.update(key(KeyCode::Char('v')));
    type_text(&mut app, "４４１２８４１９９００３０７００２３");
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "陈美玲");
    let commands = app.update(key(KeyCode::Enter));
    (app, commands)
}

pub fn report_answer() -> Answer {
    let record = |key: &str, status: &str, negative: bool| pb::ReportRecord {
        id: key.into(),
        source_name: "市人民法院".into(),
        source_key: key.into(),
        start_date: "2025-02-11".into(),
        has_amount: true,
        amount_cents: 1_280_050,
        status: status.into(),
        negative,
        details: "拒不履行生效判决".into(),
        version: 1,
        explanations: vec![pb::Explanation {
            text: "已与申请执行人达成和解，正在分期履行".into(),
            added_at_ms: 1_795_395_600_000,
            taken_by: "李柜员".into(),
        }],
        ..Default::default()
    };
    Answer::Queried(pb::RunQueryResponse {
        allowed: true,
        report: Some(pb::Report {
            report_no: "CD-20261123-000001".into(),
            generated_at_ms: 1_795_395_600_000,
            subject: Some(pb::SubjectSummary {
                name: "李建国".into(),
                identifier: "441284196508120010".into(),
                birth_date: "1965-08-12".into(),
                township: "大沙镇便民服务中心".into(),
                address: "四会市大沙镇马鞍村 12 号".into(),
                ..Default::default()
            }),
            sections: vec![pb::CategorySection {
                code: "dishonest_debtor".into(),
                name: "失信被执行人".into(),
                records: vec![record("(2025)粤1284执302号", "未履行", true)],
            }],
            withheld_for_age: 1,
            query_records: vec![pb::QueryRecord {
                at_ms: 1_795_395_600_000,
                institution: "四会农商银行营业部".into(),
                purpose: "贷款审批".into(),
                operator_name: "王银行".into(),
            }],
            basis: "self".into(),
            purpose_name: "本人查询".into(),
            operator_name: "李柜员".into(),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// From a finished verification, `q` opens the subject's own report.
pub fn reporting(lang: Lang) -> App {
    let (mut app, commands) = verifying(lang);
    let (seq, _, _) = sent(&commands);
    app.update(Event::Reply {
        seq,
        result: Ok(verified_answer()),
        rtt_ms: 80,
    });
    let (seq, _, call) = sent(&app.update(key(KeyCode::Char('q'))));
    let Call::RunQuery(req) = call else {
        panic!("{call:?}")
    };
    assert_eq!(req.subject_id, "s1");
    app.update(Event::Reply {
        seq,
        result: Ok(report_answer()),
        rtt_ms: 120,
    });
    app
}
