-- Personal data at rest: identity numbers, phones and addresses are stored
-- sealed (SM4-GCM, `sm4:<key id>:…`), and identity numbers are found by a
-- keyed blind index (HMAC-SM3). Rows written before are sealed, and given
-- their index, when a server first starts with its key file.
ALTER TABLE subjects ADD COLUMN identifier_index TEXT;
CREATE UNIQUE INDEX subjects_identifier_index ON subjects (identifier_index);
-- The registry lists subjects by name now that numbers cannot be sorted.
DROP INDEX subjects_name;
CREATE INDEX subjects_name ON subjects (name, id);
