-- A store's stacking rule: how many promotions one order may combine (0: no limit).
ALTER TABLE stores ADD COLUMN max_promotions_per_order bigint NOT NULL DEFAULT 0;
