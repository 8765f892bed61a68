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
use credit_desk_proto::periods::Period;
use credit_desk_proto::words::import_status;
use sha2::{Digest, Sha256};

use crate::db::org_units::OrgUnitRow;
use std::collections::HashMap;

use credit_desk_proto::ident::{self, Identifier, mask};
use credit_desk_proto::validate::names_match;
use sqlx::AnyConnection;

use crate::db::bulk::{self, V};
use crate::db::records::{self, ImportRow};
use crate::db::{Db, imports, new_id, subjects};
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
    /// The delivery period named by the clerk; `None`: proposed from the
    /// file's dates.
    pub period: Option<Period>,
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
    /// Rows about records an objection decided that the file would change.
    pub records_conflicting: u32,
    pub conflicts: Vec<records::Conflict>,
    /// The delivery period the import counts for.
    pub period: String,
    /// Whether the period was proposed from the file's dates.
    pub period_proposed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    File(#[from] table::TableError),
    #[error("missing columns: {}", .0.join(", "))]
    MissingColumns(Vec<&'static str>),
    #[error("import cancelled; nothing was applied")]
    Cancelled,
    /// The department has an import running (one at a time, so two files
    /// never race over the same records).
    #[error("another import of this department is running")]
    Running { since_ms: i64 },
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
            ImportError::Running { since_ms } => messages::import::running(lang, *since_ms),
            ImportError::Other(e) => e.to_string(),
        }
    }
}

/// Larger files are refused, by the RPC and the command line alike; a
/// county department's half-year file is far smaller.
pub const MAX_FILE_BYTES: usize = credit_desk_proto::validate::IMPORT_FILE_MAX_BYTES;

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
    /// Set when an objection corrected or deleted the record: a file then
    /// changes it only by a person's decision.
    decided: Option<Decided>,
}

/// What an objection decided about a record, and its content now.
struct Decided {
    ticket_no: String,
    deleted: bool,
    content: messages::import::Content,
}

fn content_of(row: &rows::Row) -> messages::import::Content {
    messages::import::Content {
        start_date: row.start_date,
        end_date: row.end_date,
        amount_cents: row.amount_cents,
        status: row.status.clone(),
        negative: row.negative,
        details: row.details.clone(),
    }
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
                decided: match (c.deleted_by, c.corrected_by) {
                    (Some(ticket_no), _) => Some((ticket_no, true)),
                    (None, Some(ticket_no)) => Some((ticket_no, false)),
                    (None, None) => None,
                }
                .map(|(ticket_no, deleted)| Decided {
                    ticket_no,
                    deleted,
                    content: messages::import::Content {
                        start_date: c.start_date,
                        end_date: c.end_date,
                        amount_cents: c.amount_cents,
                        status: c.status,
                        negative: c.negative,
                        details: c.details,
                    },
                }),
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
        import_id: &str,
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
        let [identifier, index, address, phone] =
            crate::db::subjects::sealed_columns(&row.identifier, "", "")?;
        self.subjects.push(vec![
            id.as_str().into(),
            crate::domain::subject_kind_to_str(kind).into(),
            identifier.into(),
            index.into(),
            row.name.as_str().into(),
            V::NullText,
            address.into(),
            phone.into(),
            V::I(now),
            V::I(now),
            import_id.into(),
        ]);
        Ok((id, kind))
    }

    /// Writes the chunk as pending: nothing of it shows until the import
    /// is applied.
    async fn write(
        self,
        conn: &mut AnyConnection,
        department_id: &str,
        import_id: &str,
        current: &mut HashMap<String, Current>,
        now: i64,
    ) -> sqlx::Result<()> {
        bulk::insert(conn, &bulk::IMPORTED_SUBJECTS, &self.subjects).await?;
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
                    V::I(0),
                    V::I(now),
                    V::I(now),
                    V::I(version),
                    import_id.into(),
                ]
            })
            .collect();
        bulk::insert(conn, &bulk::IMPORTED_RECORDS, &records).await?;
        bulk::insert(conn, &bulk::RECORD_VERSIONS, &self.versions).await?;
        for (id, version) in &self.touched {
            imports::set_next_version(conn, id, *version, import_id).await?;
        }
        for (_, _, _, key) in &self.new_records {
            if let Some(c) = current.get_mut(key) {
                c.created_now = false;
            }
        }
        Ok(())
    }
}

/// Decides, chunk by chunk, what each accepted row does: a new subject, a
/// new record, a new version or nothing; and counts it.
struct Planner<'a> {
    job: &'a Job<'a>,
    name_header: &'a str,
    known: HashMap<String, Known>,
    current: HashMap<String, Current>,
    summary: Summary,
    row_errors: Vec<rows::RowError>,
}

