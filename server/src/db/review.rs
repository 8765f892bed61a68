//! The daily review's storage: the facts the indicators read for a day,
//! the reviewed days, and their alerts with the supervisors' conclusions.

use std::collections::HashSet;

use sqlx::AnyConnection;

use super::column::Flag;

/// One attempt with what the indicators need of its consent and
/// verification.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub id: String,
    pub at: i64,
    pub operator_id: String,
    pub terminal: String,
    pub subject_id: String,
    pub basis: String,
    pub institution_id: Option<String>,
    #[sqlx(try_from = "Flag")]
    pub allowed: bool,
    pub consent_valid_until: Option<i64>,
    pub consent_withdrawn_at: Option<i64>,
    #[sqlx(try_from = "Flag")]
    pub by_agent: bool,
}

/// Every attempt in `[from_ms, to_ms)`.
pub async fn attempts_between(
    conn: &mut AnyConnection,
    from_ms: i64,
    to_ms: i64,
) -> sqlx::Result<Vec<AttemptRow>> {
    sqlx::query_as(
        "SELECT q.id, q.at, q.operator_id, q.terminal, COALESCE(q.subject_id, '') AS subject_id,
             q.basis, q.institution_id,
             CAST(CASE WHEN q.outcome = 'allowed' THEN 1 ELSE 0 END AS BIGINT) AS allowed,
             c.valid_until AS consent_valid_until, c.withdrawn_at AS consent_withdrawn_at,
             CAST(CASE WHEN v.method = 'agent_with_poa' THEN 1 ELSE 0 END AS BIGINT) AS by_agent
         FROM query_log q
         LEFT JOIN consents c ON c.id = q.consent_id
         LEFT JOIN verifications v ON v.id = q.verification_id
         WHERE q.at >= $1 AND q.at < $2
         ORDER BY q.at, q.id",
    )
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(conn)
    .await
}

/// (subject, institution) of consent queries in `[from_ms, to_ms)`.
pub async fn consent_queries_between(
    conn: &mut AnyConnection,
    from_ms: i64,
    to_ms: i64,
) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as(
        "SELECT DISTINCT subject_id, institution_id FROM query_log
         WHERE at >= $1 AND at < $2 AND basis = 'consent'
           AND subject_id IS NOT NULL AND institution_id IS NOT NULL",
    )
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(conn)
    .await
}

/// (operator, terminal) pairs that queried or logged in within
/// `[from_ms, to_ms)`.
pub async fn terminals_between(
    conn: &mut AnyConnection,
    from_ms: i64,
    to_ms: i64,
) -> sqlx::Result<HashSet<(String, String)>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT operator_id, terminal FROM query_log WHERE at >= $1 AND at < $2
         UNION
         SELECT operator_id, terminal FROM sessions WHERE created_at >= $1 AND created_at < $2",
    )
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().collect())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DayRow {
    pub day: String,
    pub prepared_at: i64,
    pub signed_at: Option<i64>,
    pub signed_by: Option<String>,
    pub chain_seq: Option<i64>,
    pub chain_hash: Option<String>,
}

pub async fn get_day(conn: &mut AnyConnection, day: &str) -> sqlx::Result<Option<DayRow>> {
    sqlx::query_as(
        "SELECT d.day, d.prepared_at, d.signed_at, o.display_name AS signed_by, d.chain_seq,
             d.chain_hash
         FROM review_days d LEFT JOIN operators o ON o.id = d.signed_by
         WHERE d.day = $1",
    )
    .bind(day)
    .fetch_optional(conn)
    .await
}

/// Records the day as prepared; false if another server did it first.
pub async fn insert_day(conn: &mut AnyConnection, day: &str, now_ms: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO review_days (day, prepared_at) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING",
    )
    .bind(day)
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub struct NewAlert<'a> {
    pub id: &'a str,
    pub day: &'a str,
    pub indicator: &'a str,
    pub about: &'a str,
    pub attempts: &'a [String],
    pub now_ms: i64,
}

pub async fn insert_alert(conn: &mut AnyConnection, a: NewAlert<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO alerts (id, day, indicator, about, attempts, created_at, note)
         VALUES ($1, $2, $3, $4, $5, $6, '')",
    )
    .bind(a.id)
    .bind(a.day)
    .bind(a.indicator)
    .bind(a.about)
    .bind(a.attempts.join(","))
    .bind(a.now_ms)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AlertRow {
    pub id: String,
    pub day: String,
    pub indicator: String,
    pub about: String,
    pub attempts: String,
    pub conclusion: Option<String>,
    pub note: String,
    pub concluded_by: Option<String>,
    pub concluded_at: Option<i64>,
}

impl AlertRow {
    pub fn attempt_ids(&self) -> Vec<String> {
        self.attempts
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }
}

/// The alert columns (a macro so that `concat!` makes whole static SQL).
macro_rules! alert_select {
    () => {
        "SELECT a.id, a.day, a.indicator, a.about, a.attempts, a.conclusion, a.note,
             o.display_name AS concluded_by, a.concluded_at
         FROM alerts a LEFT JOIN operators o ON o.id = a.concluded_by"
    };
}

pub async fn alerts_of(conn: &mut AnyConnection, day: &str) -> sqlx::Result<Vec<AlertRow>> {
    const SQL: &str = concat!(
        alert_select!(),
        " WHERE a.day = $1 ORDER BY a.indicator, a.about"
    );
    sqlx::query_as(SQL).bind(day).fetch_all(conn).await
}

pub async fn get_alert(conn: &mut AnyConnection, id: &str) -> sqlx::Result<Option<AlertRow>> {
    const SQL: &str = concat!(alert_select!(), " WHERE a.id = $1");
    sqlx::query_as(SQL).bind(id).fetch_optional(conn).await
}

pub async fn conclude(
    conn: &mut AnyConnection,
    id: &str,
    conclusion: &str,
    note: &str,
    by: &str,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE alerts SET conclusion = $1, note = $2, concluded_by = $3, concluded_at = $4
         WHERE id = $5",
    )
    .bind(conclusion)
    .bind(note)
    .bind(by)
    .bind(now_ms)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes the day's row for this transaction if the day is not signed off;
/// whether it is not.
pub async fn hold_unsigned(conn: &mut AnyConnection, day: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("UPDATE review_days SET day = day WHERE day = $1 AND signed_at IS NULL")
        .bind(day)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Signs the day off unless it already was; whether this call did.
pub async fn sign(
    conn: &mut AnyConnection,
    day: &str,
    by: &str,
    now_ms: i64,
    chain: &super::audit::Head,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE review_days SET signed_at = $1, signed_by = $2, chain_seq = $3, chain_hash = $4
         WHERE day = $5 AND signed_at IS NULL",
    )
    .bind(now_ms)
    .bind(by)
    .bind(chain.seq)
    .bind(&chain.hash)
    .bind(day)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether any attempt was made in `[from_ms, to_ms)`.
pub async fn any_attempt_between(
    conn: &mut AnyConnection,
    from_ms: i64,
    to_ms: i64,
) -> sqlx::Result<bool> {
    let found: Option<(String,)> =
        sqlx::query_as("SELECT id FROM query_log WHERE at >= $1 AND at < $2 LIMIT 1")
            .bind(from_ms)
            .bind(to_ms)
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}

/// The days from `first` on that were signed off.
pub async fn signed_since(conn: &mut AnyConnection, first: &str) -> sqlx::Result<HashSet<String>> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT day FROM review_days WHERE day >= $1 AND signed_at IS NOT NULL")
            .bind(first)
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(|(d,)| d).collect())
}
