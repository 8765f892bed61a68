//! Sealed columns at the storage edge: identity numbers, phones and
//! addresses are sealed as they are written and opened as rows are read,
//! with the process's key set (`crate::vault`); identity numbers are looked
//! up by their blind index. Also the passes that seal rows written before
//! (at startup) and reseal everything under a new key (`keys rotate`).

use sqlx::AnyConnection;

use super::Db;
use crate::vault::{self, Vault};

pub fn seal(plain: &str) -> sqlx::Result<String> {
    Ok(vault::installed()?.seal(plain))
}

pub fn seal_opt(plain: Option<&str>) -> sqlx::Result<Option<String>> {
    plain.map(seal).transpose()
}

/// The blind index stored with a (normalised) identity number.
pub fn index(identifier: &str) -> sqlx::Result<String> {
    Ok(vault::installed()?.index(identifier))
}

/// Every index a lookup of the number tries (one per key).
pub fn indexes(identifier: &str) -> sqlx::Result<Vec<String>> {
    Ok(vault::installed()?.indexes(identifier))
}

pub fn open(value: &mut String) -> sqlx::Result<()> {
    *value = vault::installed()?.open(value)?;
    Ok(())
}

pub fn open_opt(value: &mut Option<String>) -> sqlx::Result<()> {
    match value {
        Some(v) => open(v),
        None => Ok(()),
    }
}

/// A row with sealed columns, opened after it is read.
pub trait Open: Sized {
    fn open(self) -> sqlx::Result<Self>;
}

pub fn open_all<T: Open>(rows: Vec<T>) -> sqlx::Result<Vec<T>> {
    rows.into_iter().map(Open::open).collect()
}

pub fn open_one<T: Open>(row: Option<T>) -> sqlx::Result<Option<T>> {
    row.map(Open::open).transpose()
}

/// Every sealed column: (table, key column, columns).
const SEALED: &[(&str, &str, &[&str])] = &[
    ("subjects", "id", &["identifier", "address", "phone"]),
    ("verifications", "id", &["agent_identifier"]),
    (
        "tickets",
        "id",
        &["agent_identifier", "contact_phone", "contact_address"],
    ),
    ("complaints", "id", &["contact"]),
    ("issued_reports", "report_no", &["body"]),
];

/// Rows per transaction of a sealing pass.
const BATCH: i64 = 1000;

/// What a sealing pass changed, per table and column.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Resealed {
    pub values: u64,
    pub indexes: u64,
}

/// Seals every value not yet sealed under the current key — values
/// written in the clear before sealing existed, or under an older key —
/// and gives every subject the blind index of the current key. With
/// `legacy_only`, only values in the clear (what a startup does; a
/// rotation does it all). Idempotent and safe beside running servers:
/// each update applies only if the value is still what was read.
pub async fn reseal(db: &Db, vault: &Vault, legacy_only: bool) -> anyhow::Result<Resealed> {
    let mut done = Resealed::default();
    let current = format!("sm4:{}:%", vault.current_id());
    for (table, key, columns) in SEALED {
        for column in *columns {
            // A value to do: not empty, and in the clear (or, rotating,
            // not under the current key). Keyset paging by the row key.
            let sql = format!(
                "SELECT {key}, {column} FROM {table}
                 WHERE {key} > $1 AND {column} <> '' AND {column} NOT LIKE $2
                 ORDER BY {key} LIMIT {BATCH}"
            );
            let pattern = if legacy_only { "sm4:%" } else { &current };
            let mut after = String::new();
            loop {
                let mut conn = db.read().await?;
                let rows: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(&after)
                    .bind(pattern)
                    .fetch_all(&mut *conn)
                    .await?;
                drop(conn);
                let Some((last, _)) = rows.last() else { break };
                after = last.clone();
                let mut tx = db.begin_bulk_write().await?;
                for (id, value) in &rows {
                    let plain = match value.starts_with("sm4:") {
                        true => vault.open_bytes(value)?,
                        false => value.clone().into_bytes(),
                    };
                    let update = format!(
                        "UPDATE {table} SET {column} = $1 WHERE {key} = $2 AND {column} = $3"
                    );
                    sqlx::query(sqlx::AssertSqlSafe(update))
                        .bind(vault.seal_bytes(&plain))
                        .bind(id)
                        .bind(value)
                        .execute(&mut *tx)
                        .await?;
                    done.values += 1;
                }
                tx.commit().await?;
            }
        }
    }
    done.indexes = reindex(db, vault, legacy_only).await?;
    Ok(done)
}

