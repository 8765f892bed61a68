//! The deadline queue's reads: which open tickets a caller sees, nearest
//! deadline first, what changed since a sequence number, and the counts.
//! Statements carry only the conditions in force (a township's path, a
//! department, the screen's filters), so each gets the plan it needs.

use sqlx::AnyConnection;

use super::bulk::{self, V};
use super::tickets::{SELECT_TICKET, TicketRow};

/// Who sees which part of the queue, and the screen's filters ('' = any).
#[derive(Debug, Clone, Default)]
pub struct QueueScope {
    /// Tickets filed at these units (a township and its stations); empty: any.
    pub units: Vec<String>,
    /// Requests waiting on this department (its liaison).
    pub waiting_on: String,
    pub state: String,
    pub org_unit_id: String,
    pub department_id: String,
}

/// A WHERE clause under construction, numbering its values as it goes.
struct Clause {
    sql: String,
    values: Vec<V>,
}

impl Clause {
    fn new(base: &str) -> Clause {
        Clause {
            sql: base.to_string(),
            values: Vec::new(),
        }
    }

    /// Adds `condition`, whose `$?` is `value`, when `value` is not empty.
    fn and(&mut self, condition: &str, value: &str) -> &mut Clause {
        if !value.is_empty() {
            self.values.push(V::T(value.to_string()));
            let n = format!("${}", self.values.len());
            self.sql.push_str(" AND ");
            self.sql.push_str(&condition.replace("$?", &n));
        }
        self
    }

    /// Adds `column IN (values)` when there are values.
    fn and_in(&mut self, column: &str, values: &[String]) -> &mut Clause {
        if !values.is_empty() {
            let first = self.values.len() + 1;
            let marks: Vec<String> = (first..first + values.len())
                .map(|i| format!("${i}"))
                .collect();
            self.values.extend(values.iter().map(|v| V::T(v.clone())));
            self.sql
                .push_str(&format!(" AND {column} IN ({})", marks.join(", ")));
        }
        self
    }

    fn next(&self) -> usize {
        self.values.len() + 1
    }
}

const WAITING_ON: &str = "EXISTS (SELECT 1 FROM ticket_letters ql WHERE ql.ticket_id = t.id
                          AND ql.department_id = $? AND ql.replied_at IS NULL)";
const INVOLVES: &str = "EXISTS (SELECT 1 FROM ticket_records qr WHERE qr.ticket_id = t.id
                        AND qr.department_id = $?)";

impl QueueScope {
    /// The queue's condition: open, in the caller's scope, through the filters.
    fn clause(&self) -> Clause {
        let mut c = Clause::new(" WHERE t.next_due IS NOT NULL");
        c.and_in("t.org_unit_id", &self.units)
            .and(WAITING_ON, &self.waiting_on)
            .and("t.state = $?", &self.state)
            .and("t.org_unit_id = $?", &self.org_unit_id)
            .and(INVOLVES, &self.department_id);
        c
    }
}

fn rows(rows: Vec<sqlx::any::AnyRow>) -> sqlx::Result<Vec<TicketRow>> {
    use super::sealed::Open;
    rows.iter()
        .map(|r| <TicketRow as sqlx::FromRow<_>>::from_row(r)?.open())
        .collect()
}

/// The first `limit` tickets of the queue, nearest deadline first.
pub async fn page(
    conn: &mut AnyConnection,
    scope: &QueueScope,
    limit: i64,
) -> sqlx::Result<Vec<TicketRow>> {
    let c = scope.clause();
    // The page's ids from the tickets alone, read in index order
    // (tickets_queue_order) and stopping at the page's end; only then the
    // joins, for those rows. With the joins in one statement the planner
    // may start from another table and sort every open ticket (a second
    // for a county's 100 k).
    let sql = format!(
        "{SELECT_TICKET} WHERE t.id IN (SELECT t.id FROM tickets t{}
                                  ORDER BY t.next_due, t.ticket_no LIMIT {limit})
          ORDER BY t.next_due, t.ticket_no",
        c.sql
    );
    rows(
        bulk::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), c.values.iter())
            .fetch_all(conn)
            .await?,
    )
}

/// Those of `ids` that are in the queue.
pub async fn subset(
    conn: &mut AnyConnection,
    scope: &QueueScope,
    ids: &[String],
) -> sqlx::Result<Vec<TicketRow>> {
    let c = scope.clause();
    let select = format!("{SELECT_TICKET}{} AND t.id IN ", c.sql);
    rows(bulk::fetch_in(conn, &select, &c.values, ids).await?)
}

