//! `credit-desk-server import`: a department file from the command line,
//! with a progress bar, a summary, and rejected rows written to
//! `<file>.errors.csv` next to the input.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use credit_desk_proto::Lang;
use credit_desk_proto::pb::OrgUnitKind;
use credit_desk_proto::periods::Period;

use crate::clock::{Clock, SystemClock, local_date};
use crate::db::{Db, org_units};
use crate::intake::{self, Job, Summary, rows::RowError};
use crate::messages;

pub fn error_file_path(input: &Path) -> PathBuf {
    let mut name = input.file_name().unwrap_or_default().to_os_string();
    name.push(".errors.csv");
    input.with_file_name(name)
}

/// Writes rejected rows as CSV (with a BOM, so Excel shows the Chinese).
pub fn write_errors(path: &Path, errors: &[RowError], lang: Lang) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(Vec::from(&b"\xEF\xBB\xBF"[..]));
    w.write_record(messages::import::error_columns(lang))?;
    for e in errors {
        w.write_record([e.row.to_string().as_str(), &e.column, &e.reason])?;
    }
    std::fs::write(path, w.into_inner()?).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

pub async fn run(
    db: &Db,
    department: &str,
    file: &Path,
    dry_run: bool,
    period: Option<Period>,
    lang: Lang,
) -> anyhow::Result<Summary> {
    let unit = {
        let mut conn = db.read().await?;
        org_units::get_by_code(&mut conn, department)
            .await?
            .with_context(|| format!("--department: no org unit with code {department}"))?
    };
    anyhow::ensure!(
        unit.kind == OrgUnitKind::Department,
        "--department {department}: {} is not a department",
        unit.name
    );
    let bytes = read_capped(file).with_context(|| format!("--file {}", file.display()))?;
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {per_sec} {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let now = SystemClock.now_ms();
    let job = Job {
        department: &unit,
        file_name: name,
        bytes: &bytes,
        operator_id: None,
        dry_run,
        period,
        lang,
        today: local_date(now),
        now_ms: now,
        cancel: None,
    };
    let result = intake::run(db, job, |done, total| {
        bar.set_length(u64::from(total));
        bar.set_position(u64::from(done));
    })
    .await;
    bar.finish_and_clear();
    let summary = result.map_err(|e| anyhow::anyhow!(e.message(lang)))?;
    let errors_path = error_file_path(file);
    if summary.rows_rejected > 0 {
        // The full list, not only the first ones the summary carries.
        let mut conn = db.read().await?;
        let all = crate::db::records::import_errors(&mut conn, &summary.import_id).await?;
        let all: Vec<RowError> = all
            .into_iter()
            .map(|(row, column, reason)| RowError {
                row: row as u32,
                column,
                reason,
            })
            .collect();
        write_errors(&errors_path, &all, lang)?;
    } else if errors_path.exists() {
        std::fs::remove_file(&errors_path)?;
    }
    Ok(summary)
}

/// Reads at most [`intake::MAX_FILE_BYTES`], the limit the RPC applies.
fn read_capped(path: &Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let max = intake::MAX_FILE_BYTES;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(max as u64 + 1)
        .read_to_end(&mut bytes)?;
    anyhow::ensure!(
        bytes.len() <= max,
        "larger than {} MiB; split the file",
        max >> 20
    );
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_past_the_rpc_limit_are_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.csv");
        let f = std::fs::File::create(&p).unwrap();
        f.set_len(intake::MAX_FILE_BYTES as u64 + 1).unwrap();
        let e = read_capped(&p).unwrap_err().to_string();
        assert!(e.contains("32 MiB"), "{e}");
        f.set_len(10).unwrap();
        assert_eq!(read_capped(&p).unwrap().len(), 10);
    }

    #[test]
    fn error_file_sits_next_to_the_input() {
        assert_eq!(
            error_file_path(Path::new("/data/税务/tax.csv")),
            PathBuf::from("/data/税务/tax.csv.errors.csv")
        );
    }

    #[test]
    fn error_file_is_csv_with_bom() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e.csv");
        let errors = [RowError {
            row: 3,
            column: "状态".into(),
            reason: "必填, 真的".into(),
        }];
        write_errors(&p, &errors, Lang::Zh).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text, "\u{feff}行号,列,原因\n3,状态,\"必填, 真的\"\n");
    }
}
