-- The console's charts per day of one object: a promotion's uses, a link's
-- clicks and attributed orders. Each count is a range of one of these
-- indexes, by the object and the time, so that a chart costs what happened
-- in its days, whatever the object's history.
--
-- A promotion's uses: redemptions_promotion (promotion_id, state) gains
-- created_at, so that the redeemed rows of a promotion in a day are one
-- range, counted from the index alone. It replaces the index rather than
-- adding one: every redeem already writes an entry of it and a change of
-- state already moves that entry, so redeems write no more than before,
-- and what read it by promotion and state reads the same prefix.
DROP INDEX redemptions_promotion;
CREATE INDEX redemptions_promotion ON redemptions (promotion_id, state, created_at);

-- A link's clicks per day, counted and flagged apart from the index alone.
-- clicks_link leads with the visitor after the link (the flood check), so
-- a day of a link is no range of it.
CREATE INDEX clicks_link_day ON clicks (link_id, clicked_at) INCLUDE (flag);

-- The orders attributed to a link, by the time they were placed. Orders
-- without a link stay out of the index.
CREATE INDEX orders_link ON orders (link_id, placed_at) WHERE link_id IS NOT NULL;
