-- Foundation: marketplace settings, keys, stores, partners, products,
-- promotions, codes, jobs and idempotency records.
-- Timestamps are INTEGER microseconds since the Unix epoch, UTC.

CREATE TABLE settings (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    name        TEXT    NOT NULL,
    currency    TEXT    NOT NULL,
    time_zone   TEXT    NOT NULL,
    policy      TEXT    NOT NULL, -- JSON of promokit.Policy
    version     INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE stores (
    id                   TEXT    PRIMARY KEY,
    name                 TEXT    NOT NULL,
    partner_promo_codes  INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL
) STRICT;

CREATE TABLE partners (
    id          TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE api_keys (
    id          TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL DEFAULT '',
    role        TEXT    NOT NULL,
    store_id    TEXT    NOT NULL DEFAULT '',
    partner_id  TEXT    NOT NULL DEFAULT '',
    prefix      TEXT    NOT NULL,
    hash        BLOB    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) STRICT;

CREATE TABLE products (
    store_id    TEXT    NOT NULL REFERENCES stores (id),
    id          TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    url         TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (store_id, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE promotions (
    id                 TEXT    PRIMARY KEY,
    store_id           TEXT    NOT NULL REFERENCES stores (id),
    name               TEXT    NOT NULL,
    description        TEXT    NOT NULL DEFAULT '',
    channel            TEXT    NOT NULL,
    type               TEXT    NOT NULL,
    amount_off         INTEGER NOT NULL DEFAULT 0,
    percent_off_bp     INTEGER NOT NULL DEFAULT 0,
    currency           TEXT    NOT NULL,
    min_order_amount   INTEGER NOT NULL DEFAULT 0,
    product_ids        TEXT    NOT NULL DEFAULT '[]', -- JSON array; empty: storewide
    starts_at          INTEGER NOT NULL,
    ends_at            INTEGER,
    total_uses         INTEGER,
    total_discount     INTEGER,
    per_customer       INTEGER,
    exclusive          INTEGER NOT NULL DEFAULT 0,
    priority           INTEGER NOT NULL DEFAULT 0,
    coupon_per_person  INTEGER,
    coupon_quantity    INTEGER,
    coupon_valid_days  INTEGER,
    active             INTEGER NOT NULL DEFAULT 1,
    ended_at           INTEGER,
    version            INTEGER NOT NULL DEFAULT 1,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    uses               INTEGER NOT NULL DEFAULT 0,
    discount_spent     INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX promotions_store ON promotions (store_id, id);

CREATE TABLE codes (
    id                  INTEGER PRIMARY KEY,
    code                TEXT    NOT NULL UNIQUE, -- upper case: unique regardless of case
    promotion_id        TEXT    NOT NULL, -- no foreign key: see below
    store_id            TEXT    NOT NULL,
    active              INTEGER NOT NULL DEFAULT 1,
    usage_limit         INTEGER,
    per_customer_limit  INTEGER,
    customer_id         TEXT    NOT NULL DEFAULT '',
    partner_id          TEXT    NOT NULL DEFAULT '',
    expires_at          INTEGER,
    job_id              TEXT    NOT NULL DEFAULT '',
    uses                INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
) STRICT;
-- codes has no foreign key to promotions and no index by store: each
-- costs a fifth of the time of generating millions of codes. Promotions
-- are never deleted, and the engine reads a code's promotion in the same
-- transaction that inserts the code. Counting a store's codes (the P4
-- quota) goes through its promotions and codes_promotion.
CREATE INDEX codes_promotion ON codes (promotion_id, id);
CREATE INDEX codes_partner ON codes (partner_id, id) WHERE partner_id <> '';

CREATE TABLE jobs (
    id            TEXT    PRIMARY KEY,
    kind          TEXT    NOT NULL,
    store_id      TEXT    NOT NULL,
    promotion_id  TEXT    NOT NULL,
    spec          TEXT    NOT NULL, -- JSON of promokit.CodeSpec
    total         INTEGER NOT NULL,
    done          INTEGER NOT NULL DEFAULT 0,
    state         TEXT    NOT NULL,
    error         TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    lease_owner   TEXT    NOT NULL DEFAULT '',
    lease_until   INTEGER
) STRICT;
CREATE INDEX jobs_runnable ON jobs (state) WHERE state IN ('queued', 'running');

CREATE TABLE idempotency_keys (
    key_id        TEXT    NOT NULL,
    key           TEXT    NOT NULL,
    request_hash  BLOB    NOT NULL,
    status        INTEGER NOT NULL DEFAULT 0,
    headers       BLOB,
    body          BLOB,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (key_id, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
