-- Public keys an administrator registered for an operator: the SSH
-- endpoint accepts them instead of the password. The key is kept as its
-- OpenSSH line (what the administrator pasted, comment included) and found
-- by its SHA-256 fingerprint, which is also what staff compare.
CREATE TABLE operator_ssh_keys (
    id           TEXT PRIMARY KEY,
    operator_id  TEXT NOT NULL REFERENCES operators (id),
    fingerprint  TEXT NOT NULL,
    public_key   TEXT NOT NULL,
    comment      TEXT NOT NULL,
    added_at     BIGINT NOT NULL,
    added_by     TEXT REFERENCES operators (id)
);
-- A key belongs to one operator: a shared key would make an SSH login
-- ambiguous about who is at the terminal.
CREATE UNIQUE INDEX operator_ssh_keys_fingerprint ON operator_ssh_keys (fingerprint);
CREATE INDEX operator_ssh_keys_operator ON operator_ssh_keys (operator_id);
