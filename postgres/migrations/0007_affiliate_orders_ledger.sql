-- The affiliate program (memberships, rates, links, clicks, the visitor
-- ids of customers), the orders reported by the order system with the
-- events applied to them, and the ledger of what partners are owed.

-- One row per period of a store in the program (A1, A2); the latest by
-- joined_at is the one in force.
CREATE TABLE memberships (
    id                 text        PRIMARY KEY,
    store_id           text        NOT NULL REFERENCES stores (id),
    url                text        NOT NULL DEFAULT '',
    joined_at          timestamptz NOT NULL,
    exit_requested_at  timestamptz,
    exits_at           timestamptz
);
CREATE INDEX memberships_store ON memberships (store_id, joined_at, id);

-- Commission rates, never edited: each change is a new row in force from
-- effective_at. product_id '' is the store's general rate.
CREATE TABLE affiliate_rates (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    store_id      text        NOT NULL REFERENCES stores (id),
    product_id    text        NOT NULL DEFAULT '',
    rate_bp       bigint      NOT NULL,
    removed       boolean     NOT NULL DEFAULT false,
    effective_at  timestamptz NOT NULL
);
CREATE INDEX affiliate_rates_product ON affiliate_rates (store_id, product_id, effective_at, id);

CREATE TABLE links (
    id          text        PRIMARY KEY,
    token       text        NOT NULL UNIQUE,
    partner_id  text        NOT NULL REFERENCES partners (id),
    store_id    text        NOT NULL REFERENCES stores (id),
    product_id  text        NOT NULL DEFAULT '', -- '': the store's page
    url         text        NOT NULL,
    created_at  timestamptz NOT NULL
);
CREATE INDEX links_partner ON links (partner_id, id);
CREATE INDEX links_store ON links (store_id, id);

-- Clicks are the largest and most written table: no foreign key and two
-- indexes only. The id orders clicks of one instant.
CREATE TABLE clicks (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    link_id     text        NOT NULL,
    store_id    text        NOT NULL,
    partner_id  text        NOT NULL,
    visitor_id  text        NOT NULL,
    clicked_at  timestamptz NOT NULL,
    referrer    text        NOT NULL DEFAULT '',
    user_agent  text        NOT NULL DEFAULT '',
    flag        text        NOT NULL DEFAULT '' -- '': counts for attribution
);
-- The attribution of an order (A3) looks for the latest unflagged click of
-- a few visitors on the store's links; flagged clicks never attribute and
-- stay out of the index.
CREATE INDEX clicks_attribution ON clicks (store_id, visitor_id, clicked_at) WHERE flag = '';
-- A visitor's recent clicks on a link (the flood check) and a link's
-- counts. The flag rides along so that the counts can be answered from
-- the index alone.
CREATE INDEX clicks_link ON clicks (link_id, visitor_id, clicked_at) INCLUDE (flag);

-- The visitor ids a customer of the marketplace was seen with on its
-- orders, so that an order without a cookie can still find its clicks.
CREATE TABLE visitors (
    customer_id  text        NOT NULL,
    visitor_id   text        NOT NULL,
    last_seen    timestamptz NOT NULL,
    PRIMARY KEY (customer_id, visitor_id)
);
CREATE INDEX visitors_recent ON visitors (customer_id, last_seen);

-- Orders as the order system reported them. The lines are read and
-- written with their order, so they are one JSON array of
-- promokit.OrderLine. The attribution columns are all NULL when the order
-- is not attributed.
CREATE TABLE orders (
    store_id           text        NOT NULL,
    id                 text        NOT NULL,
    customer_id        text        NOT NULL DEFAULT '',
    visitor_id         text        NOT NULL DEFAULT '',
    currency           text        NOT NULL,
    lines              jsonb       NOT NULL DEFAULT '[]', -- array of promokit.OrderLine
    shipping           bigint      NOT NULL DEFAULT 0,
    codes              text[]      NOT NULL DEFAULT '{}',
    payment            jsonb       NOT NULL DEFAULT '{}', -- promokit.PaymentPlan
    state              text        NOT NULL,
    paid               bigint      NOT NULL DEFAULT 0,
    refunded_shipping  bigint      NOT NULL DEFAULT 0,
    placed_at          timestamptz NOT NULL,
    paid_at            timestamptz,
    completed_at       timestamptz,
    cancelled_at       timestamptz,
    program            text,
    link_id            text,
    partner_id         text,
    click_id           bigint,
    clicked_at         timestamptz,
    release_at         timestamptz,
    released           boolean     NOT NULL DEFAULT false,
    version            bigint      NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    PRIMARY KEY (store_id, id)
);
-- Completed orders waiting for the release of their commissions, in the
-- order they fall due.
CREATE INDEX orders_due ON orders (release_at, store_id, id)
    WHERE completed_at IS NOT NULL AND NOT released AND cancelled_at IS NULL;
-- A partner sees the orders attributed to it.
CREATE INDEX orders_partner ON orders (partner_id, id) WHERE partner_id IS NOT NULL;

-- The events applied to orders, by the id the order system gave them.
CREATE TABLE order_events (
    store_id      text        NOT NULL,
    id            text        NOT NULL,
    order_id      text        NOT NULL,
    type          text        NOT NULL,
    request_hash  bytea       NOT NULL,
    at            timestamptz NOT NULL,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (store_id, id)
);

-- The ledger: entries are only ever appended.
CREATE TABLE ledger_entries (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id  text        NOT NULL,
    store_id    text        NOT NULL,
    order_id    text        NOT NULL,
    line        integer     NOT NULL,
    program     text        NOT NULL,
    status      text        NOT NULL, -- pending, payable
    kind        text        NOT NULL, -- accrued, adjusted, released, reversed
    amount      bigint      NOT NULL,
    currency    text        NOT NULL,
    basis       bigint      NOT NULL,
    rate_bp     bigint      NOT NULL,
    rate_id     bigint      NOT NULL DEFAULT 0,
    event_id    text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL
);
-- A partner's or a store's statement over a period. The totals group the
-- entries of a created_at range by currency, status and kind: INCLUDE
-- carries those columns and the amount, so that the sums are an
-- index-only scan that never reads the table (a month of a million entries
-- within 200 ms). The pages of entries find their ids here too (id is a
-- key column) and read only the page's rows from the table.
CREATE INDEX ledger_partner ON ledger_entries (partner_id, created_at, id) INCLUDE (currency, status, kind, amount);
CREATE INDEX ledger_store ON ledger_entries (store_id, created_at, id) INCLUDE (currency, status, kind, amount);
CREATE INDEX ledger_order ON ledger_entries (store_id, order_id, id);
