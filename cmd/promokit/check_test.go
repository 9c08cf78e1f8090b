package main

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// TestCheckLedger runs promokit check on a database whose ledger and
// payouts disagree in every way the check looks for, on each database:
// an entry committed into a day already rolled up (the day's roll-up and
// the pair's payable balance as the roll-ups give it), a payout without
// its entries, entries naming a payout that does not exist, and entries
// naming a payout between other parties or in another currency. Each
// shows on its own line, worded by what was recomputed from what, and
// the command exits 1.
func TestCheckLedger(t *testing.T) {
	t.Parallel()
	for _, db := range testDBs() {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url := db.fresh(t)
			w := NewTestMain(t, "migrate", "--database-url", url)
			w.logger = w.newLogger()
			if err := w.openAndMigrate(ctx); err != nil {
				t.Fatal(err)
			}
			day := func(d int, h time.Duration) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC).Add(h) }
			released := func(amount int64, at time.Time) *promokit.LedgerEntry {
				return &promokit.LedgerEntry{Payer: "sto_a", Payee: "par_a", StoreID: "sto_a", OrderID: "ord-1",
					Program: promokit.ProgramAffiliate, Rule: promokit.RuleAffiliate, Status: promokit.LedgerPayable,
					Kind: promokit.EntryReleased, Amount: amount, Currency: "USD", EventID: "ord-1-done", CreatedAt: at}
			}
			write := func(fn func(tx storage.Tx) error) {
				t.Helper()
				if err := w.DB.Write(ctx, fn); err != nil {
					t.Fatal(err)
				}
			}
			// 1.00 payable on January 1, rolled up until January 3: the
			// ledger agrees with itself.
			write(func(tx storage.Tx) error {
				return tx.LedgerAddMany(ctx, []*promokit.LedgerEntry{released(100, day(1, 10*time.Hour))})
			})
			write(func(tx storage.Tx) error { _, err := tx.LedgerRollup(ctx, day(3, 0), 31); return err })
			m := NewTestMain(t, "check", "--database-url", url)
			if err := m.Run(ctx); err != nil || !strings.Contains(m.stdout.String(), "equals its ledger entries") {
				t.Fatalf("check of a ledger that agrees: %v: %s", err, m.stdout)
			}

			// A late entry of January 1; a payout without entries; the
			// entries of a payout that does not exist; and a payout whose
			// entries name another payee and another currency.
			bare := &promokit.Payout{ID: "pay_bare", Payer: promokit.Marketplace, Payee: "par_a", Currency: "USD", Amount: 70,
				PaidOn: "2026-01-05", Reference: "wire 1", State: promokit.PayoutRecorded, CreatedAt: day(5, 0)}
			other := &promokit.Payout{ID: "pay_other", Payer: "sto_a", Payee: "par_a", StoreID: "sto_a", Currency: "USD", Amount: 20,
				PaidOn: "2026-01-05", Reference: "wire 2", State: promokit.PayoutRecorded, CreatedAt: day(5, 0)}
			gone := &promokit.Payout{ID: "pay_gone", Payer: "sto_a", Payee: "par_b", StoreID: "sto_a", Currency: "USD", Amount: 40, CreatedAt: day(5, 0)}
			otherEntries, goneEntries := promokit.PayoutEntries(other, day(5, 0)), promokit.PayoutEntries(gone, day(5, 0))
			otherEntries[0].Payee, otherEntries[1].Currency = "par_b", "EUR"
			write(func(tx storage.Tx) error {
				for _, p := range []*promokit.Payout{bare, other} {
					if err := tx.PayoutCreate(ctx, p); err != nil {
						return err
					}
				}
				return tx.LedgerAddMany(ctx, append(append([]*promokit.LedgerEntry{released(30, day(1, 20*time.Hour))}, otherEntries...), goneEntries...))
			})
			id := func(e *promokit.LedgerEntry) string { return strconv.FormatInt(e.ID, 10) }
			m = NewTestMain(t, "check", "--database-url", url)
			if err := m.Run(ctx); !errors.Is(err, errCounters) {
				t.Fatalf("check: %v, want errCounters", err)
			}
			var stdout, stderr syncBuffer
			if code := (&Main{Stdout: &stdout, Stderr: &stderr, Getenv: env(nil)}).Exec(ctx, []string{"check", "--database-url", url}); code != 1 {
				t.Errorf("promokit check exits %d, want 1:\n%s", code, stderr.String())
			}
			out := m.stdout.String()
			// In the order of promokit.Counters, entries by id.
			if !strings.Contains(out, "ledger_daily sto_a") {
				t.Fatalf("check printed:\n%s", out)
			}
			out = out[strings.Index(out, "ledger_daily sto_a"):]
			want := strings.Join([]string{
				"ledger_daily sto_a par_a 2026-01-01 USD affiliate payable released: stored 100, from the ledger entries 130\n",
				"ledger_daily_entries sto_a par_a 2026-01-01 USD affiliate payable released: stored 1, from the ledger entries 2\n",
				// The roll-up of January 1 has 100; its entries, 130.
				"payable_balance sto_a par_a USD: by the roll-ups 100, from the ledger entries 130\n",
				"payout_paid pay_bare: stored 70, from the payout's entries 0\n",
				"ledger_payout " + id(otherEntries[0]) + ": names payout pay_other, from sto_a to par_a in USD, but the entry is from sto_a to par_b in USD\n",
				"ledger_payout " + id(otherEntries[1]) + ": names payout pay_other, from sto_a to par_a in USD, but the entry is from sto_a to par_a in EUR\n",
				"ledger_payout " + id(goneEntries[0]) + ": names payout pay_gone, which does not exist\n",
				"ledger_payout " + id(goneEntries[1]) + ": names payout pay_gone, which does not exist\n",
			}, "")
			if out != want {
				t.Errorf("check printed:\n%s\nwant:\n%s", out, want)
			}
			t.Log(out)
			if strings.Contains(out, "from the redemptions") {
				t.Errorf("a ledger difference is worded as the redemptions':\n%s", out)
			}
		})
	}
}
