//! Reading a department file into a table of strings: CSV (UTF-8, or
//! GBK/GB18030 as office software on Chinese Windows saves it) and .xlsx
//! (first sheet; dates as dates, whole numbers without a decimal point).
//!
//! Files come from outside, so every size is bounded before it is
//! allocated: an .xlsx is measured entry by entry (what it really unpacks to,
//! not what it declares) before calamine opens it, and its sheet is read cell
//! by cell, refusing positions past the limits, instead of as a dense range
//! whose size the file's last cell decides (one cell at XFD1048576 asked for
//! 512 GiB).

use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx};

/// Data rows a file may hold (a county department's half year is well
/// under this).
pub const MAX_ROWS: usize = 500_000;
/// Columns a file may use; the templates need about ten.
pub const MAX_COLUMNS: usize = 64;
/// Cells a sheet may hold, blank ones included.
pub const MAX_CELLS: usize = 10_000_000;
/// What an .xlsx may unpack to, all entries together.
pub const MAX_UNPACKED_BYTES: u64 = 256 * 1024 * 1024;
/// How much larger than its compressed size an entry of more than a
/// mebibyte may unpack to (spreadsheets stay far below; bombs far above).
pub const MAX_RATIO: u64 = 100;
/// Entries in an .xlsx archive (a workbook has a dozen or two).
pub const MAX_ENTRIES: usize = 1_000;

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
    /// Headers only: nothing to import, and no delivery either.
    #[error("the file has no data rows")]
    NoDataRows,
    #[error("cannot read the file: {0}")]
    Unreadable(String),
    #[error("neither UTF-8 nor GBK text")]
    UnknownEncoding,
    #[error("more than {MAX_ROWS} data rows")]
    TooManyRows,
    #[error("more than {MAX_COLUMNS} columns")]
    TooManyColumns,
    #[error("more than {MAX_CELLS} cells")]
    TooManyCells,
    #[error("unpacks to more than {} MiB", MAX_UNPACKED_BYTES >> 20)]
    UnpacksTooLarge,
    #[error("an entry unpacks to more than {MAX_RATIO} times its packed size")]
    CompressionRatio,
    #[error("more than {MAX_ENTRIES} entries in the archive")]
    TooManyEntries,
    /// A cell position that is not a column of at most three letters and a
    /// row of at most seven digits (the spreadsheet parser overflows on one).
    #[error("a sheet names a cell position that is not one: {0:?}")]
    BadCellReference(String),
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
    if table.rows.is_empty() {
        return Err(TableError::NoDataRows);
    }
    Ok(table)
}

/// UTF-8 (with or without a byte-order mark), else GB18030, the superset of
/// GBK that Chinese office software writes.
fn decode(bytes: &[u8]) -> Result<std::borrow::Cow<'_, str>, TableError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.into());
    }
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    match had_errors {
        true => Err(TableError::UnknownEncoding),
        false => Ok(text),
    }
}

fn read_csv(bytes: &[u8]) -> Result<Table, TableError> {
    let text = decode(bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| TableError::Unreadable(e.to_string()))?;
        if record.len() > MAX_COLUMNS {
            return Err(TableError::TooManyColumns);
        }
        if rows.len() > MAX_ROWS {
            return Err(TableError::TooManyRows);
        }
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

/// Unpacks every entry into nothing, counting what it really yields (a
/// declared size can lie), and refuses the archive past the limits.
fn measure_archive(bytes: &[u8]) -> Result<(), TableError> {
    let unreadable = |e: zip::result::ZipError| TableError::Unreadable(e.to_string());
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(unreadable)?;
    if archive.len() > MAX_ENTRIES {
        return Err(TableError::TooManyEntries);
    }
    let mut total = 0u64;
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(unreadable)?;
        let packed = entry.compressed_size().max(1);
        let left = MAX_UNPACKED_BYTES - total;
        let sheet = entry
            .name()
            .map_or(true, |n| n.starts_with("xl/worksheets/"));
        let mut refs = CellRefs::default();
        let unpacked = if sheet {
            std::io::copy(&mut entry.take(left + 1), &mut refs)
        } else {
            std::io::copy(&mut entry.take(left + 1), &mut std::io::sink())
        }
        .map_err(|e| TableError::Unreadable(e.to_string()))?;
        if let Some(bad) = refs.bad {
            return Err(TableError::BadCellReference(bad));
        }
        if unpacked > left {
            return Err(TableError::UnpacksTooLarge);
        }
        if unpacked > 1024 * 1024 && unpacked / packed > MAX_RATIO {
            return Err(TableError::CompressionRatio);
        }
        total += unpacked;
    }
    Ok(())
}

