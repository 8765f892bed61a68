//! The audit trail: every security-relevant act, written in the same
//! transaction as the act, as one linear hash chain.
//!
//! A service notes its entries on the write transaction
//! ([`super::WriteTx::audit`]); they are appended when it commits, as the
//! transaction's last statements. Appends take the chain's head row first,
//! so on PostgreSQL several servers queue on that one row lock (held only
//! from the append to the commit, and always taken last, so it cannot be
//! part of a deadlock); on SQLite writers are serialised anyway.
//!
//! Each row's hash is SM3 (GB/T 32905) over the previous row's hash and the
//! row's own content ([`link`]); [`Verifier`] walks the chain and names the
//! first row that was edited, deleted or inserted.

use sm3::{Digest, Sm3};
use sqlx::{AnyConnection, Row};

/// The hash the first row links to.
pub const GENESIS: [u8; 32] = [0; 32];

/// The longest text kept in one field of an entry, in characters.
const FIELD_MAX: usize = 1_000;

/// One act to be appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub at: i64,
    pub operator_id: Option<String>,
    pub action: String,
    pub target: String,
    pub detail: String,
}

impl Entry {
    pub fn new(
        operator_id: Option<&str>,
        action: &str,
        target: &str,
        detail: &str,
        at: i64,
    ) -> Entry {
        // Targets and details can carry what a client sent (a username
        // at a failed login): the trail keeps a bounded prefix.
        let bounded = |s: &str| s.chars().take(FIELD_MAX).collect();
        Entry {
            at,
            operator_id: operator_id.map(str::to_string),
            action: bounded(action),
            target: bounded(target),
            detail: bounded(detail),
        }
    }
}

/// Notes an act on the write transaction (appended when it commits).
pub fn record(
    tx: &mut super::WriteTx,
    operator_id: Option<&str>,
    action: &str,
    target: &str,
    detail: &str,
    now_ms: i64,
) {
    tx.audit(Entry::new(operator_id, action, target, detail, now_ms));
}

/// A stored row as the chain sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainRow {
    pub seq: i64,
    pub id: String,
    pub entry: Entry,
    /// Hex, as stored.
    pub hash: String,
}

/// SM3 over the previous hash and the row's content. Every field is
/// length-prefixed (and the operator marked present or absent), so no two
/// different rows hash the same bytes.
pub fn link(prev: &[u8; 32], id: &str, e: &Entry) -> [u8; 32] {
    fn text(h: &mut Sm3, s: &str) {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s.as_bytes());
    }
    let mut h = Sm3::new();
    h.update(prev);
    text(&mut h, id);
    h.update(e.at.to_be_bytes());
    match &e.operator_id {
        Some(op) => {
            h.update([1]);
            text(&mut h, op);
        }
        None => h.update([0]),
    }
    text(&mut h, &e.action);
    text(&mut h, &e.target);
    text(&mut h, &e.detail);
    h.finalize().into()
}

fn parse_hash(hex_text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_text, &mut out).ok()?;
    Some(out)
}

/// The chain's last link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

pub async fn head(conn: &mut AnyConnection) -> sqlx::Result<Head> {
    let (seq, hash): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(conn)
            .await?;
    Ok(Head { seq, hash })
}

