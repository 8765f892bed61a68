//! Chinese identifiers, checked the same way by the workstation (as the
//! clerk types) and the server (before anything is stored):
//!
//! - resident identity numbers, GB 11643-1999 (ISO 7064 MOD 11-2 check);
//! - unified social credit codes, GB 32100-2015 (MOD 31 check), whose
//!   positions 9–17 are an organisation code, GB 11714 (MOD 11 check).
//!
//! Every failure names the rule it broke; a wrong check character also says
//! what it should have been.

use chrono::{Datelike, NaiveDate};

use crate::Lang;

/// Drops surrounding spaces (also the ideographic space), turns full-width
/// digits and letters — as Chinese input methods type them — into ASCII,
/// and upper-cases letters.
pub fn normalise(input: &str) -> String {
    input
        .chars()
        .map(|c| match c {
            '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
                char::from_u32(c as u32 - 0xFF10 + 0x30).unwrap_or(c)
            }
            '\u{3000}' => ' ',
            c => c,
        })
        .collect::<String>()
        .trim()
        .to_ascii_uppercase()
}

/// Province-level codes of GB/T 2260 (the first two digits of a region code).
pub const PROVINCES: &[(&str, &str)] = &[
    ("11", "北京市"),
    ("12", "天津市"),
    ("13", "河北省"),
    ("14", "山西省"),
    ("15", "内蒙古自治区"),
    ("21", "辽宁省"),
    ("22", "吉林省"),
    ("23", "黑龙江省"),
    ("31", "上海市"),
    ("32", "江苏省"),
    ("33", "浙江省"),
    ("34", "安徽省"),
    ("35", "福建省"),
    ("36", "江西省"),
    ("37", "山东省"),
    ("41", "河南省"),
    ("42", "湖北省"),
    ("43", "湖南省"),
    ("44", "广东省"),
    ("45", "广西壮族自治区"),
    ("46", "海南省"),
    ("50", "重庆市"),
    ("51", "四川省"),
    ("52", "贵州省"),
    ("53", "云南省"),
    ("54", "西藏自治区"),
    ("61", "陕西省"),
    ("62", "甘肃省"),
    ("63", "青海省"),
    ("64", "宁夏回族自治区"),
    ("65", "新疆维吾尔自治区"),
    ("71", "台湾省"),
    ("81", "香港特别行政区"),
    ("82", "澳门特别行政区"),
    ("83", "台湾居民居住证"),
];

pub fn province_name(code: &str) -> Option<&'static str> {
    PROVINCES.iter().find(|p| p.0 == code).map(|p| p.1)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }
    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            Sex::Male => lang.pick("男", "male"),
            Sex::Female => lang.pick("女", "female"),
        }
    }
}

/// What a valid identity number says about its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub number: String,
    pub birth_date: NaiveDate,
    pub sex: Sex,
    pub province: &'static str,
}

/// Why a number is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdError {
    Empty,
    /// Not 18 characters.
    Length {
        actual: usize,
    },
    /// A character not allowed at this (1-based) position.
    Character {
        position: usize,
        found: char,
    },
    /// The region code's first two digits are no province.
    Region {
        code: String,
    },
    /// The birth date is no calendar date.
    Date {
        text: String,
    },
    DateInFuture {
        date: NaiveDate,
    },
    DateBefore1900 {
        date: NaiveDate,
    },
    /// USCC: no such registration department / organisation type pair.
    Registration {
        code: String,
    },
    /// USCC positions 9–17: the organisation code's own check character.
    OrgCodeCheck {
        expected: char,
        found: char,
    },
    /// The final check character.
    Check {
        expected: char,
        found: char,
    },
}