/// Checks every cell position a sheet names (`r="B2"`, `ref="A1:G3"`) as
/// its XML streams by: at most three letters and seven digits each.
#[derive(Default)]
struct CellRefs {
    /// The last bytes seen outside a value, to spot ` r="` and ` ref="`.
    recent: [u8; 6],
    /// The quote that opened the value being read, and the value so far.
    value: Option<(u8, Vec<u8>)>,
    /// The first position that is not one.
    bad: Option<String>,
}

impl CellRefs {
    const LONGEST: usize = 24;

    /// (column, row) of a position like `B2` (a bare row number has
    /// column 0).
    fn position(part: &[u8]) -> Option<(u32, u32)> {
        let letters = part.iter().take_while(|b| b.is_ascii_alphabetic()).count();
        let digits = &part[letters..];
        if letters > 3 || !(1..=7).contains(&digits.len()) {
            return None;
        }
        let column = part[..letters].iter().fold(0, |c, b| {
            c * 26 + u32::from(b.to_ascii_uppercase() - b'A') + 1
        });
        let row = std::str::from_utf8(digits).ok()?.parse().ok()?;
        Some((column, row))
    }

    /// One position, or a range from its top left to its bottom right
    /// (the parser subtracts one from the other).
    fn valid(value: &[u8]) -> bool {
        let parts: Option<Vec<(u32, u32)>> =
            value.split(|&b| b == b':').map(Self::position).collect();
        match parts.as_deref() {
            Some([_]) => true,
            Some([(c0, r0), (c1, r1)]) => c0 <= c1 && r0 <= r1,
            _ => false,
        }
    }

    fn byte(&mut self, b: u8) {
        if let Some((quote, value)) = &mut self.value {
            if b == *quote {
                if !Self::valid(value) {
                    self.bad = Some(String::from_utf8_lossy(value).into_owned());
                }
                self.value = None;
            } else if value.len() < Self::LONGEST {
                value.push(b);
            } else {
                value.push(b);
                self.bad = Some(format!("{}…", String::from_utf8_lossy(value)));
                self.value = None;
            }
            return;
        }
        // Whitespace is kept as one space, and dropped around `=`, so
        // `r = "B2"` is seen as ` r="B2"`.
        let last = self.recent[5];
        match b {
            _ if b.is_ascii_whitespace() && (last == b' ' || last == b'=') => return,
            _ if b.is_ascii_whitespace() => self.push(b' '),
            b'=' if last == b' ' => self.recent[5] = b'=',
            _ => self.push(b),
        }
        if matches!(b, b'"' | b'\'') {
            let r = &self.recent;
            let named = |name: &[u8]| {
                let at = 5 - name.len() - 1;
                &r[at + 1..5] == name && r[at].is_ascii_whitespace()
            };
            if r[4] == b'=' && (named(b"r=") || named(b"ref=")) {
                self.value = Some((b, Vec::new()));
            }
        }
    }
}

impl CellRefs {
    fn push(&mut self, b: u8) {
        self.recent.rotate_left(1);
        self.recent[5] = b;
    }
}

