-- One attribution per order line (O1): the codes a placed event names are
-- checked against the order's redemptions, and those the order did not
-- redeem earn nothing. The order keeps them, so that its answer, a replay
-- of its placed event included, reports them. Orders placed before have
-- none.
ALTER TABLE orders ADD COLUMN unredeemed_codes TEXT NOT NULL DEFAULT '[]'; -- JSON array of code values
