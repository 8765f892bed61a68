//! Field validation shared by the workstation (checks as the clerk types) and
//! the server (checks again, because only the server is trusted).
//!
//! Each check returns a [`FieldError`] naming the field and the rule broken;
//! its message is available in both interface languages.

use crate::Lang;
use crate::ident::{self, IdError};
use crate::pb::{OrgActor, OrgUnitKind, Role, VerificationMethod};
use chrono::Datelike;

/// Field names as they appear in requests (and in `BadRequest` violations).
pub mod field {
    /// The request as a whole (it could not be decoded).
    pub const REQUEST: &str = "request";
    pub const USERNAME: &str = "username";
    pub const SSH_KEY: &str = "ssh_key";
    pub const PASSWORD: &str = "password";
    pub const NEW_PASSWORD: &str = "new_password";
    pub const INITIAL_PASSWORD: &str = "initial_password";
    pub const DISPLAY_NAME: &str = "display_name";
    pub const CODE: &str = "code";
    pub const NAME: &str = "name";
    pub const KIND: &str = "kind";
    pub const ROLE: &str = "role";
    pub const PARENT_ID: &str = "parent_id";
    pub const ORG_UNIT_ID: &str = "org_unit_id";
    pub const OPERATOR_ID: &str = "operator_id";
    pub const REQUEST_ID: &str = "request_id";
    pub const CURRENT_PASSWORD: &str = "current_password";
    pub const IDENTIFIER: &str = "identifier";
    pub const METHOD: &str = "method";
    pub const DOCUMENT: &str = "document";
    pub const AGENT_IDENTIFIER: &str = "agent_identifier";
    pub const AGENT_NAME: &str = "agent_name";
    pub const POA_REFERENCE: &str = "poa_reference";
    pub const ACTING_AS: &str = "acting_as";
    pub const LICENCE: &str = "licence";
    pub const DEPARTMENT_ID: &str = "department_id";
    pub const FILE: &str = "file";
    pub const ID: &str = "id";
    pub const VERIFICATION_ID: &str = "verification_id";
    pub const QUERY: &str = "query";
    pub const CURSOR: &str = "cursor";
    pub const SUBJECT_IDENTIFIER: &str = "subject_identifier";
    pub const OPERATOR_USERNAME: &str = "operator_username";
    pub const INSTITUTION_CODE: &str = "institution_code";
    pub const PURPOSE_CODE: &str = "purpose_code";
    pub const FROM_DATE: &str = "from_date";
    pub const TO_DATE: &str = "to_date";
    pub const ADDRESS: &str = "address";
    pub const PHONE: &str = "phone";
    pub const LEGAL_REPRESENTATIVE: &str = "legal_representative";
    pub const VILLAGE: &str = "village";
    pub const RELATION: &str = "relation";
    pub const HOUSEHOLD_ID: &str = "household_id";
    pub const HEAD_ID: &str = "head_id";
    pub const MEMBER: &str = "remove_member";
    pub const FORMER_HEAD_RELATION: &str = "former_head_relation";
    pub const KEY: &str = "key";
    pub const VALUE: &str = "value";
    pub const ENABLED: &str = "enabled";
    pub const REPLY_LETTER_NO: &str = "reply_letter_no";
    pub const REPLY_LETTER_DATE: &str = "reply_letter_date";
}

/// What staff call each field a request may name, in both languages; a
/// message never shows a wire name such as `record_ids`.
const FIELD_LABELS: &[(&str, &str, &str)] = &[
    ("request", "请求", "request"),
    ("username", "用户名", "username"),
    ("ssh_key", "SSH 公钥", "SSH public key"),
    ("password", "密码", "password"),
    ("new_password", "新密码", "new password"),
    ("initial_password", "初始密码", "initial password"),
    ("current_password", "当前密码", "current password"),
    ("display_name", "姓名", "name"),
    ("code", "代码", "code"),
    ("name", "名称", "name"),
    ("name_zh", "中文名称", "Chinese name"),
    ("name_en", "英文名称", "English name"),
    ("kind", "类型", "kind"),
    ("role", "角色", "role"),
    ("parent_id", "上级机构", "parent unit"),
    ("org_unit_id", "机构", "org unit"),
    ("operator_id", "操作员", "operator"),
    ("request_id", "请求编号", "request id"),
    ("identifier", "证件号码", "identity number"),
    ("method", "核验方式", "verification method"),
    ("document", "证件", "document"),
    (
        "agent_identifier",
        "代理人证件号码",
        "agent's identity number",
    ),
    ("agent_name", "代理人姓名", "agent's name"),
    ("poa_reference", "授权委托书编号", "power of attorney"),
    ("acting_as", "办理人身份", "acting as"),
    ("licence", "营业执照（登记证书）", "licence"),
    ("department_id", "报送部门", "department"),
    ("file", "文件", "file"),
    ("file_name", "文件名", "file name"),
    ("id", "编号", "id"),
    ("verification_id", "身份核验", "identity verification"),
    ("query", "查询条件", "search"),
    ("cursor", "翻页位置", "page position"),
    ("grantee_id", "被授权机构", "grantee"),
    ("purpose", "查询用途", "purpose"),
    ("valid_from", "授权起始", "valid from"),
    ("valid_until", "授权截止", "valid until"),
    ("form_serial", "授权书编号", "form serial"),
    ("scan_sha256", "扫描件", "scan"),
    ("remarks", "备注", "remarks"),
    ("scope", "授权范围", "scope"),
    ("categories", "信息类别", "categories"),
    ("basis", "查询依据", "basis"),
    ("consent_id", "查询授权", "consent"),
    ("subject_id", "信息主体", "subject"),
    ("record_id", "信用记录", "record"),
    ("record_ids", "异议记录", "disputed records"),
    ("reason_category", "异议类别", "objection category"),
    ("reason_text", "异议理由", "objection reason"),
    ("reason", "原因", "reason"),
    ("evidence", "证明材料", "evidence"),
    ("contact_phone", "联系电话", "contact phone"),
    ("contact_address", "联系地址", "contact address"),
    ("notify_by", "通知方式", "notice channel"),
    ("ticket_id", "异议案卷", "objection"),
    ("letter_id", "核实协查函", "verification request"),
    ("received_on", "部门收函日期", "receipt date"),
    ("reply_text", "回复内容", "reply"),
    ("decisions", "核查结果", "findings"),
    ("status", "状态", "status"),
    ("details", "详情", "details"),
    ("end_date", "结束日期", "end date"),
    ("note", "备注", "note"),
    ("channel", "通知方式", "channel"),
    ("action", "操作", "action"),
    ("state", "状态", "state"),
    ("text", "内容", "text"),
    ("csv", "日历文件", "calendar file"),
    ("calendar", "工作日历", "working-day calendar"),
    ("import_id", "导入批次", "import"),
    ("row", "行", "row"),
    ("date", "日期", "date"),
    ("year", "年份", "year"),
    ("period", "报送期", "delivery period"),
    ("written_request", "书面撤回申请", "written withdrawal"),
    ("subject_identifier", "证件号码", "identity number"),
    ("operator_username", "操作员用户名", "operator's user name"),
    ("institution_code", "机构代码", "institution code"),
    ("purpose_code", "查询用途代码", "purpose code"),
    ("from_date", "起始日期", "from"),
    ("to_date", "截止日期", "to"),
    ("complainant", "投诉人", "complainant"),
    ("contact", "联系方式", "contact"),
    ("about", "投诉事项", "what it is about"),
    ("complaint_received_on", "收到投诉日期", "received on"),
    ("complaint_channel", "投诉方式", "how it came"),
    ("answer", "书面答复", "written answer"),
    ("assignee_username", "承办人用户名", "assignee's user name"),
    ("complaint_id", "投诉", "complaint"),
    ("day", "日期", "day"),
    ("conclusion", "核查结论", "conclusion"),
    ("alert_id", "预警", "alert"),
    ("month", "统计月份", "month"),
    ("report_no", "报告编号", "report number"),
    ("address", "地址", "address"),
    ("phone", "联系电话", "phone"),
    (
        "legal_representative",
        "法定代表人（负责人）",
        "legal representative",
    ),
    ("unlawful_provision", "违规提供信息", "unlawful provision"),
    ("misuse", "滥用信息", "misuse"),
    ("leaks", "信息泄露", "leaks"),
    ("village", "所在村（社区）", "village"),
    ("relation", "与户主关系", "relation to the head"),
    ("household_id", "农户", "household"),
    ("head_id", "户主", "head of household"),
    ("remove_member", "农户成员", "household member"),
    ("key", "设定项", "setting"),
    ("value", "设定值", "value"),
    ("enabled", "启用状态", "enabled"),
    ("reply_letter_no", "回函文号", "reply letter number"),
    ("reply_letter_date", "回函日期", "reply letter date"),
    (
        "former_head_relation",
        "原户主与新户主的关系",
        "former head's relation to the new head",
    ),
];

/// A field's name as staff call it, in `lang`; an unlisted name as it is.
pub fn field_label(field: &str, lang: Lang) -> &str {
    FIELD_LABELS
        .iter()
        .find(|(f, ..)| *f == field)
        .map_or(field, |(_, zh, en)| lang.pick(*zh, *en))
}

/// Text as a Chinese input method may type it, with full-width letters,
/// digits and signs (ＡＢ１２３－) and the ideographic space turned into
/// their ASCII forms.
pub fn half_width(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFF01 + 0x21).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .collect()
}

/// A date a clerk typed, `YYYY-MM-DD` (full-width digits too). A date in
/// that form that does not exist says so, rather than naming the format.
pub fn date(field: &'static str, text: &str) -> Result<chrono::NaiveDate, FieldError> {
    let text = half_width(text);
    let text = text.trim();
    let shaped = text.len() == 10
        && text.char_indices().all(|(i, c)| match i {
            4 | 7 => c == '-',
            _ => c.is_ascii_digit(),
        });
    match chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(day) if shaped => Ok(day),
        _ if shaped => Err(FieldError::new(field, Rule::NoSuchDate)),
        _ => Err(FieldError::new(field, Rule::NotADate)),
    }
}

