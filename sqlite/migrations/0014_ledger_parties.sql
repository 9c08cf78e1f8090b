-- Money between three parties: every ledger entry names who pays (payer)
-- and who is paid (payee), each the marketplace ('marketplace'), a store
-- (its id) or a partner (its id); the rule that earned it (O1); and the
-- payout that moved it to paid, if any. The entries so far are all
-- affiliate commissions, which stores owe partners (A3): their payer is
-- the order's store and their payee the partner. partner_id goes: the
-- payee says it.
ALTER TABLE ledger_entries ADD COLUMN payer TEXT NOT NULL DEFAULT '';
ALTER TABLE ledger_entries ADD COLUMN payee TEXT NOT NULL DEFAULT '';
ALTER TABLE ledger_entries ADD COLUMN rule TEXT NOT NULL DEFAULT '';
ALTER TABLE ledger_entries ADD COLUMN payout_id TEXT NOT NULL DEFAULT '';
UPDATE ledger_entries SET payer = store_id, payee = partner_id, rule = 'A3';
DROP INDEX ledger_partner;
DROP INDEX ledger_store;
ALTER TABLE ledger_entries DROP COLUMN partner_id;
-- A party's statement over a period sums what it pays and what it is
-- paid: these indexes hold every column the sums need.
CREATE INDEX ledger_payer ON ledger_entries (payer, created_at, payee, currency, program, status, kind, amount);
CREATE INDEX ledger_payee ON ledger_entries (payee, created_at, payer, currency, program, status, kind, amount);

-- The daily roll-ups, one row per UTC day and payer, payee, currency,
-- program, status and kind, rebuilt from the entries of the days rolled
-- up so far: rolled_until does not move.
DROP TABLE ledger_daily;
CREATE TABLE ledger_daily (
    payer     TEXT    NOT NULL,
    day       INTEGER NOT NULL, -- 0:00 UTC of the day
    payee     TEXT    NOT NULL,
    currency  TEXT    NOT NULL,
    program   TEXT    NOT NULL,
    status    TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    amount    INTEGER NOT NULL,
    entries   INTEGER NOT NULL,
    PRIMARY KEY (payer, day, payee, currency, program, status, kind)
) STRICT, WITHOUT ROWID;
-- What a party is paid; what it pays reads the primary key.
CREATE INDEX ledger_daily_payee ON ledger_daily (payee, day);
INSERT INTO ledger_daily (payer, day, payee, currency, program, status, kind, amount, entries)
SELECT payer, created_at - created_at % 86400000000, payee, currency, program, status, kind, sum(amount), count(*)
FROM ledger_entries
WHERE created_at < coalesce((SELECT rolled_until FROM ledger_rollup WHERE id = 1), 0)
GROUP BY payer, created_at - created_at % 86400000000, payee, currency, program, status, kind;
