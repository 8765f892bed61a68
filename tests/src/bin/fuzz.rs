//! Fuzz driver (stable Rust, seeded and repeatable): mutates seed inputs
//! through the pure parsers, then sends generated and mutated messages to
//! every RPC of a real server (SQLite, demo data) under every role.
//! Fails — exit status 1 — on any panic, any INTERNAL/UNKNOWN answer or a
//! broken connection; each failing input is written under
//! `target/fuzz-findings/<parser or method>/` in the layout of the
//! regression corpus (`tests/fuzz-corpus/`), which the tests replay.
//!
//! cargo run --release -p credit-desk-tests --bin fuzz -- \
//!     [--parser-inputs 10000000] [--file-inputs 20000] [--rpcs 100000] [--seed 1]
#![allow(clippy::unwrap_used)] // a driver: a failure is the report

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use credit_desk_proto::Lang;
use credit_desk_proto::calendar::OFFICIAL;
use credit_desk_server::demo::{COURT_EXAMPLE, DEMO_PEOPLE, TAX_EXAMPLE};
use credit_desk_server::intake::table::crafted::{sheet, workbook};
use credit_desk_tests::fuzz::{self, Dictionary, Schema};
use credit_desk_tests::{Backend, TestServer};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

struct Args {
    parser_inputs: u64,
    file_inputs: u64,
    rpcs: u64,
    seed: u64,
}

fn args() -> Args {
    let mut a = Args {
        parser_inputs: 10_000_000,
        file_inputs: 20_000,
        rpcs: 100_000,
        seed: 1,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let value = pair.get(1).and_then(|v| v.parse().ok());
        let slot = match pair[0].as_str() {
            "--parser-inputs" => &mut a.parser_inputs,
            "--file-inputs" => &mut a.file_inputs,
            "--rpcs" => &mut a.rpcs,
            "--seed" => &mut a.seed,
            other => panic!("unknown argument {other}"),
        };
        *slot = value.unwrap_or_else(|| panic!("{} needs a number", pair[0]));
    }
    a
}

fn findings_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/fuzz-findings")
}

fn keep(folder: &str, input: &[u8]) -> PathBuf {
    let dir = findings_dir().join(folder);
    std::fs::create_dir_all(&dir).unwrap();
    let name = format!("{:016x}", fxhash(input));
    let path = dir.join(name);
    std::fs::write(&path, input).unwrap();
    path
}

fn fxhash(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x100_0000_01b3)
    })
}

/// A court sheet with its headers and two rows, as XML.
const SHEET: &str = r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:G3"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>当事人证件号码</t></is></c><c r="B1" t="inlineStr"><is><t>当事人名称</t></is></c><c r="C1" t="inlineStr"><is><t>案号</t></is></c><c r="D1" t="inlineStr"><is><t>类别</t></is></c><c r="E1" t="inlineStr"><is><t>立案日期</t></is></c><c r="F1" t="inlineStr"><is><t>结案日期</t></is></c><c r="G1" t="inlineStr"><is><t>执行状态</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>441284196508120010</t></is></c><c r="B2" t="inlineStr"><is><t>李建国</t></is></c><c r="C2" t="inlineStr"><is><t>(2024)粤1284民初1001号</t></is></c><c r="D2" t="inlineStr"><is><t>判决执行</t></is></c><c r="E2"><v>45292</v></c><c r="F2" t="inlineStr"><is><t>2024-06-30</t></is></c><c r="G2" t="inlineStr"><is><t>未履行</t></is></c></row><row r="3"><c r="A3" t="inlineStr"><is><t>9144030071526726XG</t></is></c><c r="B3" t="inlineStr"><is><t>深圳市腾讯计算机系统有限公司</t></is></c><c r="C3" t="inlineStr"><is><t>(2025)粤1284执302号</t></is></c><c r="D3" t="inlineStr"><is><t>失信被执行人</t></is></c><c r="E3"><v>45658.5</v></c></row></sheetData></worksheet>"#;