/// The day a department received a verification request: empty is today;
/// never after today, nor before the objection was filed.
pub fn receipt_date(
    field: &'static str,
    text: &str,
    today: chrono::NaiveDate,
    filed_on: chrono::NaiveDate,
) -> Result<chrono::NaiveDate, FieldError> {
    if text.trim().is_empty() {
        return Ok(today);
    }
    let day = date(field, text)?;
    if day > today {
        Err(FieldError::new(field, Rule::AfterToday))
    } else if day < filed_on {
        Err(FieldError::new(
            field,
            Rule::NotBefore { earliest: filed_on },
        ))
    } else {
        Ok(day)
    }
}

/// A department's reply letter: its number and date together, or neither
/// (a liaison answering on screen). The date is not after today, nor
/// before the department received the request.
pub fn reply_letter(
    number: &str,
    date_text: &str,
    today: chrono::NaiveDate,
    received_on: chrono::NaiveDate,
) -> Result<Option<(String, chrono::NaiveDate)>, Vec<FieldError>> {
    let (number, date_text) = (number.trim(), date_text.trim());
    match (number.is_empty(), date_text.is_empty()) {
        (true, true) => return Ok(None),
        (true, false) => {
            return Err(vec![FieldError::new(
                field::REPLY_LETTER_NO,
                Rule::Required,
            )]);
        }
        (false, true) => {
            return Err(vec![FieldError::new(
                field::REPLY_LETTER_DATE,
                Rule::Required,
            )]);
        }
        (false, false) => {}
    }
    let mut errors = Vec::new();
    if let Err(e) = display_text(field::REPLY_LETTER_NO, number, REPLY_LETTER_NO_MAX) {
        errors.push(e);
    }
    let day = match date(field::REPLY_LETTER_DATE, date_text) {
        Ok(d) if d > today => Err(FieldError::new(field::REPLY_LETTER_DATE, Rule::AfterToday)),
        Ok(d) if d < received_on => Err(FieldError::new(
            field::REPLY_LETTER_DATE,
            Rule::NotBefore {
                earliest: received_on,
            },
        )),
        other => other,
    };
    match day {
        Ok(d) if errors.is_empty() => Ok(Some((number.to_string(), d))),
        Ok(_) => Err(errors),
        Err(e) => {
            errors.push(e);
            Err(errors)
        }
    }
}

/// A reply letter's number (文号), in characters.
pub const REPLY_LETTER_NO_MAX: usize = 40;

/// How many days a consent is valid: a whole number from 1 to `max_days`.
pub fn validity_days(field: &'static str, text: &str, max_days: u32) -> Result<u32, FieldError> {
    let text = half_width(text);
    let text = text.trim();
    if text.is_empty() {
        return Err(FieldError::new(field, Rule::Required));
    }
    let days: i64 = text
        .strip_prefix('+')
        .unwrap_or(text)
        .replace('−', "-")
        .parse()
        .map_err(|_| FieldError::new(field, Rule::NotAWholeNumber))?;
    if days < 1 {
        return Err(FieldError::new(field, Rule::AtLeast { min: 1 }));
    }
    if days > i64::from(max_days) {
        return Err(FieldError::new(field, Rule::TooLongValidity { max_days }));
    }
    Ok(days as u32)
}

/// The years a month of records may be in.
pub const MONTH_YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// A month as staff write it, `YYYY-MM` (full-width digits too): its first
/// day.
pub fn month(field: &'static str, text: &str) -> Result<chrono::NaiveDate, FieldError> {
    let text = half_width(text);
    let text = text.trim();
    let shaped = text.len() == 7
        && text.char_indices().all(|(i, c)| match i {
            4 => c == '-',
            _ => c.is_ascii_digit(),
        });
    match chrono::NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d") {
        // A month of this system's records, not of the calendar's reach.
        Ok(first) if shaped && !(MONTH_YEARS.contains(&first.year())) => Err(FieldError::new(
            field,
            Rule::YearOutOfRange {
                min: *MONTH_YEARS.start(),
                max: *MONTH_YEARS.end(),
            },
        )),
        Ok(first) if shaped => Ok(first),
        _ => Err(FieldError::new(field, Rule::NotAMonth)),
    }
}

/// How many times something happened: a whole number from 0 to `max`;
/// empty is 0.
pub fn count(field: &'static str, text: &str, max: u32) -> Result<u32, FieldError> {
    let text = half_width(text);
    let text = text.trim();
    if text.is_empty() {
        return Ok(0);
    }
    let n: i64 = text
        .strip_prefix('+')
        .unwrap_or(text)
        .replace('−', "-")
        .parse()
        .map_err(|_| FieldError::new(field, Rule::NotAWholeNumber))?;
    if n < 0 {
        return Err(FieldError::new(field, Rule::AtLeast { min: 0 }));
    }
    if n > i64::from(max) {
        return Err(FieldError::new(field, Rule::AtMost { max: max.into() }));
    }
    Ok(n as u32)
}

/// A department file, as the workstation sends it and the server takes it.
pub const IMPORT_FILE_MAX_BYTES: usize = 32 * 1024 * 1024;

/// Why something was withdrawn or paused: one line a receipt prints.
pub const REASON_MAX: usize = 200;

/// A registry search: a name fragment or the start of a number.
pub const SEARCH_MAX: usize = 40;

/// The key types OpenSSH offers (`ssh -Q key`), hardware keys included.
const SSH_KEY_TYPES: &[&str] = &[
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];
/// A `.pub` line: an RSA-4096 key is under 1 KB.
pub const SSH_KEY_MAX: usize = 16 * 1024;

/// The shape of one OpenSSH public key line (`type base64 [comment]`);
/// the server also decodes it.
pub fn ssh_public_key(value: &str) -> Result<(), FieldError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(FieldError::new(field::SSH_KEY, Rule::Required));
    }
    let mut parts = value.split_whitespace();
    let kind = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();
    let base64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=');
    if value.len() > SSH_KEY_MAX
        || value.contains(['\n', '\r'])
        || !SSH_KEY_TYPES.contains(&kind)
        || body.len() < 40
        || !body.chars().all(base64)
    {
        return Err(FieldError::new(field::SSH_KEY, Rule::NotAnSshKey));
    }
    Ok(())
}

pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 32;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;
pub const DISPLAY_NAME_MAX: usize = 40;
pub const UNIT_CODE_MIN: usize = 2;
pub const UNIT_CODE_MAX: usize = 20;
pub const UNIT_NAME_MAX: usize = 60;

/// The rule a value broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    Required,
    TooShort {
        min: usize,
    },
    TooLong {
        max: usize,
    },
    /// Characters outside the allowed set; `allowed` says which are allowed.
    BadCharacters {
        allowed: &'static str,
    },
    MustStartWithLetter,
    PasswordNeedsLetterAndDigit,
    PasswordContainsUsername,
    PasswordUnchanged,
    /// The current password given to confirm a change is wrong.
    WrongPassword,
    /// An operator cannot disable their own account.
    CannotDisableSelf,
    NotAUuid,
    UnknownValue,
    /// The role cannot belong to an org unit of this kind (a bank officer in a
    /// township, say).
    RoleDoesNotFitUnit,
    /// An org unit of this kind cannot sit under that parent.
    KindDoesNotFitParent,
    /// An identity number or credit code broke one of its rules.
    Identifier(IdError),
    /// An agent cannot act for themself.
    AgentIsSubject,
    /// A file that cannot be imported as it is; the text says why.
    BadFile(String),
    /// Something that was valid for a time is no longer.
    Expired,
    /// An end before its start.
    EndsBeforeStart,
    /// An export would hold more rows than this.
    TooManyToExport {
        max: u32,
    },
    /// A date range longer than this many days.
    RangeTooLong {
        max_days: u32,
    },
    /// A start that lies in the past.
    StartsInThePast,
    /// A start further ahead than the rule allows.
    StartsTooLate {
        max_days: u32,
    },
    /// A validity longer than the center allows.
    TooLongValidity {
        max_days: u32,
    },
    /// Not a SHA-256 fingerprint (64 hexadecimal characters).
    NotSha256,
    /// Not a YYYY-MM-DD date.
    NotADate,
    /// Written as a date, but no such day exists (2026-13-01, 2026-02-30).
    NoSuchDate,
    /// Not a whole number (abc, 1.5).
    NotAWholeNumber,
    /// A day something happened on, after today.
    AfterToday,
    /// A day before what it follows (a receipt before the filing).
    NotBefore {
        earliest: chrono::NaiveDate,
    },
    /// A number below the least allowed.
    AtLeast {
        min: i64,
    },
    /// A number above the most allowed.
    AtMost {
        max: i64,
    },
    /// Not a YYYY-MM month.
    NotAMonth,
    /// Control characters (terminal escapes, NUL …); `lines` says whether
    /// line breaks are allowed.
    ControlCharacters {
        lines: bool,
    },
    /// The working-day calendar holds no schedule for this year.
    CalendarMissingYear {
        year: i32,
    },
    /// A year outside the range the rule accepts.
    YearOutOfRange {
        min: i32,
        max: i32,
    },
    /// The message itself could not be decoded (truncated, malformed,
    /// wrong type).
    Undecodable,
    /// A special day of the working-day calendar broke one of its rules.
    Day(crate::calendar::DayProblem),
    /// A calendar file with bad lines (every one is named, up to 20).
    CalendarFile(Vec<crate::calendar::LineError>),
    /// The product ships no official schedule for this year.
    NoOfficialSchedule {
        year: i32,
    },
    /// The day is an ordinary day of the calendar: nothing to remove.
    NotASpecialDay,
    /// Not a delivery period (2025H1, 2025FY).
    NotAPeriod,
    /// A field about an organisation's acting person, given for a person.
    OnlyForOrganisations,
    /// An organisation's agent holds a letter of authorisation: chosen as
    /// who acts, not as the identity method.
    OrganisationAgentUsesLetter,
    /// The acting "legal representative" is not the registered one.
    NotTheLegalRepresentative,
    /// A paper form serial already registered for another consent.
    FormSerialTaken,
    /// A weekend or holiday where the rule counts from a working day.
    NotAWorkingDay,
    /// A withdrawal without the applicant: neither verified again nor a
    /// written withdrawal recorded.
    WithdrawalNeedsApplicant,
    /// Not one OpenSSH public key line (`ssh-ed25519 AAAA… comment`).
    NotAnSshKey,
    /// The key is registered for another operator.
    SshKeyTaken,
    /// The number is registered already (verify the subject instead).
    AlreadyRegistered,
    /// No subject holds this number (register the person first).
    NotRegistered,
    /// A household is made of persons, not organisations or households.
    NotAPerson,
    /// The person belongs to this household already.
    AlreadyAMember,
    /// Not a member of this household.
    NotAMember,
    /// The head leaves a household only after another member becomes head.
    HeadStays,
    /// The person heads a household already (one household per head).
    HeadsAHousehold,
    /// Administrators keep their own role and unit (someone else changes them).
    OwnRoleAndUnit,
    /// A unit cannot move under itself or a unit below it.
    MoveUnderItself,
    /// The root (the center) is neither moved nor disabled.
    RootStays,
    /// An administrator cannot disable the unit they belong to (or one above it).
    OwnUnit,
    /// Working hours as start and end hour, the start first (818: 8:00–18:00).
    NotWorkingHours,
    /// Part of a number finds nothing alone (numbers are sealed): with a name.
    PrefixNeedsName,
    /// Longer than the part of a number the caller is shown.
    PrefixTooLong {
        max: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub rule: Rule,
}

