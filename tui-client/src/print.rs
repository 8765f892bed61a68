//! The credit report as fixed-width text for counter printers: columns
//! aligned by display width (Chinese characters take two), pages of a fixed
//! length, and on every page a footer with the report number, page n/m and
//! the operator.

use chrono::FixedOffset;
use credit_desk_proto::pb;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::i18n::Catalogue;

pub const WIDTH: usize = 80;
/// Lines per page, footer included (A4 at 6 lines per inch).
pub const PAGE_LINES: usize = 66;

/// Fits `text` into exactly `width` columns: padded, or cut with "…" so a
/// cut never passes for the whole text.
pub fn fit(text: &str, width: usize) -> String {
    if text.width() <= width {
        return format!("{text}{}", " ".repeat(width - text.width()));
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    if width > 0 {
        out.push('…');
        used += 1;
    }
    out.push_str(&" ".repeat(width.saturating_sub(used)));
    out
}

/// Wraps `text` into lines of at most `width` columns.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.lines() {
        let mut line = String::new();
        let mut used = 0;
        for c in para.chars() {
            let w = c.width().unwrap_or(0);
            if used + w > width {
                lines.push(std::mem::take(&mut line));
                used = 0;
            }
            line.push(c);
            used += w;
        }
        lines.push(line);
    }
    lines
}

/// Wraps `text` into lines of at most `width` columns, breaking at spaces
/// where it can (a word wider than a line is broken where it must), and
/// indenting continuation lines two columns deeper than the first.
pub fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let indent = text.len() - text.trim_start_matches(' ').len();
    let mut lines = vec![" ".repeat(indent)];
    let mut used = indent;
    let deeper = (indent + 2).min(width / 2);
    for word in text.split(' ').skip(indent) {
        let w = word.width();
        let start = lines.last().is_some_and(|l| l.trim().is_empty());
        let gap = usize::from(!start);
        if used + gap + w > width && !start {
            lines.push(" ".repeat(deeper));
            used = deeper;
        } else if !start {
            if let Some(line) = lines.last_mut() {
                line.push(' ');
            }
            used += 1;
        }
        for c in word.chars() {
            let cw = c.width().unwrap_or(0);
            if used + cw > width {
                lines.push(" ".repeat(deeper));
                used = deeper;
            }
            if let Some(line) = lines.last_mut() {
                line.push(c);
            }
            used += cw;
        }
    }
    lines
}

pub fn yuan(cents: i64) -> String {
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{grouped}.{:02}", cents % 100)
}

pub fn time(ms: i64, offset: FixedOffset) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&offset)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// Column widths of the records table (sum + gaps = 78).
const COLS: [usize; 6] = [12, 20, 10, 10, 12, 9];

/// A table row: each cell wrapped within its column (a case number is
/// printed whole, on as many lines as it needs), the columns aligned.
fn rows(cells: [&str; 6]) -> Vec<String> {
    let wrapped: Vec<Vec<String>> = cells
        .iter()
        .zip(COLS)
        .map(|(cell, w)| wrap(cell, w))
        .collect();
    let height = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
    (0..height)
        .map(|i| {
            let mut line = String::from("  ");
            for (cell, w) in wrapped.iter().zip(COLS) {
                line.push_str(&fit(cell.get(i).map_or("", String::as_str), w));
                line.push(' ');
            }
            line.trim_end().to_string()
        })
        .collect()
}

/// The report's body lines, before pagination.
pub fn body(r: &pb::Report, cat: &Catalogue, offset: FixedOffset) -> Vec<String> {
    body_with_records(r, cat, offset).0
}

