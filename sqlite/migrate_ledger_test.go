package sqlite

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/promokit/promokit"
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
	ctx := t.Context()
	s, err := Open(ctx, t.TempDir()+"/old.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, m := range s.migrations {
		if m.version <= 13 {
			if err := s.migrate(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	day := func(d, h int) int64 { return time.Date(2026, 1, d, h, 0, 0, 0, time.UTC).UnixMicro() }
	// Two days rolled up (January 1 and 2), one not (January 3).
	if _, err := s.writer.ExecContext(ctx, `
		INSERT INTO ledger_entries (id, partner_id, store_id, order_id, line, program, status, kind, amount, currency, basis, rate_bp, rate_id, event_id, created_at)
		VALUES (1, 'par_a', 'sto_a', 'o1', 0, 'affiliate', 'pending', 'accrued', 500, 'USD', 10000, 500, 7, 'e1', ?1),
		       (2, 'par_a', 'sto_a', 'o2', 1, 'affiliate', 'pending', 'accrued', 250, 'USD', 5000, 500, 7, 'e2', ?2),
		       (3, 'par_b', 'sto_a', 'o1', 0, 'affiliate', 'pending', 'released', -500, 'USD', 10000, 500, 7, 'e3', ?3),
		       (4, 'par_b', 'sto_a', 'o1', 0, 'affiliate', 'payable', 'released', 500, 'USD', 10000, 500, 7, 'e3', ?3),
		       (5, 'par_a', 'sto_b', 'o3', 0, 'affiliate', 'pending', 'accrued', 90, 'EUR', 900, 1000, 0, 'e4', ?4);
		INSERT INTO ledger_daily (partner_id, store_id, day, currency, status, kind, amount, entries)
		VALUES ('par_a', 'sto_a', ?5, 'USD', 'pending', 'accrued', 750, 2),
		       ('par_b', 'sto_a', ?6, 'USD', 'pending', 'released', -500, 1),
		       ('par_b', 'sto_a', ?6, 'USD', 'payable', 'released', 500, 1);
		INSERT INTO ledger_rollup (id, rolled_until) VALUES (1, ?7)`,
		day(1, 9), day(1, 20), day(2, 8), day(3, 10), day(1, 0), day(2, 0), day(3, 0)); err != nil {
		t.Fatal(err)
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
	want := []*promokit.LedgerEntry{
		{ID: 1, Payer: "sto_a", Payee: "par_a", StoreID: "sto_a", OrderID: "o1", Line: 0, Program: "affiliate", Rule: "A3", Status: "pending", Kind: "accrued", Amount: 500, Currency: "USD", Basis: 10000, Rate: 500, RateID: 7, EventID: "e1", CreatedAt: time.UnixMicro(day(1, 9)).UTC()},
		{ID: 2, Payer: "sto_a", Payee: "par_a", StoreID: "sto_a", OrderID: "o2", Line: 1, Program: "affiliate", Rule: "A3", Status: "pending", Kind: "accrued", Amount: 250, Currency: "USD", Basis: 5000, Rate: 500, RateID: 7, EventID: "e2", CreatedAt: time.UnixMicro(day(1, 20)).UTC()},
		{ID: 3, Payer: "sto_a", Payee: "par_b", StoreID: "sto_a", OrderID: "o1", Line: 0, Program: "affiliate", Rule: "A3", Status: "pending", Kind: "released", Amount: -500, Currency: "USD", Basis: 10000, Rate: 500, RateID: 7, EventID: "e3", CreatedAt: time.UnixMicro(day(2, 8)).UTC()},
		{ID: 4, Payer: "sto_a", Payee: "par_b", StoreID: "sto_a", OrderID: "o1", Line: 0, Program: "affiliate", Rule: "A3", Status: "payable", Kind: "released", Amount: 500, Currency: "USD", Basis: 10000, Rate: 500, RateID: 7, EventID: "e3", CreatedAt: time.UnixMicro(day(2, 8)).UTC()},
	}
	if diff := cmp.Diff(want, entries); diff != "" {
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
	if err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM ledger_daily`).Scan(&rolled); err != nil || rolled != 3 {
		t.Fatalf("roll-up rows after 0014: %d, %v", rolled, err)
	}
	var check string
	if err := s.reader.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity check: %q %v", check, err)
	}
}
