-- A row of a department's file about a record an objection decided
-- (corrected or deleted): not applied, kept here with the file's content
-- until a person decides. 条例 art. 25: the decided content stands.
CREATE TABLE import_conflicts (
    import_id      TEXT NOT NULL REFERENCES imports (id),
    row_number     BIGINT NOT NULL,
    record_id      TEXT NOT NULL REFERENCES records (id),
    ticket_no      TEXT NOT NULL,
    file_value     TEXT NOT NULL,
    decided_value  TEXT NOT NULL,
    start_date     TEXT,
    end_date       TEXT,
    amount_cents   BIGINT,
    status         TEXT NOT NULL,
    negative       BIGINT NOT NULL CHECK (negative IN (0, 1)),
    details        TEXT NOT NULL,
    content_hash   TEXT NOT NULL,
    PRIMARY KEY (import_id, row_number)
);
CREATE INDEX import_conflicts_record ON import_conflicts (record_id);
