-- A customer's visitor ids are bound per store (A3): the binding that an
-- order of store S writes (its customer used its visitor id) serves only
-- the attribution of S's later orders. Bound marketplace-wide, it let one
-- store's checkout key bind any customer to a visitor who had clicked a
-- link to another store, and that store's next order from the customer
-- then paid the link's affiliate.
--
-- The existing rows keep their bindings, each to the stores whose orders
-- wrote it: every row was written by a placed order carrying both ids,
-- and orders are never deleted, so the orders tell which stores wrote a
-- binding and when each last did (an order's created_at is the last_seen
-- its write set). A row that no order explains has no store to go to and
-- is dropped: it could only come from outside promokit.
--
-- SQLite cannot change a primary key: the table is rebuilt (create, fill,
-- drop, rename, index) inside the migration's transaction. No table
-- refers to visitors.

CREATE TABLE visitors_new (
    store_id     TEXT    NOT NULL,
    customer_id  TEXT    NOT NULL,
    visitor_id   TEXT    NOT NULL,
    last_seen    INTEGER NOT NULL,
    PRIMARY KEY (store_id, customer_id, visitor_id)
) STRICT, WITHOUT ROWID;

INSERT INTO visitors_new (store_id, customer_id, visitor_id, last_seen)
SELECT o.store_id, o.customer_id, o.visitor_id, max(o.created_at)
FROM orders o
WHERE o.customer_id <> '' AND o.visitor_id <> ''
  AND EXISTS (SELECT 1 FROM visitors v WHERE v.customer_id = o.customer_id AND v.visitor_id = o.visitor_id)
GROUP BY o.store_id, o.customer_id, o.visitor_id;

DROP TABLE visitors;
ALTER TABLE visitors_new RENAME TO visitors;
-- An order without a cookie looks for its customer's most recent visitor
-- ids at its store.
CREATE INDEX visitors_recent ON visitors (store_id, customer_id, last_seen);
