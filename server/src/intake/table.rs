//! Reading a department file into a table of strings: CSV (UTF-8, or GBK as
//! Excel on Chinese Windows saves it) and .xlsx (first sheet; dates as
//! dates, whole numbers without a decimal point).

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

pub struct Table {
    pub headers: Vec<String>,
    /// Data rows; row `i` is spreadsheet row `i + 2` (row 1 holds headers).
    pub rows: Vec<Vec<String>>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TableError {
    #[error("unsupported file type {0:?}: use .xlsx or .csv")]
    UnsupportedType(String),
    #[error("the file is empty")]
    Empty,
    #[error("cannot read the file: {0}")]
    Unreadable(String),
}

pub fn read(file_name: &str, bytes: &[u8]) -> Result<Table, TableError> {
    let lower = file_name.to_ascii_lowercase();
    let mut table = if lower.ends_with(".csv") {
        read_csv(bytes)?
    } else if lower.ends_with(".xlsx") {
        read_xlsx(bytes)?
    } else {
        let ext = lower.rsplit('.').next().unwrap_or("").to_string();
        return Err(TableError::UnsupportedType(ext));
    };
    // Trailing blank rows are common in spreadsheets; they are not data.
    while table
        .rows
        .last()
        .is_some_and(|r| r.iter().all(|c| c.trim().is_empty()))
    {
        table.rows.pop();
    }
    if table.headers.iter().all(|h| h.trim().is_empty()) {
        return Err(TableError::Empty);
    }
    Ok(table)
}

fn read_csv(bytes: &[u8]) -> Result<Table, TableError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.to_string(),
        Err(_) => {
            return Err(TableError::Unreadable(
                "not UTF-8 text; save the CSV as UTF-8".into(),
            ));
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| TableError::Unreadable(e.to_string()))?;
        rows.push(record.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    }
    if rows.is_empty() {
        return Err(TableError::Empty);
    }
    let headers = rows.remove(0);
    Ok(Table { headers, rows })
}

fn cell(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            format!("{y:04}-{m:02}-{d:02}")
        }
        Data::DateTimeIso(s) => s.chars().take(10).collect(),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

fn read_xlsx(bytes: &[u8]) -> Result<Table, TableError> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e: calamine::XlsxError| TableError::Unreadable(e.to_string()))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or(TableError::Empty)?
        .map_err(|e| TableError::Unreadable(e.to_string()))?;
    let mut rows = range.rows().map(|r| r.iter().map(cell).collect::<Vec<_>>());
    let headers = rows.next().ok_or(TableError::Empty)?;
    Ok(Table {
        headers,
        rows: rows.collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_bom_and_trailing_blank_rows() {
        let t = read("a.CSV", "\u{feff}证件号码,状态\n1,欠费\n,\n".as_bytes()).unwrap();
        assert_eq!(t.headers, ["证件号码", "状态"]);
        assert_eq!(t.rows, [["1", "欠费"]]);
    }

    #[test]
    fn unsupported_and_empty_files() {
        assert_eq!(
            read("a.xls", b"").err(),
            Some(TableError::UnsupportedType("xls".into()))
        );
        assert_eq!(read("a.csv", b"").err(), Some(TableError::Empty));
        assert!(matches!(
            read("a.csv", b"\xff\xfe"),
            Err(TableError::Unreadable(_))
        ));
        assert!(matches!(
            read("a.xlsx", b"not a zip"),
            Err(TableError::Unreadable(_))
        ));
    }
}
