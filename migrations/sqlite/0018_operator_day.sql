-- The clerk's own day: the verifications an operator made, by time.
CREATE INDEX verifications_operator ON verifications (operator_id, created_at);
