-- An org unit can be disabled: its operators, and those of the units under
-- it, can no longer log in. Kept, not deleted: history names the unit.
ALTER TABLE org_units ADD COLUMN disabled_at BIGINT;
