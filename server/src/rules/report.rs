//! Assembling a credit report from the records the database holds: only
//! the categories in scope, grouped in the center's category order, and
//! negative records whose event ended more than five years ago withheld
//! (条例 art. 16) — counted, not listed.

use chrono::{Months, NaiveDate};

use super::basis::Scope;

#[derive(Debug, Clone, PartialEq)]
pub struct RecordFacts {
    pub id: String,
    pub category: String,
    pub source_name: String,
    pub source_key: String,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub amount_cents: Option<i64>,
    pub status: String,
    pub negative: bool,
    pub details: String,
    pub version: i64,
}

#[derive(Debug, Clone)]
pub struct Category {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub code: String,
    pub name: String,
    pub records: Vec<RecordFacts>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Assembled {
    pub sections: Vec<Section>,
    pub withheld_for_age: u32,
    /// Categories the query's consent does not cover, by name: the report
    /// says they were not queried, never that they hold nothing.
    pub not_covered: Vec<String>,
}

/// Negative information is shown for five years from the end of the event.
pub const RETENTION_YEARS: u32 = 5;

pub fn withheld(r: &RecordFacts, today: NaiveDate) -> bool {
    r.negative
        && r.end_date.is_some_and(|end| {
            end.checked_add_months(Months::new(12 * RETENTION_YEARS))
                .is_some_and(|until| until < today)
        })
}

pub fn assemble(
    records: Vec<RecordFacts>,
    categories: &[Category],
    scope: &Scope,
    today: NaiveDate,
) -> Assembled {
    let in_scope = |code: &str| match scope {
        Scope::All => true,
        Scope::Only(codes) => codes.contains(code),
    };
    let mut withheld_for_age = 0;
    let mut sections: Vec<Section> = categories
        .iter()
        .filter(|c| in_scope(&c.code))
        .map(|c| Section {
            code: c.code.clone(),
            name: c.name.clone(),
            records: Vec::new(),
        })
        .collect();
    for r in records {
        let Some(section) = sections.iter_mut().find(|s| s.code == r.category) else {
            continue; // outside the scope
        };
        if withheld(&r, today) {
            withheld_for_age += 1;
        } else {
            section.records.push(r);
        }
    }
    for s in &mut sections {
        // Newest events first, ongoing ones on top.
        s.records.sort_by(|a, b| {
            b.start_date
                .cmp(&a.start_date)
                .then_with(|| a.source_key.cmp(&b.source_key))
        });
    }
    sections.retain(|s| !s.records.is_empty());
    let not_covered = categories
        .iter()
        .filter(|c| !in_scope(&c.code))
        .map(|c| c.name.clone())
        .collect();
    Assembled {
        sections,
        withheld_for_age,
        not_covered,
    }
}

/// `CD-20261122-000123`: the day's running number.
pub fn report_number(day: NaiveDate, n: i64) -> String {
    format!("CD-{}-{n:06}", day.format("%Y%m%d"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn rec(
        key: &str,
        category: &str,
        negative: bool,
        start: NaiveDate,
        end: Option<NaiveDate>,
    ) -> RecordFacts {
        RecordFacts {
            id: key.into(),
            category: category.into(),
            source_name: "法院".into(),
            source_key: key.into(),
            start_date: Some(start),
            end_date: end,
            amount_cents: None,
            status: "x".into(),
            negative,
            details: String::new(),
            version: 1,
        }
    }

    fn categories() -> Vec<Category> {
        ["court_judgment", "tax_arrears", "honour"]
            .iter()
            .map(|c| Category {
                code: c.to_string(),
                name: c.to_uppercase(),
            })
            .collect()
    }

    #[test]
    fn five_year_rule_counts_but_does_not_show() {
        let today = d(2026, 11, 23);
        let records = vec![
            rec(
                "old-negative",
                "court_judgment",
                true,
                d(2019, 1, 1),
                Some(d(2021, 11, 22)),
            ),
            rec(
                "exactly-five",
                "court_judgment",
                true,
                d(2019, 1, 1),
                Some(d(2021, 11, 23)),
            ),
            rec("ongoing", "court_judgment", true, d(2015, 1, 1), None),
            rec(
                "old-positive",
                "honour",
                false,
                d(2001, 1, 1),
                Some(d(2002, 1, 1)),
            ),
        ];
        let a = assemble(records, &categories(), &Scope::All, today);
        assert_eq!(a.withheld_for_age, 1);
        let keys: Vec<_> = a
            .sections
            .iter()
            .flat_map(|s| s.records.iter().map(|r| r.source_key.as_str()))
            .collect();
        assert_eq!(keys, ["exactly-five", "ongoing", "old-positive"]);
    }

    #[test]
    fn only_categories_in_scope_in_the_centers_order() {
        let today = d(2026, 11, 23);
        let records = vec![
            rec("h", "honour", false, d(2025, 1, 1), None),
            rec("t", "tax_arrears", true, d(2025, 1, 1), None),
            rec("c", "court_judgment", true, d(2025, 1, 1), None),
        ];
        let a = assemble(
            records.clone(),
            &categories(),
            &Scope::of(["honour", "court_judgment"]),
            today,
        );
        let codes: Vec<_> = a.sections.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(codes, ["court_judgment", "honour"]);
        let all = assemble(records, &categories(), &Scope::All, today);
        assert_eq!(all.sections.len(), 3);
    }

    #[test]
    fn report_numbers() {
        assert_eq!(report_number(d(2026, 11, 22), 123), "CD-20261122-000123");
    }

    #[test]
    fn a_scoped_report_names_the_categories_it_did_not_query() {
        let cats = [
            Category {
                code: "a".into(),
                name: "甲".into(),
            },
            Category {
                code: "b".into(),
                name: "乙".into(),
            },
        ];
        let scoped = assemble(
            vec![],
            &cats,
            &Scope::of(["b".to_string()]),
            d(2026, 11, 23),
        );
        assert_eq!(scoped.not_covered, ["甲"]);
        let all = assemble(vec![], &cats, &Scope::All, d(2026, 11, 23));
        assert!(all.not_covered.is_empty());
    }
}