impl FieldError {
    pub fn new(field: &'static str, rule: Rule) -> Self {
        FieldError { field, rule }
    }

    /// The message for the clerk, naming the rule (the field is shown by the
    /// form the message is placed next to).
    pub fn message(&self, lang: Lang) -> String {
        match &self.rule {
            Rule::Required => lang.pick("必填", "is required").into(),
            Rule::TooShort { min } => lang.pick(
                format!("至少 {min} 个字符"),
                format!("must be at least {min} characters"),
            ),
            Rule::TooLong { max } => lang.pick(
                format!("最多 {max} 个字符"),
                format!("must be at most {max} characters"),
            ),
            Rule::BadCharacters { allowed } => lang.pick(
                format!("只能包含{}", allowed_zh(allowed)),
                format!("may only contain {allowed}"),
            ),
            Rule::MustStartWithLetter => lang
                .pick("必须以字母开头", "must start with a letter")
                .into(),
            Rule::PasswordNeedsLetterAndDigit => lang
                .pick(
                    "必须同时包含字母和数字",
                    "must contain both letters and digits",
                )
                .into(),
            Rule::PasswordContainsUsername => lang
                .pick("不能包含用户名", "must not contain the username")
                .into(),
            Rule::PasswordUnchanged => lang
                .pick("新密码不能与原密码相同", "must differ from the current password")
                .into(),
            Rule::WrongPassword => lang.pick("原密码不正确", "is not your current password").into(),
            Rule::CannotDisableSelf => lang
                .pick("不能停用自己的账号", "you cannot disable your own account")
                .into(),
            Rule::NotAUuid => lang
                .pick("必须是 UUID", "must be a UUID")
                .into(),
            Rule::UnknownValue => lang.pick("取值无效", "is not a known value").into(),
            Rule::YearOutOfRange { min, max } => lang
                .pick(
                    format!("年份应在 {min}–{max} 之间"),
                    format!("must be a year from {min} to {max}"),
                ),
            Rule::Undecodable => lang
                .pick(
                    "请求无法解码（格式错误或被截断）",
                    "could not be decoded (malformed or truncated)",
                )
                .into(),
            Rule::Identifier(e) => e.message(lang),
            Rule::Day(problem) => problem.message(lang),
            Rule::CalendarFile(lines) => lines
                .iter()
                .take(20)
                .map(|l| l.message(lang))
                .collect::<Vec<_>>()
                .join(lang.pick("；", "; ")),
            Rule::NoOfficialSchedule { year } => lang.pick(
                format!("本系统未附带 {year} 年的国务院放假安排，请导入该年的日历文件"),
                format!("no official schedule for {year} ships with the product; import the year's file"),
            ),
            Rule::WithdrawalNeedsApplicant => lang
                .pick(
                    "撤回须由申请人本人确认：请申请人到场重新核验身份，或登记其签字的书面撤回申请",
                    "the applicant must confirm: verify them again at the counter, or record their signed written withdrawal",
                )
                .into(),
            Rule::OnlyForOrganisations => lang
                .pick("仅机构核验时填写", "only for an organisation")
                .into(),
            Rule::OrganisationAgentUsesLetter => lang
                .pick(
                    "机构由经办人办理时，核验方式选经办人证件的查验方式，办理人身份选“经办人（持授权委托书）”",
                    "for an organisation's agent, choose how their ID was checked here, and “agent with a letter of authorisation” as who acts",
                )
                .into(),
            Rule::NotTheLegalRepresentative => lang
                .pick(
                    "与登记的法定代表人（负责人）不符；他人办理请选“经办人（持授权委托书）”",
                    "is not the registered legal representative; anyone else acts as an agent with a letter of authorisation",
                )
                .into(),
            Rule::NotAWorkingDay => lang
                .pick(
                    "应为工作日：该日为周末或法定节假日（见工作日历）",
                    "must be a working day: it is a weekend or holiday (see the calendar)",
                )
                .into(),
            Rule::NotAnSshKey => lang
                .pick(
                    "应为一行 OpenSSH 公钥：id_ed25519.pub 文件中的那一行",
                    "must be one OpenSSH public key line: the line in id_ed25519.pub",
                )
                .into(),
            Rule::AlreadyRegistered => lang
                .pick(
                    "该证件号码已登记，请直接核验身份",
                    "this number is registered already: verify the subject instead",
                )
                .into(),
            Rule::NotRegistered => lang
                .pick(
                    "库中无此证件号码，请先登记此人",
                    "no one holds this number: register the person first",
                )
                .into(),
            Rule::NotAPerson => lang
                .pick(
                    "应为自然人的居民身份证号码",
                    "must be a person's resident identity number",
                )
                .into(),
            Rule::AlreadyAMember => lang
                .pick(
                    "此人已是该农户成员",
                    "this person is a member of the household already",
                )
                .into(),
            Rule::NotAMember => lang
                .pick("此人不是该农户成员", "not a member of this household")
                .into(),
            Rule::OwnRoleAndUnit => lang
                .pick(
                    "不能修改本人的角色或所属单位，请由另一名管理员修改",
                    "you cannot change your own role or unit: another administrator can",
                )
                .into(),
            Rule::MoveUnderItself => lang
                .pick(
                    "不能移到本单位或其下级单位之下",
                    "cannot move under itself or a unit below it",
                )
                .into(),
            Rule::RootStays => lang
                .pick(
                    "中心（根单位）不能移动或停用",
                    "the center (the root) is neither moved nor disabled",
                )
                .into(),
            Rule::OwnUnit => lang
                .pick(
                    "不能停用本人所在的单位或其上级单位",
                    "you cannot disable your own unit or one above it",
                )
                .into(),
            Rule::PrefixNeedsName => lang
                .pick(
                    "号码的一部分须与姓名一起输入（如“李建国 4412”），或输入完整号码",
                    "give part of a number with a name (\"Li Jianguo 4412\"), or the whole number",
                )
                .into(),
            Rule::PrefixTooLong { max } => lang.pick(
                format!("号码开头最多输入 {max} 位（其余号码不向本岗位显示）"),
                format!("at most the first {max} characters of a number (the rest is not shown to you)"),
            ),
            Rule::NotWorkingHours => lang
                .pick(
                    "应为开始和结束小时，开始早于结束、结束不晚于 24（818 即 8:00–18:00）",
                    "must be a start and an end hour, the start first, the end at most 24 (818 is 8:00–18:00)",
                )
                .into(),
            Rule::HeadsAHousehold => lang
                .pick(
                    "此人已是一个农户的户主，请在该农户中修改",
                    "this person heads a household already: change that one",
                )
                .into(),
            Rule::HeadStays => lang
                .pick(
                    "户主不能移出；请先将另一成员设为户主",
                    "the head cannot leave: make another member the head first",
                )
                .into(),
            Rule::SshKeyTaken => lang
                .pick(
                    "该公钥已登记给另一名操作员；一把钥匙只能属于一个人",
                    "this key is registered for another operator; a key belongs to one person",
                )
                .into(),
            Rule::FormSerialTaken => lang
                .pick(
                    "该纸质授权书编号已登记在另一份授权上，编号不能重复",
                    "this paper form's serial is already registered on another consent",
                )
                .into(),
            Rule::NotAPeriod => lang
                .pick(
                    "应为报送期，如 2025H1（上半年）或 2025FY（全年）",
                    "must be a delivery period such as 2025H1 (first half) or 2025FY (full year)",
                )
                .into(),
            Rule::NotASpecialDay => lang
                .pick(
                    "该日不是节假日或调休上班日，无需删除",
                    "is neither a holiday nor a make-up working day: nothing to remove",
                )
                .into(),
            Rule::BadFile(why) => why.clone(),
            Rule::Expired => lang.pick("已过期", "has expired").into(),
            Rule::EndsBeforeStart => lang.pick("不能早于开始时间", "must be after the start").into(),
            Rule::ControlCharacters { lines: true } => lang
                .pick("不能含控制字符（换行除外）", "must not contain control characters other than line breaks")
                .into(),
            Rule::ControlCharacters { lines: false } => lang
                .pick("不能含控制字符或换行", "must not contain control characters or line breaks")
                .into(),
            Rule::StartsInThePast => lang.pick("不能早于当前时间", "cannot be in the past").into(),
            Rule::StartsTooLate { max_days } => lang.pick(
                format!("最迟从 {max_days} 天后开始"),
                format!("must start within {max_days} days"),
            ),
            Rule::TooManyToExport { max } => lang.pick(
                format!("符合条件的记录超过 {max} 条，请缩小日期范围或增加条件后再导出"),
                format!("more than {max} attempts match: narrow the dates or add a condition to export"),
            ),
            Rule::RangeTooLong { max_days } => lang.pick(
                format!("起止日期最多相隔 {max_days} 天"),
                format!("at most {max_days} days from start to end"),
            ),
            Rule::TooLongValidity { max_days } => lang.pick(
                format!("有效期最长 {max_days} 天"),
                format!("may be valid for at most {max_days} days"),
            ),
            Rule::NotADate => lang
                .pick("应为 YYYY-MM-DD 格式的日期", "must be a YYYY-MM-DD date")
                .into(),
            Rule::NoSuchDate => lang
                .pick(
                    "没有这一天：月份为 01–12，日不超过当月天数",
                    "no such day: months run 01–12 and days to the end of the month",
                )
                .into(),
            Rule::NotAWholeNumber => lang.pick("应为整数", "must be a whole number").into(),
            Rule::AfterToday => lang
                .pick("已发生的事不能晚于今天", "cannot be after today: it has happened")
                .into(),
            Rule::NotBefore { earliest } => lang.pick(
                format!("不能早于 {earliest}"),
                format!("cannot be before {earliest}"),
            ),
            Rule::AtLeast { min } => lang.pick(format!("至少为 {min}"), format!("must be at least {min}")),
            Rule::AtMost { max } => lang.pick(format!("最多为 {max}"), format!("must be at most {max}")),
            Rule::NotAMonth => lang
                .pick("应为 YYYY-MM 格式的月份，如 2026-11", "must be a YYYY-MM month such as 2026-11")
                .into(),
            Rule::CalendarMissingYear { year } => lang.pick(
                format!("工作日历缺少 {year} 年，请管理员先导入该年"),
                format!("the working-day calendar has no {year}; an administrator must import it"),
            ),
            Rule::NotSha256 => lang
                .pick("应为 64 位十六进制 SHA-256 指纹", "must be a SHA-256 fingerprint (64 hex digits)")
                .into(),
            Rule::AgentIsSubject => lang
                .pick("代理人不能是被核验人本人", "the agent cannot be the subject")
                .into(),
            Rule::RoleDoesNotFitUnit => lang
                .pick(
                    "角色与机构类型不符：柜台属乡镇/村站，联络员属部门，查询员属银行",
                    "role does not fit the unit: counter in township/village, liaison in dept., bank in bank",
                )
                .into(),
            Rule::KindDoesNotFitParent => lang
                .pick(
                    "不能设在该上级之下：村站属乡镇，其余属中心",
                    "cannot sit under that parent: village station under a township, others under the center",
                )
                .into(),
        }
    }

