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
	if st := c.peek(query); st != nil {
		return st, nil
	}
	return c.add(ctx, query)
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

// peek returns the cached statement of query, or nil, without preparing.
func (c *stmtCache) peek(query string) *sql.Stmt {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[query]
}

// querier runs statements inside a write transaction, or on the read pool
// through the cache (reads need no transaction: each statement reads a
// committed state, and no read of the engine needs two statements to
// agree).
type querier struct {
	tx    *sql.Tx // nil outside a transaction
	cache *stmtCache
	w     *txStmts // the writer's statements, inside a transaction
}

// txStmts are the prepared statements of one write transaction. The
// writer's only connection belongs to the transaction, so a statement
// cannot be prepared on the pool while it runs: a query met for the first
// time runs unprepared and is recorded in missing, and Write prepares it
// on the pool once the transaction has ended, for the next ones.
type txStmts struct {
	cache   *stmtCache // the writer's cache
	local   map[string]*sql.Stmt
	missing []string
}

// stmt returns the prepared statement of query, or nil to run it
// unprepared.
func (q querier) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if q.tx != nil {
		if q.w == nil {
			return nil, nil
		}
		if st, ok := q.w.local[query]; ok {
			return st, nil
		}
		st := q.w.cache.peek(query)
		if st == nil {
			q.w.missing = append(q.w.missing, query)
			return nil, nil
		}
		st = q.tx.StmtContext(ctx, st)
		if q.w.local == nil {
			q.w.local = make(map[string]*sql.Stmt)
		}
		q.w.local[query] = st
		return st, nil
	}
	if q.cache == nil {
		return nil, nil
	}
	return q.cache.get(ctx, query)
}

// prepareMissing prepares on the writer's pool the statements a
// transaction ran unprepared. It runs after the transaction, when the
// connection is free again.
func (w *txStmts) prepareMissing(ctx context.Context) {
	for _, query := range w.missing {
		// A statement that fails to prepare ran unprepared and failed
		// already; the next transaction tries again.
		_, _ = w.cache.add(ctx, query)
	}
}

// add prepares query and caches it, and returns the cached statement, or
// nil when the cache is full. It prepares without holding the cache's
// lock: the writer's transactions read the cache while they hold the
// connection that a preparation on the writer's pool waits for.
func (c *stmtCache) add(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.RLock()
	cached, ok := c.m[query]
	full := len(c.m) >= maxCached
	c.mu.RUnlock()
	if ok || full {
		return cached, nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cached, ok := c.m[query]; ok {
		st.Close()
		return cached, nil
	}
	if len(c.m) >= maxCached {
		st.Close()
		return nil, nil
	}
	c.m[query] = st
	return st, nil
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
