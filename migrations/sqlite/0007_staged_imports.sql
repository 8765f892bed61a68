-- An import is written in short transactions, so counters keep working
-- while a large file goes in, and becomes visible all at once: its
-- versions wait in record_versions and its records point at them through
-- next_version / next_import; nothing shows until its import row says
-- 'applied' (one short write). A later pass folds next_version into
-- current_version. An import that fails or is abandoned is rolled back
-- from these columns.
ALTER TABLE records ADD COLUMN next_version BIGINT;
ALTER TABLE records ADD COLUMN next_import TEXT REFERENCES imports (id);
CREATE INDEX records_next_import ON records (next_import) WHERE next_import IS NOT NULL;
CREATE INDEX record_versions_import ON record_versions (import_id);

-- Subjects an import registered, removed again if the import is rolled back.
ALTER TABLE subjects ADD COLUMN created_by_import TEXT REFERENCES imports (id);
CREATE INDEX subjects_created_by_import ON subjects (created_by_import) WHERE created_by_import IS NOT NULL;

-- When a running import last wrote: one silent for long was abandoned (its
-- server stopped) and is rolled back before the department imports again.
ALTER TABLE imports ADD COLUMN heartbeat_at BIGINT;

-- Records as readers see them: a new record of an import still being
-- written is not there, a changed one shows its current version until its
-- import is applied, then the import's version.
CREATE VIEW visible_records AS
SELECT r.id, r.subject_id, r.category, r.source_unit_id, r.source_key,
       CASE WHEN i.status = 'applied' THEN r.next_version ELSE r.current_version END AS current_version,
       r.created_at, r.updated_at, r.deleted_at, r.deleted_by_ticket
  FROM records r
  LEFT JOIN imports i ON i.id = r.next_import
 WHERE r.current_version > 0 OR i.status = 'applied';