/// Appends entries after the head, in order; called by the write
/// transaction's commit.
pub async fn append(conn: &mut AnyConnection, entries: &[Entry]) -> sqlx::Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    // Takes the head (a row lock until commit on PostgreSQL) and reserves
    // the sequence numbers in one statement.
    let (last, hash): (i64, String) =
        sqlx::query_as("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash")
            .bind(entries.len() as i64)
            .fetch_one(&mut *conn)
            .await?;
    let mut prev = parse_hash(&hash).ok_or_else(|| {
        sqlx::Error::Protocol(format!("audit head hash {hash:?} is not an SM3 hash"))
    })?;
    let mut seq = last - entries.len() as i64;
    for e in entries {
        seq += 1;
        let id = super::new_id();
        prev = link(&prev, &id, e);
        sqlx::query(
            "INSERT INTO audit_log (id, at, operator_id, action, target, detail, seq, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(e.at)
        .bind(e.operator_id.as_deref())
        .bind(&e.action)
        .bind(&e.target)
        .bind(&e.detail)
        .bind(seq)
        .bind(hex::encode(prev))
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(hex::encode(prev))
        .execute(conn)
        .await?;
    Ok(())
}

/// Chains the rows written before the chain existed (oldest first), once:
/// the migration leaves the head's hash empty until this has run.
pub async fn seal_unchained(db: &super::Db) -> sqlx::Result<u64> {
    let mut tx = db.begin_write().await?;
    let (_, hash): (i64, String) =
        sqlx::query_as("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
            .fetch_one(&mut *tx)
            .await?;
    if !hash.is_empty() {
        tx.rollback().await?;
        return Ok(0);
    }
    let rows = sqlx::query(
        "SELECT id, at, operator_id, action, target, detail FROM audit_log
         WHERE seq IS NULL ORDER BY at, id",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut prev = GENESIS;
    let mut seq = 0i64;
    for row in &rows {
        let id: String = row.try_get("id")?;
        let entry = entry_of(row)?;
        seq += 1;
        prev = link(&prev, &id, &entry);
        sqlx::query("UPDATE audit_log SET seq = $1, hash = $2 WHERE id = $3")
            .bind(seq)
            .bind(hex::encode(prev))
            .bind(&id)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(seq)
        .bind(hex::encode(prev))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(rows.len() as u64)
}

fn entry_of(row: &sqlx::any::AnyRow) -> sqlx::Result<Entry> {
    Ok(Entry {
        at: row.try_get("at")?,
        operator_id: row.try_get("operator_id")?,
        action: row.try_get("action")?,
        target: row.try_get("target")?,
        detail: row.try_get("detail")?,
    })
}

/// Where the chain is broken: the first row that does not follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// A row whose content (or hash) is not what was chained: it was
    /// edited — or rows before it were deleted and the rest renumbered.
    Edited { seq: i64, id: String },
    /// Rows `from..=to` are missing.
    Deleted { from: i64, to: i64 },
    /// A row that was never chained (no place in the chain, a place after
    /// the head, or a place taken from the rows after it).
    Inserted { seq: Option<i64>, id: String },
    /// The head names a hash that no row ends with.
    Head { seq: i64 },
    /// A checkpoint names a hash that its row does not end with.
    Checkpoint { seq: i64 },
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Break::Edited { seq, id } => write!(
                f,
                "row {seq} (id {id}) was edited: its content does not give its hash \
                 (or rows before it were deleted and the rest renumbered)"
            ),
            Break::Deleted { from, to } if from == to => write!(f, "row {from} was deleted"),
            Break::Deleted { from, to } => write!(f, "rows {from} to {to} were deleted"),
            Break::Inserted { seq: Some(seq), id } => {
                write!(
                    f,
                    "row {seq} (id {id}) was inserted: it is not in the chain"
                )
            }
            Break::Inserted { seq: None, id } => {
                write!(f, "row id {id} was inserted: it has no place in the chain")
            }
            Break::Head { seq } => write!(
                f,
                "the chain's head (row {seq}) does not match its last row: the head was edited"
            ),
            Break::Checkpoint { seq } => write!(
                f,
                "the checkpoint at row {seq} does not match the chain: the checkpoint, or the \
                 row it names or the one after it, was edited"
            ),
        }
    }
}

/// Walks the chain in order, one row at a time, without I/O. A row that
/// does not follow is held until the next one shows whether the chain goes
/// on from its predecessor (the row was inserted) or not (it was edited).
pub struct Verifier {
    head: Head,
    prev: [u8; 32],
    /// The last row that followed, and the hash before it: a row made to
    /// follow its predecessor shows itself when the next row follows that
    /// predecessor instead.
    last: Option<(i64, String, [u8; 32])>,
    next_seq: i64,
    suspect: Option<ChainRow>,
    rows: u64,
    /// Checkpoints still ahead, by place: each must end where the chain
    /// does at its row.
    checkpoints: std::collections::BTreeMap<i64, String>,
}

impl Verifier {
    pub fn new(head: Head) -> Verifier {
        Verifier {
            head,
            prev: GENESIS,
            last: None,
            next_seq: 1,
            suspect: None,
            rows: 0,
            checkpoints: Default::default(),
        }
    }

    /// A walk that starts after `from` (the rows up to it archived) and
    /// checks the `checkpoints` after it as it passes them.
    pub fn after(head: Head, from: &Checkpoint, checkpoints: &[Checkpoint]) -> Verifier {
        let mut verifier = Verifier::new(head);
        verifier.prev = parse_hash(&from.hash).unwrap_or(GENESIS);
        verifier.next_seq = from.seq + 1;
        verifier.checkpoints = checkpoints
            .iter()
            .filter(|c| c.seq > from.seq)
            .map(|c| (c.seq, c.hash.clone()))
            .collect();
        verifier
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Feeds the next row (by `seq`); the first break ends the walk.
    pub fn feed(&mut self, row: ChainRow) -> Result<(), Break> {
        self.rows += 1;
        let follows = |prev: &[u8; 32], row: &ChainRow| {
            parse_hash(&row.hash) == Some(link(prev, &row.id, &row.entry))
        };
        if let Some(suspect) = self.suspect.take() {
            return Err(if follows(&self.prev, &row) {
                Break::Inserted {
                    seq: Some(suspect.seq),
                    id: suspect.id,
                }
            } else {
                Break::Edited {
                    seq: suspect.seq,
                    id: suspect.id,
                }
            });
        }
        if row.seq > self.head.seq {
            return Err(Break::Inserted {
                seq: Some(row.seq),
                id: row.id,
            });
        }
        if row.seq > self.next_seq {
            return Err(Break::Deleted {
                from: self.next_seq,
                to: row.seq - 1,
            });
        }
        if follows(&self.prev, &row) {
            if let Some(hash) = self.checkpoints.remove(&row.seq)
                && parse_hash(&hash) != parse_hash(&row.hash)
            {
                return Err(Break::Checkpoint { seq: row.seq });
            }
            let before =
                std::mem::replace(&mut self.prev, parse_hash(&row.hash).unwrap_or(GENESIS));
            self.next_seq = row.seq + 1;
            self.last = Some((row.seq, row.id, before));
            return Ok(());
        }
        if let Some((seq, id, before)) = self.last.take()
            && follows(&before, &row)
        {
            return Err(Break::Inserted { seq: Some(seq), id });
        }
        // The first row kept after archived ones must follow their checkpoint.
        if self.rows == 1 && self.next_seq > 1 {
            return Err(Break::Checkpoint {
                seq: self.next_seq - 1,
            });
        }
        self.suspect = Some(row);
        Ok(())
    }

    /// After the last row: the head must be where the rows end.
    pub fn finish(self) -> Result<u64, Break> {
        if let Some(suspect) = self.suspect {
            return Err(Break::Edited {
                seq: suspect.seq,
                id: suspect.id,
            });
        }
        if self.next_seq <= self.head.seq {
            return Err(Break::Deleted {
                from: self.next_seq,
                to: self.head.seq,
            });
        }
        if Some(self.prev) != parse_hash(&self.head.hash) {
            return Err(Break::Head { seq: self.head.seq });
        }
        // A checkpoint past the head names rows that never were.
        if let Some((&seq, _)) = self.checkpoints.iter().next() {
            return Err(Break::Checkpoint { seq });
        }
        Ok(self.rows)
    }
}

/// The place and hash of a row before which the chain may be archived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
}

impl Checkpoint {
    /// Before the first row.
    const GENESIS: Checkpoint = Checkpoint {
        seq: 0,
        hash: String::new(),
    };
}

async fn checkpoints(conn: &mut AnyConnection) -> sqlx::Result<Vec<Checkpoint>> {
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit_checkpoints ORDER BY seq")
            .fetch_all(conn)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(seq, hash)| Checkpoint { seq, hash })
        .collect())
}

