//! Workbooks handed to inspectors: what a screen lists, as .xlsx.

use credit_desk_proto::Lang;
use credit_desk_proto::pb;
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use crate::clock::local_time;

/// The query log as a sheet: one attempt per row, in the caller's language,
/// identity numbers masked as on the screen.
pub fn query_log_xlsx(entries: &[pb::QueryLogEntry], lang: Lang) -> Result<Vec<u8>, XlsxError> {
    let headers: [(&str, &str, f64); 14] = [
        ("时间", "time", 17.0),
        ("操作员", "operator", 10.0),
        ("用户名", "user name", 12.0),
        ("所属机构", "unit", 22.0),
        ("终端", "terminal", 14.0),
        ("主体", "subject", 10.0),
        ("证件号码", "identity number", 20.0),
        ("依据", "basis", 8.0),
        ("授权书编号", "consent form", 14.0),
        ("用途", "purpose", 14.0),
        ("机构", "institution", 22.0),
        ("结果", "outcome", 8.0),
        ("拒绝原因", "refusal", 30.0),
        ("报告编号", "report no.", 20.0),
    ];
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(lang.pick("查询记录", "query log"))?;
    let bold = Format::new().set_bold();
    for (col, (zh, en, width)) in headers.iter().enumerate() {
        let col = col as u16;
        sheet.write_string_with_format(0, col, lang.pick(*zh, *en), &bold)?;
        sheet.set_column_width(col, *width)?;
    }
    for (i, e) in entries.iter().enumerate() {
        let row = i as u32 + 1;
        let basis = match e.basis.as_str() {
            "self" => lang.pick("本人查询", "self"),
            "consent" => lang.pick("授权查询", "consent"),
            other => other,
        };
        let outcome = match e.allowed {
            true => lang.pick("已查询", "allowed"),
            false => lang.pick("已拒绝", "refused"),
        };
        let cells = [
            local_time(e.at_ms).as_str(),
            &e.operator_name,
            &e.operator_username,
            &e.org_unit_name,
            &e.terminal,
            &e.subject_name,
            &e.subject_identifier,
            basis,
            &e.consent_form_serial,
            &e.purpose_name,
            &e.institution_name,
            outcome,
            &e.refusal_text,
            &e.report_no,
        ]
        .map(str::to_string);
        for (col, text) in cells.iter().enumerate() {
            sheet.write_string(row, col as u16, text)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}

/// The monthly security statistics as a sheet: the heading, each section
/// with its figures, the note, the sign-off and the audit chain's head.
pub fn month_report_xlsx(r: &pb::MonthReport, lang: Lang) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(r.month.as_str())?;
    sheet.set_column_width(0, 46.0)?;
    sheet.set_column_width(1, 14.0)?;
    let bold = Format::new().set_bold();
    let title = lang.pick(
        "征信信息安全情况统计表",
        "Credit information security statistics",
    );
    sheet.write_string_with_format(0, 0, title, &bold)?;
    let heading = [
        (lang.pick("报送单位", "reporter"), r.reporter.clone()),
        (lang.pick("统计月份", "month"), r.month.clone()),
        (lang.pick("报送期限", "due"), r.due.clone()),
    ];
    let mut row = 1;
    for (label, value) in heading {
        sheet.write_string(row, 0, label)?;
        sheet.write_string(row, 1, &value)?;
        row += 1;
    }
    for section in &r.sections {
        row += 1;
        sheet.write_string_with_format(row, 0, &section.title, &bold)?;
        row += 1;
        for figure in &section.rows {
            sheet.write_string(row, 0, &figure.label)?;
            sheet.write_number(row, 1, figure.value as f64)?;
            row += 1;
        }
    }
    row += 1;
    let signed = match r.signed_at_ms {
        0 => lang.pick("未签核", "not signed off").to_string(),
        at => format!("{} {}", r.signed_by, local_time(at)),
    };
    let footer = [
        (lang.pick("情况说明", "note"), r.note.clone()),
        (lang.pick("签核", "signed off"), signed),
        (
            lang.pick("审计链", "audit chain"),
            format!("#{} {}", r.chain_seq, r.chain_hash),
        ),
    ];
    for (label, value) in footer {
        sheet.write_string(row, 0, label)?;
        sheet.write_string(row, 1, &value)?;
        row += 1;
    }
    book.save_to_buffer()
}
