//! End to end: the real `credit-desk-server demo` binary in a real terminal (tmux),
//! typing the demo credentials and reading the menu off the screen.
//! Skipped, with a visible message, where tmux is not installed.

use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    session: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux").args(args).output().expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn send(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", self.session.as_str()];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", &self.session])
    }

    /// Waits until the screen shows every one of `texts` and not `gone`.
    fn wait_for_all(&self, texts: &[&str], gone: &str) -> String {
        self.wait_until(&format!("{texts:?} without {gone:?}"), |screen| {
            texts.iter().all(|t| screen.contains(t)) && !screen.contains(gone)
        })
    }

    /// Waits until the screen shows `text`; panics with the screen if not.
    fn wait_for(&self, text: &str) -> String {
        self.wait_until(&format!("{text:?}"), |screen| screen.contains(text))
    }

    fn wait_until(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        // Generous: a busy CI machine seeds the debug demo slowly; a pass is fast.
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .output();
    }
}

/// The day the demo runs on (a Wednesday; see `demo --as-of`).
const AS_OF: &str = "2026-11-25";

#[test]
fn demo_login_reaches_the_menu() {
    if Command::new("tmux").arg("-V").output().is_err() {
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
            "CI is set but tmux is missing: the end-to-end test must run"
        );
        eprintln!("SKIP: tmux end-to-end test skipped, tmux is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let bin = env!("CARGO_BIN_EXE_credit-desk-server");
    let tmux = Tmux {
        session: format!("credit-desk-e2e-{}", std::process::id()),
    };
    // A small synthetic population keeps the debug build quick to seed.
    // The demo lives on a Wednesday whatever today is: letters go out on
    // working days only, and the review below needs a weekday behind it.
    let command = format!(
        "{bin} demo --file {} --subjects 200 --as-of {AS_OF}",
        db.display()
    );
    let out = Command::new("tmux")
        .args([
            "new-session",
            "-d",
            "-s",
            &tmux.session,
            "-x",
            "80",
            "-y",
            "24",
        ])
        .arg(&command)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let login = tmux.wait_for("操作员登录");
    assert!(login.contains("演示密码: demo2026"), "{login}");
    tmux.send(&["counter", "Tab", "demo2026", "Enter"]);
    let menu = tmux.wait_for("主菜单");
    assert!(menu.contains("李柜员 (counter)"), "{menu}");
    assert!(menu.contains("大沙镇便民服务中心"), "{menu}");
    assert!(menu.contains("修改本人密码"), "{menu}");
    assert!(
        !menu.contains("操作员管理"),
        "a counter clerk has no admin entries:\n{menu}"
    );

    // Verify a demo subject: the number as a Chinese input method types it.
    tmux.send(&["v"]);
    tmux.wait_for("证件号码");
    tmux.send(&["４４１２８４１９９００３０７００２３"]);
    tmux.wait_for("✓ 女 出生 1990-03-07 广东省");
    tmux.send(&["Tab", "陈美玲", "Enter"]);
    let done = tmux.wait_for("核验通过");
    assert!(done.contains("441284199003070023"), "{done}");
    assert!(done.contains("本次核验有效至"), "{done}");
    // A consent for a bank, with two lines of remarks, on this verification.
    tmux.send(&["c"]);
    tmux.wait_for("授权书编号");
    // Right: the second grantee, 农村商业银行, whose officer queries below.
    tmux.send(&[
        "Right",
        "Tab",
        "Tab",
        "Tab",
        // The start date: empty, from now.
        "Tab",
        "SQ-2026-0001",
        "Tab",
        "Tab",
        "本人到场签字",
        "Enter",
        "附身份证复印件",
    ]);
    tmux.send(&["F10"]);
    let receipt = tmux.wait_for("查询授权回执");
    assert!(
        receipt.contains("SQ-2026-0001") && receipt.contains("附身份证复印件"),
        "{receipt}"
    );
    tmux.send(&["Escape"]);
    tmux.wait_for("核验通过");
    // Her own report, straight from the verification.
    tmux.send(&["q"]);
    let report = tmux.wait_for("报告编号");
    assert!(report.contains("CD-"), "{report}");
    assert!(report.contains("三、查询记录"), "{report}");
    tmux.send(&["Escape"]);
    tmux.wait_for("核验通过");
    tmux.send(&["Escape"]);
    tmux.wait_for("主菜单");

    // Someone the registry does not know: registered from the identity
    // card, verified, and given a report that says there is nothing.
    tmux.send(&["v"]);
    tmux.wait_for("证件号码");
    tmux.send(&["441284198801011234", "Tab", "王小明", "Enter"]);
    tmux.wait_for("F3 登记新主体");
    tmux.send(&["F3"]);
    tmux.wait_for("登记新主体（按身份证或营业执照）");
    tmux.send(&["四会市大沙镇马鞍村 8 号", "Enter"]);
    let done = tmux.wait_for("核验通过");
    assert!(done.contains("王小明"), "{done}");
    tmux.send(&["q"]);
    let report = tmux.wait_for("报告编号");
    assert!(report.contains("（无记录）"), "{report}");
    let report_no = report
        .split(['：', ' ', '\n'])
        .find(|w| w.starts_with("CD-"))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no report number:\n{report}"));
    tmux.send(&["Escape"]);
    tmux.wait_for("核验通过");
    tmux.send(&["Escape"]);
    tmux.wait_for("主菜单");
    // ...and reprints it by its number.
    tmux.send(&["b"]);
    tmux.wait_for("报告编号");
    tmux.send(&[&report_no, "Enter"]);
    let reprint = tmux.wait_for("信用报告（补打）");
    assert!(reprint.contains(&report_no), "{reprint}");
    tmux.send(&["Escape"]);
    tmux.wait_for("主菜单");
    // The registry finds the new person; the card shows the number masked
    // and the verification, and no records outside a query.
    tmux.send(&["s"]);
    tmux.wait_for("姓名（可加号码开头）或完整号码");
    tmux.send(&["王小明", "Enter"]);
    tmux.wait_for("找到 1");
    tmux.send(&["Enter"]);
    let card = tmux.wait_for("信息记录只能通过查询查看");
    assert!(card.contains("441284********1234"), "{card}");
    assert!(
        card.contains("查验身份证原件") || card.contains("身份证阅读器"),
        "{card}"
    );
    for back in ["找到 1", "姓名（可加号码开头）或完整号码"] {
        std::thread::sleep(Duration::from_millis(300));
        tmux.send(&["Escape"]);
        tmux.wait_for(back);
    }
    std::thread::sleep(Duration::from_millis(300));
    tmux.send(&["Escape"]);
    tmux.wait_for("主菜单");

    // Log out; the bank officer queries on the consent just captured.
    tmux.send(&["q"]);
    tmux.wait_for("操作员登录");
    tmux.send(&["bank", "Tab", "demo2026", "Enter"]);
    tmux.wait_for("凭授权查询信用报告");
    tmux.send(&["r"]);
    tmux.wait_for("证件号码");
    tmux.send(&["441284199003070023", "Enter"]);
    tmux.wait_for("有效的查询授权");
    tmux.send(&["Enter"]);
    let report = tmux.wait_for("查询依据：授权查询");
    assert!(report.contains("陈美玲"), "{report}");
    tmux.send(&["Escape"]);
    tmux.wait_for("有效的查询授权");
    // Two Esc in a row would read as one Alt-Esc: a pause between.
    tmux.send(&["Escape"]);
    std::thread::sleep(Duration::from_millis(300));
    tmux.send(&["Escape"]);
    tmux.wait_for("主菜单");
    tmux.send(&["q"]);
    tmux.wait_for("操作员登录");

    // An objection: 李建国 disputes his court record from his own report.
    log_in(&tmux, "counter", "主菜单");
    tmux.send(&["v"]);
    tmux.wait_for("证件号码");
    tmux.send(&["441284196508120010", "Tab", "李建国", "Enter"]);
    tmux.wait_for("核验通过");
    tmux.send(&["q"]);
    let report = tmux.wait_for("报告编号");
    assert!(!report.contains("异议处理中"), "{report}");
    tmux.send(&["Enter"]);
    tmux.wait_for("▶");
    tmux.send(&["o"]);
    tmux.wait_for("异议类别");
    tmux.send(&["Tab", "13800138000", "Tab", "四会市大沙镇马鞍村", "F10"]);
    tmux.send(&["该案已执行完毕", "F10"]);
    let receipt = tmux.wait_for("异议已受理");
    let ticket_no = receipt
        .split_whitespace()
        .find(|w| w.starts_with("YY-"))
        .and_then(|w| w.split(['；', ';']).next())
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no ticket number:\n{receipt}"));
    // Receipt, record choice, report, verification.
    back_to_menu(&tmux, 4);
    tmux.send(&["q"]);
    tmux.wait_for("操作员登录");

    // The center sends the verification request to the court.
    log_in(&tmux, "center", "时限队列");
    tmux.send(&["t"]);
    tmux.wait_for(&ticket_no);
    tmux.send(&["Enter"]);
    tmux.wait_for("案卷编号");
    tmux.send(&["s"]);
    tmux.wait_for("部门收函日期");
    tmux.send(&["Enter"]);
    tmux.wait_for("已发核查函");
    back_to_menu(&tmux, 2);
    tmux.send(&["q"]);
    tmux.wait_for("操作员登录");

    // The court's liaison answers: corrected.
    log_in(&tmux, "liaison", "时限队列");
    tmux.send(&["t"]);
    tmux.wait_for("HC-");
    tmux.send(&["Enter"]);
    tmux.wait_for("案卷编号");
    tmux.send(&["a"]);
    tmux.wait_for("核查结果");
    // Record (one here), outcome (corrected), corrected status, …, reply.
    tmux.send(&[
        "Tab",
        "Tab",
        "经核更正",
        "Tab",
        "Tab",
        "Tab",
        "经核实该案已执行完毕",
        "Enter",
    ]);
    let replied = tmux.wait_for("✓ 已办理");
    assert!(replied.contains("已更正"), "{replied}");
    back_to_menu(&tmux, 2);
    tmux.send(&["q"]);
    tmux.wait_for("操作员登录");

    // The center notifies the applicant and closes.
    log_in(&tmux, "center", "时限队列");
    tmux.send(&["t"]);
    tmux.wait_for(&ticket_no);
    tmux.send(&["Enter"]);
    // The queue lists states too: wait for the case file itself.
    let case_file = tmux.wait_for("案卷编号");
    assert!(case_file.contains("部门已回复"), "{case_file}");
    tmux.send(&["n"]);
    tmux.wait_for("记录通知申请人");
    tmux.send(&["Tab", "Tab", "已电话告知", "Enter"]);
    tmux.wait_for("已通知申请人");
    tmux.send(&["c"]);
    tmux.wait_for("(y/n)");
    tmux.send(&["y"]);
    tmux.wait_for("已办结");
    back_to_menu(&tmux, 2);

    // The court's file delivered again: the corrected row is held back.
    tmux.send(&["i"]);
    tmux.wait_for("报送部门");
    for _ in 0..10 {
        let court_chosen = tmux
            .screen()
            .lines()
            .any(|l| l.contains("报送部门") && l.contains("D-COURT"));
        if court_chosen {
            break;
        }
        tmux.send(&["Right"]);
        std::thread::sleep(Duration::from_millis(200));
    }
    let court_file = concat!(env!("CARGO_MANIFEST_DIR"), "/src/demo/court-2025H1.xlsx");
    // The period is proposed from the file's dates by a dry run, then the
    // import runs for it and holds the decided row back.
    tmux.send(&["Tab", court_file, "Enter"]);
    tmux.wait_for("按文件日期推定报送期为 2025H1");
    tmux.send(&["Enter"]);
    tmux.wait_for("内容此前已全部导入");
    let held = tmux.wait_for("以下 1 行涉及已由异议裁定的记录");
    assert!(held.contains(&ticket_no), "{held}");
    assert!(held.contains("报送期 2025H1"), "{held}");
    back_to_menu(&tmux, 1);
    tmux.send(&["q"]);
    tmux.wait_for("操作员登录");

    // The next report shows the corrected record, no longer annotated.
    log_in(&tmux, "counter", "主菜单");
    tmux.send(&["v"]);
    tmux.wait_for("证件号码");
    tmux.send(&["441284196508120010", "Tab", "李建国", "Enter"]);
    tmux.wait_for("核验通过");
    tmux.send(&["q"]);
    let report = tmux.wait_for("报告编号");
    assert!(report.contains("经核更正"), "{report}");
    assert!(!report.contains("异议处理中"), "{report}");
    // His third self-query this year is charged: the fee, then y.
    tmux.send(&["Escape"]);
    tmux.wait_for("核验通过");
    tmux.send(&["q"]);
    tmux.wait_for("需收费 10.00 元");
    tmux.send(&["y"]);
    // The fee prompt sits over the report it will run again: wait for the
    // paid one (its prompt gone), not for any report number.
    let paid = tmux.wait_for_all(&["报告编号", "经核更正"], "确认收费");
    assert!(
        !paid.contains("异议处理中"),
        "the correction still stands:\n{paid}"
    );
    back_to_menu(&tmux, 2);
    tmux.send(&["q"]);
    tmux.wait_for("操作员登录");

    // The supervisor reviews the demo's history (the bank's
    // refused attempt, the counter's evening query): the day waits in the
    // queue, each alert is concluded, one as a violation, and the day is
    // signed off.
    log_in(&tmux, "supervisor", "主菜单");
    tmux.send(&["t"]);
    tmux.wait_for("待核查的查询操作日");
    back_to_menu(&tmux, 1);
    tmux.send(&["d"]);
    tmux.wait_for("核查日期");
    // The demo's history is two days back: Monday.
    tmux.send(&["C-u", "2026-11-23", "Enter"]);
    let day = tmux.wait_for("工作时间以外查询");
    assert!(day.contains("(待结论 3)"), "{day}");
    tmux.send(&["n"]);
    tmux.wait_for("(待结论 2)");
    tmux.send(&["Down", "n"]);
    tmux.wait_for("(待结论 1)");
    tmux.send(&["Down", "v"]);
    tmux.wait_for("核查说明");
    tmux.send(&["晚间查询未登记事由，已提醒", "Enter"]);
    tmux.wait_for("(待结论 0)");
    tmux.send(&["s"]);
    let signed = tmux.wait_for("已签核 吴主管");
    assert!(signed.contains("审计链 #"), "{signed}");

    // ...and signs off last month's security statistics.
    back_to_menu(&tmux, 2);
    tmux.send(&["m"]);
    tmux.wait_for("统计月份");
    let month = "2026-10";
    tmux.send(&["C-u", month, "Enter"]);
    let report = tmux.wait_for("一、信息安全事件");
    assert!(report.contains("未签核"), "{report}");
    tmux.send(&["s"]);
    tmux.wait_for("系统以外发现的事件");
    tmux.send(&["Enter"]);
    let signed = tmux.wait_for("已签核 吴主管");
    assert!(signed.contains(month), "{signed}");
    tmux.send(&["C-c"]);
}

fn log_in(tmux: &Tmux, user: &str, expect: &str) {
    tmux.send(&[user, "Tab", "demo2026", "Enter"]);
    tmux.wait_for(expect);
}

/// Esc `times` times, pausing between (two quick ones read as Alt-Esc).
fn back_to_menu(tmux: &Tmux, times: usize) {
    for _ in 0..times {
        tmux.send(&["Escape"]);
        std::thread::sleep(Duration::from_millis(300));
    }
    tmux.wait_for("主菜单");
}
