-- The deadline queue's counts, kept as tickets change: open tickets per
-- unit and nearest deadline ('9999-12-31': only closing left). The menu and
-- queue counters sum a unit's few rows instead of scanning its tickets.
-- Triggers keep it, whichever statement moves a ticket's deadline (on
-- PostgreSQL touching a move's two rows in key order, so that two moves
-- never wait on each other).
CREATE TABLE queue_due (
    org_unit_id  TEXT NOT NULL,
    due          TEXT NOT NULL,
    n            BIGINT NOT NULL,
    PRIMARY KEY (org_unit_id, due)
);

INSERT INTO queue_due (org_unit_id, due, n)
SELECT org_unit_id, next_due, COUNT(*) FROM tickets
 WHERE next_due IS NOT NULL
 GROUP BY org_unit_id, next_due;

CREATE TRIGGER queue_due_added AFTER INSERT ON tickets  -- only: sqlite
WHEN NEW.next_due IS NOT NULL  -- only: sqlite
BEGIN  -- only: sqlite
    INSERT INTO queue_due (org_unit_id, due, n) VALUES (NEW.org_unit_id, NEW.next_due, 1)  -- only: sqlite
        ON CONFLICT (org_unit_id, due) DO UPDATE SET n = n + 1;  -- only: sqlite
END;  -- only: sqlite
CREATE TRIGGER queue_due_moved AFTER UPDATE OF next_due, org_unit_id ON tickets  -- only: sqlite
WHEN OLD.next_due IS NOT NEW.next_due OR OLD.org_unit_id IS NOT NEW.org_unit_id  -- only: sqlite
BEGIN  -- only: sqlite
    UPDATE queue_due SET n = n - 1  -- only: sqlite
     WHERE org_unit_id = OLD.org_unit_id AND due = OLD.next_due;  -- only: sqlite
    DELETE FROM queue_due  -- only: sqlite
     WHERE org_unit_id = OLD.org_unit_id AND due = OLD.next_due AND n <= 0;  -- only: sqlite
    INSERT INTO queue_due (org_unit_id, due, n)  -- only: sqlite
        SELECT NEW.org_unit_id, NEW.next_due, 1 WHERE NEW.next_due IS NOT NULL  -- only: sqlite
        ON CONFLICT (org_unit_id, due) DO UPDATE SET n = n + 1;  -- only: sqlite
END;  -- only: sqlite
CREATE TRIGGER queue_due_removed AFTER DELETE ON tickets  -- only: sqlite
WHEN OLD.next_due IS NOT NULL  -- only: sqlite
BEGIN  -- only: sqlite
    UPDATE queue_due SET n = n - 1  -- only: sqlite
     WHERE org_unit_id = OLD.org_unit_id AND due = OLD.next_due;  -- only: sqlite
    DELETE FROM queue_due  -- only: sqlite
     WHERE org_unit_id = OLD.org_unit_id AND due = OLD.next_due AND n <= 0;  -- only: sqlite
END;  -- only: sqlite
