//! Searching the query log for supervision: filtered, newest first, paged by
//! a (time, id) cursor so a page costs the same however deep it is.

use sqlx::AnyConnection;

use super::column::Flag;

/// What to look for. Empty strings and `None` match everything; the range
/// is `[from_ms, to_ms)`.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub subject_id: Option<String>,
    pub operator_username: String,
    pub institution_code: String,
    pub purpose: String,
    pub from_ms: i64,
    pub to_ms: i64,
    pub allowed: Option<bool>,
    /// Only attempts made by operators of units under this path (the
    /// caller's scope).
    pub unit_path: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EntryRow {
    pub id: String,
    pub at: i64,
    pub operator_username: String,
    pub operator_name: String,
    pub org_unit_name: String,
    pub terminal: String,
    pub subject_name: String,
    pub subject_identifier: String,
    pub basis: String,
    pub consent_form_serial: String,
    pub purpose_zh: String,
    pub purpose_en: String,
    pub institution_name: String,
    #[sqlx(try_from = "Flag")]
    pub allowed: bool,
    pub reason: String,
    pub report_no: String,
    #[sqlx(try_from = "Flag")]
    pub fee_applies: bool,
}

const SELECT: &str = "SELECT q.id, q.at, o.username AS operator_username,
        o.display_name AS operator_name, u.name AS org_unit_name, q.terminal,
        COALESCE(s.name, '') AS subject_name, COALESCE(s.identifier, '') AS subject_identifier,
        q.basis, COALESCE(c.form_serial, '') AS consent_form_serial,
        COALESCE(p.name_zh, '') AS purpose_zh, COALESCE(p.name_en, '') AS purpose_en,
        COALESCE(i.name, '') AS institution_name,
        CAST(CASE WHEN q.outcome = 'allowed' THEN 1 ELSE 0 END AS BIGINT) AS allowed,
        q.reason, COALESCE(q.report_no, '') AS report_no, q.fee_applies";

const FROM: &str = " FROM query_log q
     JOIN operators o ON o.id = q.operator_id
     JOIN org_units u ON u.id = q.org_unit_id
     LEFT JOIN subjects s ON s.id = q.subject_id
     LEFT JOIN consents c ON c.id = q.consent_id
     LEFT JOIN purposes p ON p.code = q.purpose
     LEFT JOIN org_units i ON i.id = q.institution_id";

/// The WHERE clause for a filter (placeholders only: no value is ever
/// written into the SQL) and the values in placeholder order.
fn conditions(f: &Filter) -> (String, Vec<Value>) {
    let mut sql = String::from(" WHERE q.at >= $1 AND q.at < $2 AND u.path LIKE $3");
    let mut values = vec![
        Value::Int(f.from_ms),
        Value::Int(f.to_ms),
        Value::Text(format!("{}%", f.unit_path)),
    ];
    let mut add = |clause: &str, v: Value| {
        values.push(v);
        sql.push_str(&clause.replace('?', &format!("${}", values.len())));
    };
    if let Some(id) = &f.subject_id {
        add(" AND q.subject_id = ?", Value::Text(id.clone()));
    }
    if !f.operator_username.is_empty() {
        add(
            " AND o.username = ?",
            Value::Text(f.operator_username.clone()),
        );
    }
    if !f.institution_code.is_empty() {
        add(" AND i.code = ?", Value::Text(f.institution_code.clone()));
    }
    if !f.purpose.is_empty() {
        add(" AND q.purpose = ?", Value::Text(f.purpose.clone()));
    }
    if let Some(allowed) = f.allowed {
        let outcome = if allowed { "allowed" } else { "refused" };
        add(" AND q.outcome = ?", Value::Text(outcome.into()));
    }
    (sql, values)
}

enum Value {
    Int(i64),
    Text(String),
}

macro_rules! bind_all {
    ($query:expr, $values:expr) => {{
        let mut q = $query;
        for v in $values {
            q = match v {
                Value::Int(n) => q.bind(n),
                Value::Text(t) => q.bind(t),
            };
        }
        q
    }};
}

/// How many attempts match.
pub async fn count(conn: &mut AnyConnection, f: &Filter) -> sqlx::Result<i64> {
    let (cond, values) = conditions(f);
    let sql = format!("SELECT COUNT(*){FROM}{cond}");
    let q = sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(sql));
    Ok(bind_all!(q, values).fetch_one(conn).await?.0)
}

/// Up to `limit` attempts, newest first, strictly older than `before`
/// (time, id) when given.
pub async fn page(
    conn: &mut AnyConnection,
    f: &Filter,
    before: Option<(i64, &str)>,
    limit: i64,
) -> sqlx::Result<Vec<EntryRow>> {
    let (mut cond, mut values) = conditions(f);
    if let Some((at, id)) = before {
        let n = values.len();
        cond.push_str(&format!(
            " AND (q.at < ${} OR (q.at = ${} AND q.id < ${}))",
            n + 1,
            n + 2,
            n + 3
        ));
        values.push(Value::Int(at));
        values.push(Value::Int(at));
        values.push(Value::Text(id.to_string()));
    }
    values.push(Value::Int(limit));
    let sql = format!(
        "{SELECT}{FROM}{cond} ORDER BY q.at DESC, q.id DESC LIMIT ${}",
        values.len()
    );
    let q = sqlx::query_as::<_, EntryRow>(sqlx::AssertSqlSafe(sql));
    let rows = bind_all!(q, values).fetch_all(conn).await?;
    super::sealed::open_all(rows)
}

/// The attempts with these ids, oldest first.
pub async fn by_ids(conn: &mut AnyConnection, ids: &[String]) -> sqlx::Result<Vec<EntryRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "{SELECT}{FROM} WHERE q.id IN ({}) ORDER BY q.at, q.id",
        marks.join(", ")
    );
    let mut q = sqlx::query_as::<_, EntryRow>(sqlx::AssertSqlSafe(sql));
    for id in ids {
        q = q.bind(id);
    }
    let rows = q.fetch_all(conn).await?;
    super::sealed::open_all(rows)
}

impl super::sealed::Open for EntryRow {
    fn open(mut self) -> sqlx::Result<Self> {
        super::sealed::open(&mut self.subject_identifier)?;
        Ok(self)
    }
}
