-- A person heads at most one farmer household, whoever was head when it
-- was made (its identifier keeps the first head's number).
CREATE UNIQUE INDEX households_head ON households (head_id);
