-- Automatic promotions apply without a code (qualify, and later checkout).
ALTER TABLE promotions ADD COLUMN automatic boolean NOT NULL DEFAULT false;
-- A store's live automatic promotions are read on every qualify: a partial
-- index holds only active automatic promotions, so the many promotions
-- with codes cost nothing here.
CREATE INDEX promotions_automatic ON promotions (store_id, id) WHERE automatic AND active;
-- The codes restricted to a customer (C3), by customer and store. Generated
-- codes have no customer, so generation never writes to this index; queries
-- repeat customer_id <> '' so that a generic plan can prove the predicate.
CREATE INDEX codes_customer ON codes (customer_id, store_id, id) WHERE customer_id <> '';
