package postgres_test

import (
	"context"
	"testing"

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