/// Why a checkpoint was not made.
#[derive(Debug)]
pub enum NoCheckpoint {
    /// No row is older than the month.
    NothingBefore,
    /// A row of the month has a place before the month's last older row
    /// (servers' clocks disagreed at the month's start): archiving the
    /// month before would cut the chain inside it.
    Interleaved { row_of_month: i64, last_before: i64 },
    /// The chain is broken: nothing may be archived until it is explained.
    Broken(Break),
}

impl std::fmt::Display for NoCheckpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoCheckpoint::NothingBefore => write!(f, "no audit row is older than that month"),
            NoCheckpoint::Interleaved {
                row_of_month,
                last_before,
            } => write!(
                f,
                "row {row_of_month} belongs to the month but comes before row {last_before}, \
                 which is older (the servers' clocks disagreed): checkpoint an earlier month"
            ),
            NoCheckpoint::Broken(b) => write!(f, "the audit chain is broken: {b}"),
        }
    }
}

/// Checks the whole chain and, when it is intact, keeps a checkpoint at
/// the last row older than `before_at` (a month's first instant), so the
/// rows up to it may be archived. Making the same checkpoint again changes
/// nothing. Returns the checkpoint and the rows it covers.
pub async fn checkpoint(
    db: &super::Db,
    before_at: i64,
    now_ms: i64,
) -> anyhow::Result<Result<Checkpoint, NoCheckpoint>> {
    let verdict = verify(db).await?;
    if let Err(b) = verdict.result {
        return Ok(Err(NoCheckpoint::Broken(b)));
    }
    let mut tx = db.begin_write().await?;
    let last_before: Option<i64> =
        sqlx::query_scalar("SELECT MAX(seq) FROM audit_log WHERE at < $1")
            .bind(before_at)
            .fetch_one(&mut *tx)
            .await?;
    let Some(last_before) = last_before else {
        return Ok(Err(NoCheckpoint::NothingBefore));
    };
    let first_of_month: Option<i64> =
        sqlx::query_scalar("SELECT MIN(seq) FROM audit_log WHERE at >= $1")
            .bind(before_at)
            .fetch_one(&mut *tx)
            .await?;
    if let Some(row_of_month) = first_of_month.filter(|&m| m < last_before) {
        return Ok(Err(NoCheckpoint::Interleaved {
            row_of_month,
            last_before,
        }));
    }
    // Rows are never edited by the product, and the chain up to the head
    // was intact a moment ago: the row's hash is the chain's there.
    let hash: String = sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1")
        .bind(last_before)
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO audit_checkpoints (seq, hash, before_at, made_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (seq) DO NOTHING",
    )
    .bind(last_before)
    .bind(&hash)
    .bind(before_at)
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    tx.audit(Entry::new(
        None,
        "audit_checkpoint",
        &last_before.to_string(),
        &hash,
        now_ms,
    ));
    tx.commit().await?;
    Ok(Ok(Checkpoint {
        seq: last_before,
        hash,
    }))
}

