//! The monthly security statistics' storage: the counts a month's report
//! is assembled from, and the signed reports.

use chrono::NaiveDate;
use sqlx::AnyConnection;

/// A month's bounds, as both the millisecond columns and the day columns
/// compare them.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub from_ms: i64,
    pub to_ms: i64,
    /// First day of the month and of the next, `YYYY-MM-DD`.
    pub first: NaiveDate,
    pub next: NaiveDate,
}

impl Span {
    fn days(&self) -> (String, String) {
        (self.first.to_string(), self.next.to_string())
    }
}

/// Query attempts of the month: (all, refused, self, consent).
pub async fn query_counts(
    conn: &mut AnyConnection,
    span: Span,
) -> sqlx::Result<(i64, i64, i64, i64)> {
    sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT),
             CAST(COALESCE(SUM(CASE WHEN outcome = 'refused' THEN 1 ELSE 0 END), 0) AS BIGINT),
             CAST(COALESCE(SUM(CASE WHEN basis = 'self' THEN 1 ELSE 0 END), 0) AS BIGINT),
             CAST(COALESCE(SUM(CASE WHEN basis = 'consent' THEN 1 ELSE 0 END), 0) AS BIGINT)
         FROM query_log WHERE at >= $1 AND at < $2",
    )
    .bind(span.from_ms)
    .bind(span.to_ms)
    .fetch_one(conn)
    .await
}

/// Consent queries per purpose: every purpose in service, and a retired
/// one only where it was used.
pub async fn by_purpose(
    conn: &mut AnyConnection,
    span: Span,
) -> sqlx::Result<Vec<(String, String, i64)>> {
    sqlx::query_as(
        "SELECT p.name_zh, p.name_en, CAST(COUNT(q.id) AS BIGINT) AS n
         FROM purposes p
         LEFT JOIN query_log q ON q.purpose = p.code AND q.basis = 'consent'
              AND q.at >= $1 AND q.at < $2
         GROUP BY p.code, p.name_zh, p.name_en, p.sort, p.retired_at
         HAVING p.retired_at IS NULL OR COUNT(q.id) > 0
         ORDER BY p.sort, p.code",
    )
    .bind(span.from_ms)
    .bind(span.to_ms)
    .fetch_all(conn)
    .await
}

/// The month's alerts: (indicator, conclusion or "").
pub async fn alerts(conn: &mut AnyConnection, span: Span) -> sqlx::Result<Vec<(String, String)>> {
    let (first, next) = span.days();
    sqlx::query_as(
        "SELECT indicator, COALESCE(conclusion, '') FROM alerts
         WHERE day >= $1 AND day < $2 ORDER BY day, indicator, about",
    )
    .bind(first)
    .bind(next)
    .fetch_all(conn)
    .await
}

pub async fn days_signed(conn: &mut AnyConnection, span: Span) -> sqlx::Result<i64> {
    let (first, next) = span.days();
    let (n,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM review_days
         WHERE day >= $1 AND day < $2 AND signed_at IS NOT NULL",
    )
    .bind(first)
    .bind(next)
    .fetch_one(conn)
    .await?;
    Ok(n)
}

/// Objections: (received in the month, closed or withdrawn in it).
pub async fn objection_counts(conn: &mut AnyConnection, span: Span) -> sqlx::Result<(i64, i64)> {
    let (first, next) = span.days();
    sqlx::query_as(
        "SELECT
             (SELECT CAST(COUNT(*) AS BIGINT) FROM tickets
              WHERE received_on >= $1 AND received_on < $2),
             (SELECT CAST(COUNT(*) AS BIGINT) FROM tickets
              WHERE closed_at >= $3 AND closed_at < $4)",
    )
    .bind(first)
    .bind(next)
    .bind(span.from_ms)
    .bind(span.to_ms)
    .fetch_one(conn)
    .await
}

/// Objections that may have been due within the month: (received on,
/// time paused, when closed). Their limit — 20 days from receipt, plus the
/// days paused — is worked out by the caller; none received more than a
/// year before the month can still fall due in it.
pub async fn objection_deadlines(
    conn: &mut AnyConnection,
    span: Span,
) -> sqlx::Result<Vec<(String, i64, Option<i64>)>> {
    let (_, next) = span.days();
    let earliest = (span.first - chrono::Days::new(366)).to_string();
    sqlx::query_as(
        "SELECT received_on, paused_ms, closed_at FROM tickets
         WHERE received_on >= $1 AND received_on < $2",
    )
    .bind(earliest)
    .bind(next)
    .fetch_all(conn)
    .await
}