    /// The field's name and the message in one line, in the caller's
    /// language (what a screen shows when no field of a form is at hand).
    pub fn describe(&self, lang: Lang) -> String {
        let label = field_label(self.field, lang);
        lang.pick(
            format!("{label}：{}", self.message(lang)),
            format!("{label}: {}", self.message(lang)),
        )
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe(Lang::En))
    }
}

impl std::error::Error for FieldError {}

const USERNAME_ALLOWED: &str = "a-z 0-9 . _ -";
const UNIT_CODE_ALLOWED: &str = "A-Z 0-9 -";
const PHONE_ALLOWED: &str = "0-9 - + (7–20 digits)";
const SERIAL_ALLOWED: &str = "letters, digits, spaces and - _ / . # ( ) （ ） 〔 〕 [ ] 【 】";

fn allowed_zh(allowed: &str) -> String {
    match allowed {
        USERNAME_ALLOWED => "小写字母、数字和 . _ -".into(),
        UNIT_CODE_ALLOWED => "大写字母、数字和 -".into(),
        PHONE_ALLOWED => "数字 0-9、- 和 +（7–20 位数字）".into(),
        SERIAL_ALLOWED => "文字、数字、空格和 - _ / . # ( ) （ ） 〔 〕 [ ] 【 】".into(),
        other => other.into(),
    }
}

/// Optional free text: at most `max` characters and no control characters
/// (escape sequences would reach other clerks' terminals); `lines` allows
/// line breaks.
pub fn free_text(
    field: &'static str,
    value: &str,
    max: usize,
    lines: bool,
) -> Result<(), FieldError> {
    // Counting stops past the limit: a megabyte is refused without a walk.
    max_chars(field, value, max)?;
    if value
        .chars()
        .any(|c| c.is_control() && !(lines && c == '\n'))
    {
        return Err(FieldError::new(field, Rule::ControlCharacters { lines }));
    }
    Ok(())
}

/// At most `max` characters, counted no further than needed.
pub fn max_chars(field: &'static str, value: &str, max: usize) -> Result<(), FieldError> {
    match value.chars().nth(max) {
        Some(_) => Err(FieldError::new(field, Rule::TooLong { max })),
        None => Ok(()),
    }
}

/// Text from elsewhere made safe to write to a terminal: every control
/// character except the line break (NUL, ESC that starts a sequence, the
/// bell, DEL, C1 controls) becomes a visible replacement character.
pub fn printable(value: &str) -> std::borrow::Cow<'_, str> {
    if value.chars().all(|c| !c.is_control() || c == '\n') {
        return value.into();
    }
    value
        .chars()
        .map(|c| match c.is_control() && c != '\n' {
            true => '\u{FFFD}',
            false => c,
        })
        .collect::<String>()
        .into()
}

/// An opaque page cursor: empty for the first page, else what the server
/// handed out (an id).
pub fn cursor(value: &str) -> Result<(), FieldError> {
    match value.is_empty() {
        true => Ok(()),
        false => uuid(field::CURSOR, value),
    }
}

fn check_length(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<(), FieldError> {
    let n = value.chars().count();
    if n == 0 {
        Err(FieldError::new(field, Rule::Required))
    } else if n < min {
        Err(FieldError::new(field, Rule::TooShort { min }))
    } else if n > max {
        Err(FieldError::new(field, Rule::TooLong { max }))
    } else {
        Ok(())
    }
}

/// Login names: 3–32 characters, lower-case ASCII letters, digits, `.`, `_`,
/// `-`, starting with a letter. Kept ASCII so they can be typed on any
/// terminal, even without a Chinese input method.
pub fn username(value: &str) -> Result<(), FieldError> {
    let f = field::USERNAME;
    check_length(f, value, USERNAME_MIN, USERNAME_MAX)?;
    if !value
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
    {
        return Err(FieldError::new(
            f,
            Rule::BadCharacters {
                allowed: USERNAME_ALLOWED,
            },
        ));
    }
    if !value.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(FieldError::new(f, Rule::MustStartWithLetter));
    }
    Ok(())
}

/// The password policy for new passwords: 8–128 characters with at least one
/// letter and one digit, and not containing the username.
pub fn new_password(field: &'static str, password: &str, username: &str) -> Result<(), FieldError> {
    check_length(field, password, PASSWORD_MIN, PASSWORD_MAX)?;
    let has_letter = password.chars().any(|c| c.is_alphabetic());
    let has_digit = password.chars().any(|c| c.is_ascii_digit());
    if !(has_letter && has_digit) {
        return Err(FieldError::new(field, Rule::PasswordNeedsLetterAndDigit));
    }
    if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
        return Err(FieldError::new(field, Rule::PasswordContainsUsername));
    }
    Ok(())
}

/// A person's or unit's name shown on screens: 1–`max` characters after
/// trimming, no control characters.
/// The longest explanation or statement a subject may add to a record:
/// a paragraph, as on the paper form.
pub const STATEMENT_MAX: usize = 500;

/// A subject's explanation (art. 16) or statement (本人声明) on a record.
pub fn statement(field: &'static str, text: &str) -> Result<(), FieldError> {
    check_length(field, text.trim(), 1, STATEMENT_MAX)?;
    free_text(field, text, STATEMENT_MAX, true)
}

/// A contact phone number: digits with `-`, `+` or spaces, 7–20 digits.
pub fn phone(field: &'static str, phone: &str) -> Result<(), FieldError> {
    let phone = half_width(phone);
    let phone = phone.trim();
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    if phone.is_empty() {
        Err(FieldError::new(field, Rule::Required))
    } else if !(7..=20).contains(&digits)
        || !phone
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | ' ' | '+'))
    {
        Err(FieldError::new(
            field,
            Rule::BadCharacters {
                allowed: PHONE_ALLOWED,
            },
        ))
    } else {
        Ok(())
    }
}

/// A purpose code: lowercase ASCII, digits and `_`, 2–40 long, starting
/// with a letter (it is stored on consents and query logs for good).
pub fn purpose_code(code: &str) -> Result<(), FieldError> {
    let ok = (2..=40).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            field::CODE,
            Rule::BadCharacters {
                allowed: "a-z 0-9 _",
            },
        ))
    }
}

