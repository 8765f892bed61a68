//! What a subject's card shows besides the registry entry: every version of
//! every record with where it came from, the queries about the subject, its
//! consents and tickets, and its households. Each is one read.

use sqlx::AnyConnection;

use super::column::Flag;

/// One version of one of the subject's records, with its origin.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VersionRow {
    pub record_id: String,
    pub category_zh: String,
    pub category_en: String,
    pub department: String,
    pub source_key: String,
    pub current_version: i64,
    pub deleted_at: Option<i64>,
    pub deleted_by_ticket: Option<String>,
    pub version: i64,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub amount_cents: Option<i64>,
    pub status: String,
    #[sqlx(try_from = "Flag")]
    pub negative: bool,
    pub details: String,
    pub created_at: i64,
    pub import_file: Option<String>,
    pub ticket_no: Option<String>,
    pub operator_name: Option<String>,
}

/// Every version of the subject's records (an import still being written
/// is not shown), by category and key, newest version first.
pub async fn versions(conn: &mut AnyConnection, subject_id: &str) -> sqlx::Result<Vec<VersionRow>> {
    sqlx::query_as(
        "SELECT r.id AS record_id, c.name_zh AS category_zh, c.name_en AS category_en,
                u.name AS department, r.source_key, r.current_version, r.deleted_at,
                d.ticket_no AS deleted_by_ticket, v.version, v.start_date, v.end_date,
                v.amount_cents, v.status, v.negative, v.details, v.created_at,
                i.file_name AS import_file, t.ticket_no,
                COALESCE(o.display_name, io.display_name) AS operator_name
           FROM visible_records r
           JOIN record_categories c ON c.code = r.category
           JOIN org_units u ON u.id = r.source_unit_id
           JOIN record_versions v ON v.record_id = r.id AND v.version <= r.current_version
           LEFT JOIN imports i ON i.id = v.import_id
           LEFT JOIN operators io ON io.id = i.operator_id
           LEFT JOIN tickets t ON t.id = v.ticket_id
           LEFT JOIN tickets d ON d.id = r.deleted_by_ticket
           LEFT JOIN operators o ON o.id = v.created_by
          WHERE r.subject_id = $1
          ORDER BY c.sort, r.source_key, r.id, v.version DESC",
    )
    .bind(subject_id)
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueryRow {
    pub at: i64,
    pub institution: Option<String>,
    pub operator_name: String,
    pub purpose_zh: Option<String>,
    pub purpose_en: Option<String>,
    pub outcome: String,
    pub report_no: Option<String>,
}

/// The latest `limit` queries about the subject, allowed or refused.
pub async fn queries(
    conn: &mut AnyConnection,
    subject_id: &str,
    limit: i64,
) -> sqlx::Result<Vec<QueryRow>> {
    sqlx::query_as(
        "SELECT q.at, i.name AS institution, o.display_name AS operator_name,
                p.name_zh AS purpose_zh, p.name_en AS purpose_en, q.outcome, q.report_no
           FROM query_log q
           JOIN operators o ON o.id = q.operator_id
           LEFT JOIN org_units i ON i.id = q.institution_id
           LEFT JOIN purposes p ON p.code = q.purpose
          WHERE q.subject_id = $1
          ORDER BY q.at DESC, q.id DESC LIMIT $2",
    )
    .bind(subject_id)
    .bind(limit)
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConsentRow {
    pub id: String,
    pub grantee: String,
    pub purpose_zh: String,
    pub purpose_en: String,
    pub valid_from: i64,
    pub valid_until: i64,
    pub withdrawn_at: Option<i64>,
    pub form_serial: String,
    /// Where it was taken: a counter sees only its own unit's.
    pub unit_path: String,
}

pub async fn consents(conn: &mut AnyConnection, subject_id: &str) -> sqlx::Result<Vec<ConsentRow>> {
    sqlx::query_as(
        "SELECT c.id, g.name AS grantee, p.name_zh AS purpose_zh, p.name_en AS purpose_en,
                c.valid_from, c.valid_until, c.withdrawn_at, c.form_serial, u.path AS unit_path
           FROM consents c
           JOIN org_units g ON g.id = c.grantee_unit_id
           JOIN purposes p ON p.code = c.purpose
           JOIN org_units u ON u.id = c.org_unit_id
          WHERE c.subject_id = $1
          ORDER BY c.created_at DESC, c.id DESC",
    )
    .bind(subject_id)
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TicketRow {
    pub id: String,
    pub ticket_no: String,
    pub state: String,
    pub received_on: String,
    pub closed_at: Option<i64>,
    pub unit_path: String,
}

pub async fn tickets(conn: &mut AnyConnection, subject_id: &str) -> sqlx::Result<Vec<TicketRow>> {
    sqlx::query_as(
        "SELECT t.id, t.ticket_no, t.state, t.received_on, t.closed_at, u.path AS unit_path
           FROM tickets t
           JOIN org_units u ON u.id = t.org_unit_id
          WHERE t.subject_id = $1
          ORDER BY t.created_at DESC, t.ticket_no DESC",
    )
    .bind(subject_id)
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HouseholdRow {
    pub household_id: String,
    pub name: String,
    pub relation: String,
}

/// The households a person belongs to.
pub async fn households_of(
    conn: &mut AnyConnection,
    person_id: &str,
) -> sqlx::Result<Vec<HouseholdRow>> {
    sqlx::query_as(
        "SELECT m.household_id, s.name, m.relation
           FROM household_members m
           JOIN subjects s ON s.id = m.household_id
          WHERE m.person_id = $1
          ORDER BY s.name, s.id",
    )
    .bind(person_id)
    .fetch_all(conn)
    .await
}

/// A household's head, village and the township's unit path ('' when the
/// household has no township).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HouseholdFacts {
    pub head_id: String,
    pub village: String,
    pub township_path: Option<String>,
}

pub async fn household(
    conn: &mut AnyConnection,
    household_id: &str,
) -> sqlx::Result<Option<HouseholdFacts>> {
    sqlx::query_as(
        "SELECT h.head_id, h.village, u.path AS township_path
           FROM households h
           JOIN subjects s ON s.id = h.subject_id
           LEFT JOIN org_units u ON u.id = s.township_id
          WHERE h.subject_id = $1",
    )
    .bind(household_id)
    .fetch_optional(conn)
    .await
}

/// The household `person_id` heads, if any.
pub async fn headed_by(conn: &mut AnyConnection, person_id: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT subject_id FROM households WHERE head_id = $1")
        .bind(person_id)
        .fetch_optional(conn)
        .await
}

/// Each member's relation to the head, by person id.
pub async fn relations(
    conn: &mut AnyConnection,
    household_id: &str,
) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as("SELECT person_id, relation FROM household_members WHERE household_id = $1")
        .bind(household_id)
        .fetch_all(conn)
        .await
}
