//! The subject registry: persons, organisations and farmer households, and
//! the verification events recorded at the counter.

use credit_desk_proto::pb::{SubjectKind, VerificationMethod};
use sqlx::AnyConnection;

use super::column::Text;
use super::sealed::{self, Open, open_all, open_one};

/// A subject with the columns of its kind (empty where not applicable).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubjectRow {
    pub id: String,
    #[sqlx(try_from = "Text")]
    pub kind: SubjectKind,
    pub identifier: String,
    pub name: String,
    pub township: Option<String>,
    pub address: String,
    pub phone: String,
    pub birth_date: Option<String>,
    pub sex: Option<String>,
    pub org_type: Option<String>,
    pub legal_representative: Option<String>,
}

impl Open for SubjectRow {
    fn open(mut self) -> sqlx::Result<Self> {
        sealed::open(&mut self.identifier)?;
        sealed::open(&mut self.address)?;
        sealed::open(&mut self.phone)?;
        Ok(self)
    }
}

macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT s.id, s.kind, s.identifier, s.name, t.name AS township, s.address, s.phone,
                    p.birth_date, p.sex, o.org_type, o.legal_representative
               FROM subjects s
               LEFT JOIN org_units t ON t.id = s.township_id
               LEFT JOIN persons p ON p.subject_id = s.id
               LEFT JOIN organisations o ON o.subject_id = s.id ",
            $rest
        )
    };
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> sqlx::Result<Option<SubjectRow>> {
    let row = sqlx::query_as(select!("WHERE s.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    open_one(row)
}

/// The subject holding a (normalised) identity number or credit code,
/// found by its blind index under any key of the key file.
pub async fn get_by_identifier(
    conn: &mut AnyConnection,
    identifier: &str,
) -> sqlx::Result<Option<SubjectRow>> {
    let indexes = sealed::indexes(identifier)?;
    let rows =
        super::bulk::fetch_in(conn, select!("WHERE s.identifier_index IN "), &[], &indexes).await?;
    let row = rows
        .first()
        .map(<SubjectRow as sqlx::FromRow<_>>::from_row)
        .transpose()?;
    open_one(row)
}

/// A page of subjects by name prefix: $1 ≤ name < $2, after subject $3,
/// $4 rows (see [`page`]).
pub const BY_NAME: &str = select!(
    "WHERE s.name COLLATE \"binary\" >= $1 AND s.name COLLATE \"binary\" < $2
       AND ($3 = '' OR s.name COLLATE \"binary\" > (SELECT name FROM subjects WHERE id = $3)
            OR (s.name = (SELECT name FROM subjects WHERE id = $3) AND s.id > $3))
     ORDER BY s.name COLLATE \"binary\", s.id LIMIT $4"
);

/// The same, or holding the number whose blind indexes are $3–$10.
pub const BY_NAME_OR_NUMBER: &str = select!(
    "WHERE ((s.name COLLATE \"binary\" >= $1 AND s.name COLLATE \"binary\" < $2)
            OR s.identifier_index IN ($3, $4, $5, $6, $7, $8, $9, $10))
       AND ($11 = '' OR s.name COLLATE \"binary\" > (SELECT name FROM subjects WHERE id = $11)
            OR (s.name = (SELECT name FROM subjects WHERE id = $11) AND s.id > $11))
     ORDER BY s.name COLLATE \"binary\", s.id LIMIT $12"
);

/// Subjects whose name starts with `query`, or who hold the number `query`
/// (numbers are sealed: only a whole one is found), in name order (by code
/// point) after the subject with id `after` ("" for the first page).
///
/// A name is matched as a prefix, on the name index in its order, so that
/// a page costs the same in a county of a million as in a demo (a
/// "contains" match read the whole table: 1–3 s a search at 1 M subjects).
/// `COLLATE "binary"` is SQLite's own order; on PostgreSQL it names a "C"
/// collation the migrations make, with an index in it, whatever the
/// database's locale.
pub async fn page(
    conn: &mut AnyConnection,
    query: &str,
    after: &str,
    limit: i64,
) -> sqlx::Result<Vec<SubjectRow>> {
    // Every name that starts with `query` sorts from it to it followed by
    // the last code point.
    let (from, to) = (query.to_string(), format!("{query}\u{10FFFF}"));
    // Only letters and digits may be a number: a name in Chinese is looked
    // up on the name index alone.
    let maybe_number = !query.is_empty() && query.chars().all(|c| c.is_ascii_alphanumeric());
    if !maybe_number {
        let rows = sqlx::query_as(BY_NAME)
            .bind(from)
            .bind(to)
            .bind(after)
            .bind(limit)
            .fetch_all(conn)
            .await?;
        return open_all(rows);
    }
    let number = credit_desk_proto::ident::normalise(query);
    // Every key's index (rows not yet resealed after a rotation carry an
    // older one), padded with the current one to a fixed count.
    let mut indexes = sealed::indexes(&number)?;
    let current = indexes.first().cloned().unwrap_or_default();
    indexes.resize(crate::vault::KEYS_MAX, current);
    let mut q = sqlx::query_as(BY_NAME_OR_NUMBER).bind(from).bind(to);
    for index in indexes {
        q = q.bind(index);
    }
    let rows = q.bind(after).bind(limit).fetch_all(conn).await?;
    open_all(rows)
}

/// `text` matched literally by LIKE … ESCAPE '\': its `%`, `_` and `\`
/// are escaped.
pub fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub async fn members(
    conn: &mut AnyConnection,
    household_id: &str,
) -> sqlx::Result<Vec<SubjectRow>> {
    let rows = sqlx::query_as(select!(
        "JOIN household_members m ON m.person_id = s.id WHERE m.household_id = $1 ORDER BY s.name, s.id"
    ))
    .bind(household_id)
    .fetch_all(conn)
    .await?;
    open_all(rows)
}

pub struct NewSubject<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub identifier: &'a str,
    pub name: &'a str,
    pub township_id: Option<&'a str>,
    pub address: &'a str,
    pub phone: &'a str,
    pub now_ms: i64,
}