/// The body lines and, for each record in report order (sections in turn),
/// the index of its line: the screen moves a cursor over records with it.
pub fn body_with_records(
    r: &pb::Report,
    cat: &Catalogue,
    offset: FixedOffset,
) -> (Vec<String>, Vec<usize>) {
    let mut out = Vec::new();
    let mut record_lines = Vec::new();
    // A reprint says so in its title and when and by whom it was made;
    // everything else is as first issued.
    let title = match r.reprinted_at_ms {
        0 => cat.report_title.to_string(),
        _ => format!("{}{}", cat.report_title, cat.reprint_mark),
    };
    let pad = (WIDTH.saturating_sub(title.width())) / 2;
    out.push(format!("{}{title}", " ".repeat(pad)));
    let c = cat.colon;
    out.push(format!(
        "{}{c}{}    {}{c}{}",
        cat.report_no,
        r.report_no,
        cat.generated_at,
        time(r.generated_at_ms, offset)
    ));
    if r.reprinted_at_ms > 0 {
        out.push(format!(
            "{}{c}{} {}",
            cat.reprinted,
            time(r.reprinted_at_ms, offset),
            r.reprinted_by
        ));
    }
    let basis = if r.basis == "self" {
        cat.basis_self
    } else {
        cat.basis_consent
    };
    let mut line = format!(
        "{}{c}{basis}    {}{c}{}",
        cat.basis_label, cat.purpose_label, r.purpose_name
    );
    if !r.institution_name.is_empty() {
        line.push_str(&format!(
            "    {}{c}{}",
            cat.institution_label, r.institution_name
        ));
    }
    out.push(line);
    out.push("=".repeat(WIDTH));
    out.push(cat.section_identity.to_string());
    if let Some(s) = &r.subject {
        out.push(format!("  {}  {}  {}", s.name, s.identifier, s.birth_date));
        out.push(format!("  {}  {}", s.township, s.address));
    }
    out.push(String::new());
    out.push(cat.section_records.to_string());
    if r.sections.is_empty() {
        out.push(format!(
            "  {}",
            if r.not_covered.is_empty() {
                cat.no_records
            } else {
                cat.no_records_in_scope
            }
        ));
    }
    for section in &r.sections {
        out.push(format!("【{}】", section.name));
        out.extend(rows(cat.record_columns));
        for rec in &section.records {
            let amount = if rec.has_amount {
                yuan(rec.amount_cents)
            } else {
                String::new()
            };
            let status = if rec.negative {
                format!("{} *", rec.status)
            } else {
                rec.status.clone()
            };
            record_lines.push(out.len());
            out.extend(rows([
                &rec.source_name,
                &rec.source_key,
                &rec.start_date,
                &rec.end_date,
                &amount,
                &status,
            ]));
            if !rec.details.is_empty() {
                out.extend(
                    wrap(&rec.details, WIDTH - 6)
                        .into_iter()
                        .map(|l| format!("      {l}")),
                );
            }
            if !rec.annotation.is_empty() {
                out.push(format!(
                    "      [{}] {}",
                    cat.annotation_label, rec.annotation
                ));
            }
            let notes = rec
                .explanations
                .iter()
                .map(|e| (cat.explanation_label, e))
                .chain(rec.statements.iter().map(|e| (cat.statement_label, e)));
            for (label, e) in notes {
                let head = format!(
                    "{} ({} {}){c}",
                    label,
                    time(e.added_at_ms, offset),
                    e.taken_by
                );
                out.extend(
                    wrap(&format!("{head}{}", e.text), WIDTH - 6)
                        .into_iter()
                        .map(|l| format!("      {l}")),
                );
            }
        }
    }
    // The marker explained wherever it is used.
    if r.sections
        .iter()
        .flat_map(|s| &s.records)
        .any(|rec| rec.negative)
    {
        out.extend(
            wrap(cat.negative_legend, WIDTH - 2)
                .into_iter()
                .map(|l| format!("  {l}")),
        );
    }
    // Outside the consent's scope: not queried, never "no records".
    for name in &r.not_covered {
        out.push(format!("【{name}】  {}", cat.not_covered));
    }
    if r.withheld_for_age > 0 {
        let note = cat.withheld_note(r.withheld_for_age);
        out.extend(wrap(&note, WIDTH - 2).into_iter().map(|l| format!("  {l}")));
    }
    out.push(String::new());
    out.push(cat.section_queries.to_string());
    for q in &r.query_records {
        let line = format!(
            "{}  {}  {}  {}",
            time(q.at_ms, offset),
            q.institution,
            q.operator_name,
            q.purpose
        );
        out.extend(
            wrap_words(&line, WIDTH - 2)
                .into_iter()
                .map(|l| format!("  {l}")),
        );
    }
    (out, record_lines)
}

/// The whole printable report: pages of `PAGE_LINES` lines, each ending
/// with its footer; pages separated by form feeds.
/// Text a clerk typed (a form serial), made safe as part of a file name:
/// path separators, `..` and control characters become `_`.
pub fn file_name_part(text: &str) -> String {
    let safe: String = text
        .trim()
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    safe.replace("..", "_")
}

