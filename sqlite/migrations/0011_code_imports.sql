-- A large code import writes its codes in chunks, each its own short write
-- transaction, so that other writers take turns with it; no read sees any
-- of them until the whole import commits.
--
-- code_imports holds the imports that have not committed: those being
-- written and those that failed (or whose process died: their lease ran
-- out), whose codes are being deleted. A code whose import_id names a row
-- here is invisible to every read; committing an import deletes its row,
-- which makes all its codes visible at once. import_id is NULL for codes
-- created any other way and stays set on committed codes, whose import no
-- longer has a row: AUTOINCREMENT never gives an id twice, so an old
-- import's codes can never be hidden again by a new import.
--
-- The codes of an import all belong to its promotion and have internal ids
-- above after_code_id, so they are found through codes_promotion without
-- an index of their own; the cleaner moves after_code_id up as it deletes.
ALTER TABLE codes ADD COLUMN import_id INTEGER;
CREATE TABLE code_imports (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    promotion_id   TEXT    NOT NULL,
    store_id       TEXT    NOT NULL,
    after_code_id  INTEGER NOT NULL,
    failed         INTEGER NOT NULL DEFAULT 0,
    lease_until    INTEGER NOT NULL,
    created_at     INTEGER NOT NULL
) STRICT;
