//! The working-day calendar: Monday–Friday, minus statutory holidays, plus
//! make-up working days (调休上班). The exceptions are data (a year at a
//! time, as the State Council publishes them); the arithmetic here does no
//! I/O so the server, the workstation and the command line agree.
//!
//! Counting follows the rules' wording: the day of receipt is day 0, and a
//! deadline of N working days ends with the N-th working day after it.
//! A date in a year the calendar does not hold is an error naming the
//! year, never a guess.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{Datelike, NaiveDate, Weekday};

use crate::Lang;

/// How a date differs from the Monday–Friday rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DayKind {
    /// A statutory holiday (法定节假日), also when it falls on a weekday.
    Holiday,
    /// A make-up working day (调休上班), usually a Saturday or Sunday.
    Workday,
}

impl DayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }

    pub fn parse(s: &str) -> Option<DayKind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "holiday" => Some(DayKind::Holiday),
            "workday" => Some(DayKind::Workday),
            _ => None,
        }
    }
}

/// One exception to the weekly rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialDay {
    pub date: NaiveDate,
    pub kind: DayKind,
    /// The holiday's name (元旦, 春节 …), for people reading the list.
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalendarError {
    /// The calendar holds no schedule for this year.
    MissingYear(i32),
}

impl fmt::Display for CalendarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CalendarError::MissingYear(y) => write!(
                f,
                "the working-day calendar has no schedule for {y}: import the year first"
            ),
        }
    }
}

impl std::error::Error for CalendarError {}

/// The years a calendar holds and their exceptions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    years: BTreeSet<i32>,
    special: BTreeMap<NaiveDate, DayKind>,
}

/// The longest run of days without a working day that a real schedule has
/// (the Spring Festival block plus weekends is under 12); arithmetic that
/// finds none in this many days is working on a broken calendar.
const MAX_DAYS_OFF: u32 = 60;

impl Calendar {
    /// A calendar holding `years`, with these exceptions (exceptions outside
    /// the years are ignored: a year is held whole or not at all).
    pub fn new(years: impl IntoIterator<Item = i32>, days: &[SpecialDay]) -> Calendar {
        let years: BTreeSet<i32> = years.into_iter().collect();
        let special = days
            .iter()
            .filter(|d| years.contains(&d.date.year()))
            .map(|d| (d.date, d.kind))
            .collect();
        Calendar { years, special }
    }

    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.iter().copied()
    }

    pub fn holds(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    fn check(&self, d: NaiveDate) -> Result<(), CalendarError> {
        if self.holds(d.year()) {
            Ok(())
        } else {
            Err(CalendarError::MissingYear(d.year()))
        }
    }

    pub fn is_working_day(&self, d: NaiveDate) -> Result<bool, CalendarError> {
        self.check(d)?;
        Ok(match self.special.get(&d) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => !matches!(d.weekday(), Weekday::Sat | Weekday::Sun),
        })
    }

    /// The N-th working day after `from` (the day of receipt is day 0): the
    /// day whose end is the deadline. `n = 0` is `from` itself.
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        self.check(from)?;
        let mut day = from;
        let mut left = n;
        let mut idle = 0;
        while left > 0 {
            day = day.succ_opt().ok_or(CalendarError::MissingYear(i32::MAX))?;
            if self.is_working_day(day)? {
                left -= 1;
                idle = 0;
            } else {
                idle += 1;
                if idle > MAX_DAYS_OFF {
                    return Err(CalendarError::MissingYear(day.year()));
                }
            }
        }
        Ok(day)
    }

    /// Working days after `from` up to and including `to` (0 when `to` is
    /// not after `from`): how many of a deadline's days have been used.
    pub fn working_days_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<u32, CalendarError> {
        self.check(from)?;
        self.check(to)?;
        let mut n = 0;
        let mut day = from;
        while day < to {
            day = day.succ_opt().ok_or(CalendarError::MissingYear(i32::MAX))?;
            if self.is_working_day(day)? {
                n += 1;
            }
        }
        Ok(n)
    }
}

/// What is wrong with one line of a calendar file, or one day an
/// administrator types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayProblem {
    /// The date is not a YYYY-MM-DD date (quoted, shortened).
    NotADate(String),
    OutsideYears(NaiveDate),
    /// The kind is neither holiday nor workday (quoted, shortened).
    UnknownKind(String),
    BadName,
    Duplicate {
        date: NaiveDate,
        first_line: usize,
    },
    /// A make-up working day on a weekday (it is a working day anyway).
    WeekdayMakeUp(NaiveDate),
    NoDays,
}

