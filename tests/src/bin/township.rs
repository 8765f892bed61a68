//! The counter's day over an emulated township link, measured: a scripted
//! clerk (no human) logs in, verifies a person, captures a consent, runs
//! the person's own report, reads it, files an objection, opens the queue
//! and logs out — through the real workstation app and client, the real
//! server, and the link emulator between them.
//!
//! For each step it prints the round trips (calls), bytes each way, the
//! clerk's waiting time, and the floor: round trips × round-trip time +
//! bytes ÷ bandwidth.
//!
//! `cargo run --release -p credit-desk-tests --bin township`
#![allow(clippy::unwrap_used)] // a bench driver: a failure is the report

use std::time::Duration;

use credit_desk_proto::Lang;
use credit_desk_tests::desk::Desk;
use credit_desk_tests::link::{Link, LinkSpec};
use credit_desk_tests::{Backend, TestServer};
use ratatui::crossterm::event::KeyCode;

/// What one step cost.
struct Step {
    name: &'static str,
    calls: u64,
    up: u64,
    down: u64,
    waited: Duration,
}

impl Step {
    fn floor(&self, spec: &LinkSpec) -> Duration {
        spec.round_trip() * self.calls as u32
            + spec.serialisation(self.up as usize)
            + spec.serialisation(self.down as usize)
    }
}

/// Runs `keys` as the clerk and returns what it cost.
struct Meter<'a> {
    desk: Desk,
    link: &'a Link,
    steps: Vec<Step>,
}

impl Meter<'_> {
    async fn step(&mut self, name: &'static str, keys: &[Key<'_>]) {
        let (calls, waited) = (self.desk.calls, self.desk.waited);
        let (up, down) = (self.link.bytes_up(), self.link.bytes_down());
        for key in keys {
            match key {
                Key::Code(code) => self.desk.key(*code).await,
                Key::Text(text) => self.desk.text(text).await,
            }
        }
        // What is still in flight (the last answer's tail) belongs here.
        tokio::time::sleep(self.link.spec.one_way_delay).await;
        self.steps.push(Step {
            name,
            calls: self.desk.calls - calls,
            up: self.link.bytes_up() - up,
            down: self.link.bytes_down() - down,
            waited: self.desk.waited - waited,
        });
    }
}

enum Key<'a> {
    Code(KeyCode),
    Text(&'a str),
}

use Key::{Code, Text};

async fn workflow(srv: &TestServer, spec: LinkSpec) -> (Vec<Step>, LinkSpec) {
    let link = Link::start(srv.running.addr, spec).await.unwrap();
    let mut m = Meter {
        desk: Desk::connect(&link.url(), Lang::Zh),
        link: &link,
        steps: Vec::new(),
    };
    let password = credit_desk_tests::DEMO_PASSWORD;
    // A clerk takes a few seconds to type a name and a password; the
    // workstation connects meanwhile.
    tokio::time::sleep(Duration::from_secs(3)).await;
    m.step(
        "登录 login",
        &[
            Text("counter"),
            Code(KeyCode::Tab),
            Text(password),
            Code(KeyCode::Enter),
        ],
    )
    .await;
    m.desk.expect("主菜单");
    m.step(
        "核验 verify",
        &[
            Code(KeyCode::Char('v')),
            Text("441284196508120010"),
            Code(KeyCode::Tab),
            Text("李建国"),
            Code(KeyCode::Enter),
        ],
    )
    .await;
    m.desk.expect("核验通过");
    m.step(
        "授权 consent",
        &[
            Code(KeyCode::Char('c')),
            Code(KeyCode::Right),
            Code(KeyCode::Tab),
            Code(KeyCode::Tab),
            Code(KeyCode::Tab),
            Text("SQ-2026-7001"),
            Code(KeyCode::F(10)),
        ],
    )
    .await;
    m.desk.expect("查询授权回执");
    m.step(
        "本人查询 own report",
        &[Code(KeyCode::Esc), Code(KeyCode::Char('q'))],
    )
    .await;
    m.desk.expect("报告编号");
    m.step(
        "阅读 read",
        &[
            Code(KeyCode::PageDown),
            Code(KeyCode::PageDown),
            Code(KeyCode::Home),
        ],
    )
    .await;
    m.step(
        "异议 objection",
        &[
            Code(KeyCode::Enter),
            Code(KeyCode::Char('o')),
            Code(KeyCode::Tab),
            Text("13800138000"),
            Code(KeyCode::Tab),
            Text("四会市大沙镇马鞍村"),
            Code(KeyCode::F(10)),
            Text("该案已执行完毕"),
            Code(KeyCode::F(10)),
        ],
    )
    .await;
    m.desk.expect("异议已受理");
    m.step(
        "队列 queue",
        &[
            Code(KeyCode::Esc),
            Code(KeyCode::Esc),
            Code(KeyCode::Esc),
            Code(KeyCode::Esc),
            Code(KeyCode::Char('t')),
        ],
    )
    .await;
    m.step(
        "退出 logout",
        &[Code(KeyCode::Esc), Code(KeyCode::Char('q'))],
    )
    .await;
    m.desk.expect("操作员登录");
    (m.steps, spec)
}

fn print(name: &str, steps: &[Step], spec: &LinkSpec) {
    println!("\n{name}");
    println!(
        "{:<22}{:>6}{:>9}{:>9}{:>10}{:>10}",
        "step", "calls", "up B", "down B", "wait ms", "floor ms"
    );
    let ms = |d: Duration| d.as_millis();
    for s in steps {
        println!(
            "{:<22}{:>6}{:>9}{:>9}{:>10}{:>10}",
            s.name,
            s.calls,
            s.up,
            s.down,
            ms(s.waited),
            ms(s.floor(spec))
        );
    }
    let total = Step {
        name: "total",
        calls: steps.iter().map(|s| s.calls).sum(),
        up: steps.iter().map(|s| s.up).sum(),
        down: steps.iter().map(|s| s.down).sum(),
        waited: steps.iter().map(|s| s.waited).sum(),
    };
    println!(
        "{:<22}{:>6}{:>9}{:>9}{:>10}{:>10}   wait ÷ floor {:.2}",
        total.name,
        total.calls,
        total.up,
        total.down,
        ms(total.waited),
        ms(total.floor(spec)),
        total.waited.as_secs_f64() / total.floor(spec).as_secs_f64().max(f64::EPSILON)
    );
}

#[tokio::main]
async fn main() {
    for (name, spec) in [
        ("64 kbit/s, 500 ms round trip", LinkSpec::TOWNSHIP_64K),
        ("512 kbit/s, 100 ms round trip", LinkSpec::TOWNSHIP_512K),
    ] {
        // A fresh database each time: the same clerk's day, not a second one.
        let srv = TestServer::start(Backend::Sqlite).await.unwrap();
        credit_desk_tests::load_records(&srv).await;
        let (steps, spec) = workflow(&srv, spec).await;
        print(name, &steps, &spec);
        srv.finish().await;
    }
}
