package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// mustOpen returns a migrated store in a temporary file.
func mustOpen(t *testing.T) *DB {
	t.Helper()
	s, err := Open(t.Context(), t.TempDir()+"/test.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestPragmas checks that the DSN configures the writer and the readers.
func TestPragmas(t *testing.T) {
	t.Parallel()
	s := mustOpen(t)
	ctx := t.Context()
	pragma := func(t *testing.T, db *sql.DB, name string) string {
		t.Helper()
		var v string
		if err := db.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
			t.Fatalf("PRAGMA %s: %v", name, err)
		}
		return v
	}
	writer := map[string]string{
		"journal_mode": "wal", "synchronous": "1", "foreign_keys": "1", "busy_timeout": "10000",
		"temp_store": "2", "wal_autocheckpoint": "16384", "cache_size": "-65536", "query_only": "0",
	}
	for name, want := range writer {
		if got := pragma(t, s.writer, name); got != want {
			t.Errorf("writer PRAGMA %s = %s, want %s", name, got, want)
		}
	}
	reader := map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "10000", "query_only": "1", "cache_size": "-32768"}
	for name, want := range reader {
		if got := pragma(t, s.reader, name); got != want {
			t.Errorf("reader PRAGMA %s = %s, want %s", name, got, want)
		}
	}
}

// TestReadIsReadOnly checks that a write inside Read fails and changes nothing.
func TestReadIsReadOnly(t *testing.T) {
	t.Parallel()
	s := mustOpen(t)
	ctx := t.Context()
	err := s.Read(ctx, func(tx storage.Tx) error {
		return tx.StoreCreate(ctx, &promokit.Store{ID: "sto_1", Name: "One"})
	})
	if err == nil {
		t.Fatal("CreateStore inside Read succeeded")
	}
	err = s.Read(ctx, func(tx storage.Tx) error {
		_, err := tx.StoreGet(ctx, "sto_1", false)
		return err
	})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetStore after a write in Read = %v, want storage.ErrNotFound", err)
	}
}

