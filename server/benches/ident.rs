//! Identifier-check throughput: `id check` over 1 M numbers (90 % valid
//! identity numbers, 5 % credit codes, 5 % with one character changed).
//! `cargo bench -p credit-desk-server --bench ident`
#![allow(clippy::unwrap_used)] // test and bench support: a failure is the report

use std::time::Instant;

use chrono::NaiveDate;
use credit_desk_proto::Lang;
use credit_desk_server::{id_check, synth};

fn main() {
    let n: u64 = std::env::args()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(1_000_000);
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let mut input = String::with_capacity(n as usize * 20);
    for i in 0..n {
        let mut number = if i % 20 == 0 {
            synth::org_code(i)
        } else {
            synth::person_number(i)
        };
        if i % 20 == 1 {
            // One character changed: the check must catch it.
            let c = if number.as_bytes()[9] == b'1' {
                "2"
            } else {
                "1"
            };
            number.replace_range(9..10, c);
        }
        input.push_str(&number);
        input.push('\n');
    }

    let started = Instant::now();
    let (valid, invalid) =
        id_check::run(input.as_bytes(), std::io::sink(), today, Lang::Zh).unwrap();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "id check: {n} numbers in {secs:.2} s = {:.0} numbers/s (valid {valid}, invalid {invalid}, JSON out)",
        n as f64 / secs
    );

    let started = Instant::now();
    let ok = input
        .lines()
        .filter(|l| credit_desk_proto::ident::check_any(l, today).is_ok())
        .count();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "validation only: {:.0} numbers/s ({ok} valid)",
        n as f64 / secs
    );
}