/// Seeds each parser mutates.
fn seeds() -> BTreeMap<&'static str, Vec<Vec<u8>>> {
    let mut s: BTreeMap<&str, Vec<Vec<u8>>> = BTreeMap::new();
    s.insert(
        "ident",
        DEMO_PEOPLE
            .iter()
            .map(|p| p.0.as_bytes().to_vec())
            .chain([
                b"91440300MA5EXAMPL8".to_vec(),
                b"9144030071526726XG".to_vec(),
                b"11010519491231002X".to_vec(),
            ])
            .collect(),
    );
    s.insert(
        "calendar",
        OFFICIAL
            .iter()
            .map(|(_, t)| t.as_bytes().to_vec())
            .collect(),
    );
    s.insert(
        "validate",
        vec![
            b"counter".to_vec(),
            b"13800138000".to_vec(),
            b"loan_approval".to_vec(),
            b"019a0000-0000-7000-8000-000000000000".to_vec(),
            "四会市大沙镇马鞍村 12 号".as_bytes().to_vec(),
        ],
    );
    s.insert("intake_csv", vec![TAX_EXAMPLE.to_vec()]);
    let header = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>当事人证件号码</t></is></c></row>"#;
    s.insert(
        "intake_xlsx",
        vec![
            COURT_EXAMPLE.to_vec(),
            workbook(&sheet(
                "A1:B2",
                &format!(r#"{header}<row r="2"><c r="B2"><v>1</v></c></row>"#),
            )),
        ],
    );
    s
}

