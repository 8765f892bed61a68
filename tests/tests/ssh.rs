//! The SSH endpoint with the real OpenSSH client: password and registered
//! key logins, a workflow, a resize, an abrupt disconnect beside a session
//! that goes on, and the lockout shared with gRPC logins.

use std::path::{Path, PathBuf};
use std::process::Command;

use credit_desk_proto::Lang;
use credit_desk_proto::errors as reason_code;
use credit_desk_server::clock::Clock;
use credit_desk_server::db::ssh_keys;
use credit_desk_tests::desk::Desk;
use credit_desk_tests::tmux::{self, Tmux};
use credit_desk_tests::{DEMO_PASSWORD, TestServer, login, reason};
use ratatui::crossterm::event::KeyCode;

/// What a clerk's ssh needs here: a known_hosts file holding the server's
/// key (so the host key is checked, not accepted blindly), an askpass
/// script typing the password, and a key pair when asked for.
struct Clerk {
    dir: tempfile::TempDir,
    port: u16,
}

impl Clerk {
    fn new(srv: &TestServer) -> Clerk {
        let ssh = srv.ssh.as_ref().expect("server started with SSH");
        let dir = tempfile::tempdir().unwrap();
        // ssh-keygen reading the host key file proves it is a real OpenSSH
        // key; its public half is what the clerk's client must see.
        let public = Command::new("ssh-keygen")
            .arg("-y")
            .arg("-f")
            .arg(&ssh.host_key)
            .output()
            .expect("ssh-keygen");
        assert!(public.status.success(), "{public:?}");
        let line = format!(
            "[127.0.0.1]:{} {}",
            ssh.addr.port(),
            String::from_utf8_lossy(&public.stdout).trim()
        );
        std::fs::write(dir.path().join("known_hosts"), line + "\n").unwrap();
        Clerk {
            dir,
            port: ssh.addr.port(),
        }
    }

    fn askpass(&self, password: &str) -> PathBuf {
        let path = self.dir.path().join("askpass.sh");
        std::fs::write(&path, format!("#!/bin/sh\necho '{password}'\n")).unwrap();
        let mut mode = std::fs::metadata(&path).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut mode, 0o700);
        std::fs::set_permissions(&path, mode).unwrap();
        path
    }

    /// Makes a key pair; returns the private key's path and the `.pub` line.
    fn key_pair(&self) -> (PathBuf, String) {
        let path = self.dir.path().join("id_ed25519");
        let out = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "counter@test", "-f"])
            .arg(&path)
            .output()
            .expect("ssh-keygen");
        assert!(out.status.success(), "{out:?}");
        let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
        (path, public)
    }

    /// The ssh command line; in a tmux window its exit status is printed
    /// after it (`ssh ended: 0`).
    fn command(&self, user: &str, how: &[&str]) -> String {
        format!(
            "ssh -tt -F /dev/null -p {} -o StrictHostKeyChecking=yes -o UserKnownHostsFile={} \
             -o LogLevel=ERROR -o NumberOfPasswordPrompts=1 {} {user}@127.0.0.1",
            self.port,
            self.dir.path().join("known_hosts").display(),
            how.join(" ")
        )
    }

    /// ssh with the password (typed by askpass) in a tmux window.
    fn with_password(&self, name: &str, user: &str, password: &str) -> Tmux {
        let askpass = self.askpass(password);
        Tmux::start(
            name,
            80,
            24,
            &(self.command(
                user,
                &[
                    "-o PubkeyAuthentication=no",
                    "-o PreferredAuthentications=password",
                ],
            ) + "; echo ssh ended: $?"),
            &[
                ("SSH_ASKPASS", askpass.to_str().unwrap()),
                ("SSH_ASKPASS_REQUIRE", "force"),
                ("TERM", "xterm-256color"),
            ],
        )
    }

    /// One password attempt without a terminal; whether it got in.
    fn try_password(&self, user: &str, password: &str) -> bool {
        let askpass = self.askpass(password);
        let command = self.command(
            user,
            &[
                "-o PubkeyAuthentication=no",
                "-o PreferredAuthentications=password",
                "-o BatchMode=no",
            ],
        ) + " true";
        let out = Command::new("sh")
            .arg("-c")
            .arg(command.replace("ssh -tt", "ssh -T"))
            .env("SSH_ASKPASS", askpass)
            .env("SSH_ASKPASS_REQUIRE", "force")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("ssh");
        let said = String::from_utf8_lossy(&out.stderr);
        !said.contains("Permission denied")
    }

    fn with_key(&self, name: &str, user: &str, key: &Path) -> Tmux {
        Tmux::start(
            name,
            80,
            24,
            &(self.command(
                user,
                &[
                    &format!("-i {}", key.display()),
                    "-o IdentitiesOnly=yes",
                    "-o PreferredAuthentications=publickey",
                    "-o PasswordAuthentication=no",
                ],
            ) + "; echo ssh ended: $?"),
            &[("TERM", "xterm-256color")],
        )
    }
}

