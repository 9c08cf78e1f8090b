-- Codeless redemptions: an automatic promotion applies without a code, and
-- its redemption is a row whose code is ''. An order has at most one row
-- per code and, without a code, at most one row per promotion: the table's
-- UNIQUE (store_id, order_id, code) becomes two partial unique indexes.
-- Reads of an order's rows go through both, each query repeating the
-- predicate of its index for SQLite to use it.
--
-- SQLite cannot drop a table constraint: the table is rebuilt (create,
-- copy, drop, rename, then its indexes again) inside the migration's
-- transaction. No other table refers to redemptions, so the foreign keys
-- that the connection enforces have nothing to check; the rows keep their
-- ids.

CREATE TABLE redemptions_new (
    id            INTEGER PRIMARY KEY,
    store_id      TEXT    NOT NULL,
    order_id      TEXT    NOT NULL,
    code          TEXT    NOT NULL, -- '' for an automatic promotion
    promotion_id  TEXT    NOT NULL,
    customer_key  TEXT    NOT NULL DEFAULT '',
    discount      INTEGER NOT NULL,
    state         TEXT    NOT NULL, -- held, redeemed, released, rolled_back
    request_hash  BLOB    NOT NULL,
    hold_until    INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

INSERT INTO redemptions_new (id, store_id, order_id, code, promotion_id, customer_key, discount, state,
    request_hash, hold_until, created_at, updated_at)
SELECT id, store_id, order_id, code, promotion_id, customer_key, discount, state,
    request_hash, hold_until, created_at, updated_at
FROM redemptions;

DROP TABLE redemptions;
ALTER TABLE redemptions_new RENAME TO redemptions;

CREATE UNIQUE INDEX redemptions_order_code ON redemptions (store_id, order_id, code) WHERE code <> '';
CREATE UNIQUE INDEX redemptions_order_promotion ON redemptions (store_id, order_id, promotion_id) WHERE code = '';
CREATE INDEX redemptions_promotion ON redemptions (promotion_id, state);
CREATE INDEX redemptions_held ON redemptions (hold_until) WHERE state = 'held';
