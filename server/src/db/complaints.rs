//! Complaints and their numbers.

use sqlx::AnyConnection;

pub struct NewComplaint<'a> {
    pub id: &'a str,
    pub complaint_no: &'a str,
    pub channel: &'a str,
    pub complainant: &'a str,
    pub contact: &'a str,
    pub subject_id: Option<&'a str>,
    pub about: &'a str,
    pub received_on: &'a str,
    pub due_on: &'a str,
    pub org_unit_id: &'a str,
    pub filed_by: &'a str,
    pub now_ms: i64,
}

pub async fn insert(conn: &mut AnyConnection, c: NewComplaint<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO complaints (id, complaint_no, channel, complainant, contact, subject_id,
             about, received_on, due_on, org_unit_id, filed_by, filed_at, state)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'open')",
    )
    .bind(c.id)
    .bind(c.complaint_no)
    .bind(c.channel)
    .bind(c.complainant)
    .bind(super::sealed::seal(c.contact)?)
    .bind(c.subject_id)
    .bind(c.about)
    .bind(c.received_on)
    .bind(c.due_on)
    .bind(c.org_unit_id)
    .bind(c.filed_by)
    .bind(c.now_ms)
    .execute(conn)
    .await?;
    Ok(())
}

/// The next number of a series (`TS` complaints, `DF` answers) for a day
/// (`YYYYMMDD`), counted in the database so servers never repeat one.
pub async fn next_number(conn: &mut AnyConnection, series: &str, day: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO complaint_counters (day, last) VALUES ($1, 1)
         ON CONFLICT (day) DO UPDATE SET last = complaint_counters.last + 1
         RETURNING last",
    )
    .bind(format!("{series}-{day}"))
    .fetch_one(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ComplaintRow {
    pub id: String,
    pub complaint_no: String,
    pub channel: String,
    pub complainant: String,
    pub contact: String,
    pub subject_name: Option<String>,
    pub subject_identifier: Option<String>,
    pub about: String,
    pub received_on: String,
    pub due_on: String,
    pub org_unit_path: String,
    pub org_unit_name: String,
    pub filed_by: String,
    pub assigned_to: Option<String>,
    pub state: String,
    pub answer: Option<String>,
    pub answered_by: Option<String>,
    pub answered_at: Option<i64>,
    pub answer_letter_no: Option<String>,
}

impl super::sealed::Open for ComplaintRow {
    fn open(mut self) -> sqlx::Result<Self> {
        super::sealed::open(&mut self.contact)?;
        super::sealed::open_opt(&mut self.subject_identifier)?;
        Ok(self)
    }
}

macro_rules! complaint_select {
    () => {
        "SELECT c.id, c.complaint_no, c.channel, c.complainant, c.contact,
             s.name AS subject_name, s.identifier AS subject_identifier, c.about,
             c.received_on, c.due_on, u.path AS org_unit_path, u.name AS org_unit_name,
             f.display_name AS filed_by, a.display_name AS assigned_to, c.state, c.answer,
             r.display_name AS answered_by, c.answered_at, c.answer_letter_no
         FROM complaints c
         JOIN org_units u ON u.id = c.org_unit_id
         JOIN operators f ON f.id = c.filed_by
         LEFT JOIN operators a ON a.id = c.assigned_to
         LEFT JOIN operators r ON r.id = c.answered_by
         LEFT JOIN subjects s ON s.id = c.subject_id"
    };
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> sqlx::Result<Option<ComplaintRow>> {
    const SQL: &str = concat!(complaint_select!(), " WHERE c.id = $1");
    let row = sqlx::query_as(SQL).bind(id).fetch_optional(conn).await?;
    super::sealed::open_one(row)
}

/// Complaints filed under `unit_path`: the open ones (due first), or with
/// `all` also those received on or after `since` (newest first after them).
pub async fn list(
    conn: &mut AnyConnection,
    unit_path: &str,
    all: bool,
    since: &str,
    limit: i64,
) -> sqlx::Result<Vec<ComplaintRow>> {
    const SQL: &str = concat!(
        complaint_select!(),
        " WHERE u.path LIKE $1 AND (c.state = 'open' OR ($2 = 1 AND c.received_on >= $3))
          ORDER BY CASE WHEN c.state = 'open' THEN 0 ELSE 1 END, c.due_on, c.complaint_no DESC
          LIMIT $4"
    );
    let rows = sqlx::query_as(SQL)
        .bind(format!("{unit_path}%"))
        .bind(i64::from(all))
        .bind(since)
        .bind(limit)
        .fetch_all(conn)
        .await?;
    super::sealed::open_all(rows)
}

/// Open complaints under `unit_path`: (all, past their last day).
pub async fn open_counts(
    conn: &mut AnyConnection,
    unit_path: &str,
    today: &str,
) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT),
             CAST(COALESCE(SUM(CASE WHEN c.due_on < $2 THEN 1 ELSE 0 END), 0) AS BIGINT)
         FROM complaints c JOIN org_units u ON u.id = c.org_unit_id
         WHERE u.path LIKE $1 AND c.state = 'open'",
    )
    .bind(format!("{unit_path}%"))
    .bind(today)
    .fetch_one(conn)
    .await
}

pub async fn assign(conn: &mut AnyConnection, id: &str, operator_id: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE complaints SET assigned_to = $1 WHERE id = $2")
        .bind(operator_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records the written answer unless one was recorded already; whether
/// this call did.
pub async fn answer(
    conn: &mut AnyConnection,
    id: &str,
    text: &str,
    letter_no: &str,
    by: &str,
    now_ms: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE complaints SET state = 'answered', answer = $1, answer_letter_no = $2,
             answered_by = $3, answered_at = $4
         WHERE id = $5 AND state = 'open'",
    )
    .bind(text)
    .bind(letter_no)
    .bind(by)
    .bind(now_ms)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
