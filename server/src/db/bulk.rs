//! Many rows in few statements: multi-row INSERTs, and lookups of many keys
//! with one `IN (…)` each, for imports and the seed generator.

use sqlx::AnyConnection;
use sqlx::any::AnyRow;

/// SQLite looks `$n` parameters up by name, linearly: statements are kept
/// near this many parameters, or they get quadratically slow.
pub const MAX_PARAMS: usize = 900;

/// A column value. NULLs carry their column's type: PostgreSQL refuses a
/// text NULL for a BIGINT column.
#[derive(Clone, Debug, PartialEq)]
pub enum V {
    T(String),
    I(i64),
    NullText,
    NullInt,
}

impl From<&str> for V {
    fn from(s: &str) -> V {
        V::T(s.to_string())
    }
}

impl From<String> for V {
    fn from(s: String) -> V {
        V::T(s)
    }
}

impl From<i64> for V {
    fn from(i: i64) -> V {
        V::I(i)
    }
}

impl From<Option<String>> for V {
    fn from(o: Option<String>) -> V {
        o.map_or(V::NullText, V::T)
    }
}

impl From<Option<&str>> for V {
    fn from(o: Option<&str>) -> V {
        o.map_or(V::NullText, Into::into)
    }
}

impl From<Option<i64>> for V {
    fn from(o: Option<i64>) -> V {
        o.map_or(V::NullInt, V::I)
    }
}

/// `$a, $a+1, …` for `n` values starting at `$first`.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    values: impl IntoIterator<Item = &'q V>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for v in values {
        q = match v {
            V::T(s) => q.bind(s.as_str()),
            V::I(i) => q.bind(*i),
            V::NullText => q.bind(None::<String>),
            V::NullInt => q.bind(None::<i64>),
        };
    }
    q
}

/// A table and the columns a bulk insert fills, in the order of the values.
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [&'static str],
}

pub const SUBJECTS: Table = Table {
    name: "subjects",
    columns: &[
        "id",
        "kind",
        "identifier",
        "identifier_index",
        "name",
        "township_id",
        "address",
        "phone",
        "created_at",
        "updated_at",
    ],
};
/// Subjects an import registers: removed again if it is rolled back.
pub const IMPORTED_SUBJECTS: Table = Table {
    name: "subjects",
    columns: &[
        "id",
        "kind",
        "identifier",
        "identifier_index",
        "name",
        "township_id",
        "address",
        "phone",
        "created_at",
        "updated_at",
        "created_by_import",
    ],
};
pub const PERSONS: Table = Table {
    name: "persons",
    columns: &["subject_id", "birth_date", "sex"],
};
pub const ORGANISATIONS: Table = Table {
    name: "organisations",
    columns: &["subject_id", "org_type", "legal_representative"],
};
pub const RECORDS: Table = Table {
    name: "records",
    columns: &[
        "id",
        "subject_id",
        "category",
        "source_unit_id",
        "source_key",
        "current_version",
        "created_at",
        "updated_at",
    ],
};
/// Records an import creates: current_version 0 (not there for readers)
/// and the import's version pending until the import is applied.
pub const IMPORTED_RECORDS: Table = Table {
    name: "records",
    columns: &[
        "id",
        "subject_id",
        "category",
        "source_unit_id",
        "source_key",
        "current_version",
        "created_at",
        "updated_at",
        "next_version",
        "next_import",
    ],
};
pub const RECORD_VERSIONS: Table = Table {
    name: "record_versions",
    columns: &[
        "record_id",
        "version",
        "start_date",
        "end_date",
        "amount_cents",
        "status",
        "negative",
        "details",
        "content_hash",
        "import_id",
        "created_at",
        "created_by",
    ],
};

pub const IMPORT_ERRORS: Table = Table {
    name: "import_errors",
    columns: &["import_id", "row_number", "column_name", "reason"],
};

pub const IMPORT_CONFLICTS: Table = Table {
    name: "import_conflicts",
    columns: &[
        "import_id",
        "row_number",
        "record_id",
        "ticket_no",
        "file_value",
        "decided_value",
        "start_date",
        "end_date",
        "amount_cents",
        "status",
        "negative",
        "details",
        "content_hash",
    ],
};

/// Inserts `rows` (each with one value per column) into `table`.
pub async fn insert(conn: &mut AnyConnection, table: &Table, rows: &[Vec<V>]) -> sqlx::Result<()> {
    let columns = table.columns;
    debug_assert!(
        rows.iter().all(|r| r.len() == columns.len()),
        "{}",
        table.name
    );
    let per = (MAX_PARAMS / columns.len()).max(1);
    for chunk in rows.chunks(per) {
        let values = (0..chunk.len())
            .map(|r| format!("({})", placeholders(1 + r * columns.len(), columns.len())))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO {} ({}) VALUES {values}",
            table.name,
            columns.join(", ")
        );
        bind_all(
            sqlx::query(sqlx::AssertSqlSafe(sql)),
            chunk.iter().flatten(),
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Runs `select … WHERE <column> IN (…)` for all `keys`, in chunks, after
/// the fixed leading parameters `fixed` (referred to as `$1…` in `select`).
/// `select` must end where the IN list goes, e.g.
/// `"SELECT … FROM t WHERE a = $1 AND key IN "`.
pub async fn fetch_in(
    conn: &mut AnyConnection,
    select: &str,
    fixed: &[V],
    keys: &[String],
) -> sqlx::Result<Vec<AnyRow>> {
    let mut out = Vec::new();
    let per = MAX_PARAMS - fixed.len();
    for chunk in keys.chunks(per) {
        let sql = format!("{select}({})", placeholders(fixed.len() + 1, chunk.len()));
        let values: Vec<V> = chunk.iter().map(|k| V::T(k.clone())).collect();
        let q = bind_all(
            sqlx::query(sqlx::AssertSqlSafe(sql)),
            fixed.iter().chain(values.iter()),
        );
        out.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_runs() {
        assert_eq!(placeholders(1, 3), "$1, $2, $3");
        assert_eq!(placeholders(4, 2), "$4, $5");
        assert_eq!(V::from(None::<i64>), V::NullInt);
        assert_eq!(V::from(None::<&str>), V::NullText);
        assert_eq!(V::from(Some("x")), V::T("x".into()));
    }
}
