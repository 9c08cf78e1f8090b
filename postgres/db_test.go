package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/postgres"
)

// MustOpenSchema creates a fresh schema in the test database and returns
// the URL of the database with search_path set to it (dbtest.PostgresURL).
func MustOpenSchema(tb testing.TB) string { return dbtest.PostgresURL(tb) }

// MustOpenStore opens and migrates a store on a fresh schema, closed when
// the test ends.
func MustOpenStore(tb testing.TB) *postgres.DB {
	tb.Helper()
	ctx := context.Background()
	s, err := postgres.Open(ctx, MustOpenSchema(tb))
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(ctx); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return s
}

// migratedConn returns a plain connection to a new, migrated schema, for
// tests that read the plans of the driver's queries; it is closed when
// the test ends.
func migratedConn(t *testing.T) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	url := MustOpenSchema(t)
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(ctx) })
	return conn
}
