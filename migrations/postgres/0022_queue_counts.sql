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

-- No server still on the older schema may change a ticket between the fill  -- only: postgres
-- and the triggers: its change would be counted by neither.  -- only: postgres
LOCK TABLE tickets IN SHARE ROW EXCLUSIVE MODE;  -- only: postgres
INSERT INTO queue_due (org_unit_id, due, n)
SELECT org_unit_id, next_due, COUNT(*) FROM tickets
 WHERE next_due IS NOT NULL
 GROUP BY org_unit_id, next_due;

CREATE FUNCTION queue_due_track() RETURNS trigger LANGUAGE plpgsql AS $$  -- only: postgres
DECLARE  -- only: postgres
    old_key TEXT[];  -- only: postgres
    new_key TEXT[];  -- only: postgres
BEGIN  -- only: postgres
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.next_due IS NOT NULL THEN  -- only: postgres
        old_key := ARRAY[OLD.org_unit_id, OLD.next_due];  -- only: postgres
    END IF;  -- only: postgres
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.next_due IS NOT NULL THEN  -- only: postgres
        new_key := ARRAY[NEW.org_unit_id, NEW.next_due];  -- only: postgres
    END IF;  -- only: postgres
    IF new_key IS NOT NULL AND (old_key IS NULL OR new_key < old_key) THEN  -- only: postgres
        INSERT INTO queue_due (org_unit_id, due, n) VALUES (new_key[1], new_key[2], 1)  -- only: postgres
            ON CONFLICT (org_unit_id, due) DO UPDATE SET n = queue_due.n + 1;  -- only: postgres
        new_key := NULL;  -- only: postgres
    END IF;  -- only: postgres
    IF old_key IS NOT NULL THEN  -- only: postgres
        UPDATE queue_due SET n = n - 1 WHERE org_unit_id = old_key[1] AND due = old_key[2];  -- only: postgres
        DELETE FROM queue_due WHERE org_unit_id = old_key[1] AND due = old_key[2] AND n <= 0;  -- only: postgres
    END IF;  -- only: postgres
    IF new_key IS NOT NULL THEN  -- only: postgres
        INSERT INTO queue_due (org_unit_id, due, n) VALUES (new_key[1], new_key[2], 1)  -- only: postgres
            ON CONFLICT (org_unit_id, due) DO UPDATE SET n = queue_due.n + 1;  -- only: postgres
    END IF;  -- only: postgres
    RETURN NULL;  -- only: postgres
END  -- only: postgres
$$;  -- only: postgres
CREATE TRIGGER queue_due_added AFTER INSERT OR DELETE ON tickets  -- only: postgres
    FOR EACH ROW EXECUTE FUNCTION queue_due_track();  -- only: postgres
CREATE TRIGGER queue_due_moved AFTER UPDATE OF next_due, org_unit_id ON tickets  -- only: postgres
    FOR EACH ROW  -- only: postgres
    WHEN (OLD.next_due IS DISTINCT FROM NEW.next_due  -- only: postgres
          OR OLD.org_unit_id IS DISTINCT FROM NEW.org_unit_id)  -- only: postgres
    EXECUTE FUNCTION queue_due_track();  -- only: postgres
