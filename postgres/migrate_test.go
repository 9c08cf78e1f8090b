package postgres_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/promokit/promokit/postgres"
)

// TestMigrateConcurrent starts two stores on one fresh schema and migrates
// them at once, as two processes starting together would: both must
// succeed, and each migration must be applied once.
func TestMigrateConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := MustOpenSchema(t)
	stores := make([]*postgres.Store, 2)
	for i := range stores {
		s, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		stores[i] = s
	}
	var wg sync.WaitGroup
	errs := make([]error, len(stores))
	for i, s := range stores {
		wg.Go(func() { errs[i] = s.Migrate(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrate %d: %v", i, err)
		}
	}
	// A third run finds nothing to do.
	if err := stores[0].Migrate(ctx); err != nil {
		t.Fatalf("migrate again: %v", err)
	}
	var got []int64
	rows, err := stores[0].Pool().Query(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := stores[0].MigrationVersions(); !slices.Equal(got, want) {
		t.Errorf("schema_migrations = %v, want %v", got, want)
	}
}
