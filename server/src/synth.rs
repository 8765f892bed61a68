//! A deterministic synthetic population for the demo and for benchmarks:
//! valid identity numbers and credit codes, Chinese names and addresses in
//! the county's townships, and department records of every category.
//! The same `--seed` gives the same data.

use chrono::{Duration, NaiveDate};
use credit_desk_proto::ident;
use credit_desk_proto::pb::SubjectKind;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::db::bulk::{self, V, insert as bulk};
use crate::db::{Db, new_id, org_units};

const SURNAMES: &[&str] = &[
    "陈", "李", "黄", "张", "王", "刘", "林", "梁", "何", "吴", "罗", "周", "郑", "谢", "冯", "邓",
    "曾", "彭", "苏", "卢", "蔡", "潘", "杨", "许", "叶", "钟", "徐", "朱", "胡", "赖",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
    "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建国", "志强", "美玲", "国华", "少芬",
    "锦荣", "丽华", "永康", "嘉欣", "子豪", "晓东", "婉婷", "家乐", "文辉", "惠敏", "振华", "玉珍",
];
/// Township code, township name, villages.
const PLACES: &[(&str, &str, &[&str])] = &[
    (
        "T-DASHA",
        "大沙镇",
        &["马鞍村", "大沙村", "布心村", "上城村"],
    ),
    ("T-JIANGGU", "江谷镇", &["江谷村", "新城村", "料洞村"]),
    ("T-JINGKOU", "迳口镇", &["迳口村", "华侨村", "双合村"]),
];
/// County-level region codes of 肇庆市 (441200) used for identity numbers.
const REGIONS: &[&str] = &[
    "441284", "441202", "441203", "441223", "441224", "441225", "441226", "441283",
];
const ORG_WORDS: &[&str] = &[
    "兴旺", "恒达", "永盛", "金穗", "绿源", "宏图", "顺发", "利民", "丰收", "华美",
];
const ORG_KINDS: &[(&str, &str)] = &[
    ("91", "有限公司"),
    ("92", "五金店"),
    ("93", "农业专业合作社"),
    ("52", "养老服务中心"),
    ("12", "卫生院"),
];

/// Which department supplies which category.
pub fn source_of(category: &str) -> &'static str {
    match category {
        "court_judgment" | "dishonest_debtor" | "prosecution" => "D-COURT",
        "tax_arrears" => "D-TAX",
        "electricity_arrears" => "D-POWER",
        "water_arrears" => "D-WATER",
        "admin_licence" | "admin_award" | "admin_penalty" | "honour" => "D-SAMR",
        "environment" => "D-ENV",
        "household_registration" | "traffic_violation" | "family_planning" => "D-POLICE",
        "employment" | "social_insurance" => "D-HRSS",
        _ => "D-AGRI",
    }
}

const STATUSES: &[(&str, &[&str])] = &[
    ("court_judgment", &["已履行", "执行中"]),
    ("dishonest_debtor", &["未履行", "已移出"]),
    ("tax_arrears", &["未缴", "已缴清"]),
    ("electricity_arrears", &["欠费", "已缴清"]),
    ("water_arrears", &["欠费", "已缴清"]),
    ("admin_penalty", &["已执行", "未执行"]),
    ("admin_licence", &["有效", "已注销"]),
    ("farmer_credit_rating", &["AAA", "AA", "A", "B"]),
    ("village_rating", &["守信", "一般"]),
];

/// The identity number of person `i`, unique for i < 8 × 21 000 × 500.
/// Sequence numbers start at 500, so they never meet the demo's
/// hand-written people (sequences below 100).
pub fn person_number(i: u64) -> String {
    let region = REGIONS[(i % REGIONS.len() as u64) as usize];
    let k = i / REGIONS.len() as u64;
    let base = NaiveDate::from_ymd_opt(1945, 1, 1).expect("valid date");
    let birth = base + Duration::days((k % 21_000) as i64);
    ident::make_person_number(region, birth, 500 + ((k / 21_000) % 500) as u16)
}

/// The credit code of organisation `i` (unique).
pub fn org_code(i: u64) -> String {
    let alphabet: Vec<char> = ident::USCC_ALPHABET.chars().collect();
    let mut n = i;
    let mut body = String::new();
    for _ in 0..8 {
        body.insert(0, alphabet[(n % 31) as usize]);
        n /= 31;
    }
    let (pair, _) = ORG_KINDS[(i % ORG_KINDS.len() as u64) as usize];
    ident::make_uscc(pair, "441284", &body)
}

