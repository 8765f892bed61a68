-- The subject's explanations of negative records (条例 art. 16), shown with
-- the record in every later report.
CREATE TABLE record_explanations (
    id               TEXT PRIMARY KEY,
    record_id        TEXT NOT NULL REFERENCES records (id),
    text             TEXT NOT NULL,
    verification_id  TEXT NOT NULL REFERENCES verifications (id),
    operator_id      TEXT NOT NULL REFERENCES operators (id),
    created_at       BIGINT NOT NULL
);
CREATE INDEX record_explanations_record ON record_explanations (record_id);
