-- Org units, operators, sessions, login attempts, idempotency keys, audit log.
-- Ids are application-generated UUIDv7 strings; times are UTC milliseconds
-- since the epoch (BIGINT) and flags are BIGINT 0/1 (sqlx's Any driver cannot
-- read SQLite booleans), so the same statements run on SQLite and PostgreSQL.

CREATE TABLE org_units (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    parent_id   TEXT REFERENCES org_units (id),
    -- Materialised path '/<root id>/.../<own id>/': subtree scope checks are a prefix match.
    path        TEXT NOT NULL UNIQUE,
    depth       BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE operators (
    id                    TEXT PRIMARY KEY,
    username              TEXT NOT NULL UNIQUE,
    display_name          TEXT NOT NULL,
    role                  TEXT NOT NULL,
    org_unit_id           TEXT NOT NULL REFERENCES org_units (id),
    password_hash         TEXT NOT NULL,
    enabled               BIGINT NOT NULL CHECK (enabled IN (0, 1)),
    must_change_password  BIGINT NOT NULL CHECK (must_change_password IN (0, 1)),
    locked_until          BIGINT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX operators_org_unit ON operators (org_unit_id);

-- Only the SHA-256 of a session token is stored: a copy of the database does
-- not hand out live sessions.
CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    operator_id   TEXT NOT NULL REFERENCES operators (id),
    terminal      TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);
CREATE INDEX sessions_operator ON sessions (operator_id);

CREATE TABLE login_attempts (
    id           TEXT PRIMARY KEY,
    username     TEXT NOT NULL,
    operator_id  TEXT,
    at           BIGINT NOT NULL,
    success      BIGINT NOT NULL CHECK (success IN (0, 1)),
    terminal     TEXT NOT NULL
);
CREATE INDEX login_attempts_username_at ON login_attempts (username, at);

-- A create request's client-generated id, remembered with what it created so
-- that a retry over a flaky link returns the first result.
CREATE TABLE idempotency_keys (
    operator_id   TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    method        TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (operator_id, request_id)
);

CREATE TABLE audit_log (
    id           TEXT PRIMARY KEY,
    at           BIGINT NOT NULL,
    operator_id  TEXT,
    action       TEXT NOT NULL,
    target       TEXT NOT NULL,
    detail       TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
