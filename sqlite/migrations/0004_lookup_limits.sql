-- Failed code look-ups, counted per subject ("key:" and an API key id,
-- "addr:" and a client address, "cust:" and a customer key) and per fixed
-- window of one minute, so that every process on the database shares the
-- counts of the limit on guessing codes. The primary key serves both the
-- check (one window, a few subjects) and the purge of ended windows.

CREATE TABLE lookup_failures (
    window_start  INTEGER NOT NULL, -- microseconds: when the window starts
    subject       TEXT    NOT NULL,
    failures      INTEGER NOT NULL,
    PRIMARY KEY (window_start, subject)
) STRICT, WITHOUT ROWID;