/// The outcome of checking the stored chain.
#[derive(Debug)]
pub struct Verdict {
    pub rows: u64,
    pub head: Head,
    pub result: Result<(), Break>,
}

/// Reads the whole chain in pages (bounded memory at any size) and checks
/// it; rows without a place (or a place before the first) come first, as
/// insertions. The head and every page are read in one snapshot, so rows
/// appended meanwhile by a running server are not taken for insertions.
pub async fn verify(db: &super::Db) -> sqlx::Result<Verdict> {
    let mut tx = match db.backend() {
        super::Backend::Postgres => {
            db.pool()
                .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .await?
        }
        // A read transaction in WAL mode sees one snapshot from its first read.
        super::Backend::Sqlite => db.pool().begin().await?,
    };
    let verdict = verify_in(&mut tx).await;
    tx.rollback().await?;
    verdict
}

async fn verify_in(conn: &mut AnyConnection) -> sqlx::Result<Verdict> {
    const PAGE: i64 = 5_000;
    let head = head(conn).await?;
    let stray: Option<(String, Option<i64>)> = sqlx::query_as(
        "SELECT id, seq FROM audit_log WHERE seq IS NULL OR seq < 1 ORDER BY at, id LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((id, seq)) = stray {
        return Ok(Verdict {
            rows: 0,
            head,
            result: Err(Break::Inserted { seq, id }),
        });
    }
    // Rows archived away leave a checkpoint just before the first row kept.
    let first: Option<i64> = sqlx::query_scalar("SELECT MIN(seq) FROM audit_log")
        .fetch_one(&mut *conn)
        .await?;
    let checkpoints = checkpoints(conn).await?;
    let kept_from = first.unwrap_or(head.seq + 1);
    let mut verifier = match checkpoints.iter().find(|c| c.seq == kept_from - 1) {
        _ if kept_from <= 1 => Verifier::after(head.clone(), &Checkpoint::GENESIS, &checkpoints),
        Some(start) => Verifier::after(head.clone(), start, &checkpoints),
        None => {
            return Ok(Verdict {
                rows: 0,
                head,
                result: Err(Break::Deleted {
                    from: 1,
                    to: kept_from - 1,
                }),
            });
        }
    };
    let mut after = kept_from - 1;
    loop {
        let page = sqlx::query(
            "SELECT seq, id, at, operator_id, action, target, detail, hash FROM audit_log
             WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(PAGE)
        .fetch_all(&mut *conn)
        .await?;
        let Some(last) = page.last() else { break };
        after = last.try_get("seq")?;
        let full = page.len() as i64 == PAGE;
        for row in &page {
            let row = ChainRow {
                seq: row.try_get("seq")?,
                id: row.try_get("id")?,
                entry: entry_of(row)?,
                // A hash blanked out is an edit like any other.
                hash: row
                    .try_get::<Option<String>, _>("hash")?
                    .unwrap_or_default(),
            };
            if let Err(b) = verifier.feed(row) {
                return Ok(Verdict {
                    rows: verifier.rows(),
                    head,
                    result: Err(b),
                });
            }
        }
        if !full {
            break;
        }
    }
    let rows = verifier.rows();
    Ok(Verdict {
        rows,
        head,
        result: verifier.finish().map(|_| ()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: i64) -> Entry {
        Entry::new(Some("op"), "act", &format!("t{n}"), "", 1_000 + n)
    }

    /// A well-formed chain of `n` rows and its head.
    fn chain(n: i64) -> (Vec<ChainRow>, Head) {
        let mut prev = GENESIS;
        let rows: Vec<ChainRow> = (1..=n)
            .map(|seq| {
                let id = format!("id{seq}");
                let e = entry(seq);
                prev = link(&prev, &id, &e);
                ChainRow {
                    seq,
                    id,
                    entry: e,
                    hash: hex::encode(prev),
                }
            })
            .collect();
        let head = Head {
            seq: n,
            hash: hex::encode(prev),
        };
        (rows, head)
    }

    fn check(rows: Vec<ChainRow>, head: Head) -> Result<u64, Break> {
        let mut v = Verifier::new(head);
        for r in rows {
            v.feed(r)?;
        }
        v.finish()
    }

    /// Rows archived up to a checkpoint: the walk starts after it and
    /// checks every later checkpoint as it passes.
    #[test]
    fn a_walk_from_a_checkpoint_checks_the_checkpoints_it_passes() {
        let (rows, head) = chain(10);
        let at = |seq: usize| Checkpoint {
            seq: seq as i64,
            hash: rows[seq - 1].hash.clone(),
        };
        let walk = |from: &Checkpoint, checkpoints: &[Checkpoint]| {
            let mut v = Verifier::after(head.clone(), from, checkpoints);
            for r in rows.iter().filter(|r| r.seq > from.seq) {
                v.feed(r.clone())?;
            }
            v.finish()
        };
        assert_eq!(walk(&at(4), &[at(4), at(7)]), Ok(6));
        assert_eq!(walk(&Checkpoint::GENESIS, &[at(4), at(7)]), Ok(10));

        let forged = Checkpoint {
            seq: 7,
            hash: rows[2].hash.clone(),
        };
        assert_eq!(
            walk(&at(4), &[at(4), forged.clone()]),
            Err(Break::Checkpoint { seq: 7 })
        );
        assert_eq!(
            walk(&Checkpoint::GENESIS, &[forged]),
            Err(Break::Checkpoint { seq: 7 })
        );
        let beyond = Checkpoint {
            seq: 12,
            hash: head.hash.clone(),
        };
        assert_eq!(walk(&at(4), &[beyond]), Err(Break::Checkpoint { seq: 12 }));
        // A wrong starting hash: the first row kept does not follow it.
        let wrong_start = Checkpoint {
            seq: 4,
            hash: rows[0].hash.clone(),
        };
        assert_eq!(walk(&wrong_start, &[]), Err(Break::Checkpoint { seq: 4 }));
    }

    /// A row made to look chained after `prev` (what an attacker who knows
    /// the scheme would write).
    fn forged(seq: i64, prev_hash: &str) -> ChainRow {
        let e = Entry::new(None, "forged", "x", "", 5);
        let prev = parse_hash(prev_hash).unwrap_or(GENESIS);
        ChainRow {
            seq,
            id: "forged".into(),
            hash: hex::encode(link(&prev, "forged", &e)),
            entry: e,
        }
    }

    #[test]
    fn an_intact_chain_verifies() {
        let (rows, head) = chain(5);
        assert_eq!(check(rows, head), Ok(5));
        let (rows, head) = chain(0);
        assert_eq!(check(rows, head), Ok(0));
    }

    #[test]
    fn every_field_is_covered_by_the_hash() {
        let base = Entry::new(Some("op"), "a", "t", "d", 1);
        let h = link(&GENESIS, "id", &base);
        let variants = [
            Entry {
                at: 2,
                ..base.clone()
            },
            Entry {
                operator_id: None,
                ..base.clone()
            },
            Entry {
                operator_id: Some("op2".into()),
                ..base.clone()
            },
            Entry {
                action: "b".into(),
                ..base.clone()
            },
            Entry {
                target: "u".into(),
                ..base.clone()
            },
            Entry {
                detail: "e".into(),
                ..base.clone()
            },
            // Moving text between fields changes the hash too.
            Entry {
                action: "at".into(),
                target: "".into(),
                ..base.clone()
            },
        ];
        for v in variants {
            assert_ne!(link(&GENESIS, "id", &v), h, "{v:?}");
        }
        assert_ne!(link(&GENESIS, "id2", &base), h);
        assert_ne!(link(&[1; 32], "id", &base), h);
    }

    #[test]
    fn breaks_are_named_at_the_first_bad_row() {
        type Tamper = fn(&mut Vec<ChainRow>, &mut Head);
        let cases: &[(&str, Tamper, Break)] = &[
            (
                "edited detail",
                |rows, _| rows[2].entry.detail = "changed".into(),
                Break::Edited {
                    seq: 3,
                    id: "id3".into(),
                },
            ),
            (
                "edited last row",
                |rows, _| rows[4].entry.at += 1,
                Break::Edited {
                    seq: 5,
                    id: "id5".into(),
                },
            ),
            (
                "edited hash",
                |rows, _| rows[1].hash = hex::encode([7u8; 32]),
                Break::Edited {
                    seq: 2,
                    id: "id2".into(),
                },
            ),
            (
                "deleted row",
                |rows, _| {
                    rows.remove(1);
                },
                Break::Deleted { from: 2, to: 2 },
            ),
            (
                "deleted rows",
                |rows, _| {
                    rows.drain(1..3);
                },
                Break::Deleted { from: 2, to: 3 },
            ),
            (
                "deleted tail",
                |rows, _| {
                    rows.truncate(3);
                },
                Break::Deleted { from: 4, to: 5 },
            ),
            (
                "appended after the head",
                |rows, _| {
                    let f = forged(6, &rows[4].hash);
                    rows.push(f);
                },
                Break::Inserted {
                    seq: Some(6),
                    id: "forged".into(),
                },
            ),
            (
                "inserted in the middle, the rest renumbered",
                |rows, head| {
                    let f = forged(3, &rows[1].hash);
                    rows.insert(2, f);
                    for (i, r) in rows.iter_mut().enumerate() {
                        r.seq = i as i64 + 1;
                    }
                    head.seq += 1;
                },
                Break::Inserted {
                    seq: Some(3),
                    id: "forged".into(),
                },
            ),
            (
                "a row with a made-up hash inserted in the middle",
                |rows, head| {
                    let mut f = forged(3, &rows[1].hash);
                    f.hash = hex::encode([3u8; 32]);
                    rows.insert(2, f);
                    for (i, r) in rows.iter_mut().enumerate() {
                        r.seq = i as i64 + 1;
                    }
                    head.seq += 1;
                },
                Break::Inserted {
                    seq: Some(3),
                    id: "forged".into(),
                },
            ),
            (
                "head edited",
                |_, head| head.hash = hex::encode([9u8; 32]),
                Break::Head { seq: 5 },
            ),
            (
                "tail truncated and the head moved back",
                |rows, head| {
                    rows.truncate(4);
                    head.seq = 4;
                },
                Break::Head { seq: 4 },
            ),
        ];
        for (name, tamper, expected) in cases {
            let (mut rows, mut head) = chain(5);
            tamper(&mut rows, &mut head);
            assert_eq!(check(rows, head), Err(expected.clone()), "{name}");
        }
    }
}
