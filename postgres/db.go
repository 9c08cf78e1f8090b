// Package postgres implements storage.DB over PostgreSQL with pgx/v5 and
// pgxpool, without database/sql.
//
// Write transactions run at READ COMMITTED and serialise where they must
// through row locks (GetStore with lock) and conditional updates. Reads run
// each statement directly on the pool, so the hot look-up of a code by its
// value is one round trip with a statement that pgx prepares once per
// connection and caches. Times are stored as timestamptz and come back in
// UTC with microsecond precision; the time of every query arrives as a
// parameter, and no query calls now().
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/promokit/promokit/storage"
)

// DefaultMaxConns is the pool size when the URL does not set pool_max_conns.
// A 2-core server gains nothing from more concurrent statements, and more
// waiters on one hot row only lengthen its lock queue (HOT-LIMITS.md).
const DefaultMaxConns = 16

// keysMaxConns is the size of the pool of the checkout's reads by key:
// the checkout batches them, a few batches at most at once.
const keysMaxConns = 4

var _ storage.DB = (*DB)(nil)

// DB is a promokit database on PostgreSQL. It is safe for concurrent use.
type DB struct {
	pool       *pgxpool.Pool
	keys       *pgxpool.Pool // the checkout's reads by key, with cached plans: see Open
	migrations []migration
}

// Open connects to the database at url, a PostgreSQL URL or keyword/value
// string. Runtime parameters in it, such as search_path, apply to every
// connection, and pgxpool's pool_* parameters configure the pool. Open
// checks that the database answers; it does not migrate (see Migrate).
func Open(ctx context.Context, url string) (*DB, error) {
	migrations, err := loadMigrations()
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse url: %w", err)
	}
	raw, err := pgconn.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse url: %w", err)
	}
	if _, ok := raw.RuntimeParams["pool_max_conns"]; !ok {
		cfg.MaxConns = DefaultMaxConns
	}
	// Statements outside Write and Migrate run read-only, so that a write
	// inside Read fails as it does on SQLite instead of committing alone.
	cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	// pgx prepares every statement once per connection, and PostgreSQL
	// then switches to a generic plan after five executions. A generic
	// plan chosen while a table is nearly empty (a new database, the
	// redemptions of a new store) keeps scanning it whole as it grows, and
	// the checkout's `= ANY($1)` reads slow down as the table fills.
	// Planning each execution costs little beside that.
	// A URL that sets plan_cache_mode keeps its own.
	//
	// The checkout's reads by key (a store's settings, codes by value,
	// their promotions, the automatic promotions, customers' counters,
	// failed look-ups, a redeem batch's orders' redemptions) go to a
	// second, small pool that plans each statement once per connection
	// (force_generic_plan): planning them on every batch took much of
	// PostgreSQL's CPU in validate, and PostgreSQL's own choice (auto)
	// still planned some of them every time (BENCHMARKS.md, 2026-12-03).
	// Every one of them reads rows by the whole of a key, and that pool
	// turns sequential scans off (enable_seqscan), so that a generic plan
	// made while a table was nearly empty cannot settle on scanning it;
	// TestQualifyPlans checks that each one's generic plan looks its rows
	// up by their key.
	keysCfg := cfg.Copy()
	keysCfg.MaxConns = keysMaxConns
	keysCfg.ConnConfig.RuntimeParams["enable_seqscan"] = "off"
	if _, ok := raw.RuntimeParams["plan_cache_mode"]; !ok {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
		keysCfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	}
	cfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		// Scan every timestamptz in UTC rather than the local zone.
		conn.TypeMap().RegisterType(&pgtype.Type{
			Name:  "timestamptz",
			OID:   pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
		})
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open pool: %w", err)
	}
	keysCfg.AfterConnect = cfg.AfterConnect
	keys, err := pgxpool.NewWithConfig(ctx, keysCfg)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open pool: %w", err)
	}
	s := &DB{pool: pool, keys: keys, migrations: migrations}
	if err := s.Ping(ctx); err != nil {
		pool.Close()
		keys.Close()
		return nil, err
	}
	return s, nil
}

