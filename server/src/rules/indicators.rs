//! Abnormal-query indicators (异常查询监测, 征信业务管理办法 art. 22): pure
//! rules over one day's query attempts and what came before it. Each rule
//! returns hits — who or what looked abnormal, with the attempts that show
//! it — which the daily review turns into alerts for a supervisor to
//! conclude.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// One query attempt as the indicators see it. Times are UTC ms; the
/// local minute of the day is the server's zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub id: String,
    pub at_ms: i64,
    pub local_minute: u32,
    pub operator_id: String,
    pub terminal: String,
    pub subject_id: String,
    pub self_query: bool,
    /// A self-query made by the person's agent (power of attorney).
    pub by_agent: bool,
    pub institution_id: Option<String>,
    pub allowed: bool,
    pub consent_valid_until_ms: Option<i64>,
    pub consent_withdrawn_at_ms: Option<i64>,
}

/// The limits, from the center's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// More queries than this by one operator in a day.
    pub queries_per_operator: usize,
    /// More refusals than this for one operator in a day.
    pub refusals_per_operator: usize,
    /// More agent self-queries than this by one operator in a day.
    pub agent_queries_per_operator: usize,
    /// This many institutions or more querying one subject ...
    pub institutions_per_subject: usize,
    /// ... within this many days (the day reviewed included).
    pub institution_window_days: u32,
    /// Working hours, local minutes of the day: [start, end).
    pub work_start_minute: u32,
    pub work_end_minute: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            queries_per_operator: 50,
            refusals_per_operator: 5,
            agent_queries_per_operator: 3,
            institutions_per_subject: 3,
            institution_window_days: 7,
            work_start_minute: 8 * 60,
            work_end_minute: 18 * 60,
        }
    }
}

/// What the rules read for one day.
pub struct DayFacts<'a> {
    /// The day's attempts.
    pub attempts: &'a [Attempt],
    pub working_day: bool,
    /// Consent queries before the day within the institution window:
    /// (subject, institution).
    pub earlier_consent_queries: &'a [(String, String)],
    /// (operator, terminal) pairs seen before the day.
    pub known_terminals: &'a HashSet<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Indicator {
    ManyQueries,
    OutsideWorkingHours,
    NonWorkingDay,
    SubjectByManyInstitutions,
    ConsentNearExpiry,
    ConsentWithdrawnSameDay,
    ManyRefusals,
    NewTerminal,
    ManyAgentSelfQueries,
}

impl Indicator {
    pub const ALL: [Indicator; 9] = [
        Indicator::ManyQueries,
        Indicator::OutsideWorkingHours,
        Indicator::NonWorkingDay,
        Indicator::SubjectByManyInstitutions,
        Indicator::ConsentNearExpiry,
        Indicator::ConsentWithdrawnSameDay,
        Indicator::ManyRefusals,
        Indicator::NewTerminal,
        Indicator::ManyAgentSelfQueries,
    ];

    /// As stored.
    pub fn code(self) -> &'static str {
        match self {
            Indicator::ManyQueries => "many_queries",
            Indicator::OutsideWorkingHours => "outside_working_hours",
            Indicator::NonWorkingDay => "non_working_day",
            Indicator::SubjectByManyInstitutions => "subject_by_many_institutions",
            Indicator::ConsentNearExpiry => "consent_near_expiry",
            Indicator::ConsentWithdrawnSameDay => "consent_withdrawn_same_day",
            Indicator::ManyRefusals => "many_refusals",
            Indicator::NewTerminal => "new_terminal",
            Indicator::ManyAgentSelfQueries => "many_agent_self_queries",
        }
    }

    pub fn from_code(code: &str) -> Option<Indicator> {
        Indicator::ALL.into_iter().find(|i| i.code() == code)
    }

    pub fn name(self, lang: credit_desk_proto::Lang) -> &'static str {
        let (zh, en) = match self {
            Indicator::ManyQueries => ("单个操作员当日查询量异常", "many queries by one operator"),
            Indicator::OutsideWorkingHours => ("工作时间以外查询", "queries outside working hours"),
            Indicator::NonWorkingDay => ("非工作日查询", "queries on a non-working day"),
            Indicator::SubjectByManyInstitutions => (
                "同一主体短期内被多家机构查询",
                "one subject queried by several institutions",
            ),
            Indicator::ConsentNearExpiry => {
                ("凭即将到期的授权查询", "query on a consent about to expire")
            }
            Indicator::ConsentWithdrawnSameDay => (
                "凭当日撤回的授权查询",
                "query on a consent withdrawn that day",
            ),
            Indicator::ManyRefusals => ("单个操作员当日多次被拒", "many refusals for one operator"),
            Indicator::NewTerminal => ("操作员使用新终端", "an operator on a new terminal"),
            Indicator::ManyAgentSelfQueries => {
                ("代理人本人查询过多", "many self-queries through agents")
            }
        };
        lang.pick(zh, en)
    }
}