fn fuzz_parsers(rng: &mut StdRng, inputs: u64, file_inputs: u64) -> u64 {
    let seeds = seeds();
    let mut failures = 0;
    for parser in fuzz::PARSERS {
        let n = if parser.starts_with("intake") {
            file_inputs
        } else {
            inputs / 3
        };
        let pool = &seeds[parser];
        let started = Instant::now();
        for _ in 0..n {
            let seed = &pool[rng.random_range(0..pool.len())];
            let other = &pool[rng.random_range(0..pool.len())];
            let input = if *parser == "intake_xlsx" && rng.random_bool(0.7) {
                // Most mutations of a zip only break its checksums: mutate
                // the sheet's XML and pack it again.
                let xml = fuzz::mutate(
                    rng,
                    SHEET.as_bytes(),
                    b"<c r=\"XFD1\"><v>1</v></c><row r=\"0\">",
                );
                workbook(&String::from_utf8_lossy(&xml))
            } else {
                fuzz::mutate(rng, seed, other)
            };
            if let Err(why) = fuzz::parse_one(parser, &input) {
                failures += 1;
                let path = keep(&format!("parsers/{parser}"), &input);
                println!("  PANIC in {parser}: {why} ({})", path.display());
            }
        }
        println!(
            "{parser}: {n} inputs in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    failures
}

/// Real ids, codes and numbers from the database, so generated requests
/// get past "unknown id".
async fn dictionary(srv: &TestServer) -> Dictionary {
    let mut real = Vec::new();
    for sql in [
        "SELECT id FROM subjects",
        "SELECT identifier FROM subjects",
        "SELECT id FROM org_units",
        "SELECT code FROM org_units",
        "SELECT id FROM verifications",
        "SELECT id FROM records",
        "SELECT source_key FROM records",
        "SELECT code FROM purposes",
        "SELECT code FROM record_categories",
        "SELECT id FROM consents",
        "SELECT id FROM tickets",
    ] {
        let rows: Vec<String> = sqlx::query_scalar(sql)
            .fetch_all(srv.db.pool())
            .await
            .unwrap_or_default();
        real.extend(rows);
    }
    // Identity numbers are stored sealed: the dictionary holds them opened.
    if let Ok(vault) = credit_desk_server::vault::installed() {
        for word in &mut real {
            if let Ok(plain) = vault.open(word)
                && word.starts_with("sm4:")
            {
                *word = plain;
            }
        }
    }
    Dictionary {
        real,
        files: vec![COURT_EXAMPLE.to_vec(), TAX_EXAMPLE.to_vec()],
    }
}

async fn fuzz_rpcs(seed: u64, rpcs: u64) -> u64 {
    let srv = TestServer::start(Backend::Sqlite).await.unwrap();
    credit_desk_tests::load_records(&srv).await;
    let mut tokens = Vec::new();
    for user in [
        "counter",
        "center",
        "admin",
        "supervisor",
        "bank",
        "liaison",
    ] {
        let s = srv.session(user).await;
        // Verifications and consents to aim at.
        if user == "counter" {
            for i in 0..DEMO_PEOPLE.len() {
                credit_desk_tests::verify(&srv, &s.token, i).await;
            }
        }
        tokens.push(s.token);
    }
    let dict = Arc::new(dictionary(&srv).await);
    let schema = Arc::new(Schema::load());
    let tokens = Arc::new(tokens);
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers = 8;
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (dict, schema, tokens, done) =
            (dict.clone(), schema.clone(), tokens.clone(), done.clone());
        let channel = srv.channel.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed ^ ((w as u64 + 1) * 0x9e37_79b9));
            let mut codes: BTreeMap<(String, String), u64> = BTreeMap::new();
            let mut faults = Vec::new();
            while done.fetch_add(1, Ordering::Relaxed) < rpcs {
                let method = &schema.methods[rng.random_range(0..schema.methods.len())];
                let mut body = schema.message(&mut rng, &method.input, &dict, 0);
                if rng.random_bool(0.2) {
                    body = fuzz::mutate(&mut rng, &body, b"");
                }
                // Ending or changing the fuzzer's own sessions would end the run.
                let own_session =
                    !method.path.ends_with("/Logout") && !method.path.ends_with("/ChangePassword");
                let token = match rng.random_range(0..10) {
                    0 => None,
                    1 => Some("not-a-token".to_string()),
                    _ if own_session => Some(tokens[rng.random_range(0..tokens.len())].clone()),
                    _ => Some(format!("{:032x}", rng.random::<u128>())),
                };
                let lang = if rng.random_bool(0.5) {
                    Lang::Zh
                } else {
                    Lang::En
                };
                let result =
                    fuzz::call(&channel, method, body.clone(), token.as_deref(), lang).await;
                let code = match &result {
                    Ok(()) => "OK".to_string(),
                    Err(s) => format!("{:?}", s.code()),
                };
                let short = method
                    .path
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                *codes.entry((short, code)).or_insert(0) += 1;
                if let Err(s) = result
                    && fuzz::is_fault(&s)
                {
                    let folder = method.path.trim_start_matches('/').replace('/', ".");
                    let path = keep(&format!("rpc/{folder}"), &body);
                    faults.push(format!(
                        "{}: {:?} {} ({})",
                        method.path,
                        s.code(),
                        s.message(),
                        path.display()
                    ));
                }
            }
            (codes, faults)
        }));
    }
    let mut codes: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut faults = Vec::new();
    for t in tasks {
        let (c, f) = t.await.unwrap();
        for (k, n) in c {
            *codes.entry(k).or_insert(0) += n;
        }
        faults.extend(f);
    }
    let secs = started.elapsed().as_secs_f64();
    let mut by_method: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for ((m, c), n) in &codes {
        by_method
            .entry(m.clone())
            .or_default()
            .push(format!("{c} {n}"));
    }
    for (m, c) in by_method {
        println!("  {m}: {}", c.join(", "));
    }
    println!(
        "RPCs: {rpcs} to {} methods in {secs:.1} s ({:.0}/s)",
        schema.methods.len(),
        rpcs as f64 / secs
    );
    for f in faults.iter().take(20) {
        println!("  FAULT {f}");
    }
    // The server still answers (a login might meet the address limit the
    // fuzzed logins ran into, so a call on a session already held).
    let home = fuzz::call(
        &srv.channel,
        schema
            .methods
            .iter()
            .find(|m| m.path.ends_with("/Home"))
            .unwrap(),
        Vec::new(),
        Some(&tokens[0]),
        Lang::Zh,
    )
    .await;
    assert!(home.is_ok(), "the server stopped answering: {home:?}");
    srv.finish().await;
    faults.len() as u64
}

#[tokio::main]
async fn main() {
    let a = args();
    // Refusals are the expected answers; only errors are worth a line.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "error".into()))
        .try_init();
    // A panic anywhere — a server task included — is a crash.
    let panics = Arc::new(AtomicU64::new(0));
    let seen = panics.clone();
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        seen.fetch_add(1, Ordering::Relaxed);
        default(info);
    }));
    let mut rng = StdRng::seed_from_u64(a.seed);
    let parser_failures = fuzz_parsers(&mut rng, a.parser_inputs, a.file_inputs);
    let panics_in_parsers = panics.load(Ordering::Relaxed);
    let faults = fuzz_rpcs(a.seed, a.rpcs).await;
    let server_panics = panics.load(Ordering::Relaxed) - panics_in_parsers;
    println!(
        "fuzz: {parser_failures} parser panics, {faults} RPC faults, {server_panics} server panics (seed {})",
        a.seed
    );
    if parser_failures + faults + server_panics > 0 {
        println!("findings in {}", findings_dir().display());
        std::process::exit(1);
    }
}
