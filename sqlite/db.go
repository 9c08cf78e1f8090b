// Package sqlite implements storage.DB over SQLite with the pure-Go driver
// modernc.org/sqlite.
//
// A Store keeps two connection pools on one database file. The writer is a
// single connection whose transactions begin with BEGIN IMMEDIATE, so write
// transactions are serialised by the database and never fail with
// SQLITE_BUSY halfway through. The read pool holds several query-only
// connections; in WAL mode they read a consistent snapshot without waiting
// for the writer.
//
// Timestamps are stored as INTEGER microseconds since the Unix epoch in UTC,
// booleans as INTEGER 0 or 1, and lists and documents (product ids, the
// policy, a job's spec) as JSON text.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/promokit/promokit/storage"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var _ storage.DB = (*DB)(nil)

// DB is a promokit database in one SQLite file. It is safe for
// concurrent use.
type DB struct {
	writer     *sql.DB
	reader     *sql.DB
	reads      *stmtCache
	writes     *stmtCache
	migrations []migration
}

// Pragmas applied to every connection through the DSN. The driver runs
// busy_timeout first, so that the others wait for a lock instead of failing.
//
// synchronous(NORMAL), the default, syncs the log at checkpoints only: a
// commit survives a crash of the process, but a power cut or an operating
// system crash may lose the last commits (never corrupt the file).
// synchronous(FULL) syncs the log on every commit, so that a power cut
// loses nothing acknowledged. The hot writes (redeems, clicks, placed
// orders, failed look-ups, Idempotency-Key records, generated codes)
// commit in batches, one sync each, so it costs them little; a request
// with an Idempotency-Key still commits three times (its key's record
// before and after, and its own write), each shared with its neighbours.
//
// The writer checkpoints the WAL once it holds walCheckpointPages pages
// rather than SQLite's default 1000: a batch of ten thousand random codes
// rewrites thousands of index pages, and checkpointing after every such
// commit would write each page to the database again and again. It keeps
// statement journals in memory (temp_store), which every multi-row insert
// needs because foreign keys are enforced.
const (
	busyTimeoutMillis  = 10000
	writerCacheKiB     = 65536 // 64 MiB of page cache for the writer
	readerCacheKiB     = 32768 // 32 MiB for each reader
	walCheckpointPages = 16384 // 64 MiB of 4 KiB pages
	walSizeLimitBytes  = 64 << 20
	maxReaders         = 4 // connections of the read pool: more than the cores only adds contention
)

// Open opens, and creates if needed, the SQLite database at path and
// returns a Store over it. It does not migrate: call Migrate. The path is a
// file name, optionally followed by "?synchronous=full" (or "=normal", the
// default): FULL syncs the log on every commit, so that a power cut loses
// no committed transaction, at the price of one sync per write
// transaction; NORMAL does not, and a power cut may lose the last commits.
// No other setting is accepted.
func Open(ctx context.Context, path string) (*DB, error) {
	path, sync, err := SplitPath(path)
	if err != nil {
		return nil, err
	}
	migrations, err := loadMigrations(migrationFS)
	if err != nil {
		return nil, err
	}
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	writer, err := sql.Open("sqlite", path+"?"+dsnParams(false, sync))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open writer: %w", err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	// The writer connects first: it switches the file to WAL mode before
	// any reader opens it.
	if err := ping(ctx, writer); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	reader, err := sql.Open("sqlite", path+"?"+dsnParams(true, sync))
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open reader: %w", err)
	}
	// Nothing holds a read connection while it waits for another
	// (ExportCodes reads in chunks and calls back between them), so a
	// small pool cannot deadlock; a pool much larger than the cores only
	// adds contention under load.
	reader.SetMaxOpenConns(maxReaders)
	reader.SetMaxIdleConns(max(4, runtime.NumCPU()))
	reader.SetConnMaxIdleTime(time.Minute)
	if err := ping(ctx, reader); err != nil {
		writer.Close()
		reader.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	return &DB{
		writer: writer, reader: reader, migrations: migrations,
		reads: newStmtCache(reader), writes: newStmtCache(writer),
	}, nil
}

// createPrivate creates the database file, empty and readable and
// writable by its owner only, when it does not exist yet. SQLite would
// create it 0644 less the umask; its -wal and -shm files take the mode of
// the database file, so they are private too. The file holds key hashes,
// customers' identities and the orders of every store. An existing file
// keeps the mode its owner gave it.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	// The umask cannot widen 0600, but it can narrow it.
	err = f.Chmod(0o600)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	return nil
}