impl DayProblem {
    /// The problem in the clerk's language.
    pub fn message(&self, lang: Lang) -> String {
        let (min, max) = (YEARS.start(), YEARS.end());
        match self {
            DayProblem::NotADate(v) => lang.pick(
                format!("日期“{v}”应为 YYYY-MM-DD 格式的真实日期"),
                format!("date {v:?} is not a YYYY-MM-DD date"),
            ),
            DayProblem::OutsideYears(d) => lang.pick(
                format!("{d} 不在日历可保存的年份内（{min}–{max}）"),
                format!("{d} is outside the years a calendar may hold ({min}–{max})"),
            ),
            DayProblem::UnknownKind(v) => lang.pick(
                format!("类型“{v}”应为 holiday（放假）或 workday（调休上班）"),
                format!("kind {v:?} must be holiday or workday"),
            ),
            DayProblem::BadName => lang.pick(
                format!("名称最多 {NAME_MAX} 个可打印字符"),
                format!("name must be at most {NAME_MAX} printable characters"),
            ),
            DayProblem::Duplicate { date, first_line } => lang.pick(
                format!("{date} 重复出现（首次在第 {first_line} 行）"),
                format!("{date} is listed twice (first on line {first_line})"),
            ),
            DayProblem::WeekdayMakeUp(d) => lang.pick(
                format!("{d} 是周一至周五：调休上班日只能是周末"),
                format!("{d} is a weekday: a make-up working day is a weekend day"),
            ),
            DayProblem::NoDays => lang
                .pick("文件中没有任何日期", "the file lists no days")
                .into(),
        }
    }
}

/// A problem in a calendar file, with its line (1-based; 0: the whole file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub problem: DayProblem,
}

impl LineError {
    pub fn message(&self, lang: Lang) -> String {
        let problem = self.problem.message(lang);
        match self.line {
            0 => problem,
            n => lang.pick(
                format!("第 {n} 行：{problem}"),
                format!("line {n}: {problem}"),
            ),
        }
    }
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

/// The years a calendar may hold: a county center's deadlines run in the
/// present, so a year outside these is a typing mistake (0, 9999), never a
/// schedule.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2099;

/// The longest name a special day may carry.
pub const NAME_MAX: usize = 40;

/// A value as an error quotes it: the file may hold anything, the message
/// stays short.
fn shown(value: &str) -> String {
    match value.char_indices().nth(20) {
        Some((at, _)) => format!("{}…", &value[..at]),
        None => value.to_string(),
    }
}

/// Checks one special day as typed (`date`, `kind`, `name`): the rules a
/// file line and an administrator's single day share.
pub fn special_day(date: &str, kind: &str, name: &str) -> Result<SpecialDay, DayProblem> {
    let (date, kind, name) = (date.trim(), kind.trim(), name.trim());
    let Ok(date) = NaiveDate::parse_from_str(date, "%Y-%m-%d") else {
        return Err(DayProblem::NotADate(shown(date)));
    };
    if !YEARS.contains(&date.year()) {
        return Err(DayProblem::OutsideYears(date));
    }
    let Some(kind) = DayKind::parse(kind) else {
        return Err(DayProblem::UnknownKind(shown(kind)));
    };
    if name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(DayProblem::BadName);
    }
    let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
    if kind == DayKind::Workday && !weekend {
        return Err(DayProblem::WeekdayMakeUp(date));
    }
    Ok(SpecialDay {
        date,
        kind,
        name: name.to_string(),
    })
}

/// Reads the calendar file format: one `date,kind,name` line per special
/// day (`2026-10-10,workday,国庆节调休`); kind is `holiday` or `workday`;
/// blank lines, `#` comments and a `date,kind,name` header are skipped.
/// Every error is reported, not only the first. The years a file covers
/// are the years of its dates.
pub fn parse_csv(text: &str) -> Result<Vec<SpecialDay>, Vec<LineError>> {
    let mut days = Vec::new();
    let mut errors = Vec::new();
    let mut seen = BTreeMap::new();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let content = raw.trim();
        if content.is_empty()
            || content.starts_with('#')
            || content.eq_ignore_ascii_case("date,kind,name")
        {
            continue;
        }
        let mut parts = content.splitn(3, ',');
        let mut next = || parts.next().unwrap_or("");
        let (date, kind, name) = (next(), next(), next());
        let day = special_day(date, kind, name).and_then(|day| match seen.insert(day.date, line) {
            Some(first_line) => Err(DayProblem::Duplicate {
                date: day.date,
                first_line,
            }),
            None => Ok(day),
        });
        match day {
            Ok(day) => days.push(day),
            Err(problem) => errors.push(LineError { line, problem }),
        }
    }
    if days.is_empty() && errors.is_empty() {
        errors.push(LineError {
            line: 0,
            problem: DayProblem::NoDays,
        });
    }
    if errors.is_empty() {
        days.sort_by_key(|d| d.date);
        Ok(days)
    } else {
        Err(errors)
    }
}

