//! The two migration folders hold the same schema: the `Any` driver runs
//! the same SQL on both backends. They are kept apart so a statement can
//! differ where a backend needs it; such a line ends with the comment
//! `-- only: sqlite` or `-- only: postgres`. Every other line must be the
//! same, in the same order, in the same files — so nobody has to keep the
//! two in step by hand.

use std::path::Path;

const ONLY_SQLITE: &str = "-- only: sqlite";
const ONLY_POSTGRES: &str = "-- only: postgres";

/// The lines both backends share, with their line numbers.
fn shared_lines(text: &str, other_backend: &str, own: &str) -> Vec<(usize, String)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_end().ends_with(own))
        .inspect(|(n, l)| {
            assert!(
                !l.trim_end().ends_with(other_backend),
                "line {} is marked for the other backend: {l}",
                n + 1
            )
        })
        .map(|(n, l)| (n + 1, l.trim_end().to_string()))
        .collect()
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            e.expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".sql"))
        .collect();
    names.sort();
    names
}

#[test]
fn sqlite_and_postgres_migrations_differ_only_on_marked_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let (sqlite, postgres) = (root.join("sqlite"), root.join("postgres"));
    let names = files(&sqlite);
    assert!(names.len() >= 5, "{names:?}");
    assert_eq!(
        names,
        files(&postgres),
        "the same migrations on both backends"
    );
    for name in names {
        let read = |dir: &Path| std::fs::read_to_string(dir.join(&name)).expect("migration");
        let lite = shared_lines(&read(&sqlite), ONLY_POSTGRES, ONLY_SQLITE);
        let pg = shared_lines(&read(&postgres), ONLY_SQLITE, ONLY_POSTGRES);
        for (a, b) in lite.iter().zip(&pg) {
            assert_eq!(
                a.1, b.1,
                "{name}: sqlite line {} and postgres line {} differ (mark a backend's own line with `{ONLY_SQLITE}` / `{ONLY_POSTGRES}`)",
                a.0, b.0
            );
        }
        assert_eq!(
            lite.len(),
            pg.len(),
            "{name}: one folder has more shared lines"
        );
    }
}
