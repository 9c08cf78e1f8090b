package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit/postgres"
	"github.com/promokit/promokit/storage"
)

// DatabaseURLEnv names the environment variable that holds the URL of the
// PostgreSQL database the tests run against, such as
// postgres://postgres@localhost:5432/postgres?sslmode=disable.
const DatabaseURLEnv = "PROMOKIT_TEST_DATABASE_URL"

// OpenPostgres returns a migrated database in a new schema of the server at
// $PROMOKIT_TEST_DATABASE_URL; the handle is closed and the schema dropped
// when the test ends. The test is skipped when the variable is not set, and
// fails, never skips, when it is set and the server does not answer.
func OpenPostgres(t *testing.T) storage.DB { return openPostgres(t) }

func openPostgres(t testing.TB) storage.DB {
	t.Helper()
	ctx := context.Background()
	s, err := postgres.Open(ctx, PostgresURL(t))
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close postgres: %v", err)
		}
	})
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate postgres: %v", err)
	}
	return s
}

// PostgresURL creates a new schema in the database at
// $PROMOKIT_TEST_DATABASE_URL and returns the URL with search_path set to
// it; the schema is dropped when the test ends, after the cleanups
// registered later (such as closing a handle) have run. The test is skipped
// when the variable is not set, and fails, never skips, when it is set and
// the server does not answer.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(DatabaseURLEnv)
	if base == "" {
		t.Skipf("PostgreSQL tests are off: set %s to the URL of a database, such as "+
			"postgres://postgres@localhost:5432/postgres?sslmode=disable, to run them", DatabaseURLEnv)
	}
	// t.Context() ends before the cleanups run, and the schema must be
	// dropped after the handle has closed.
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", DatabaseURLEnv, err)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random schema name: %v", err)
	}
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		admin.Close(ctx)
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withSearchPath(t, base, schema)
}

// withSearchPath returns the URL or keyword/value connection string base
// with search_path set to schema, a runtime parameter that pgx sends on
// every connection.
func withSearchPath(t testing.TB, base, schema string) string {
	t.Helper()
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		return base + " search_path=" + schema
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", DatabaseURLEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