/// Sessions of an operator that are still live in the database.
async fn live_sessions(srv: &TestServer, username: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM sessions s JOIN operators o ON o.id = s.operator_id
          WHERE o.username = $1 AND s.revoked_at IS NULL",
    )
    .bind(username)
    .fetch_one(srv.db.pool())
    .await
    .unwrap()
}

/// Whether the OpenSSH client is here; under CI it must be.
fn openssh_available() -> bool {
    if Command::new("ssh").arg("-V").output().is_ok() {
        return true;
    }
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
        "CI is set but the OpenSSH client is missing: the SSH tests must run"
    );
    eprintln!("SKIP: SSH test skipped, the OpenSSH client is not installed");
    false
}

/// Waits (up to ten seconds) for an operator's live sessions to come to
/// `expected`: a session ends in the database shortly after its connection.
async fn settle(srv: &TestServer, username: &str, expected: i64) {
    for _ in 0..100 {
        if live_sessions(srv, username).await == expected {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn start() -> Option<TestServer> {
    if !tmux::available() || !openssh_available() {
        return None;
    }
    TestServer::start_with_ssh(credit_desk_tests::Backend::Sqlite).await
}

/// A counter clerk logs in with the password, verifies a person, resizes
/// the window, and quits; the session ends in the database too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_works_over_ssh_with_a_password() {
    let Some(srv) = start().await else { return };
    let clerk = Clerk::new(&srv);
    let tty = clerk.with_password("pw", "counter", DEMO_PASSWORD);
    let menu = tty.wait_for("主菜单");
    assert!(menu.contains("李柜员"), "{menu}");
    // The status bar names the clerk's link, not the in-process one.
    assert!(menu.contains("SSH 127.0.0.1"), "{menu}");
    assert_eq!(live_sessions(&srv, "counter").await, 1);

    tty.send(&["v"]);
    tty.wait_for("证件号码");
    tty.type_text("441284196508120010");
    tty.send(&["Tab"]);
    tty.type_text("李建国");
    tty.send(&["Enter"]);
    tty.wait_for("核验通过");

    // A wider window: the app is laid out again at the new size (its status
    // bar moves to the new last line).
    tty.resize(100, 30);
    tty.wait_until("status bar on line 30", |screen| {
        screen
            .lines()
            .nth(29)
            .is_some_and(|l| l.contains("SSH 127.0.0.1"))
    });
    // Esc goes back (a lone Esc, after the parser's short wait).
    tty.send(&["Escape"]);
    tty.wait_for("[V] 身份核验");

    tty.send(&["C-c"]);
    tty.wait_for("已退出征信业务工作站");
    // The clerk's terminal is given back: the alternate screen is left.
    tty.wait_for("ssh ended: 0");
    settle(&srv, "counter", 0).await;
    assert_eq!(live_sessions(&srv, "counter").await, 0);
    drop(tty);
    srv.finish().await;
}

/// A key an administrator registered on the workstation opens the
/// operator's menu; a key nobody registered does not, and is no failed
/// login; removed from the command line, it opens nothing again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_key_logs_in_and_an_unknown_one_does_not() {
    let Some(srv) = start().await else { return };
    let clerk = Clerk::new(&srv);
    let (key, public) = clerk.key_pair();

    let refused = clerk.with_key("unknown-key", "counter", &key);
    refused.wait_for("Permission denied");
    let failures: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM login_attempts WHERE username = 'counter' AND success = 0",
    )
    .fetch_one(srv.db.pool())
    .await
    .unwrap();
    assert_eq!(
        failures, 0,
        "an unregistered key offered is no failed login"
    );

    // The administrator registers it on the operators screen: u, find the
    // counter clerk, s, a, paste, Enter (a wrong line is refused first).
    let mut desk = Desk::open(&srv, Lang::Zh);
    desk.log_in("admin").await;
    desk.key(KeyCode::Char('u')).await;
    desk.key(KeyCode::Char('/')).await;
    desk.text("counter").await;
    desk.key(KeyCode::Enter).await;
    desk.key(KeyCode::Char('s')).await;
    desk.expect("尚未登记公钥");
    desk.key(KeyCode::Char('a')).await;
    desk.text("ssh-ed25519 not-a-key").await;
    desk.key(KeyCode::Enter).await;
    desk.expect("应为一行 OpenSSH 公钥");
    for _ in 0.."ssh-ed25519 not-a-key".chars().count() {
        desk.key(KeyCode::Backspace).await;
    }
    desk.text(public.trim()).await;
    desk.key(KeyCode::Enter).await;
    let listed = desk.expect("公钥已登记");
    let fingerprints = credit_desk_server::setup::ssh_keys(&srv.db, "counter")
        .await
        .unwrap();
    assert_eq!(fingerprints.len(), 1);
    let row = fingerprints[0].clone();
    assert!(listed.contains(&row.fingerprint), "{listed}");
    assert!(listed.contains("counter@test"), "{listed}");
    // Registered for counter, it is not center's key.
    let not_center = clerk.with_key("key-wrong-user", "center", &key);
    not_center.wait_for("Permission denied");

    let tty = clerk.with_key("key", "counter", &key);
    let menu = tty.wait_for("主菜单");
    assert!(menu.contains("李柜员"), "{menu}");
    tty.send(&["C-c"]);
    tty.wait_for("ssh ended: 0");

    // Removed, it opens nothing any more.
    credit_desk_server::setup::remove_ssh_key(
        &srv.db,
        "counter",
        &row.fingerprint,
        srv.clock.now_ms(),
    )
    .await
    .unwrap();
    let mut conn = srv.db.read().await.unwrap();
    assert!(
        ssh_keys::owner(&mut conn, &row.fingerprint)
            .await
            .unwrap()
            .is_none()
    );
    drop(conn);
    let after = clerk.with_key("removed-key", "counter", &key);
    after.wait_for("Permission denied");
    srv.finish().await;
}

