-- Registry search matches a name's start on an index in code point order
-- (`COLLATE "binary"`, SQLite's own), so that a page reads a few index
-- entries whatever the size of the registry. On PostgreSQL `binary` is a
-- "C" collation made here, and the index is made in it: the database's
-- own locale may sort otherwise.
CREATE COLLATION IF NOT EXISTS "binary" (provider = libc, locale = 'C');  -- only: postgres
CREATE INDEX subjects_name_binary ON subjects ((name COLLATE "binary"), id);  -- only: postgres
