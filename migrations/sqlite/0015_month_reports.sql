-- The monthly security statistics (征信信息安全情况统计表), once signed off:
-- the figures as counted at that moment (JSON), the incidents the
-- supervisor entered, and the audit chain's head for the paper copy.
CREATE TABLE review_months (
    month               TEXT PRIMARY KEY,
    facts               TEXT NOT NULL,
    unlawful_provision  BIGINT NOT NULL,
    misuse              BIGINT NOT NULL,
    leaks               BIGINT NOT NULL,
    note                TEXT NOT NULL,
    signed_at           BIGINT NOT NULL,
    signed_by           TEXT NOT NULL REFERENCES operators (id),
    chain_seq           BIGINT NOT NULL,
    chain_hash          TEXT NOT NULL
);

-- The month's objections by receipt and deadline, complaints by deadline.
CREATE INDEX tickets_received_on ON tickets (received_on);
CREATE INDEX tickets_overall_due ON tickets (overall_due);
CREATE INDEX tickets_closed_at ON tickets (closed_at);
CREATE INDEX complaints_due_on ON complaints (due_on);
CREATE INDEX complaints_answered_at ON complaints (answered_at);
