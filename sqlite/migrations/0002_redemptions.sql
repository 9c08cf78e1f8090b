-- Redemptions: one row per code used by an order (the truth), and the
-- per-customer usage counters. promotions.uses, promotions.discount_spent
-- and codes.uses are counters derived from the rows.

CREATE TABLE redemptions (
    id            INTEGER PRIMARY KEY,
    store_id      TEXT    NOT NULL,
    order_id      TEXT    NOT NULL,
    code          TEXT    NOT NULL,
    promotion_id  TEXT    NOT NULL,
    customer_key  TEXT    NOT NULL DEFAULT '',
    discount      INTEGER NOT NULL,
    state         TEXT    NOT NULL, -- held, redeemed, released, rolled_back
    request_hash  BLOB    NOT NULL,
    hold_until    INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (store_id, order_id, code)
) STRICT;
CREATE INDEX redemptions_promotion ON redemptions (promotion_id, state);
CREATE INDEX redemptions_held ON redemptions (hold_until) WHERE state = 'held';

CREATE TABLE customer_usage (
    subject       TEXT    NOT NULL, -- a promotion id, or "code:" and a code
    customer_key  TEXT    NOT NULL,
    uses          INTEGER NOT NULL,
    PRIMARY KEY (subject, customer_key)
) STRICT, WITHOUT ROWID;
