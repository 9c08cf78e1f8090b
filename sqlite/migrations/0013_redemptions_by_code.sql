-- A code's usage history: its redemptions by id (RedemptionListByCode).
-- Codeless rows (automatic promotions, code '') have no history by code
-- and stay out of the index; queries repeat code <> '' for SQLite to use
-- it. The index is built from the rows that exist: nothing is rewritten.
CREATE INDEX redemptions_code ON redemptions (code, id) WHERE code <> '';
