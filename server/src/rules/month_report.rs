//! The monthly security statistics (征信信息安全情况统计表): the month's
//! figures, assembled from what the database counted, in the reader's
//! language, every figure shown even when it is zero. The report is due by
//! the 5th of the next month and is signed off once no alert of the month
//! waits for its conclusion; the incidents the system cannot see (unlawful
//! provision, misuse, leaks) are entered by the supervisor at sign-off.

use chrono::{Datelike, NaiveDate};
use credit_desk_proto::{Lang, pb};
use serde::{Deserialize, Serialize};

use super::indicators::Indicator;

/// What the database counted for a month. Kept as JSON at sign-off, so a
/// signed report reads the same forever after.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthFacts {
    /// The month's alerts: (indicator code, conclusion — "normal",
    /// "violation", or "" while open).
    pub alerts: Vec<(String, String)>,
    pub days_with_queries: u32,
    pub days_signed: u32,
    pub attempts: u64,
    pub refused: u64,
    pub self_queries: u64,
    pub consent_queries: u64,
    /// Consent queries per purpose (zh, en, attempts), every purpose in use
    /// included.
    pub by_purpose: Vec<(String, String, u64)>,
    pub objections_received: u64,
    pub objections_closed: u64,
    /// Due within the month and not closed by the end of their last day.
    pub objections_overdue: u64,
    pub complaints_received: u64,
    pub complaints_answered: u64,
    pub complaints_overdue: u64,
}

/// Incidents found outside the system, entered at sign-off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reported {
    pub unlawful_provision: u32,
    pub misuse: u32,
    pub leaks: u32,
}

impl Reported {
    /// Anything entered must be explained.
    pub fn needs_note(&self) -> bool {
        [self.unlawful_provision, self.misuse, self.leaks]
            .iter()
            .any(|n| *n > 0)
    }
}

/// Each entered figure, at most (a county center's month).
pub const REPORTED_MAX: u32 = 10_000;

/// The first day of the month after the one starting on `first`.
pub fn next_month(first: NaiveDate) -> NaiveDate {
    first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first)
}

/// The report of the month starting on `first` is due on the 5th of the
/// next month.
pub fn due(first: NaiveDate) -> NaiveDate {
    next_month(first).with_day(5).unwrap_or(first)
}

/// Alerts of the month still without a conclusion.
pub fn open_alerts(facts: &MonthFacts) -> usize {
    facts.alerts.iter().filter(|(_, c)| c.is_empty()).count()
}

fn count(facts: &MonthFacts, conclusion: &str) -> u64 {
    facts.alerts.iter().filter(|(_, c)| c == conclusion).count() as u64
}

fn row(code: &str, zh: &str, en: &str, value: u64, lang: Lang) -> pb::MonthRow {
    pb::MonthRow {
        code: code.into(),
        label: lang.pick(zh, en).into(),
        value,
    }
}

fn section(
    code: &str,
    zh: &str,
    en: &str,
    rows: Vec<pb::MonthRow>,
    lang: Lang,
) -> pb::MonthSection {
    pb::MonthSection {
        code: code.into(),
        title: lang.pick(zh, en).into(),
        rows,
    }
}