impl std::io::Write for CellRefs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bad.is_none() {
            for &b in buf {
                self.byte(b);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn read_xlsx(bytes: &[u8]) -> Result<Table, TableError> {
    measure_archive(bytes)?;
    let unreadable = |e: calamine::XlsxError| TableError::Unreadable(e.to_string());
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(unreadable)?;
    let sheet = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or(TableError::Empty)?;
    let mut cells = book.worksheet_cells_reader(&sheet).map_err(unreadable)?;
    // The declared extent refuses an oversized sheet before a cell is read;
    // each cell's own position is checked too, since the declaration is
    // optional and may lie.
    let declared = cells.dimensions();
    check_position(declared.end)?;
    let mut grid: Vec<Vec<String>> = Vec::new();
    let mut seen = 0usize;
    while let Some(c) = cells.next_cell().map_err(unreadable)? {
        seen += 1;
        if seen > MAX_CELLS {
            return Err(TableError::TooManyCells);
        }
        let (row, col) = c.get_position();
        check_position((row, col))?;
        let value = cell(&Data::from(c.get_value().clone()));
        if value.is_empty() {
            continue;
        }
        let (row, col) = (row as usize, col as usize);
        if grid.len() <= row {
            grid.resize_with(row + 1, Vec::new);
        }
        let cells = &mut grid[row];
        if cells.len() <= col {
            cells.resize(col + 1, String::new());
        }
        cells[col] = value;
    }
    // The table starts at the first filled row and column, wherever the
    // department put it.
    let first_row = grid
        .iter()
        .position(|r| !r.is_empty())
        .ok_or(TableError::Empty)?;
    let first_col = grid
        .iter()
        .filter_map(|r| r.iter().position(|v| !v.is_empty()))
        .min()
        .unwrap_or(0);
    let mut rows = grid.into_iter().skip(first_row).map(|mut r| {
        r.drain(..first_col.min(r.len()));
        r
    });
    let headers = rows.next().ok_or(TableError::Empty)?;
    Ok(Table {
        headers,
        rows: rows.collect(),
    })
}

/// A 0-based (row, column) within the limits; row 0 may be the header.
fn check_position((row, col): (u32, u32)) -> Result<(), TableError> {
    if row as usize > MAX_ROWS {
        return Err(TableError::TooManyRows);
    }
    if col as usize >= MAX_COLUMNS {
        return Err(TableError::TooManyColumns);
    }
    Ok(())
}

/// Crafted workbooks for tests and the fuzz harness: the smallest file
/// calamine opens, around a sheet given as XML.
pub mod crafted {
    use std::io::{Cursor, Write};

    /// A minimal workbook whose first sheet holds `sheet_xml`.
    pub fn workbook(sheet_xml: &str) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let deflated = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let entries = [
            (
                "[Content_Types].xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
            ),
            (
                "_rels/.rels",
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
            ),
            (
                "xl/workbook.xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
            ),
            (
                "xl/_rels/workbook.xml.rels",
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
            ),
        ];
        for (name, body) in entries {
            zip.start_file(name, deflated).expect("writing to memory");
            zip.write_all(body.as_bytes()).expect("writing to memory");
        }
        zip.start_file("xl/worksheets/sheet1.xml", deflated)
            .expect("writing to memory");
        zip.write_all(sheet_xml.as_bytes())
            .expect("writing to memory");
        zip.finish().expect("writing to memory").into_inner()
    }

    pub fn sheet(dimension: &str, rows: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{dimension}<sheetData>{rows}</sheetData></worksheet>"#
        )
    }
}

#[cfg(test)]
mod tests {
    use super::crafted::{sheet, workbook};
    use super::*;