impl IdError {
    /// A short machine-readable name of the rule.
    pub fn rule(&self) -> &'static str {
        match self {
            IdError::Empty => "empty",
            IdError::Length { .. } => "length",
            IdError::Character { .. } => "characters",
            IdError::Region { .. } => "region",
            IdError::Date { .. }
            | IdError::DateInFuture { .. }
            | IdError::DateBefore1900 { .. } => "date",
            IdError::Registration { .. } => "registration",
            IdError::OrgCodeCheck { .. } => "organisation_code_check",
            IdError::Check { .. } => "check_character",
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        match self {
            IdError::Empty => lang.pick("未填写号码".into(), "no number given".into()),
            IdError::Length { actual } => lang.pick(
                format!("应为 18 位，实际 {actual} 位"),
                format!("must be 18 characters, not {actual}"),
            ),
            IdError::Character { position, found } => lang.pick(
                format!("第 {position} 位字符“{found}”不允许"),
                format!("character {position} ('{found}') is not allowed there"),
            ),
            IdError::Region { code } => lang.pick(
                format!("地区码 {code} 无效（前两位不是省级行政区代码）"),
                format!("region code {code} is invalid (its first two digits are no province)"),
            ),
            IdError::Date { text } => lang.pick(
                format!("出生日期 {text} 不是有效日期"),
                format!("birth date {text} is not a calendar date"),
            ),
            IdError::DateInFuture { date } => lang.pick(
                format!("出生日期 {date} 晚于今天"),
                format!("birth date {date} is in the future"),
            ),
            IdError::DateBefore1900 { date } => lang.pick(
                format!("出生日期 {date} 早于 1900 年"),
                format!("birth date {date} is before 1900"),
            ),
            IdError::Registration { code } => lang.pick(
                format!("登记管理部门和机构类别代码 {code} 无效"),
                format!(
                    "registration department and organisation type {code} are not a valid pair"
                ),
            ),
            IdError::OrgCodeCheck { expected, found } => lang.pick(
                format!("组织机构代码校验位应为 {expected}，实为 {found}"),
                format!(
                    "the organisation code's check character should be {expected}, not {found}"
                ),
            ),
            IdError::Check { expected, found } => lang.pick(
                format!("校验位应为 {expected}，实为 {found}"),
                format!("the check character should be {expected}, not {found}"),
            ),
        }
    }
}

impl std::fmt::Display for IdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

impl std::error::Error for IdError {}

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The MOD 11-2 check character for the first 17 digits.
pub fn person_check_char(first17: &str) -> char {
    let sum: u32 = first17
        .chars()
        .zip(ID_WEIGHTS)
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    ID_CHECK[(sum % 11) as usize]
}

fn length(s: &str) -> Result<(), IdError> {
    match s.chars().count() {
        0 => Err(IdError::Empty),
        18 => Ok(()),
        n => Err(IdError::Length { actual: n }),
    }
}

/// Validates a resident identity number (already [`normalise`]d) and
/// derives birth date, sex and province. `today` bounds the birth date.
pub fn person(number: &str, today: NaiveDate) -> Result<Person, IdError> {
    length(number)?;
    for (i, c) in number.chars().enumerate() {
        let ok = c.is_ascii_digit() || (i == 17 && c == 'X');
        if !ok {
            return Err(IdError::Character {
                position: i + 1,
                found: c,
            });
        }
    }
    let province = province_name(&number[..2]).ok_or_else(|| IdError::Region {
        code: number[..6].to_string(),
    })?;
    let text = &number[6..14];
    let date = NaiveDate::parse_from_str(text, "%Y%m%d").map_err(|_| IdError::Date {
        text: text.to_string(),
    })?;
    if date > today {
        return Err(IdError::DateInFuture { date });
    }
    if date.year() < 1900 {
        return Err(IdError::DateBefore1900 { date });
    }
    let expected = person_check_char(&number[..17]);
    let found = number.chars().nth(17).unwrap_or(' ');
    if expected != found {
        return Err(IdError::Check { expected, found });
    }
    let sequence: u32 = number[14..17].parse().unwrap_or(0);
    Ok(Person {
        number: number.to_string(),
        birth_date: date,
        sex: if sequence % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        },
        province,
    })
}

/// Builds a valid identity number (test data, demo data, benchmarks).
pub fn make_person_number(region: &str, birth: NaiveDate, sequence: u16) -> String {
    let first17 = format!(
        "{region:0>6.6}{}{:03}",
        birth.format("%Y%m%d"),
        sequence % 1000
    );
    let check = person_check_char(&first17);
    format!("{first17}{check}")
}