// Pool returns the store's connection pool, for tools and tests. Its
// transactions are read-only unless begun with pgx.ReadWrite.
func (s *DB) Pool() *pgxpool.Pool { return s.pool }

// CodeAnalyze runs ANALYZE on the codes: right after a million codes
// are inserted, the statistics still describe an almost empty table, and
// the custom plans the store asks for (plan_cache_mode) would sort a
// promotion's codes instead of walking its index in order.
func (s *DB) CodeAnalyze(ctx context.Context) error {
	if _, err := s.pool.Exec(ctx, `ANALYZE codes`); err != nil {
		return fmt.Errorf("postgres: analyze codes: %w", err)
	}
	return nil
}

// LedgerVacuum runs VACUUM (ANALYZE) on the ledger's entries: after a
// bulk load their pages are not yet all-visible, and until autovacuum
// gets to them every index-only sum of a statement reads the table too.
func (s *DB) LedgerVacuum(ctx context.Context) error {
	if _, err := s.pool.Exec(ctx, `VACUUM (ANALYZE) ledger_entries`); err != nil {
		return fmt.Errorf("postgres: vacuum the ledger: %w", err)
	}
	return nil
}

// Ping checks that the database answers.
func (s *DB) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Close waits for the connections in use to be returned and closes them all.
func (s *DB) Close() error {
	s.pool.Close()
	s.keys.Close()
	return nil
}

// Read runs fn with each statement on the pool, outside any explicit
// transaction: every statement sees the data committed when it starts. This
// saves the BEGIN and COMMIT round trips on the hot read paths (a code
// look-up is one round trip); a read that needs several statements to agree
// must run them in Write. A write inside fn fails: the pool's connections
// default to read-only transactions.
func (s *DB) Read(ctx context.Context, fn func(storage.Tx) error) error {
	return fn(&tx{q: s.pool, keys: s.keys})
}

// Write runs fn in one READ COMMITTED transaction, committed when fn returns
// nil and rolled back otherwise, also when fn panics.
func (s *DB) Write(ctx context.Context, fn func(storage.Tx) error) error {
	ptx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted, AccessMode: pgx.ReadWrite})
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	// After a commit this is a no-op. Otherwise the error of fn (or its
	// panic) is the one that matters, and a rollback that fails closes the
	// connection, which ends the transaction too.
	defer func() { _ = ptx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(&tx{q: ptx}); err != nil {
		return err
	}
	if err := ptx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// querier is what a tx needs from its connection: pgx.Tx in Write and
// *pgxpool.Pool in Read satisfy it.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// tx implements storage.Tx over a querier.
type tx struct {
	q    querier
	keys querier // Read's pool of the checkout's reads by key; nil in Write
}

// byKey returns the querier of the checkout's reads by key: in Read the
// pool with cached plans and no sequential scans, in Write the
// transaction.
func (t *tx) byKey() querier {
	if t.keys != nil {
		return t.keys
	}
	return t.q
}

var _ storage.Tx = (*tx)(nil)

// notFound returns the storage.ErrNotFound error for a missing object.
func notFound(what, id string) error { return storage.NotFound(what, id) }

// scanErr turns pgx.ErrNoRows into storage.ErrNotFound for what and wraps any
// other error with context.
func scanErr(err error, what, id string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound(what, id)
	}
	return fmt.Errorf("postgres: get %s %q: %w", what, id, err)
}

// violation is the kind of constraint a failed statement broke.
type violation int

const (
	noViolation     violation = iota
	codeTaken                 // the unique value of codes.code
	uniqueViolation           // any other primary or unique key
	foreignKeyViolation
)

// codesCodeKey is the name PostgreSQL gives the unique constraint on
// codes.code in 0001_foundation.sql.
const codesCodeKey = "codes_code_key"

// DataError reports whether err is PostgreSQL refusing a value of a
// statement, by the class of its SQLSTATE: 22 data exception (a NUL or
// invalid UTF-8 in a text, a number out of range), 23 integrity
// constraint violation and 54 program limit exceeded (an index row too
// large). Any other class (08 connection, 40 transaction rollback, 53
// insufficient resources, 57 operator intervention...) and any error
// that is not the server's (a context ended, a connection lost) fail
// whatever the values.
func (s *DB) DataError(err error) bool { return dataError(err) }

