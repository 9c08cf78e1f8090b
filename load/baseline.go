package load

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	_ "modernc.org/sqlite" // registers the "sqlite" driver of database/sql

	"github.com/promokit/promokit/sqlite"
)

// HotRow is the baseline of the redeem scenarios: the least a database does
// to take one use of a limited counter and record it. Each Redeem is one
// transaction:
//
//	BEGIN;
//	UPDATE bench_hot_row SET used = used + 1 WHERE id = 1 AND used < lim;
//	INSERT INTO bench_hot_row_use (order_id, row_id, created_at) VALUES (...);
//	COMMIT;
//
// On SQLite it runs on one writer connection with BEGIN IMMEDIATE and the
// writer settings of the product's store (sqlite/db.go): WAL, the
// server's synchronous mode (NORMAL unless its path says full), a busy
// timeout, foreign keys. On PostgreSQL it runs
// through a pgx pool of conns connections (the URL's pool_max_conns when
// it sets one): one per client, as pgbench measures the pattern, so that
// the database sees every client's transaction at once. Its tables are its own: Reset creates them
// when they are missing and Drop drops them, so it never touches the
// product's data. A HotRow is safe for concurrent use.
type HotRow struct {
	kind string
	db   *sql.DB // SQLite
	take *sql.Stmt
	put  *sql.Stmt
	pool *pgxpool.Pool // PostgreSQL
}

// Statements of the hot row; placeholders are rewritten for PostgreSQL.
const (
	hotTake = `UPDATE bench_hot_row SET used = used + 1 WHERE id = 1 AND used < lim`
	hotPut  = `INSERT INTO bench_hot_row_use (order_id, row_id, created_at) VALUES (?, 1, ?)`
)

// sqliteWriterDSN returns the DSN parameters of a SQLite writer connection
// with the durability settings of the product's writer (sqlite/db.go):
// synchronous is the server's mode, NORMAL or FULL.
func sqliteWriterDSN(synchronous string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "cache_size(-65536)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+synchronous+")")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_pragma", "wal_autocheckpoint(16384)")
	q.Add("_pragma", "journal_size_limit(67108864)")
	q.Set("_txlock", "immediate")
	return q.Encode()
}

// OpenHotRow connects to the database at databaseURL, sqlite:PATH or
// postgres://..., for the baseline. It creates nothing: call Reset.
func OpenHotRow(ctx context.Context, databaseURL string, conns int) (*HotRow, error) {
	kind, target := databaseKind(databaseURL)
	switch kind {
	case "sqlite":
		file, synchronous, err := sqlite.SplitPath(target)
		if err != nil {
			return nil, fmt.Errorf("hot row: %w", err)
		}
		db, err := sql.Open("sqlite", file+"?"+sqliteWriterDSN(synchronous))
		if err != nil {
			return nil, fmt.Errorf("hot row: open %s: %w", file, err)
		}
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("hot row: open %s: %w", file, err)
		}
		return &HotRow{kind: kind, db: db}, nil
	case "postgres":
		cfg, err := pgxpool.ParseConfig(target)
		if err != nil {
			return nil, fmt.Errorf("hot row: parse the PostgreSQL URL: %w", err)
		}
		raw, err := pgconn.ParseConfig(target)
		if err != nil {
			return nil, fmt.Errorf("hot row: parse the PostgreSQL URL: %w", err)
		}
		if _, ok := raw.RuntimeParams["pool_max_conns"]; !ok {
			cfg.MaxConns = int32(max(1, min(conns, MaxClients)))
		}
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("hot row: connect to PostgreSQL: %w", err)
		}
		if err := pool.Ping(ctx); err != nil {
			pool.Close()
			return nil, fmt.Errorf("hot row: connect to PostgreSQL: %w", err)
		}
		return &HotRow{kind: kind, pool: pool}, nil
	}
	return nil, fmt.Errorf("hot row: database URL must start with sqlite: or postgres://")
}

