//! The reference lists (purposes, grantees, categories) kept between runs
//! of the workstation, one file per server, so that a township terminal's
//! first consent of the day costs a revalidation of a few bytes instead of
//! the lists (about 1.4 KB on a 64 kbit/s link). Nothing personal is kept:
//! the lists are the same for every operator, and the server's version
//! decides whether they are still good.

use std::path::{Path, PathBuf};

use credit_desk_proto::pb;
use prost::Message;

/// A cache file larger than this is not ours: it is ignored.
const MAX_BYTES: u64 = 1 << 20;

/// Where the lists for `server` are kept: `CREDIT_DESK_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/credit-desk`, else `~/.cache/credit-desk`.
pub fn path_for(server: &str) -> Option<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    let dir = env("CREDIT_DESK_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| env("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("credit-desk")))
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".cache/credit-desk")))?;
    Some(dir.join(file_name(server)))
}

/// `http://10.0.0.5:50051` → `reference-http___10.0.0.5_50051.pb`.
fn file_name(server: &str) -> String {
    let safe: String = server
        .chars()
        .take(120)
        .map(
            |c| match c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                true => c,
                false => '_',
            },
        )
        .collect();
    format!("reference-{safe}.pb")
}

/// The lists kept for a server, if there are any that read back whole.
pub fn load(path: &Path) -> Option<pb::ListPurposesResponse> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_BYTES + 1).read_to_end(&mut bytes).ok()?;
    if bytes.len() as u64 > MAX_BYTES {
        return None;
    }
    let lists = pb::ListPurposesResponse::decode(bytes.as_slice()).ok()?;
    (!lists.version.is_empty() && !lists.unchanged).then_some(lists)
}

/// Keeps the lists for the next run (written aside, then renamed, so a
/// crash never leaves half a file).
pub fn save(path: &Path, lists: &pb::ListPurposesResponse) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let aside = path.with_extension("pb.new");
    std::fs::write(&aside, lists.encode_to_vec())?;
    std::fs::rename(&aside, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_plain_and_bounded() {
        assert_eq!(
            file_name("http://10.0.0.5:50051"),
            "reference-http___10.0.0.5_50051.pb"
        );
        assert_eq!(
            file_name("https://../../etc/passwd"),
            "reference-https___.._.._etc_passwd.pb"
        );
        assert!(file_name(&"x".repeat(1000)).len() < 140);
    }

    #[test]
    fn what_is_saved_loads_and_anything_else_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(file_name("http://h:1"));
        let lists = pb::ListPurposesResponse {
            purposes: vec![pb::Purpose {
                code: "loan_approval".into(),
                ..Default::default()
            }],
            version: "v1".into(),
            ..Default::default()
        };
        assert_eq!(load(&path), None, "nothing kept yet");
        save(&path, &lists).unwrap();
        assert_eq!(load(&path), Some(lists));
        std::fs::write(&path, b"\xff\xff\xff not protobuf").unwrap();
        assert_eq!(load(&path), None, "a damaged file is ignored");
        let unversioned = pb::ListPurposesResponse::default();
        save(&path, &unversioned).unwrap();
        assert_eq!(
            load(&path),
            None,
            "lists without a version cannot be checked"
        );
        std::fs::write(&path, vec![0u8; MAX_BYTES as usize + 1]).unwrap();
        assert_eq!(load(&path), None, "an oversized file is ignored");
    }
}