/// Complaints: (received in the month, answered in it).
pub async fn complaint_counts(conn: &mut AnyConnection, span: Span) -> sqlx::Result<(i64, i64)> {
    let (first, next) = span.days();
    sqlx::query_as(
        "SELECT
             (SELECT CAST(COUNT(*) AS BIGINT) FROM complaints
              WHERE received_on >= $1 AND received_on < $2),
             (SELECT CAST(COUNT(*) AS BIGINT) FROM complaints
              WHERE answered_at >= $3 AND answered_at < $4)",
    )
    .bind(first)
    .bind(next)
    .bind(span.from_ms)
    .bind(span.to_ms)
    .fetch_one(conn)
    .await
}

/// Complaints whose 30 days ended within the month: (last day, when they
/// were answered).
pub async fn complaint_deadlines(
    conn: &mut AnyConnection,
    span: Span,
) -> sqlx::Result<Vec<(String, Option<i64>)>> {
    let (first, next) = span.days();
    sqlx::query_as("SELECT due_on, answered_at FROM complaints WHERE due_on >= $1 AND due_on < $2")
        .bind(first)
        .bind(next)
        .fetch_all(conn)
        .await
}

/// A signed report as kept.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignedRow {
    pub facts: String,
    pub unlawful_provision: i64,
    pub misuse: i64,
    pub leaks: i64,
    pub note: String,
    pub signed_at: i64,
    pub signed_by: String,
    pub chain_seq: i64,
    pub chain_hash: String,
}

pub async fn signed(conn: &mut AnyConnection, month: &str) -> sqlx::Result<Option<SignedRow>> {
    sqlx::query_as(
        "SELECT m.facts, m.unlawful_provision, m.misuse, m.leaks, m.note, m.signed_at,
             o.display_name AS signed_by, m.chain_seq, m.chain_hash
         FROM review_months m JOIN operators o ON o.id = m.signed_by
         WHERE m.month = $1",
    )
    .bind(month)
    .fetch_optional(conn)
    .await
}

pub struct NewSignOff<'a> {
    pub month: &'a str,
    pub facts: &'a str,
    pub reported: crate::rules::month_report::Reported,
    pub note: &'a str,
    pub by: &'a str,
    pub now_ms: i64,
    pub chain: &'a super::audit::Head,
}

/// Keeps the signed report unless the month was signed already; whether
/// this call did.
pub async fn sign(conn: &mut AnyConnection, s: NewSignOff<'_>) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO review_months (month, facts, unlawful_provision, misuse, leaks, note,
             signed_at, signed_by, chain_seq, chain_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (month) DO NOTHING",
    )
    .bind(s.month)
    .bind(s.facts)
    .bind(i64::from(s.reported.unlawful_provision))
    .bind(i64::from(s.reported.misuse))
    .bind(i64::from(s.reported.leaks))
    .bind(s.note)
    .bind(s.now_ms)
    .bind(s.by)
    .bind(s.chain.seq)
    .bind(&s.chain.hash)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The months (`YYYY-MM`) from `first` on that were signed off.
pub async fn signed_since(
    conn: &mut AnyConnection,
    first: &str,
) -> sqlx::Result<std::collections::HashSet<String>> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT month FROM review_months WHERE month >= $1")
        .bind(first)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|(m,)| m).collect())
}

/// When the center began keeping records: its first operator or its first
/// query attempt, whichever is earlier (0 on an empty database).
pub async fn started_at(conn: &mut AnyConnection) -> sqlx::Result<i64> {
    let (at,): (Option<i64>,) = sqlx::query_as(
        "SELECT MIN(t) FROM (
             SELECT MIN(created_at) AS t FROM operators
             UNION ALL SELECT MIN(at) AS t FROM query_log
         ) s",
    )
    .fetch_one(conn)
    .await?;
    Ok(at.unwrap_or(0))
}
