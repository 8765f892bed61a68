//! The `credit-desk-server` binary: init, operator commands, serve, and a
//! graceful stop on SIGTERM.
#![allow(clippy::unwrap_used)] // test and bench support: a failure is the report

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_credit-desk-server");

fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn init_operator_commands_and_config_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("c.db").display());
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "harbour2026\n").unwrap();
    let pw = pw.to_str().unwrap();

    let (ok, out) = run(&[
        "init",
        "--db",
        &db,
        "--admin-password-file",
        pw,
        "--center-name",
        "四会市综合征信中心",
    ]);
    assert!(ok, "{out}");
    assert!(out.contains("administrator admin"), "{out}");
    // A second init does not create a second administrator.
    let (ok, out) = run(&["init", "--db", &db, "--admin-password-file", pw]);
    assert!(!ok && out.contains("already exists"), "{out}");
    let (ok, out) = run(&["migrate", "--db", &db]);
    assert!(ok, "{out}");

    // Adding a township clerk needs a township; the center is the only unit.
    let add = |role: &str, unit: &str| {
        run(&[
            "operator",
            "add",
            "--db",
            &db,
            "--username",
            "li.si",
            "--display-name",
            "李四",
            "--role",
            role,
            "--unit",
            unit,
            "--password-file",
            pw,
        ])
    };
    let (ok, out) = add("counter", "CENTER");
    assert!(!ok && out.contains("角色"), "{out}");
    let (ok, out) = add("clerk", "CENTER");
    assert!(!ok && out.contains("--role"), "{out}");
    let (ok, out) = add("center", "CENTER");
    assert!(ok, "{out}");
    let (ok, out) = run(&["operator", "disable", "--db", &db, "li.si"]);
    assert!(ok, "{out}");
    let (ok, out) = run(&[
        "operator",
        "reset-password",
        "--db",
        &db,
        "li.si",
        "--password-file",
        pw,
    ]);
    assert!(ok, "{out}");
    let (ok, out) = run(&["operator", "disable", "--db", &db, "nobody"]);
    assert!(!ok && out.contains("nobody"), "{out}");

    // A bad setting in the config file is named.
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "session_hours = 0\n").unwrap();
    let (ok, out) = run(&["--config", cfg.to_str().unwrap(), "serve", "--db", &db]);
    assert!(!ok && out.contains("session_hours"), "{out}");
}

#[test]
fn serve_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("s.db").display());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = Command::new(BIN)
        .args(["serve", "--db", &db, "--listen", &listen])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(&listen).is_err() {
        assert!(Instant::now() < deadline, "server did not start listening");
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = child.wait().unwrap();
    let mut log = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut log).unwrap();
    assert!(status.success(), "exit {status:?}\n{log}");
    assert!(
        log.contains("shutdown signal received") && log.contains("stopped"),
        "{log}"
    );
    let _ = std::io::stderr().flush();
}