// ping connects db, again while the file is busy, for up to the busy
// timeout. Two processes that open a new file at once both switch it to
// WAL mode, and SQLite answers one of them SQLITE_BUSY without waiting
// for the lock (busy_timeout does not apply to that case): the second
// connects once the first is done.
func ping(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(busyTimeoutMillis * time.Millisecond)
	for {
		err := db.PingContext(ctx)
		if err == nil || !busy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// SplitPath splits a database path into the file and its synchronous
// mode, "NORMAL" unless the path ends with ?synchronous=full.
func SplitPath(path string) (file, synchronous string, err error) {
	file, query, _ := strings.Cut(path, "?")
	if file == "" {
		return "", "", fmt.Errorf("sqlite: invalid database path %q", path)
	}
	vals, err := url.ParseQuery(query)
	if err != nil {
		return "", "", fmt.Errorf("sqlite: invalid settings in %q: %w", path, err)
	}
	synchronous = "NORMAL"
	for k, v := range vals {
		switch {
		case k == "synchronous" && len(v) == 1 && strings.EqualFold(v[0], "full"):
			synchronous = "FULL"
		case k == "synchronous" && len(v) == 1 && strings.EqualFold(v[0], "normal"):
		default:
			return "", "", fmt.Errorf("sqlite: %q: the only setting is synchronous=normal or synchronous=full", path)
		}
	}
	return file, synchronous, nil
}

// dsnParams returns the DSN query of the writer or of a reader.
func dsnParams(readOnly bool, synchronous string) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMillis))
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", readerCacheKiB))
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", writerCacheKiB))
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous("+synchronous+")")
		q.Add("_pragma", "temp_store(MEMORY)")
		q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", walCheckpointPages))
		q.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", walSizeLimitBytes))
		q.Set("_txlock", "immediate")
	}
	return q.Encode()
}

// Read runs fn on the read pool, outside any transaction: each statement
// reads the latest committed state and never waits for the writer, and a
// look-up costs one cached prepared statement. A write inside fn fails
// because reader connections are query-only.
func (s *DB) Read(ctx context.Context, fn func(storage.Tx) error) error {
	return fn(&tx{q: querier{cache: s.reads}})
}

// Write runs fn in a BEGIN IMMEDIATE transaction on the single writer
// connection, committed when fn returns nil and rolled back otherwise.
// Write transactions are serialised, so fn must not call Write itself: it
// would wait for its own connection forever.
func (s *DB) Write(ctx context.Context, fn func(storage.Tx) error) error {
	sqlTx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin write: %w", err)
	}
	w := &txStmts{cache: s.writes}
	defer w.prepareMissing(context.WithoutCancel(ctx))
	return finish(sqlTx, w, fn)
}

// finish runs fn in sqlTx and commits, or rolls back when fn fails or panics.
func finish(sqlTx *sql.Tx, w *txStmts, fn func(storage.Tx) error) (err error) {
	done := false
	defer func() {
		if done {
			return
		}
		if rbErr := sqlTx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			err = errors.Join(err, fmt.Errorf("sqlite: rollback: %w", rbErr))
		}
	}()
	if err := fn(&tx{q: querier{tx: sqlTx, w: w}}); err != nil {
		return err
	}
	done = true
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// CodeAnalyze does nothing: SQLite plans the store's queries from its
// indexes alone.
func (s *DB) CodeAnalyze(ctx context.Context) error { return nil }

// LedgerVacuum does nothing: SQLite's index-only reads need no
// visibility map.
func (s *DB) LedgerVacuum(ctx context.Context) error { return nil }

// Ping checks that both pools can reach the database.
func (s *DB) Ping(ctx context.Context) error {
	if err := s.writer.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping writer: %w", err)
	}
	if err := s.reader.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping reader: %w", err)
	}
	return nil
}

// Close closes both pools. Transactions still running fail.
func (s *DB) Close() error {
	s.reads.close()
	s.writes.close()
	return errors.Join(s.reader.Close(), s.writer.Close())
}

var _ storage.Tx = (*tx)(nil)

// tx is one transaction: it implements storage.Tx.
type tx struct {
	q querier
}

// violation is the kind of constraint a failed statement broke.
type violation int

const (
	noViolation violation = iota
	uniqueViolation
	foreignKeyViolation
)

