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

INSERT INTO letter_due (department_id, due, n)
SELECT l.department_id, l.reply_due, COUNT(*) FROM ticket_letters l
  JOIN tickets t ON t.id = l.ticket_id
 WHERE l.replied_at IS NULL AND t.next_due IS NOT NULL
 GROUP BY l.department_id, l.reply_due;

CREATE TRIGGER letter_due_sent AFTER INSERT ON ticket_letters  -- only: sqlite
WHEN NEW.replied_at IS NULL  -- only: sqlite
 AND EXISTS (SELECT 1 FROM tickets WHERE id = NEW.ticket_id AND next_due IS NOT NULL)  -- only: sqlite
BEGIN  -- only: sqlite
    INSERT INTO letter_due (department_id, due, n) VALUES (NEW.department_id, NEW.reply_due, 1)  -- only: sqlite
        ON CONFLICT (department_id, due) DO UPDATE SET n = n + 1;  -- only: sqlite
END;  -- only: sqlite
CREATE TRIGGER letter_due_changed AFTER UPDATE OF replied_at, reply_due, department_id ON ticket_letters  -- only: sqlite
WHEN EXISTS (SELECT 1 FROM tickets WHERE id = NEW.ticket_id AND next_due IS NOT NULL)  -- only: sqlite
BEGIN  -- only: sqlite
    UPDATE letter_due SET n = n - 1  -- only: sqlite
     WHERE OLD.replied_at IS NULL AND department_id = OLD.department_id AND due = OLD.reply_due;  -- only: sqlite
    DELETE FROM letter_due  -- only: sqlite
     WHERE department_id = OLD.department_id AND due = OLD.reply_due AND n <= 0;  -- only: sqlite
    INSERT INTO letter_due (department_id, due, n)  -- only: sqlite
        SELECT NEW.department_id, NEW.reply_due, 1 WHERE NEW.replied_at IS NULL  -- only: sqlite
        ON CONFLICT (department_id, due) DO UPDATE SET n = n + 1;  -- only: sqlite
END;  -- only: sqlite
CREATE TRIGGER letter_due_removed AFTER DELETE ON ticket_letters  -- only: sqlite
WHEN OLD.replied_at IS NULL  -- only: sqlite
 AND EXISTS (SELECT 1 FROM tickets WHERE id = OLD.ticket_id AND next_due IS NOT NULL)  -- only: sqlite
BEGIN  -- only: sqlite
    UPDATE letter_due SET n = n - 1 WHERE department_id = OLD.department_id AND due = OLD.reply_due;  -- only: sqlite
    DELETE FROM letter_due  -- only: sqlite
     WHERE department_id = OLD.department_id AND due = OLD.reply_due AND n <= 0;  -- only: sqlite
END;  -- only: sqlite
CREATE TRIGGER letter_due_ticket AFTER UPDATE OF next_due ON tickets  -- only: sqlite
WHEN (OLD.next_due IS NULL) <> (NEW.next_due IS NULL)  -- only: sqlite
BEGIN  -- only: sqlite
    INSERT INTO letter_due (department_id, due, n)  -- only: sqlite
        SELECT department_id, reply_due, CASE WHEN NEW.next_due IS NULL THEN -COUNT(*) ELSE COUNT(*) END  -- only: sqlite
          FROM ticket_letters WHERE ticket_id = NEW.id AND replied_at IS NULL  -- only: sqlite
         GROUP BY department_id, reply_due  -- only: sqlite
        ON CONFLICT (department_id, due) DO UPDATE SET n = n + excluded.n;  -- only: sqlite
    DELETE FROM letter_due WHERE n <= 0 AND department_id IN  -- only: sqlite
        (SELECT department_id FROM ticket_letters WHERE ticket_id = NEW.id);  -- only: sqlite
END;  -- only: sqlite