// TestConstraintViolation checks the classification of driver errors.
func TestConstraintViolation(t *testing.T) {
	t.Parallel()
	s := mustOpen(t)
	ctx := t.Context()
	exec := func(query string, args ...any) error {
		_, err := s.writer.ExecContext(ctx, query, args...)
		return err
	}
	if err := exec(`INSERT INTO stores (id, name, created_at) VALUES ('sto_1', 'One', 0)`); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		err  error
		want violation
	}{
		{"nil", nil, noViolation},
		{"other error", errors.New("boom"), noViolation},
		{"primary key", exec(`INSERT INTO stores (id, name, created_at) VALUES ('sto_1', 'Again', 0)`), uniqueViolation},
		{"unique", exec(`INSERT INTO api_keys (id, role, prefix, hash, created_at) VALUES ('k1', 'admin', 'p', x'01', 0), ('k2', 'admin', 'p', x'01', 0)`), uniqueViolation},
		{"foreign key", exec(`INSERT INTO products (store_id, id, name, created_at, updated_at) VALUES ('sto_missing', 'p', 'P', 0, 0)`), foreignKeyViolation},
		{"not null", exec(`INSERT INTO stores (id, name, created_at) VALUES ('sto_2', NULL, 0)`), noViolation},
		{"syntax", exec(`INSERT INTO nowhere VALUES (1)`), noViolation},
	}
	for _, tc := range tests {
		if got := constraintViolation(tc.err); got != tc.want {
			t.Errorf("%s: constraintViolation(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

// TestDataError checks which errors of SQLite are a value it refuses, for
// which the engine runs a batch again in halves to find the member that
// holds the value, and which fail whatever the values. SQLite stores a
// NUL or invalid UTF-8 in a text as it is: only constraints, lengths and
// types refuse a value.
func TestDataError(t *testing.T) {
	t.Parallel()
	s := mustOpen(t)
	ctx := t.Context()
	exec := func(query string, args ...any) error {
		_, err := s.writer.ExecContext(ctx, query, args...)
		return err
	}
	if err := exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL CHECK (v <> 'no'))`); err != nil {
		t.Fatal(err)
	}
	if err := exec(`INSERT INTO t VALUES (1, 'one')`); err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, canceledErr := s.writer.ExecContext(canceled, `SELECT 1`)
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"unique", exec(`INSERT INTO t VALUES (1, 'again')`), true},
		{"not null", exec(`INSERT INTO t VALUES (2, NULL)`), true},
		{"check", exec(`INSERT INTO t VALUES (3, 'no')`), true},
		{"foreign key", exec(`INSERT INTO products (store_id, id, name, created_at, updated_at) VALUES ('sto_missing', 'p', 'P', 0, 0)`), true},
		{"too big", exec(`SELECT zeroblob(2000000000)`), true},
		{"a rowid of the wrong type", exec(`INSERT INTO t VALUES ('x', 'x')`), true},
		{"syntax", exec(`SELEC 1`), false},
		{"no such table", exec(`SELECT * FROM nowhere`), false},
		{"canceled", canceledErr, false},
		{"other error", errors.New("disk I/O error"), false},
		{"nil", nil, false},
	}
	for _, tc := range tests {
		if tc.err == nil && tc.name != "nil" {
			t.Errorf("%s: no error", tc.name)
		}
		if got := s.DataError(tc.err); got != tc.want {
			t.Errorf("%s: DataError(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
	if err := exec(`INSERT INTO t VALUES (5, ?), (6, ?)`, "A\x00B", "A\xffB"); err != nil {
		t.Errorf("SQLite refused a NUL or invalid UTF-8: %v", err)
	}
}

// TestSynchronous checks that the writer syncs every commit when the path
// says ?synchronous=full and only at checkpoints otherwise, and that a path
// takes no other setting.
func TestSynchronous(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]string{"x.db?synchronous=FULL": "2", "x.db?synchronous=full": "2", "y.db?synchronous=normal": "1", "z.db": "1"} {
		s, err := Open(t.Context(), t.TempDir()+"/"+path)
		if err != nil {
			t.Fatal(err)
		}
		var v string
		if err := s.writer.QueryRowContext(t.Context(), "PRAGMA synchronous").Scan(&v); err != nil || v != want {
			t.Errorf("%s: writer PRAGMA synchronous = %q, %v; want %s", path, v, err, want)
		}
		s.Close()
	}
	for _, path := range []string{"x.db?synchronous=off", "x.db?synchronous=full&synchronous=normal", "x.db?synchronous=full&cache=shared", "?synchronous=full"} {
		if _, _, err := SplitPath(path); err == nil {
			t.Errorf("SplitPath(%q) accepted it", path)
		}
	}
	for path, want := range map[string]string{"a/b.db?synchronous=normal": "NORMAL", "a/b.db": "NORMAL", "a/b.db?synchronous=Full": "FULL"} {
		if f, sync, err := SplitPath(path); err != nil || f != "a/b.db" || sync != want {
			t.Errorf("SplitPath(%q) = %q, %q, %v; want a/b.db, %s", path, f, sync, err, want)
		}
	}
}

// TestOpenConcurrently opens a new file from several stores at once, as
// several processes starting together do: each switches the file to WAL
// mode, and none may fail because another holds the lock meanwhile.
func TestOpenConcurrently(t *testing.T) {
	t.Parallel()
	for range 10 {
		path := t.TempDir() + "/test.db"
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for i := range errs {
			wg.Go(func() {
				s, err := Open(t.Context(), path)
				if err == nil {
					err = s.Close()
				}
				errs[i] = err
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOpenRejectsQuery checks that a path cannot smuggle DSN parameters.
func TestOpenRejectsQuery(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", t.TempDir() + "/x.db?_pragma=query_only(1)"} {
		if s, err := Open(t.Context(), path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", path)
		}
	}
}

// TestTimes checks the conversion of times to and from microseconds.
func TestTimes(t *testing.T) {
	t.Parallel()
	in := time.Date(2026, 3, 29, 2, 30, 0, 123456789, time.FixedZone("X", 5*3600))
	got := fromMicros(micros(in))
	if !got.Equal(in.Truncate(time.Microsecond)) || got.Location() != time.UTC {
		t.Fatalf("round trip of %v = %v", in, got)
	}
	if timePtr(sql.NullInt64{}) != nil || nullMicros(nil) != nil || nullInt(nil) != nil || intPtr(sql.NullInt64{}) != nil {
		t.Fatal("NULL did not map to nil")
	}
}

// TestFileModes checks that a new database file and its -wal and -shm
// files are readable and writable by their owner only, whatever the
// umask lets SQLite create, and that an existing file keeps its mode.
func TestFileModes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "private.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(t.Context()); err != nil { // writes to the WAL
		t.Fatal(err)
	}
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(name), mode)
		}
	}

	shared := filepath.Join(dir, "shared.db")
	if err := os.WriteFile(shared, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o640); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(t.Context(), shared)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if fi, err := os.Stat(shared); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("an existing file's mode changed: %v %v", fi.Mode(), err)
	}
}