func dataError(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || len(pe.Code) != 5 {
		return false
	}
	switch pe.Code[:2] {
	case "22", "23", "54":
		return true
	}
	return false
}

// constraintViolation reports which constraint err breaks, from the
// SQLSTATE and constraint name of a *pgconn.PgError. It and dataError are
// the only places that inspect driver errors.
func constraintViolation(err error) violation {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return noViolation
	}
	switch pe.Code {
	case "23505": // unique_violation
		if pe.ConstraintName == codesCodeKey {
			return codeTaken
		}
		return uniqueViolation
	case "23503": // foreign_key_violation
		return foreignKeyViolation
	}
	return noViolation
}

// createErr returns the error of a failed insert of the object what with
// id: storage.ErrExists when the object exists, storage.ErrTaken when a
// code value does, storage.ErrNotFound naming parent and parentID when the
// object it belongs to does not, and err wrapped otherwise.
func createErr(err error, what, id, parent, parentID string) error {
	switch constraintViolation(err) {
	case codeTaken:
		return storage.Taken("code", id)
	case uniqueViolation:
		return storage.Exists(what, id)
	case foreignKeyViolation:
		if parent != "" {
			return notFound(parent, parentID)
		}
	}
	return fmt.Errorf("postgres: create %s %q: %w", what, id, err)
}

// queryList runs a list query and reads each row with scan; nil when
// there is none.
func queryList[T any](ctx context.Context, q querier, what, sql string, args []any, scan func(pgx.Row) (T, error)) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: list %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list %s: %w", what, err)
	}
	return out, nil
}

// scanString reads a row of one text column.
func scanString(row pgx.Row) (string, error) {
	var s string
	err := row.Scan(&s)
	return s, err
}

// emptyIfNil returns a non-nil slice so that a NOT NULL text[] column gets
// an empty array instead of NULL.
func emptyIfNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// where builds the WHERE clause of a list query from optional conditions.
type where struct {
	conds []string
	args  []any
}

// arg adds an argument and returns its placeholder.
func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

// add adds a condition; each ? in cond stands for the next of args.
func (w *where) add(cond string, args ...any) {
	var b strings.Builder
	for _, a := range args {
		i := strings.IndexByte(cond, '?')
		b.WriteString(cond[:i])
		b.WriteString(w.arg(a))
		cond = cond[i+1:]
	}
	b.WriteString(cond)
	w.conds = append(w.conds, b.String())
}

// sql returns the clause with a leading space, or "" without conditions.
func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// The abilities of a PostgreSQL transaction: each sends in one or two
// round trips what the plain methods would send one statement at a time.
var (
	_ storage.CheckoutReader = (*tx)(nil)
	_ storage.CartReader     = (*tx)(nil)
	_ storage.UsageTaker     = (*tx)(nil)
	_ storage.PlaceReader    = (*tx)(nil)
	_ storage.OrderPlacer    = (*tx)(nil)
)

// Savepoint runs fn inside a savepoint.
func (t *tx) Savepoint(ctx context.Context, fn func() error) error {
	if _, err := t.q.Exec(ctx, `SAVEPOINT redeem`); err != nil {
		return fmt.Errorf("postgres: savepoint: %w", err)
	}
	if err := fn(); err != nil {
		if _, rbErr := t.q.Exec(ctx, `ROLLBACK TO SAVEPOINT redeem`); rbErr != nil {
			return errors.Join(err, fmt.Errorf("postgres: rollback to savepoint: %w", rbErr))
		}
		if _, rbErr := t.q.Exec(ctx, `RELEASE SAVEPOINT redeem`); rbErr != nil {
			return errors.Join(err, fmt.Errorf("postgres: release savepoint: %w", rbErr))
		}
		return err
	}
	if _, err := t.q.Exec(ctx, `RELEASE SAVEPOINT redeem`); err != nil {
		return fmt.Errorf("postgres: release savepoint: %w", err)
	}
	return nil
}