impl Planner<'_> {
    async fn chunk(
        &mut self,
        conn: &mut AnyConnection,
        chunk: &[rows::Row],
    ) -> Result<Batch, ImportError> {
        let job = self.job;
        let s = &mut self.summary;
        prefetch(
            conn,
            &job.department.id,
            chunk,
            &mut self.known,
            &mut self.current,
        )
        .await?;
        let mut out = Batch::default();
        for row in chunk {
            let subject_id = match self.known.get(&row.identifier) {
                // A person's record under another name is most likely a
                // wrong number: refuse the row rather than attach it.
                Some(k) if k.kind == SubjectKind::Person && !names_match(&row.name, &k.name) => {
                    self.row_errors.push(rows::RowError {
                        row: row.row,
                        column: self.name_header.to_string(),
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
                    let (id, kind) = out.new_subject(row, &s.import_id, job.today, job.now_ms)?;
                    s.subjects_created += 1;
                    self.known.insert(
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
            let (record_id, version) = match self.current.get_mut(&row.source_key) {
                Some(c) if c.hash == hash => {
                    s.records_unchanged += 1;
                    continue;
                }
                Some(Current {
                    id,
                    decided: Some(d),
                    ..
                }) => {
                    let file = content_of(row);
                    if !d.deleted && file == d.content {
                        // The department now delivers what was decided.
                        s.records_unchanged += 1;
                        continue;
                    }
                    let (file_value, decided_value) =
                        messages::import::conflict_values(job.lang, &file, &d.content, d.deleted);
                    s.records_conflicting += 1;
                    s.conflicts.push(records::Conflict {
                        row: row.row,
                        record_id: id.clone(),
                        source_key: row.source_key.clone(),
                        ticket_no: d.ticket_no.clone(),
                        file_value,
                        decided_value,
                        start_date: row.start_date,
                        end_date: row.end_date,
                        amount_cents: row.amount_cents,
                        status: row.status.clone(),
                        negative: row.negative,
                        details: row.details.clone(),
                        content_hash: hash,
                    });
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
                    self.current.insert(
                        row.source_key.clone(),
                        Current {
                            id: id.clone(),
                            version: 1,
                            hash: hash.clone(),
                            created_now: true,
                            decided: None,
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
        Ok(out)
    }

    fn cancelled(&self) -> bool {
        self.job
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
    }
}

/// Writes the accepted rows as pending, a chunk per short transaction.
async fn write_pending(
    db: &Db,
    plan: &mut Planner<'_>,
    rows: &[rows::Row],
    progress: &mut impl FnMut(u32, u32),
) -> Result<(), ImportError> {
    let started = std::time::Instant::now();
    let import_id = plan.summary.import_id.clone();
    let (department, now) = (&plan.job.department.id, plan.job.now_ms);
    let total = rows.len() as u32;
    let mut done = 0;
    for chunk in rows.chunks(CHUNK) {
        if plan.cancelled() {
            return Err(ImportError::Cancelled);
        }
        let mut tx = db.begin_bulk_write().await?;
        let batch = plan.chunk(&mut tx, chunk).await?;
        batch
            .write(&mut tx, department, &import_id, &mut plan.current, now)
            .await?;
        let alive = now + i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        imports::heartbeat(&mut tx, &import_id, alive).await?;
        tx.commit().await?;
        done += chunk.len() as u32;
        progress(done, total);
    }
    Ok(())
}

/// Stores the rejected rows (in short transactions), then makes the whole
/// import visible at once with its final status.
async fn apply(
    db: &Db,
    log: &mut ImportRow,
    plan: &mut Planner<'_>,
    operator_id: Option<&str>,
) -> Result<(), ImportError> {
    let s = &mut plan.summary;
    s.status = if s.rows_accepted == 0 && s.rows_rejected > 0 {
        import_status::REJECTED
    } else if s.records_created + s.records_updated == 0 {
        import_status::NO_CHANGE
    } else {
        import_status::APPLIED
    }
    .into();
    if [import_status::APPLIED, import_status::NO_CHANGE].contains(&s.status.as_str()) {
        log.period = Some(s.period.clone());
    }
    let errors = finish_log(log, plan);
    for chunk in errors.chunks(CHUNK) {
        let mut tx = db.begin_write().await?;
        records::insert_import_errors(&mut tx, &log.id, chunk).await?;
        tx.commit().await?;
    }
    for chunk in plan.summary.conflicts.chunks(CHUNK) {
        let mut tx = db.begin_write().await?;
        records::insert_import_conflicts(&mut tx, &log.id, chunk).await?;
        tx.commit().await?;
    }
    let mut tx = db.begin_write().await?;
    if !records::finish_import(&mut tx, log).await? {
        return Err(
            anyhow::anyhow!("the import was judged abandoned and is being rolled back").into(),
        );
    }
    let detail = format!(
        "{} {} from {} (sha256 {}): {} row(s), {} accepted, {} rejected; {} created, {} updated",
        log.department_name,
        log.status,
        log.file_name,
        log.file_hash,
        log.rows_total,
        log.rows_accepted,
        log.rows_rejected,
        log.records_created,
        log.records_updated
    );
    crate::db::audit::record(
        &mut tx,
        operator_id,
        "import.finish",
        &log.id,
        &detail,
        log.finished_at,
    );
    tx.commit().await?;
    Ok(())
}

/// Copies the counts into the log row; returns the rejected rows in order.
fn finish_log(log: &mut ImportRow, plan: &mut Planner<'_>) -> Vec<(i64, String, String)> {
    let s = &plan.summary;
    log.status = s.status.clone();
    log.rows_total = s.rows_total.into();
    log.rows_accepted = s.rows_accepted.into();
    log.rows_rejected = s.rows_rejected.into();
    log.records_created = s.records_created.into();
    log.records_updated = s.records_updated.into();
    log.records_unchanged = s.records_unchanged.into();
    log.subjects_created = s.subjects_created.into();
    plan.row_errors.sort_by_key(|e| e.row);
    plan.row_errors
        .iter()
        .map(|e| (i64::from(e.row), e.column.clone(), e.reason.clone()))
        .collect()
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
    let period = job.period.unwrap_or_else(|| {
        let dates = parsed
            .rows
            .iter()
            .filter_map(|r| r.start_date.or(r.end_date));
        crate::rules::submissions::proposed_period(dates, job.today)
    });
    let s = Summary {
        period: period.to_string(),
        period_proposed: job.period.is_none(),
        import_id: new_id(),
        file_hash: file_hash(job.bytes),
        rows_total: parsed.total,
        rows_accepted: parsed.rows.len() as u32,
        rows_rejected: parsed.total - parsed.rows.len() as u32,
        ..Default::default()
    };
    let total = parsed.rows.len() as u32;
    progress(0, total);
    let name_header = template
        .columns
        .iter()
        .find(|c| c.col == templates::Col::Name)
        .map_or("", |c| c.header);
    let mut plan = Planner {
        job: &job,
        name_header,
        known: HashMap::new(),
        current: HashMap::new(),
        summary: s,
        row_errors: parsed.errors,
    };
    let mut log = ImportRow {
        id: plan.summary.import_id.clone(),
        department_id: job.department.id.clone(),
        file_name: job.file_name.to_string(),
        file_hash: plan.summary.file_hash.clone(),
        finished_at: job.now_ms,
        status: import_status::RUNNING.into(),
        ..Default::default()
    };

    if job.dry_run {
        // A dry run checks everything, against the database too, writes
        // nothing but its log entry, and takes no write lock meanwhile.
        let mut done = 0;
        for chunk in parsed.rows.chunks(CHUNK) {
            if plan.cancelled() {
                return Err(ImportError::Cancelled);
            }
            // A connection per chunk: a long dry run holds none of the pool.
            plan.chunk(&mut *db.read().await?, chunk).await?;
            done += chunk.len() as u32;
            progress(done, total);
        }
        plan.summary.status = import_status::DRY_RUN.into();
        let mut tx = db.begin_write().await?;
        records::insert_import(&mut tx, &log, job.operator_id, job.now_ms).await?;
        let errors = finish_log(&mut log, &mut plan);
        records::finish_import(&mut tx, &log).await?;
        records::insert_import_errors(&mut tx, &log.id, &errors).await?;
        records::insert_import_conflicts(&mut tx, &log.id, &plan.summary.conflicts).await?;
        tx.commit().await?;
    } else {
        let abandoned = match imports::begin(db, &log, job.operator_id, job.now_ms).await? {
            Ok(abandoned) => abandoned,
            Err(imports::BeginError::Running { since_ms }) => {
                return Err(ImportError::Running { since_ms });
            }
        };
        let applied = async {
            // Now that no other import of the department runs: what an
            // earlier one left — versions applied but not yet folded in,
            // an abandoned import — is settled before this one writes.
            for id in imports::unfolded(db, Some(&job.department.id)).await? {
                imports::fold_in(db, &id).await?;
            }
            for id in abandoned {
                tracing::warn!(import = id, "rolling back an abandoned import");
                imports::roll_back(db, &id).await?;
            }
            write_pending(db, &mut plan, &parsed.rows, &mut progress).await?;
            apply(db, &mut log, &mut plan, job.operator_id).await
        }
        .await;
        if let Err(e) = applied {
            if let Err(undo) = imports::roll_back(db, &log.id).await {
                // Left for the next import of the department (or the next
                // start) to roll back once it is abandoned.
                tracing::error!(import = log.id, error = %undo, "rolling back a failed import");
            }
            return Err(e);
        }
        imports::fold_in(db, &log.id).await?;
    }
    progress(total, total);
    let mut s = plan.summary;
    s.errors = plan.row_errors.into_iter().take(ERRORS_RETURNED).collect();
    s.conflicts.truncate(ERRORS_RETURNED);
    Ok(s)
}
