//! The center's settings, kept in the database so every server sharing it
//! agrees: each known key with its meaning, default and allowed range.

use anyhow::{Context, bail};
use credit_desk_proto::Lang;
use credit_desk_proto::validate::{FieldError, Rule, field};

use crate::db::{Db, audit};

#[derive(Debug)]
pub struct Setting {
    pub key: &'static str,
    pub meaning: &'static str,
    pub meaning_zh: &'static str,
    pub default: i64,
    pub min: i64,
    pub max: i64,
}

pub const KNOWN: &[Setting] = &[
    Setting {
        key: crate::services::consent::MAX_VALIDITY_SETTING,
        meaning: "longest validity of a consent, in days",
        meaning_zh: "查询授权的最长有效期（天）",
        default: 90,
        min: 1,
        max: 3650,
    },
    Setting {
        key: crate::objections::WARN_SETTING,
        meaning: "warn this many working days before a deadline",
        meaning_zh: "期限前多少个工作日预警",
        default: 1,
        min: 0,
        max: 20,
    },
    Setting {
        key: crate::services::objection::ATTEMPTS_SETTING,
        meaning: "failed notices after which an applicant may be recorded unreachable",
        meaning_zh: "告知未果多少次后可记为无法联系",
        default: 3,
        min: 1,
        max: 10,
    },
    Setting {
        key: crate::services::query::FEE_SETTING,
        meaning: "fee for a self-query beyond the year's two free ones, in fen (1/100 yuan)",
        meaning_zh: "本人查询每年前两次免费，此后每次收费（分）",
        default: crate::services::query::DEFAULT_FEE_CENTS,
        min: 0,
        max: 100_000,
    },
    Setting {
        key: indicator::QUERIES,
        meaning: "abnormal-query alert: more queries than this by one operator in a day",
        meaning_zh: "异常查询预警：一名操作员一日查询超过此数",
        default: 50,
        min: 1,
        max: 100_000,
    },
    Setting {
        key: indicator::REFUSALS,
        meaning: "abnormal-query alert: more refused queries than this for one operator in a day",
        meaning_zh: "异常查询预警：一名操作员一日被拒查询超过此数",
        default: 5,
        min: 0,
        max: 10_000,
    },
    Setting {
        key: indicator::AGENT_QUERIES,
        meaning: "abnormal-query alert: more self-queries through agents than this by one operator in a day",
        meaning_zh: "异常查询预警：一名操作员一日代理本人查询超过此数",
        default: 3,
        min: 0,
        max: 10_000,
    },
    Setting {
        key: indicator::INSTITUTIONS,
        meaning: "abnormal-query alert: this many institutions or more querying one subject in the window",
        meaning_zh: "异常查询预警：窗口期内查询同一主体的机构达到此数",
        default: 3,
        min: 2,
        max: 100,
    },
    Setting {
        key: indicator::WINDOW_DAYS,
        meaning: "abnormal-query alert: that window, in days",
        meaning_zh: "异常查询预警：上述窗口期（天）",
        default: 7,
        min: 1,
        max: 90,
    },
    Setting {
        key: indicator::WORKING_HOURS,
        meaning: "abnormal-query alert: working hours as start and end hour (818 is 8:00-18:00)",
        meaning_zh: "异常查询预警：工作时间，开始和结束小时（818 即 8:00–18:00）",
        default: 818,
        min: 1,
        max: 2324,
    },
];

/// The keys of the abnormal-query indicators' thresholds.
pub mod indicator {
    pub const QUERIES: &str = "indicator_queries_per_operator";
    pub const REFUSALS: &str = "indicator_refusals_per_operator";
    pub const AGENT_QUERIES: &str = "indicator_agent_queries_per_operator";
    pub const INSTITUTIONS: &str = "indicator_institutions_per_subject";
    pub const WINDOW_DAYS: &str = "indicator_institution_window_days";
    pub const WORKING_HOURS: &str = "indicator_working_hours";
}

