// Package dbtest opens the databases promokit's tests run on: a new SQLite
// file or a new PostgreSQL schema, migrated and empty, removed when the
// test ends. The conformance suite (storagetest) takes these as
// constructors and imports no database; the engine, HTTP and command tests
// use ForEach to run against both databases.
package dbtest

import (
	"context"
	"testing"

	"github.com/promokit/promokit/postgres"
	"github.com/promokit/promokit/sqlite"
	"github.com/promokit/promokit/storage"
)

// ForEach runs fn as the subtests "sqlite" and "postgres", with open
// returning a new migrated, empty database of that kind for each call. The
// postgres subtests are skipped unless PROMOKIT_TEST_DATABASE_URL is set.
func ForEach(t *testing.T, fn func(t *testing.T, open func(t *testing.T) storage.DB)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, OpenSQLite) })
	t.Run("postgres", func(t *testing.T) { fn(t, OpenPostgres) })
}

// OpenSQLite returns a migrated database in a new SQLite file under
// t.TempDir(), closed when the test ends.
func OpenSQLite(t *testing.T) storage.DB { return Open(t, "sqlite") }

// Open returns a new migrated database of the named kind, "sqlite" or
// "postgres", for a test or a benchmark: OpenSQLite or OpenPostgres.
func Open(t testing.TB, database string) storage.DB {
	if database == "postgres" {
		return openPostgres(t)
	}
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, t.TempDir()+"/promokit.db")
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close sqlite: %v", err)
		}
	})
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate sqlite: %v", err)
	}
	return s
}

// OpenShared returns two handles (storage.DB) on one new migrated database
// of the named kind, "sqlite" or "postgres", as two server processes would
// open it: two SQLite handles on one file, or two PostgreSQL pools on one
// schema.
// Nothing is shared between them but the database. Both are closed when
// the test ends.
func OpenShared(t *testing.T, database string) (storage.DB, storage.DB) {
	t.Helper()
	ctx := context.Background()
	var target string
	open := func() storage.DB {
		t.Helper()
		var (
			s   storage.DB
			err error
		)
		if database == "postgres" {
			s, err = postgres.Open(ctx, target)
		} else {
			s, err = sqlite.Open(ctx, target)
		}
		if err != nil {
			t.Fatalf("open %s: %v", database, err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("close %s: %v", database, err)
			}
		})
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("migrate %s: %v", database, err)
		}
		return s
	}
	if database == "postgres" {
		target = PostgresURL(t)
	} else {
		target = t.TempDir() + "/promokit.db"
	}
	return open(), open()
}
