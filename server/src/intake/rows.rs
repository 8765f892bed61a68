//! Turning a table into records, row by row, with every problem named by
//! row number, column and rule. No I/O: the categories known to the
//! database are passed in.

use chrono::NaiveDate;
use credit_desk_proto::Lang;
use credit_desk_proto::ident;
use sha2::{Digest, Sha256};

use super::table::Table;
use super::templates::{Col, Template, normalise_header};
use crate::messages::row as msg;

/// One valid row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub row: u32,
    pub identifier: String,
    pub name: String,
    pub category: String,
    pub source_key: String,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub amount_cents: Option<i64>,
    pub status: String,
    pub negative: bool,
    pub details: String,
}

impl Row {
    /// A fingerprint of the record's content: equal fingerprints mean an
    /// unchanged record, so re-importing a file changes nothing.
    pub fn content_hash(&self) -> String {
        let text = format!(
            "{}|{}|{}|{:?}|{:?}|{:?}|{}|{}|{}",
            self.identifier,
            self.name,
            self.category,
            self.start_date,
            self.end_date,
            self.amount_cents,
            self.status,
            self.negative,
            self.details
        );
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: u32,
    pub column: String,
    pub reason: String,
}

/// A category as the database knows it.
pub struct Category {
    pub code: String,
    pub name_zh: String,
    pub negative: bool,
}

pub struct Parsed {
    pub rows: Vec<Row>,
    pub errors: Vec<RowError>,
    pub total: u32,
}

/// Required columns the file lacks (whole-file problem: nothing is read).
pub fn missing_columns(table: &Table, template: &Template) -> Vec<&'static str> {
    let headers: Vec<String> = table.headers.iter().map(|h| normalise_header(h)).collect();
    template
        .columns
        .iter()
        .filter(|c| c.required && !headers.contains(&normalise_header(c.header)))
        .map(|c| c.header)
        .collect()
}

/// Dates as departments write them: 2026-03-07, 2026/3/7, 20260307, 2026年3月7日.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
}

/// Yuan with up to two decimals, thousands separators allowed → cents.
pub fn parse_amount(s: &str) -> Option<i64> {
    let s: String = s
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != '，')
        .collect();
    let s = s.strip_prefix('¥').unwrap_or(&s).to_string();
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    if whole.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || frac.len() > 2
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    whole.checked_mul(100)?.checked_add(frac)
}

fn parse_flag(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "是" | "y" | "yes" | "1" | "true" | "负面" => Some(true),
        "否" | "n" | "no" | "0" | "false" | "正面" => Some(false),
        _ => None,
    }
}