/// An operator whose password was reset lands on the password change, as
/// at the workstation, and the session opens nothing else until it is done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forced_password_change_comes_first_over_ssh() {
    let Some(srv) = start().await else { return };
    sqlx::query("UPDATE operators SET must_change_password = 1 WHERE username = 'bank'")
        .execute(srv.db.pool())
        .await
        .unwrap();
    let clerk = Clerk::new(&srv);
    let tty = clerk.with_password("forced", "bank", DEMO_PASSWORD);
    let screen = tty.wait_for("首次登录或密码已被重置");
    assert!(screen.contains("修改密码"), "{screen}");
    tty.send(&["C-c"]);
    tty.wait_for("ssh ended: 0");
    srv.finish().await;
}

/// A line that drops in the middle of a screen ends that session only: the
/// other clerk goes on, and the dropped one's login is ended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abrupt_disconnect_frees_the_session_and_others_go_on() {
    let Some(srv) = start().await else { return };
    let clerk = Clerk::new(&srv);
    let dropped = clerk.with_password("drop", "counter", DEMO_PASSWORD);
    dropped.wait_for("主菜单");
    dropped.send(&["v"]);
    dropped.wait_for("证件号码");
    dropped.type_text("4412841965");

    let other = Clerk::new(&srv);
    let goes_on = other.with_password("other", "center", DEMO_PASSWORD);
    goes_on.wait_for("主菜单");
    assert_eq!(live_sessions(&srv, "counter").await, 1);

    dropped.kill();
    settle(&srv, "counter", 0).await;
    assert_eq!(
        live_sessions(&srv, "counter").await,
        0,
        "the dropped login ended"
    );

    goes_on.send(&["v"]);
    goes_on.wait_for("证件号码");
    assert_eq!(live_sessions(&srv, "center").await, 1);
    goes_on.send(&["C-c"]);
    goes_on.wait_for("ssh ended: 0");
    srv.finish().await;
}

