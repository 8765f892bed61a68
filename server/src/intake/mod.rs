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
use sha2::{Digest, Sha256};

use crate::db::org_units::OrgUnitRow;
use crate::db::records::{self, ImportRow, NewRecord, NewVersion};
use crate::db::{Db, new_id, subjects};
use crate::registry::{self, NewEntry};

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
    File(String),
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
            ImportError::File(m) => m.clone(),
            ImportError::MissingColumns(cols) => lang.pick(
                format!("文件缺少必需的列：{}", cols.join("、")),
                format!("the file lacks required columns: {}", cols.join(", ")),
            ),
            ImportError::Cancelled => {
                lang.pick("导入已取消，未做任何更改".into(), self.to_string())
            }
            ImportError::Other(e) => e.to_string(),
        }
    }
}

pub fn file_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Runs an import; `progress(done, total)` is called as rows are applied.
pub async fn run(
    db: &Db,
    job: Job<'_>,
    mut progress: impl FnMut(u32, u32),
) -> Result<Summary, ImportError> {
    let table =
        table::read(job.file_name, job.bytes).map_err(|e| ImportError::File(e.to_string()))?;
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
                negative: c.negative != 0,
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

    let mut tx = db.begin_write().await?;
    // The import row goes first so versions can point at it; its counts are
    // filled in at the end (same transaction).
    let mut log = ImportRow {
        id: s.import_id.clone(),
        department_id: job.department.id.clone(),
        file_name: job.file_name.to_string(),
        file_hash: s.file_hash.clone(),
        finished_at: job.now_ms,
        status: "running".into(),
        ..Default::default()
    };
    records::insert_import(&mut tx, &log, job.operator_id, job.now_ms).await?;
    let mut row_errors = parsed.errors;
    for (i, row) in parsed.rows.iter().enumerate() {
        if job
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            return Err(ImportError::Cancelled); // the transaction rolls back on drop
        }
        // A person's record under someone else's name is most likely a
        // wrong number: refuse the row rather than attach it to the wrong person.
        if let Some(known) = subjects::get_by_identifier(&mut tx, &row.identifier).await?
            && known.kind == "person"
            && !credit_desk_proto::validate::names_match(&row.name, &known.name)
        {
            let header = template
                .columns
                .iter()
                .find(|c| c.col == templates::Col::Name)
                .map_or("", |c| c.header);
            row_errors.push(rows::RowError {
                row: row.row,
                column: header.to_string(),
                reason: job.lang.pick(
                    format!(
                        "姓名与登记不符（证件号码 {} 登记为其他姓名）",
                        credit_desk_proto::ident::mask(&row.identifier)
                    ),
                    format!(
                        "name differs from the register for {}",
                        credit_desk_proto::ident::mask(&row.identifier)
                    ),
                ),
            });
            s.rows_accepted -= 1;
            s.rows_rejected += 1;
            continue;
        }
        let (subject_id, created) = registry::ensure_subject(
            &mut tx,
            NewEntry {
                identifier: &row.identifier,
                name: &row.name,
                township_id: None,
                address: "",
                phone: "",
                legal_representative: "",
            },
            job.today,
            job.now_ms,
        )
        .await?;
        s.subjects_created += u32::from(created);
        let hash = row.content_hash();
        let existing = records::current(&mut tx, &job.department.id, &row.source_key).await?;
        let (record_id, version) = match existing {
            Some(r) if r.content_hash == hash => {
                s.records_unchanged += 1;
                continue;
            }
            Some(r) => {
                s.records_updated += 1;
                (r.id, r.current_version + 1)
            }
            None => {
                let id = new_id();
                records::insert(
                    &mut tx,
                    NewRecord {
                        id: &id,
                        subject_id: &subject_id,
                        category: &row.category,
                        source_unit_id: &job.department.id,
                        source_key: &row.source_key,
                        now_ms: job.now_ms,
                    },
                )
                .await?;
                s.records_created += 1;
                (id, 1)
            }
        };
        records::add_version(
            &mut tx,
            NewVersion {
                record_id: &record_id,
                version,
                start_date: row.start_date.map(|d| d.to_string()),
                end_date: row.end_date.map(|d| d.to_string()),
                amount_cents: row.amount_cents,
                status: &row.status,
                negative: row.negative,
                details: &row.details,
                content_hash: &hash,
                import_id: Some(&s.import_id),
                created_by: job.operator_id,
                now_ms: job.now_ms,
            },
        )
        .await?;
        if i % 500 == 499 {
            progress(i as u32 + 1, total);
        }
    }
    row_errors.sort_by_key(|e| e.row);
    s.status = if job.dry_run {
        "dry_run"
    } else if s.rows_accepted == 0 && s.rows_rejected > 0 {
        "rejected"
    } else if s.records_created + s.records_updated == 0 {
        "no_change"
    } else {
        "applied"
    }
    .into();
    log.status = s.status.clone();
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
