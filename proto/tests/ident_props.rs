//! Property tests: every generated valid identifier validates, and every
//! single-character change to one is rejected.
#![allow(clippy::unwrap_used)] // test and bench support: a failure is the report

use chrono::NaiveDate;
use credit_desk_proto::ident::{
    self, PROVINCES, REGISTRATIONS, USCC_ALPHABET, make_person_number, make_uscc,
};
use proptest::prelude::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn person_number() -> impl Strategy<Value = String> {
    (
        0..PROVINCES.len(),
        0u32..10_000,
        1900i32..=2026,
        1u32..=366,
        0u16..1000,
    )
        .prop_map(|(p, rest, year, day, seq)| {
            let region = format!("{}{:04}", PROVINCES[p].0, rest);
            let birth = NaiveDate::from_yo_opt(year, day.min(365))
                .unwrap()
                .min(today());
            make_person_number(&region, birth, seq)
        })
}

fn uscc() -> impl Strategy<Value = String> {
    let body_char = prop::sample::select(USCC_ALPHABET.chars().collect::<Vec<_>>());
    (
        0..REGISTRATIONS.len(),
        0..PROVINCES.len(),
        0u32..10_000,
        prop::collection::vec(body_char, 8),
    )
        .prop_map(|(r, p, rest, body)| {
            let region = format!("{}{:04}", PROVINCES[p].0, rest);
            make_uscc(
                REGISTRATIONS[r].0,
                &region,
                &body.into_iter().collect::<String>(),
            )
        })
}

/// Characters a clerk could plausibly mistype into either kind of number.
fn any_char() -> impl Strategy<Value = char> {
    prop::sample::select(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
            .chars()
            .collect::<Vec<_>>(),
    )
}

fn replace(s: &str, i: usize, c: char) -> String {
    s.chars()
        .enumerate()
        .map(|(j, x)| if j == i { c } else { x })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn valid_person_numbers_validate(n in person_number()) {
        prop_assert!(ident::person(&n, today()).is_ok(), "{}", n);
    }

    #[test]
    fn any_single_change_to_a_person_number_is_rejected(n in person_number(), i in 0usize..18, c in any_char()) {
        let changed = replace(&n, i, c);
        prop_assume!(changed != n);
        prop_assert!(ident::person(&changed, today()).is_err(), "{} → {}", n, changed);
    }

    #[test]
    fn valid_credit_codes_validate(code in uscc()) {
        prop_assert!(ident::organisation(&code).is_ok(), "{}", code);
    }

    #[test]
    fn any_single_change_to_a_credit_code_is_rejected(code in uscc(), i in 0usize..18, c in any_char()) {
        let changed = replace(&code, i, c);
        prop_assume!(changed != code);
        prop_assert!(ident::organisation(&changed).is_err(), "{} → {}", code, changed);
    }
}
