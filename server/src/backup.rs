//! Backing up a SQLite database while servers keep serving, and putting a
//! backup back. `VACUUM INTO` writes one consistent snapshot (a read
//! transaction: writers go on), compacted; the copy is checked before it
//! is called a backup. A PostgreSQL center uses pg_dump and point-in-time
//! recovery (README). The key file is not in the backup, on purpose: it is
//! kept apart, and a backup is useless without it.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Row};

use crate::db::{Backend, Db};

/// What a finished backup holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub bytes: u64,
    /// The audit trail's last entry in the copy: later entries were written
    /// after the snapshot.
    pub audit_seq: i64,
}

/// Writes a snapshot of `db` to `to` (which must not exist) and checks it.
pub async fn backup(db: &Db, to: &Path) -> anyhow::Result<Summary> {
    ensure!(
        db.backend() == Backend::Sqlite,
        "backup copies a SQLite database; for PostgreSQL use pg_dump (see README, Operating it)"
    );
    ensure!(
        !to.exists(),
        "{} exists: a backup never overwrites a file",
        to.display()
    );
    let target = to
        .to_str()
        .with_context(|| format!("{}: not a UTF-8 path", to.display()))?;
    {
        let mut conn = db.read().await?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&mut *conn)
            .await
            .with_context(|| format!("writing {}", to.display()))?;
    }
    let audit_seq = check(to).await.inspect_err(|_| {
        let _ = std::fs::remove_file(to);
    })?;
    let bytes = std::fs::metadata(to)?.len();
    Ok(Summary { bytes, audit_seq })
}

/// Checks a SQLite file read-only: SQLite's integrity check and the audit
/// trail's head. Returns that head's sequence number.
pub async fn check(file: &Path) -> anyhow::Result<i64> {
    // The file by its path as it is (no URL: a '%' or '?' in a name stays).
    let options = SqliteConnectOptions::new().filename(file).read_only(true);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .with_context(|| format!("opening {}", file.display()))?;
    let verdict: String = sqlx::query("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await?
        .try_get(0)?;
    ensure!(
        verdict == "ok",
        "{}: integrity check says {verdict}",
        file.display()
    );
    let seq: i64 = sqlx::query_scalar("SELECT seq FROM audit_head WHERE id = 1")
        .fetch_one(&mut conn)
        .await
        .with_context(|| format!("{}: not a credit-desk database", file.display()))?;
    conn.close().await?;
    Ok(seq)
}

/// Puts the backup `from` in place of the SQLite database at `db_url`:
/// checked first, copied beside the target and renamed over it, so the
/// target is either the old file or the whole backup. The servers must be
/// stopped (a write-ahead log beside the target says one is not); an
/// existing database is replaced only when asked.
pub async fn restore(from: &Path, db_url: &str, replace: bool) -> anyhow::Result<i64> {
    let (url, backend) = crate::db::normalise_url(db_url)?;
    ensure!(
        backend == Backend::Sqlite,
        "restore puts back a SQLite file; for PostgreSQL use pg_restore (see README)"
    );
    let target = sqlite_path(&url);
    ensure!(
        !target.to_string_lossy().contains('%'),
        "--db: give the database's path without %-escapes"
    );
    // A backup with a write-ahead log beside it is a live or crashed
    // database, not a backup: what the check reads would not be copied.
    ensure!(
        !with_suffix(from, "-wal").exists(),
        "{} has a write-ahead log beside it: not a finished backup",
        from.display()
    );
    check(from).await?;
    let wal = with_suffix(&target, "-wal");
    if wal.exists() {
        bail!(
            "{} is in use (its write-ahead log {} exists): stop the servers first",
            target.display(),
            wal.display()
        );
    }
    if target.exists() && !replace {
        bail!(
            "{} exists: add --replace to put the backup in its place",
            target.display()
        );
    }
    let partial = with_suffix(&target, ".restoring");
    std::fs::copy(from, &partial).with_context(|| format!("copying to {}", partial.display()))?;
    std::fs::File::open(&partial)?.sync_all()?;
    // What is put in place is what was checked.
    let seq = match check(&partial).await {
        Ok(seq) => seq,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, &target)?;
    // A shared-memory index of the old file would describe another file.
    let _ = std::fs::remove_file(with_suffix(&target, "-shm"));
    Ok(seq)
}

/// The file of a normalised `sqlite://PATH?…` URL.
fn sqlite_path(url: &str) -> PathBuf {
    let path = url.strip_prefix("sqlite://").unwrap_or(url);
    PathBuf::from(path.split('?').next().unwrap_or(path))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_come_from_the_url() {
        assert_eq!(
            sqlite_path("sqlite://./a.db?mode=rwc"),
            PathBuf::from("./a.db")
        );
        assert_eq!(
            with_suffix(Path::new("/x/a.db"), "-wal"),
            PathBuf::from("/x/a.db-wal")
        );
    }
}