/// The report's figures, section by section. `reported` is what the
/// supervisor entered at sign-off (zeros before).
pub fn sections(facts: &MonthFacts, reported: Reported, lang: Lang) -> Vec<pb::MonthSection> {
    let r = |code, zh, en, value| row(code, zh, en, value, lang);
    let incidents = vec![
        r(
            "abnormal_queries",
            "异常查询",
            "abnormal queries",
            facts.alerts.len() as u64,
        ),
        r(
            "violating_queries",
            "违规查询",
            "violating queries",
            count(facts, "violation"),
        ),
        r(
            "unlawful_provision",
            "违规提供信息",
            "unlawful provision of information",
            reported.unlawful_provision.into(),
        ),
        r(
            "misuse",
            "滥用信息",
            "misuse of information",
            reported.misuse.into(),
        ),
        r(
            "leaks",
            "信息泄露（含信用报告泄露）",
            "leaks (reports included)",
            reported.leaks.into(),
        ),
    ];
    let mut alerts: Vec<pb::MonthRow> = Indicator::ALL
        .iter()
        .map(|i| pb::MonthRow {
            code: i.code().into(),
            label: i.name(lang).into(),
            value: facts.alerts.iter().filter(|(c, _)| c == i.code()).count() as u64,
        })
        .collect();
    alerts.extend([
        r(
            "concluded_normal",
            "结论：正常",
            "concluded normal",
            count(facts, "normal"),
        ),
        r(
            "concluded_violation",
            "结论：违规",
            "concluded a violation",
            count(facts, "violation"),
        ),
        r("open", "待结论", "open", open_alerts(facts) as u64),
    ]);
    let queries = vec![
        r("attempts", "查询次数", "query attempts", facts.attempts),
        r(
            "allowed",
            "查询成功",
            "allowed",
            facts.attempts.saturating_sub(facts.refused),
        ),
        r("refused", "拒绝查询", "refused", facts.refused),
        r("self", "本人查询", "self-queries", facts.self_queries),
        r(
            "consent",
            "凭授权查询",
            "queries on a consent",
            facts.consent_queries,
        ),
        r(
            "days_with_queries",
            "有查询的日数",
            "days with queries",
            facts.days_with_queries.into(),
        ),
        r(
            "days_signed",
            "已完成日核查的日数",
            "days reviewed and signed",
            facts.days_signed.into(),
        ),
    ];
    let purposes = facts
        .by_purpose
        .iter()
        .map(|(zh, en, n)| pb::MonthRow {
            code: String::new(),
            label: lang.pick(zh.clone(), en.clone()),
            value: *n,
        })
        .collect();
    let objections = vec![
        r("received", "受理", "received", facts.objections_received),
        r("closed", "办结", "closed", facts.objections_closed),
        r("overdue", "逾期未办结", "overdue", facts.objections_overdue),
    ];
    let complaints = vec![
        r("received", "受理", "received", facts.complaints_received),
        r(
            "answered",
            "书面答复",
            "answered",
            facts.complaints_answered,
        ),
        r("overdue", "逾期未答复", "overdue", facts.complaints_overdue),
    ];
    vec![
        section(
            "incidents",
            "一、信息安全事件",
            "1. Security incidents",
            incidents,
            lang,
        ),
        section(
            "alerts",
            "二、异常查询监测",
            "2. Abnormal-query monitoring",
            alerts,
            lang,
        ),
        section("queries", "三、查询情况", "3. Queries", queries, lang),
        section(
            "purposes",
            "四、授权查询用途",
            "4. Consent queries by purpose",
            purposes,
            lang,
        ),
        section(
            "objections",
            "五、异议处理",
            "5. Objections",
            objections,
            lang,
        ),
        section(
            "complaints",
            "六、投诉处理",
            "6. Complaints",
            complaints,
            lang,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn value(sections: &[pb::MonthSection], section: &str, row: &str) -> u64 {
        sections
            .iter()
            .find(|s| s.code == section)
            .and_then(|s| s.rows.iter().find(|r| r.code == row))
            .map(|r| r.value)
            .unwrap_or_else(|| panic!("{section}/{row} missing"))
    }

    #[test]
    fn due_on_the_fifth_of_the_next_month() {
        for (first, due_on, next) in [
            ("2026-11-01", "2026-12-05", "2026-12-01"),
            ("2026-12-01", "2027-01-05", "2027-01-01"),
            ("2027-01-01", "2027-02-05", "2027-02-01"),
            ("2028-02-01", "2028-03-05", "2028-03-01"),
        ] {
            assert_eq!(due(d(first)), d(due_on), "{first}");
            assert_eq!(next_month(d(first)), d(next), "{first}");
        }
    }

    #[test]
    fn an_empty_month_shows_every_figure_as_zero() {
        let s = sections(&MonthFacts::default(), Reported::default(), Lang::Zh);
        let codes: Vec<&str> = s.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "incidents",
                "alerts",
                "queries",
                "purposes",
                "objections",
                "complaints"
            ]
        );
        let incidents: Vec<(&str, u64)> = s[0]
            .rows
            .iter()
            .map(|r| (r.label.as_str(), r.value))
            .collect();
        assert_eq!(
            incidents,
            [
                ("异常查询", 0),
                ("违规查询", 0),
                ("违规提供信息", 0),
                ("滥用信息", 0),
                ("信息泄露（含信用报告泄露）", 0)
            ]
        );
        // Every indicator is listed, with the conclusions after them.
        assert_eq!(s[1].rows.len(), Indicator::ALL.len() + 3);
        assert!(s[1].rows.iter().all(|r| r.value == 0));
    }

    #[test]
    fn alerts_are_counted_by_indicator_and_conclusion() {
        let alert = |i: Indicator, c: &str| (i.code().to_string(), c.to_string());
        let facts = MonthFacts {
            alerts: vec![
                alert(Indicator::ManyQueries, "normal"),
                alert(Indicator::ManyQueries, "violation"),
                alert(Indicator::NewTerminal, "violation"),
                alert(Indicator::NonWorkingDay, ""),
            ],
            ..MonthFacts::default()
        };
        let s = sections(&facts, Reported::default(), Lang::En);
        for (section, row, expected) in [
            ("incidents", "abnormal_queries", 4),
            ("incidents", "violating_queries", 2),
            ("alerts", "many_queries", 2),
            ("alerts", "new_terminal", 1),
            ("alerts", "non_working_day", 1),
            ("alerts", "outside_working_hours", 0),
            ("alerts", "concluded_normal", 1),
            ("alerts", "concluded_violation", 2),
            ("alerts", "open", 1),
        ] {
            assert_eq!(value(&s, section, row), expected, "{section}/{row}");
        }
        assert_eq!(open_alerts(&facts), 1);
    }

    #[test]
    fn queries_objections_complaints_and_entered_incidents() {
        let facts = MonthFacts {
            attempts: 12,
            refused: 5,
            self_queries: 4,
            consent_queries: 8,
            days_with_queries: 3,
            days_signed: 2,
            by_purpose: vec![
                ("贷款审批".into(), "loan approval".into(), 6),
                ("贷后管理".into(), "post-loan management".into(), 0),
            ],
            objections_received: 3,
            objections_closed: 2,
            objections_overdue: 1,
            complaints_received: 2,
            complaints_answered: 1,
            complaints_overdue: 0,
            ..MonthFacts::default()
        };
        let reported = Reported {
            unlawful_provision: 1,
            misuse: 0,
            leaks: 2,
        };
        let s = sections(&facts, reported, Lang::Zh);
        for (section, row, expected) in [
            ("incidents", "unlawful_provision", 1),
            ("incidents", "misuse", 0),
            ("incidents", "leaks", 2),
            ("queries", "attempts", 12),
            ("queries", "allowed", 7),
            ("queries", "refused", 5),
            ("queries", "self", 4),
            ("queries", "consent", 8),
            ("queries", "days_with_queries", 3),
            ("queries", "days_signed", 2),
            ("objections", "received", 3),
            ("objections", "closed", 2),
            ("objections", "overdue", 1),
            ("complaints", "received", 2),
            ("complaints", "answered", 1),
            ("complaints", "overdue", 0),
        ] {
            assert_eq!(value(&s, section, row), expected, "{section}/{row}");
        }
        let purposes: Vec<(&str, u64)> = s[3]
            .rows
            .iter()
            .map(|r| (r.label.as_str(), r.value))
            .collect();
        assert_eq!(purposes, [("贷款审批", 6), ("贷后管理", 0)]);
    }

    #[test]
    fn entered_incidents_need_a_note() {
        assert!(!Reported::default().needs_note());
        // Figures straight from a client never overflow.
        let huge = Reported {
            unlawful_provision: u32::MAX,
            misuse: u32::MAX,
            leaks: u32::MAX,
        };
        assert!(huge.needs_note());
        for r in [
            Reported {
                unlawful_provision: 1,
                ..Reported::default()
            },
            Reported {
                misuse: 1,
                ..Reported::default()
            },
            Reported {
                leaks: 1,
                ..Reported::default()
            },
        ] {
            assert!(r.needs_note(), "{r:?}");
        }
    }

    #[test]
    fn facts_survive_their_json_copy() {
        let facts = MonthFacts {
            alerts: vec![("many_queries".into(), "normal".into())],
            by_purpose: vec![("贷款审批".into(), "loan approval".into(), 6)],
            attempts: 9,
            ..MonthFacts::default()
        };
        let json = serde_json::to_string(&facts).unwrap();
        assert_eq!(serde_json::from_str::<MonthFacts>(&json).unwrap(), facts);
    }
}