/// A known setting's value (its default when never set).
pub async fn get(conn: &mut sqlx::AnyConnection, key: &'static str) -> sqlx::Result<i64> {
    let default = KNOWN.iter().find(|s| s.key == key).map_or(0, |s| s.default);
    crate::db::consents::setting_i64(conn, key, default).await
}

/// Every known setting with its value, as `key = value  # meaning` lines.
pub async fn show(db: &Db) -> anyhow::Result<String> {
    let mut conn = db.read().await?;
    let mut out = String::new();
    for s in KNOWN {
        let v = crate::db::consents::setting_i64(&mut conn, s.key, s.default).await?;
        out.push_str(&format!(
            "{} = {v}  # {} ({}–{}, default {})\n",
            s.key, s.meaning, s.min, s.max, s.default
        ));
    }
    Ok(out)
}

/// The known setting `key`, if `value` is allowed for it: in its range,
/// and for the working hours a start before an end up to 24.
pub fn check(key: &str, value: i64) -> Result<&'static Setting, FieldError> {
    let s = KNOWN
        .iter()
        .find(|s| s.key == key)
        .ok_or_else(|| FieldError::new(field::KEY, Rule::UnknownValue))?;
    if value < s.min {
        return Err(FieldError::new(field::VALUE, Rule::AtLeast { min: s.min }));
    }
    if value > s.max {
        return Err(FieldError::new(field::VALUE, Rule::AtMost { max: s.max }));
    }
    if key == indicator::WORKING_HOURS && !(value / 100 < value % 100 && value % 100 <= 24) {
        return Err(FieldError::new(field::VALUE, Rule::NotWorkingHours));
    }
    Ok(s)
}

/// Sets a known setting to an allowed value in one transaction, and logs
/// who changed it (`None`: the command line).
pub async fn store(
    db: &Db,
    who: Option<&str>,
    key: &'static str,
    value: i64,
    now_ms: i64,
) -> sqlx::Result<()> {
    let mut tx = db.begin_write().await?;
    crate::db::consents::set_setting(&mut tx, key, value).await?;
    audit::record(&mut tx, who, "setting.set", key, &value.to_string(), now_ms);
    tx.commit().await
}

/// Sets a known setting from the command line, and logs the change.
pub async fn set(db: &Db, key: &str, value: &str, now_ms: i64) -> anyhow::Result<()> {
    if !KNOWN.iter().any(|s| s.key == key) {
        let names: Vec<&str> = KNOWN.iter().map(|s| s.key).collect();
        bail!("unknown setting {key:?}; known: {}", names.join(", "));
    }
    let v: i64 = value
        .trim()
        .parse()
        .with_context(|| format!("{key}: {value:?} is not a whole number"))?;
    let s = check(key, v).map_err(|e| anyhow::anyhow!("{key}: {v} {}", e.message(Lang::En)))?;
    store(db, None, s.key, v, now_ms).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_against_the_range_and_the_hours() {
        let key = crate::services::consent::MAX_VALIDITY_SETTING;
        assert!(check(key, 1).is_ok() && check(key, 3650).is_ok());
        assert_eq!(check(key, 0).unwrap_err().rule, Rule::AtLeast { min: 1 });
        assert_eq!(
            check(key, 3651).unwrap_err().rule,
            Rule::AtMost { max: 3650 }
        );
        assert_eq!(check("nope", 1).unwrap_err().field, field::KEY);
        let hours = indicator::WORKING_HOURS;
        assert!(check(hours, 818).is_ok() && check(hours, 24).is_ok());
        for bad in [1808, 825, 1010] {
            assert_eq!(
                check(hours, bad).unwrap_err().rule,
                Rule::NotWorkingHours,
                "{bad}"
            );
        }
        assert!(
            KNOWN
                .iter()
                .all(|s| !s.meaning_zh.is_empty() && s.min <= s.default && s.default <= s.max)
        );
    }
}
