-- The deadline queue's counts, kept as tickets change: open tickets per
-- unit and nearest deadline ('9999-12-31': only closing left). The menu and
-- queue counters sum a unit's few rows instead of scanning its tickets.
-- A trigger keeps it, whichever statement moves a ticket's deadline; it
-- touches the two rows of a move in key order, so two moves cannot wait on
-- each other.
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

CREATE FUNCTION queue_due_track() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_key TEXT[];
    new_key TEXT[];
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.next_due IS NOT NULL THEN
        old_key := ARRAY[OLD.org_unit_id, OLD.next_due];
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.next_due IS NOT NULL THEN
        new_key := ARRAY[NEW.org_unit_id, NEW.next_due];
    END IF;
    IF new_key IS NOT NULL AND (old_key IS NULL OR new_key < old_key) THEN
        INSERT INTO queue_due (org_unit_id, due, n) VALUES (new_key[1], new_key[2], 1)
            ON CONFLICT (org_unit_id, due) DO UPDATE SET n = queue_due.n + 1;
        new_key := NULL;
    END IF;
    IF old_key IS NOT NULL THEN
        UPDATE queue_due SET n = n - 1 WHERE org_unit_id = old_key[1] AND due = old_key[2];
        DELETE FROM queue_due WHERE org_unit_id = old_key[1] AND due = old_key[2] AND n <= 0;
    END IF;
    IF new_key IS NOT NULL THEN
        INSERT INTO queue_due (org_unit_id, due, n) VALUES (new_key[1], new_key[2], 1)
            ON CONFLICT (org_unit_id, due) DO UPDATE SET n = queue_due.n + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER queue_due_added AFTER INSERT OR DELETE ON tickets
    FOR EACH ROW EXECUTE FUNCTION queue_due_track();
CREATE TRIGGER queue_due_moved AFTER UPDATE OF next_due, org_unit_id ON tickets
    FOR EACH ROW
    WHEN (OLD.next_due IS DISTINCT FROM NEW.next_due
          OR OLD.org_unit_id IS DISTINCT FROM NEW.org_unit_id)
    EXECUTE FUNCTION queue_due_track();
