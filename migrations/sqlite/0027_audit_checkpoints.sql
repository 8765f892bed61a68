-- Old audit months can be archived (a PostgreSQL partition detached,
-- dumped and dropped) without losing the proof: a checkpoint keeps the
-- place and hash of the last row before a month, verified when it was
-- made. `audit verify` starts at the checkpoint just before the first row
-- still kept, and checks every checkpoint it passes against the chain.
CREATE TABLE audit_checkpoints (
    seq        BIGINT PRIMARY KEY,
    hash       TEXT NOT NULL,
    -- Every row up to `seq` is older than this (the month's first instant).
    before_at  BIGINT NOT NULL,
    made_at    BIGINT NOT NULL
);
