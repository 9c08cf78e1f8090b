-- Payouts: a payer's record of money paid to a payee outside the engine
-- (party ids as in the ledger), with the payee's answer. Recording one
-- writes its two paid_out ledger entries in the same transaction. Ids
-- compare byte by byte (COLLATE "C", as in migration 0009).
CREATE TABLE payouts (
    id            text        COLLATE "C" PRIMARY KEY,
    payer         text        COLLATE "C" NOT NULL,
    payee         text        COLLATE "C" NOT NULL,
    store_id      text        COLLATE "C" NOT NULL, -- the store among payer and payee, '' when none
    currency      text        NOT NULL,
    amount        bigint      NOT NULL CHECK (amount > 0),
    paid_on       date        NOT NULL, -- in the marketplace's time zone
    reference     text        NOT NULL,
    state         text        NOT NULL, -- recorded, confirmed, disputed
    message       text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    disputed_at   timestamptz,
    confirmed_at  timestamptz
);
-- A party's payouts, on either side, by id.
CREATE INDEX payouts_payer ON payouts (payer, payee, id);
CREATE INDEX payouts_payee ON payouts (payee, payer, id);

-- A payout's proof file, kept in the database so that every server
-- process serves it; apart from the payout's row, so that lists never
-- read the bytes.
CREATE TABLE payout_proofs (
    payout_id   text        COLLATE "C" PRIMARY KEY REFERENCES payouts (id),
    type        text        NOT NULL,
    size        bigint      NOT NULL,
    sha256      text        NOT NULL,
    data        bytea       NOT NULL,
    uploaded_at timestamptz NOT NULL
);

-- One row per payer, payee and currency: a payout upserts its pair's row
-- (INSERT … ON CONFLICT DO UPDATE), which locks it until the transaction
-- ends, before it reads the payable balance. Write transactions run at
-- READ COMMITTED, so a second payout of the pair waits for the first to
-- commit and then reads the balance with its entries.
CREATE TABLE payout_accounts (
    payer     text        COLLATE "C" NOT NULL,
    payee     text        COLLATE "C" NOT NULL,
    currency  text        NOT NULL,
    locked_at timestamptz NOT NULL,
    PRIMARY KEY (payer, payee, currency)
);

-- The entries of a payout (promokit check sums them by payout).
CREATE INDEX ledger_payout ON ledger_entries (payout_id) WHERE payout_id <> '';
-- The payable balance of a pair, which a payout reads while it holds the
-- pair's lock: the payable entries alone, their amounts included, so that
-- the sum is an index-only scan that reads no other entry of the pair.
CREATE INDEX ledger_payable ON ledger_entries (payer, payee, currency) INCLUDE (amount) WHERE status = 'payable';
