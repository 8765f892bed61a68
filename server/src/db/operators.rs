//! Operators (the people who log in), read together with their org unit.

use credit_desk_proto::pb::Role;
use sqlx::AnyConnection;

use super::column::{Flag, Text};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OperatorRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    #[sqlx(try_from = "Text")]
    pub role: Role,
    pub org_unit_id: String,
    pub org_unit_name: String,
    pub org_unit_path: String,
    pub password_hash: String,
    #[sqlx(try_from = "Flag")]
    pub enabled: bool,
    #[sqlx(try_from = "Flag")]
    pub must_change_password: bool,
    pub locked_until: Option<i64>,
    pub created_at: i64,
    /// The operator's unit, or one above it, is disabled: no login.
    #[sqlx(try_from = "Flag")]
    pub unit_disabled: bool,
}

/// `SELECT … FROM operators JOIN org_units` followed by the given clause,
/// as one literal (sqlx accepts only literal SQL without an audit wrapper).
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT o.id, o.username, o.display_name, o.role, o.org_unit_id,
        u.name AS org_unit_name, u.path AS org_unit_path, o.password_hash, o.enabled,
        o.must_change_password, o.locked_until, o.created_at,
        CASE WHEN EXISTS (SELECT 1 FROM org_units d WHERE d.disabled_at IS NOT NULL
                             AND substr(u.path, 1, length(d.path)) = d.path)
             THEN 1 ELSE 0 END AS unit_disabled
    FROM operators o JOIN org_units u ON u.id = o.org_unit_id ",
            $rest
        )
    };
}

pub struct NewOperator<'a> {
    pub id: &'a str,
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    pub org_unit_id: &'a str,
    pub password_hash: &'a str,
    pub must_change_password: bool,
    pub now_ms: i64,
}

