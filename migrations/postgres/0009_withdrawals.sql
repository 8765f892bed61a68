-- Counter records hold what was inspected. An organisation is verified
-- through the person acting for it (its legal representative, or an agent
-- with a letter of authorisation, named in the agent columns) and the
-- licence inspected.
ALTER TABLE verifications ADD COLUMN acting_as TEXT;
ALTER TABLE verifications ADD COLUMN licence TEXT;

-- A paper consent form's serial is registered once, as printed (trimmed,
-- capitals, which is how capture now stores it). Serials registered twice
-- before this rule keep the first; later ones are marked with their
-- consent's id, so nothing is lost and each stays findable.
UPDATE consents SET form_serial = UPPER(TRIM(form_serial));
UPDATE consents SET form_serial = form_serial || ' #' || id
 WHERE EXISTS (SELECT 1 FROM consents d
                WHERE d.form_serial = consents.form_serial
                  AND (d.created_at < consents.created_at
                       OR (d.created_at = consents.created_at AND d.id < consents.id)));
CREATE UNIQUE INDEX consents_form_serial ON consents (form_serial);

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