#[test]
fn calendar_commands_check_dates_and_import_years() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("cal.db").display());
    // The shipped schedule is there from the first migration.
    let (ok, out) = run(&[
        "calendar",
        "add-working-days",
        "--db",
        &db,
        "--from",
        "2026-09-24",
        "--days",
        "10",
    ]);
    assert!(ok, "{out}");
    // (The first command to open the database also says it made a key file.)
    assert_eq!(out.lines().next(), Some("2026-10-15"), "{out}");
    let (ok, out) = run(&["calendar", "is-working-day", "--db", &db, "2026-10-10"]);
    assert_eq!((ok, out.trim()), (true, "true"), "make-up Saturday");
    let (ok, out) = run(&["calendar", "is-working-day", "--db", &db, "2026-10-05"]);
    assert_eq!((ok, out.trim()), (true, "false"), "national day");
    // 2027 is not held: an error naming the year, never a guess.
    let (ok, out) = run(&["calendar", "is-working-day", "--db", &db, "2027-03-01"]);
    assert!(!ok && out.contains("2027"), "{out}");
    let (ok, out) = run(&[
        "calendar",
        "add-working-days",
        "--db",
        &db,
        "--from",
        "2026-12-30",
        "--days",
        "3",
    ]);
    assert!(!ok && out.contains("2027"), "{out}");

    // A bad file names its lines and changes nothing.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "2027-01-01,holiday,元旦\n2027-01-04,workday,周一\n").unwrap();
    let (ok, out) = run(&["calendar", "import", "--db", &db, bad.to_str().unwrap()]);
    assert!(!ok && out.contains("line 2"), "{out}");
    let (ok, _) = run(&["calendar", "is-working-day", "--db", &db, "2027-03-01"]);
    assert!(!ok);

    let good = dir.path().join("2027.csv");
    std::fs::write(
        &good,
        "date,kind,name\n2027-01-01,holiday,元旦\n2027-02-06,workday,春节调休上班\n",
    )
    .unwrap();
    let (ok, out) = run(&["calendar", "import", "--db", &db, good.to_str().unwrap()]);
    assert!(ok && out.contains("2027"), "{out}");
    let (_, out) = run(&["calendar", "is-working-day", "--db", &db, "2027-02-06"]);
    assert_eq!(out.trim(), "true");
    let (_, out) = run(&[
        "calendar",
        "add-working-days",
        "--db",
        &db,
        "--from",
        "2026-12-30",
        "--days",
        "3",
    ]);
    assert_eq!(out.trim(), "2027-01-05", "31 Dec, (1 Jan off), 4 and 5 Jan");
    let (ok, out) = run(&["calendar", "show", "--db", &db, "2027"]);
    assert!(
        ok && out.contains("2027-02-06,workday,春节调休上班"),
        "{out}"
    );
    // Importing the year again replaces it whole.
    std::fs::write(&good, "2027-01-01,holiday,元旦\n").unwrap();
    run(&["calendar", "import", "--db", &db, good.to_str().unwrap()]);
    let (_, out) = run(&["calendar", "is-working-day", "--db", &db, "2027-02-06"]);
    assert_eq!(out.trim(), "false", "the corrected year no longer has it");
}

#[test]
fn settings_are_shown_and_set_within_their_range() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("s.db").display());
    let (ok, out) = run(&["setting", "show", "--db", &db]);
    assert!(ok, "{out}");
    assert!(out.contains("deadline_warning_working_days = 1"), "{out}");
    let (ok, out) = run(&[
        "setting",
        "set",
        "--db",
        &db,
        "deadline_warning_working_days",
        "2",
    ]);
    assert!(ok, "{out}");
    let (_, out) = run(&["setting", "show", "--db", &db]);
    assert!(out.contains("deadline_warning_working_days = 2"), "{out}");
    let (ok, out) = run(&[
        "setting",
        "set",
        "--db",
        &db,
        "objection_notice_attempts",
        "0",
    ]);
    assert!(!ok && out.contains("0 must be at least 1"), "{out}");
    // Working hours must start before they end.
    for bad in ["1808", "1800"] {
        let (ok, out) = run(&[
            "setting",
            "set",
            "--db",
            &db,
            "indicator_working_hours",
            bad,
        ]);
        assert!(
            !ok && out.contains("a start and an end hour, the start first"),
            "{out}"
        );
    }
    let (ok, out) = run(&[
        "setting",
        "set",
        "--db",
        &db,
        "indicator_working_hours",
        "917",
    ]);
    assert!(ok, "{out}");
    let (ok, out) = run(&["setting", "set", "--db", &db, "colour", "red"]);
    assert!(!ok && out.contains("unknown setting"), "{out}");
}

