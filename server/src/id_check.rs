//! `credit-desk-server id check`: validates identifiers in bulk before an
//! import, one JSON object per line out for every number in.

use std::io::{BufRead, Write};

use chrono::NaiveDate;
use credit_desk_proto::Lang;
use credit_desk_proto::ident::{self, Identifier};
use serde::Serialize;

#[derive(Debug, Serialize, PartialEq)]
pub struct Verdict<'a> {
    pub input: &'a str,
    pub valid: bool,
    pub kind: Option<&'static str>,
    pub reason: Option<String>,
    pub rule: Option<&'static str>,
    pub birth_date: Option<String>,
    pub sex: Option<&'static str>,
}

pub fn verdict(input: &str, today: NaiveDate, lang: Lang) -> Verdict<'_> {
    let mut v = Verdict {
        input,
        valid: false,
        kind: None,
        reason: None,
        rule: None,
        birth_date: None,
        sex: None,
    };
    match ident::check_any(input, today) {
        Ok(Identifier::Person(p)) => {
            v.valid = true;
            v.kind = Some("person");
            v.birth_date = Some(p.birth_date.to_string());
            v.sex = Some(p.sex.code());
        }
        Ok(Identifier::Organisation(_)) => {
            v.valid = true;
            v.kind = Some("organisation");
        }
        Err(e) => {
            v.reason = Some(e.message(lang));
            v.rule = Some(e.rule());
        }
    }
    v
}

/// Checks each non-empty line of `input`; returns (valid, invalid) counts.
pub fn run(
    input: impl BufRead,
    mut out: impl Write,
    today: NaiveDate,
    lang: Lang,
) -> std::io::Result<(u64, u64)> {
    let (mut good, mut bad) = (0, 0);
    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let v = verdict(&line, today, lang);
        if v.valid {
            good += 1
        } else {
            bad += 1
        }
        serde_json::to_writer(&mut out, &v)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok((good, bad))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[test]
    fn one_json_line_per_number() {
        let input = "11010519491231002x\n\n110105194912310021\n9144030071526726XG\n";
        let mut out = Vec::new();
        let counts = run(input.as_bytes(), &mut out, today(), Lang::En).unwrap();
        assert_eq!(counts, (2, 1));
        let lines: Vec<serde_json::Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0]["input"], "11010519491231002x");
        assert_eq!(lines[0]["valid"], true);
        assert_eq!(lines[0]["kind"], "person");
        assert_eq!(lines[0]["birth_date"], "1949-12-31");
        assert_eq!(lines[0]["sex"], "female");
        assert_eq!(lines[1]["valid"], false);
        assert_eq!(lines[1]["kind"], serde_json::Value::Null);
        assert_eq!(lines[1]["rule"], "check_character");
        assert_eq!(lines[1]["reason"], "the check character should be X, not 1");
        assert_eq!(lines[2]["kind"], "organisation");
        assert_eq!(lines[2]["sex"], serde_json::Value::Null);
    }
}
