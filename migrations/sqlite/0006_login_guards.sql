-- One row per username that has tried to log in. A login takes its row's
-- lock first (an upsert), so the attempts of one username are counted one
-- at a time on every server sharing the database; and an unknown username
-- is locked here exactly as a known one is locked on its operator row, so
-- lockout answers do not tell which accounts exist.
CREATE TABLE login_guards (
    username      TEXT PRIMARY KEY,
    locked_until  BIGINT
);

-- Lockout counts a username's attempts since its last success.
CREATE INDEX login_attempts_username_success_at ON login_attempts (username, success, at);
