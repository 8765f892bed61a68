-- The departments' counts, kept as letters and tickets change: verification
-- requests (核实协查函) waiting for a reply, of tickets still open, per
-- department and reply deadline. The center's queue header sums a few rows
-- per department instead of scanning every unreplied letter. Triggers keep
-- it: a letter sent, replied, re-dated (a pause moves its deadline) or
-- removed, and a ticket closing (its waiting letters stop counting).
CREATE TABLE letter_due (
    department_id  TEXT NOT NULL,
    due            TEXT NOT NULL,
    n              BIGINT NOT NULL,
    PRIMARY KEY (department_id, due)
);

-- No server still on the older schema may change a letter or a ticket  -- only: postgres
-- between the fill and the triggers: its change would be counted by neither.  -- only: postgres
LOCK TABLE ticket_letters, tickets IN SHARE ROW EXCLUSIVE MODE;  -- only: postgres
INSERT INTO letter_due (department_id, due, n)
SELECT l.department_id, l.reply_due, COUNT(*) FROM ticket_letters l
  JOIN tickets t ON t.id = l.ticket_id
 WHERE l.replied_at IS NULL AND t.next_due IS NOT NULL
 GROUP BY l.department_id, l.reply_due;

-- Adds k (negative: takes) to one count, dropping a count that reaches 0.  -- only: postgres
CREATE FUNCTION letter_due_add(dept TEXT, day TEXT, k BIGINT) RETURNS void LANGUAGE plpgsql AS $$  -- only: postgres
BEGIN  -- only: postgres
    INSERT INTO letter_due (department_id, due, n) VALUES (dept, day, k)  -- only: postgres
        ON CONFLICT (department_id, due) DO UPDATE SET n = letter_due.n + k;  -- only: postgres
    DELETE FROM letter_due WHERE department_id = dept AND due = day AND n <= 0;  -- only: postgres
END  -- only: postgres
$$;  -- only: postgres
-- A letter's move touches its two counts in key order, so that two moves  -- only: postgres
-- never wait on each other.  -- only: postgres
CREATE FUNCTION letter_due_track() RETURNS trigger LANGUAGE plpgsql AS $$  -- only: postgres
DECLARE  -- only: postgres
    old_key TEXT[];  -- only: postgres
    new_key TEXT[];  -- only: postgres
BEGIN  -- only: postgres
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.replied_at IS NULL AND EXISTS  -- only: postgres
        (SELECT 1 FROM tickets WHERE id = OLD.ticket_id AND next_due IS NOT NULL) THEN  -- only: postgres
        old_key := ARRAY[OLD.department_id, OLD.reply_due];  -- only: postgres
    END IF;  -- only: postgres
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.replied_at IS NULL AND EXISTS  -- only: postgres
        (SELECT 1 FROM tickets WHERE id = NEW.ticket_id AND next_due IS NOT NULL) THEN  -- only: postgres
        new_key := ARRAY[NEW.department_id, NEW.reply_due];  -- only: postgres
    END IF;  -- only: postgres
    IF old_key IS NOT DISTINCT FROM new_key THEN  -- only: postgres
        RETURN NULL;  -- only: postgres
    END IF;  -- only: postgres
    IF new_key IS NOT NULL AND (old_key IS NULL OR new_key < old_key) THEN  -- only: postgres
        PERFORM letter_due_add(new_key[1], new_key[2], 1);  -- only: postgres
        new_key := NULL;  -- only: postgres
    END IF;  -- only: postgres
    IF old_key IS NOT NULL THEN  -- only: postgres
        PERFORM letter_due_add(old_key[1], old_key[2], -1);  -- only: postgres
    END IF;  -- only: postgres
    IF new_key IS NOT NULL THEN  -- only: postgres
        PERFORM letter_due_add(new_key[1], new_key[2], 1);  -- only: postgres
    END IF;  -- only: postgres
    RETURN NULL;  -- only: postgres
END  -- only: postgres
$$;  -- only: postgres
CREATE TRIGGER letter_due_letters AFTER INSERT OR DELETE ON ticket_letters  -- only: postgres
    FOR EACH ROW EXECUTE FUNCTION letter_due_track();  -- only: postgres
CREATE TRIGGER letter_due_changed AFTER UPDATE OF replied_at, reply_due, department_id  -- only: postgres
    ON ticket_letters FOR EACH ROW EXECUTE FUNCTION letter_due_track();  -- only: postgres
-- A ticket that closes takes its waiting letters out of the counts (and one  -- only: postgres
-- that opens again puts them back), in key order.  -- only: postgres
CREATE FUNCTION letter_due_ticket() RETURNS trigger LANGUAGE plpgsql AS $$  -- only: postgres
DECLARE  -- only: postgres
    r RECORD;  -- only: postgres
BEGIN  -- only: postgres
    FOR r IN SELECT department_id, reply_due, COUNT(*) AS c FROM ticket_letters  -- only: postgres
              WHERE ticket_id = NEW.id AND replied_at IS NULL  -- only: postgres
              GROUP BY department_id, reply_due ORDER BY department_id, reply_due LOOP  -- only: postgres
        PERFORM letter_due_add(r.department_id, r.reply_due,  -- only: postgres
                               CASE WHEN NEW.next_due IS NULL THEN -r.c ELSE r.c END);  -- only: postgres
    END LOOP;  -- only: postgres
    RETURN NULL;  -- only: postgres
END  -- only: postgres
$$;  -- only: postgres
CREATE TRIGGER letter_due_ticket AFTER UPDATE OF next_due ON tickets  -- only: postgres
    FOR EACH ROW  -- only: postgres
    WHEN ((OLD.next_due IS NULL) <> (NEW.next_due IS NULL))  -- only: postgres
    EXECUTE FUNCTION letter_due_ticket();  -- only: postgres
