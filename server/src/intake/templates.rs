//! Per-department file templates: the column headers departments use in
//! their own files (Chinese), mapped to the fields of a record.

/// A field of a department record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Identifier,
    Name,
    SourceKey,
    Category,
    StartDate,
    EndDate,
    Amount,
    Status,
    Negative,
    Details,
}

pub struct Column {
    pub header: &'static str,
    pub col: Col,
    pub required: bool,
}

const fn req(header: &'static str, col: Col) -> Column {
    Column {
        header,
        col,
        required: true,
    }
}

const fn opt(header: &'static str, col: Col) -> Column {
    Column {
        header,
        col,
        required: false,
    }
}

pub struct Template {
    /// Department code this template is for; `None` for the generic one.
    pub department: Option<&'static str>,
    pub columns: &'static [Column],
    /// The category of every row, when the file has no category column.
    pub fixed_category: Option<&'static str>,
    /// Values of the category column as the department writes them.
    pub category_names: &'static [(&'static str, &'static str)],
}

use Col::*;

pub const GENERIC: Template = Template {
    department: None,
    columns: &[
        req("证件号码", Identifier),
        req("姓名/名称", Name),
        req("记录类别", Category),
        req("记录编号", SourceKey),
        opt("开始日期", StartDate),
        opt("结束日期", EndDate),
        opt("金额（元）", Amount),
        req("状态", Status),
        opt("是否负面", Negative),
        opt("详情", Details),
    ],
    fixed_category: None,
    category_names: &[],
};

pub const TEMPLATES: &[Template] = &[
    Template {
        department: Some("D-COURT"),
        columns: &[
            req("当事人证件号码", Identifier),
            req("当事人名称", Name),
            req("案号", SourceKey),
            req("类别", Category),
            opt("立案日期", StartDate),
            opt("结案日期", EndDate),
            opt("标的金额（元）", Amount),
            req("执行状态", Status),
            opt("案件详情", Details),
        ],
        fixed_category: None,
        category_names: &[
            ("判决执行", "court_judgment"),
            ("法院判决与执行", "court_judgment"),
            ("失信被执行人", "dishonest_debtor"),
        ],
    },
    Template {
        department: Some("D-TAX"),
        columns: &[
            req("纳税人识别号", Identifier),
            req("纳税人名称", Name),
            req("欠税编号", SourceKey),
            opt("欠税起始日期", StartDate),
            opt("缴清日期", EndDate),
            req("欠税金额（元）", Amount),
            req("状态", Status),
            opt("备注", Details),
        ],
        fixed_category: Some("tax_arrears"),
        category_names: &[],
    },
    Template {
        department: Some("D-POWER"),
        columns: &[
            req("用户证件号码", Identifier),
            req("用户名称", Name),
            req("电费户号", SourceKey),
            opt("欠费起始日期", StartDate),
            opt("缴清日期", EndDate),
            req("欠费金额（元）", Amount),
            req("状态", Status),
            opt("备注", Details),
        ],
        fixed_category: Some("electricity_arrears"),
        category_names: &[],
    },
    Template {
        department: Some("D-WATER"),
        columns: &[
            req("用户证件号码", Identifier),
            req("用户名称", Name),
            req("水费户号", SourceKey),
            opt("欠费起始日期", StartDate),
            opt("缴清日期", EndDate),
            req("欠费金额（元）", Amount),
            req("状态", Status),
            opt("备注", Details),
        ],
        fixed_category: Some("water_arrears"),
        category_names: &[],
    },
    Template {
        department: Some("D-SAMR"),
        columns: &[
            req("统一社会信用代码", Identifier),
            req("主体名称", Name),
            req("决定书文号", SourceKey),
            req("类别", Category),
            opt("决定日期", StartDate),
            opt("有效期至", EndDate),
            opt("罚没金额（元）", Amount),
            req("状态", Status),
            opt("内容", Details),
        ],
        fixed_category: None,
        category_names: &[
            ("行政许可", "admin_licence"),
            ("行政处罚", "admin_penalty"),
            ("行政奖励", "admin_award"),
        ],
    },
];

/// The template for a department code: its own, or the generic one.
pub fn for_department(code: &str) -> &'static Template {
    TEMPLATES
        .iter()
        .find(|t| t.department == Some(code))
        .unwrap_or(&GENERIC)
}

/// Headers compare without spaces and with ASCII parentheses read as
/// full-width ones: `金额(元)` is `金额（元）`.
pub fn normalise_header(h: &str) -> String {
    h.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '(' => '（',
            ')' => '）',
            c => c,
        })
        .collect()
}
