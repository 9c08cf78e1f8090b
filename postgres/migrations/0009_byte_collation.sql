-- Codes and the keys of the checkout's counters compare byte by byte
-- (COLLATE "C"), as SQLite compares them. Under a database's linguistic
-- collation (en_US.UTF-8, even C.UTF-8 on PostgreSQL 15) every comparison
-- of a B-tree descent goes through the C library's strcoll; a validate
-- descends the codes' index once per code and the counters' once per
-- customer. The values are ASCII identifiers, so byte order is also the
-- order of the listings on both databases. The indexes on these columns
-- are rebuilt; the tables are not rewritten.
ALTER TABLE codes ALTER COLUMN code TYPE text COLLATE "C";
ALTER TABLE customer_usage
    ALTER COLUMN subject TYPE text COLLATE "C",
    ALTER COLUMN customer_key TYPE text COLLATE "C";
ALTER TABLE lookup_failures ALTER COLUMN subject TYPE text COLLATE "C";
