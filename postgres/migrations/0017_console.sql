-- The console: its sessions, and the indexes its dashboard counts by day.
--
-- A session is a signed-in console visit. The browser holds its random id;
-- only the SHA-256 of the id is stored, as with API keys. Each session is
-- bound to the key it was made from, so that a look-up reads the key in
-- the same statement and a revoked key ends its sessions at once in every
-- process. expires_at is the absolute end; seen_at the last use, which the
-- idle timeout counts from.
CREATE TABLE console_sessions (
    hash        bytea       PRIMARY KEY,
    key_id      text        NOT NULL REFERENCES api_keys (id),
    created_at  timestamptz NOT NULL,
    seen_at     timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX console_sessions_key ON console_sessions (key_id);

-- The dashboard counts redemptions, clicks and orders per day: each count
-- is a range of one of these indexes (the ledger has ledger_created).
-- Rows arrive in about the order of these times, so each index grows at
-- its end.
CREATE INDEX redemptions_created ON redemptions (created_at);
CREATE INDEX clicks_clicked ON clicks (clicked_at);
CREATE INDEX orders_placed ON orders (placed_at);