    #[test]
    fn cell_positions_are_checked_before_the_parser_sees_them() {
        for good in ["A1", "XFD1048576", "A1:G3", "123", "b2"] {
            assert!(CellRefs::valid(good.as_bytes()), "{good}");
        }
        for bad in [
            "AAAA1",
            "A12345678",
            "AinlineStr",
            "",
            "A1:",
            "1A",
            "A-1",
            "A91:G3",
            "B1:A1",
            "A1:B2:C3",
        ] {
            assert!(!CellRefs::valid(bad.as_bytes()), "{bad}");
        }
        let header = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>证件号码</t></is></c></row>"#;
        // An over-long column overflowed calamine's position arithmetic.
        for (dimension, cell) in [
            ("", r#"<c r="AAAAAAAAAAAAAAAAAAAA2"><v>1</v></c>"#),
            (
                r#"<dimension ref='A1:ZZZZZZZZZZZZZZZ9'/>"#,
                r#"<c r="A2"><v>1</v></c>"#,
            ),
        ] {
            let book = workbook(&sheet(
                dimension,
                &format!("{header}<row r=\"2\">{cell}</row>"),
            ));
            assert!(
                matches!(read("x.xlsx", &book), Err(TableError::BadCellReference(_))),
                "{cell}"
            );
        }
        // Attributes that merely end in r or ref are not positions.
        let fine = workbook(&sheet(
            "",
            &format!(
                r#"{header}<row r="2" spans="1:1" customHeight="1"><c r="A2" s="1"><v>1</v></c></row>"#
            ),
        ));
        assert!(read("x.xlsx", &fine).is_ok());
    }

    #[test]
    fn csv_with_bom_and_trailing_blank_rows() {
        let t = read("a.CSV", "\u{feff}证件号码,状态\n1,欠费\n,\n".as_bytes()).unwrap();
        assert_eq!(t.headers, ["证件号码", "状态"]);
        assert_eq!(t.rows, [["1", "欠费"]]);
    }

    #[test]
    fn gbk_csv_is_decoded() {
        let (gbk, _, _) = encoding_rs::GBK.encode("证件号码,状态\n1,未履行\n");
        assert!(std::str::from_utf8(&gbk).is_err(), "really not UTF-8");
        let t = read("a.csv", &gbk).unwrap();
        assert_eq!(t.headers, ["证件号码", "状态"]);
        assert_eq!(t.rows, [["1", "未履行"]]);
        // Bytes that are neither say so.
        assert_eq!(
            read("a.csv", b"\x81\x20,\xff\xff\n").err(),
            Some(TableError::UnknownEncoding)
        );
    }

    #[test]
    fn unsupported_and_empty_files() {
        assert_eq!(
            read("a.xls", b"").err(),
            Some(TableError::UnsupportedType("xls".into()))
        );
        assert_eq!(read("a.csv", b"").err(), Some(TableError::Empty));
        assert_eq!(
            read("a.csv", "证件号码,状态\n,\n".as_bytes()).err(),
            Some(TableError::NoDataRows)
        );
        assert!(matches!(
            read("a.xlsx", b"not a zip"),
            Err(TableError::Unreadable(_))
        ));
    }

    #[test]
    fn csv_limits() {
        let wide = vec!["x"; MAX_COLUMNS + 1].join(",");
        assert_eq!(
            read("a.csv", wide.as_bytes()).err(),
            Some(TableError::TooManyColumns)
        );
        let long = "a\n".repeat(MAX_ROWS + 2);
        assert_eq!(
            read("a.csv", long.as_bytes()).err(),
            Some(TableError::TooManyRows)
        );
        let just = "a\n".repeat(MAX_ROWS + 1);
        assert_eq!(read("a.csv", just.as_bytes()).unwrap().rows.len(), MAX_ROWS);
    }

    const HEADER: &str = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>证件号码</t></is></c><c r="B1" t="inlineStr"><is><t>状态</t></is></c></row>"#;

    #[test]
    fn a_workbook_reads_from_its_first_filled_cell() {
        let rows = r#"<row r="2"><c r="B2" t="inlineStr"><is><t>证件号码</t></is></c><c r="C2" t="inlineStr"><is><t>金额</t></is></c></row><row r="3"><c r="B3" t="inlineStr"><is><t>4412</t></is></c><c r="C3"><v>12.0</v></c></row><row r="5"><c r="C5"><v>3.5</v></c></row>"#;
        let t = read("a.xlsx", &workbook(&sheet("", rows))).unwrap();
        assert_eq!(t.headers, ["证件号码", "金额"]);
        assert_eq!(t.rows, vec![vec!["4412", "12"], vec![], vec!["", "3.5"]]);
    }

    #[test]
    fn a_far_cell_is_refused_not_allocated() {
        // The template's header plus one cell at the sheet's last position:
        // this asked calamine for 512 GiB.
        let far = r#"<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>"#;
        let book = workbook(&sheet("", &format!("{HEADER}{far}")));
        assert!(book.len() < 2_000, "{} bytes", book.len());
        assert_eq!(read("a.xlsx", &book).err(), Some(TableError::TooManyRows));
        // Far to the right only.
        let right = r#"<row r="2"><c r="XFD2"><v>1</v></c></row>"#;
        let book = workbook(&sheet("", &format!("{HEADER}{right}")));
        assert_eq!(
            read("a.xlsx", &book).err(),
            Some(TableError::TooManyColumns)
        );
        // A declared extent that large is refused before any cell is read.
        let declared = r#"<dimension ref="A1:XFD1048576"/>"#;
        let book = workbook(&sheet(declared, HEADER));
        assert_eq!(read("a.xlsx", &book).err(), Some(TableError::TooManyRows));
    }

    #[test]
    fn a_workbook_bomb_is_refused_by_its_unpacked_size() {
        // Blank cells without positions (the position is optional) compress
        // about a thousandfold: 2 MB of them pack into a few kilobytes.
        let blank = format!("<row>{}</row>", "<c/>".repeat(40)).repeat(12_500);
        let book = workbook(&sheet("", &format!("{HEADER}{blank}")));
        assert_eq!(
            read("a.xlsx", &book).err(),
            Some(TableError::CompressionRatio)
        );
    }

    #[test]
    fn every_refusal_names_its_limit() {
        assert!(TableError::TooManyRows.to_string().contains("500000"));
        assert!(TableError::TooManyColumns.to_string().contains("64"));
        assert!(TableError::UnpacksTooLarge.to_string().contains("256 MiB"));
    }
}
