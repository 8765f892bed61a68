-- Subjects (persons, organisations, farmer households), verification events
-- at the counter, department records with their versions, and imports.
-- Dates without time are ISO 'YYYY-MM-DD' TEXT; money is BIGINT cents.

CREATE TABLE subjects (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('person', 'organisation', 'household')),
    -- Identity number, unified social credit code, or 'H' + the head's number.
    identifier   TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    township_id  TEXT REFERENCES org_units (id),
    address      TEXT NOT NULL,
    phone        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX subjects_name ON subjects (name);

CREATE TABLE persons (
    subject_id  TEXT PRIMARY KEY REFERENCES subjects (id),
    birth_date  TEXT NOT NULL,
    sex         TEXT NOT NULL CHECK (sex IN ('male', 'female'))
);

CREATE TABLE organisations (
    subject_id            TEXT PRIMARY KEY REFERENCES subjects (id),
    org_type              TEXT NOT NULL,
    legal_representative  TEXT NOT NULL
);

CREATE TABLE households (
    subject_id  TEXT PRIMARY KEY REFERENCES subjects (id),
    head_id     TEXT NOT NULL REFERENCES subjects (id),
    village     TEXT NOT NULL
);

CREATE TABLE household_members (
    household_id  TEXT NOT NULL REFERENCES subjects (id),
    person_id     TEXT NOT NULL REFERENCES subjects (id),
    relation      TEXT NOT NULL,
    PRIMARY KEY (household_id, person_id)
);

CREATE TABLE verifications (
    id                TEXT PRIMARY KEY,
    subject_id        TEXT NOT NULL REFERENCES subjects (id),
    method            TEXT NOT NULL CHECK (method IN
                          ('id_card_inspected', 'id_card_reader', 'other_document', 'agent_with_poa')),
    document          TEXT NOT NULL,
    agent_identifier  TEXT,
    agent_name        TEXT,
    poa_reference     TEXT,
    operator_id       TEXT NOT NULL REFERENCES operators (id),
    org_unit_id       TEXT NOT NULL REFERENCES org_units (id),
    terminal          TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL
);
CREATE INDEX verifications_subject ON verifications (subject_id, created_at);

CREATE TABLE record_categories (
    code      TEXT PRIMARY KEY,
    name_zh   TEXT NOT NULL,
    name_en   TEXT NOT NULL,
    -- Whether records of this category are negative unless a row says otherwise.
    negative  BIGINT NOT NULL CHECK (negative IN (0, 1)),
    sort      BIGINT NOT NULL
);

CREATE TABLE imports (
    id                 TEXT PRIMARY KEY,
    department_id      TEXT NOT NULL REFERENCES org_units (id),
    file_name          TEXT NOT NULL,
    file_hash          TEXT NOT NULL,
    operator_id        TEXT REFERENCES operators (id),
    started_at         BIGINT NOT NULL,
    finished_at        BIGINT NOT NULL,
    status             TEXT NOT NULL,
    rows_total         BIGINT NOT NULL,
    rows_accepted      BIGINT NOT NULL,
    rows_rejected      BIGINT NOT NULL,
    records_created    BIGINT NOT NULL,
    records_updated    BIGINT NOT NULL,
    records_unchanged  BIGINT NOT NULL,
    subjects_created   BIGINT NOT NULL
);
CREATE INDEX imports_department ON imports (department_id, finished_at);

CREATE TABLE import_errors (
    import_id    TEXT NOT NULL REFERENCES imports (id),
    row_number   BIGINT NOT NULL,
    column_name  TEXT NOT NULL,
    reason       TEXT NOT NULL
);
CREATE INDEX import_errors_import ON import_errors (import_id);

CREATE TABLE records (
    id               TEXT PRIMARY KEY,
    subject_id       TEXT NOT NULL REFERENCES subjects (id),
    category         TEXT NOT NULL REFERENCES record_categories (code),
    source_unit_id   TEXT NOT NULL REFERENCES org_units (id),
    -- The department's own key for the record (case number, account …).
    source_key       TEXT NOT NULL,
    current_version  BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    UNIQUE (source_unit_id, source_key)
);
CREATE INDEX records_subject ON records (subject_id);

-- Every content a record ever had; an update adds a version, never rewrites one.
CREATE TABLE record_versions (
    record_id     TEXT NOT NULL REFERENCES records (id),
    version       BIGINT NOT NULL,
    start_date    TEXT,
    end_date      TEXT,
    amount_cents  BIGINT,
    status        TEXT NOT NULL,
    negative      BIGINT NOT NULL CHECK (negative IN (0, 1)),
    details       TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    import_id     TEXT REFERENCES imports (id),
    created_at    BIGINT NOT NULL,
    created_by    TEXT,
    PRIMARY KEY (record_id, version)
);

INSERT INTO record_categories (code, name_zh, name_en, negative, sort) VALUES
    ('court_judgment', '法院判决与执行', 'court judgments and enforcement', 1, 10),
    ('dishonest_debtor', '失信被执行人', 'dishonest judgment debtors', 1, 20),
    ('prosecution', '检察机关办案信息', 'prosecution matters', 1, 30),
    ('household_registration', '户籍信息', 'household registration', 0, 40),
    ('traffic_violation', '未处理交通违法', 'unpaid traffic violations', 1, 50),
    ('family_planning', '计划生育', 'family planning', 0, 60),
    ('land_forestry', '林地与耕地面积', 'forestry and farm land', 0, 70),
    ('employment', '就业信息', 'employment', 0, 80),
    ('social_insurance', '社会保险', 'social insurance', 0, 90),
    ('electricity_arrears', '欠缴电费', 'electricity arrears', 1, 100),
    ('water_arrears', '欠缴水费', 'water arrears', 1, 110),
    ('tax_arrears', '欠税信息', 'tax arrears', 1, 120),
    ('admin_licence', '行政许可', 'administrative licences', 0, 130),
    ('admin_award', '行政奖励', 'administrative awards', 0, 140),
    ('admin_penalty', '行政处罚', 'administrative penalties', 1, 150),
    ('environment', '环保信息', 'environmental information', 1, 160),
    ('honour', '荣誉信息', 'honours', 0, 170),
    ('village_rating', '村评议小组评价', 'village rating group evaluation', 0, 180),
    ('farmer_credit_rating', '农户信用评级', 'farmer credit rating', 0, 190);
