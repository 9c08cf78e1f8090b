-- Automatic promotions apply without a code (qualify, and later checkout).
ALTER TABLE promotions ADD COLUMN automatic INTEGER NOT NULL DEFAULT 0;
-- A store's live automatic promotions are read on every qualify: a partial
-- index holds only active automatic promotions, so the many promotions
-- with codes cost nothing here. Queries repeat its predicate
-- (automatic = 1 AND active = 1) for SQLite to use it.
CREATE INDEX promotions_automatic ON promotions (store_id, id) WHERE automatic = 1 AND active = 1;
-- The codes restricted to a customer (C3), by customer and store. Generated
-- codes have no customer, so generation never writes to this index; queries
-- repeat customer_id <> '' for SQLite to use it.
CREATE INDEX codes_customer ON codes (customer_id, store_id, id) WHERE customer_id <> '';