// constraintViolation reports which constraint err breaks, from the SQLite
// extended result code. It, dataError and busy are the only places that
// inspect driver errors.
func constraintViolation(err error) violation {
	var e *msqlite.Error
	if !errors.As(err, &e) {
		return noViolation
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return uniqueViolation
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return foreignKeyViolation
	}
	return noViolation
}

// DataError reports whether err is SQLite refusing a value of a
// statement, by its primary result code: SQLITE_CONSTRAINT (a unique,
// foreign key, NOT NULL or CHECK constraint), SQLITE_TOOBIG (a text or
// blob past the length limit) or SQLITE_MISMATCH (a value of the wrong
// type for a rowid). Any other code (busy, locked, I/O, full, corrupt...)
// and any error that is not SQLite's fail whatever the values.
func (s *DB) DataError(err error) bool { return dataError(err) }

func dataError(err error) bool {
	var e *msqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code() & 0xff {
	case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_MISMATCH:
		return true
	}
	return false
}

// busy reports whether err is SQLite's SQLITE_BUSY, of any extended code.
func busy(err error) bool {
	var e *msqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

// notFound returns the storage.ErrNotFound error of a missing object.
func notFound(what, id string) error { return storage.NotFound(what, id) }

// noRows turns sql.ErrNoRows into storage.ErrNotFound and wraps any other
// error.
func noRows(err error, what, id string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(what, id)
	}
	return fmt.Errorf("sqlite: get %s %q: %w", what, id, err)
}

// mustAffect returns storage.ErrNotFound when res changed no row.
func mustAffect(res sql.Result, what, id string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: rows affected: %w", err)
	}
	if n == 0 {
		return notFound(what, id)
	}
	return nil
}

// mustAffectStale returns storage.ErrStale when res, a versioned or
// conditional update, changed no row.
func mustAffectStale(res sql.Result, what, id string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: rows affected: %w", err)
	}
	if n == 0 {
		return storage.Stale(what, id)
	}
	return nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// where builds the WHERE clause and arguments of a dynamic query, so that a
// filter left empty costs nothing and the planner sees only real terms.
type where struct {
	terms []string
	args  []any
}

// add appends a term with its arguments.
func (w *where) add(term string, args ...any) {
	w.terms = append(w.terms, term)
	w.args = append(w.args, args...)
}

// String returns " WHERE t1 AND t2 ...", or "" when there is no term.
func (w *where) String() string {
	if len(w.terms) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.terms, " AND ")
}

// queryList runs a list query and scans each row with scan.
func queryList[T any](ctx context.Context, t *tx, what, query string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := t.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list %s: %w", what, err)
	}
	return out, nil
}

func scanString(row scanner) (string, error) {
	var s string
	err := row.Scan(&s)
	return s, err
}

// subtract returns the values of all, in order and each once, that are not
// in found.
func subtract(all, found []string) []string {
	skip := make(map[string]bool, len(found)+len(all))
	for _, s := range found {
		skip[s] = true
	}
	var out []string
	for _, s := range all {
		if !skip[s] {
			out = append(out, s)
			skip[s] = true
		}
	}
	return out
}

// intersect returns the values of all, in order and each once, that are in
// found.
func intersect(all, found []string) []string {
	keep := make(map[string]bool, len(found))
	for _, s := range found {
		keep[s] = true
	}
	var out []string
	for _, s := range all {
		if keep[s] {
			out = append(out, s)
			delete(keep, s)
		}
	}
	return out
}

// Savepoint runs fn inside a savepoint.
func (t *tx) Savepoint(ctx context.Context, fn func() error) error {
	if t.q.tx == nil {
		return errors.New("sqlite: savepoint outside a write transaction")
	}
	if _, err := t.q.ExecContext(ctx, `SAVEPOINT redeem`); err != nil {
		return fmt.Errorf("sqlite: savepoint: %w", err)
	}
	if err := fn(); err != nil {
		if _, rbErr := t.q.ExecContext(ctx, `ROLLBACK TO redeem`); rbErr != nil {
			return errors.Join(err, fmt.Errorf("sqlite: rollback to savepoint: %w", rbErr))
		}
		if _, rbErr := t.q.ExecContext(ctx, `RELEASE redeem`); rbErr != nil {
			return errors.Join(err, fmt.Errorf("sqlite: release savepoint: %w", rbErr))
		}
		return err
	}
	if _, err := t.q.ExecContext(ctx, `RELEASE redeem`); err != nil {
		return fmt.Errorf("sqlite: release savepoint: %w", err)
	}
	return nil
}
