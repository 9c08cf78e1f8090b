-- Codeless redemptions: an automatic promotion applies without a code, and
-- its redemption is a row whose code is ''. An order has at most one row
-- per code and, without a code, at most one row per promotion: the table's
-- UNIQUE (store_id, order_id, code) becomes two partial unique indexes.
-- Reads of an order's rows go through both, each query repeating the
-- predicate of its index so that a generic plan can prove it.

ALTER TABLE redemptions DROP CONSTRAINT redemptions_store_id_order_id_code_key;
CREATE UNIQUE INDEX redemptions_order_code ON redemptions (store_id, order_id, code) WHERE code <> '';
CREATE UNIQUE INDEX redemptions_order_promotion ON redemptions (store_id, order_id, promotion_id) WHERE code = '';
