//! Demo data: a small county center (modelled on 四会市综合征信中心) with its
//! townships, a village station, source departments and banks, and one
//! operator per role. Seeded once, into an empty database.

use credit_desk_proto::pb::{OrgUnitKind, Role};

use crate::db::{Db, operators};
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

const UNITS: &[(&str, &str, OrgUnitKind, &str)] = &[
    (
        "T-DASHA",
        "大沙镇便民服务中心",
        OrgUnitKind::Township,
        setup::CENTER_CODE,
    ),
    (
        "T-JIANGGU",
        "江谷镇便民服务中心",
        OrgUnitKind::Township,
        setup::CENTER_CODE,
    ),
    (
        "T-JINGKOU",
        "迳口镇便民服务中心",
        OrgUnitKind::Township,
        setup::CENTER_CODE,
    ),
    (
        "V-DASHA-01",
        "大沙镇马鞍村信用服务站",
        OrgUnitKind::VillageStation,
        "T-DASHA",
    ),
    (
        "D-COURT",
        "市人民法院",
        OrgUnitKind::Department,
        setup::CENTER_CODE,
    ),
    (
        "D-TAX",
        "市税务局",
        OrgUnitKind::Department,
        setup::CENTER_CODE,
    ),
    (
        "D-POWER",
        "供电局",
        OrgUnitKind::Department,
        setup::CENTER_CODE,
    ),
    (
        "D-WATER",
        "自来水公司",
        OrgUnitKind::Department,
        setup::CENTER_CODE,
    ),
    (
        "D-SAMR",
        "市场监督管理局",
        OrgUnitKind::Department,
        setup::CENTER_CODE,
    ),
    (
        "B-RCB",
        "农村商业银行",
        OrgUnitKind::Bank,
        setup::CENTER_CODE,
    ),
    (
        "B-CCB",
        "建设银行支行",
        OrgUnitKind::Bank,
        setup::CENTER_CODE,
    ),
];

/// Seeds the demo data if the database has no operators yet. Returns whether
/// it seeded.
pub async fn seed_if_empty(db: &Db, now_ms: i64) -> anyhow::Result<bool> {
    {
        let mut conn = db.read().await?;
        if operators::count(&mut conn).await? > 0 {
            return Ok(false);
        }
    }
    setup::ensure_center(db, "四会市综合征信中心", now_ms).await?;
    for (code, name, kind, parent) in UNITS {
        setup::add_org_unit(db, code, name, *kind, parent, now_ms).await?;
    }
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
    Ok(true)
}
