-- Daily roll-ups of the ledger, so that a statement over a month of a
-- million entries sums a few rows per day instead of every entry.
--
-- One row per UTC day and partner, store, currency, status and kind: the
-- sum of the amounts of the entries created that day and how many there
-- are. The entries are only ever appended, so a day's row never changes
-- once written; days are rolled up in the background once they have
-- closed (RollupLedger), and statements read the rows of the whole days
-- rolled up and the entries of the rest.
CREATE TABLE ledger_daily (
    partner_id  text        NOT NULL,
    store_id    text        NOT NULL,
    day         timestamptz NOT NULL, -- 0:00 UTC of the day
    currency    text        NOT NULL,
    status      text        NOT NULL,
    kind        text        NOT NULL,
    amount      bigint      NOT NULL,
    entries     bigint      NOT NULL,
    PRIMARY KEY (partner_id, store_id, day, currency, status, kind)
);
-- A store's statement; a partner's reads the primary key.
CREATE INDEX ledger_daily_store ON ledger_daily (store_id, day);

-- How far the roll-ups go: every entry created before rolled_until is in
-- ledger_daily. The single row (id 1) is created by the first roll-up;
-- rolled_until stays NULL until a day has been rolled up.
CREATE TABLE ledger_rollup (
    id            integer     PRIMARY KEY CHECK (id = 1),
    rolled_until  timestamptz
);

-- A roll-up reads the entries of a range of days, of every partner and
-- store.
CREATE INDEX ledger_created ON ledger_entries (created_at);
