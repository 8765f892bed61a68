//! Creating registry entries from a validated identifier: used by imports
//! (a record about a subject not yet known), the demo data and the seed
//! generator.

use anyhow::Context as _;
use chrono::NaiveDate;
use credit_desk_proto::ident::{self, Identifier};
use credit_desk_proto::pb::SubjectKind;
use sqlx::AnyConnection;

use crate::db::new_id;
use crate::db::subjects::{self, NewSubject};

pub struct NewEntry<'a> {
    pub identifier: &'a str,
    pub name: &'a str,
    pub township_id: Option<&'a str>,
    pub address: &'a str,
    pub phone: &'a str,
    /// Organisations only.
    pub legal_representative: &'a str,
}

/// Returns the subject id for `identifier`, creating the subject (person or
/// organisation, by the identifier's shape) when it is not registered yet.
/// The bool says whether it was created.
pub async fn ensure_subject(
    conn: &mut AnyConnection,
    entry: NewEntry<'_>,
    today: NaiveDate,
    now_ms: i64,
) -> anyhow::Result<(String, bool)> {
    if let Some(existing) = subjects::get_by_identifier(conn, entry.identifier).await? {
        return Ok((existing.id, false));
    }
    let parsed = ident::check_any(entry.identifier, today)
        .with_context(|| format!("identifier {}", entry.identifier))?;
    let id = new_id();
    let kind = match parsed {
        Identifier::Person(_) => SubjectKind::Person,
        Identifier::Organisation(_) => SubjectKind::Organisation,
    };
    let kind = crate::domain::subject_kind_to_str(kind);
    subjects::insert(
        conn,
        NewSubject {
            id: &id,
            kind,
            identifier: entry.identifier,
            name: entry.name,
            township_id: entry.township_id,
            address: entry.address,
            phone: entry.phone,
            now_ms,
        },
    )
    .await?;
    match parsed {
        Identifier::Person(p) => {
            subjects::insert_person(conn, &id, &p.birth_date.to_string(), p.sex.code()).await?
        }
        Identifier::Organisation(o) => {
            subjects::insert_organisation(conn, &id, o.org_type.code(), entry.legal_representative)
                .await?
        }
    }
    Ok((id, true))
}

/// A farmer household: its head, village and the other members with their
/// relation to the head.
pub struct NewHousehold<'a> {
    /// `H` and the head's number (a suffix when taken already).
    pub identifier: &'a str,
    pub head_id: &'a str,
    pub head_name: &'a str,
    pub village: &'a str,
    pub township_id: Option<&'a str>,
    pub members: &'a [(&'a str, &'a str)],
}

/// Creates a household (identifier `H` + the head's number) with its members.
pub async fn add_household(
    conn: &mut AnyConnection,
    h: NewHousehold<'_>,
    now_ms: i64,
) -> anyhow::Result<String> {
    let id = new_id();
    let name = format!("{}户", h.head_name);
    subjects::insert(
        conn,
        NewSubject {
            id: &id,
            kind: "household",
            identifier: h.identifier,
            name: &name,
            township_id: h.township_id,
            address: h.village,
            phone: "",
            now_ms,
        },
    )
    .await?;
    subjects::insert_household(conn, &id, h.head_id, h.village).await?;
    subjects::add_member(conn, &id, h.head_id, "户主").await?;
    for (person_id, relation) in h.members {
        subjects::add_member(conn, &id, person_id, relation).await?;
    }
    Ok(id)
}
