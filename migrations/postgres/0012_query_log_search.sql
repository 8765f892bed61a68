-- Supervisors search the query log by date range, alone or with an
-- institution; subject and operator searches use the existing indexes.
CREATE INDEX query_log_at ON query_log (at);
CREATE INDEX query_log_institution ON query_log (institution_id, at);