/// The 31 characters of a unified social credit code: digits and capitals
/// without I, O, Z, S, V.
pub const USCC_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// Registration department (position 1) and organisation type (position 2)
/// pairs of GB 32100-2015, with what each pair means.
pub const REGISTRATIONS: &[(&str, &str, OrgType)] = &[
    ("11", "机关", OrgType::PublicInstitution),
    ("12", "事业单位", OrgType::PublicInstitution),
    (
        "13",
        "中央编办直接管理机构编制的群众团体",
        OrgType::SocialOrganisation,
    ),
    ("19", "其他（机构编制）", OrgType::PublicInstitution),
    ("21", "外国常驻新闻机构", OrgType::Other),
    ("29", "其他（外交）", OrgType::Other),
    ("31", "律师执业机构", OrgType::Other),
    ("32", "公证处", OrgType::Other),
    ("33", "基层法律服务所", OrgType::Other),
    ("34", "司法鉴定机构", OrgType::Other),
    ("35", "仲裁委员会", OrgType::Other),
    ("39", "其他（司法行政）", OrgType::Other),
    ("41", "外国在华文化中心", OrgType::Other),
    ("49", "其他（文化）", OrgType::Other),
    ("51", "社会团体", OrgType::SocialOrganisation),
    ("52", "民办非企业单位", OrgType::SocialOrganisation),
    ("53", "基金会", OrgType::SocialOrganisation),
    ("59", "其他（民政）", OrgType::SocialOrganisation),
    ("61", "外国旅游部门常驻代表机构", OrgType::Other),
    ("62", "港澳台地区旅游部门常驻内地代表机构", OrgType::Other),
    ("69", "其他（旅游）", OrgType::Other),
    ("71", "宗教活动场所", OrgType::Other),
    ("72", "宗教院校", OrgType::Other),
    ("79", "其他（宗教）", OrgType::Other),
    ("81", "基层工会", OrgType::SocialOrganisation),
    ("89", "其他（工会）", OrgType::SocialOrganisation),
    ("91", "企业", OrgType::Enterprise),
    ("92", "个体工商户", OrgType::IndividualBusiness),
    ("93", "农民专业合作社", OrgType::Cooperative),
    ("A1", "军队事业单位", OrgType::PublicInstitution),
    ("A9", "其他（军队）", OrgType::Other),
    ("N1", "组级集体经济组织", OrgType::Other),
    ("N2", "村级集体经济组织", OrgType::Other),
    ("N3", "乡镇级集体经济组织", OrgType::Other),
    ("N9", "其他（农业）", OrgType::Other),
    ("Y1", "其他", OrgType::Other),
];

/// The subject registry's organisation types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgType {
    Enterprise,
    /// 个体工商户 (registration pair 92).
    IndividualBusiness,
    /// 农民专业合作社 (registration pair 93).
    Cooperative,
    PublicInstitution,
    SocialOrganisation,
    Other,
}

impl OrgType {
    pub fn code(self) -> &'static str {
        match self {
            OrgType::Enterprise => "enterprise",
            OrgType::IndividualBusiness => "individual_business",
            OrgType::Cooperative => "cooperative",
            OrgType::PublicInstitution => "public_institution",
            OrgType::SocialOrganisation => "social_organisation",
            OrgType::Other => "other",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub code: String,
    /// What the registration pair says the organisation is (企业, 事业单位 …).
    pub registration: &'static str,
    pub org_type: OrgType,
    pub province: &'static str,
    /// GB 11714 organisation code, positions 9–17.
    pub organisation_code: String,
}

fn uscc_value(c: char) -> Option<u32> {
    USCC_ALPHABET.find(c).map(|i| i as u32)
}

/// GB 11714 check character of an 8-character organisation code body.
pub fn org_code_check_char(body: &str) -> char {
    let sum: u32 = body
        .chars()
        .zip(ORG_WEIGHTS)
        .map(|(c, w)| c.to_digit(36).unwrap_or(0) * w)
        .sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        n => char::from_digit(n, 10).unwrap_or('0'),
    }
}

