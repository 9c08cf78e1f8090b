-- Payouts: a payer's record of money paid to a payee outside the engine
-- (party ids as in the ledger), with the payee's answer. Recording one
-- writes its two paid_out ledger entries in the same transaction.
CREATE TABLE payouts (
    id            TEXT    PRIMARY KEY,
    payer         TEXT    NOT NULL,
    payee         TEXT    NOT NULL,
    store_id      TEXT    NOT NULL, -- the store among payer and payee, '' when none
    currency      TEXT    NOT NULL,
    amount        INTEGER NOT NULL CHECK (amount > 0),
    paid_on       TEXT    NOT NULL, -- YYYY-MM-DD in the marketplace's time zone
    reference     TEXT    NOT NULL,
    state         TEXT    NOT NULL, -- recorded, confirmed, disputed
    message       TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    disputed_at   INTEGER,
    confirmed_at  INTEGER
) STRICT;
-- A party's payouts, on either side, by id.
CREATE INDEX payouts_payer ON payouts (payer, payee, id);
CREATE INDEX payouts_payee ON payouts (payee, payer, id);

-- A payout's proof file, kept in the database so that every server
-- process serves it; apart from the payout's row, so that lists never
-- read the bytes.
CREATE TABLE payout_proofs (
    payout_id   TEXT    PRIMARY KEY REFERENCES payouts (id),
    type        TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    sha256      TEXT    NOT NULL,
    data        BLOB    NOT NULL,
    uploaded_at INTEGER NOT NULL
) STRICT;

-- One row per payer, payee and currency: a payout locks its pair's row
-- before it reads the payable balance, so that payouts of a pair run one
-- after the other (SQLite's write transactions already do; the row keeps
-- both databases alike).
CREATE TABLE payout_accounts (
    payer     TEXT    NOT NULL,
    payee     TEXT    NOT NULL,
    currency  TEXT    NOT NULL,
    locked_at INTEGER NOT NULL,
    PRIMARY KEY (payer, payee, currency)
) STRICT, WITHOUT ROWID;

-- The entries of a payout (promokit check sums them by payout).
CREATE INDEX ledger_payout ON ledger_entries (payout_id) WHERE payout_id <> '';
-- The payable balance of a pair, which a payout reads while it holds the
-- pair's lock (and, on SQLite, the writer): the payable entries alone,
-- with their amounts, so that the sum reads no other entry of the pair
-- (status is a column too, for SQLite to see that the index covers it).
CREATE INDEX ledger_payable ON ledger_entries (payer, payee, currency, status, amount) WHERE status = 'payable';