pub struct Options {
    pub subjects: u64,
    pub records_per_subject: u32,
    pub seed: u64,
    pub now_ms: i64,
    /// Identifiers already taken (e.g. the demo's fixed people) are skipped.
    pub start_index: u64,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub subjects: u64,
    pub records: u64,
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// Generates and stores the population in batches of 2 000 subjects (one
/// transaction each). Needs the demo org tree (townships, departments).
pub async fn generate(
    db: &Db,
    opts: &Options,
    mut progress: impl FnMut(u64),
) -> anyhow::Result<Counts> {
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let (towns, sources, categories) = {
        let mut conn = db.read().await?;
        let mut towns = Vec::new();
        for (code, name, villages) in PLACES {
            let unit = org_units::get_by_code(&mut conn, code)
                .await?
                .ok_or_else(|| {
                    anyhow::anyhow!("org unit {code} missing: seed needs the demo org tree")
                })?;
            towns.push((unit.id, *name, *villages));
        }
        let cats = crate::db::records::categories(&mut conn).await?;
        let mut sources = std::collections::HashMap::new();
        for c in &cats {
            let code = source_of(&c.code);
            let unit = org_units::get_by_code(&mut conn, code)
                .await?
                .ok_or_else(|| {
                    anyhow::anyhow!("department {code} missing: seed needs the demo org tree")
                })?;
            sources.insert(c.code.clone(), unit.id);
        }
        (towns, sources, cats)
    };
    let today = crate::clock::local_date(opts.now_ms);
    let now = opts.now_ms;
    let mut counts = Counts::default();
    let batch = 2_000u64;
    let mut start = 0;
    while start < opts.subjects {
        let end = (start + batch).min(opts.subjects);
        let (mut subjects, mut persons, mut orgs, mut records, mut versions) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for i in start..end {
            let n = i + opts.start_index;
            let (town_id, town, villages) = pick(&mut rng, &towns).clone();
            let village = pick(&mut rng, villages);
            let address = format!("四会市{town}{village}{}号", rng.random_range(1..200));
            let id = new_id();
            let organisation = i % 7 == 6;
            let (identifier, name) = if organisation {
                let code = org_code(n);
                let kind = ORG_KINDS[(n % ORG_KINDS.len() as u64) as usize].1;
                (
                    code,
                    format!("四会市{town}{}{kind}", pick(&mut rng, ORG_WORDS)),
                )
            } else {
                (
                    person_number(n),
                    format!("{}{}", pick(&mut rng, SURNAMES), pick(&mut rng, GIVEN)),
                )
            };
            let phone = format!("13{:09}", rng.random_range(0..1_000_000_000u64));
            let [sealed_identifier, index, address, phone] =
                crate::db::subjects::sealed_columns(&identifier, &address, &phone)?;
            subjects.push(vec![
                V::T(id.clone()),
                V::T(
                    crate::domain::subject_kind_to_str(if organisation {
                        SubjectKind::Organisation
                    } else {
                        SubjectKind::Person
                    })
                    .into(),
                ),
                V::T(sealed_identifier),
                V::T(index),
                V::T(name.clone()),
                V::T(town_id.clone()),
                V::T(address),
                V::T(phone),
                V::I(now),
                V::I(now),
            ]);
            if organisation {
                let org = ident::organisation(&identifier)
                    .map_err(|e| anyhow::anyhow!("{identifier}: {e}"))?;
                let rep = format!("{}{}", pick(&mut rng, SURNAMES), pick(&mut rng, GIVEN));
                orgs.push(vec![
                    V::T(id.clone()),
                    V::T(org.org_type.code().into()),
                    V::T(rep),
                ]);
            } else {
                let p = ident::person(&identifier, today)
                    .map_err(|e| anyhow::anyhow!("{identifier}: {e}"))?;
                persons.push(vec![
                    V::T(id.clone()),
                    V::T(p.birth_date.to_string()),
                    V::T(p.sex.code().into()),
                ]);
            }
            for j in 0..opts.records_per_subject {
                let cat = &categories[((n + u64::from(j)) % categories.len() as u64) as usize];
                let record_id = new_id();
                let start_day = today - Duration::days(rng.random_range(30..3_000));
                let ended = rng.random_bool(0.6);
                let end_day = start_day + Duration::days(rng.random_range(10..900));
                let end_day = (ended && end_day < today).then_some(end_day);
                let status = STATUSES
                    .iter()
                    .find(|s| s.0 == cat.code)
                    .map(|s| *pick(&mut rng, s.1))
                    .unwrap_or("有效");
                let amount = matches!(
                    cat.code.as_str(),
                    "tax_arrears"
                        | "electricity_arrears"
                        | "water_arrears"
                        | "court_judgment"
                        | "dishonest_debtor"
                        | "admin_penalty"
                )
                .then(|| rng.random_range(1_000..5_000_000i64));
                let details = format!("{}（示例数据）", cat.name_zh);
                let key = format!("SYN-{}-{n}-{j}", cat.code);
                records.push(vec![
                    V::T(record_id.clone()),
                    V::T(id.clone()),
                    V::T(cat.code.clone()),
                    V::T(sources[&cat.code].clone()),
                    V::T(key),
                    V::I(1),
                    V::I(now),
                    V::I(now),
                ]);
                versions.push(vec![
                    V::T(record_id),
                    V::I(1),
                    V::T(start_day.to_string()),
                    end_day.map(|d| d.to_string()).into(),
                    amount.into(),
                    V::T(status.into()),
                    V::I(i64::from(cat.negative)),
                    V::T(details),
                    V::T(format!("synthetic-{n}-{j}")),
                    V::NullText,
                    V::I(now),
                    V::NullText,
                ]);
            }
        }
        let mut tx = db.begin_write().await?;
        bulk(&mut tx, &bulk::SUBJECTS, &subjects).await?;
        bulk(&mut tx, &bulk::PERSONS, &persons).await?;
        bulk(&mut tx, &bulk::ORGANISATIONS, &orgs).await?;
        bulk(&mut tx, &bulk::RECORDS, &records).await?;
        bulk(&mut tx, &bulk::RECORD_VERSIONS, &versions).await?;
        tx.commit().await?;
        counts.subjects += end - start;
        counts.records += records.len() as u64;
        progress(counts.subjects);
        start = end;
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_identifiers_are_valid_and_unique() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let mut seen = std::collections::HashSet::new();
        for i in (0..200_000).step_by(97) {
            let p = person_number(i);
            assert!(ident::person(&p, today).is_ok(), "{p}");
            assert!(seen.insert(p));
            let o = org_code(i);
            assert!(ident::organisation(&o).is_ok(), "{o}");
            assert!(seen.insert(o));
        }
    }

    #[test]
    fn every_category_has_a_source() {
        for c in [
            "court_judgment",
            "tax_arrears",
            "village_rating",
            "environment",
            "employment",
        ] {
            assert!(source_of(c).starts_with("D-"));
        }
    }
}
