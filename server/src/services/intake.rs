//! Department file uploads from the workstation, with progress streamed
//! back, and the import log.

use std::pin::Pin;

use credit_desk_proto::pb::{self, OrgUnitKind, intake_server::Intake};
use credit_desk_proto::periods::{self, Period};
use credit_desk_proto::validate::{self, FieldError, Rule, field};
use credit_desk_proto::words::import_status;
use futures::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::{caller, create_once, lang, respond};
use crate::authz::{self, Caller};
use crate::clock::local_date;
use crate::context::Ctx;
use crate::db::idempotency::Key;
use crate::db::records::{self, ImportRow};
use crate::db::{audit, org_units};
use crate::errors::{ApiError, ApiResult};
use crate::intake::{self, ImportError, Job, Summary};

pub use crate::intake::MAX_FILE_BYTES;

pub struct IntakeService {
    ctx: Ctx,
}

fn summary_pb(s: &Summary) -> pb::ImportSummary {
    pb::ImportSummary {
        import_id: s.import_id.clone(),
        rows_total: s.rows_total,
        rows_accepted: s.rows_accepted,
        rows_rejected: s.rows_rejected,
        records_created: s.records_created,
        records_updated: s.records_updated,
        records_unchanged: s.records_unchanged,
        subjects_created: s.subjects_created,
        status: s.status.clone(),
        file_hash: s.file_hash.clone(),
        errors: s
            .errors
            .iter()
            .map(|e| pb::RowError {
                row: e.row,
                column: e.column.clone(),
                reason: e.reason.clone(),
            })
            .collect(),
        records_conflicting: s.records_conflicting,
        period: s.period.clone(),
        period_proposed: s.period_proposed,
        conflicts: s
            .conflicts
            .iter()
            .map(|c| pb::ImportConflict {
                row: c.row,
                source_key: c.source_key.clone(),
                ticket_no: c.ticket_no.clone(),
                file_value: c.file_value.clone(),
                decided_value: c.decided_value.clone(),
            })
            .collect(),
    }
}

fn unit_ref(u: &org_units::OrgUnitRow) -> authz::Unit<'_> {
    authz::Unit {
        id: &u.id,
        path: &u.path,
    }
}

fn import_pb(i: &ImportRow) -> pb::ImportRecord {
    pb::ImportRecord {
        id: i.id.clone(),
        department_name: i.department_name.clone(),
        file_name: i.file_name.clone(),
        operator_name: i.operator_name.clone().unwrap_or_default(),
        finished_at_ms: i.finished_at,
        summary: Some(pb::ImportSummary {
            import_id: i.id.clone(),
            rows_total: i.rows_total as u32,
            rows_accepted: i.rows_accepted as u32,
            rows_rejected: i.rows_rejected as u32,
            records_created: i.records_created as u32,
            records_updated: i.records_updated as u32,
            records_unchanged: i.records_unchanged as u32,
            subjects_created: i.subjects_created as u32,
            status: i.status.clone(),
            file_hash: i.file_hash.clone(),
            ..Default::default()
        }),
    }
}

/// Held-back rows listed at most (the rest wait for the next look).
const PENDING_MAX: i64 = 200;

type ProgressStream = Pin<Box<dyn Stream<Item = Result<pb::ImportProgress, Status>> + Send>>;

impl IntakeService {
    pub fn new(ctx: Ctx) -> Self {
        IntakeService { ctx }
    }