/// The MOD 31 check character for the first 17 characters.
pub fn uscc_check_char(first17: &str) -> char {
    let sum: u32 = first17
        .chars()
        .zip(USCC_WEIGHTS)
        .map(|(c, w)| uscc_value(c).unwrap_or(0) * w)
        .sum();
    let v = (31 - sum % 31) % 31;
    USCC_ALPHABET.chars().nth(v as usize).unwrap_or('0')
}

/// Validates a unified social credit code (already [`normalise`]d).
pub fn organisation(code: &str) -> Result<Organisation, IdError> {
    length(code)?;
    for (i, c) in code.chars().enumerate() {
        let ok = match i {
            2..=7 => c.is_ascii_digit(),
            _ => uscc_value(c).is_some(),
        };
        if !ok {
            return Err(IdError::Character {
                position: i + 1,
                found: c,
            });
        }
    }
    let pair = &code[..2];
    let (_, registration, org_type) =
        REGISTRATIONS
            .iter()
            .find(|r| r.0 == pair)
            .ok_or_else(|| IdError::Registration {
                code: pair.to_string(),
            })?;
    let province = province_name(&code[2..4]).ok_or_else(|| IdError::Region {
        code: code[2..8].to_string(),
    })?;
    let expected = org_code_check_char(&code[8..16]);
    let found = code.chars().nth(16).unwrap_or(' ');
    if expected != found {
        return Err(IdError::OrgCodeCheck { expected, found });
    }
    let expected = uscc_check_char(&code[..17]);
    let found = code.chars().nth(17).unwrap_or(' ');
    if expected != found {
        return Err(IdError::Check { expected, found });
    }
    Ok(Organisation {
        code: code.to_string(),
        registration,
        org_type: *org_type,
        province,
        organisation_code: code[8..17].to_string(),
    })
}

/// Builds a valid unified social credit code from a registration pair, a
/// region and an 8-character organisation code body (digits and the USCC
/// alphabet's letters).
pub fn make_uscc(pair: &str, region: &str, body: &str) -> String {
    let org = format!("{body}{}", org_code_check_char(body));
    let first17 = format!("{pair}{region}{org}");
    format!("{first17}{}", uscc_check_char(&first17))
}

/// Either kind of identifier, told apart by shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identifier {
    Person(Person),
    Organisation(Organisation),
}

/// Checks a number of either kind: an 18-character value whose 17 first
/// characters are digits is read as a person when its first two are a
/// province, or when it carries a birth date and is no valid credit code
/// (a mistyped region is still a person's number, and its error says so);
/// anything else as an organisation. Errors follow the reading.
pub fn check_any(input: &str, today: NaiveDate) -> Result<Identifier, IdError> {
    let n = normalise(input);
    let digits = n.len() == 18 && n.chars().take(17).all(|c| c.is_ascii_digit());
    let born = || NaiveDate::parse_from_str(&n[6..14], "%Y%m%d").is_ok_and(|d| d.year() >= 1900);
    let looks_personal = n.len() != 18
        || (digits && (province_name(&n[..2]).is_some() || (born() && organisation(&n).is_err())));
    if looks_personal {
        person(&n, today).map(Identifier::Person)
    } else {
        organisation(&n).map(Identifier::Organisation)
    }
}