/// Writes days in the file format [`parse_csv`] reads.
pub fn to_csv(days: &[SpecialDay]) -> String {
    let mut out = String::from("date,kind,name\n");
    for d in days {
        out.push_str(&format!("{},{},{}\n", d.date, d.kind.as_str(), d.name));
    }
    out
}

/// The State Council's official schedules shipped with the product
/// (国务院办公厅关于2025年/2026年部分节假日安排的通知).
pub const OFFICIAL: &[(i32, &str)] = &[
    (2025, include_str!("../calendar/2025.csv")),
    (2026, include_str!("../calendar/2026.csv")),
];

/// The shipped schedules as one calendar.
pub fn official() -> Calendar {
    let days: Vec<SpecialDay> = OFFICIAL
        .iter()
        .flat_map(|(_, text)| parse_csv(text).expect("shipped calendar files are valid"))
        .collect();
    Calendar::new(OFFICIAL.iter().map(|(y, _)| *y), &days)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn working(cal: &Calendar, s: &str) -> bool {
        cal.is_working_day(d(s)).unwrap()
    }

    #[test]
    fn shipped_files_parse_and_cover_their_year_only() {
        for (year, text) in OFFICIAL {
            let days = parse_csv(text).unwrap();
            assert!(days.iter().all(|x| x.date.year() == *year), "{year}");
            assert!(days.len() > 20, "{year}: every block is listed");
        }
    }

    /// Every holiday block of 2025 and 2026: the first and last day off, the
    /// working days around them and each make-up working day.
    #[test]
    fn every_holiday_block_of_2025_and_2026() {
        let cal = official();
        let off = [
            // 2025
            ("2025-01-01", "2025-01-01"),
            ("2025-01-28", "2025-02-04"),
            ("2025-04-04", "2025-04-06"),
            ("2025-05-01", "2025-05-05"),
            ("2025-05-31", "2025-06-02"),
            ("2025-10-01", "2025-10-08"),
            // 2026
            ("2026-01-01", "2026-01-03"),
            ("2026-02-15", "2026-02-23"),
            ("2026-04-04", "2026-04-06"),
            ("2026-05-01", "2026-05-05"),
            ("2026-06-19", "2026-06-21"),
            ("2026-09-25", "2026-09-27"),
            ("2026-10-01", "2026-10-07"),
        ];
        for (first, last) in off {
            let mut day = d(first);
            while day <= d(last) {
                assert!(!cal.is_working_day(day).unwrap(), "{day} is off");
                day = day.succ_opt().unwrap();
            }
            // The weekday after each block is a working day (none ends on a Friday).
            let after = d(last).succ_opt().unwrap();
            if !matches!(after.weekday(), Weekday::Sat | Weekday::Sun) {
                assert!(
                    cal.is_working_day(after).unwrap(),
                    "{after} is back at work"
                );
            }
        }
        let make_up = [
            "2025-01-26",
            "2025-02-08",
            "2025-04-27",
            "2025-09-28",
            "2025-10-11",
            "2026-01-04",
            "2026-02-14",
            "2026-02-28",
            "2026-05-09",
            "2026-09-20",
            "2026-10-10",
        ];
        for day in make_up {
            assert!(working(&cal, day), "{day} is a make-up working day");
            assert!(matches!(d(day).weekday(), Weekday::Sat | Weekday::Sun));
        }
        // Ordinary days follow the weekly rule.
        assert!(working(&cal, "2026-11-24"));
        assert!(!working(&cal, "2026-11-28"));
    }

    #[test]
    fn counting_starts_the_day_after_receipt() {
        let cal = official();
        // Thursday + 1 = Friday; Friday + 1 = Monday.
        assert_eq!(
            cal.add_working_days(d("2026-11-19"), 1).unwrap(),
            d("2026-11-20")
        );
        assert_eq!(
            cal.add_working_days(d("2026-11-20"), 1).unwrap(),
            d("2026-11-23")
        );
        assert_eq!(
            cal.add_working_days(d("2026-11-20"), 0).unwrap(),
            d("2026-11-20")
        );
        // Received on a Saturday: Monday is the first day.
        assert_eq!(
            cal.add_working_days(d("2026-11-21"), 1).unwrap(),
            d("2026-11-23")
        );
        // 10 working days from 24 Sep 2026 cross the mid-autumn and national
        // day holidays and the make-up Saturday of 10 October:
        // 25–27 off, 28 29 30 (3), 1–7 off, 8 9 (5), 10 Sat make-up (6),
        // 12 13 14 15 (10).
        assert_eq!(
            cal.add_working_days(d("2026-09-24"), 10).unwrap(),
            d("2026-10-15")
        );
        // Spring festival 2025: received on 27 Jan (Mon), 2 working days.
        // 28 Jan–4 Feb off; 5 Feb (1), 6 Feb (2).
        assert_eq!(
            cal.add_working_days(d("2025-01-27"), 2).unwrap(),
            d("2025-02-06")
        );
        // Make-up Sunday 26 Jan 2025 counts.
        assert_eq!(
            cal.add_working_days(d("2025-01-24"), 1).unwrap(),
            d("2025-01-26")
        );
    }

    #[test]
    fn year_ends_are_crossed_and_a_missing_year_is_named() {
        let cal = official();
        // 31 Dec 2025 (Wed) + 1: 1–3 Jan 2026 off, 4 Jan (Sun) make-up.
        assert_eq!(
            cal.add_working_days(d("2025-12-31"), 1).unwrap(),
            d("2026-01-04")
        );
        assert_eq!(
            cal.add_working_days(d("2024-12-31"), 1),
            Err(CalendarError::MissingYear(2024))
        );
        // 2026 ends on a Thursday: the next working day is in 2027, which
        // this calendar does not hold.
        assert_eq!(
            cal.add_working_days(d("2026-12-30"), 1).unwrap(),
            d("2026-12-31")
        );
        assert_eq!(
            cal.add_working_days(d("2026-12-31"), 1),
            Err(CalendarError::MissingYear(2027))
        );
        assert_eq!(
            cal.is_working_day(d("2027-01-04")),
            Err(CalendarError::MissingYear(2027))
        );
        assert!(
            CalendarError::MissingYear(2027)
                .to_string()
                .contains("2027")
        );
        // With 2027 imported (no exceptions listed yet) the count goes on.
        let with_2027 = Calendar::new([2026, 2027], &parse_csv(OFFICIAL[1].1).unwrap());
        assert_eq!(
            with_2027.add_working_days(d("2026-12-31"), 1).unwrap(),
            d("2027-01-01")
        );
    }

    #[test]
    fn working_days_between_counts_after_the_start() {
        let cal = official();
        assert_eq!(
            cal.working_days_between(d("2026-09-24"), d("2026-10-15"))
                .unwrap(),
            10
        );
        assert_eq!(
            cal.working_days_between(d("2026-10-15"), d("2026-09-24"))
                .unwrap(),
            0
        );
        assert_eq!(
            cal.working_days_between(d("2026-11-20"), d("2026-11-22"))
                .unwrap(),
            0
        );
        assert_eq!(
            cal.working_days_between(d("2025-12-30"), d("2026-01-05"))
                .unwrap(),
            3
        );
        for n in 0..40 {
            let due = cal.add_working_days(d("2025-09-01"), n).unwrap();
            assert_eq!(cal.working_days_between(d("2025-09-01"), due).unwrap(), n);
        }
    }

    #[test]
    fn bad_files_name_every_bad_line() {
        let errors = parse_csv(
            "date,kind,name\n2026-13-01,holiday,x\n2026-10-10,rest,x\n2026-10-12,workday,周一\n\
             2026-10-01,holiday,国庆\n2026-10-01,holiday,again\n",
        )
        .unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 3, 4, 6]);
        assert!(errors[1].to_string().contains("holiday or workday"));
        assert!(errors[3].to_string().contains("line 5"));
        assert_eq!(
            errors[2].message(Lang::Zh),
            "第 4 行：2026-10-12 是周一至周五：调休上班日只能是周末"
        );
        assert!(errors[0].message(Lang::Zh).contains("2026-13-01"));
        assert_eq!(parse_csv("# nothing\n").unwrap_err()[0].line, 0);
        let ok = parse_csv("\u{feff}2027-01-01,Holiday,元旦\n").unwrap();
        assert_eq!(ok[0].kind, DayKind::Holiday);
        assert_eq!(parse_csv(&to_csv(&ok)).unwrap(), ok);
    }

    #[test]
    fn years_outside_the_sane_range_are_refused() {
        let errors =
            parse_csv("0000-01-01,holiday,x\n9999-01-01,holiday,x\n1999-12-31,holiday,x\n")
                .unwrap_err();
        assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), [1, 2, 3]);
        assert!(errors[1].to_string().contains("2000–2099"), "{}", errors[1]);
        assert!(parse_csv("2000-01-01,holiday,x\n2099-12-31,holiday,x\n").is_ok());
    }
}
