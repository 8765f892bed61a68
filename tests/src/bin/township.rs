//! The counter's day over an emulated township link, measured two ways:
//! (a) the native workstation (the real app and client over gRPC), and
//! (b) the same workstation through the server's SSH endpoint, typed at
//! five keys a second by a scripted clerk at an SSH client (zlib, as
//! `ssh -C`). Both run the same script — log in, verify a person, capture a
//! consent, run the person's own report, read it, file an objection, open
//! the queue, log out — against the real server, with the link emulator
//! between. (a) runs twice: as a workstation's first run, and as one that
//! kept yesterday's reference lists in its cache file (every day after).
//!
//! Per step and way it prints round trips (gRPC calls; for SSH every key,
//! each of which waits for its echo), bytes each way and the clerk's
//! waiting time, with (a)'s floor: round trips × round-trip time + bytes ÷
//! bandwidth. Per link it prints keystroke-to-screen times (p50, p95) of the
//! identity number typed one key at a time.
//!
//! `cargo run --release -p credit-desk-tests --bin township`
#![allow(clippy::unwrap_used)] // a bench driver: a failure is the report

use std::time::{Duration, Instant};

use credit_desk_proto::Lang;
use credit_desk_tests::desk::Desk;
use credit_desk_tests::link::{Link, LinkSpec};
use credit_desk_tests::ssh_clerk::{Login, SshClerk};
use credit_desk_tests::{Backend, DEMO_PASSWORD, TestServer};
use ratatui::crossterm::event::KeyCode;