/// Tickets the caller can see that changed after `seq`, oldest change
/// first, at most `limit`.
pub async fn changed_since(
    conn: &mut AnyConnection,
    scope: &QueueScope,
    seq: i64,
    limit: i64,
) -> sqlx::Result<Vec<String>> {
    let mut c = Clause::new(&format!(" WHERE t.change_seq > {seq}"));
    // The units are matched on an expression, not the column: SQLite
    // otherwise reads a township's every ticket by its unit index (80 ms
    // at 50 k) where the change index finds the few changed ones.
    c.and_in("t.org_unit_id || ''", &scope.units)
        .and(INVOLVES, &scope.waiting_on);
    let sql = format!(
        "SELECT t.id FROM tickets t{}
          ORDER BY t.change_seq LIMIT {limit}",
        c.sql
    );
    let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
    for v in &c.values {
        if let V::T(text) = v {
            q = q.bind(text.clone());
        }
    }
    q.fetch_all(conn).await
}

/// Counts over the whole queue: open, overdue, due today, due by `soon`,
/// due by `warn` (dates as YYYY-MM-DD; a deadline is met by its day's end).
/// A liaison's deadline is their department's reply.
pub async fn stats(
    conn: &mut AnyConnection,
    scope: &QueueScope,
    today: &str,
    soon: &str,
    warn: &str,
) -> sqlx::Result<[i64; 5]> {
    // Counts are kept as tickets and letters change: per unit (migration
    // 0022) and, for a liaison, per department (0024), a few rows each
    // whatever the number of tickets. Filters the kept counts do not know
    // (a state, a disputed record's department) read the tickets.
    let kept = scope.state.is_empty() && scope.department_id.is_empty();
    let by_unit_only = kept && scope.waiting_on.is_empty();
    let by_department_only = kept
        && !scope.waiting_on.is_empty()
        && scope.units.is_empty()
        && scope.org_unit_id.is_empty();
    let mut c = if by_unit_only {
        let mut c = Clause::new(" WHERE 1 = 1");
        c.and_in("q.org_unit_id", &scope.units)
            .and("q.org_unit_id = $?", &scope.org_unit_id);
        c
    } else if by_department_only {
        let mut c = Clause::new(" WHERE 1 = 1");
        c.and("q.department_id = $?", &scope.waiting_on);
        c
    } else {
        scope.clause()
    };
    // A department has one letter per ticket: its reply date is the deadline.
    let (due, from) = if by_unit_only {
        ("q.due", "queue_due q".to_string())
    } else if by_department_only {
        ("q.due", "letter_due q".to_string())
    } else if scope.waiting_on.is_empty() {
        ("t.next_due", "tickets t".to_string())
    } else {
        c.values.push(V::T(scope.waiting_on.clone()));
        (
            "wl.reply_due",
            format!(
                "tickets t JOIN ticket_letters wl ON wl.ticket_id = t.id
                   AND wl.department_id = ${} AND wl.replied_at IS NULL",
                c.values.len()
            ),
        )
    };
    let (t, s, w) = (c.next(), c.next() + 1, c.next() + 2);
    c.values
        .extend([V::from(today), V::from(soon), V::from(warn)]);
    // Each kept row stands for n tickets; a ticket read stands for one.
    let n = if by_unit_only || by_department_only {
        "q.n"
    } else {
        "1"
    };
    let sql = format!(
        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) AS open,
                CAST(COALESCE(SUM(CASE WHEN d < ${t} THEN n ELSE 0 END), 0) AS BIGINT) AS overdue,
                CAST(COALESCE(SUM(CASE WHEN d = ${t} THEN n ELSE 0 END), 0) AS BIGINT) AS today,
                CAST(COALESCE(SUM(CASE WHEN d > ${t} AND d <= ${s} THEN n ELSE 0 END), 0)
                     AS BIGINT) AS soon,
                CAST(COALESCE(SUM(CASE WHEN d >= ${t} AND d <= ${w} THEN n ELSE 0 END), 0)
                     AS BIGINT) AS warn
           FROM (SELECT {due} AS d, {n} AS n FROM {from}{}) queued",
        c.sql
    );
    let row = bulk::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), c.values.iter())
        .fetch_one(conn)
        .await?;
    use sqlx::Row;
    Ok([
        row.try_get("open")?,
        row.try_get("overdue")?,
        row.try_get("today")?,
        row.try_get("soon")?,
        row.try_get("warn")?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_conditions_in_force_are_written() {
        let all = QueueScope::default().clause();
        assert_eq!(all.sql, " WHERE t.next_due IS NOT NULL");
        assert!(all.values.is_empty());
        let liaison = QueueScope {
            waiting_on: "d1".into(),
            state: "request_sent".into(),
            ..Default::default()
        }
        .clause();
        assert!(liaison.sql.contains("ql.department_id = $1"));
        assert!(liaison.sql.contains("t.state = $2"));
        assert!(!liaison.sql.contains("LIKE"));
        assert_eq!(
            liaison.values,
            [V::T("d1".into()), V::T("request_sent".into())]
        );
    }
}
