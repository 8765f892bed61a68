//! The center's settings, kept in the database so every server sharing it
//! agrees: each known key with its meaning, default and allowed range.

use anyhow::{Context, bail};

use crate::db::{Db, audit};

pub struct Setting {
    pub key: &'static str,
    pub meaning: &'static str,
    pub default: i64,
    pub min: i64,
    pub max: i64,
}

pub const KNOWN: &[Setting] = &[
    Setting {
        key: crate::services::consent::MAX_VALIDITY_SETTING,
        meaning: "longest validity of a consent, in days",
        default: 90,
        min: 1,
        max: 3650,
    },
    Setting {
        key: crate::objections::WARN_SETTING,
        meaning: "warn this many working days before a deadline",
        default: 1,
        min: 0,
        max: 20,
    },
    Setting {
        key: crate::services::objection::ATTEMPTS_SETTING,
        meaning: "failed notices after which an applicant may be recorded unreachable",
        default: 3,
        min: 1,
        max: 10,
    },
    Setting {
        key: crate::services::query::FEE_SETTING,
        meaning: "fee for a self-query beyond the year's two free ones, in fen (1/100 yuan)",
        default: crate::services::query::DEFAULT_FEE_CENTS,
        min: 0,
        max: 100_000,
    },
    Setting {
        key: indicator::QUERIES,
        meaning: "abnormal-query alert: more queries than this by one operator in a day",
        default: 50,
        min: 1,
        max: 100_000,
    },
    Setting {
        key: indicator::REFUSALS,
        meaning: "abnormal-query alert: more refused queries than this for one operator in a day",
        default: 5,
        min: 0,
        max: 10_000,
    },
    Setting {
        key: indicator::AGENT_QUERIES,
        meaning: "abnormal-query alert: more self-queries through agents than this by one operator in a day",
        default: 3,
        min: 0,
        max: 10_000,
    },
    Setting {
        key: indicator::INSTITUTIONS,
        meaning: "abnormal-query alert: this many institutions or more querying one subject in the window",
        default: 3,
        min: 2,
        max: 100,
    },
    Setting {
        key: indicator::WINDOW_DAYS,
        meaning: "abnormal-query alert: that window, in days",
        default: 7,
        min: 1,
        max: 90,
    },
    Setting {
        key: indicator::WORKING_HOURS,
        meaning: "abnormal-query alert: working hours as start and end hour (818 is 8:00-18:00)",
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

/// Sets a known setting to a value in its range, and logs the change.
pub async fn set(db: &Db, key: &str, value: &str, now_ms: i64) -> anyhow::Result<()> {
    let Some(s) = KNOWN.iter().find(|s| s.key == key) else {
        let names: Vec<&str> = KNOWN.iter().map(|s| s.key).collect();
        bail!("unknown setting {key:?}; known: {}", names.join(", "));
    };
    let v: i64 = value
        .trim()
        .parse()
        .with_context(|| format!("{key}: {value:?} is not a whole number"))?;
    if !(s.min..=s.max).contains(&v) {
        bail!("{key}: {v} is outside {}–{}", s.min, s.max);
    }
    if key == indicator::WORKING_HOURS && !(v / 100 < v % 100 && v % 100 <= 24) {
        bail!("{key}: {v} is not a start hour before an end hour up to 24 (818 is 8:00-18:00)");
    }
    let mut tx = db.begin_write().await?;
    crate::db::consents::set_setting(&mut tx, key, v).await?;
    audit::record(&mut tx, None, "setting.set", key, &v.to_string(), now_ms);
    tx.commit().await?;
    Ok(())
}
