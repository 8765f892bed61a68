-- Consent (查询授权), the purposes it may be given for, the query log and
-- report numbers. Times are UTC milliseconds.

CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
INSERT INTO settings (key, value) VALUES ('consent_max_validity_days', '90');

CREATE TABLE purposes (
    code        TEXT PRIMARY KEY,
    name_zh     TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    sort        BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    retired_at  BIGINT
);
INSERT INTO purposes (code, name_zh, name_en, sort, created_at) VALUES
    ('loan_approval', '贷款审批', 'loan approval', 10, 0),
    ('post_loan', '贷后管理', 'post-loan management', 20, 0),
    ('guarantee_review', '担保资格审查', 'guarantee qualification review', 30, 0),
    ('credit_card', '信用卡审批', 'credit card approval', 40, 0),
    ('qualification_review', '资格审查', 'qualification review (employment, licensing)', 50, 0),
    ('administrative_approval', '行政审批', 'administrative approval', 60, 0);

CREATE TABLE consents (
    id                          TEXT PRIMARY KEY,
    subject_id                  TEXT NOT NULL REFERENCES subjects (id),
    verification_id             TEXT NOT NULL REFERENCES verifications (id),
    grantee_unit_id             TEXT NOT NULL REFERENCES org_units (id),
    purpose                     TEXT NOT NULL REFERENCES purposes (code),
    -- '*' for every category, else comma-separated category codes.
    scope                       TEXT NOT NULL,
    valid_from                  BIGINT NOT NULL,
    valid_until                 BIGINT NOT NULL,
    form_serial                 TEXT NOT NULL,
    scan_sha256                 TEXT NOT NULL,
    remarks                     TEXT NOT NULL,
    operator_id                 TEXT NOT NULL REFERENCES operators (id),
    org_unit_id                 TEXT NOT NULL REFERENCES org_units (id),
    terminal                    TEXT NOT NULL,
    created_at                  BIGINT NOT NULL,
    withdrawn_at                BIGINT,
    withdrawn_by                TEXT REFERENCES operators (id),
    withdrawal_verification_id  TEXT REFERENCES verifications (id)
);
CREATE INDEX consents_subject ON consents (subject_id, created_at);

-- Every query attempt, allowed or refused, written in the same transaction
-- as the decision.
CREATE TABLE query_log (
    id              TEXT PRIMARY KEY,
    at              BIGINT NOT NULL,
    operator_id     TEXT NOT NULL REFERENCES operators (id),
    org_unit_id     TEXT NOT NULL REFERENCES org_units (id),
    terminal        TEXT NOT NULL,
    subject_id      TEXT REFERENCES subjects (id),
    basis           TEXT NOT NULL,
    consent_id      TEXT REFERENCES consents (id),
    purpose         TEXT,
    institution_id  TEXT REFERENCES org_units (id),
    outcome         TEXT NOT NULL CHECK (outcome IN ('allowed', 'refused')),
    reason          TEXT NOT NULL,
    report_no       TEXT UNIQUE,
    fee_applies     BIGINT NOT NULL CHECK (fee_applies IN (0, 1))
);
CREATE INDEX query_log_subject ON query_log (subject_id, at);
CREATE INDEX query_log_operator ON query_log (operator_id, at);

-- Report numbers CD-YYYYMMDD-NNNNNN: the last number issued per day.
CREATE TABLE report_counters (
    day   TEXT PRIMARY KEY,
    last  BIGINT NOT NULL
);
