-- A store's redirect hosts: the domains its affiliate links may open, a
-- JSON array of lower-case host names, each exact or "*." and a domain for
-- the hosts below it. The admin sets them; '[]' (every store's value at
-- first) allows any domain, as before.
ALTER TABLE stores ADD COLUMN redirect_hosts TEXT NOT NULL DEFAULT '[]';
