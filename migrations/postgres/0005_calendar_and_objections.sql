-- The working-day calendar (a year at a time) and objection tickets (异议处理)
-- with their letters, notifications, events and the statements subjects add.

CREATE TABLE calendar_years (
    year        BIGINT PRIMARY KEY,
    -- 'official' for the shipped schedule, else the imported file's name.
    source      TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    updated_by  TEXT REFERENCES operators (id)
);

-- Exceptions to the Monday–Friday rule.
CREATE TABLE calendar_days (
    day   TEXT PRIMARY KEY,
    year  BIGINT NOT NULL REFERENCES calendar_years (year),
    kind  TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name  TEXT NOT NULL
);
CREATE INDEX calendar_days_year ON calendar_days (year);

-- Named counters: ticket and letter numbers per day, and the queue's change
-- sequence (its row lock orders the writers, so a reader that saw value N
-- has seen every change numbered up to N).
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    last  BIGINT NOT NULL
);

CREATE TABLE tickets (
    id                TEXT PRIMARY KEY,
    ticket_no         TEXT NOT NULL UNIQUE,
    subject_id        TEXT NOT NULL REFERENCES subjects (id),
    -- Where it was filed (a township's tickets are its own).
    org_unit_id       TEXT NOT NULL REFERENCES org_units (id),
    filed_by          TEXT NOT NULL REFERENCES operators (id),
    verification_id   TEXT NOT NULL REFERENCES verifications (id),
    applicant         TEXT NOT NULL CHECK (applicant IN ('subject', 'agent')),
    agent_name        TEXT NOT NULL,
    agent_identifier  TEXT NOT NULL,
    poa_reference     TEXT NOT NULL,
    reason_category   TEXT NOT NULL,
    reason_text       TEXT NOT NULL,
    -- One evidence item per line.
    evidence          TEXT NOT NULL,
    contact_phone     TEXT NOT NULL,
    contact_address   TEXT NOT NULL,
    notify_by         TEXT NOT NULL CHECK (notify_by IN ('written', 'phone')),
    state             TEXT NOT NULL,
    -- Day 0 of the 20-day limit, and that limit (calendar days).
    received_on       TEXT NOT NULL,
    overall_due       TEXT NOT NULL,
    -- Two working days after the last department reply reached the center.
    notify_due        TEXT,
    paused_since      BIGINT,
    pause_reason      TEXT NOT NULL,
    paused_ms         BIGINT NOT NULL,
    version           BIGINT NOT NULL,
    -- The nearest running deadline ('9999-12-31': none, only closing is
    -- left; NULL: closed or withdrawn), kept by every change: the queue's
    -- sort key.
    next_due          TEXT,
    change_seq        BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    updated_by        TEXT NOT NULL REFERENCES operators (id),
    closed_at         BIGINT
);
CREATE INDEX tickets_change ON tickets (change_seq);
CREATE INDEX tickets_next_due ON tickets (next_due);
CREATE INDEX tickets_unit ON tickets (org_unit_id, state);
CREATE INDEX tickets_subject ON tickets (subject_id);

-- The disputed records and what became of each.
CREATE TABLE ticket_records (
    ticket_id      TEXT NOT NULL REFERENCES tickets (id),
    record_id      TEXT NOT NULL REFERENCES records (id),
    department_id  TEXT NOT NULL REFERENCES org_units (id),
    -- disputed, corrected, deleted, confirmed, unconfirmed, withdrawn
    outcome        TEXT NOT NULL,
    PRIMARY KEY (ticket_id, record_id)
);
CREATE INDEX ticket_records_record ON ticket_records (record_id, outcome);

-- Verification requests (核实协查函), one per department, and their replies.
CREATE TABLE ticket_letters (
    id             TEXT PRIMARY KEY,
    ticket_id      TEXT NOT NULL REFERENCES tickets (id),
    letter_no      TEXT NOT NULL UNIQUE,
    department_id  TEXT NOT NULL REFERENCES org_units (id),
    sent_at        BIGINT NOT NULL,
    sent_by        TEXT NOT NULL REFERENCES operators (id),
    -- The department's receipt: day 0 of its 10 working days.
    received_on    TEXT NOT NULL,
    reply_due      TEXT NOT NULL,
    replied_at     BIGINT,
    replied_by     TEXT REFERENCES operators (id),
    reply_text     TEXT,
    UNIQUE (ticket_id, department_id)
);
CREATE INDEX ticket_letters_department ON ticket_letters (department_id, replied_at);

CREATE TABLE ticket_notifications (
    id           TEXT PRIMARY KEY,
    ticket_id    TEXT NOT NULL REFERENCES tickets (id),
    at           BIGINT NOT NULL,
    channel      TEXT NOT NULL CHECK (channel IN ('written', 'phone')),
    reached      BIGINT NOT NULL CHECK (reached IN (0, 1)),
    note         TEXT NOT NULL,
    operator_id  TEXT NOT NULL REFERENCES operators (id)
);
CREATE INDEX ticket_notifications_ticket ON ticket_notifications (ticket_id, at);

-- The ticket's history: every state change and act, who and when.
CREATE TABLE ticket_events (
    id           TEXT PRIMARY KEY,
    ticket_id    TEXT NOT NULL REFERENCES tickets (id),
    at           BIGINT NOT NULL,
    operator_id  TEXT REFERENCES operators (id),
    action       TEXT NOT NULL,
    detail       TEXT NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, at);

-- Personal statements (本人声明) on records whose check could not confirm them.
CREATE TABLE record_statements (
    id               TEXT PRIMARY KEY,
    record_id        TEXT NOT NULL REFERENCES records (id),
    ticket_id        TEXT NOT NULL REFERENCES tickets (id),
    text             TEXT NOT NULL,
    verification_id  TEXT NOT NULL REFERENCES verifications (id),
    operator_id      TEXT NOT NULL REFERENCES operators (id),
    created_at       BIGINT NOT NULL
);
CREATE INDEX record_statements_record ON record_statements (record_id);

-- A correction is a new version linked to its ticket; a deletion keeps the
-- record and its versions, off every report.
ALTER TABLE record_versions ADD COLUMN ticket_id TEXT REFERENCES tickets (id);
ALTER TABLE records ADD COLUMN deleted_at BIGINT;
ALTER TABLE records ADD COLUMN deleted_by_ticket TEXT REFERENCES tickets (id);

-- Which delivery an import is (e.g. '2025H1', '2025FY'): the submission
-- deadlines are met by it.
ALTER TABLE imports ADD COLUMN period TEXT;
CREATE INDEX imports_period ON imports (department_id, period);
