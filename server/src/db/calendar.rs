//! The working-day calendar's storage: years held and their exceptions.
//! The arithmetic is `credit_desk_proto::calendar`; this only loads and
//! replaces data.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use credit_desk_proto::calendar::{self, Calendar, DayKind, SpecialDay};
use sqlx::{AnyConnection, Row};

use super::Db;

/// The source of a year holding the schedule shipped with the product.
pub const OFFICIAL_SOURCE: &str = "official";
/// The source of a year an administrator changed day by day.
pub const EDITED_SOURCE: &str = "edited";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct YearRow {
    pub year: i64,
    pub source: String,
    pub updated_at: i64,
    pub updated_by: Option<String>,
    pub days: i64,
}

pub async fn years(conn: &mut AnyConnection) -> sqlx::Result<Vec<YearRow>> {
    sqlx::query_as(
        "SELECT y.year, y.source, y.updated_at, o.display_name AS updated_by,
                (SELECT COUNT(*) FROM calendar_days d WHERE d.year = y.year) AS days
           FROM calendar_years y LEFT JOIN operators o ON o.id = y.updated_by
          ORDER BY y.year",
    )
    .fetch_all(conn)
    .await
}

fn day_of(row: &sqlx::any::AnyRow) -> sqlx::Result<SpecialDay> {
    let day: String = row.try_get("day")?;
    let kind: String = row.try_get("kind")?;
    Ok(SpecialDay {
        date: NaiveDate::parse_from_str(&day, "%Y-%m-%d")
            .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        kind: DayKind::parse(&kind).unwrap_or(DayKind::Holiday),
        name: row.try_get("name")?,
    })
}

pub async fn days_of_year(conn: &mut AnyConnection, year: i32) -> sqlx::Result<Vec<SpecialDay>> {
    sqlx::query("SELECT day, kind, name FROM calendar_days WHERE year = $1 ORDER BY day")
        .bind(i64::from(year))
        .fetch_all(conn)
        .await?
        .iter()
        .map(day_of)
        .collect()
}

/// The whole calendar (a few dozen rows a year).
pub async fn load(conn: &mut AnyConnection) -> sqlx::Result<Calendar> {
    let years: Vec<i64> = sqlx::query_scalar("SELECT year FROM calendar_years")
        .fetch_all(&mut *conn)
        .await?;
    let days = sqlx::query("SELECT day, kind, name FROM calendar_days")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(day_of)
        .collect::<sqlx::Result<Vec<_>>>()?;
    Ok(Calendar::new(years.into_iter().map(|y| y as i32), &days))
}

/// The days now held for each of `years` (`None`: the year is not held).
pub async fn held_days(
    conn: &mut AnyConnection,
    years: &[i32],
) -> sqlx::Result<BTreeMap<i32, Option<Vec<SpecialDay>>>> {
    let held: Vec<i64> = sqlx::query_scalar("SELECT year FROM calendar_years")
        .fetch_all(&mut *conn)
        .await?;
    let mut out = BTreeMap::new();
    for &year in years {
        let days = if held.contains(&i64::from(year)) {
            Some(days_of_year(conn, year).await?)
        } else {
            None
        };
        out.insert(year, days);
    }
    Ok(out)
}

/// Makes `days` the whole list of `year`'s special days, recording where
/// it came from.
pub async fn replace_year(
    conn: &mut AnyConnection,
    year: i32,
    days: &[SpecialDay],
    source: &str,
    operator_id: Option<&str>,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM calendar_days WHERE year = $1")
        .bind(i64::from(year))
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO calendar_years (year, source, updated_at, updated_by)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (year) DO UPDATE
            SET source = excluded.source, updated_at = excluded.updated_at,
                updated_by = excluded.updated_by",
    )
    .bind(i64::from(year))
    .bind(source)
    .bind(now_ms)
    .bind(operator_id)
    .execute(&mut *conn)
    .await?;
    for d in days.iter().filter(|d| d.date.year() == year) {
        sqlx::query("INSERT INTO calendar_days (day, year, kind, name) VALUES ($1, $2, $3, $4)")
            .bind(d.date.to_string())
            .bind(i64::from(year))
            .bind(d.kind.as_str())
            .bind(&d.name)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Adds the shipped official schedules for years the database does not
/// hold yet (an administrator's correction of a year is never overwritten).
pub async fn seed_official(db: &Db, now_ms: i64) -> anyhow::Result<()> {
    let mut tx = db.begin_write().await?;
    let held: Vec<i64> = sqlx::query_scalar("SELECT year FROM calendar_years")
        .fetch_all(&mut *tx)
        .await?;
    for (year, text) in calendar::OFFICIAL {
        if held.contains(&i64::from(*year)) {
            continue;
        }
        let days = calendar::parse_csv(text).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        replace_year(&mut tx, *year, &days, OFFICIAL_SOURCE, None, now_ms).await?;
    }
    tx.commit().await?;
    Ok(())
}