/// `440105********123X`: region and last four kept, birth date hidden.
pub fn mask(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    if chars.len() < 10 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    /// A person's number with a mistyped region was checked as a credit
    /// code and refused with the organisation-code message.
    #[test]
    fn a_persons_number_with_a_bad_region_is_still_a_persons() {
        assert!(matches!(
            check_any("991284196508120010", today()),
            Err(IdError::Region { .. })
        ));
        // A valid all-digit credit code is still read as one.
        let code = make_uscc("91", "440300", "71526725");
        assert!(code[..17].chars().all(|c| c.is_ascii_digit()), "{code}");
        assert!(matches!(
            check_any(&code, today()),
            Ok(Identifier::Organisation(_))
        ));
    }

    #[test]
    fn normalises_what_input_methods_type() {
        assert_eq!(
            normalise("  ４４０１０５１９９００３０７００１ｘ　"),
            "44010519900307001X"
        );
        assert_eq!(normalise("91440101MA5CXXXX1a"), "91440101MA5CXXXX1A");
    }

    #[test]
    fn the_standards_own_example_validates() {
        // GB 11643-1999 appendix example.
        let p = person("11010519491231002X", today()).unwrap();
        assert_eq!(p.birth_date, NaiveDate::from_ymd_opt(1949, 12, 31).unwrap());
        assert_eq!(p.sex, Sex::Female);
        assert_eq!(p.province, "北京市");
        let p = person("440524188001010014", today());
        assert!(matches!(p, Err(IdError::DateBefore1900 { .. })), "{p:?}");
    }

    #[test]
    fn each_person_rule_has_its_own_error() {
        let t = today();
        assert_eq!(person("", t), Err(IdError::Empty));
        assert_eq!(
            person("1101051949123100", t),
            Err(IdError::Length { actual: 16 })
        );
        assert_eq!(
            person("11010519491231002Y", t),
            Err(IdError::Character {
                position: 18,
                found: 'Y'
            })
        );
        assert_eq!(
            person("1101051949X231002X", t),
            Err(IdError::Character {
                position: 11,
                found: 'X'
            })
        );
        assert_eq!(
            person("99010519491231002X", t),
            Err(IdError::Region {
                code: "990105".into()
            })
        );
        assert_eq!(
            person("11010519490231002X", t),
            Err(IdError::Date {
                text: "19490231".into()
            })
        );
        let future = make_person_number("440105", NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(), 11);
        assert!(matches!(
            person(&future, t),
            Err(IdError::DateInFuture { .. })
        ));
        assert_eq!(
            person("110105194912310021", t),
            Err(IdError::Check {
                expected: 'X',
                found: '1'
            })
        );
        let msg = IdError::Check {
            expected: 'X',
            found: '1',
        }
        .message(Lang::Zh);
        assert_eq!(msg, "校验位应为 X，实为 1");
    }

    #[test]
    fn generated_people_validate_with_their_sex() {
        let d = NaiveDate::from_ymd_opt(1990, 3, 7).unwrap();
        let male = make_person_number("441284", d, 13);
        let p = person(&male, today()).unwrap();
        assert_eq!((p.sex, p.birth_date, p.province), (Sex::Male, d, "广东省"));
        let female = make_person_number("441284", d, 14);
        assert_eq!(person(&female, today()).unwrap().sex, Sex::Female);
    }

    #[test]
    fn organisation_codes() {
        // A published code of a real enterprise's shape, built and then checked.
        let code = make_uscc("91", "441284", "MA4UHKL9");
        let org = organisation(&code).unwrap();
        assert_eq!(org.registration, "企业");
        assert_eq!(org.org_type, OrgType::Enterprise);
        assert_eq!(org.province, "广东省");
        // Known real-world code (Tencent, Shenzhen) validates.
        assert!(organisation("9144030071526726XG").is_ok());
        assert_eq!(
            organisation("9544030071526726XG"),
            Err(IdError::Registration { code: "95".into() })
        );
        assert_eq!(
            organisation("9199030071526726XG"),
            Err(IdError::Region {
                code: "990300".into()
            })
        );
        let mut bad: Vec<char> = code.chars().collect();
        bad[16] = if bad[16] == '0' { '1' } else { '0' };
        let bad: String = bad.into_iter().collect();
        assert!(
            matches!(organisation(&bad), Err(IdError::OrgCodeCheck { .. })),
            "{bad}"
        );
        assert!(matches!(
            organisation("9144030071526726XH"),
            Err(IdError::Check { found: 'H', .. })
        ));
        assert_eq!(
            organisation("914403007152672OXG"),
            Err(IdError::Character {
                position: 16,
                found: 'O'
            })
        );
    }

    #[test]
    fn check_any_tells_the_kinds_apart() {
        let t = today();
        assert!(matches!(
            check_any("11010519491231002x", t),
            Ok(Identifier::Person(_))
        ));
        assert!(matches!(
            check_any("9144030071526726XG", t),
            Ok(Identifier::Organisation(_))
        ));
        assert!(matches!(
            check_any("123", t),
            Err(IdError::Length { actual: 3 })
        ));
    }

    #[test]
    fn masks_keep_region_and_tail() {
        assert_eq!(mask("44010519900307001X"), "440105********001X");
        assert_eq!(mask("123"), "***");
    }
}
