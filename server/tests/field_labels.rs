//! Every field a server message can name has a name staff know, in both
//! languages (a wire name such as `record_ids` reached the screen). The
//! server's sources are read for the names its errors use.
#![allow(clippy::unwrap_used)] // a test: a failure is the report

use std::path::Path;

use credit_desk_proto::Lang;
use credit_desk_proto::validate::field_label;

fn sources(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(std::fs::read_to_string(&path).unwrap());
        }
    }
}

/// String literals right after `marker` (`FieldError::new("x"` → `x`).
fn names_after(text: &str, marker: &str) -> Vec<String> {
    text.match_indices(marker)
        .filter_map(|(at, _)| {
            let rest = text[at + marker.len()..].trim_start();
            let rest = rest.strip_prefix('"')?;
            Some(rest[..rest.find('"')?].to_string())
        })
        .collect()
}

#[test]
fn every_field_a_message_names_has_a_label_in_both_languages() {
    let mut texts = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut texts,
    );
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../proto/src"),
        &mut texts,
    );
    let mut names: Vec<String> = texts
        .iter()
        .flat_map(|t| {
            ["FieldError::new(", "field: \"", "pub const "]
                .iter()
                .flat_map(|m| match *m {
                    // The constants of a `field` module: `pub const X: &str = "x";`
                    "pub const " => t
                        .split("pub mod field {")
                        .skip(1)
                        .flat_map(|block| block.split("\n}").next().unwrap_or("").lines())
                        .filter(|l| l.contains(": &str = \""))
                        .filter_map(|l| l.split('"').nth(1).map(str::to_string))
                        .collect::<Vec<_>>(),
                    "field: \"" => names_after(t, "field: "),
                    m => names_after(t, m),
                })
                .collect::<Vec<_>>()
        })
        .filter(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_') && !n.is_empty())
        .collect();
    names.sort();
    names.dedup();
    assert!(names.len() > 40, "found only {names:?}");
    let unlabelled: Vec<&String> = names
        .iter()
        .filter(|n| {
            field_label(n, Lang::Zh) == n.as_str() || field_label(n, Lang::En).contains('_')
        })
        .collect();
    assert!(unlabelled.is_empty(), "no label for {unlabelled:?}");
}
