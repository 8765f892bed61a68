//! Demo data: a small county center (modelled on 四会市综合征信中心) with its
//! townships, a village station, source departments and banks, and one
//! operator per role. Seeded once, into an empty database.

mod embedded;

use credit_desk_proto::pb::{OrgUnitKind, Role};

pub use embedded::{COURT_EXAMPLE, Demo, EXAMPLE_FILES, TAX_EXAMPLE, info, run, start};

use crate::db::{Db, operators, org_units};
use crate::registry::{self, NewEntry, NewHousehold};
use crate::setup::{self, OperatorSpec};

/// Every demo account uses this password; the login screen shows it.
pub const DEMO_PASSWORD: &str = "demo2026";

pub struct DemoAccount {
    pub username: &'static str,
    pub display_name: &'static str,
    pub role: Role,
    pub unit_code: &'static str,
}

pub const DEMO_ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        username: "counter",
        display_name: "李柜员",
        role: Role::Counter,
        unit_code: "T-DASHA",
    },
    DemoAccount {
        username: "center",
        display_name: "陈业务",
        role: Role::Center,
        unit_code: setup::CENTER_CODE,
    },
    DemoAccount {
        username: "liaison",
        display_name: "黄联络",
        role: Role::Liaison,
        unit_code: "D-COURT",
    },
    DemoAccount {
        username: "bank",
        display_name: "周信贷",
        role: Role::Bank,
        unit_code: "B-RCB",
    },
    DemoAccount {
        username: "supervisor",
        display_name: "吴主管",
        role: Role::Supervisor,
        unit_code: setup::CENTER_CODE,
    },
    DemoAccount {
        username: "admin",
        display_name: "系统管理员",
        role: Role::Admin,
        unit_code: setup::CENTER_CODE,
    },
];

const CENTER: &str = setup::CENTER_CODE;
const TOWNSHIP: OrgUnitKind = OrgUnitKind::Township;
const DEPT: OrgUnitKind = OrgUnitKind::Department;
const BANK: OrgUnitKind = OrgUnitKind::Bank;

/// (code, name, kind, parent code), parents first.
const UNITS: &[(&str, &str, OrgUnitKind, &str)] = &[
    ("T-DASHA", "大沙镇便民服务中心", TOWNSHIP, CENTER),
    ("T-JIANGGU", "江谷镇便民服务中心", TOWNSHIP, CENTER),
    ("T-JINGKOU", "迳口镇便民服务中心", TOWNSHIP, CENTER),
    (
        "V-DASHA-01",
        "大沙镇马鞍村信用服务站",
        OrgUnitKind::VillageStation,
        "T-DASHA",
    ),
    ("D-COURT", "市人民法院", DEPT, CENTER),
    ("D-TAX", "市税务局", DEPT, CENTER),
    ("D-POWER", "供电局", DEPT, CENTER),
    ("D-WATER", "自来水公司", DEPT, CENTER),
    ("D-SAMR", "市场监督管理局", DEPT, CENTER),
    ("D-POLICE", "市公安局", DEPT, CENTER),
    ("D-HRSS", "市人社局", DEPT, CENTER),
    ("D-AGRI", "市农业农村局", DEPT, CENTER),
    ("D-ENV", "生态环境分局", DEPT, CENTER),
    ("B-RCB", "农村商业银行", BANK, CENTER),
    ("B-CCB", "建设银行支行", BANK, CENTER),
];

/// A few subjects every demo has, so a clerk (and the end-to-end test) can
/// verify someone by name: (identity number, name, township code, address, phone).
pub const DEMO_PEOPLE: &[(&str, &str, &str, &str, &str)] = &[
    (
        "441284199003070023",
        "陈美玲",
        "T-DASHA",
        "四会市大沙镇马鞍村 12 号",
        "13800000001",
    ),
    (
        "441284196508120010",
        "李建国",
        "T-DASHA",
        "四会市大沙镇马鞍村 12 号",
        "13800000002",
    ),
    (
        "441284198811230035",
        "黄志强",
        "T-JIANGGU",
        "四会市江谷镇江谷圩 3 号",
        "13800000003",
    ),
];

/// (credit code, name, legal representative, township code, address).
pub const DEMO_ORGANISATIONS: &[(&str, &str, &str, &str, &str)] = &[(
    "93441284MA4W00011D",
    "四会市大沙镇兴旺农业专业合作社",
    "李建国",
    "T-DASHA",
    "四会市大沙镇马鞍村",
)];