pub fn parse(
    table: &Table,
    template: &Template,
    categories: &[Category],
    today: NaiveDate,
    lang: Lang,
) -> Parsed {
    let headers: Vec<String> = table.headers.iter().map(|h| normalise_header(h)).collect();
    // Column index of each template field present in the file.
    let index: Vec<(Col, &'static str, Option<usize>)> = template
        .columns
        .iter()
        .map(|c| {
            let at = headers
                .iter()
                .position(|h| *h == normalise_header(c.header));
            (c.col, c.header, at)
        })
        .collect();
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut total = 0;
    for (i, raw) in table.rows.iter().enumerate() {
        if raw.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        total += 1;
        let row = i as u32 + 2;
        let mut row_errors = Vec::new();
        let mut fail = |column: &str, reason: String| {
            row_errors.push(RowError {
                row,
                column: column.to_string(),
                reason,
            });
        };
        let get = |col: Col| -> (&'static str, String) {
            index
                .iter()
                .find(|(c, ..)| *c == col)
                .map(|(_, header, at)| {
                    (
                        *header,
                        at.and_then(|a| raw.get(a))
                            .map(|s| s.trim().to_string())
                            .unwrap_or_default(),
                    )
                })
                .unwrap_or(("", String::new()))
        };
        let required = |col: Col| template.columns.iter().any(|c| c.col == col && c.required);
        let required_msg = msg::required(lang);

        let (h, identifier) = get(Col::Identifier);
        let identifier = ident::normalise(&identifier);
        if identifier.is_empty() {
            fail(h, required_msg.clone());
        } else if let Err(e) = ident::check_any(&identifier, today) {
            fail(h, e.message(lang));
        }
        let (h, name) = get(Col::Name);
        if name.is_empty() {
            fail(h, required_msg.clone());
        }
        let (h, source_key) = get(Col::SourceKey);
        if source_key.is_empty() {
            fail(h, required_msg.clone());
        }
        let category = match template.fixed_category {
            Some(code) => categories.iter().find(|c| c.code == code),
            None => {
                let (h, value) = get(Col::Category);
                let code = template
                    .category_names
                    .iter()
                    .find(|(name, _)| *name == value)
                    .map(|(_, code)| *code)
                    .unwrap_or(value.as_str());
                let found = categories
                    .iter()
                    .find(|c| c.code == code || c.name_zh == code);
                if found.is_none() {
                    let reason = if value.is_empty() {
                        required_msg.clone()
                    } else {
                        msg::unknown_category(lang, &value)
                    };
                    fail(h, reason);
                }
                found
            }
        };
        let mut date = |col: Col| -> Option<NaiveDate> {
            let (h, value) = get(col);
            if value.is_empty() {
                if required(col) {
                    fail(h, required_msg.clone());
                }
                return None;
            }
            match parse_date(&value) {
                Some(d) if d > today => {
                    fail(h, msg::future_date(lang, d));
                    None
                }
                Some(d) => Some(d),
                None => {
                    fail(h, msg::not_a_date(lang, &value));
                    None
                }
            }
        };
        let start_date = date(Col::StartDate);
        let end_date = date(Col::EndDate);
        if let (Some(s), Some(e)) = (start_date, end_date)
            && e < s
        {
            let (h, _) = get(Col::EndDate);
            fail(h, msg::ends_before_start(lang));
        }
        let (h, amount) = get(Col::Amount);
        let amount_cents = if amount.is_empty() {
            if required(Col::Amount) {
                fail(h, required_msg.clone());
            }
            None
        } else {
            let parsed = parse_amount(&amount);
            if parsed.is_none() {
                fail(h, msg::not_an_amount(lang, &amount));
            }
            parsed
        };
        let (h, status) = get(Col::Status);
        if status.is_empty() {
            fail(h, required_msg.clone());
        }
        let (h, flag) = get(Col::Negative);
        let negative = if flag.is_empty() {
            category.map(|c| c.negative).unwrap_or(false)
        } else {
            match parse_flag(&flag) {
                Some(b) => b,
                None => {
                    fail(h, msg::not_yes_no(lang));
                    false
                }
            }
        };
        let (_, details) = get(Col::Details);
        if row_errors.is_empty() {
            rows.push(Row {
                row,
                identifier,
                name,
                category: category.map(|c| c.code.clone()).unwrap_or_default(),
                source_key,
                start_date,
                end_date,
                amount_cents,
                status,
                negative,
                details,
            });
        } else {
            errors.extend(row_errors);
        }
    }
    Parsed {
        rows,
        errors,
        total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::templates;

    fn categories() -> Vec<Category> {
        vec![
            Category {
                code: "tax_arrears".into(),
                name_zh: "欠税信息".into(),
                negative: true,
            },
            Category {
                code: "court_judgment".into(),
                name_zh: "法院判决与执行".into(),
                negative: true,
            },
            Category {
                code: "dishonest_debtor".into(),
                name_zh: "失信被执行人".into(),
                negative: true,
            },
        ]
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    fn table(headers: &[&str], rows: &[&[&str]]) -> Table {
        Table {
            headers: headers.iter().map(|s| s.to_string()).collect(),
            rows: rows
                .iter()
                .map(|r| r.iter().map(|s| s.to_string()).collect())
                .collect(),
        }
    }

    const TAX: &[&str] = &[
        "纳税人识别号",
        "纳税人名称",
        "欠税编号",
        "欠税起始日期",
        "缴清日期",
        "欠税金额(元)",
        "状态",
        "备注",
    ];

    #[test]
    fn dates_and_amounts_as_departments_write_them() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 7);
        for s in [
            "2026-03-07",
            "2026/3/7",
            "20260307",
            "2026年3月7日",
            " 2026.03.07 ",
        ] {
            assert_eq!(parse_date(s), d, "{s}");
        }
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_amount("1,234.5"), Some(123_450));
        assert_eq!(parse_amount("¥80"), Some(8_000));
        assert_eq!(parse_amount("0.05"), Some(5));
        assert_eq!(parse_amount("1.234"), None);
        assert_eq!(parse_amount("-5"), None);
        assert_eq!(parse_amount("abc"), None);
    }

    #[test]
    fn good_rows_become_records_with_the_fixed_category() {
        let t = table(
            TAX,
            &[&[
                "9144030071526726XG",
                "某公司",
                "QS-1",
                "2025-01-01",
                "",
                "12,000.50",
                "未缴",
                "",
            ]],
        );
        let p = parse(
            &t,
            templates::for_department("D-TAX"),
            &categories(),
            today(),
            Lang::Zh,
        );
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.total, 1);
        let r = &p.rows[0];
        assert_eq!(
            (r.row, r.category.as_str(), r.amount_cents, r.negative),
            (2, "tax_arrears", Some(1_200_050), true)
        );
    }

    #[test]
    fn every_bad_cell_is_named() {
        let t = table(
            TAX,
            &[
                &[
                    "110105194912310021",
                    "王丽",
                    "QS-2",
                    "2025-13-01",
                    "",
                    "12",
                    "未缴",
                    "",
                ],
                &["", "", "", "", "", "", "", ""],
                &[
                    "11010519491231002X",
                    "",
                    "QS-3",
                    "2025-05-01",
                    "2025-04-01",
                    "1.999",
                    "",
                    "",
                ],
            ],
        );
        let p = parse(
            &t,
            templates::for_department("D-TAX"),
            &categories(),
            today(),
            Lang::Zh,
        );
        assert!(p.rows.is_empty());
        assert_eq!(p.total, 2, "blank rows are not counted");
        let got: Vec<(u32, &str)> = p
            .errors
            .iter()
            .map(|e| (e.row, e.column.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (2, "纳税人识别号"),
                (2, "欠税起始日期"),
                (4, "纳税人名称"),
                (4, "缴清日期"),
                (4, "欠税金额（元）"),
                (4, "状态"),
            ]
        );
        assert_eq!(p.errors[0].reason, "校验位应为 X，实为 1");
    }

    #[test]
    fn category_column_and_missing_columns() {
        let court = templates::for_department("D-COURT");
        let t = table(&["当事人证件号码", "当事人名称"], &[]);
        assert_eq!(missing_columns(&t, court), ["案号", "类别", "执行状态"]);
        let t = table(
            &["当事人证件号码", "当事人名称", "案号", "类别", "执行状态"],
            &[
                &[
                    "11010519491231002X",
                    "王丽",
                    "(2025)粤1284执100号",
                    "失信被执行人",
                    "未履行",
                ],
                &[
                    "11010519491231002X",
                    "王丽",
                    "(2025)粤1284执101号",
                    "离婚",
                    "已结",
                ],
            ],
        );
        let p = parse(&t, court, &categories(), today(), Lang::En);
        assert_eq!(p.rows[0].category, "dishonest_debtor");
        assert_eq!(p.errors[0].reason, "unknown category \"离婚\"");
    }

    #[test]
    fn same_content_same_hash() {
        let t = table(
            TAX,
            &[&[
                "9144030071526726XG",
                "某公司",
                "QS-1",
                "",
                "",
                "1",
                "未缴",
                "",
            ]],
        );
        let a = parse(
            &t,
            templates::for_department("D-TAX"),
            &categories(),
            today(),
            Lang::Zh,
        );
        let b = parse(
            &t,
            templates::for_department("D-TAX"),
            &categories(),
            today(),
            Lang::Zh,
        );
        assert_eq!(a.rows[0].content_hash(), b.rows[0].content_hash());
        let mut changed = a.rows[0].clone();
        changed.status = "已缴".into();
        assert_ne!(changed.content_hash(), a.rows[0].content_hash());
    }
}