/// One abnormal finding: the indicator, whom it is about (an operator or a
/// subject id, per indicator) and the attempts that show it, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub indicator: Indicator,
    pub about: String,
    pub attempts: Vec<String>,
}

const DAY_MS: i64 = 86_400_000;

/// Every indicator over a day, in a stable order.
pub fn evaluate(facts: &DayFacts, t: &Thresholds) -> Vec<Hit> {
    let mut hits = Vec::new();
    hits.extend(many_per_operator(
        facts.attempts,
        Indicator::ManyQueries,
        t.queries_per_operator,
        |_| true,
    ));
    hits.extend(outside_hours(facts, t));
    hits.extend(by_many_institutions(facts, t));
    hits.extend(consent_timing(facts.attempts));
    hits.extend(many_per_operator(
        facts.attempts,
        Indicator::ManyRefusals,
        t.refusals_per_operator,
        |a| !a.allowed,
    ));
    hits.extend(new_terminals(facts));
    hits.extend(many_per_operator(
        facts.attempts,
        Indicator::ManyAgentSelfQueries,
        t.agent_queries_per_operator,
        |a| a.self_query && a.by_agent,
    ));
    hits
}

/// Operators with more than `limit` attempts that `counts`.
fn many_per_operator(
    attempts: &[Attempt],
    indicator: Indicator,
    limit: usize,
    counts: impl Fn(&Attempt) -> bool,
) -> Vec<Hit> {
    let mut by_operator: BTreeMap<&str, Vec<&Attempt>> = BTreeMap::new();
    for a in attempts.iter().filter(|a| counts(a)) {
        by_operator.entry(&a.operator_id).or_default().push(a);
    }
    by_operator
        .into_iter()
        .filter(|(_, list)| list.len() > limit)
        .map(|(op, list)| hit(indicator, op, list))
        .collect()
}

/// Outside working hours on a working day; every query on a non-working
/// day. One hit per operator.
fn outside_hours(facts: &DayFacts, t: &Thresholds) -> Vec<Hit> {
    let outside =
        |a: &Attempt| a.local_minute < t.work_start_minute || a.local_minute >= t.work_end_minute;
    match facts.working_day {
        true => many_per_operator(facts.attempts, Indicator::OutsideWorkingHours, 0, outside),
        false => many_per_operator(facts.attempts, Indicator::NonWorkingDay, 0, |_| true),
    }
}

/// Subjects queried on consent by `institutions_per_subject` or more
/// institutions within the window ending with the day, at least one of them
/// on the day.
fn by_many_institutions(facts: &DayFacts, t: &Thresholds) -> Vec<Hit> {
    let mut today: BTreeMap<&str, Vec<&Attempt>> = BTreeMap::new();
    for a in facts.attempts {
        if a.institution_id.is_some() && !a.self_query {
            today.entry(&a.subject_id).or_default().push(a);
        }
    }
    // Earlier institutions per subject, read once (not once per subject).
    let mut earlier: HashMap<&str, Vec<&str>> = HashMap::new();
    for (s, i) in facts.earlier_consent_queries {
        if today.contains_key(s.as_str()) {
            earlier.entry(s).or_default().push(i);
        }
    }
    today
        .into_iter()
        .filter_map(|(subject, list)| {
            let institutions: BTreeSet<&str> = list
                .iter()
                .filter_map(|a| a.institution_id.as_deref())
                .chain(earlier.get(subject).into_iter().flatten().copied())
                .collect();
            (institutions.len() >= t.institutions_per_subject)
                .then(|| hit(Indicator::SubjectByManyInstitutions, subject, list))
        })
        .collect()
}