/// The end of a withdrawal receipt: who recorded it and when, what it
/// means, and where the applicant and the clerk sign.
pub fn withdrawal_close(
    cat: &Catalogue,
    by: &str,
    at_ms: i64,
    effect: &str,
    offset: FixedOffset,
) -> Vec<String> {
    let mut lines = vec![format!(
        "{}{}{by} / {}",
        cat.withdrawn_recorded_by,
        cat.colon,
        time(at_ms, offset)
    )];
    lines.extend(wrap(effect, WIDTH));
    lines.extend(signatures(cat));
    lines
}

/// Where the subject (or their agent) and the clerk sign a receipt.
pub fn signatures(cat: &Catalogue) -> Vec<String> {
    vec![
        String::new(),
        format!("{}{}", cat.sign_applicant, cat.sign_line),
        String::new(),
        format!("{}{}", cat.sign_clerk, cat.sign_line),
    ]
}

pub fn document(r: &pb::Report, cat: &Catalogue, offset: FixedOffset) -> String {
    paginate(&body(r, cat, offset), cat, &r.report_no, &r.operator_name)
}

/// Cuts `lines` into pages with the footer (document number, page n/m,
/// operator) at the bottom of each. A line wider than the paper is
/// wrapped, never cut off by the printer.
pub fn paginate(lines: &[String], cat: &Catalogue, number: &str, operator: &str) -> String {
    let lines: Vec<String> = lines
        .iter()
        .flat_map(|l| match l.width() > WIDTH {
            true => wrap_words(l, WIDTH),
            false => vec![l.clone()],
        })
        .collect();
    let per_page = PAGE_LINES - 2; // a rule and the footer
    let pages: Vec<&[String]> = lines.chunks(per_page).collect();
    let total = pages.len();
    let mut out = String::new();
    for (i, page) in pages.iter().enumerate() {
        if i > 0 {
            out.push('\u{c}');
        }
        // Text from the server is printed, never its control characters
        // (the page break below is ours).
        for line in *page {
            out.push_str(&credit_desk_proto::validate::printable(line));
            out.push('\n');
        }
        for _ in page.len()..per_page {
            out.push('\n');
        }
        out.push_str(&"-".repeat(WIDTH));
        out.push('\n');
        let footer = cat.page_footer(number, i + 1, total, operator);
        out.push_str(&credit_desk_proto::validate::printable(&footer));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_wrap_in_their_column_and_cuts_are_marked() {
        let lines = rows([
            "四会市人民法院",
            "(2024)粤1284民初1001号",
            "2024-03-01",
            "",
            "12,800.50",
            "未履行 *",
        ]);
        assert_eq!(lines.len(), 2, "{lines:?}");
        // Every character of the case number, the rest under the first part.
        assert!(lines[0].contains("(2024)粤1284民初1001"), "{lines:?}");
        let column = |line: &str, pat: &str| line.find(pat).map(|at| line[..at].width());
        assert_eq!(
            column(&lines[1], "号"),
            column(&lines[0], "(2024)"),
            "{lines:?}"
        );
        assert!(lines.iter().all(|l| l.width() <= WIDTH), "{lines:?}");
        assert_eq!(fit("大沙镇便民服务中心", 10), "大沙镇便… ");
        assert_eq!(fit("abc", 5), "abc  ");
        assert_eq!(fit("abcdef", 5).width(), 5);
        assert!(fit("abcdef", 5).ends_with('…'));
    }

    #[test]
    fn words_wrap_at_spaces_with_continuations_indented() {
        let lines = wrap_words("    v1 未履行 court-2025H1.xlsx 刘中心 2026-11-23", 30);
        assert_eq!(
            lines,
            [
                "    v1 未履行",
                "      court-2025H1.xlsx 刘中心",
                "      2026-11-23"
            ]
        );
        assert!(lines.iter().all(|l| l.width() <= 30), "{lines:?}");
        // A word wider than the line is broken where it must be.
        let long = wrap_words("(2024)粤1284民初1001号", 10);
        assert_eq!(long.concat().replace(' ', ""), "(2024)粤1284民初1001号");
        assert!(long.iter().all(|l| l.width() <= 10), "{long:?}");
        assert_eq!(wrap_words("", 10), [""]);
    }

    #[test]
    fn a_typed_serial_cannot_leave_the_folder() {
        assert_eq!(file_name_part("SQ/2026/001"), "SQ_2026_001");
        assert_eq!(file_name_part("../../etc/x"), "____etc_x");
        assert_eq!(file_name_part(" 授权-7 "), "授权-7");
    }
    use crate::i18n::{EN, ZH};

    fn offset() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).unwrap()
    }

    fn report(records: usize) -> pb::Report {
        let rec = |i: usize| pb::ReportRecord {
            id: format!("r{i}"),
            source_name: "市人民法院".into(),
            source_key: format!("(2025)粤1284执{i}号"),
            start_date: "2025-02-11".into(),
            end_date: String::new(),
            has_amount: true,
            amount_cents: 1_280_050,
            status: "未履行".into(),
            negative: true,
            details: "拒不履行生效判决".into(),
            version: 1,
            annotation: String::new(),
            explanations: vec![],
            statements: vec![],
        };
        pb::Report {
            report_no: "CD-20261123-000001".into(),
            generated_at_ms: 1_795_395_600_000,
            subject: Some(pb::SubjectSummary {
                name: "李建国".into(),
                identifier: "441284196508120010".into(),
                ..Default::default()
            }),
            sections: vec![pb::CategorySection {
                code: "dishonest_debtor".into(),
                name: "失信被执行人".into(),
                records: (0..records).map(rec).collect(),
            }],
            withheld_for_age: 1,
            query_records: vec![],
            basis: "self".into(),
            institution_name: String::new(),
            purpose_name: "本人查询".into(),
            operator_name: "李柜员".into(),
            org_unit_name: String::new(),
            not_covered: vec![],
            ..Default::default()
        }
    }

    #[test]
    fn printed_pages_carry_no_control_characters_from_the_server() {
        let lines = vec![
            "李建国\u{1b}]0;owned\u{7}".to_string(),
            "\u{1b}[2J".to_string(),
        ];
        let doc = paginate(&lines, &ZH, "BG-1", "张\u{0}三");
        assert!(doc.chars().all(|c| !c.is_control() || c == '\n'), "{doc:?}");
        assert!(doc.contains("李建国\u{FFFD}]0;owned\u{FFFD}"));
    }

    #[test]
    fn the_negative_marker_is_explained_where_it_is_used() {
        let legend = |r: &pb::Report| {
            body(r, &ZH, offset())
                .iter()
                .any(|l| l.contains("标“*”的为负面记录"))
        };
        let marked = report(2);
        assert!(marked.sections[0].records.iter().any(|r| r.negative));
        assert!(legend(&marked));
        let mut plain = report(2);
        for rec in plain.sections.iter_mut().flat_map(|s| &mut s.records) {
            rec.negative = false;
        }
        assert!(!legend(&plain), "no marker, no legend");
    }

    #[test]
    fn fit_counts_double_width() {
        assert_eq!(fit("市人民法院", 12), "市人民法院  ");
        // A cut is marked: "…" takes a column.
        assert_eq!(fit("市人民法院民事庭", 12), "市人民法院… ");
        assert_eq!(fit("市人民法院民事庭", 11), "市人民法院…");
        assert_eq!(fit("ab", 3), "ab ");
        assert_eq!(yuan(1_280_050), "12,800.50");
        assert_eq!(yuan(5), "0.05");
    }

    #[test]
    fn every_line_fits_and_every_page_has_its_footer() {
        for cat in [&ZH, &EN] {
            let text = document(&report(60), cat, offset());
            let pages: Vec<&str> = text.split('\u{c}').collect();
            assert!(pages.len() >= 2, "60 records take more than a page");
            for (i, page) in pages.iter().enumerate() {
                let lines: Vec<&str> = page.lines().collect();
                assert_eq!(lines.len(), PAGE_LINES, "page {}", i + 1);
                let footer = lines.last().unwrap();
                assert!(footer.contains("CD-20261123-000001"), "{footer}");
                assert!(
                    footer.contains(&format!("{}/{}", i + 1, pages.len())),
                    "{footer}"
                );
                assert!(footer.contains("李柜员"), "{footer}");
                for l in &lines {
                    assert!(l.width() <= WIDTH, "too wide: {l}");
                }
            }
        }
    }

    #[test]
    fn records_align_in_columns() {
        let lines = body(&report(2), &ZH, offset());
        let rows: Vec<&String> = lines
            .iter()
            .filter(|l| l.contains("执0号") || l.contains("执1号"))
            .collect();
        assert_eq!(rows.len(), 2);
        // The amount starts at the same display column in both rows.
        let col = |l: &str| l[..l.find("12,800.50").unwrap()].width();
        assert_eq!(col(rows[0]), col(rows[1]));
        assert!(
            lines.iter().any(|l| l.contains("不予展示")),
            "the five-year note is printed"
        );
    }
}