#[test]
fn audit_verify_passes_an_intact_chain_and_fails_an_edited_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("a.db").display());
    // Two audited acts: a setting changed twice.
    for v in ["2", "3"] {
        let (ok, out) = run(&[
            "setting",
            "set",
            "--db",
            &db,
            "deadline_warning_working_days",
            v,
        ]);
        assert!(ok, "{out}");
    }
    let (ok, out) = run(&["audit", "verify", "--db", &db]);
    assert!(ok && out.contains("audit chain intact: 2 row(s)"), "{out}");
    let (ok, head) = run(&["audit", "head", "--db", &db]);
    assert!(
        ok && head.starts_with("2 ") && head.trim().len() == 2 + 64,
        "{head}"
    );
    assert!(out.contains(head.trim()), "verify names the head: {out}");

    // A checkpoint before next month covers both rows (written now); a
    // month given wrongly is refused, naming the flag.
    let (ok, out) = run(&["audit", "checkpoint", "--db", &db, "--before", "2026-13"]);
    assert!(
        !ok && out.contains("--before") && out.contains("YYYY-MM"),
        "{out}"
    );
    let next_month = chrono::Utc::now().date_naive() + chrono::Months::new(1);
    let before = next_month.format("%Y-%m").to_string();
    let (ok, out) = run(&["audit", "checkpoint", "--db", &db, "--before", &before]);
    assert!(
        ok && out.contains("checkpoint at row 2") && out.contains(&head.trim()[2..]),
        "{out}"
    );

    // Someone with the file rewrites history.
    let edit = async {
        let db = credit_desk_server::db::Db::connect(&db).await.unwrap();
        sqlx::query("UPDATE audit_log SET detail = '9' WHERE seq = 1")
            .execute(db.pool())
            .await
            .unwrap();
        db.close().await;
    };
    tokio::runtime::Runtime::new().unwrap().block_on(edit);
    let (ok, out) = run(&["audit", "verify", "--db", &db]);
    assert!(!ok, "a broken chain fails: {out}");
    assert!(
        out.contains("audit chain broken: row 1 (id ") && out.contains("was edited"),
        "{out}"
    );
}

/// Personal data at rest: a database written before sealing existed is
/// sealed when it is first opened with a key file (made then), so its file
/// no longer holds the number, phone or address; a new key and a rotation
/// reseal everything under it; lookups by number keep working; a missing
/// key file is refused once anything is sealed.
#[test]
fn personal_data_is_sealed_and_keys_rotate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    let db = format!("sqlite://{}", path.display());
    let keys = dir.path().join("k.db.keys");
    let (ok, out) = run(&["migrate", "--db", &db]);
    assert!(ok, "{out}");
    assert!(keys.exists(), "made next to the database on first start");
    std::fs::remove_file(&keys).unwrap();

    // A subject as an earlier version wrote it, in the clear.
    let (number, phone, address) = (
        "441284196508120010",
        "13800000002",
        "四会市大沙镇马鞍村 12 号",
    );
    let legacy = async {
        let db = credit_desk_server::db::Db::connect(&db).await.unwrap();
        sqlx::query(
            "INSERT INTO subjects (id, kind, identifier, name, address, phone, created_at, updated_at)
             VALUES ('s-1', 'person', $1, '李建国', $2, $3, 0, 0)",
        )
        .bind(number)
        .bind(address)
        .bind(phone)
        .execute(db.pool())
        .await
        .unwrap();
        db.close().await;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(legacy);

    let (ok, out) = run(&["keys", "status", "--db", &db]);
    assert!(ok, "{out}");
    assert!(
        out.contains("current key: k1") && out.contains("k1\t3"),
        "{out}"
    );
    assert!(!out.contains("clear"), "{out}");
    let file = std::fs::read(&path).unwrap();
    let holds = |text: &str| file.windows(text.len()).any(|w| w == text.as_bytes());
    for secret in [number, phone, address, "4412841965"] {
        assert!(!holds(secret), "the database file holds {secret}");
    }

    // A new key, then a rotation: everything is under k2.
    let (ok, out) = run(&["keys", "new", "--db", &db]);
    assert!(ok && out.contains("key k2 added"), "{out}");
    let (ok, out) = run(&["keys", "status", "--db", &db]);
    assert!(
        ok && out.contains("current key: k2") && out.contains("k1\t3"),
        "{out}"
    );
    let (ok, out) = run(&["keys", "rotate", "--db", &db]);
    assert!(ok, "{out}");
    assert!(
        out.contains("resealed 3 value(s) and 1 index(es) under key k2"),
        "{out}"
    );
    let (ok, out) = run(&["keys", "status", "--db", &db]);
    assert!(
        ok && out.contains("k2\t3") && !out.contains("k1\t"),
        "{out}"
    );
    // The old key can go; the number is still found and opened.
    let text = std::fs::read_to_string(&keys).unwrap();
    let without_k1: String = text
        .lines()
        .filter(|l| !l.starts_with("k1 "))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&keys, without_k1).unwrap();
    let lookup = async {
        use credit_desk_server::vault;
        vault::install(vault::Vault::parse(&std::fs::read_to_string(&keys).unwrap()).unwrap())
            .unwrap();
        let db = credit_desk_server::db::Db::connect(&db).await.unwrap();
        let mut conn = db.read().await.unwrap();
        let found = credit_desk_server::db::subjects::get_by_identifier(&mut conn, number)
            .await
            .unwrap()
            .expect("found by its blind index");
        assert_eq!(
            (found.name.as_str(), found.phone.as_str()),
            ("李建国", phone)
        );
        assert_eq!(found.address, address);
        drop(conn);
        db.close().await;
    };
    rt.block_on(lookup);

    // Without the key file a sealed database does not open.
    std::fs::remove_file(&keys).unwrap();
    let (ok, out) = run(&["keys", "status", "--db", &db]);
    assert!(!ok && out.contains("is missing"), "{out}");
    assert!(!keys.exists(), "no new key replaces a lost one");
}