pub async fn insert(conn: &mut AnyConnection, s: NewSubject<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO subjects (id, kind, identifier, identifier_index, name, township_id, address,
             phone, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    )
    .bind(s.id)
    .bind(s.kind)
    .bind(sealed::seal(s.identifier)?)
    .bind(sealed::index(s.identifier)?)
    .bind(s.name)
    .bind(s.township_id)
    .bind(sealed::seal(s.address)?)
    .bind(sealed::seal(s.phone)?)
    .bind(s.now_ms)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_person(
    conn: &mut AnyConnection,
    subject_id: &str,
    birth_date: &str,
    sex: &str,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO persons (subject_id, birth_date, sex) VALUES ($1, $2, $3)")
        .bind(subject_id)
        .bind(birth_date)
        .bind(sex)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn insert_organisation(
    conn: &mut AnyConnection,
    subject_id: &str,
    org_type: &str,
    legal_representative: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO organisations (subject_id, org_type, legal_representative) VALUES ($1, $2, $3)",
    )
    .bind(subject_id)
    .bind(org_type)
    .bind(legal_representative)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_household(
    conn: &mut AnyConnection,
    subject_id: &str,
    head_id: &str,
    village: &str,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO households (subject_id, head_id, village) VALUES ($1, $2, $3)")
        .bind(subject_id)
        .bind(head_id)
        .bind(village)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn add_member(
    conn: &mut AnyConnection,
    household_id: &str,
    person_id: &str,
    relation: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO household_members (household_id, person_id, relation) VALUES ($1, $2, $3)",
    )
    .bind(household_id)
    .bind(person_id)
    .bind(relation)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes a person out of a household; false if they were not in it.
pub async fn remove_member(
    conn: &mut AnyConnection,
    household_id: &str,
    person_id: &str,
) -> sqlx::Result<bool> {
    let done =
        sqlx::query("DELETE FROM household_members WHERE household_id = $1 AND person_id = $2")
            .bind(household_id)
            .bind(person_id)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// A household's head, village and name (`<head>户`): the household row,
/// and the subject row whose address is the village.
pub async fn set_household(
    conn: &mut AnyConnection,
    household_id: &str,
    head_id: &str,
    village: &str,
    name: &str,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE households SET head_id = $1, village = $2 WHERE subject_id = $3")
        .bind(head_id)
        .bind(village)
        .bind(household_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE subjects SET name = $1, address = $2, updated_at = $3 WHERE id = $4")
        .bind(name)
        .bind(sealed::seal(village)?)
        .bind(now_ms)
        .bind(household_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_relation(
    conn: &mut AnyConnection,
    household_id: &str,
    person_id: &str,
    relation: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE household_members SET relation = $1 WHERE household_id = $2 AND person_id = $3",
    )
    .bind(relation)
    .bind(household_id)
    .bind(person_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Touches a household's row first in a change, so that two changes to one
/// household (PostgreSQL: row lock) run one after the other.
pub async fn lock(conn: &mut AnyConnection, subject_id: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE subjects SET updated_at = updated_at WHERE id = $1")
        .bind(subject_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The unit id and path of a subject's township, if it has one.
pub async fn township(
    conn: &mut AnyConnection,
    subject_id: &str,
) -> sqlx::Result<Option<(String, String)>> {
    sqlx::query_as(
        "SELECT u.id, u.path FROM subjects s JOIN org_units u ON u.id = s.township_id
          WHERE s.id = $1",
    )
    .bind(subject_id)
    .fetch_optional(conn)
    .await
}

pub async fn count(conn: &mut AnyConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM subjects")
        .fetch_one(conn)
        .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VerificationRow {
    pub id: String,
    pub subject_id: String,
    #[sqlx(try_from = "Text")]
    pub method: VerificationMethod,
    pub document: String,
    pub agent_identifier: Option<String>,
    pub agent_name: Option<String>,
    pub poa_reference: Option<String>,
    pub operator_name: String,
    pub org_unit_id: String,
    pub org_unit_name: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub acting_as: Option<String>,
    pub licence: Option<String>,
}

impl Open for VerificationRow {
    fn open(mut self) -> sqlx::Result<Self> {
        sealed::open_opt(&mut self.agent_identifier)?;
        Ok(self)
    }
}

macro_rules! select_verification {
    ($rest:literal) => {
        concat!(
            "SELECT v.id, v.subject_id, v.method, v.document, v.agent_identifier, v.agent_name,
                    v.poa_reference, o.display_name AS operator_name, v.org_unit_id,
                    u.name AS org_unit_name,
                    v.created_at, v.expires_at, v.acting_as, v.licence
               FROM verifications v
               JOIN operators o ON o.id = v.operator_id
               JOIN org_units u ON u.id = v.org_unit_id ",
            $rest
        )
    };
}

pub struct NewVerification<'a> {
    pub id: &'a str,
    pub subject_id: &'a str,
    pub method: &'a str,
    pub document: &'a str,
    pub agent_identifier: Option<&'a str>,
    pub agent_name: Option<&'a str>,
    pub poa_reference: Option<&'a str>,
    pub acting_as: Option<&'a str>,
    pub licence: Option<&'a str>,
    pub operator_id: &'a str,
    pub org_unit_id: &'a str,
    pub terminal: &'a str,
    pub now_ms: i64,
    pub expires_at_ms: i64,
}

pub async fn insert_verification(
    conn: &mut AnyConnection,
    v: NewVerification<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO verifications (id, subject_id, method, document, agent_identifier, agent_name,
             poa_reference, operator_id, org_unit_id, terminal, created_at, expires_at, acting_as,
             licence)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(v.id)
    .bind(v.subject_id)
    .bind(v.method)
    .bind(v.document)
    .bind(sealed::seal_opt(v.agent_identifier)?)
    .bind(v.agent_name)
    .bind(v.poa_reference)
    .bind(v.operator_id)
    .bind(v.org_unit_id)
    .bind(v.terminal)
    .bind(v.now_ms)
    .bind(v.expires_at_ms)
    .bind(v.acting_as)
    .bind(v.licence)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_verification(
    conn: &mut AnyConnection,
    id: &str,
) -> sqlx::Result<Option<VerificationRow>> {
    let row = sqlx::query_as(select_verification!("WHERE v.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    open_one(row)
}

pub async fn recent_verifications(
    conn: &mut AnyConnection,
    subject_id: &str,
    limit: i64,
) -> sqlx::Result<Vec<VerificationRow>> {
    let rows = sqlx::query_as(select_verification!(
        "WHERE v.subject_id = $1 ORDER BY v.created_at DESC LIMIT $2"
    ))
    .bind(subject_id)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    open_all(rows)
}

/// A registered subject as an import needs it: found by its identifier.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KnownSubject {
    pub identifier: String,
    pub id: String,
    #[sqlx(try_from = "Text")]
    pub kind: SubjectKind,
    pub name: String,
}

/// The subjects among `identifiers` that are registered (any number of
/// identifiers, looked up in chunks).
pub async fn by_identifiers(
    conn: &mut AnyConnection,
    identifiers: &[String],
) -> sqlx::Result<Vec<KnownSubject>> {
    // Looked up by blind index (under every key), then named again by the
    // number that was asked for.
    let mut by_index = std::collections::HashMap::new();
    for identifier in identifiers {
        for index in sealed::indexes(identifier)? {
            by_index.insert(index, identifier);
        }
    }
    let indexes: Vec<String> = by_index.keys().cloned().collect();
    let select = "SELECT identifier_index AS identifier, id, kind, name FROM subjects WHERE identifier_index IN ";
    let rows = super::bulk::fetch_in(conn, select, &[], &indexes).await?;
    rows.iter()
        .map(|row| {
            let mut known: KnownSubject = sqlx::FromRow::from_row(row)?;
            known.identifier = by_index
                .get(&known.identifier)
                .map(|n| n.to_string())
                .unwrap_or_default();
            Ok(known)
        })
        .collect()
}

/// A subject's sealed columns for a bulk insert: the sealed number, its
/// blind index, the sealed address and phone.
pub fn sealed_columns(identifier: &str, address: &str, phone: &str) -> sqlx::Result<[String; 4]> {
    Ok([
        sealed::seal(identifier)?,
        sealed::index(identifier)?,
        sealed::seal(address)?,
        sealed::seal(phone)?,
    ])
}

/// A verification an operator made, with whom it was about.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MadeRow {
    pub created_at: i64,
    #[sqlx(try_from = "Text")]
    pub method: VerificationMethod,
    pub subject_name: String,
    pub subject_identifier: String,
}

impl Open for MadeRow {
    fn open(mut self) -> sqlx::Result<Self> {
        sealed::open(&mut self.subject_identifier)?;
        Ok(self)
    }
}

/// The verifications `operator_id` made in `[from_ms, to_ms)`, newest first.
pub async fn verifications_made(
    conn: &mut AnyConnection,
    operator_id: &str,
    from_ms: i64,
    to_ms: i64,
    limit: i64,
) -> sqlx::Result<Vec<MadeRow>> {
    let rows = sqlx::query_as(
        "SELECT v.created_at, v.method, s.name AS subject_name, s.identifier AS subject_identifier
         FROM verifications v JOIN subjects s ON s.id = v.subject_id
         WHERE v.operator_id = $1 AND v.created_at >= $2 AND v.created_at < $3
         ORDER BY v.created_at DESC, v.id DESC LIMIT $4",
    )
    .bind(operator_id)
    .bind(from_ms)
    .bind(to_ms)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    open_all(rows)
}