pub async fn insert(conn: &mut AnyConnection, o: NewOperator<'_>) -> sqlx::Result<OperatorRow> {
    sqlx::query(
        "INSERT INTO operators (id, username, display_name, role, org_unit_id, password_hash,
             enabled, must_change_password, locked_until, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, NULL, $8, $8)",
    )
    .bind(o.id)
    .bind(o.username)
    .bind(o.display_name)
    .bind(o.role)
    .bind(o.org_unit_id)
    .bind(o.password_hash)
    .bind(i64::from(o.must_change_password))
    .bind(o.now_ms)
    .execute(&mut *conn)
    .await?;
    get(conn, o.id).await?.ok_or(sqlx::Error::RowNotFound)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> sqlx::Result<Option<OperatorRow>> {
    sqlx::query_as(select!("WHERE o.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn get_by_username(
    conn: &mut AnyConnection,
    username: &str,
) -> sqlx::Result<Option<OperatorRow>> {
    sqlx::query_as(select!("WHERE o.username = $1"))
        .bind(username)
        .fetch_optional(conn)
        .await
}

/// One page of the operators under `scope_path`, by username after `after`.
pub async fn page(
    conn: &mut AnyConnection,
    scope_path: &str,
    query: &str,
    after: &str,
    limit: i64,
) -> sqlx::Result<Vec<OperatorRow>> {
    let like = format!("%{}%", query.replace(['%', '_'], ""));
    sqlx::query_as(select!(
        "WHERE u.path LIKE $1
            AND (o.username LIKE $2 OR o.display_name LIKE $2)
            AND o.username > $3
          ORDER BY o.username LIMIT $4"
    ))
    .bind(super::org_units::prefix_pattern(scope_path))
    .bind(like)
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await
}

pub async fn set_enabled(
    conn: &mut AnyConnection,
    id: &str,
    enabled: bool,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE operators SET enabled = $1, updated_at = $2 WHERE id = $3")
        .bind(i64::from(enabled))
        .bind(now_ms)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Stores a new password hash; also lifts any lock. The lock is ended now
/// rather than erased: the lockout count starts from a lock's end, so the
/// failures that led to it do not lock the account again.
pub async fn set_password(
    conn: &mut AnyConnection,
    id: &str,
    password_hash: &str,
    must_change: bool,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE operators SET password_hash = $1, must_change_password = $2,
             locked_until = CASE WHEN locked_until IS NULL THEN NULL ELSE $3 END,
             updated_at = $3 WHERE id = $4",
    )
    .bind(password_hash)
    .bind(i64::from(must_change))
    .bind(now_ms)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_locked_until(
    conn: &mut AnyConnection,
    id: &str,
    until_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE operators SET locked_until = $1 WHERE id = $2")
        .bind(until_ms)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// An operator's display name, role and unit.
pub async fn update(
    conn: &mut AnyConnection,
    id: &str,
    display_name: &str,
    role: &str,
    org_unit_id: &str,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE operators SET display_name = $1, role = $2, org_unit_id = $3, updated_at = $4
          WHERE id = $5",
    )
    .bind(display_name)
    .bind(role)
    .bind(org_unit_id)
    .bind(now_ms)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn count(conn: &mut AnyConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM operators")
        .fetch_one(conn)
        .await
}

/// Login attempts, which the lockout rule counts.
pub mod attempts {
    use super::*;

    /// Takes the username's login guard for the rest of the transaction and
    /// returns the guard's own lock end (used for usernames that are not
    /// operators). The upsert locks the row on PostgreSQL; SQLite's write
    /// transactions are serial anyway.
    pub async fn guard(conn: &mut AnyConnection, username: &str) -> sqlx::Result<Option<i64>> {
        sqlx::query_scalar(
            "INSERT INTO login_guards (username, locked_until) VALUES ($1, NULL)
             ON CONFLICT (username) DO UPDATE SET username = excluded.username
             RETURNING locked_until",
        )
        .bind(username)
        .fetch_one(conn)
        .await
    }

    pub async fn set_guard_lock(
        conn: &mut AnyConnection,
        username: &str,
        until_ms: i64,
    ) -> sqlx::Result<()> {
        sqlx::query("UPDATE login_guards SET locked_until = $1 WHERE username = $2")
            .bind(until_ms)
            .bind(username)
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Records an attempt as failed (it counts until it is proven right)
    /// and returns its id.
    pub async fn record_failure(
        conn: &mut AnyConnection,
        username: &str,
        operator_id: Option<&str>,
        terminal: &str,
        now_ms: i64,
    ) -> sqlx::Result<String> {
        let id = super::super::new_id();
        sqlx::query(
            "INSERT INTO login_attempts (id, username, operator_id, at, success, terminal)
             VALUES ($1, $2, $3, $4, 0, $5)",
        )
        .bind(&id)
        .bind(username)
        .bind(operator_id)
        .bind(now_ms)
        .bind(terminal)
        .execute(conn)
        .await?;
        Ok(id)
    }

    pub async fn mark_success(conn: &mut AnyConnection, id: &str) -> sqlx::Result<()> {
        sqlx::query("UPDATE login_attempts SET success = 1 WHERE id = $1")
            .bind(id)
            .execute(conn)
            .await?;
        Ok(())
    }

    pub async fn last_success(
        conn: &mut AnyConnection,
        username: &str,
    ) -> sqlx::Result<Option<i64>> {
        sqlx::query_scalar("SELECT MAX(at) FROM login_attempts WHERE username = $1 AND success = 1")
            .bind(username)
            .fetch_one(conn)
            .await
    }

    pub async fn failures_since(
        conn: &mut AnyConnection,
        username: &str,
        since_ms: i64,
    ) -> sqlx::Result<i64> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM login_attempts
              WHERE username = $1 AND success = 0 AND at >= $2",
        )
        .bind(username)
        .bind(since_ms)
        .fetch_one(conn)
        .await
    }
}

/// The name a clerk's notes and acts are shown under.
pub async fn display_name(conn: &mut AnyConnection, id: &str) -> sqlx::Result<String> {
    sqlx::query_scalar("SELECT display_name FROM operators WHERE id = $1")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// When each of `usernames` last logged in successfully.
pub async fn last_logins(
    conn: &mut AnyConnection,
    usernames: &[String],
) -> sqlx::Result<std::collections::HashMap<String, i64>> {
    let select = "SELECT username, MAX(at) AS at FROM login_attempts
         WHERE success = 1 AND username IN ";
    let mut out = std::collections::HashMap::new();
    // `fetch_in` closes the list; the grouping follows per chunk.
    for chunk in usernames.chunks(500) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!("{select}({}) GROUP BY username", marks.join(", "));
        let mut q = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql));
        for name in chunk {
            q = q.bind(name);
        }
        out.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}