#[test]
fn a_database_is_backed_up_and_restored_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("live.db").display());
    let (ok, out) = run(&[
        "setting",
        "set",
        "--db",
        &db,
        "objection_notice_attempts",
        "5",
    ]);
    assert!(ok, "{out}");
    let copy = dir.path().join("copy.db");
    let copy = copy.to_str().unwrap();
    let (ok, out) = run(&["backup", "--db", &db, "--to", copy]);
    assert!(ok && out.contains("backed up to"), "{out}");
    let (ok, out) = run(&["backup", "--db", &db, "--to", copy]);
    assert!(!ok && out.contains("never overwrites"), "{out}");
    // Restored elsewhere (with the live database's key file), it holds
    // what the live one held.
    let restored = dir.path().join("restored.db");
    let restored_url = format!("sqlite://{}", restored.display());
    let (ok, out) = run(&["restore", "--from", copy, "--db", &restored_url]);
    assert!(ok && out.contains("restored"), "{out}");
    std::fs::copy(
        dir.path().join("live.db.keys"),
        dir.path().join("restored.db.keys"),
    )
    .unwrap();
    let (ok, out) = run(&["setting", "show", "--db", &restored_url]);
    assert!(ok && out.contains("objection_notice_attempts = 5"), "{out}");
    let (ok, out) = run(&["audit", "verify", "--db", &restored_url]);
    assert!(ok, "{out}");
}

// `--log-format json` writes one JSON object per log line (for a log
// collector); the file setting does the same; text stays the default.
#[test]
fn logs_are_json_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("l.db").display());
    let logs = |args: &[&str]| {
        let out = Command::new(BIN)
            .args(args)
            .env("RUST_LOG", "info")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stderr).unwrap()
    };
    let json = logs(&["--log-format", "json", "setting", "show", "--db", &db]);
    let line = json
        .lines()
        .find(|l| l.contains("database ready"))
        .unwrap_or_else(|| panic!("{json}"));
    let value: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(value["level"], "INFO", "{line}");
    assert_eq!(value["fields"]["message"], "database ready", "{line}");
    assert!(value["timestamp"].is_string(), "{line}");

    let config = dir.path().join("server.toml");
    std::fs::write(&config, "log_format = \"json\"\n").unwrap();
    let from_file = logs(&[
        "--config",
        config.to_str().unwrap(),
        "setting",
        "show",
        "--db",
        &db,
    ]);
    assert!(from_file.lines().all(|l| l.starts_with('{')), "{from_file}");
    let text = logs(&["setting", "show", "--db", &db]);
    assert!(
        text.contains("database ready") && !text.contains("{\""),
        "{text}"
    );
}
