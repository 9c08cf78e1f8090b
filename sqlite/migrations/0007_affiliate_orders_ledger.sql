-- The affiliate program (memberships, rates, links, clicks, the visitor
-- ids of customers), the orders reported by the order system with the
-- events applied to them, and the ledger of what partners are owed.
-- Timestamps are INTEGER microseconds since the Unix epoch, UTC.

-- One row per period of a store in the program (A1, A2); the latest by
-- joined_at is the one in force.
CREATE TABLE memberships (
    id                 TEXT    PRIMARY KEY,
    store_id           TEXT    NOT NULL REFERENCES stores (id),
    url                TEXT    NOT NULL DEFAULT '',
    joined_at          INTEGER NOT NULL,
    exit_requested_at  INTEGER,
    exits_at           INTEGER
) STRICT;
CREATE INDEX memberships_store ON memberships (store_id, joined_at, id);

-- Commission rates, never edited: each change is a new row in force from
-- effective_at. product_id '' is the store's general rate.
CREATE TABLE affiliate_rates (
    id            INTEGER PRIMARY KEY,
    store_id      TEXT    NOT NULL REFERENCES stores (id),
    product_id    TEXT    NOT NULL DEFAULT '',
    rate_bp       INTEGER NOT NULL,
    removed       INTEGER NOT NULL DEFAULT 0,
    effective_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX affiliate_rates_product ON affiliate_rates (store_id, product_id, effective_at, id);

CREATE TABLE links (
    id          TEXT    PRIMARY KEY,
    token       TEXT    NOT NULL UNIQUE,
    partner_id  TEXT    NOT NULL REFERENCES partners (id),
    store_id    TEXT    NOT NULL REFERENCES stores (id),
    product_id  TEXT    NOT NULL DEFAULT '', -- '': the store's page
    url         TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX links_partner ON links (partner_id, id);
CREATE INDEX links_store ON links (store_id, id);

-- Clicks are the largest and most written table: no foreign key and two
-- indexes only. The id (the rowid) orders clicks of one instant.
CREATE TABLE clicks (
    id          INTEGER PRIMARY KEY,
    link_id     TEXT    NOT NULL,
    store_id    TEXT    NOT NULL,
    partner_id  TEXT    NOT NULL,
    visitor_id  TEXT    NOT NULL,
    clicked_at  INTEGER NOT NULL,
    referrer    TEXT    NOT NULL DEFAULT '',
    user_agent  TEXT    NOT NULL DEFAULT '',
    flag        TEXT    NOT NULL DEFAULT '' -- '': counts for attribution
) STRICT;
-- The attribution of an order (A3) looks for the latest unflagged click of
-- a few visitors on the store's links; flagged clicks never attribute and
-- stay out of the index. Queries repeat flag = '' for SQLite to use it.
CREATE INDEX clicks_attribution ON clicks (store_id, visitor_id, clicked_at) WHERE flag = '';
-- A visitor's recent clicks on a link (the flood check) and a link's
-- counts, answered from the index alone.
CREATE INDEX clicks_link ON clicks (link_id, visitor_id, clicked_at, flag);

-- The visitor ids a customer of the marketplace was seen with on its
-- orders, so that an order without a cookie can still find its clicks.
CREATE TABLE visitors (
    customer_id  TEXT    NOT NULL,
    visitor_id   TEXT    NOT NULL,
    last_seen    INTEGER NOT NULL,
    PRIMARY KEY (customer_id, visitor_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX visitors_recent ON visitors (customer_id, last_seen);

-- Orders as the order system reported them. The lines are read and
-- written with their order, so they are one JSON array of
-- promokit.OrderLine. The attribution columns are all NULL when the order
-- is not attributed. A row holds its lines, too large for a WITHOUT ROWID
-- table, whose rows should stay small.
CREATE TABLE orders (
    store_id           TEXT    NOT NULL,
    id                 TEXT    NOT NULL,
    customer_id        TEXT    NOT NULL DEFAULT '',
    visitor_id         TEXT    NOT NULL DEFAULT '',
    currency           TEXT    NOT NULL,
    lines              TEXT    NOT NULL DEFAULT '[]', -- JSON array of promokit.OrderLine
    shipping           INTEGER NOT NULL DEFAULT 0,
    codes              TEXT    NOT NULL DEFAULT '[]', -- JSON array of code values
    payment            TEXT    NOT NULL DEFAULT '{}', -- JSON of promokit.PaymentPlan
    state              TEXT    NOT NULL,
    paid               INTEGER NOT NULL DEFAULT 0,
    refunded_shipping  INTEGER NOT NULL DEFAULT 0,
    placed_at          INTEGER NOT NULL,
    paid_at            INTEGER,
    completed_at       INTEGER,
    cancelled_at       INTEGER,
    program            TEXT,
    link_id            TEXT,
    partner_id         TEXT,
    click_id           INTEGER,
    clicked_at         INTEGER,
    release_at         INTEGER,
    released           INTEGER NOT NULL DEFAULT 0,
    version            INTEGER NOT NULL DEFAULT 1,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    PRIMARY KEY (store_id, id)
) STRICT;
-- Completed orders waiting for the release of their commissions, in the
-- order they fall due. Queries repeat the predicate for SQLite to use it.
CREATE INDEX orders_due ON orders (release_at, store_id, id)
    WHERE completed_at IS NOT NULL AND released = 0 AND cancelled_at IS NULL;
-- A partner sees the orders attributed to it.
CREATE INDEX orders_partner ON orders (partner_id, id) WHERE partner_id IS NOT NULL;

-- The events applied to orders, by the id the order system gave them.
CREATE TABLE order_events (
    store_id      TEXT    NOT NULL,
    id            TEXT    NOT NULL,
    order_id      TEXT    NOT NULL,
    type          TEXT    NOT NULL,
    request_hash  BLOB    NOT NULL,
    at            INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (store_id, id)
) STRICT, WITHOUT ROWID;

-- The ledger: entries are only ever appended. Entries are never deleted,
-- so the rowid alias gives each new entry a larger id than any before.
CREATE TABLE ledger_entries (
    id          INTEGER PRIMARY KEY,
    partner_id  TEXT    NOT NULL,
    store_id    TEXT    NOT NULL,
    order_id    TEXT    NOT NULL,
    line        INTEGER NOT NULL,
    program     TEXT    NOT NULL,
    status      TEXT    NOT NULL, -- pending, payable
    kind        TEXT    NOT NULL, -- accrued, adjusted, released, reversed
    amount      INTEGER NOT NULL,
    currency    TEXT    NOT NULL,
    basis       INTEGER NOT NULL,
    rate_bp     INTEGER NOT NULL,
    rate_id     INTEGER NOT NULL DEFAULT 0,
    event_id    TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
) STRICT;
-- A partner's or a store's statement over a period: the totals read these
-- indexes alone (they hold every column the sums need).
CREATE INDEX ledger_partner ON ledger_entries (partner_id, created_at, currency, status, kind, amount);
CREATE INDEX ledger_store ON ledger_entries (store_id, created_at, currency, status, kind, amount);
-- An order's entries by id: SQLite appends the rowid (the id) to every index.
CREATE INDEX ledger_order ON ledger_entries (store_id, order_id);
