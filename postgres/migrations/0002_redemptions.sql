-- Redemptions: one row per code used by an order (the truth), and the
-- per-customer usage counters. promotions.uses, promotions.discount_spent
-- and codes.uses are counters derived from the rows.

CREATE TABLE redemptions (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    store_id      text        NOT NULL,
    order_id      text        NOT NULL,
    code          text        NOT NULL,
    promotion_id  text        NOT NULL,
    customer_key  text        NOT NULL DEFAULT '',
    discount      bigint      NOT NULL,
    state         text        NOT NULL, -- held, redeemed, released, rolled_back
    request_hash  bytea       NOT NULL,
    hold_until    timestamptz,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    UNIQUE (store_id, order_id, code)
);
CREATE INDEX redemptions_promotion ON redemptions (promotion_id, state);
CREATE INDEX redemptions_held ON redemptions (hold_until) WHERE state = 'held';

CREATE TABLE customer_usage (
    subject       text        NOT NULL, -- a promotion id, or 'code:' and a code
    customer_key  text        NOT NULL,
    uses          bigint      NOT NULL,
    PRIMARY KEY (subject, customer_key)
);
