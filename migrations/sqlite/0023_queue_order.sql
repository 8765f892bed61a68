-- The queue is read nearest deadline first, ties by ticket number, a page
-- at a time: with both in one index the first page is read in order and
-- stops at the page's end, instead of sorting every ticket that shares a
-- deadline (a county's queue has thousands on one day). A township's queue
-- starts from its unit.
CREATE INDEX tickets_queue_order ON tickets (next_due, ticket_no);
CREATE INDEX tickets_unit_queue ON tickets (org_unit_id, next_due, ticket_no);
DROP INDEX tickets_next_due;