/// A serial number printed on a paper form: at most `max` characters of
/// letters (any script), digits, spaces and the brackets and marks such
/// numbers use; no emoji or symbols (they do not survive printing).
pub fn form_serial(field: &'static str, value: &str, max: usize) -> Result<(), FieldError> {
    if value.trim().is_empty() {
        return Err(FieldError::new(field, Rule::Required));
    }
    free_text(field, value, max, false)?;
    let allowed = |c: char| c.is_alphanumeric() || c == ' ' || "-_/.#()（）〔〕[]【】".contains(c);
    if !value.chars().all(allowed) {
        return Err(FieldError::new(
            field,
            Rule::BadCharacters {
                allowed: SERIAL_ALLOWED,
            },
        ));
    }
    Ok(())
}

pub fn display_text(field: &'static str, value: &str, max: usize) -> Result<(), FieldError> {
    let value = value.trim();
    check_length(field, value, 1, max)?;
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            Rule::BadCharacters {
                allowed: "printable characters",
            },
        ));
    }
    Ok(())
}

pub fn display_name(value: &str) -> Result<(), FieldError> {
    display_text(field::DISPLAY_NAME, value, DISPLAY_NAME_MAX)
}

pub fn unit_name(value: &str) -> Result<(), FieldError> {
    display_text(field::NAME, value, UNIT_NAME_MAX)
}

/// Org unit codes: 2–20 characters, upper-case letters, digits and `-`.
pub fn unit_code(value: &str) -> Result<(), FieldError> {
    let f = field::CODE;
    check_length(f, value, UNIT_CODE_MIN, UNIT_CODE_MAX)?;
    if !value
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(FieldError::new(
            f,
            Rule::BadCharacters {
                allowed: UNIT_CODE_ALLOWED,
            },
        ));
    }
    Ok(())
}

/// Client-generated request ids (idempotency keys) and entity ids are UUIDs.
pub fn uuid(field: &'static str, value: &str) -> Result<(), FieldError> {
    if value.is_empty() {
        return Err(FieldError::new(field, Rule::Required));
    }
    uuid::Uuid::parse_str(value)
        .map(|_| ())
        .map_err(|_| FieldError::new(field, Rule::NotAUuid))
}

/// A UUID in any spelling the uuid crate reads (upper case, braces, no
/// dashes, urn:uuid:), returned in its one canonical form.
pub fn canonical_uuid(field: &'static str, value: &str) -> Result<String, FieldError> {
    if value.is_empty() {
        return Err(FieldError::new(field, Rule::Required));
    }
    uuid::Uuid::parse_str(value.trim())
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| FieldError::new(field, Rule::NotAUuid))
}

pub const PERSON_NAME_MAX: usize = 60;
pub const DOCUMENT_MAX: usize = 80;

/// An identity number or credit code in `field`, normalised first (as typed
/// with a Chinese input method). Returns the normalised form.
pub fn identifier(
    field: &'static str,
    value: &str,
    today: chrono::NaiveDate,
) -> Result<String, FieldError> {
    ident::check_any(value, today)
        .map(|_| ident::normalise(value))
        .map_err(|e| FieldError::new(field, Rule::Identifier(e)))
}

/// A subject's address as written on the card or licence, at most.
pub const ADDRESS_MAX: usize = 120;
/// A subject's name, at most (organisations' names are long).
pub const SUBJECT_NAME_MAX: usize = 60;

/// A subject registered at the counter: a valid number, the name and
/// address on the card or licence, a phone if given, and for an
/// organisation its legal representative (for a person, none).
pub fn registration(
    r: &crate::pb::RegisterSubjectRequest,
    today: chrono::NaiveDate,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let organisation = match ident::check_any(&r.identifier, today) {
        Ok(ident::Identifier::Organisation(_)) => Some(true),
        Ok(ident::Identifier::Person(_)) => Some(false),
        Err(_) if r.identifier.trim().is_empty() => {
            errors.push(FieldError::new(field::IDENTIFIER, Rule::Required));
            None
        }
        Err(e) => {
            errors.push(FieldError::new(field::IDENTIFIER, Rule::Identifier(e)));
            None
        }
    };
    let mut check = |result: Result<(), FieldError>| {
        if let Err(e) = result {
            errors.push(e);
        }
    };
    check(display_text(field::NAME, &r.name, SUBJECT_NAME_MAX));
    check(match r.address.trim() {
        "" => Err(FieldError::new(field::ADDRESS, Rule::Required)),
        address => free_text(field::ADDRESS, address, ADDRESS_MAX, false),
    });
    if !r.phone.trim().is_empty() {
        check(phone(field::PHONE, &r.phone));
    }
    let representative = r.legal_representative.trim();
    match organisation {
        Some(true) => check(display_text(
            field::LEGAL_REPRESENTATIVE,
            representative,
            DISPLAY_NAME_MAX,
        )),
        Some(false) if !representative.is_empty() => check(Err(FieldError::new(
            field::LEGAL_REPRESENTATIVE,
            Rule::OnlyForOrganisations,
        ))),
        _ => {}
    }
    errors
}

/// A registry search split into the name part and, when a token is the
/// start of a number (digits, at most 17, perhaps ending in X), that
/// prefix. A whole number stays in the name part (it is found whole).
pub fn registry_query(query: &str) -> (String, Option<String>) {
    let mut name = Vec::new();
    let mut prefix = None;
    for token in query.split_whitespace() {
        let digits = token.trim_end_matches('X');
        let is_prefix = token.len() < 18
            && !digits.is_empty()
            && digits.chars().all(|c| c.is_ascii_digit())
            && token.len() - digits.len() <= 1;
        match is_prefix && prefix.is_none() {
            true => prefix = Some(token.to_string()),
            false => name.push(token),
        }
    }
    (name.join(" "), prefix)
}

/// How much of a number a caller who sees it masked may search by: the
/// region code, what the masked number shows first.
pub const MASKED_PREFIX_MAX: usize = 6;

/// A village's or relation's longest name, in characters.
pub const VILLAGE_MAX: usize = 60;
pub const RELATION_MAX: usize = 20;

/// A registered person's whole identity number, for a household: shape and
/// check digit (whether someone holds it is the server's to say).
pub fn household_person(
    name: &'static str,
    identifier: &str,
    today: chrono::NaiveDate,
) -> Result<(), FieldError> {
    match ident::check_any(identifier, today) {
        Ok(ident::Identifier::Person(_)) => Ok(()),
        Ok(ident::Identifier::Organisation(_)) => Err(FieldError::new(name, Rule::NotAPerson)),
        Err(_) if identifier.trim().is_empty() => Err(FieldError::new(name, Rule::Required)),
        Err(e) => Err(FieldError::new(name, Rule::Identifier(e))),
    }
}

pub fn village(text: &str) -> Result<(), FieldError> {
    display_text(field::VILLAGE, text, VILLAGE_MAX)
}

/// A relation to the head (配偶, 子女 …), in the field `name`.
pub fn relation(name: &'static str, text: &str) -> Result<(), FieldError> {
    display_text(name, text, RELATION_MAX)
}

/// The longest span of a query-log search or export, in days.
pub const LOG_RANGE_MAX_DAYS: u32 = 366;

/// The days a query-log search covers: each end a `YYYY-MM-DD` date, empty
/// meaning today; the end not before the start; at most
/// [`LOG_RANGE_MAX_DAYS`] days. The other filters are checked for shape: an
/// identity number must be one (its check digit too).
pub fn query_log_filter(
    subject_identifier: &str,
    operator_username: &str,
    institution_code: &str,
    purpose: &str,
    from: &str,
    to: &str,
    today: chrono::NaiveDate,
) -> Result<(chrono::NaiveDate, chrono::NaiveDate), Vec<FieldError>> {
    let day = |f: &'static str, text: &str| match text.trim() {
        "" => Ok(today),
        text => date(f, text),
    };
    let from = day(field::FROM_DATE, from);
    let to = day(field::TO_DATE, to);
    let mut errors: Vec<FieldError> = Vec::new();
    if !subject_identifier.trim().is_empty()
        && let Err(e) = identifier(field::SUBJECT_IDENTIFIER, subject_identifier, today)
    {
        errors.push(e);
    }
    for (f, text, max) in [
        (field::OPERATOR_USERNAME, operator_username, 64),
        (field::INSTITUTION_CODE, institution_code, 32),
        (field::PURPOSE_CODE, purpose, 40),
    ] {
        if let Err(e) = free_text(f, text, max, false) {
            errors.push(e);
        }
    }
    match (from, to) {
        (Ok(from), Ok(to)) if to < from => {
            errors.push(FieldError::new(field::TO_DATE, Rule::EndsBeforeStart))
        }
        (Ok(from), Ok(to)) if (to - from).num_days() >= i64::from(LOG_RANGE_MAX_DAYS) => errors
            .push(FieldError::new(
                field::TO_DATE,
                Rule::RangeTooLong {
                    max_days: LOG_RANGE_MAX_DAYS,
                },
            )),
        (Ok(from), Ok(to)) if errors.is_empty() => return Ok((from, to)),
        (Ok(_), Ok(_)) => {}
        (from, to) => errors.extend(from.err().into_iter().chain(to.err())),
    }
    Err(errors)
}

/// A person's identity number only (agents are people).
pub fn person_identifier(
    field: &'static str,
    value: &str,
    today: chrono::NaiveDate,
) -> Result<String, FieldError> {
    let n = ident::normalise(value);
    ident::person(&n, today)
        .map(|_| n)
        .map_err(|e| FieldError::new(field, Rule::Identifier(e)))
}

/// The fields of a counter verification, all checked at once.
pub struct VerificationInput<'a> {
    pub identifier: &'a str,
    pub name: &'a str,
    pub method: i32,
    pub document: &'a str,
    pub agent_identifier: &'a str,
    pub agent_name: &'a str,
    pub poa_reference: &'a str,
    pub acting_as: i32,
    pub licence: &'a str,
}