/// One thing the clerk does.
#[derive(Clone, Copy)]
enum Act {
    Key(KeyCode),
    Text(&'static str),
    /// Typed one key at a time, each echo awaited and timed.
    Probe(&'static str),
    /// Looks at the screen until it shows this (an answer, a form).
    Expect(&'static str),
}

use Act::{Expect, Key, Probe, Text};

const fn c(ch: char) -> Act {
    Key(KeyCode::Char(ch))
}
const TAB: Act = Key(KeyCode::Tab);
const ESC: Act = Key(KeyCode::Esc);
const F10: Act = Key(KeyCode::F(10));

/// Logging in at the workstation's own login screen.
const LOG_IN: &[Act] = &[
    Text("counter"),
    TAB,
    Text(DEMO_PASSWORD),
    Key(KeyCode::Enter),
    Expect("主菜单"),
];
/// Logging out, back to the login screen.
const LOG_OUT: &[Act] = &[ESC, c('q'), Expect("操作员登录")];

/// The steps after logging in (each way logs in its own way).
const SCRIPT: &[(&str, &[Act])] = &[
    (
        "核验 verify",
        &[
            c('v'),
            Expect("证件号码"),
            Probe("441284196508120010"),
            TAB,
            Text("李建国"),
            Key(KeyCode::Enter),
            Expect("核验通过"),
        ],
    ),
    (
        "授权 consent",
        &[
            c('c'),
            Expect("授权书编号"),
            Key(KeyCode::Right),
            // Purpose, days, start date (empty: now), then the serial.
            TAB,
            TAB,
            TAB,
            TAB,
            Text("SQ-2026-7001"),
            F10,
            Expect("查询授权回执"),
        ],
    ),
    (
        "本人查询 own report",
        &[ESC, Expect("核验通过"), c('q'), Expect("报告编号")],
    ),
    (
        "阅读 read",
        &[
            Key(KeyCode::PageDown),
            Key(KeyCode::PageDown),
            Key(KeyCode::Home),
            Expect("报告编号"),
        ],
    ),
    (
        "异议 objection",
        &[
            Key(KeyCode::Enter),
            c('o'),
            Expect("联系电话"),
            TAB,
            Text("13800138000"),
            TAB,
            Text("四会市大沙镇马鞍村"),
            F10,
            Text("该案已执行完毕"),
            F10,
            Expect("异议已受理"),
        ],
    ),
    (
        "队列 queue",
        &[
            ESC,
            ESC,
            ESC,
            ESC,
            Expect("主菜单"),
            c('t'),
            Expect("时限队列"),
        ],
    ),
];

/// What one step cost.
#[derive(Default)]
struct Step {
    name: &'static str,
    round_trips: u64,
    up: u64,
    down: u64,
    waited: Duration,
}

impl Step {
    fn floor(&self, spec: &LinkSpec) -> Duration {
        spec.round_trip() * self.round_trips as u32
            + spec.serialisation(self.up as usize)
            + spec.serialisation(self.down as usize)
    }
}

/// A way of working the script.
trait Clerk {
    async fn act(&mut self, act: Act);
    /// (round trips, time waited) so far.
    fn tally(&self) -> (u64, Duration);
}

impl Clerk for Desk {
    async fn act(&mut self, act: Act) {
        match act {
            Key(code) => self.key(code).await,
            Text(text) => self.text(text).await,
            // Typing is local: the echo is the app's update and a redraw.
            Probe(text) => {
                for ch in text.chars() {
                    let started = Instant::now();
                    self.key(KeyCode::Char(ch)).await;
                    let _ = self.screen();
                    ECHOES.with(|e| e.borrow_mut().push(started.elapsed()));
                }
            }
            Expect(text) => {
                self.expect(text);
            }
        }
    }
    fn tally(&self) -> (u64, Duration) {
        (self.calls, self.waited)
    }
}

thread_local! {
    /// The native way's echo times (the desk has no field for them).
    static ECHOES: std::cell::RefCell<Vec<Duration>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Clerk for SshClerk {
    async fn act(&mut self, act: Act) {
        match act {
            Key(code) => self.key(code).await,
            Text(text) => self.text(text).await,
            Probe(text) => self.probe(text).await,
            Expect(text) => self.expect(text).await,
        }
    }
    fn tally(&self) -> (u64, Duration) {
        (self.keys, self.waited)
    }
}

async fn measure<C: Clerk>(clerk: &mut C, link: &Link, name: &'static str, acts: &[Act]) -> Step {
    let (trips, waited) = clerk.tally();
    let (up, down) = (link.bytes_up(), link.bytes_down());
    for act in acts {
        clerk.act(*act).await;
    }
    // What is still in flight (the last answer's tail) belongs here.
    tokio::time::sleep(link.spec.one_way_delay).await;
    let (trips_after, waited_after) = clerk.tally();
    Step {
        name,
        round_trips: trips_after - trips,
        up: link.bytes_up() - up,
        down: link.bytes_down() - down,
        waited: waited_after - waited,
    }
}

/// The reference lists a workstation that worked here yesterday holds:
/// fetched by an earlier run (off the measured link) and kept in its cache
/// file, as the `credit-desk` binary keeps them.
async fn yesterdays_lists(srv: &TestServer) -> credit_desk_proto::pb::ListPurposesResponse {
    let mut desk = Desk::open(srv, Lang::Zh);
    desk.log_in("counter").await;
    desk.key(KeyCode::Char('v')).await;
    desk.text("441284196508120010").await;
    desk.key(KeyCode::Tab).await;
    desk.text("李建国").await;
    desk.key(KeyCode::Enter).await;
    desk.key(KeyCode::Char('c')).await;
    desk.expect("授权书编号");
    let held = &desk.app.reference.as_ref().unwrap().lists;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("reference.pb");
    credit_desk::reference_cache::save(&file, held).unwrap();
    credit_desk::reference_cache::load(&file).unwrap()
}

/// (a) The native workstation; `warm`: holding yesterday's lists.
async fn native(srv: &TestServer, spec: LinkSpec, warm: bool) -> (Vec<Step>, Vec<Duration>) {
    let held = match warm {
        true => Some(yesterdays_lists(srv).await),
        false => None,
    };
    let link = Link::start(srv.running.addr, spec).await.unwrap();
    let mut desk = Desk::connect(&link.url(), Lang::Zh);
    // The script's keys follow at once: the menu passed through on the way
    // to the queue is not waited on.
    desk.brisk = true;
    if let Some(lists) = held {
        desk.app.hold_reference(lists);
    }
    // A clerk takes a few seconds to type a name and a password; the
    // workstation connects meanwhile.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut login = measure(&mut desk, &link, "登录 login", LOG_IN).await;
    // The connection made meanwhile is the login's too (as the SSH
    // handshake is (b)'s): bytes since the link opened.
    login.up = link.bytes_up();
    login.down = link.bytes_down();
    let mut steps = vec![login];
    for (name, acts) in SCRIPT {
        steps.push(measure(&mut desk, &link, name, acts).await);
    }
    steps.push(measure(&mut desk, &link, "退出 logout", LOG_OUT).await);
    let echoes = ECHOES.with(|e| std::mem::take(&mut *e.borrow_mut()));
    (steps, echoes)
}

/// (b) The same through the SSH endpoint.
async fn over_ssh(srv: &TestServer, spec: LinkSpec) -> (Vec<Step>, Vec<Duration>) {
    let ssh_addr = srv.ssh.as_ref().unwrap().addr;
    let link = Link::start(ssh_addr, spec).await.unwrap();
    let started = Instant::now();
    let compress = std::env::var("SSH_COMPRESS").map_or(true, |v| v != "0");
    let mut clerk = SshClerk::connect(link.addr, "counter", DEMO_PASSWORD, compress)
        .await
        .unwrap();
    let connected = started.elapsed();
    let mut login = measure(&mut clerk, &link, "登录 login", &[Expect("主菜单")]).await;
    // The handshake and the password are waiting too; the bytes are the
    // link's since it opened.
    login.waited += connected;
    login.up = link.bytes_up();
    login.down = link.bytes_down();
    let mut steps = vec![login];
    for (name, acts) in SCRIPT {
        steps.push(measure(&mut clerk, &link, name, acts).await);
    }
    let (up, down) = (link.bytes_up(), link.bytes_down());
    let (keys, waited) = clerk.tally();
    clerk.key(KeyCode::Esc).await;
    clerk.key(KeyCode::Char('q')).await;
    clerk.expect_closed().await;
    tokio::time::sleep(spec.one_way_delay).await;
    steps.push(Step {
        name: "退出 logout",
        round_trips: clerk.keys - keys,
        up: link.bytes_up() - up,
        down: link.bytes_down() - down,
        waited: clerk.waited - waited,
    });
    (steps, clerk.echoes.clone())
}

/// (c) For comparison, the native workstation run on the server's host
/// under a stock OpenSSH server (what staff had before the endpoint), when
/// `TOWNSHIP_OPENSSH=ADDR,KEY,URL_FILE` names an sshd whose forced command
/// runs `credit-desk --server $(cat URL_FILE)` (README: Benchmarks).
async fn over_openssh(srv: &TestServer, spec: LinkSpec, setup: &str) -> Vec<Step> {
    let mut parts = setup.split(',');
    let (addr, key, url_file) = (
        parts.next().unwrap().parse().unwrap(),
        std::path::PathBuf::from(parts.next().unwrap()),
        parts.next().unwrap(),
    );
    std::fs::write(url_file, srv.running.url()).unwrap();
    let link = Link::start(addr, spec).await.unwrap();
    let started = Instant::now();
    let mut clerk = SshClerk::connect_as(link.addr, "root", Login::Key(&key), true)
        .await
        .unwrap();
    let connected = started.elapsed();
    clerk.expect("操作员登录").await;
    let screen_came = clerk.waited;
    let mut login = measure(&mut clerk, &link, "登录 login", LOG_IN).await;
    // The handshake and the login screen are waiting too.
    login.waited += connected + screen_came;
    login.up = link.bytes_up();
    login.down = link.bytes_down();
    let mut steps = vec![login];
    for (name, acts) in SCRIPT {
        steps.push(measure(&mut clerk, &link, name, acts).await);
    }
    steps.push(measure(&mut clerk, &link, "退出 logout", LOG_OUT).await);
    steps
}

fn total(steps: &[Step]) -> Step {
    Step {
        name: "total",
        round_trips: steps.iter().map(|s| s.round_trips).sum(),
        up: steps.iter().map(|s| s.up).sum(),
        down: steps.iter().map(|s| s.down).sum(),
        waited: steps.iter().map(|s| s.waited).sum(),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn print(title: &str, spec: &LinkSpec, native: &[Step], ssh: &[Step]) {
    let ms = |d: Duration| d.as_millis();
    println!("\n{title}");
    println!(
        "{:<20}│{:>5}{:>8}{:>8}{:>8}{:>8} │{:>5}{:>8}{:>8}{:>8}",
        "step", "RT", "up B", "down B", "wait ms", "floor", "keys", "up B", "down B", "wait ms"
    );
    let row = |a: &Step, b: &Step| {
        println!(
            "{:<20}│{:>5}{:>8}{:>8}{:>8}{:>8} │{:>5}{:>8}{:>8}{:>8}",
            a.name,
            a.round_trips,
            a.up,
            a.down,
            ms(a.waited),
            ms(a.floor(spec)),
            b.round_trips,
            b.up,
            b.down,
            ms(b.waited)
        );
    };
    for (a, b) in native.iter().zip(ssh) {
        row(a, b);
    }
    let (a, b) = (total(native), total(ssh));
    row(&a, &b);
    let bytes = |s: &Step| (s.up + s.down) as f64;
    println!(
        "(a) wait ÷ floor {:.2}; (a) bytes ÷ (b) bytes {:.3}; (b) {:.1} KB in all",
        a.waited.as_secs_f64() / a.floor(spec).as_secs_f64().max(f64::EPSILON),
        bytes(&a) / bytes(&b).max(1.0),
        bytes(&b) / 1000.0
    );
}

fn print_echoes(native: &mut [Duration], ssh: &mut [Duration]) {
    native.sort();
    ssh.sort();
    let f = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
    println!(
        "keystroke to screen: (a) p50 {} p95 {} (local) · (b) p50 {} p95 {}",
        f(percentile(native, 0.5)),
        f(percentile(native, 0.95)),
        f(percentile(ssh, 0.5)),
        f(percentile(ssh, 0.95))
    );
}

#[tokio::main]
async fn main() {
    for (title, spec) in [
        ("64 kbit/s, 500 ms round trip", LinkSpec::TOWNSHIP_64K),
        ("512 kbit/s, 100 ms round trip", LinkSpec::TOWNSHIP_512K),
    ] {
        // A fresh database for each way: the same clerk's day, not a second.
        // The workstation's first run (no lists kept yet), then a day like
        // any other, with yesterday's lists in its cache file.
        let srv = TestServer::start(Backend::Sqlite).await.unwrap();
        credit_desk_tests::load_records(&srv).await;
        let (first_run, _) = native(&srv, spec, false).await;
        srv.finish().await;
        let srv = TestServer::start(Backend::Sqlite).await.unwrap();
        credit_desk_tests::load_records(&srv).await;
        let (native_steps, mut native_echoes) = native(&srv, spec, true).await;
        srv.finish().await;

        let srv = TestServer::start_with_ssh(Backend::Sqlite).await.unwrap();
        credit_desk_tests::load_records(&srv).await;
        let (ssh_steps, mut ssh_echoes) = over_ssh(&srv, spec).await;
        srv.finish().await;

        print(title, &spec, &native_steps, &ssh_steps);
        print_echoes(&mut native_echoes, &mut ssh_echoes);
        let (cold, ssh) = (total(&first_run), total(&ssh_steps));
        println!(
            "(a) on the workstation's first run (no lists kept): {} round trips, up {} B, down {} B, waits {} ms (floor {} ms); (a) bytes ÷ (b) bytes {:.3}",
            cold.round_trips,
            cold.up,
            cold.down,
            cold.waited.as_millis(),
            cold.floor(&spec).as_millis(),
            (cold.up + cold.down) as f64 / (ssh.up + ssh.down).max(1) as f64
        );

        if let Ok(setup) = std::env::var("TOWNSHIP_OPENSSH") {
            let srv = TestServer::start(Backend::Sqlite).await.unwrap();
            credit_desk_tests::load_records(&srv).await;
            let steps = over_openssh(&srv, spec, &setup).await;
            srv.finish().await;
            let t = total(&steps);
            println!(
                "(c) the native workstation under stock OpenSSH (zlib): {} keys, up {} B, down {} B ({:.1} KB in all; the login step {} B up, {} B down), waits {} ms",
                t.round_trips,
                t.up,
                t.down,
                (t.up + t.down) as f64 / 1000.0,
                steps[0].up,
                steps[0].down,
                t.waited.as_millis()
            );
        }
    }
}