/// Gives subjects the current key's blind index: those without one, or
/// (rotating) all whose index is another key's.
async fn reindex(db: &Db, vault: &Vault, missing_only: bool) -> anyhow::Result<u64> {
    let mut count = 0;
    let mut after = String::new();
    loop {
        let mut conn = db.read().await?;
        let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT id, identifier, identifier_index FROM subjects
             WHERE id > $1 AND ($2 = 0 OR identifier_index IS NULL)
             ORDER BY id LIMIT 1000",
        )
        .bind(&after)
        .bind(i64::from(missing_only))
        .fetch_all(&mut *conn)
        .await?;
        drop(conn);
        let Some((last, ..)) = rows.last() else { break };
        after = last.clone();
        let mut tx = db.begin_bulk_write().await?;
        for (id, sealed, old) in &rows {
            let index = vault.index(&vault.open(sealed)?);
            if old.as_deref() == Some(index.as_str()) {
                continue;
            }
            sqlx::query("UPDATE subjects SET identifier_index = $1 WHERE id = $2")
                .bind(&index)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            count += 1;
        }
        tx.commit().await?;
    }
    Ok(count)
}

/// How many values each key seals (and how many are in the clear): what
/// `keys status` prints, and what tells a rotation is complete.
pub async fn census(conn: &mut AnyConnection) -> sqlx::Result<Vec<(String, i64)>> {
    // Key ids are short; the prefix up to the second colon is read in Rust
    // (substring functions differ between the backends).
    let mut counts: std::collections::BTreeMap<String, i64> = Default::default();
    for (table, _, columns) in SEALED {
        for column in *columns {
            let sql = format!("SELECT substr({column}, 1, 24) FROM {table} WHERE {column} <> ''");
            let prefixes: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut *conn)
                .await?;
            for (p,) in prefixes {
                let key = p
                    .strip_prefix("sm4:")
                    .and_then(|rest| rest.split_once(':'))
                    .map_or_else(|| "clear".to_string(), |(id, _)| id.to_string());
                *counts.entry(key).or_default() += 1;
            }
        }
    }
    Ok(counts.into_iter().collect())
}

/// Opens a center's database with its key file: migrates it, loads the
/// keys (or makes the file, while nothing is sealed yet), installs them,
/// and seals what an earlier version wrote in the clear.
pub async fn open_with_keys(url: &str, key_file: &std::path::Path) -> anyhow::Result<Db> {
    let db = Db::connect_and_migrate(url).await?;
    let mut conn = db.read().await?;
    let sealed_before = any_sealed(&mut conn).await?;
    // Subjects without a blind index were written before sealing existed.
    let legacy: Option<(String,)> =
        sqlx::query_as("SELECT id FROM subjects WHERE identifier_index IS NULL LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    drop(conn);
    let vault = vault::install(vault::load_or_create(key_file, !sealed_before)?)?;
    if legacy.is_some() {
        let done = reseal(&db, vault, true).await?;
        wipe_free_pages(&db).await?;
        tracing::info!(
            values = done.values,
            indexes = done.indexes,
            "sealed personal data written before sealing existed"
        );
    }
    Ok(db)
}

/// The values just sealed were in the clear: SQLite keeps what a page held
/// until the page is reused, and its statistics keep sample index keys, so
/// the statistics are taken again and the file is rewritten (before
/// serving, once).
/// A PostgreSQL center runs `VACUUM FULL` on the tables instead (README).
async fn wipe_free_pages(db: &Db) -> anyhow::Result<()> {
    if db.backend() == super::Backend::Sqlite {
        let mut conn = db.read().await?;
        sqlx::query("ANALYZE").execute(&mut *conn).await?;
        sqlx::query("VACUUM").execute(&mut *conn).await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Whether anything is sealed yet (a missing key file is then fatal).
pub async fn any_sealed(conn: &mut AnyConnection) -> sqlx::Result<bool> {
    let found: Option<(String,)> =
        sqlx::query_as("SELECT id FROM subjects WHERE identifier LIKE 'sm4:%' LIMIT 1")
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}
