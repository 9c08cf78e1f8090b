-- Money between three parties: every ledger entry names who pays (payer)
-- and who is paid (payee), each the marketplace ('marketplace'), a store
-- (its id) or a partner (its id); the rule that earned it (O1); and the
-- payout that moved it to paid, if any. The entries so far are all
-- affiliate commissions, which stores owe partners (A3): their payer is
-- the order's store and their payee the partner. partner_id goes: the
-- payee says it. Party ids are ASCII and compare byte by byte (COLLATE
-- "C", as in migration 0009).
ALTER TABLE ledger_entries
    ADD COLUMN payer text COLLATE "C" NOT NULL DEFAULT '',
    ADD COLUMN payee text COLLATE "C" NOT NULL DEFAULT '',
    ADD COLUMN rule text NOT NULL DEFAULT '',
    ADD COLUMN payout_id text NOT NULL DEFAULT '';
UPDATE ledger_entries SET payer = store_id, payee = partner_id, rule = 'A3';
DROP INDEX ledger_partner;
DROP INDEX ledger_store;
ALTER TABLE ledger_entries DROP COLUMN partner_id;
-- A party's statement over a period sums what it pays and what it is
-- paid: INCLUDE carries every column the sums need, so that they are an
-- index-only scan, and the pages of entries find their ids here.
CREATE INDEX ledger_payer ON ledger_entries (payer, created_at, id) INCLUDE (payee, currency, program, status, kind, amount);
CREATE INDEX ledger_payee ON ledger_entries (payee, created_at, id) INCLUDE (payer, currency, program, status, kind, amount);

-- The daily roll-ups, one row per UTC day and payer, payee, currency,
-- program, status and kind, rebuilt from the entries of the days rolled
-- up so far: rolled_until does not move.
DROP TABLE ledger_daily;
CREATE TABLE ledger_daily (
    payer     text        COLLATE "C" NOT NULL,
    day       timestamptz NOT NULL, -- 0:00 UTC of the day
    payee     text        COLLATE "C" NOT NULL,
    currency  text        NOT NULL,
    program   text        NOT NULL,
    status    text        NOT NULL,
    kind      text        NOT NULL,
    amount    bigint      NOT NULL,
    entries   bigint      NOT NULL,
    PRIMARY KEY (payer, day, payee, currency, program, status, kind)
);
-- What a party is paid; what it pays reads the primary key.
CREATE INDEX ledger_daily_payee ON ledger_daily (payee, day);
INSERT INTO ledger_daily (payer, day, payee, currency, program, status, kind, amount, entries)
SELECT payer, date_bin('1 day', created_at, timestamptz '1970-01-01 00:00:00+00'), payee, currency, program, status, kind,
       sum(amount), count(*)
FROM ledger_entries
WHERE created_at < coalesce((SELECT rolled_until FROM ledger_rollup WHERE id = 1), '-infinity')
GROUP BY 1, 2, 3, 4, 5, 6, 7;
