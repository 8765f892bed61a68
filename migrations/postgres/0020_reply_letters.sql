-- A department answers a verification request with its own letter: its
-- number and date are recorded with the reply (both, or neither when the
-- liaison answers on screen).
ALTER TABLE ticket_letters ADD COLUMN reply_letter_no TEXT;
ALTER TABLE ticket_letters ADD COLUMN reply_letter_date TEXT;