/// Five wrong passwords over SSH lock the account for the workstation's
/// gRPC login too (one lockout, whatever the door), on both backends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_wrong_ssh_passwords_lock_the_grpc_login_too() {
    for backend in [
        credit_desk_tests::Backend::Sqlite,
        credit_desk_tests::Backend::Postgres,
    ] {
        if !openssh_available() {
            return;
        }
        let Some(srv) = TestServer::start_with_ssh(backend).await else {
            continue;
        };
        let clerk = Clerk::new(&srv);
        for attempt in 1..=5 {
            assert!(
                !clerk.try_password("bank", "not-the-password"),
                "attempt {attempt}"
            );
        }
        // The right password stays out, over SSH and over gRPC.
        assert!(!clerk.try_password("bank", DEMO_PASSWORD));
        let e = login(&srv, "bank", DEMO_PASSWORD).await.unwrap_err();
        assert_eq!(reason(&e), reason_code::ACCOUNT_LOCKED, "{e:?}");
        srv.finish().await;
    }
}

/// One operator may hold eight SSH sessions at once: the ninth is told why
/// on the terminal and closed, and its login ended; leaving one makes room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_operator_holds_at_most_eight_ssh_sessions() {
    use credit_desk_tests::ssh_clerk::SshClerk;
    let Some(srv) = TestServer::start_with_ssh(credit_desk_tests::Backend::Sqlite).await else {
        return;
    };
    let addr = srv.ssh.as_ref().unwrap().addr;
    let mut clerks = Vec::new();
    for _ in 0..8 {
        let mut clerk = SshClerk::connect(addr, "counter", DEMO_PASSWORD, false)
            .await
            .unwrap();
        clerk.expect("主菜单").await;
        clerks.push(clerk);
    }
    let mut ninth = SshClerk::connect(addr, "counter", DEMO_PASSWORD, false)
        .await
        .unwrap();
    ninth.expect("SSH 会话已达上限").await;
    ninth.expect_closed().await;
    settle(&srv, "counter", 8).await;
    assert_eq!(
        live_sessions(&srv, "counter").await,
        8,
        "the ninth login ended"
    );

    let mut first = clerks.remove(0);
    first.key(KeyCode::Char('\u{3}')).await;
    first.expect_closed().await;
    // The place is given back when the first session has ended.
    let mut again = None;
    for _ in 0..50 {
        let mut clerk = SshClerk::connect(addr, "counter", DEMO_PASSWORD, false)
            .await
            .unwrap();
        if clerk.expect_one_of(&["主菜单", "已达上限"]).await == 0 {
            again = Some(clerk);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(again.is_some(), "a place was given back");
    srv.finish().await;
}
