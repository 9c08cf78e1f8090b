package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit/storagetest"
)

// TestLedgerRollupTampered checks that UsageCheck reports daily
// roll-ups changed in the database directly.
func TestLedgerRollupTampered(t *testing.T) {
	t.Parallel()
	s := MustOpenStore(t)
	storagetest.RunLedgerRollupTampered(t, s, func(ctx context.Context, query string) error {
		return pgx.BeginTxFunc(ctx, s.Pool(), pgx.TxOptions{AccessMode: pgx.ReadWrite}, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, query)
			return err
		})
	})
}
