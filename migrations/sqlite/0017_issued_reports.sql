-- Every report as it was issued, so it is reprinted by its number exactly
-- as first printed and an inspection sees what an institution was shown:
-- the report message, zstd-compressed and sealed like other personal data
-- (it holds the subject's number), with the query-log row that issued it.
CREATE TABLE issued_reports (
    report_no     TEXT PRIMARY KEY,
    query_log_id  TEXT NOT NULL UNIQUE REFERENCES query_log (id),
    issued_at     BIGINT NOT NULL,
    body          TEXT NOT NULL
);
