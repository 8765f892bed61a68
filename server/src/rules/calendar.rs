//! Changes to the working-day calendar, decided without I/O: what a file,
//! a restored official year or one edited day turns the held years into,
//! what that changes per year, and when the calendar is about to run out.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use credit_desk_proto::calendar::{self, Calendar, SpecialDay};
use credit_desk_proto::validate::{FieldError, Rule};

use super::deadlines;

/// Administrators are warned this many days before the calendar stops
/// a deadline from being computed.
pub const GAP_WARNING_DAYS: i64 = 60;

/// One change an administrator asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// A file: replaces the years its days fall in.
    File(Vec<SpecialDay>),
    /// The official schedule shipped for the year.
    RestoreOfficial(i32),
    /// Adds or corrects one day of a held year.
    SetDay(SpecialDay),
    /// Removes one special day of a held year.
    RemoveDay(NaiveDate),
}

impl Edit {
    /// The years the edit touches (their days as held now are the facts
    /// [`plan`] needs).
    pub fn years(&self) -> Vec<i32> {
        let mut years: Vec<i32> = match self {
            Edit::File(days) => days.iter().map(|d| d.date.year()).collect(),
            Edit::RestoreOfficial(year) => vec![*year],
            Edit::SetDay(day) => vec![day.date.year()],
            Edit::RemoveDay(date) => vec![date.year()],
        };
        years.sort_unstable();
        years.dedup();
        years
    }
}

/// A year as the edit leaves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearPlan {
    pub year: i32,
    /// Its days now; `None`: the calendar does not hold the year.
    pub before: Option<Vec<SpecialDay>>,
    pub after: Vec<SpecialDay>,
}

/// What the edit does to each year it touches. `held` has, for each of
/// `edit.years()`, the year's days now (`None`: not held).
pub fn plan(
    edit: &Edit,
    held: &BTreeMap<i32, Option<Vec<SpecialDay>>>,
) -> Result<Vec<YearPlan>, FieldError> {
    let before = |year: i32| held.get(&year).cloned().flatten();
    let held_days = |year: i32, field: &'static str| {
        before(year).ok_or(FieldError::new(field, Rule::CalendarMissingYear { year }))
    };
    Ok(match edit {
        Edit::File(days) => edit
            .years()
            .into_iter()
            .map(|year| YearPlan {
                year,
                before: before(year),
                after: days
                    .iter()
                    .filter(|d| d.date.year() == year)
                    .cloned()
                    .collect(),
            })
            .collect(),
        Edit::RestoreOfficial(year) => {
            let text = calendar::OFFICIAL
                .iter()
                .find(|(y, _)| y == year)
                .map(|(_, text)| *text)
                .ok_or(FieldError::new(
                    "year",
                    Rule::NoOfficialSchedule { year: *year },
                ))?;
            let after = calendar::parse_csv(text)
                .map_err(|_| FieldError::new("year", Rule::NoOfficialSchedule { year: *year }))?;
            vec![YearPlan {
                year: *year,
                before: before(*year),
                after,
            }]
        }
        Edit::SetDay(day) => {
            let year = day.date.year();
            let mut after = held_days(year, "date")?;
            after.retain(|d| d.date != day.date);
            after.push(day.clone());
            after.sort_by_key(|d| d.date);
            vec![YearPlan {
                year,
                before: before(year),
                after,
            }]
        }
        Edit::RemoveDay(date) => {
            let year = date.year();
            let now = held_days(year, "date")?;
            if !now.iter().any(|d| d.date == *date) {
                return Err(FieldError::new("date", Rule::NotASpecialDay));
            }
            let after = now.iter().filter(|d| d.date != *date).cloned().collect();
            vec![YearPlan {
                year,
                before: Some(now),
                after,
            }]
        }
    })
}

/// A year's change in counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct YearDiff {
    pub held_before: bool,
    pub days_before: u32,
    pub days_after: u32,
    pub added: u32,
    pub removed: u32,
    /// Same date, another kind or name.
    pub changed: u32,
}

