-- Withdrawals say why, and how the applicant's wish was established: a
-- consent is withdrawn by the subject verified again at the counter; an
-- objection by the applicant verified again, or by their written
-- withdrawal recorded by reference. Both are printed as receipts.
ALTER TABLE consents ADD COLUMN withdrawal_reason TEXT;

ALTER TABLE tickets ADD COLUMN withdrawal_reason TEXT;
ALTER TABLE tickets ADD COLUMN withdrawal_verification_id TEXT REFERENCES verifications (id);
ALTER TABLE tickets ADD COLUMN withdrawal_written TEXT;
ALTER TABLE tickets ADD COLUMN withdrawn_at BIGINT;
ALTER TABLE tickets ADD COLUMN withdrawn_by TEXT REFERENCES operators (id);