// Reset creates the tables when they are missing, empties them and sets
// the row to no use of limit.
func (h *HotRow) Reset(ctx context.Context, limit int64) error {
	if h.pool != nil {
		tx, err := h.pool.Begin(ctx)
		if err != nil {
			return fmt.Errorf("hot row: reset: %w", err)
		}
		defer tx.Rollback(ctx)
		for _, q := range []string{
			`CREATE TABLE IF NOT EXISTS bench_hot_row (id bigint PRIMARY KEY, used bigint NOT NULL, lim bigint NOT NULL)`,
			`CREATE TABLE IF NOT EXISTS bench_hot_row_use (order_id text PRIMARY KEY, row_id bigint NOT NULL, created_at timestamptz NOT NULL)`,
			`TRUNCATE bench_hot_row_use, bench_hot_row`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("hot row: reset: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO bench_hot_row (id, used, lim) VALUES (1, 0, $1)`, limit); err != nil {
			return fmt.Errorf("hot row: reset: %w", err)
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("hot row: reset: %w", err)
		}
		return nil
	}
	if h.take != nil {
		h.take.Close()
		h.put.Close()
		h.take, h.put = nil, nil
	}
	tx, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("hot row: reset: %w", err)
	}
	defer tx.Rollback()
	for _, q := range []string{
		`CREATE TABLE IF NOT EXISTS bench_hot_row (id INTEGER PRIMARY KEY, used INTEGER NOT NULL, lim INTEGER NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS bench_hot_row_use (order_id TEXT PRIMARY KEY, row_id INTEGER NOT NULL, created_at INTEGER NOT NULL)`,
		`DELETE FROM bench_hot_row_use`,
		`DELETE FROM bench_hot_row`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("hot row: reset: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO bench_hot_row (id, used, lim) VALUES (1, 0, ?)`, limit); err != nil {
		return fmt.Errorf("hot row: reset: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("hot row: reset: %w", err)
	}
	// Prepared once, so that a redemption costs what the product's
	// prepared statements cost.
	if h.take, err = h.db.PrepareContext(ctx, hotTake); err != nil {
		return fmt.Errorf("hot row: prepare: %w", err)
	}
	if h.put, err = h.db.PrepareContext(ctx, hotPut); err != nil {
		return fmt.Errorf("hot row: prepare: %w", err)
	}
	return nil
}

// Redeem takes one use of the row and records it under orderID, in one
// transaction. It returns Refused when the row is at its limit, and
// ServerError with the database's error otherwise.
func (h *HotRow) Redeem(ctx context.Context, orderID string) (Outcome, string) {
	now := time.Now().UTC()
	if h.pool != nil {
		tx, err := h.pool.Begin(ctx)
		if err != nil {
			return ServerError, "begin: " + err.Error()
		}
		defer tx.Rollback(ctx)
		tag, err := tx.Exec(ctx, hotTake)
		if err != nil {
			return ServerError, "update: " + err.Error()
		}
		if tag.RowsAffected() == 0 {
			return Refused, ""
		}
		if _, err := tx.Exec(ctx, `INSERT INTO bench_hot_row_use (order_id, row_id, created_at) VALUES ($1, 1, $2)`, orderID, now); err != nil {
			return ServerError, "insert: " + err.Error()
		}
		if err := tx.Commit(ctx); err != nil {
			return ServerError, "commit: " + err.Error()
		}
		return OK, ""
	}
	if h.take == nil {
		return ServerError, "hot row: Reset was not called"
	}
	tx, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		return ServerError, "begin: " + err.Error()
	}
	defer tx.Rollback()
	res, err := tx.StmtContext(ctx, h.take).ExecContext(ctx)
	if err != nil {
		return ServerError, "update: " + err.Error()
	}
	n, err := res.RowsAffected()
	if err != nil {
		return ServerError, "update: " + err.Error()
	}
	if n == 0 {
		return Refused, ""
	}
	if _, err := tx.StmtContext(ctx, h.put).ExecContext(ctx, orderID, now.UnixMicro()); err != nil {
		return ServerError, "insert: " + err.Error()
	}
	if err := tx.Commit(); err != nil {
		return ServerError, "commit: " + err.Error()
	}
	return OK, ""
}

// Used returns the uses the row has counted and the rows recorded.
func (h *HotRow) Used(ctx context.Context) (used, rows int64, err error) {
	const q = `SELECT (SELECT used FROM bench_hot_row WHERE id = 1), (SELECT count(*) FROM bench_hot_row_use)`
	if h.pool != nil {
		err = h.pool.QueryRow(ctx, q).Scan(&used, &rows)
	} else {
		err = h.db.QueryRowContext(ctx, q).Scan(&used, &rows)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("hot row: read the uses: %w", err)
	}
	return used, rows, nil
}

// Drop drops the tables of the hot row.
func (h *HotRow) Drop(ctx context.Context) error {
	for _, q := range []string{`DROP TABLE IF EXISTS bench_hot_row_use`, `DROP TABLE IF EXISTS bench_hot_row`} {
		var err error
		if h.pool != nil {
			_, err = h.pool.Exec(ctx, q)
		} else {
			_, err = h.db.ExecContext(ctx, q)
		}
		if err != nil {
			return fmt.Errorf("hot row: drop its tables: %w", err)
		}
	}
	return nil
}

// Close closes the connections.
func (h *HotRow) Close() error {
	if h.pool != nil {
		h.pool.Close()
		return nil
	}
	if h.take != nil {
		h.take.Close()
		h.put.Close()
	}
	return h.db.Close()
}

// LedgerSum is the baseline of the statement scenarios: a plain SUM of the
// amounts of the ledger entries a party pays or is paid created in [from,
// to), the least a database does to total them: one index-only sum of
// each side.
func (h *HotRow) LedgerSum(ctx context.Context, party string, from, to time.Time) (int64, error) {
	var sum int64
	var err error
	if h.pool != nil {
		err = h.pool.QueryRow(ctx, `SELECT
			(SELECT coalesce(sum(amount), 0) FROM ledger_entries WHERE payer = $1 AND created_at >= $2 AND created_at < $3) +
			(SELECT coalesce(sum(amount), 0) FROM ledger_entries WHERE payee = $1 AND created_at >= $2 AND created_at < $3)`,
			party, from, to).Scan(&sum)
	} else {
		err = h.db.QueryRowContext(ctx, `SELECT
			(SELECT coalesce(sum(amount), 0) FROM ledger_entries WHERE payer = ?1 AND created_at >= ?2 AND created_at < ?3) +
			(SELECT coalesce(sum(amount), 0) FROM ledger_entries WHERE payee = ?1 AND created_at >= ?2 AND created_at < ?3)`,
			party, from.UnixMicro(), to.UnixMicro()).Scan(&sum)
	}
	if err != nil {
		return 0, fmt.Errorf("ledger sum: %w", err)
	}
	return sum, nil
}