/// Allowed queries on a consent that expires within a day of the query, or
/// that was withdrawn within a day of it. One hit per subject and kind.
fn consent_timing(attempts: &[Attempt]) -> Vec<Hit> {
    let mut near: BTreeMap<&str, Vec<&Attempt>> = BTreeMap::new();
    let mut withdrawn: BTreeMap<&str, Vec<&Attempt>> = BTreeMap::new();
    for a in attempts.iter().filter(|a| !a.self_query) {
        if let Some(w) = a.consent_withdrawn_at_ms
            && (w - a.at_ms).abs() < DAY_MS
        {
            withdrawn.entry(&a.subject_id).or_default().push(a);
        } else if a.allowed
            && let Some(until) = a.consent_valid_until_ms
            && until - a.at_ms < DAY_MS
        {
            near.entry(&a.subject_id).or_default().push(a);
        }
    }
    let near = near
        .into_iter()
        .map(|(s, l)| hit(Indicator::ConsentNearExpiry, s, l));
    let withdrawn = withdrawn
        .into_iter()
        .map(|(s, l)| hit(Indicator::ConsentWithdrawnSameDay, s, l));
    near.chain(withdrawn).collect()
}

/// Operators on a terminal they had not used before the day.
fn new_terminals(facts: &DayFacts) -> Vec<Hit> {
    let mut fresh: BTreeMap<(&str, &str), Vec<&Attempt>> = BTreeMap::new();
    for a in facts.attempts {
        let key = (a.operator_id.clone(), a.terminal.clone());
        if !facts.known_terminals.contains(&key) {
            fresh
                .entry((&a.operator_id, &a.terminal))
                .or_default()
                .push(a);
        }
    }
    fresh
        .into_iter()
        .map(|((op, terminal), list)| {
            let mut h = hit(Indicator::NewTerminal, op, list);
            h.about = format!("{op}@{terminal}");
            h
        })
        .collect()
}

