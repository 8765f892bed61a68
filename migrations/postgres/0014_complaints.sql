-- Complaints (投诉, 条例 art. 26): answered in writing within 30 days of
-- receipt. Numbers TS-YYYYMMDD-NNNN are counted per day in the database.
CREATE TABLE complaints (
    id                TEXT PRIMARY KEY,
    complaint_no      TEXT NOT NULL UNIQUE,
    channel           TEXT NOT NULL CHECK (channel IN ('in_person', 'letter', 'phone')),
    complainant       TEXT NOT NULL,
    contact           TEXT NOT NULL,
    subject_id        TEXT REFERENCES subjects (id),
    about             TEXT NOT NULL,
    received_on       TEXT NOT NULL,
    due_on            TEXT NOT NULL,
    org_unit_id       TEXT NOT NULL REFERENCES org_units (id),
    filed_by          TEXT NOT NULL REFERENCES operators (id),
    filed_at          BIGINT NOT NULL,
    assigned_to       TEXT REFERENCES operators (id),
    state             TEXT NOT NULL CHECK (state IN ('open', 'answered')),
    answer            TEXT,
    answered_by       TEXT REFERENCES operators (id),
    answered_at       BIGINT,
    answer_letter_no  TEXT UNIQUE
);
CREATE INDEX complaints_state ON complaints (state, due_on);
CREATE INDEX complaints_received ON complaints (received_on);

CREATE TABLE complaint_counters (
    day   TEXT PRIMARY KEY,
    last  BIGINT NOT NULL
);
