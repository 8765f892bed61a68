-- The append-only logs (query log, audit trail, login attempts) are split by
-- month on PostgreSQL, so that a province's years of them stay cheap to
-- search, to archive and to drop a month at a time (see README, "operating
-- it"). A month is a UTC month of `at`; rows of a month with no partition
-- yet wait in the default partition until the servers make one
-- (db::partitions). SQLite keeps each log as one table.
--
-- A partitioned table's keys must hold its partition column: ids are
-- unique with their time (ids are UUIDv7, made once), report numbers are
-- kept unique by the issued reports' key, and audit sequence numbers by the
-- chain's head row (and checked by the chain itself).
LOCK TABLE query_log, audit_log, login_attempts, issued_reports IN ACCESS EXCLUSIVE MODE;  -- only: postgres
ALTER TABLE issued_reports DROP CONSTRAINT issued_reports_query_log_id_fkey;  -- only: postgres
ALTER TABLE query_log RENAME TO query_log_old;  -- only: postgres
ALTER TABLE audit_log RENAME TO audit_log_old;  -- only: postgres
ALTER TABLE login_attempts RENAME TO login_attempts_old;  -- only: postgres
CREATE TABLE query_log (LIKE query_log_old INCLUDING DEFAULTS INCLUDING CONSTRAINTS)  -- only: postgres
    PARTITION BY RANGE (at);  -- only: postgres
CREATE TABLE audit_log (LIKE audit_log_old INCLUDING DEFAULTS INCLUDING CONSTRAINTS)  -- only: postgres
    PARTITION BY RANGE (at);  -- only: postgres
CREATE TABLE login_attempts (LIKE login_attempts_old INCLUDING DEFAULTS INCLUDING CONSTRAINTS)  -- only: postgres
    PARTITION BY RANGE (at);  -- only: postgres
-- A month for every month the logs hold (back to ten years), this one and  -- only: postgres
-- the next two, and the default partition for anything else.  -- only: postgres
DO $$  -- only: postgres
DECLARE  -- only: postgres
    t TEXT;  -- only: postgres
    first_ms BIGINT;  -- only: postgres
    m TIMESTAMP;  -- only: postgres
    last_month TIMESTAMP := date_trunc('month', now() AT TIME ZONE 'UTC') + INTERVAL '2 months';  -- only: postgres
BEGIN  -- only: postgres
    FOREACH t IN ARRAY ARRAY['query_log', 'audit_log', 'login_attempts'] LOOP  -- only: postgres
        EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', t || '_default', t);  -- only: postgres
        EXECUTE format('SELECT MIN(at) FROM %I', t || '_old') INTO first_ms;  -- only: postgres
        m := GREATEST(  -- only: postgres
            date_trunc('month', COALESCE(to_timestamp(first_ms / 1000.0), now()) AT TIME ZONE 'UTC'),  -- only: postgres
            date_trunc('month', now() AT TIME ZONE 'UTC') - INTERVAL '10 years');  -- only: postgres
        WHILE m <= last_month LOOP  -- only: postgres
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%s) TO (%s)',  -- only: postgres
                t || to_char(m, '"_y"YYYY"m"MM'), t,  -- only: postgres
                (extract(epoch FROM m AT TIME ZONE 'UTC') * 1000)::BIGINT,  -- only: postgres
                (extract(epoch FROM (m + INTERVAL '1 month') AT TIME ZONE 'UTC') * 1000)::BIGINT);  -- only: postgres
            m := m + INTERVAL '1 month';  -- only: postgres
        END LOOP;  -- only: postgres
    END LOOP;  -- only: postgres
END  -- only: postgres
$$;  -- only: postgres
INSERT INTO query_log SELECT * FROM query_log_old;  -- only: postgres
INSERT INTO audit_log SELECT * FROM audit_log_old;  -- only: postgres
INSERT INTO login_attempts SELECT * FROM login_attempts_old;  -- only: postgres
DROP TABLE query_log_old, audit_log_old, login_attempts_old;  -- only: postgres
-- Keys, references and indexes as before (each partition gets its own).  -- only: postgres
ALTER TABLE query_log ADD PRIMARY KEY (id, at);  -- only: postgres
ALTER TABLE query_log ADD FOREIGN KEY (operator_id) REFERENCES operators (id);  -- only: postgres
ALTER TABLE query_log ADD FOREIGN KEY (org_unit_id) REFERENCES org_units (id);  -- only: postgres
ALTER TABLE query_log ADD FOREIGN KEY (subject_id) REFERENCES subjects (id);  -- only: postgres
ALTER TABLE query_log ADD FOREIGN KEY (consent_id) REFERENCES consents (id);  -- only: postgres
ALTER TABLE query_log ADD FOREIGN KEY (institution_id) REFERENCES org_units (id);  -- only: postgres
ALTER TABLE query_log ADD FOREIGN KEY (verification_id) REFERENCES verifications (id);  -- only: postgres
CREATE INDEX query_log_subject ON query_log (subject_id, at);  -- only: postgres
CREATE INDEX query_log_operator ON query_log (operator_id, at);  -- only: postgres
CREATE INDEX query_log_at ON query_log (at);  -- only: postgres
CREATE INDEX query_log_institution ON query_log (institution_id, at);  -- only: postgres
CREATE INDEX query_log_report_no ON query_log (report_no);  -- only: postgres
ALTER TABLE audit_log ADD PRIMARY KEY (id, at);  -- only: postgres
CREATE INDEX audit_log_at ON audit_log (at);  -- only: postgres
CREATE INDEX audit_log_seq ON audit_log (seq);  -- only: postgres
ALTER TABLE login_attempts ADD PRIMARY KEY (id, at);  -- only: postgres
CREATE INDEX login_attempts_username_at ON login_attempts (username, at);  -- only: postgres
CREATE INDEX login_attempts_username_success_at ON login_attempts (username, success, at);  -- only: postgres