impl<'a> From<&'a crate::pb::VerifyRequest> for VerificationInput<'a> {
    fn from(r: &'a crate::pb::VerifyRequest) -> Self {
        VerificationInput {
            identifier: &r.identifier,
            name: &r.name,
            method: r.method,
            document: &r.document,
            agent_identifier: &r.agent_identifier,
            agent_name: &r.agent_name,
            poa_reference: &r.poa_reference,
            acting_as: r.acting_as,
            licence: &r.licence,
        }
    }
}

pub fn verification(v: &VerificationInput<'_>, today: chrono::NaiveDate) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let subject = identifier(field::IDENTIFIER, v.identifier, today);
    if let Err(e) = &subject {
        errors.push(e.clone());
    }
    if let Err(e) = display_text(field::NAME, v.name, PERSON_NAME_MAX) {
        errors.push(e);
    }
    let method = match VerificationMethod::try_from(v.method) {
        Ok(VerificationMethod::Unspecified) => {
            errors.push(FieldError::new(field::METHOD, Rule::Required));
            return errors;
        }
        Ok(m) => m,
        Err(_) => {
            errors.push(FieldError::new(field::METHOD, Rule::UnknownValue));
            return errors;
        }
    };
    if method == VerificationMethod::OtherDocument
        && let Err(e) = display_text(field::DOCUMENT, v.document, DOCUMENT_MAX)
    {
        errors.push(e);
    }
    let organisation = subject.as_deref().is_ok_and(|s| {
        matches!(
            ident::check_any(s, today),
            Ok(ident::Identifier::Organisation(_))
        )
    });
    let acting = OrgActor::try_from(v.acting_as).unwrap_or(OrgActor::Unspecified);
    if !organisation {
        if acting != OrgActor::Unspecified {
            errors.push(FieldError::new(
                field::ACTING_AS,
                Rule::OnlyForOrganisations,
            ));
        }
        if method == VerificationMethod::AgentWithPoa {
            errors.extend(acting_person(v, &subject, today, true));
        }
        return errors;
    }
    // An organisation acts through a person: its legal representative, or
    // an agent with its letter of authorisation; the licence is inspected.
    if method == VerificationMethod::AgentWithPoa {
        errors.push(FieldError::new(
            field::METHOD,
            Rule::OrganisationAgentUsesLetter,
        ));
    }
    match acting {
        OrgActor::Unspecified => errors.push(FieldError::new(field::ACTING_AS, Rule::Required)),
        OrgActor::LegalRepresentative => errors.extend(acting_person(v, &subject, today, false)),
        OrgActor::AuthorisedAgent => errors.extend(acting_person(v, &subject, today, true)),
    }
    if let Err(e) = display_text(field::LICENCE, v.licence, DOCUMENT_MAX) {
        errors.push(e);
    }
    errors
}

/// The person acting for the subject: a valid identity number that is not
/// the subject's, a name, and (`with_letter`) the power of attorney or
/// letter of authorisation.
fn acting_person(
    v: &VerificationInput<'_>,
    subject: &Result<String, FieldError>,
    today: chrono::NaiveDate,
    with_letter: bool,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    match person_identifier(field::AGENT_IDENTIFIER, v.agent_identifier, today) {
        Ok(agent) if subject.as_deref() == Ok(agent.as_str()) => {
            errors.push(FieldError::new(
                field::AGENT_IDENTIFIER,
                Rule::AgentIsSubject,
            ));
        }
        Ok(_) => {}
        Err(e) => errors.push(e),
    }
    if let Err(e) = display_text(field::AGENT_NAME, v.agent_name, DOCUMENT_MAX) {
        errors.push(e);
    }
    if with_letter && let Err(e) = display_text(field::POA_REFERENCE, v.poa_reference, DOCUMENT_MAX)
    {
        errors.push(e);
    }
    errors
}

/// Whether the name given at the counter is the registered one: spaces and
/// the different middle dots of minority names (·・•.) do not count.
pub fn names_match(given: &str, registered: &str) -> bool {
    let clean = |s: &str| -> String {
        crate::ident::normalise(s)
            .chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '·' | '・' | '•' | '.' | '．' | '‧'))
            .collect()
    };
    let (a, b) = (clean(given), clean(registered));
    !a.is_empty() && a == b
}

/// Which roles may belong to which kind of org unit.
pub fn role_fits_unit(role: Role, kind: OrgUnitKind) -> Result<(), FieldError> {
    use OrgUnitKind as K;
    let fits = match role {
        Role::Unspecified => return Err(FieldError::new(field::ROLE, Rule::Required)),
        Role::Counter => matches!(kind, K::Township | K::VillageStation),
        Role::Liaison => kind == K::Department,
        Role::Bank => kind == K::Bank,
        Role::Center | Role::Supervisor | Role::Admin => kind == K::Center,
    };
    if fits {
        Ok(())
    } else {
        Err(FieldError::new(field::ROLE, Rule::RoleDoesNotFitUnit))
    }
}

/// The shape of the org tree: one center at the root (created by `init`),
/// townships, departments and banks under it, village stations under townships.
pub fn unit_kind_fits_parent(kind: OrgUnitKind, parent: OrgUnitKind) -> Result<(), FieldError> {
    use OrgUnitKind as K;
    let fits = match kind {
        K::Unspecified => return Err(FieldError::new(field::KIND, Rule::Required)),
        K::Center => false,
        K::Township | K::Department | K::Bank => parent == K::Center,
        K::VillageStation => parent == K::Township,
    };
    if fits {
        Ok(())
    } else {
        Err(FieldError::new(field::KIND, Rule::KindDoesNotFitParent))
    }
}

