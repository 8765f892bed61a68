//! Department delivery periods (SPEC §5): `2025H1`, the first half of 2025,
//! due 10 July 2025; `2025FY`, the full year, due 10 January 2026. The
//! workstation offers them and the server checks them by the same rules.

use std::fmt;

use chrono::{Datelike, NaiveDate};

use crate::validate::{FieldError, Rule, half_width};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    /// January to June.
    FirstHalf,
    /// The whole year.
    FullYear,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    pub year: i32,
    pub part: Part,
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let part = match self.part {
            Part::FirstHalf => "H1",
            Part::FullYear => "FY",
        };
        write!(f, "{}{part}", self.year)
    }
}

impl Period {
    /// `2025H1` or `2025FY` (also typed as `2025h1`, full-width, spaced).
    pub fn parse(text: &str) -> Option<Period> {
        let text = half_width(text).trim().to_ascii_uppercase();
        let (year, part) = text.split_at_checked(4)?;
        let part = match part.trim() {
            "H1" => Part::FirstHalf,
            "FY" => Part::FullYear,
            _ => return None,
        };
        let year = year.parse().ok().filter(|y| (1000..=9999).contains(y))?;
        Some(Period { year, part })
    }

    /// The period a record dated `day` is delivered in: the first half for
    /// January to June, the full year after.
    pub fn of_date(day: NaiveDate) -> Period {
        let part = if day.month() <= 6 {
            Part::FirstHalf
        } else {
            Part::FullYear
        };
        Period {
            year: day.year(),
            part,
        }
    }

    /// The period whose file falls due next on `day`: the first half from
    /// July on, the previous full year before.
    pub fn due_next(day: NaiveDate) -> Period {
        if day.month() >= 7 {
            Period {
                year: day.year(),
                part: Part::FirstHalf,
            }
        } else {
            Period {
                year: day.year() - 1,
                part: Part::FullYear,
            }
        }
    }

    /// When the file is due.
    pub fn due(self) -> Option<NaiveDate> {
        match self.part {
            Part::FirstHalf => NaiveDate::from_ymd_opt(self.year, 7, 10),
            Part::FullYear => NaiveDate::from_ymd_opt(self.year + 1, 1, 10),
        }
    }

    pub fn previous(self) -> Period {
        match self.part {
            Part::FullYear => Period {
                part: Part::FirstHalf,
                ..self
            },
            Part::FirstHalf => Period {
                year: self.year - 1,
                part: Part::FullYear,
            },
        }
    }
}

/// The periods a clerk may deliver on `today`, newest first: the one
/// running and the `n - 1` before it.
pub fn recent(today: NaiveDate, n: usize) -> Vec<Period> {
    std::iter::successors(Some(Period::of_date(today)), |p| Some(p.previous()))
        .take(n)
        .collect()
}

/// A period as typed: the format, and a year from 2000 to this year.
pub fn check(field: &'static str, text: &str, today: NaiveDate) -> Result<Period, FieldError> {
    let period = Period::parse(text).ok_or(FieldError::new(field, Rule::NotAPeriod))?;
    let (min, max) = (2000, today.year());
    if !(min..=max).contains(&period.year) {
        return Err(FieldError::new(field, Rule::YearOutOfRange { min, max }));
    }
    Ok(period)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    fn p(s: &str) -> Period {
        Period::parse(s).unwrap_or(Period {
            year: 0,
            part: Part::FirstHalf,
        })
    }

    #[test]
    fn periods_read_write_and_fall_due() {
        assert_eq!(p("2025H1").to_string(), "2025H1");
        assert_eq!(p(" ２０２５ｆｙ ").to_string(), "2025FY");
        for bad in ["", "2025", "2025Q1", "25H1", "abcdH1", "2025H2"] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
        assert_eq!(p("2025H1").due(), Some(d("2025-07-10")));
        assert_eq!(p("2025FY").due(), Some(d("2026-01-10")));
        assert_eq!(p("2025H1").previous(), p("2024FY"));
        assert_eq!(p("2025FY").previous(), p("2025H1"));
    }

    #[test]
    fn a_date_belongs_to_a_period_and_a_day_has_one_falling_due() {
        assert_eq!(Period::of_date(d("2025-06-30")), p("2025H1"));
        assert_eq!(Period::of_date(d("2025-07-01")), p("2025FY"));
        assert_eq!(Period::due_next(d("2026-07-01")), p("2026H1"));
        assert_eq!(Period::due_next(d("2026-12-31")), p("2026H1"));
        assert_eq!(Period::due_next(d("2027-01-05")), p("2026FY"));
        assert_eq!(Period::due_next(d("2026-06-30")), p("2025FY"));
    }

    #[test]
    fn recent_periods_and_checks() {
        let names: Vec<String> = recent(d("2026-11-23"), 4)
            .iter()
            .map(Period::to_string)
            .collect();
        assert_eq!(names, ["2026FY", "2026H1", "2025FY", "2025H1"]);
        let today = d("2026-11-23");
        assert_eq!(check("period", "2025h1", today), Ok(p("2025H1")));
        assert_eq!(
            check("period", "2025Q3", today).map_err(|e| e.rule),
            Err(Rule::NotAPeriod)
        );
        assert_eq!(
            check("period", "2027H1", today).map_err(|e| e.rule),
            Err(Rule::YearOutOfRange {
                min: 2000,
                max: 2026
            })
        );
    }
}
