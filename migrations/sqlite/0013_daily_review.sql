-- The daily review of query operations (查询操作日核查). Self-queries now
-- remember the verification they stood on, so agents' queries are seen.
ALTER TABLE query_log ADD COLUMN verification_id TEXT REFERENCES verifications (id);

-- A finished day, once its attempts were checked against the abnormal-query
-- indicators; signed off by a supervisor with the audit chain's head.
CREATE TABLE review_days (
    day          TEXT PRIMARY KEY,
    prepared_at  BIGINT NOT NULL,
    signed_at    BIGINT,
    signed_by    TEXT REFERENCES operators (id),
    chain_seq    BIGINT,
    chain_hash   TEXT
);

-- One abnormal finding of a day: the indicator, whom it is about (an
-- operator, a subject, an operator at a terminal), the attempts that show
-- it, and the supervisor's conclusion.
CREATE TABLE alerts (
    id            TEXT PRIMARY KEY,
    day           TEXT NOT NULL REFERENCES review_days (day),
    indicator     TEXT NOT NULL,
    about         TEXT NOT NULL,
    -- query_log ids, comma-separated, oldest first.
    attempts      TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    conclusion    TEXT CHECK (conclusion IN ('normal', 'violation')),
    note          TEXT NOT NULL,
    concluded_by  TEXT REFERENCES operators (id),
    concluded_at  BIGINT,
    UNIQUE (day, indicator, about)
);
CREATE INDEX alerts_open ON alerts (conclusion, day);