/// Runs several checks and keeps every failure, so a form can mark all bad
/// fields at once instead of one per round trip.
pub fn collect<const N: usize>(checks: [Result<(), FieldError>; N]) -> Vec<FieldError> {
    checks.into_iter().filter_map(Result::err).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_replaces_every_control_character_but_the_line_break() {
        assert!(matches!(
            printable("李建国\n第二行"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(
            printable("a\u{1b}[2Jb\u{0}c\u{1b}]0;title\u{7}d\u{9b}e\u{7f}\r\t"),
            "a\u{FFFD}[2Jb\u{FFFD}c\u{FFFD}]0;title\u{FFFD}d\u{FFFD}e\u{FFFD}\u{FFFD}\u{FFFD}"
        );
    }

    #[test]
    fn max_chars_counts_characters_not_bytes() {
        assert!(max_chars("f", "征信中心", 4).is_ok());
        assert_eq!(
            max_chars("f", "征信中心a", 4).unwrap_err().rule,
            Rule::TooLong { max: 4 }
        );
    }

    fn rule(r: Result<(), FieldError>) -> Option<Rule> {
        r.err().map(|e| e.rule)
    }

    #[test]
    fn uuids_have_one_canonical_spelling() {
        let canonical = "0190a4b2-7c3d-7e8f-9a0b-1c2d3e4f5a6b";
        for spelling in [
            canonical,
            "0190A4B2-7C3D-7E8F-9A0B-1C2D3E4F5A6B",
            "{0190a4b2-7c3d-7e8f-9a0b-1c2d3e4f5a6b}",
            "0190a4b27c3d7e8f9a0b1c2d3e4f5a6b",
            "urn:uuid:0190a4b2-7c3d-7e8f-9a0b-1c2d3e4f5a6b",
            " 0190a4b2-7c3d-7e8f-9a0b-1c2d3e4f5a6b ",
        ] {
            assert_eq!(
                canonical_uuid("r", spelling).as_deref(),
                Ok(canonical),
                "{spelling}"
            );
        }
        assert_eq!(canonical_uuid("r", "").unwrap_err().rule, Rule::Required);
        assert_eq!(
            canonical_uuid("r", "0190a4b2-7c3d").unwrap_err().rule,
            Rule::NotAUuid
        );
    }

    #[test]
    fn dates_say_whether_the_form_or_the_day_is_wrong() {
        assert_eq!(
            date("d", "２０２６－１１－２３").unwrap(),
            chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
        );
        for (text, expected) in [
            ("2026-13-01", Rule::NoSuchDate),
            ("2026-02-30", Rule::NoSuchDate),
            ("2026-1-5", Rule::NotADate),
            ("23/11/2026", Rule::NotADate),
            ("", Rule::NotADate),
        ] {
            assert_eq!(rule(date("d", text).map(|_| ())), Some(expected), "{text}");
        }
    }

    #[test]
    fn a_receipt_date_follows_the_filing_and_has_happened() {
        let d = |s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let (today, filed) = (d("2026-11-25"), d("2026-11-23"));
        let r = |text| receipt_date("r", text, today, filed);
        assert_eq!(r("").unwrap(), today);
        assert_eq!(r("2026-11-23").unwrap(), filed);
        assert_eq!(rule(r("2026-11-28").map(|_| ())), Some(Rule::AfterToday));
        assert_eq!(
            rule(r("2026-10-23").map(|_| ())),
            Some(Rule::NotBefore { earliest: filed })
        );
        assert_eq!(rule(r("2026-11-31").map(|_| ())), Some(Rule::NoSuchDate));
    }

    #[test]
    fn validity_days_name_the_rule_that_failed() {
        assert_eq!(validity_days("v", "３０", 90).unwrap(), 30);
        assert_eq!(validity_days("v", " 90 ", 90).unwrap(), 90);
        for (text, expected) in [
            ("", Rule::Required),
            ("abc", Rule::NotAWholeNumber),
            ("1.5", Rule::NotAWholeNumber),
            ("0", Rule::AtLeast { min: 1 }),
            ("-5", Rule::AtLeast { min: 1 }),
            ("−5", Rule::AtLeast { min: 1 }),
            ("91", Rule::TooLongValidity { max_days: 90 }),
        ] {
            assert_eq!(
                rule(validity_days("v", text, 90).map(|_| ())),
                Some(expected),
                "{text}"
            );
        }
    }

    #[test]
    fn a_registration_names_every_field_that_is_wrong() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let person = crate::pb::RegisterSubjectRequest {
            identifier: "441284196508120010".into(),
            name: "李建国".into(),
            address: "四会市大沙镇马鞍村 12 号".into(),
            ..Default::default()
        };
        assert!(registration(&person, today).is_empty());
        let organisation = crate::pb::RegisterSubjectRequest {
            identifier: "9144030071526726XG".into(),
            name: "四会市大沙镇兴农种养专业合作社".into(),
            address: "四会市大沙镇".into(),
            phone: "0758-3312345".into(),
            legal_representative: "李建国".into(),
            ..Default::default()
        };
        assert!(registration(&organisation, today).is_empty());
        let nobody = crate::pb::RegisterSubjectRequest {
            legal_representative: " ".into(),
            ..organisation
        };
        let missing: Vec<&str> = registration(&nobody, today)
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(missing, [field::LEGAL_REPRESENTATIVE]);
        for (change, expected) in [
            (
                Box::new(|r: &mut crate::pb::RegisterSubjectRequest| r.identifier.clear())
                    as Box<dyn Fn(&mut crate::pb::RegisterSubjectRequest)>,
                vec![(field::IDENTIFIER, Rule::Required)],
            ),
            (
                Box::new(|r| r.identifier = "441284196508120011".into()),
                vec![(
                    field::IDENTIFIER,
                    Rule::Identifier(ident::check_any("441284196508120011", today).unwrap_err()),
                )],
            ),
            (
                Box::new(|r| r.address = " ".into()),
                vec![(field::ADDRESS, Rule::Required)],
            ),
            (
                Box::new(|r| r.address = "x\u{1b}[2J".into()),
                vec![(field::ADDRESS, Rule::ControlCharacters { lines: false })],
            ),
            (
                Box::new(|r| r.phone = "abc".into()),
                vec![(
                    field::PHONE,
                    Rule::BadCharacters {
                        allowed: "0-9 - + (7–20 digits)",
                    },
                )],
            ),
            (
                Box::new(|r| r.legal_representative = "李建国".into()),
                vec![(field::LEGAL_REPRESENTATIVE, Rule::OnlyForOrganisations)],
            ),
            (
                Box::new(|r| r.name.clear()),
                vec![(field::NAME, Rule::Required)],
            ),
        ] {
            let mut r = person.clone();
            change(&mut r);
            let got: Vec<(&str, Rule)> = registration(&r, today)
                .into_iter()
                .map(|e| (e.field, e.rule))
                .collect();
            assert_eq!(got, expected, "{r:?}");
        }
    }

    #[test]
    fn months_and_counts_name_the_rule_that_failed() {
        let d = |s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(month("m", "２０２６-１１").unwrap(), d("2026-11-01"));
        assert_eq!(month("m", " 2026-02 ").unwrap(), d("2026-02-01"));
        for bad in [
            "",
            "2026-13",
            "2026-1",
            "2026/11",
            "2026-11-01",
            "26-11",
            "2026-00",
        ] {
            assert_eq!(
                rule(month("m", bad).map(|_| ())),
                Some(Rule::NotAMonth),
                "{bad}"
            );
        }
        assert_eq!(count("c", "", 100).unwrap(), 0);
        assert_eq!(count("c", "３", 100).unwrap(), 3);
        assert_eq!(count("c", "100", 100).unwrap(), 100);
        for (text, expected) in [
            ("x", Rule::NotAWholeNumber),
            ("1.5", Rule::NotAWholeNumber),
            ("-1", Rule::AtLeast { min: 0 }),
            ("101", Rule::AtMost { max: 100 }),
            ("99999999999999999999", Rule::NotAWholeNumber),
        ] {
            assert_eq!(
                rule(count("c", text, 100).map(|_| ())),
                Some(expected),
                "{text}"
            );
        }
    }

    #[test]
    fn phones() {
        assert_eq!(
            rule(phone("p", "１３８００１３８０００")),
            None,
            "full-width digits"
        );
        for ok in ["13800138000", "0758-3312345", "+86 138 0013 8000"] {
            assert_eq!(rule(phone("p", ok)), None, "{ok}");
        }
        assert_eq!(rule(phone("p", " ")), Some(Rule::Required));
        for bad in ["123", "call me", "1380013800013800138000"] {
            assert!(
                matches!(rule(phone("p", bad)), Some(Rule::BadCharacters { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn purpose_codes() {
        for ok in ["loan_approval", "ab", "x2_y"] {
            assert_eq!(rule(purpose_code(ok)), None, "{ok}");
        }
        for bad in [
            "",
            "a",
            "Loan",
            "2loan",
            "_loan",
            "贷款",
            "loan-approval",
            &"a".repeat(41),
        ] {
            assert!(
                matches!(rule(purpose_code(bad)), Some(Rule::BadCharacters { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn usernames() {
        assert_eq!(rule(username("wang.li")), None);
        assert_eq!(rule(username("a_1-b")), None);
        assert_eq!(rule(username("")), Some(Rule::Required));
        assert_eq!(rule(username("ab")), Some(Rule::TooShort { min: 3 }));
        assert_eq!(
            rule(username(&"a".repeat(33))),
            Some(Rule::TooLong { max: 32 })
        );
        assert!(matches!(
            rule(username("Wang")),
            Some(Rule::BadCharacters { .. })
        ));
        assert!(matches!(
            rule(username("王力力")),
            Some(Rule::BadCharacters { .. })
        ));
        assert_eq!(rule(username("1abc")), Some(Rule::MustStartWithLetter));
        assert_eq!(rule(username(".abc")), Some(Rule::MustStartWithLetter));
    }

    #[test]
    fn passwords() {
        let f = field::NEW_PASSWORD;
        assert_eq!(rule(new_password(f, "lantern42", "wang")), None);
        assert_eq!(rule(new_password(f, "", "wang")), Some(Rule::Required));
        assert_eq!(
            rule(new_password(f, "abc1", "wang")),
            Some(Rule::TooShort { min: 8 })
        );
        assert_eq!(
            rule(new_password(f, &"a1".repeat(65), "wang")),
            Some(Rule::TooLong { max: 128 })
        );
        assert_eq!(
            rule(new_password(f, "abcdefgh", "wang")),
            Some(Rule::PasswordNeedsLetterAndDigit)
        );
        assert_eq!(
            rule(new_password(f, "12345678", "wang")),
            Some(Rule::PasswordNeedsLetterAndDigit)
        );
        assert_eq!(
            rule(new_password(f, "xxWANG1234", "wang")),
            Some(Rule::PasswordContainsUsername)
        );
        // Chinese letters count as letters: a clerk may use a pinyin-free passphrase.
        assert_eq!(rule(new_password(f, "征信中心2026年", "wang")), None);
    }

    #[test]
    fn names_and_codes() {
        assert_eq!(rule(display_name("王小明")), None);
        assert_eq!(rule(display_name("   ")), Some(Rule::Required));
        assert!(matches!(
            rule(display_name("王\u{7}明")),
            Some(Rule::BadCharacters { .. })
        ));
        assert_eq!(
            rule(display_name(&"王".repeat(41))),
            Some(Rule::TooLong { max: 40 })
        );
        assert_eq!(rule(unit_name("大旺镇便民服务中心")), None);
        assert_eq!(rule(unit_code("T-DAWANG")), None);
        assert!(matches!(
            rule(unit_code("t-dawang")),
            Some(Rule::BadCharacters { .. })
        ));
        assert_eq!(rule(unit_code("T")), Some(Rule::TooShort { min: 2 }));
    }

    #[test]
    fn uuids() {
        assert_eq!(
            rule(uuid(
                field::REQUEST_ID,
                "0192f5a0-0000-7000-8000-000000000000"
            )),
            None
        );
        assert_eq!(rule(uuid(field::REQUEST_ID, "")), Some(Rule::Required));
        assert_eq!(
            rule(uuid(field::REQUEST_ID, "not-a-uuid")),
            Some(Rule::NotAUuid)
        );
    }

    #[test]
    fn messages_name_the_rule_in_both_languages() {
        let e = FieldError::new(field::PASSWORD, Rule::TooShort { min: 8 });
        assert_eq!(e.message(Lang::Zh), "至少 8 个字符");
        assert_eq!(
            e.describe(Lang::En),
            "password: must be at least 8 characters"
        );
        let e = FieldError::new(
            field::USERNAME,
            Rule::BadCharacters {
                allowed: USERNAME_ALLOWED,
            },
        );
        assert_eq!(e.message(Lang::Zh), "只能包含小写字母、数字和 . _ -");
        // Paper serials: any script's letters and the usual marks, no emoji.
        assert!(form_serial("form_serial", "SQ-2026/7001", 40).is_ok());
        assert!(form_serial("form_serial", "四会授字〔2026〕第 7 号", 40).is_ok());
        let e = form_serial("form_serial", "SQ😀-2026", 40).unwrap_err();
        assert!(matches!(e.rule, Rule::BadCharacters { .. }));
        assert!(e.message(Lang::Zh).starts_with("只能包含文字、数字"));
        assert_eq!(
            form_serial("form_serial", "", 40).unwrap_err().rule,
            Rule::Required
        );
        // Every rule's Chinese message is Chinese (a phone's was half English).
        let e = phone("contact_phone", "12ab").unwrap_err();
        assert_eq!(
            e.message(Lang::Zh),
            "只能包含数字 0-9、- 和 +（7–20 位数字）"
        );
    }

    #[test]
    fn a_registry_search_splits_a_name_from_a_number_prefix() {
        let split = |q: &str| registry_query(q);
        assert_eq!(split("李建国 4412"), ("李建国".into(), Some("4412".into())));
        assert_eq!(split("4412 李建国"), ("李建国".into(), Some("4412".into())));
        assert_eq!(
            split("李 44128419650812001"),
            ("李".into(), Some("44128419650812001".into()))
        );
        assert_eq!(split("李 44128419650812001X").1, None, "18: a whole number");
        // A whole number is found whole; letters or words are names.
        assert_eq!(
            split("441284196508120010"),
            ("441284196508120010".into(), None)
        );
        assert_eq!(split("Li Jianguo"), ("Li Jianguo".into(), None));
        assert_eq!(split("张三2"), ("张三2".into(), None));
        assert_eq!(split("X"), ("X".into(), None));
        assert_eq!(split(""), (String::new(), None));
    }

    #[test]
    fn roles_fit_units() {
        use OrgUnitKind as K;
        let kinds = [
            K::Center,
            K::Township,
            K::VillageStation,
            K::Department,
            K::Bank,
        ];
        let expected: &[(Role, &[K])] = &[
            (Role::Counter, &[K::Township, K::VillageStation]),
            (Role::Center, &[K::Center]),
            (Role::Liaison, &[K::Department]),
            (Role::Bank, &[K::Bank]),
            (Role::Supervisor, &[K::Center]),
            (Role::Admin, &[K::Center]),
        ];
        for (role, ok) in expected {
            for kind in kinds {
                assert_eq!(
                    role_fits_unit(*role, kind).is_ok(),
                    ok.contains(&kind),
                    "{role:?} in {kind:?}"
                );
            }
        }
        assert_eq!(
            rule(role_fits_unit(Role::Unspecified, K::Center)),
            Some(Rule::Required)
        );
    }

    #[test]
    fn unit_tree_shape() {
        use OrgUnitKind as K;
        assert!(unit_kind_fits_parent(K::Township, K::Center).is_ok());
        assert!(unit_kind_fits_parent(K::Bank, K::Center).is_ok());
        assert!(unit_kind_fits_parent(K::Department, K::Center).is_ok());
        assert!(unit_kind_fits_parent(K::VillageStation, K::Township).is_ok());
        assert_eq!(
            rule(unit_kind_fits_parent(K::VillageStation, K::Center)),
            Some(Rule::KindDoesNotFitParent)
        );
        assert_eq!(
            rule(unit_kind_fits_parent(K::Township, K::Township)),
            Some(Rule::KindDoesNotFitParent)
        );
        assert_eq!(
            rule(unit_kind_fits_parent(K::Center, K::Center)),
            Some(Rule::KindDoesNotFitParent)
        );
        assert_eq!(
            rule(unit_kind_fits_parent(K::Unspecified, K::Center)),
            Some(Rule::Required)
        );
    }

    fn day() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    fn input<'a>(method: VerificationMethod) -> VerificationInput<'a> {
        VerificationInput {
            identifier: "11010519491231002X",
            name: "王丽",
            method: method as i32,
            document: "",
            agent_identifier: "",
            agent_name: "",
            poa_reference: "",
            acting_as: 0,
            licence: "",
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&'static str> {
        errors.iter().map(|e| e.field).collect()
    }

    #[test]
    fn verification_fields_by_method() {
        assert!(verification(&input(VerificationMethod::IdCardReader), day()).is_empty());
        assert_eq!(
            fields(&verification(
                &input(VerificationMethod::Unspecified),
                day()
            )),
            [field::METHOD]
        );
        assert_eq!(
            fields(&verification(
                &input(VerificationMethod::OtherDocument),
                day()
            )),
            [field::DOCUMENT]
        );
        assert_eq!(
            fields(&verification(
                &input(VerificationMethod::AgentWithPoa),
                day()
            )),
            [
                field::AGENT_IDENTIFIER,
                field::AGENT_NAME,
                field::POA_REFERENCE
            ]
        );
        let mut v = input(VerificationMethod::AgentWithPoa);
        v.agent_identifier = "11010519491231002x";
        v.agent_name = "张三";
        v.poa_reference = "WT-2026-001";
        let errors = verification(&v, day());
        assert_eq!(errors[0].rule, Rule::AgentIsSubject);
        let mut v = input(VerificationMethod::IdCardInspected);
        v.identifier = "110105194912310021";
        v.name = " ";
        let errors = verification(&v, day());
        assert_eq!(fields(&errors), [field::IDENTIFIER, field::NAME]);
        assert_eq!(errors[0].message(Lang::Zh), "校验位应为 X，实为 1");
    }

    #[test]
    fn an_organisation_acts_through_a_person_and_shows_its_licence() {
        let org = |method, acting: OrgActor| {
            let mut v = input(method);
            v.identifier = "93441284MA4W00011D";
            v.name = "马鞍村果蔬专业合作社";
            v.acting_as = acting as i32;
            v
        };
        let m = VerificationMethod::IdCardInspected;
        assert_eq!(
            fields(&verification(&org(m, OrgActor::Unspecified), day())),
            [field::ACTING_AS, field::LICENCE]
        );
        assert_eq!(
            fields(&verification(&org(m, OrgActor::LegalRepresentative), day())),
            [field::AGENT_IDENTIFIER, field::AGENT_NAME, field::LICENCE]
        );
        assert_eq!(
            fields(&verification(&org(m, OrgActor::AuthorisedAgent), day())),
            [
                field::AGENT_IDENTIFIER,
                field::AGENT_NAME,
                field::POA_REFERENCE,
                field::LICENCE
            ]
        );
        let mut ok = org(m, OrgActor::LegalRepresentative);
        ok.agent_identifier = "11010519491231002X";
        ok.agent_name = "王丽";
        ok.licence = "营业执照正本";
        assert!(verification(&ok, day()).is_empty());
        // A person's agent method is not how an organisation acts.
        ok.method = VerificationMethod::AgentWithPoa as i32;
        assert_eq!(
            verification(&ok, day())[0].rule,
            Rule::OrganisationAgentUsesLetter
        );
        // Who acts for an organisation means nothing for a person.
        let mut person = input(m);
        person.acting_as = OrgActor::LegalRepresentative as i32;
        assert_eq!(
            verification(&person, day())[0].rule,
            Rule::OnlyForOrganisations
        );
    }

    #[test]
    fn names_compare_without_spaces_and_dots() {
        assert!(names_match("王 丽", "王丽"));
        assert!(names_match("阿依古丽·买买提", "阿依古丽•买买提"));
        assert!(!names_match("王莉", "王丽"));
        assert!(!names_match("", ""));
    }

    #[test]
    fn collect_keeps_every_failure() {
        let errs = collect([username("A"), display_name("ok"), unit_code("")]);
        let fields: Vec<_> = errs.iter().map(|e| e.field).collect();
        assert_eq!(fields, vec![field::USERNAME, field::CODE]);
    }

    #[test]
    fn free_text_is_bounded_and_carries_no_control_characters() {
        let rule = |v: &str, lines| free_text("remarks", v, 10, lines).err().map(|e| e.rule);
        assert_eq!(rule("", false), None);
        assert_eq!(rule("借款人本人到场签字", false), None);
        assert_eq!(
            rule("一二三四五六七八九十", false),
            None,
            "10 characters, not bytes"
        );
        assert_eq!(
            rule("一二三四五六七八九十一", false),
            Some(Rule::TooLong { max: 10 })
        );
        assert_eq!(rule("a\nb", true), None);
        assert_eq!(
            rule("a\nb", false),
            Some(Rule::ControlCharacters { lines: false })
        );
        for bad in ["\u{1b}[2J", "a\0b", "\u{1b}]0;title\u{7}", "\r", "\u{9b}2J"] {
            assert_eq!(
                rule(bad, true),
                Some(Rule::ControlCharacters { lines: true }),
                "{bad:?}"
            );
        }
        assert_eq!(cursor(""), Ok(()));
        assert!(cursor("441284199003070023").is_err(), "cursors are ids");
    }
}

#[cfg(test)]
mod log_filter_tests {
    use super::*;

    fn d(s: &str) -> chrono::NaiveDate {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_log_filter_names_each_field_it_refuses() {
        let today = d("2026-11-23");
        let f = |id: &str, from: &str, to: &str| {
            query_log_filter(id, "", "", "", from, to, today)
                .map_err(|e| e.into_iter().map(|e| (e.field, e.rule)).collect::<Vec<_>>())
        };
        assert_eq!(f("", "", ""), Ok((today, today)));
        assert_eq!(f("", "2026-11-01", ""), Ok((d("2026-11-01"), today)));
        assert_eq!(
            f("441284196508120010", "２０２６-01-01", "2026-12-31"),
            Ok((d("2026-01-01"), d("2026-12-31")))
        );
        assert_eq!(
            f("", "2026-11-23", "2026-11-22"),
            Err(vec![(field::TO_DATE, Rule::EndsBeforeStart)])
        );
        assert_eq!(
            f("", "2025-11-22", "2026-11-23"),
            Err(vec![(field::TO_DATE, Rule::RangeTooLong { max_days: 366 })])
        );
        assert_eq!(
            f("", "2025-11-23", "2026-11-23"),
            Ok((d("2025-11-23"), today)),
            "366 days, both ends included"
        );
        assert_eq!(
            f("", "23/11/2026", "2026-02-30"),
            Err(vec![
                (field::FROM_DATE, Rule::NotADate),
                (field::TO_DATE, Rule::NoSuchDate)
            ])
        );
        let bad_id = f("441284196508120011", "", "").unwrap_err();
        assert_eq!(bad_id[0].0, field::SUBJECT_IDENTIFIER);
        let long = "x".repeat(65);
        let errors = query_log_filter("", &long, "B\u{7}", "", "", "", today).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, [field::OPERATOR_USERNAME, field::INSTITUTION_CODE]);
    }
}
