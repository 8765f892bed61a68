-- The audit trail proves itself: every row carries its place in one linear
-- chain (seq) and an SM3 hash over the previous row's hash and its own
-- content, so an edited, deleted or inserted row breaks the chain at that
-- row (`credit-desk-server audit verify`). The head row is the chain's last
-- link; appends take it first (a row lock on PostgreSQL), so several
-- servers on one database still write one line.
ALTER TABLE audit_log ADD COLUMN seq BIGINT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq);

CREATE TABLE audit_head (
    id    BIGINT PRIMARY KEY CHECK (id = 1),
    seq   BIGINT NOT NULL,
    -- Empty until the rows written before this migration are chained (at
    -- the first start after it); then the hash of row `seq`.
    hash  TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
