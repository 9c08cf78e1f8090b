package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// stmtCache keeps prepared statements of one pool by their SQL, so that a
// query is parsed once per connection rather than once per call: parsing
// was a third of the cost of looking a code up. Dynamic SQL (IN lists of
// varying length) would fill it, so it stops caching at maxCached
// statements and prepares the rest per call.
type stmtCache struct {
	db *sql.DB
	mu sync.RWMutex
	m  map[string]*sql.Stmt
}

const maxCached = 512

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: make(map[string]*sql.Stmt)}
}

// get returns the cached statement of query, preparing it on first use, or
// nil when the cache is full.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.RLock()
	st, ok := c.m[query]
	c.mu.RUnlock()
	if ok {
		return st, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st, nil
	}
	if len(c.m) >= maxCached {
		return nil, nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	c.m[query] = st
	return st, nil
}

// close closes every cached statement.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		st.Close()
		delete(c.m, q)
	}
}

// querier runs statements inside a write transaction, or on the read pool
// through the cache (reads need no transaction: each statement reads a
// committed state, and no read of the engine needs two statements to
// agree).
type querier struct {
	tx    *sql.Tx // nil outside a transaction
	cache *stmtCache
}

// stmt returns the cached statement of a read, or nil inside a write
// transaction: the writer pool's only connection belongs to the
// transaction, so preparing on the pool would wait for it forever.
func (q querier) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if q.tx != nil || q.cache == nil {
		return nil, nil
	}
	return q.cache.get(ctx, query)
}

// ExecContext runs a statement that returns no rows.
func (q querier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := q.stmt(ctx, query)
	switch {
	case err != nil:
		return nil, err
	case st != nil:
		return st.ExecContext(ctx, args...)
	case q.tx != nil:
		return q.tx.ExecContext(ctx, query, args...)
	}
	return q.cache.db.ExecContext(ctx, query, args...)
}

// QueryContext runs a query that returns rows.
func (q querier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := q.stmt(ctx, query)
	switch {
	case err != nil:
		return nil, err
	case st != nil:
		return st.QueryContext(ctx, args...)
	case q.tx != nil:
		return q.tx.QueryContext(ctx, query, args...)
	}
	return q.cache.db.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query that returns at most one row.
func (q querier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := q.stmt(ctx, query)
	switch {
	case err != nil:
		// A *sql.Row cannot be built with an error outside database/sql;
		// run the query unprepared and let it report the error.
	case st != nil:
		return st.QueryRowContext(ctx, args...)
	}
	if q.tx != nil {
		return q.tx.QueryRowContext(ctx, query, args...)
	}
	return q.cache.db.QueryRowContext(ctx, query, args...)
}

// ExecUncached runs a statement without caching it, for SQL that varies
// from call to call.
func (q querier) ExecUncached(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if q.tx != nil {
		return q.tx.ExecContext(ctx, query, args...)
	}
	return q.cache.db.ExecContext(ctx, query, args...)
}