pub fn diff(plan: &YearPlan) -> YearDiff {
    let before = plan.before.as_deref().unwrap_or_default();
    let find = |days: &[SpecialDay], date| days.iter().find(|d| d.date == date).cloned();
    let mut out = YearDiff {
        held_before: plan.before.is_some(),
        days_before: before.len() as u32,
        days_after: plan.after.len() as u32,
        ..YearDiff::default()
    };
    for day in &plan.after {
        match find(before, day.date) {
            None => out.added += 1,
            Some(old) if old != *day => out.changed += 1,
            Some(_) => {}
        }
    }
    out.removed = before
        .iter()
        .filter(|d| find(&plan.after, d.date).is_none())
        .count() as u32;
    out
}

/// The calendar is about to run out: the first year it lacks, and the last
/// day a verification request can still be sent (its reply date computed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub missing_year: i32,
    /// `None`: no request can be sent today already.
    pub last_start: Option<NaiveDate>,
}

/// The gap administrators must close, from [`GAP_WARNING_DAYS`] before the
/// last day a request can be sent; `None` while that is further away.
pub fn gap(cal: &Calendar, today: NaiveDate) -> Option<Gap> {
    let missing_year = (today.year()..=*calendar::YEARS.end() + 1).find(|y| !cal.holds(*y))?;
    let can_start = |d: NaiveDate| deadlines::department_reply_due(cal, d).is_ok();
    let last_start = NaiveDate::from_ymd_opt(missing_year, 1, 1)
        .and_then(|first| {
            first
                .iter_days()
                .rev()
                .skip(1)
                .take(366)
                .find(|d| can_start(*d))
        })
        .filter(|last| *last >= today && can_start(today));
    let warn = match last_start {
        Some(last) => (last - today).num_days() <= GAP_WARNING_DAYS,
        None => true,
    };
    warn.then_some(Gap {
        missing_year,
        last_start,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use credit_desk_proto::calendar::{DayKind, DayProblem, parse_csv};

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    fn day(date: &str, kind: DayKind, name: &str) -> SpecialDay {
        SpecialDay {
            date: d(date),
            kind,
            name: name.into(),
        }
    }

    fn official(year: i32) -> Vec<SpecialDay> {
        let text = calendar::OFFICIAL
            .iter()
            .find(|(y, _)| *y == year)
            .map_or("", |(_, t)| t);
        parse_csv(text).unwrap_or_default()
    }

    fn held(years: &[(i32, Option<Vec<SpecialDay>>)]) -> BTreeMap<i32, Option<Vec<SpecialDay>>> {
        years.iter().cloned().collect()
    }

    #[test]
    fn a_one_line_file_replaces_the_year_and_the_diff_says_so() {
        let one = vec![day("2026-12-01", DayKind::Holiday, "测试")];
        let edit = Edit::File(one.clone());
        let plans = plan(&edit, &held(&[(2026, Some(official(2026)))])).unwrap_or_default();
        assert_eq!(plans.len(), 1);
        assert_eq!(plans[0].after, one);
        let n = official(2026).len() as u32;
        assert_eq!(
            diff(&plans[0]),
            YearDiff {
                held_before: true,
                days_before: n,
                days_after: 1,
                added: 1,
                removed: n,
                changed: 0,
            }
        );
    }

    #[test]
    fn a_file_over_two_years_plans_each_and_a_new_year_is_not_held_before() {
        let days = vec![
            day("2027-01-01", DayKind::Holiday, "元旦"),
            day("2028-01-01", DayKind::Holiday, "元旦"),
            day("2028-01-02", DayKind::Holiday, "元旦"),
        ];
        let plans =
            plan(&Edit::File(days), &held(&[(2027, None), (2028, None)])).unwrap_or_default();
        let diffs: Vec<(i32, YearDiff)> = plans.iter().map(|p| (p.year, diff(p))).collect();
        assert_eq!(diffs[0].0, 2027);
        assert_eq!(diffs[1].1.added, 2);
        assert!(!diffs[1].1.held_before);
        assert_eq!(diffs[1].1.removed, 0);
    }

    #[test]
    fn restoring_the_official_year_brings_back_every_day() {
        let one = vec![day("2026-12-01", DayKind::Holiday, "测试")];
        let plans =
            plan(&Edit::RestoreOfficial(2026), &held(&[(2026, Some(one))])).unwrap_or_default();
        assert_eq!(plans[0].after, official(2026));
        let diff = diff(&plans[0]);
        assert_eq!((diff.added, diff.removed), (official(2026).len() as u32, 1));
        let err = plan(&Edit::RestoreOfficial(2031), &held(&[(2031, None)])).unwrap_err();
        assert_eq!(err.rule, Rule::NoOfficialSchedule { year: 2031 });
    }

    #[test]
    fn single_days_are_added_corrected_and_removed_in_held_years_only() {
        let year = held(&[(2026, Some(official(2026)))]);
        let n = official(2026).len() as u32;
        let added = plan(
            &Edit::SetDay(day("2026-12-01", DayKind::Holiday, "x")),
            &year,
        )
        .unwrap_or_default();
        assert_eq!(diff(&added[0]).added, 1);
        assert_eq!(diff(&added[0]).days_after, n + 1);
        // 2026-10-01 is 国庆节 already: a new name corrects it.
        let corrected = plan(
            &Edit::SetDay(day("2026-10-01", DayKind::Holiday, "国庆")),
            &year,
        )
        .unwrap_or_default();
        assert_eq!(
            (diff(&corrected[0]).changed, diff(&corrected[0]).days_after),
            (1, n)
        );
        let removed = plan(&Edit::RemoveDay(d("2026-10-01")), &year).unwrap_or_default();
        assert_eq!(diff(&removed[0]).removed, 1);
        assert!(removed[0].after.iter().all(|x| x.date != d("2026-10-01")));
        let err = plan(&Edit::RemoveDay(d("2026-12-01")), &year).unwrap_err();
        assert_eq!((err.field, err.rule), ("date", Rule::NotASpecialDay));
        let none = held(&[(2027, None)]);
        let err = plan(
            &Edit::SetDay(day("2027-01-01", DayKind::Holiday, "元旦")),
            &none,
        )
        .unwrap_err();
        assert_eq!(err.rule, Rule::CalendarMissingYear { year: 2027 });
        let err = plan(&Edit::RemoveDay(d("2027-01-01")), &none).unwrap_err();
        assert_eq!(err.rule, Rule::CalendarMissingYear { year: 2027 });
        // A single day follows the file's rules.
        assert_eq!(
            calendar::special_day("2026-12-01", "workday", ""),
            Err(DayProblem::WeekdayMakeUp(d("2026-12-01")))
        );
    }

    #[test]
    fn the_gap_warning_starts_sixty_days_before_requests_stop() {
        let cal = calendar::official();
        // 2026-12-17 + 10 working days = 2026-12-31: the last day a request
        // can be sent with 2027 missing.
        assert_eq!(
            deadlines::department_reply_due(&cal, d("2026-12-17")),
            Ok(d("2026-12-31"))
        );
        assert!(deadlines::department_reply_due(&cal, d("2026-12-18")).is_err());
        let at = |today| gap(&cal, d(today));
        assert_eq!(at("2026-10-17"), None);
        let warned = Some(Gap {
            missing_year: 2027,
            last_start: Some(d("2026-12-17")),
        });
        assert_eq!(at("2026-10-18"), warned);
        assert_eq!(at("2026-12-17"), warned);
        let stopped = Some(Gap {
            missing_year: 2027,
            last_start: None,
        });
        assert_eq!(at("2026-12-18"), stopped);
        assert_eq!(at("2027-03-01"), stopped);
        // Far from the end of the held years: no warning.
        assert_eq!(at("2025-06-01"), None);
        // With 2027 held, December 2026 is quiet.
        let more = Calendar::new([2025, 2026, 2027], &official(2026));
        assert_eq!(gap(&more, d("2026-12-20")), None);
    }
}
