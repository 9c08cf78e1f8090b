package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/postgres"
	"github.com/promokit/promokit/storage"
)

// TestMigrateLedgerParties: on a database migrated to 0013, whose ledger
// holds affiliate commissions of partners and their daily roll-ups,
// migration 0014 makes each entry a store → partner entry of rule A3 with
// its amount, time and ids unchanged, rebuilds the roll-ups of the days
// rolled up by payer and payee, and leaves the check clean and the sums
// those of the entries.
func TestMigrateLedgerParties(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := postgres.Open(ctx, MustOpenSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.MigrateUpTo(ctx, 13); err != nil {
		t.Fatal(err)
	}
	day := func(d, h int) time.Time { return time.Date(2026, 1, d, h, 0, 0, 0, time.UTC) }
	// Two days rolled up (January 1 and 2), one not (January 3).
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO ledger_entries (partner_id, store_id, order_id, line, program, status, kind, amount, currency, basis, rate_bp, rate_id, event_id, created_at)
		VALUES ('par_a', 'sto_a', 'o1', 0, 'affiliate', 'pending', 'accrued', 500, 'USD', 10000, 500, 7, 'e1', $1),
		       ('par_a', 'sto_a', 'o2', 1, 'affiliate', 'pending', 'accrued', 250, 'USD', 5000, 500, 7, 'e2', $2),
		       ('par_b', 'sto_a', 'o1', 0, 'affiliate', 'pending', 'released', -500, 'USD', 10000, 500, 7, 'e3', $3),
		       ('par_b', 'sto_a', 'o1', 0, 'affiliate', 'payable', 'released', 500, 'USD', 10000, 500, 7, 'e3', $3),
		       ('par_a', 'sto_b', 'o3', 0, 'affiliate', 'pending', 'accrued', 90, 'EUR', 900, 1000, 0, 'e4', $4)`,
			[]any{day(1, 9), day(1, 20), day(2, 8), day(3, 10)}},
		{`INSERT INTO ledger_daily (partner_id, store_id, day, currency, status, kind, amount, entries)
		VALUES ('par_a', 'sto_a', $1, 'USD', 'pending', 'accrued', 750, 2),
		       ('par_b', 'sto_a', $2, 'USD', 'pending', 'released', -500, 1),
		       ('par_b', 'sto_a', $2, 'USD', 'payable', 'released', 500, 1)`, []any{day(1, 0), day(2, 0)}},
		{`INSERT INTO ledger_rollup (id, rolled_until) VALUES (1, $1)`, []any{day(3, 0)}},
	} {
		if err := pgx.BeginTxFunc(ctx, s.Pool(), pgx.TxOptions{AccessMode: pgx.ReadWrite}, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, q.sql, q.args...)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate to 0014 and later: %v", err)
	}
	var entries []*promokit.LedgerEntry
	if err := s.Read(ctx, func(tx storage.Tx) (err error) {
		entries, err = tx.LedgerList(ctx, storage.LedgerFilter{Party: "sto_a"}, storage.IDPage{Limit: 10})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	entry := func(payee, order string, line int, status, kind string, amount, basis int64, event string, at time.Time) *promokit.LedgerEntry {
		return &promokit.LedgerEntry{Payer: "sto_a", Payee: payee, StoreID: "sto_a", OrderID: order, Line: line, Program: "affiliate",
			Rule: "A3", Status: status, Kind: kind, Amount: amount, Currency: "USD", Basis: basis, Rate: 500, RateID: 7, EventID: event, CreatedAt: at}
	}
	want := []*promokit.LedgerEntry{
		entry("par_a", "o1", 0, "pending", "accrued", 500, 10000, "e1", day(1, 9)),
		entry("par_a", "o2", 1, "pending", "accrued", 250, 5000, "e2", day(1, 20)),
		entry("par_b", "o1", 0, "pending", "released", -500, 10000, "e3", day(2, 8)),
		entry("par_b", "o1", 0, "payable", "released", 500, 10000, "e3", day(2, 8)),
	}
	if diff := cmp.Diff(want, entries, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
		cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".ID" }, cmp.Ignore())); diff != "" {
		t.Fatalf("sto_a's entries after 0014 (-want +got):\n%s", diff)
	}
	diffs, err := s.UsageCheck(ctx)
	if err != nil || len(diffs) != 0 {
		t.Fatalf("check after 0014: %v, %v", diffs, err)
	}
	var totals []storage.LedgerTotal
	if err := s.Read(ctx, func(tx storage.Tx) (err error) {
		totals, err = tx.LedgerSum(ctx, storage.LedgerFilter{Party: "par_a"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	wantTotals := []storage.LedgerTotal{
		{Side: "payee", Counterparty: "store", Currency: "EUR", Program: "affiliate", Status: "pending", Kind: "accrued", Amount: 90, Entries: 1},
		{Side: "payee", Counterparty: "store", Currency: "USD", Program: "affiliate", Status: "pending", Kind: "accrued", Amount: 750, Entries: 2},
	}
	if diff := cmp.Diff(wantTotals, totals); diff != "" {
		t.Fatalf("par_a's totals after 0014 (-want +got):\n%s", diff)
	}
	var rolled int64
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM ledger_daily`).Scan(&rolled); err != nil || rolled != 3 {
		t.Fatalf("roll-up rows after 0014: %d, %v", rolled, err)
	}
}