    /// Checks the request and the caller's right to send for this
    /// department: a liaison only for their own, the center for any in scope.
    async fn check(
        &self,
        caller: &Caller,
        req: &pb::ImportFileRequest,
    ) -> ApiResult<(org_units::OrgUnitRow, Option<Period>)> {
        let mut errors =
            validate::collect([validate::uuid(field::DEPARTMENT_ID, &req.department_id)]);
        let today = local_date(self.ctx.now_ms());
        let period = match req.period.trim() {
            "" => None,
            text => match periods::check("period", text, today) {
                Ok(p) => Some(p),
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
        };
        if req.content.is_empty() {
            errors.push(FieldError::new(field::FILE, Rule::Required));
        } else if req.content.len() > MAX_FILE_BYTES {
            errors.push(FieldError::new(
                field::FILE,
                Rule::TooLong {
                    max: MAX_FILE_BYTES,
                },
            ));
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let mut conn = self.ctx.db.read().await?;
        let unit =
            org_units::get(&mut conn, &req.department_id)
                .await?
                .ok_or(ApiError::NotFound {
                    field: field::DEPARTMENT_ID,
                })?;
        if unit.kind != OrgUnitKind::Department {
            return Err(FieldError::new(field::DEPARTMENT_ID, Rule::UnknownValue).into());
        }
        authz::import_for(caller.actor(), unit_ref(&unit))?;
        Ok((unit, period))
    }

    /// A person takes a held-back row's content after all.
    async fn accept_conflict(
        &self,
        caller: Caller,
        req: pb::AcceptConflictRequest,
    ) -> ApiResult<pb::AcceptConflictResponse> {
        let errors = validate::collect([
            validate::uuid(field::REQUEST_ID, &req.request_id),
            validate::uuid("import_id", &req.import_id),
        ]);
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let key = Key::of(&caller.operator_id, "AcceptConflict", &req, |r| {
            &mut r.request_id
        })?;
        let (import_id, row) = (req.import_id.clone(), req.row);
        let now = self.ctx.now_ms();
        let (version, replayed) = create_once(&self.ctx, key, async |tx| {
            let held = records::held_row(tx, &import_id, row)
                .await?
                .ok_or(ApiError::NotFound { field: "row" })?;
            let department = org_units::get(tx, &held.department_id)
                .await?
                .ok_or(ApiError::NotFound { field: "import_id" })?;
            authz::import_for(caller.actor(), unit_ref(&department))?;
            // Only a finished import's rows: a dry run imports nothing, and
            // an unfinished one may still be rolled back with its versions.
            if held.import_status == import_status::DRY_RUN {
                return Err(ApiError::WrongState {
                    rule: "dry_run",
                    zh: "试运行不导入任何内容：请正式导入该文件后再决定".into(),
                    en: "a dry run imports nothing: import the file, then decide".into(),
                });
            }
            if ![import_status::APPLIED, import_status::NO_CHANGE]
                .contains(&held.import_status.as_str())
            {
                return Err(ApiError::WrongState {
                    rule: "import_unfinished",
                    zh: "该批次导入尚未完成，完成后再决定".into(),
                    en: "the import has not finished; decide once it has".into(),
                });
            }
            if held.deleted_at.is_some() {
                return Err(ApiError::WrongState {
                    rule: "deleted_by_objection",
                    zh: format!("该记录已由异议 {} 删除，导入不能恢复", held.ticket_no),
                    en: format!(
                        "objection {} deleted the record; an import does not bring it back",
                        held.ticket_no
                    ),
                });
            }
            let version =
                records::accept_held_row(tx, &import_id, row, &held, &caller.operator_id, now)
                    .await?;
            let target = format!("{import_id}#{row}");
            let detail = format!(
                "record {} v{version} over {}",
                held.record_id, held.ticket_no
            );
            audit::record(
                tx,
                Some(&caller.operator_id),
                "import.accept_conflict",
                &target,
                &detail,
                now,
            );
            Ok(version.to_string())
        })
        .await?;
        Ok(pb::AcceptConflictResponse {
            version: version.parse().unwrap_or_default(),
            replayed,
        })
    }

    async fn list_imports(
        &self,
        caller: Caller,
        _: pb::ListImportsRequest,
    ) -> ApiResult<pb::ListImportsResponse> {
        let mut conn = self.ctx.db.read().await?;
        let rows = records::recent_imports(&mut conn, &caller.org_unit_path, 50).await?;
        let departments = org_units::subtree(&mut conn, &caller.org_unit_path)
            .await?
            .into_iter()
            .filter(|u| u.kind == OrgUnitKind::Department)
            .filter(|u| authz::import_for(caller.actor(), unit_ref(u)).is_ok())
            .map(|u| super::convert::org_unit(&u))
            .collect();
        let mut pending: Vec<pb::ImportRecord> = Vec::new();
        for c in records::pending_conflicts(&mut conn, &caller.org_unit_path, PENDING_MAX).await? {
            if pending.last().is_none_or(|p| p.id != c.import_id) {
                pending.push(pb::ImportRecord {
                    id: c.import_id.clone(),
                    department_name: c.department_name.clone(),
                    file_name: c.file_name.clone(),
                    finished_at_ms: c.finished_at,
                    summary: Some(pb::ImportSummary {
                        import_id: c.import_id.clone(),
                        ..Default::default()
                    }),
                    ..Default::default()
                });
            }
            if let Some(s) = pending.last_mut().and_then(|p| p.summary.as_mut()) {
                s.records_conflicting += 1;
                s.conflicts.push(pb::ImportConflict {
                    row: c.row_number as u32,
                    source_key: c.source_key,
                    ticket_no: c.ticket_no,
                    file_value: c.file_value,
                    decided_value: c.decided_value,
                });
            }
        }
        Ok(pb::ListImportsResponse {
            imports: rows.iter().map(import_pb).collect(),
            departments,
            pending,
        })
    }
}

#[tonic::async_trait]
impl Intake for IntakeService {
    type ImportFileStream = ProgressStream;

    async fn import_file(
        &self,
        req: Request<pb::ImportFileRequest>,
    ) -> Result<Response<Self::ImportFileStream>, Status> {
        let lang = lang(&req);
        let caller = caller(&req).map_err(|e| e.into_status(lang))?;
        let req = req.into_inner();
        let (unit, period) = self
            .check(&caller, &req)
            .await
            .map_err(|e| e.into_status(lang))?;
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        let ctx = self.ctx.clone();
        tokio::spawn(async move {
            let now = ctx.now_ms();
            let job = Job {
                department: &unit,
                file_name: &req.file_name,
                bytes: &req.content,
                operator_id: Some(&caller.operator_id),
                dry_run: req.dry_run,
                period,
                lang,
                today: local_date(now),
                now_ms: now,
                cancel: None,
            };
            let progress_tx = tx.clone();
            let result = intake::run(&ctx.db, job, |done, total| {
                // A slow link must not stall the import: skip updates the
                // client has not taken yet.
                let _ = progress_tx.try_send(Ok(pb::ImportProgress {
                    rows_done: done,
                    rows_total: total,
                    summary: None,
                }));
            })
            .await;
            let last = match result {
                Ok(s) => Ok(pb::ImportProgress {
                    rows_done: s.rows_accepted,
                    rows_total: s.rows_accepted,
                    summary: Some(summary_pb(&s)),
                }),
                Err(ImportError::Other(e)) => Err(ApiError::Internal(e).into_status(lang)),
                Err(e) => Err(ApiError::Validation(vec![FieldError::new(
                    field::FILE,
                    Rule::BadFile(e.message(lang)),
                )])
                .into_status(lang)),
            };
            let _ = tx.send(last).await;
        });
        Ok(Response::new(
            Box::pin(ReceiverStream::new(rx)) as ProgressStream
        ))
    }

    async fn accept_conflict(
        &self,
        req: Request<pb::AcceptConflictRequest>,
    ) -> Result<Response<pb::AcceptConflictResponse>, Status> {
        handle!(self, req, accept_conflict)
    }

    async fn list_imports(
        &self,
        req: Request<pb::ListImportsRequest>,
    ) -> Result<Response<pb::ListImportsResponse>, Status> {
        handle!(self, req, list_imports)
    }
}
