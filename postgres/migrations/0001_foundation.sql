-- Foundation: marketplace settings, keys, stores, partners, products,
-- promotions, codes, jobs and idempotency records.

CREATE TABLE settings (
    id          integer     PRIMARY KEY CHECK (id = 1),
    name        text        NOT NULL,
    currency    text        NOT NULL,
    time_zone   text        NOT NULL,
    policy      jsonb       NOT NULL,
    version     bigint      NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE TABLE stores (
    id                   text        PRIMARY KEY,
    name                 text        NOT NULL,
    partner_promo_codes  boolean     NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL
);

CREATE TABLE partners (
    id          text        PRIMARY KEY,
    name        text        NOT NULL,
    kind        text        NOT NULL,
    created_at  timestamptz NOT NULL
);

CREATE TABLE api_keys (
    id          text        PRIMARY KEY,
    name        text        NOT NULL DEFAULT '',
    role        text        NOT NULL,
    store_id    text        NOT NULL DEFAULT '',
    partner_id  text        NOT NULL DEFAULT '',
    prefix      text        NOT NULL,
    hash        bytea       NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);

CREATE TABLE products (
    store_id    text        NOT NULL REFERENCES stores (id),
    id          text        NOT NULL,
    name        text        NOT NULL,
    url         text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (store_id, id)
);

CREATE TABLE promotions (
    id                 text        PRIMARY KEY,
    store_id           text        NOT NULL REFERENCES stores (id),
    name               text        NOT NULL,
    description        text        NOT NULL DEFAULT '',
    channel            text        NOT NULL,
    type               text        NOT NULL,
    amount_off         bigint      NOT NULL DEFAULT 0,
    percent_off_bp     bigint      NOT NULL DEFAULT 0,
    currency           text        NOT NULL,
    min_order_amount   bigint      NOT NULL DEFAULT 0,
    product_ids        text[]      NOT NULL DEFAULT '{}', -- empty: storewide
    starts_at          timestamptz NOT NULL,
    ends_at            timestamptz,
    total_uses         bigint,
    total_discount     bigint,
    per_customer       bigint,
    exclusive          boolean     NOT NULL DEFAULT false,
    priority           bigint      NOT NULL DEFAULT 0,
    coupon_per_person  bigint,
    coupon_quantity    bigint,
    coupon_valid_days  bigint,
    active             boolean     NOT NULL DEFAULT true,
    ended_at           timestamptz,
    version            bigint      NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    uses               bigint      NOT NULL DEFAULT 0,
    discount_spent     bigint      NOT NULL DEFAULT 0
);
CREATE INDEX promotions_store ON promotions (store_id, id);

CREATE TABLE codes (
    id                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code                text        NOT NULL UNIQUE, -- upper case: unique regardless of case
    promotion_id        text        NOT NULL, -- no foreign key: see below
    store_id            text        NOT NULL,
    active              boolean     NOT NULL DEFAULT true,
    usage_limit         bigint,
    per_customer_limit  bigint,
    customer_id         text        NOT NULL DEFAULT '',
    partner_id          text        NOT NULL DEFAULT '',
    expires_at          timestamptz,
    job_id              text        NOT NULL DEFAULT '',
    uses                bigint      NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
-- codes has no foreign key to promotions and no index by store: each
-- costs a fifth of the time of generating millions of codes. Promotions
-- are never deleted, and the engine reads a code's promotion in the same
-- transaction that inserts the code. Counting a store's codes (the P4
-- quota) goes through its promotions and codes_promotion.
CREATE INDEX codes_promotion ON codes (promotion_id, id);
CREATE INDEX codes_partner ON codes (partner_id, id) WHERE partner_id <> '';

CREATE TABLE jobs (
    id            text        PRIMARY KEY,
    kind          text        NOT NULL,
    store_id      text        NOT NULL,
    promotion_id  text        NOT NULL,
    spec          jsonb       NOT NULL,
    total         bigint      NOT NULL,
    done          bigint      NOT NULL DEFAULT 0,
    state         text        NOT NULL,
    error         text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    finished_at   timestamptz,
    lease_owner   text        NOT NULL DEFAULT '',
    lease_until   timestamptz
);
CREATE INDEX jobs_runnable ON jobs (state) WHERE state IN ('queued', 'running');

CREATE TABLE idempotency_keys (
    key_id        text        NOT NULL,
    key           text        NOT NULL,
    request_hash  bytea       NOT NULL,
    status        integer     NOT NULL DEFAULT 0,
    headers       bytea,
    body          bytea,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (key_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