fn hit(indicator: Indicator, about: &str, mut list: Vec<&Attempt>) -> Hit {
    list.sort_by(|a, b| (a.at_ms, &a.id).cmp(&(b.at_ms, &b.id)));
    Hit {
        indicator,
        about: about.to_string(),
        attempts: list.iter().map(|a| a.id.clone()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOON: i64 = 1_795_406_400_000; // 2026-11-23 12:00 China time

    fn attempt(id: &str, op: &str, minute: u32) -> Attempt {
        Attempt {
            id: id.into(),
            at_ms: NOON + (i64::from(minute) - 12 * 60) * 60_000,
            local_minute: minute,
            operator_id: op.into(),
            terminal: "desk-1".into(),
            subject_id: "s1".into(),
            self_query: true,
            by_agent: false,
            institution_id: None,
            allowed: true,
            consent_valid_until_ms: None,
            consent_withdrawn_at_ms: None,
        }
    }

    fn on_consent(id: &str, subject: &str, institution: &str) -> Attempt {
        Attempt {
            self_query: false,
            subject_id: subject.into(),
            institution_id: Some(institution.into()),
            consent_valid_until_ms: Some(NOON + 30 * DAY_MS),
            ..attempt(id, "bank", 10 * 60)
        }
    }

    fn known() -> HashSet<(String, String)> {
        ["op1", "op2", "bank"]
            .iter()
            .map(|o| (o.to_string(), "desk-1".to_string()))
            .collect()
    }

    fn run(
        attempts: &[Attempt],
        working_day: bool,
        earlier: &[(&str, &str)],
    ) -> Vec<(Indicator, String, usize)> {
        let earlier: Vec<(String, String)> = earlier
            .iter()
            .map(|(s, i)| (s.to_string(), i.to_string()))
            .collect();
        let known = known();
        let facts = DayFacts {
            attempts,
            working_day,
            earlier_consent_queries: &earlier,
            known_terminals: &known,
        };
        let t = Thresholds {
            queries_per_operator: 3,
            refusals_per_operator: 1,
            agent_queries_per_operator: 1,
            ..Thresholds::default()
        };
        evaluate(&facts, &t)
            .into_iter()
            .map(|h| (h.indicator, h.about, h.attempts.len()))
            .collect()
    }

    fn hits(list: &[(Indicator, &str, usize)]) -> Vec<(Indicator, String, usize)> {
        list.iter()
            .map(|(i, a, n)| (*i, a.to_string(), *n))
            .collect()
    }

    #[test]
    fn an_ordinary_day_has_no_hits() {
        let day = [
            attempt("a", "op1", 9 * 60),
            attempt("b", "op2", 17 * 60 + 59),
        ];
        assert_eq!(run(&day, true, &[]), []);
        assert_eq!(run(&[], false, &[]), []);
    }

    #[test]
    fn each_indicator_fires_on_its_case_and_not_at_its_edge() {
        use Indicator as I;
        let refused = |id: &str| Attempt {
            allowed: false,
            ..attempt(id, "op1", 10 * 60)
        };
        let agent = |id: &str| Attempt {
            by_agent: true,
            ..attempt(id, "op2", 10 * 60)
        };
        type Case<'a> = (
            &'a str,
            Vec<Attempt>,
            bool,
            Vec<(&'a str, &'a str)>,
            Vec<(I, &'a str, usize)>,
        );
        let cases: Vec<Case> = vec![
            (
                "three queries is the limit, four is many",
                (0..3)
                    .map(|n| attempt(&format!("q{n}"), "op1", 600 + n))
                    .collect(),
                true,
                vec![],
                vec![],
            ),
            (
                "four queries",
                (0..4)
                    .map(|n| attempt(&format!("q{n}"), "op1", 600 + n))
                    .collect(),
                true,
                vec![],
                vec![(I::ManyQueries, "op1", 4)],
            ),
            (
                "before eight and at six",
                vec![
                    attempt("e", "op1", 7 * 60 + 59),
                    attempt("l", "op1", 18 * 60),
                    attempt("ok", "op1", 8 * 60),
                ],
                true,
                vec![],
                vec![(I::OutsideWorkingHours, "op1", 2)],
            ),
            (
                "a non-working day",
                vec![attempt("w", "op2", 10 * 60)],
                false,
                vec![],
                vec![(I::NonWorkingDay, "op2", 1)],
            ),
            (
                "three institutions in the window, one of them today",
                vec![on_consent("c1", "s9", "bankA")],
                true,
                vec![("s9", "bankB"), ("s9", "bankC"), ("s8", "bankD")],
                vec![(I::SubjectByManyInstitutions, "s9", 1)],
            ),
            (
                "two institutions are not many",
                vec![
                    on_consent("c1", "s9", "bankA"),
                    on_consent("c2", "s9", "bankA"),
                ],
                true,
                vec![("s9", "bankB")],
                vec![],
            ),
            (
                "a consent expiring within the day",
                vec![Attempt {
                    consent_valid_until_ms: Some(NOON - 2 * 3_600_000 + DAY_MS - 1),
                    ..on_consent("n", "s3", "bankA")
                }],
                true,
                vec![],
                vec![(I::ConsentNearExpiry, "s3", 1)],
            ),
            (
                "a consent withdrawn the same day",
                vec![Attempt {
                    allowed: false,
                    consent_withdrawn_at_ms: Some(NOON - 3_600_000),
                    ..on_consent("w", "s4", "bankA")
                }],
                true,
                vec![],
                vec![(I::ConsentWithdrawnSameDay, "s4", 1)],
            ),
            (
                "refusals beyond the limit",
                vec![refused("r1"), refused("r2")],
                true,
                vec![],
                vec![(I::ManyRefusals, "op1", 2)],
            ),
            (
                "a new terminal",
                vec![Attempt {
                    terminal: "ssh 10.0.0.9".into(),
                    ..attempt("t", "op1", 10 * 60)
                }],
                true,
                vec![],
                vec![(I::NewTerminal, "op1@ssh 10.0.0.9", 1)],
            ),
            (
                "agent self-queries beyond the limit",
                vec![agent("g1"), agent("g2"), attempt("own", "op2", 600)],
                true,
                vec![],
                vec![(I::ManyAgentSelfQueries, "op2", 2)],
            ),
        ];
        for (name, day, working, earlier, expected) in cases {
            assert_eq!(run(&day, working, &earlier), hits(&expected), "{name}");
        }
    }

    #[test]
    fn codes_round_trip() {
        for i in Indicator::ALL {
            assert_eq!(Indicator::from_code(i.code()), Some(i));
        }
        assert_eq!(Indicator::from_code("nonsense"), None);
    }
}
