//! Org units: a tree kept with a materialised path so that "this unit and
//! everything under it" is one prefix comparison.

use credit_desk_proto::pb::OrgUnitKind;
use sqlx::AnyConnection;

use super::column::Text;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrgUnitRow {
    pub id: String,
    pub code: String,
    pub name: String,
    #[sqlx(try_from = "Text")]
    pub kind: OrgUnitKind,
    pub parent_id: Option<String>,
    pub path: String,
    pub depth: i64,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

/// `SELECT <all columns> FROM org_units` and the given clause, as one literal.
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT id, code, name, kind, parent_id, path, depth, created_at, disabled_at
               FROM org_units ",
            $rest
        )
    };
}

pub struct NewOrgUnit<'a> {
    pub id: &'a str,
    pub code: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    pub parent: Option<&'a OrgUnitRow>,
    pub now_ms: i64,
}

pub async fn insert(conn: &mut AnyConnection, u: NewOrgUnit<'_>) -> sqlx::Result<OrgUnitRow> {
    let (path, depth) = match u.parent {
        Some(p) => (format!("{}{}/", p.path, u.id), p.depth + 1),
        None => (format!("/{}/", u.id), 0),
    };
    sqlx::query(
        "INSERT INTO org_units (id, code, name, kind, parent_id, path, depth, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(u.id)
    .bind(u.code)
    .bind(u.name)
    .bind(u.kind)
    .bind(u.parent.map(|p| p.id.clone()))
    .bind(&path)
    .bind(depth)
    .bind(u.now_ms)
    .execute(&mut *conn)
    .await?;
    get(conn, u.id).await?.ok_or(sqlx::Error::RowNotFound)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> sqlx::Result<Option<OrgUnitRow>> {
    sqlx::query_as(select!("WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn get_by_code(conn: &mut AnyConnection, code: &str) -> sqlx::Result<Option<OrgUnitRow>> {
    sqlx::query_as(select!("WHERE code = $1"))
        .bind(code)
        .fetch_optional(conn)
        .await
}

pub async fn root(conn: &mut AnyConnection) -> sqlx::Result<Option<OrgUnitRow>> {
    sqlx::query_as(select!(
        "WHERE parent_id IS NULL ORDER BY created_at LIMIT 1"
    ))
    .fetch_optional(conn)
    .await
}

/// The unit at `path` and everything below it, parents before children and
/// siblings by code, ready to draw as an indented tree.
pub async fn subtree(conn: &mut AnyConnection, path: &str) -> sqlx::Result<Vec<OrgUnitRow>> {
    let mut rows: Vec<OrgUnitRow> = sqlx::query_as(select!("WHERE path LIKE $1"))
        .bind(prefix_pattern(path))
        .fetch_all(conn)
        .await?;
    depth_first(&mut rows);
    Ok(rows)
}

/// A LIKE pattern matching every path under `path`. Paths hold only UUIDs
/// and slashes, so there is nothing to escape.
pub fn prefix_pattern(path: &str) -> String {
    debug_assert!(!path.contains(['%', '_']));
    format!("{path}%")
}

/// Orders a tree depth-first with siblings sorted by code.
fn depth_first(rows: &mut [OrgUnitRow]) {
    let code_of: std::collections::HashMap<String, String> = rows
        .iter()
        .map(|r| (r.id.clone(), r.code.clone()))
        .collect();
    // Sort key: the codes along the path from the subtree root.
    let key = |r: &OrgUnitRow| -> Vec<String> {
        r.path
            .trim_matches('/')
            .split('/')
            .filter_map(|id| code_of.get(id).cloned())
            .collect()
    };
    rows.sort_by_cached_key(key);
}

pub async fn rename(conn: &mut AnyConnection, id: &str, name: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE org_units SET name = $1 WHERE id = $2")
        .bind(name)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Disables a unit (`Some(when)`) or enables it again (`None`).
pub async fn set_disabled(
    conn: &mut AnyConnection,
    id: &str,
    disabled_at: Option<i64>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE org_units SET disabled_at = $1 WHERE id = $2")
        .bind(disabled_at)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Moves `unit` and everything under it below `parent`: one statement
/// rewrites the subtree's paths and depths, so scope checks (a prefix
/// comparison) follow at once.
pub async fn move_under(
    conn: &mut AnyConnection,
    unit: &OrgUnitRow,
    parent: &OrgUnitRow,
) -> sqlx::Result<()> {
    let new_path = format!("{}{}/", parent.path, unit.id);
    // Paths are ASCII (ids and '/'): character and byte positions agree.
    let tail_from = i64::try_from(unit.path.len() + 1).unwrap_or(i64::MAX);
    sqlx::query(
        "UPDATE org_units SET path = $1 || substr(path, CAST($2 AS INTEGER)), depth = depth + $3
          WHERE substr(path, 1, CAST($4 AS INTEGER)) = $5",
    )
    .bind(&new_path)
    .bind(tail_from)
    .bind(parent.depth + 1 - unit.depth)
    .bind(tail_from - 1)
    .bind(&unit.path)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE org_units SET parent_id = $1 WHERE id = $2")
        .bind(&parent.id)
        .bind(&unit.id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn count(conn: &mut AnyConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM org_units")
        .fetch_one(conn)
        .await
}
