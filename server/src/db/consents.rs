//! Purposes, consents, settings.

use sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PurposeRow {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub retired_at: Option<i64>,
}

pub async fn purposes(
    conn: &mut AnyConnection,
    include_retired: bool,
) -> sqlx::Result<Vec<PurposeRow>> {
    sqlx::query_as(
        "SELECT code, name_zh, name_en, retired_at FROM purposes
          WHERE $1 = 1 OR retired_at IS NULL ORDER BY sort, code",
    )
    .bind(i64::from(include_retired))
    .fetch_all(conn)
    .await
}

pub async fn purpose(conn: &mut AnyConnection, code: &str) -> sqlx::Result<Option<PurposeRow>> {
    sqlx::query_as("SELECT code, name_zh, name_en, retired_at FROM purposes WHERE code = $1")
        .bind(code)
        .fetch_optional(conn)
        .await
}

pub async fn insert_purpose(
    conn: &mut AnyConnection,
    code: &str,
    name_zh: &str,
    name_en: &str,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO purposes (code, name_zh, name_en, sort, created_at)
         VALUES ($1, $2, $3, (SELECT COALESCE(MAX(sort), 0) + 10 FROM purposes), $4)",
    )
    .bind(code)
    .bind(name_zh)
    .bind(name_en)
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(())
}

/// Retires a purpose (`Some(when)`; a retired one keeps its first date) or
/// brings it back into use (`None`).
pub async fn set_retired(
    conn: &mut AnyConnection,
    code: &str,
    retired_at: Option<i64>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE purposes SET retired_at = CASE WHEN $1 IS NULL THEN NULL
                                               ELSE COALESCE(retired_at, $1) END
          WHERE code = $2",
    )
    .bind(retired_at)
    .bind(code)
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets one of the center's settings (stored as text).
pub async fn set_setting(conn: &mut AnyConnection, key: &str, value: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn setting_i64(conn: &mut AnyConnection, key: &str, default: i64) -> sqlx::Result<i64> {
    let v: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(conn)
        .await?;
    Ok(v.and_then(|v| v.parse().ok()).unwrap_or(default))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConsentRow {
    pub id: String,
    pub subject_id: String,
    pub subject_name: String,
    pub subject_identifier: String,
    pub grantee_unit_id: String,
    pub grantee_name: String,
    pub purpose: String,
    pub purpose_zh: String,
    pub purpose_en: String,
    pub scope: String,
    pub valid_from: i64,
    pub valid_until: i64,
    pub form_serial: String,
    pub scan_sha256: String,
    pub remarks: String,
    pub operator_name: String,
    pub org_unit_name: String,
    pub created_at: i64,
    pub withdrawn_at: Option<i64>,
    pub withdrawal_reason: Option<String>,
    pub withdrawn_by_name: Option<String>,
    /// Who signed for the subject: an agent with a power of attorney, or
    /// the person acting for an organisation (from the verification).
    pub agent_name: Option<String>,
    pub agent_identifier: Option<String>,
    pub poa_reference: Option<String>,
    pub acting_as: Option<String>,
}

macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT c.id, c.subject_id, s.name AS subject_name, s.identifier AS subject_identifier,
                    c.grantee_unit_id, g.name AS grantee_name, c.purpose, p.name_zh AS purpose_zh,
                    p.name_en AS purpose_en, c.scope, c.valid_from, c.valid_until, c.form_serial,
                    c.scan_sha256, c.remarks, o.display_name AS operator_name,
                    u.name AS org_unit_name, c.created_at, c.withdrawn_at,
                    c.withdrawal_reason, w.display_name AS withdrawn_by_name,
                    v.agent_name, v.agent_identifier, v.poa_reference, v.acting_as
               FROM consents c
               JOIN subjects s ON s.id = c.subject_id
               JOIN org_units g ON g.id = c.grantee_unit_id
               JOIN purposes p ON p.code = c.purpose
               JOIN operators o ON o.id = c.operator_id
               JOIN org_units u ON u.id = c.org_unit_id
               LEFT JOIN operators w ON w.id = c.withdrawn_by
               LEFT JOIN verifications v ON v.id = c.verification_id ",
            $rest
        )
    };
}

impl super::sealed::Open for ConsentRow {
    fn open(mut self) -> sqlx::Result<Self> {
        super::sealed::open(&mut self.subject_identifier)?;
        super::sealed::open_opt(&mut self.agent_identifier)?;
        Ok(self)
    }
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> sqlx::Result<Option<ConsentRow>> {
    let row = sqlx::query_as(select!("WHERE c.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    super::sealed::open_one(row)
}

pub async fn of_subject(
    conn: &mut AnyConnection,
    subject_id: &str,
) -> sqlx::Result<Vec<ConsentRow>> {
    let rows = sqlx::query_as(select!(
        "WHERE c.subject_id = $1 ORDER BY c.created_at DESC"
    ))
    .bind(subject_id)
    .fetch_all(conn)
    .await?;
    super::sealed::open_all(rows)
}

pub struct NewConsent<'a> {
    pub id: &'a str,
    pub subject_id: &'a str,
    pub verification_id: &'a str,
    pub grantee_unit_id: &'a str,
    pub purpose: &'a str,
    pub scope: &'a str,
    pub valid_from: i64,
    pub valid_until: i64,
    pub form_serial: &'a str,
    pub scan_sha256: &'a str,
    pub remarks: &'a str,
    pub operator_id: &'a str,
    pub org_unit_id: &'a str,
    pub terminal: &'a str,
    pub now_ms: i64,
}

pub async fn insert(conn: &mut AnyConnection, c: NewConsent<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO consents (id, subject_id, verification_id, grantee_unit_id, purpose, scope,
             valid_from, valid_until, form_serial, scan_sha256, remarks, operator_id, org_unit_id,
             terminal, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(c.id)
    .bind(c.subject_id)
    .bind(c.verification_id)
    .bind(c.grantee_unit_id)
    .bind(c.purpose)
    .bind(c.scope)
    .bind(c.valid_from)
    .bind(c.valid_until)
    .bind(c.form_serial)
    .bind(c.scan_sha256)
    .bind(c.remarks)
    .bind(c.operator_id)
    .bind(c.org_unit_id)
    .bind(c.terminal)
    .bind(c.now_ms)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether a paper form serial is registered on a consent already.
pub async fn serial_taken(conn: &mut AnyConnection, serial: &str) -> sqlx::Result<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM consents WHERE form_serial = $1")
        .bind(serial)
        .fetch_one(conn)
        .await?;
    Ok(n > 0)
}

/// Withdraws a consent once; a second withdrawal keeps the first's time
/// and reason. Returns whether this call withdrew it.
pub async fn withdraw(
    conn: &mut AnyConnection,
    id: &str,
    operator_id: &str,
    verification_id: &str,
    reason: &str,
    now_ms: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE consents SET withdrawn_at = $1, withdrawn_by = $2, withdrawal_verification_id = $3,
                withdrawal_reason = $4
          WHERE id = $5 AND withdrawn_at IS NULL",
    )
    .bind(now_ms)
    .bind(operator_id)
    .bind(verification_id)
    .bind(reason)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}
