//! Writes the example department files under `server/src/demo/` (run once,
//! results committed): a court .xlsx and a tax .csv, each with a few bad
//! rows. `cargo run -p credit-desk-server --example make_fixtures`
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

type Ymd = Option<(u16, u8, u8)>;
/// id, name, case number, category, filed, closed, amount, status, details.
type CourtRow<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    Ymd,
    Ymd,
    f64,
    &'a str,
    &'a str,
);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/demo");
    std::fs::create_dir_all(&dir)?;

    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let headers = [
        "当事人证件号码",
        "当事人名称",
        "案号",
        "类别",
        "立案日期",
        "结案日期",
        "标的金额（元）",
        "执行状态",
        "案件详情",
    ];
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string(0, c as u16, *h)?;
    }
    // (id, name, case no., category, filed (y,m,d) or text, closed, amount, status, details)
    let rows: &[CourtRow] = &[
        (
            "441284196508120010",
            "李建国",
            "(2024)粤1284民初1001号",
            "判决执行",
            Some((2024, 3, 5)),
            Some((2024, 9, 30)),
            35000.0,
            "已履行",
            "民间借贷纠纷",
        ),
        (
            "441284196508120010",
            "李建国",
            "(2025)粤1284执302号",
            "失信被执行人",
            Some((2025, 2, 11)),
            None,
            12800.5,
            "未履行",
            "拒不履行生效判决",
        ),
        (
            "441284198811230035",
            "黄志强",
            "(2023)粤1284民初88号",
            "判决执行",
            Some((2023, 6, 1)),
            Some((2023, 12, 20)),
            5000.0,
            "已履行",
            "买卖合同纠纷",
        ),
        (
            "93441284MA4W00011D",
            "四会市大沙镇兴旺农业专业合作社",
            "(2025)粤1284民初455号",
            "判决执行",
            Some((2025, 4, 2)),
            None,
            80000.0,
            "执行中",
            "承揽合同纠纷",
        ),
        // Bad: wrong check character.
        (
            "441284198811230036",
            "黄志强",
            "(2025)粤1284执999号",
            "失信被执行人",
            Some((2025, 1, 1)),
            None,
            100.0,
            "未履行",
            "",
        ),
        // Bad: unknown category, missing status.
        (
            "441284199003070023",
            "陈美玲",
            "(2025)粤1284民初777号",
            "离婚纠纷",
            Some((2025, 5, 5)),
            None,
            0.0,
            "",
            "",
        ),
        // Bad: closed before filed.
        (
            "441284199003070023",
            "陈美玲",
            "(2024)粤1284民初666号",
            "判决执行",
            Some((2024, 8, 1)),
            Some((2024, 7, 1)),
            900.0,
            "已履行",
            "",
        ),
    ];
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write_string(row, 0, r.0)?;
        sheet.write_string(row, 1, r.1)?;
        sheet.write_string(row, 2, r.2)?;
        sheet.write_string(row, 3, r.3)?;
        for (col, d) in [(4u16, r.4), (5, r.5)] {
            if let Some((y, m, d)) = d {
                sheet.write_datetime_with_format(
                    row,
                    col,
                    &ExcelDateTime::from_ymd(y, m, d)?,
                    &date,
                )?;
            }
        }
        sheet.write_number(row, 6, r.6)?;
        sheet.write_string(row, 7, r.7)?;
        sheet.write_string(row, 8, r.8)?;
    }
    book.save(dir.join("court-2025H1.xlsx"))?;

    let csv =
        "\u{feff}纳税人识别号,纳税人名称,欠税编号,欠税起始日期,缴清日期,欠税金额(元),状态,备注
93441284MA4W00011D,四会市大沙镇兴旺农业专业合作社,QS-2025-0001,2025-01-15,,\"12,000.00\",未缴,增值税
441284198811230035,黄志强,QS-2025-0002,2024/11/01,2025/03/01,860.5,已缴清,个人所得税
9144030071526726XG,深圳市腾讯计算机系统有限公司,QS-2025-0003,2025年2月1日,,3000,未缴,印花税
91441284MA4X00000X,某某商贸有限公司,QS-2025-0004,2025-02-01,,1000,未缴,
441284199003070023,陈美铃,QS-2025-0005,2025-03-01,,200,未缴,姓名写错
441284199003070023,陈美玲,QS-2025-0006,2025-13-01,,abc,未缴,
";
    std::fs::write(dir.join("tax-2025H1.csv"), csv)?;
    println!("wrote {}", dir.display());
    Ok(())
}
