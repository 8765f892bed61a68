//! The fuzz regression corpus (`tests/fuzz-corpus/`): inputs that once broke
//! something, or came close, replayed on every test run. Parser inputs
//! must not panic; request bodies, sent as they are to their method under
//! each role (and without a session), must never be answered INTERNAL,
//! UNKNOWN or with a broken connection. A new finding of the fuzz driver
//! (`target/fuzz-findings/`) is added by copying it into the same folder.

use std::path::{Path, PathBuf};

use credit_desk_proto::Lang;
use credit_desk_tests::fuzz::{self, Schema};
use credit_desk_tests::{Backend, TestServer};

fn corpus(kind: &str) -> Vec<(String, PathBuf)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz-corpus")
        .join(kind);
    let mut out = Vec::new();
    for folder in std::fs::read_dir(&dir).unwrap() {
        let folder = folder.unwrap().path();
        let name = folder.file_name().unwrap().to_string_lossy().into_owned();
        for file in std::fs::read_dir(&folder).unwrap() {
            out.push((name.clone(), file.unwrap().path()));
        }
    }
    out.sort();
    assert!(!out.is_empty(), "no corpus under {}", dir.display());
    out
}

#[test]
fn parser_corpus_replays_without_a_panic() {
    let mut seen = std::collections::BTreeSet::new();
    for (parser, file) in corpus("parsers") {
        assert!(
            fuzz::PARSERS.contains(&parser.as_str()),
            "unknown parser folder {parser}"
        );
        let input = std::fs::read(&file).unwrap();
        if let Err(why) = fuzz::parse_one(&parser, &input) {
            panic!("{}: {why}", file.display());
        }
        seen.insert(parser);
    }
    assert_eq!(seen.len(), fuzz::PARSERS.len(), "every parser has a corpus");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_corpus_replays_without_a_server_fault() {
    let srv = TestServer::start(Backend::Sqlite).await.unwrap();
    let schema = Schema::load();
    let mut tokens = vec![None];
    for user in ["counter", "center", "admin"] {
        tokens.push(Some(srv.session(user).await.token));
    }
    for (folder, file) in corpus("rpc") {
        let path = format!(
            "/{}",
            folder
                .rsplit_once('.')
                .map_or(folder.clone(), |(s, m)| format!("{s}/{m}"))
        );
        let method = schema
            .methods
            .iter()
            .find(|m| m.path == path)
            .unwrap_or_else(|| panic!("{}: no method {path}", file.display()));
        let body = std::fs::read(&file).unwrap();
        for token in &tokens {
            for lang in [Lang::Zh, Lang::En] {
                let result =
                    fuzz::call(&srv.channel, method, body.clone(), token.as_deref(), lang).await;
                if let Err(s) = &result {
                    assert!(!fuzz::is_fault(s), "{}: {s:?}", file.display());
                    assert!(
                        !s.message().is_empty(),
                        "{}: an answer says why",
                        file.display()
                    );
                }
            }
        }
    }
    srv.finish().await;
}
