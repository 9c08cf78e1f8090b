-- PostgreSQL's migration 0009 makes codes and the keys of the checkout's
-- counters compare byte by byte (COLLATE "C"). SQLite's text columns
-- compare so already (BINARY): nothing changes here, and both databases
-- keep one list of versions.
SELECT 1;