async fn seed_subjects(db: &Db, now_ms: i64) -> anyhow::Result<()> {
    let today = crate::clock::local_date(now_ms);
    let mut tx = db.begin_write().await?;
    let township =
        async |tx: &mut sqlx::AnyConnection, code: &str| -> anyhow::Result<Option<String>> {
            Ok(org_units::get_by_code(tx, code).await?.map(|u| u.id))
        };
    let mut ids = Vec::new();
    for (number, name, town, address, phone) in DEMO_PEOPLE {
        let town = township(&mut tx, town).await?;
        let entry = NewEntry {
            identifier: number,
            name,
            township_id: town.as_deref(),
            address,
            phone,
            legal_representative: "",
        };
        ids.push(
            registry::ensure_subject(&mut tx, entry, today, now_ms)
                .await?
                .0,
        );
    }
    for (code, name, rep, town, address) in DEMO_ORGANISATIONS {
        let town = township(&mut tx, town).await?;
        let entry = NewEntry {
            identifier: code,
            name,
            township_id: town.as_deref(),
            address,
            phone: "",
            legal_representative: rep,
        };
        registry::ensure_subject(&mut tx, entry, today, now_ms).await?;
    }
    // 李建国's household: himself and 陈美玲.
    let town = township(&mut tx, "T-DASHA").await?;
    registry::add_household(
        &mut tx,
        NewHousehold {
            identifier: &format!("H{}", DEMO_PEOPLE[1].0),
            head_id: &ids[1],
            head_name: DEMO_PEOPLE[1].1,
            village: "大沙镇马鞍村",
            township_id: town.as_deref(),
            members: &[(ids[0].as_str(), "配偶")],
        },
        now_ms,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Creates the demo center and whichever of its units are missing.
pub async fn ensure_org_tree(db: &Db, now_ms: i64) -> anyhow::Result<()> {
    setup::ensure_center(db, "四会市综合征信中心", now_ms).await?;
    for (code, name, kind, parent) in UNITS {
        let exists = {
            let mut conn = db.read().await?;
            org_units::get_by_code(&mut conn, code).await?.is_some()
        };
        if !exists {
            setup::add_org_unit(db, code, name, *kind, parent, now_ms).await?;
        }
    }
    Ok(())
}

/// Seeds the demo data if the database has no operators yet. Returns whether
/// it seeded.
pub async fn seed_if_empty(db: &Db, now_ms: i64) -> anyhow::Result<bool> {
    {
        let mut conn = db.read().await?;
        if operators::count(&mut conn).await? > 0 {
            return Ok(false);
        }
    }
    ensure_org_tree(db, now_ms).await?;
    for a in DEMO_ACCOUNTS {
        setup::add_operator(
            db,
            OperatorSpec {
                username: a.username,
                display_name: a.display_name,
                role: a.role,
                unit_code: a.unit_code,
                password: DEMO_PASSWORD,
                must_change_password: false,
            },
            now_ms,
        )
        .await?;
    }
    seed_subjects(db, now_ms).await?;
    Ok(true)
}

/// The query operations of the day before yesterday (a review overdue,
/// and clear of the quarter hour after midnight when yesterday cannot be
/// reviewed yet), so the supervisor has a day to review:
/// the bank's attempt without a consent in the morning (refused) and the
/// counter's self-query of 黄志强 in the evening (outside working hours),
/// each on a terminal the system had not seen.
pub async fn seed_query_history(db: &Db, now_ms: i64) -> anyhow::Result<()> {
    use crate::clock::{HOUR_MS, MINUTE_MS, local_date, local_midnight_ms};
    use crate::db::queries::{self, LogEntry};
    use crate::db::{audit, new_id, subjects};
    use anyhow::Context as _;

    let day = local_date(now_ms) - chrono::Days::new(2);
    let start = local_midnight_ms(day);
    let mut conn = db.read().await?;
    let counter = operators::get_by_username(&mut conn, "counter")
        .await?
        .context("demo account counter")?;
    let bank = operators::get_by_username(&mut conn, "bank")
        .await?
        .context("demo account bank")?;
    let person = subjects::get_by_identifier(&mut conn, DEMO_PEOPLE[2].0)
        .await?
        .context("demo person 黄志强")?;
    drop(conn);
    let mut tx = db.begin_write().await?;
    let n = queries::next_report_number(&mut tx, &day.format("%Y%m%d").to_string()).await?;
    let report_no = crate::rules::report::report_number(day, n);
    let attempts = [
        (
            &bank,
            start + 10 * HOUR_MS + 5 * MINUTE_MS,
            "consent",
            false,
        ),
        (
            &counter,
            start + 19 * HOUR_MS + 40 * MINUTE_MS,
            "self",
            true,
        ),
    ];
    for (op, at, basis, allowed) in attempts {
        let id = new_id();
        queries::insert_log(
            &mut tx,
            LogEntry {
                id: &id,
                at,
                operator_id: &op.id,
                org_unit_id: &op.org_unit_id,
                terminal: "demo-desk",
                subject_id: &person.id,
                basis,
                consent_id: None,
                verification_id: None,
                purpose: (!allowed).then_some("loan_approval"),
                institution_id: (!allowed).then_some(op.org_unit_id.as_str()),
                allowed,
                reason: if allowed { "" } else { "no_consent" },
                report_no: allowed.then_some(report_no.as_str()),
                fee_applies: false,
            },
        )
        .await?;
        let outcome = match allowed {
            true => format!("subject {} {basis}: allowed {report_no}", person.id),
            false => format!("subject {} {basis}: refused no_consent", person.id),
        };
        audit::record(&mut tx, Some(&op.id), "query.attempt", &id, &outcome, at);
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_identifiers_are_valid() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        for p in DEMO_PEOPLE {
            assert!(
                credit_desk_proto::ident::person(p.0, today).is_ok(),
                "{}",
                p.0
            );
        }
        for o in DEMO_ORGANISATIONS {
            assert!(
                credit_desk_proto::ident::organisation(o.0).is_ok(),
                "{}",
                o.0
            );
        }
    }
}
