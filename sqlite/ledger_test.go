package sqlite_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/promokit/promokit/sqlite"
	"github.com/promokit/promokit/storagetest"
)

// TestLedgerRollupTampered checks that UsageCheck reports daily
// roll-ups changed in the file directly.
func TestLedgerRollupTampered(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := t.TempDir() + "/promokit.db"
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	storagetest.RunLedgerRollupTampered(t, s, func(ctx context.Context, query string) error {
		_, err := raw.ExecContext(ctx, query)
		return err
	})
}
