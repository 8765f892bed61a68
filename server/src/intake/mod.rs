//! Data intake: a department's file is read ([`table`]), checked row by row
//! against the department's template ([`rows`]), and the accepted rows are
//! applied in one transaction: a record that is new gets version 1, a
//! changed one a new version, an unchanged one nothing. Re-importing a file
//! therefore changes nothing, and an interrupted import leaves nothing.

pub mod rows;
pub mod table;
pub mod templates;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use credit_desk_proto::Lang;
use credit_desk_proto::words::import_status;
use sha2::{Digest, Sha256};

use crate::db::org_units::OrgUnitRow;
use std::collections::HashMap;

use credit_desk_proto::ident::{self, Identifier, mask};
use credit_desk_proto::validate::names_match;
use sqlx::AnyConnection;

use crate::db::bulk::{self, V};
use crate::db::records::{self, ImportRow};
use crate::db::{Db, new_id, subjects};
use crate::messages;
use credit_desk_proto::pb::SubjectKind;

/// How many leading row errors travel back with the summary; all of them
/// are stored with the import.
pub const ERRORS_RETURNED: usize = 200;

pub struct Job<'a> {
    pub department: &'a OrgUnitRow,
    pub file_name: &'a str,
    pub bytes: &'a [u8],
    pub operator_id: Option<&'a str>,
    pub dry_run: bool,
    pub lang: Lang,
    pub today: chrono::NaiveDate,
    pub now_ms: i64,
    /// Set from outside to abandon the import; nothing is applied then.
    pub cancel: Option<Arc<AtomicBool>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub import_id: String,
    pub status: String,
    pub file_hash: String,
    pub rows_total: u32,
    pub rows_accepted: u32,
    pub rows_rejected: u32,
    pub records_created: u32,
    pub records_updated: u32,
    pub records_unchanged: u32,
    pub subjects_created: u32,
    pub errors: Vec<rows::RowError>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    File(#[from] table::TableError),
    #[error("missing columns: {}", .0.join(", "))]
    MissingColumns(Vec<&'static str>),
    #[error("import cancelled; nothing was applied")]
    Cancelled,
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> Self {
        ImportError::Other(e.into())
    }
}

impl ImportError {
    pub fn message(&self, lang: Lang) -> String {
        match self {
            ImportError::File(e) => messages::import::file_error(lang, e),
            ImportError::MissingColumns(cols) => messages::import::missing_columns(lang, cols),
            ImportError::Cancelled => messages::import::cancelled(lang).into(),
            ImportError::Other(e) => e.to_string(),
        }
    }
}

/// Larger files are refused, by the RPC and the command line alike; a
/// county department's half-year file is far smaller.
pub const MAX_FILE_BYTES: usize = 32 * 1024 * 1024;

/// Rows applied per round of look-ups and multi-row inserts.
const CHUNK: usize = 500;

/// A registered subject, as far as an import needs to know it.
struct Known {
    id: String,
    kind: SubjectKind,
    name: String,
}

/// A record's current version, by the department's key.
struct Current {
    id: String,
    version: i64,
    hash: String,
    /// Created by the chunk being applied (its row is not written yet).
    created_now: bool,
}

/// Looks up, in two queries, the subjects and records a chunk refers to.
async fn prefetch(
    conn: &mut AnyConnection,
    department_id: &str,
    chunk: &[rows::Row],
    known: &mut HashMap<String, Known>,
    current: &mut HashMap<String, Current>,
) -> sqlx::Result<()> {
    let mut identifiers: Vec<String> = chunk
        .iter()
        .filter(|r| !known.contains_key(&r.identifier))
        .map(|r| r.identifier.clone())
        .collect();
    identifiers.sort();
    identifiers.dedup();
    for s in subjects::by_identifiers(conn, &identifiers).await? {
        known.insert(
            s.identifier,
            Known {
                id: s.id,
                kind: s.kind,
                name: s.name,
            },
        );
    }
    let mut keys: Vec<String> = chunk
        .iter()
        .filter(|r| !current.contains_key(&r.source_key))
        .map(|r| r.source_key.clone())
        .collect();
    keys.sort();
    keys.dedup();
    for c in records::current_by_keys(conn, department_id, &keys).await? {
        current.insert(
            c.source_key,
            Current {
                id: c.id,
                version: c.current_version,
                hash: c.content_hash,
                created_now: false,
            },
        );
    }
    Ok(())
}

/// What one chunk writes, gathered for multi-row inserts.
#[derive(Default)]
struct Batch {
    subjects: Vec<Vec<V>>,
    persons: Vec<Vec<V>>,
    organisations: Vec<Vec<V>>,
    /// (id, subject, category, source key) of new records.
    new_records: Vec<(String, String, String, String)>,
    versions: Vec<Vec<V>>,
    /// Existing records that got a new version, and their latest version.
    touched: HashMap<String, i64>,
}

impl Batch {
    /// Registers the subject of a row (person or organisation by the
    /// identifier's shape); returns its id and kind.
    fn new_subject(
        &mut self,
        row: &rows::Row,
        today: chrono::NaiveDate,
        now: i64,
    ) -> anyhow::Result<(String, SubjectKind)> {
        let id = new_id();
        let parsed = ident::check_any(&row.identifier, today)
            .map_err(|e| anyhow::anyhow!("{}: {e}", row.identifier))?;
        let kind = match parsed {
            Identifier::Person(p) => {
                self.persons.push(vec![
                    id.as_str().into(),
                    p.birth_date.to_string().into(),
                    p.sex.code().into(),
                ]);
                SubjectKind::Person
            }
            Identifier::Organisation(o) => {
                self.organisations.push(vec![
                    id.as_str().into(),
                    o.org_type.code().into(),
                    "".into(),
                ]);
                SubjectKind::Organisation
            }
        };
        self.subjects.push(vec![
            id.as_str().into(),
            crate::domain::subject_kind_to_str(kind).into(),
            row.identifier.as_str().into(),
            row.name.as_str().into(),
            V::NullText,
            "".into(),
            "".into(),
            V::I(now),
            V::I(now),
        ]);
        Ok((id, kind))
    }

    async fn write(
        self,
        conn: &mut AnyConnection,
        department_id: &str,
        current: &mut HashMap<String, Current>,
        now: i64,
    ) -> sqlx::Result<()> {
        bulk::insert(conn, &bulk::SUBJECTS, &self.subjects).await?;
        bulk::insert(conn, &bulk::PERSONS, &self.persons).await?;
        bulk::insert(conn, &bulk::ORGANISATIONS, &self.organisations).await?;
        let records: Vec<Vec<V>> = self
            .new_records
            .iter()
            .map(|(id, subject, category, key)| {
                let version = current.get(key).map_or(1, |c| c.version);
                vec![
                    id.as_str().into(),
                    subject.as_str().into(),
                    category.as_str().into(),
                    department_id.into(),
                    key.as_str().into(),
                    V::I(version),
                    V::I(now),
                    V::I(now),
                ]
            })
            .collect();
        bulk::insert(conn, &bulk::RECORDS, &records).await?;
        bulk::insert(conn, &bulk::RECORD_VERSIONS, &self.versions).await?;
        for (id, version) in &self.touched {
            records::set_current_version(conn, id, *version, now).await?;
        }
        for (_, _, _, key) in &self.new_records {
            if let Some(c) = current.get_mut(key) {
                c.created_now = false;
            }
        }
        Ok(())
    }
}

pub fn file_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Reads the file off the async threads; a parser that panics on a crafted
/// file fails this import, not the server.
async fn read_table(file_name: &str, bytes: &[u8]) -> Result<table::Table, ImportError> {
    let (name, bytes) = (file_name.to_string(), bytes.to_vec());
    let read = tokio::task::spawn_blocking(move || {
        std::panic::catch_unwind(|| table::read(&name, &bytes))
    })
    .await
    .map_err(|e| anyhow::anyhow!("reading the file: {e}"))?;
    match read {
        Ok(table) => Ok(table?),
        Err(_) => {
            Err(table::TableError::Unreadable("the parser failed on this file".into()).into())
        }
    }
}

/// Runs an import; `progress(done, total)` is called as rows are applied.
pub async fn run(
    db: &Db,
    job: Job<'_>,
    mut progress: impl FnMut(u32, u32),
) -> Result<Summary, ImportError> {
    let table = read_table(job.file_name, job.bytes).await?;
    let template = templates::for_department(&job.department.code);
    let missing = rows::missing_columns(&table, template);
    if !missing.is_empty() {
        return Err(ImportError::MissingColumns(missing));
    }
    let categories: Vec<rows::Category> = {
        let mut conn = db.read().await?;
        records::categories(&mut conn)
            .await?
            .into_iter()
            .map(|c| rows::Category {
                code: c.code,
                name_zh: c.name_zh,
                negative: c.negative,
            })
            .collect()
    };
    let parsed = rows::parse(&table, template, &categories, job.today, job.lang);
    let mut s = Summary {
        import_id: new_id(),
        file_hash: file_hash(job.bytes),
        rows_total: parsed.total,
        rows_accepted: parsed.rows.len() as u32,
        rows_rejected: parsed.total - parsed.rows.len() as u32,
        ..Default::default()
    };
    let total = parsed.rows.len() as u32;
    progress(0, total);

    let mut tx = db.begin_bulk_write().await?;
    // The import row goes first so versions can point at it; its counts are
    // filled in at the end (same transaction).
    let mut log = ImportRow {
        id: s.import_id.clone(),
        department_id: job.department.id.clone(),
        file_name: job.file_name.to_string(),
        file_hash: s.file_hash.clone(),
        finished_at: job.now_ms,
        status: import_status::RUNNING.into(),
        ..Default::default()
    };
    records::insert_import(&mut tx, &log, job.operator_id, job.now_ms).await?;
    let mut row_errors = parsed.errors;
    let name_header = template
        .columns
        .iter()
        .find(|c| c.col == templates::Col::Name)
        .map_or("", |c| c.header);
    let mut known: HashMap<String, Known> = HashMap::new();
    let mut current: HashMap<String, Current> = HashMap::new();
    let mut done = 0u32;
    for chunk in parsed.rows.chunks(CHUNK) {
        if job
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            return Err(ImportError::Cancelled); // the transaction rolls back on drop
        }
        prefetch(&mut tx, &job.department.id, chunk, &mut known, &mut current).await?;
        let mut out = Batch::default();
        for row in chunk {
            let subject_id = match known.get(&row.identifier) {
                // A person's record under another name is most likely a
                // wrong number: refuse the row rather than attach it.
                Some(k) if k.kind == SubjectKind::Person && !names_match(&row.name, &k.name) => {
                    row_errors.push(rows::RowError {
                        row: row.row,
                        column: name_header.to_string(),
                        reason: crate::messages::row::name_differs(
                            job.lang,
                            &mask(&row.identifier),
                        ),
                    });
                    s.rows_accepted -= 1;
                    s.rows_rejected += 1;
                    continue;
                }
                Some(k) => k.id.clone(),
                None => {
                    let (id, kind) = out.new_subject(row, job.today, job.now_ms)?;
                    s.subjects_created += 1;
                    known.insert(
                        row.identifier.clone(),
                        Known {
                            id: id.clone(),
                            kind,
                            name: row.name.clone(),
                        },
                    );
                    id
                }
            };
            let hash = row.content_hash();
            let (record_id, version) = match current.get_mut(&row.source_key) {
                Some(c) if c.hash == hash => {
                    s.records_unchanged += 1;
                    continue;
                }
                Some(c) => {
                    s.records_updated += 1;
                    c.version += 1;
                    c.hash = hash.clone();
                    if !c.created_now {
                        out.touched.insert(c.id.clone(), c.version);
                    }
                    (c.id.clone(), c.version)
                }
                None => {
                    s.records_created += 1;
                    let id = new_id();
                    out.new_records.push((
                        id.clone(),
                        subject_id,
                        row.category.clone(),
                        row.source_key.clone(),
                    ));
                    current.insert(
                        row.source_key.clone(),
                        Current {
                            id: id.clone(),
                            version: 1,
                            hash: hash.clone(),
                            created_now: true,
                        },
                    );
                    (id, 1)
                }
            };
            out.versions.push(vec![
                record_id.into(),
                V::I(version),
                row.start_date.map(|d| d.to_string()).into(),
                row.end_date.map(|d| d.to_string()).into(),
                row.amount_cents.into(),
                row.status.as_str().into(),
                V::I(i64::from(row.negative)),
                row.details.as_str().into(),
                hash.into(),
                s.import_id.as_str().into(),
                V::I(job.now_ms),
                job.operator_id.into(),
            ]);
        }
        out.write(&mut tx, &job.department.id, &mut current, job.now_ms)
            .await?;
        done += chunk.len() as u32;
        progress(done, total);
    }
    row_errors.sort_by_key(|e| e.row);
    s.status = if job.dry_run {
        import_status::DRY_RUN
    } else if s.rows_accepted == 0 && s.rows_rejected > 0 {
        import_status::REJECTED
    } else if s.records_created + s.records_updated == 0 {
        import_status::NO_CHANGE
    } else {
        import_status::APPLIED
    }
    .into();
    log.status = s.status.clone();
    if [import_status::APPLIED, import_status::NO_CHANGE].contains(&s.status.as_str()) {
        log.period = Some(crate::rules::submissions::period_for(job.today));
    }
    log.rows_total = s.rows_total.into();
    log.rows_accepted = s.rows_accepted.into();
    log.rows_rejected = s.rows_rejected.into();
    log.records_created = s.records_created.into();
    log.records_updated = s.records_updated.into();
    log.records_unchanged = s.records_unchanged.into();
    log.subjects_created = s.subjects_created.into();
    let errors: Vec<(i64, &str, &str)> = row_errors
        .iter()
        .map(|e| (i64::from(e.row), e.column.as_str(), e.reason.as_str()))
        .collect();
    if job.dry_run {
        // A dry run checks everything, against the database too, and keeps
        // only its log entry.
        drop(tx);
        let mut tx = db.begin_write().await?;
        records::insert_import(&mut tx, &log, job.operator_id, job.now_ms).await?;
        records::finish_import(&mut tx, &log, &errors).await?;
        tx.commit().await?;
    } else {
        records::finish_import(&mut tx, &log, &errors).await?;
        tx.commit().await?;
    }
    progress(total, total);
    s.errors = row_errors.into_iter().take(ERRORS_RETURNED).collect();
    Ok(s)
}
