package storagetest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// The ledger of what each party owes another.

// newEntry returns an affiliate commission that store storeID owes
// partner partnerID for an order line.
func newEntry(partnerID, storeID, orderID string, line int, status, kind string, amount int64, currency string, at time.Time) *promokit.LedgerEntry {
	return &promokit.LedgerEntry{Payer: storeID, Payee: partnerID, StoreID: storeID, OrderID: orderID, Line: line,
		Program: promokit.ProgramAffiliate, Rule: promokit.RuleAffiliate, Status: status, Kind: kind, Amount: amount,
		Currency: currency, Basis: amount * 20, Rate: 500, RateID: 3, EventID: "evt-" + orderID, CreatedAt: at}
}

// ledgerPairs are payers and payees of mixedEntries, with the program of
// their entries: commissions of stores to partners, a store's share to the
// marketplace, the marketplace's shares to a partner and a subsidy to a
// store.
var ledgerPairs = []struct{ payer, payee, program string }{
	{"sto_1", "par_1", promokit.ProgramAffiliate},
	{"sto_2", "par_2", promokit.ProgramAffiliate},
	{"sto_1", promokit.Marketplace, promokit.ProgramPartnerCode},
	{promokit.Marketplace, "par_1", promokit.ProgramEnvelope},
	{"sto_2", "par_1", promokit.ProgramTask},
	{promokit.Marketplace, "sto_2", "subsidy"},
	{"sto_1", "par_2", promokit.ProgramAffiliate},
}

// mixedPayoutIDs numbers the payouts of mixedEntries, so that no two
// batches name one payout.
var mixedPayoutIDs atomic.Int64

// mixedEntries returns n entries of the pairs of ledgerPairs, two
// currencies and every status and kind, the i-th created at at(i). The
// paid_out entries come in pairs, as a payout writes them: the payable
// one, then the paid one of the same pair, currency and amount, both
// naming a payout of their own (mixedPayouts returns it).
func mixedEntries(n int, at func(i int) time.Time) []*promokit.LedgerEntry {
	currencies := []string{"EUR", "USD"}
	kinds := []struct{ status, kind string }{
		{promokit.LedgerPending, promokit.EntryAccrued},
		{promokit.LedgerPending, promokit.EntryAdjusted},
		{promokit.LedgerPending, promokit.EntryReleased},
		{promokit.LedgerPayable, promokit.EntryReleased},
		{promokit.LedgerPayable, promokit.EntryReversed},
		{promokit.LedgerPayable, promokit.EntryPaidOut},
		{promokit.LedgerPaid, promokit.EntryPaidOut},
	}
	var all []*promokit.LedgerEntry
	for i := range n {
		k := kinds[i%len(kinds)]
		pair := ledgerPairs[i/2%len(ledgerPairs)]
		amount := int64(i*7%100 + 1)
		if k.kind == promokit.EntryReversed || k.kind == promokit.EntryReleased && k.status == promokit.LedgerPending ||
			k.kind == promokit.EntryPaidOut && k.status == promokit.LedgerPayable {
			amount = -amount
		}
		e := newEntry(pair.payee, pair.payer, fmt.Sprintf("ord-%d", i/4), i%3, k.status, k.kind, amount, currencies[i/3%2], at(i))
		e.Payer, e.Payee, e.Program = pair.payer, pair.payee, pair.program
		if pair.payer == promokit.Marketplace {
			e.StoreID = pair.payee
		}
		if k.kind == promokit.EntryPaidOut {
			e.OrderID, e.Line, e.EventID, e.PayoutID = "", 0, "", fmt.Sprintf("pay_mixed_%d", mixedPayoutIDs.Add(1))
			if prev := all[len(all)-1]; k.status == promokit.LedgerPaid && prev.Kind == promokit.EntryPaidOut {
				e.Payer, e.Payee, e.StoreID, e.Program = prev.Payer, prev.Payee, prev.StoreID, prev.Program
				e.Currency, e.Amount, e.PayoutID = prev.Currency, -prev.Amount, prev.PayoutID
			}
		}
		all = append(all, e)
	}
	// A payable paid_out entry whose paid one the batch cut off names no
	// payout: it has none of its own.
	if last := all[len(all)-1]; last.Kind == promokit.EntryPaidOut && last.Status == promokit.LedgerPayable {
		last.PayoutID = ""
	}
	return all
}

// mixedPayouts returns the payouts that the paid entries of es name,
// each of the amount its entry moved to paid, so that they and the
// entries agree (UsageCheck).
func mixedPayouts(es []*promokit.LedgerEntry) []*promokit.Payout {
	var out []*promokit.Payout
	for _, e := range es {
		if e.Kind == promokit.EntryPaidOut && e.Status == promokit.LedgerPaid {
			out = append(out, &promokit.Payout{ID: e.PayoutID, Payer: e.Payer, Payee: e.Payee,
				StoreID: promokit.PayoutStore(e.Payer, e.Payee), Currency: e.Currency, Amount: e.Amount,
				PaidOn: e.CreatedAt.Format(time.DateOnly), Reference: "wire", State: promokit.PayoutRecorded, CreatedAt: e.CreatedAt})
		}
	}
	return out
}

// addMixed writes es and the payouts they name (mixedPayouts) in one
// transaction.
func (b *bundle) addMixed(t *testing.T, es []*promokit.LedgerEntry) {
	t.Helper()
	b.write(t, func(tx storage.Tx) error {
		for _, p := range mixedPayouts(es) {
			if err := tx.PayoutCreate(b.ctx, p); err != nil {
				return err
			}
		}
		return tx.LedgerAddMany(b.ctx, es)
	})
}

// ledgerSelects reports whether f selects e.
func ledgerSelects(f storage.LedgerFilter, e *promokit.LedgerEntry) bool {
	between := e.Payer == f.Party && (f.Counterparty == "" || e.Payee == f.Counterparty) ||
		e.Payee == f.Party && (f.Counterparty == "" || e.Payer == f.Counterparty)
	return between && (f.From.IsZero() || !e.CreatedAt.Before(f.From)) && (f.To.IsZero() || e.CreatedAt.Before(f.To))
}

// sumEntries returns the totals of the entries of es that f selects, as
// LedgerSum returns them.
func sumEntries(es []*promokit.LedgerEntry, f storage.LedgerFilter) []storage.LedgerTotal {
	sums := map[[6]string]*storage.LedgerTotal{}
	var out []storage.LedgerTotal
	for _, e := range es {
		if !ledgerSelects(f, e) {
			continue
		}
		side, other := promokit.SidePayer, e.Payee
		if e.Payee == f.Party {
			side, other = promokit.SidePayee, e.Payer
		}
		k := [6]string{side, promokit.PartyKind(other), e.Currency, e.Program, e.Status, e.Kind}
		if sums[k] == nil {
			sums[k] = &storage.LedgerTotal{Side: k[0], Counterparty: k[1], Currency: k[2], Program: k[3], Status: k[4], Kind: k[5]}
		}
		sums[k].Amount += e.Amount
		sums[k].Entries++
	}
	for _, s := range sums {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b storage.LedgerTotal) int {
		return cmp.Or(cmp.Compare(a.Side, b.Side), cmp.Compare(a.Counterparty, b.Counterparty), cmp.Compare(a.Currency, b.Currency),
			cmp.Compare(a.Program, b.Program), cmp.Compare(a.Status, b.Status), cmp.Compare(a.Kind, b.Kind))
	})
	return out
}

// testLedgerEntries checks that a batch of entries gets increasing ids,
// and an order's entries by id.
func testLedgerEntries(t *testing.T, b *bundle) {
	const n = 1000
	batch := make([]*promokit.LedgerEntry, n)
	for i := range batch {
		batch[i] = newEntry("par_1", "sto_1", fmt.Sprintf("ord-%d", i%10), i%3+1, promokit.LedgerPending, promokit.EntryAccrued,
			int64(i+1), "USD", b.at(time.Duration(i)*time.Millisecond))
	}
	batch[5].RateID, batch[5].EventID, batch[5].Amount = 0, "", -5 // a reversal without a rate
	b.write(t, func(tx storage.Tx) error { return tx.LedgerAddMany(b.ctx, batch) })
	for i := 1; i < n; i++ {
		if batch[i].ID <= batch[i-1].ID {
			t.Fatalf("entry %d has id %d after %d: want increasing ids", i, batch[i].ID, batch[i-1].ID)
		}
	}
	b.write(t, func(tx storage.Tx) error { return tx.LedgerAddMany(b.ctx, nil) })
	other := newEntry("par_1", "sto_2", "ord-3", 1, promokit.LedgerPayable, promokit.EntryReleased, 7, "USD", b.now)
	b.write(t, func(tx storage.Tx) error { return tx.LedgerAddMany(b.ctx, []*promokit.LedgerEntry{other}) })
	if other.ID <= batch[n-1].ID {
		t.Fatalf("entry of a later batch has id %d, not after %d", other.ID, batch[n-1].ID)
	}

	entries := func(storeID, orderID string) []*promokit.LedgerEntry {
		t.Helper()
		var got []*promokit.LedgerEntry
		b.read(t, func(tx storage.Tx) (err error) {
			got, err = tx.LedgerListByOrder(b.ctx, storeID, orderID)
			return err
		})
		return got
	}
	var want []*promokit.LedgerEntry
	for _, e := range batch {
		if e.OrderID == "ord-3" {
			want = append(want, e)
		}
	}
	wantEqual(t, "an order's entries", want, entries("sto_1", "ord-3"))
	wantEqual(t, "the other store's order entries", []*promokit.LedgerEntry{other}, entries("sto_2", "ord-3"))
	wantEqual(t, "entries of a missing order", []*promokit.LedgerEntry(nil), entries("sto_1", "ord-x"))
	wantEqual(t, "an entry without a rate", batch[5], entries("sto_1", "ord-5")[0])
}

// testLedgerTotals checks statements: the totals by side, counterparty
// kind, currency, program, status and kind of a party's entries in a
// period (from inclusive, to exclusive), and the pages of the entries.
func testLedgerTotals(t *testing.T, b *bundle) {
	all := mixedEntries(200, func(i int) time.Time { return b.at(time.Duration(i) * time.Hour) })
	// One batch in an order of times unlike the ids', so that no test
	// can rely on ids following times.
	slices.Reverse(all[100:150])
	b.addMixed(t, all)

	// The reference: the entries f selects, and their sums.
	selects := ledgerSelects
	wantTotals := func(f storage.LedgerFilter) []storage.LedgerTotal { return sumEntries(all, f) }
	wantEntries := func(f storage.LedgerFilter) []*promokit.LedgerEntry {
		var out []*promokit.LedgerEntry
		for _, e := range all {
			if selects(f, e) {
				out = append(out, e)
			}
		}
		slices.SortFunc(out, func(a, b *promokit.LedgerEntry) int { return cmp.Compare(a.ID, b.ID) })
		return out
	}
	filters := []storage.LedgerFilter{
		{Party: "par_1"},
		{Party: "sto_2"},
		{Party: "sto_1"},
		{Party: promokit.Marketplace},
		{Party: "par_2", Counterparty: "sto_1"},
		{Party: "sto_1", Counterparty: promokit.Marketplace},
		{Party: promokit.Marketplace, Counterparty: "sto_2"},
		{Party: "par_1", From: b.at(40 * time.Hour), To: b.at(130 * time.Hour)},
		{Party: "sto_1", From: b.at(120 * time.Hour)},
		{Party: "sto_1", To: b.at(31 * time.Hour)},
		{Party: "par_1", From: b.at(10 * time.Hour), To: b.at(10 * time.Hour)},
		{Party: "par_9"},
		{Party: "par_1", Counterparty: "sto_9"},
	}
	for _, f := range filters {
		name := fmt.Sprintf("filter %s/%s from %v to %v", f.Party, f.Counterparty, f.From.Sub(b.now), f.To.Sub(b.now))
		want := wantTotals(f)
		if f.Party != "par_9" && f.Counterparty != "sto_9" && f.From != f.To && len(want) < 2 {
			t.Fatalf("%s: the reference selects too little: %v", name, want)
		}
		var got []storage.LedgerTotal
		b.read(t, func(tx storage.Tx) (err error) {
			got, err = tx.LedgerSum(b.ctx, f)
			return err
		})
		wantEqual(t, "totals of "+name, want, got)

		// Every page of 7, then the whole list in one page.
		var pages []*promokit.LedgerEntry
		p := storage.IDPage{Limit: 7}
		for range 100 {
			var page []*promokit.LedgerEntry
			b.read(t, func(tx storage.Tx) (err error) {
				page, err = tx.LedgerList(b.ctx, f, p)
				return err
			})
			if len(page) > p.Limit {
				t.Fatalf("%s: a page of %d entries, limit %d", name, len(page), p.Limit)
			}
			pages = append(pages, page...)
			if len(page) < p.Limit {
				break
			}
			p.After = page[len(page)-1].ID
		}
		wantEqual(t, "entries of "+name, wantEntries(f), pages)
	}
	// A filter without a party is refused.
	err := b.readErr(func(tx storage.Tx) error {
		_, err := tx.LedgerSum(b.ctx, storage.LedgerFilter{From: b.now})
		return err
	})
	if err == nil {
		t.Fatal("LedgerSum without a party: no error")
	}
}

// utcDay returns 0:00 UTC of a day of January 2026; days past 31 run on
// into February.
func utcDay(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }

// rollup runs RollupLedger in a write transaction and returns the new
// rolled_until.
func (b *bundle) rollup(t *testing.T, until time.Time, maxDays int) time.Time {
	t.Helper()
	var rolled time.Time
	b.write(t, func(tx storage.Tx) (err error) {
		rolled, err = tx.LedgerRollup(b.ctx, until, maxDays)
		return err
	})
	return rolled
}

// wantCounterDiffs fails the test unless UsageCheck reports want,
// compared in the order of kind and subject.
func wantCounterDiffs(t *testing.T, b *bundle, what string, want []storage.CounterDiff) {
	t.Helper()
	got, err := b.store.UsageCheck(b.ctx)
	if err != nil {
		t.Fatalf("UsageCheck: %v", err)
	}
	slices.SortFunc(got, func(x, y storage.CounterDiff) int {
		return cmp.Or(cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Subject, y.Subject))
	})
	wantEqual(t, what, want, got)
}

// testLedgerRollup checks that the daily roll-ups change no total: for
// partners, stores and both, over periods aligned to UTC days or not,
// open at either end, before and after roll-ups of a few days at a time,
// and with entries added after a roll-up. Rolling up again changes
// nothing, and the roll-ups agree with the entries (UsageCheck).
func testLedgerRollup(t *testing.T, b *bundle) {
	if got := b.rollup(t, utcDay(10), 31); !got.IsZero() {
		t.Fatalf("RollupLedger of an empty ledger = %v, want zero", got)
	}
	// Entries every 29 minutes from January 1, 9:30 to January 7, and on
	// the edges of days.
	all := mixedEntries(300, func(i int) time.Time { return b.at(time.Duration(i) * 29 * time.Minute) })
	for i, at := range []time.Time{utcDay(2), utcDay(3).Add(-time.Microsecond), utcDay(4), utcDay(5).Add(-time.Microsecond)} {
		all = append(all, newEntry("par_1", "sto_2", "ord-edge", i, promokit.LedgerPayable, promokit.EntryReleased,
			int64(1000+i), "USD", at))
	}
	slices.Reverse(all[120:180])
	b.addMixed(t, all)
	if got := b.rollup(t, utcDay(1), 31); !got.IsZero() {
		t.Fatalf("RollupLedger before the first entry's day = %v, want zero", got)
	}

	scopes := []storage.LedgerFilter{
		{Party: "par_1"}, {Party: "sto_2"}, {Party: promokit.Marketplace}, {Party: "par_2", Counterparty: "sto_1"},
		{Party: "sto_1", Counterparty: promokit.Marketplace}, {Party: "par_9"},
	}
	periods := [][2]time.Time{
		{},                     // everything
		{utcDay(2), utcDay(4)}, // whole days
		{utcDay(1).Add(15*time.Hour + 7*time.Minute), utcDay(4).Add(3 * time.Hour)},
		{{}, utcDay(3)}, // an opening balance
		{{}, utcDay(3).Add(time.Hour)},
		{utcDay(2).Add(time.Microsecond), {}},
		{utcDay(3), {}},
		{utcDay(2).Add(2 * time.Hour), utcDay(2).Add(20 * time.Hour)}, // within a day
		{utcDay(3).Add(-time.Microsecond), utcDay(3).Add(time.Microsecond)},
		{utcDay(5).Add(time.Hour), utcDay(9)},
		{utcDay(1), utcDay(40)},
		{utcDay(4), utcDay(2)}, // empty
	}
	check := func(stage string) {
		t.Helper()
		for _, scope := range scopes {
			for _, p := range periods {
				f := scope
				f.From, f.To = p[0], p[1]
				var got []storage.LedgerTotal
				b.read(t, func(tx storage.Tx) (err error) {
					got, err = tx.LedgerSum(b.ctx, f)
					return err
				})
				wantEqual(t, fmt.Sprintf("%s: totals of %s/%s from %v to %v", stage, f.Party, f.Counterparty, f.From, f.To),
					sumEntries(all, f), got)
			}
		}
	}
	check("before any roll-up")

	// The first roll-up starts on the first entry's day.
	if got := b.rollup(t, utcDay(4), 1); !got.Equal(utcDay(2)) {
		t.Fatalf("RollupLedger of 1 day = %v, want January 2", got)
	}
	check("rolled up until January 2")
	if got := b.rollup(t, utcDay(4), 2); !got.Equal(utcDay(4)) {
		t.Fatalf("RollupLedger of 2 days = %v, want January 4", got)
	}
	check("rolled up until January 4")
	wantCounterDiffs(t, b, "check after roll-ups", nil)
	// Again, or to an earlier day: nothing changes.
	for _, until := range []time.Time{utcDay(4), utcDay(3), utcDay(4).Add(5 * time.Hour)} {
		if got := b.rollup(t, until, 31); !got.Equal(utcDay(4)) {
			t.Fatalf("RollupLedger again until %v = %v, want January 4", until, got)
		}
	}
	check("rolled up again")
	wantCounterDiffs(t, b, "check after rolling up again", nil)

	// Entries written after the roll-up, on the days it did not reach.
	more := mixedEntries(100, func(i int) time.Time { return utcDay(4).Add(time.Duration(i) * 71 * time.Minute) })
	b.addMixed(t, more)
	all = append(all, more...)
	check("entries after the roll-up")
	if got := b.rollup(t, utcDay(7), 31); !got.Equal(utcDay(7)) {
		t.Fatalf("RollupLedger until January 7 = %v", got)
	}
	check("rolled up until January 7")
	// A long way, a month at a time; days without entries too.
	if got := b.rollup(t, utcDay(60), 31); !got.Equal(utcDay(38)) {
		t.Fatalf("RollupLedger of 31 days = %v, want February 7", got)
	}
	if got := b.rollup(t, utcDay(60), 31); !got.Equal(utcDay(60)) {
		t.Fatalf("RollupLedger until March 1 = %v", got)
	}
	check("rolled up past every entry")
	wantCounterDiffs(t, b, "check after every roll-up", nil)
}

// testLedgerRollupConcurrent checks that roll-ups running at once take
// turns: none fails, no day is rolled up twice, and the totals stay those
// of the entries.
func testLedgerRollupConcurrent(t *testing.T, b *bundle) {
	all := mixedEntries(400, func(i int) time.Time { return b.at(time.Duration(i) * 150 * time.Minute) })
	b.addMixed(t, all)
	until := utcDay(40)
	errs := make(chan error, 4)
	for range cap(errs) {
		go func() {
			for {
				var rolled time.Time
				err := b.writeErr(func(tx storage.Tx) (err error) {
					rolled, err = tx.LedgerRollup(b.ctx, until, 2)
					return err
				})
				if err != nil || !rolled.Before(until) {
					errs <- err
					return
				}
			}
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent RollupLedger: %v", err)
		}
	}
	wantCounterDiffs(t, b, "check after concurrent roll-ups", nil)
	for _, f := range []storage.LedgerFilter{{Party: "par_1"}, {Party: "sto_2", From: utcDay(3).Add(time.Hour), To: utcDay(30)}} {
		var got []storage.LedgerTotal
		b.read(t, func(tx storage.Tx) (err error) {
			got, err = tx.LedgerSum(b.ctx, f)
			return err
		})
		wantEqual(t, fmt.Sprintf("totals of %s/%s", f.Party, f.Counterparty), sumEntries(all, f), got)
	}
}

// testLedgerRollupCheck checks that UsageCheck reports an entry that
// commits into a day already rolled up: its day's sums differ from the
// roll-up's row, or the roll-up has no row for it; a payable one makes
// the pair's payable balance as the roll-ups give it differ from its
// entries' too. Entries of days not rolled up are not compared.
func testLedgerRollupCheck(t *testing.T, b *bundle) {
	entries := []*promokit.LedgerEntry{
		newEntry("par_1", "sto_1", "ord-1", 0, promokit.LedgerPending, promokit.EntryAccrued, 100, "USD", utcDay(1).Add(10*time.Hour)),
		newEntry("par_1", "sto_1", "ord-2", 0, promokit.LedgerPending, promokit.EntryAccrued, 50, "USD", utcDay(1).Add(20*time.Hour)),
		newEntry("par_2", "sto_1", "ord-3", 0, promokit.LedgerPayable, promokit.EntryReleased, 70, "EUR", utcDay(2).Add(time.Hour)),
		newEntry("par_1", "sto_1", "ord-4", 0, promokit.LedgerPending, promokit.EntryAccrued, 5, "USD", utcDay(3).Add(time.Hour)),
	}
	b.write(t, func(tx storage.Tx) error { return tx.LedgerAddMany(b.ctx, entries) })
	if got := b.rollup(t, utcDay(3), 31); !got.Equal(utcDay(3)) {
		t.Fatalf("RollupLedger = %v, want January 3", got)
	}
	wantCounterDiffs(t, b, "check after the roll-up", nil)

	late := []*promokit.LedgerEntry{
		newEntry("par_1", "sto_1", "ord-5", 0, promokit.LedgerPending, promokit.EntryAccrued, 40, "USD", utcDay(1).Add(23*time.Hour)),
		newEntry("par_2", "sto_2", "ord-6", 0, promokit.LedgerPending, promokit.EntryAdjusted, -8, "GBP", utcDay(2).Add(5*time.Hour)),
		newEntry("par_2", "sto_2", "ord-7", 0, promokit.LedgerPending, promokit.EntryAdjusted, 9, "GBP", utcDay(3).Add(5*time.Hour)),
		newEntry("par_2", "sto_1", "ord-8", 0, promokit.LedgerPayable, promokit.EntryReleased, 30, "EUR", utcDay(2).Add(3*time.Hour)),
		newEntry("par_2", "sto_1", "ord-9", 0, promokit.LedgerPayable, promokit.EntryReleased, 11, "EUR", utcDay(3).Add(3*time.Hour)),
	}
	b.write(t, func(tx storage.Tx) error { return tx.LedgerAddMany(b.ctx, late) })
	wantCounterDiffs(t, b, "check after late entries", []storage.CounterDiff{
		{Kind: "ledger_daily", Subject: "sto_1 par_1 2026-01-01 USD affiliate pending accrued", Stored: 150, FromRows: 190},
		{Kind: "ledger_daily", Subject: "sto_1 par_2 2026-01-02 EUR affiliate payable released", Stored: 70, FromRows: 100},
		{Kind: "ledger_daily", Subject: "sto_2 par_2 2026-01-02 GBP affiliate pending adjusted", Stored: 0, FromRows: -8},
		{Kind: "ledger_daily_entries", Subject: "sto_1 par_1 2026-01-01 USD affiliate pending accrued", Stored: 2, FromRows: 3},
		{Kind: "ledger_daily_entries", Subject: "sto_1 par_2 2026-01-02 EUR affiliate payable released", Stored: 1, FromRows: 2},
		{Kind: "ledger_daily_entries", Subject: "sto_2 par_2 2026-01-02 GBP affiliate pending adjusted", Stored: 0, FromRows: 1},
		// The day rolled up and the day after: 70 + 11 by the roll-ups.
		{Kind: "payable_balance", Subject: "sto_1 par_2 EUR", Stored: 81, FromRows: 111},
	})
}

// RunLedgerRollupTampered checks that UsageCheck reports roll-ups
// changed behind the entries' back, in s, a new migrated store: exec runs a
// statement on its database directly, as only the database's own tests
// can. A row's amount and count changed, a row deleted and a row added
// each show.
func RunLedgerRollupTampered(t *testing.T, s storage.DB, exec func(ctx context.Context, query string) error) {
	t.Helper()
	b := &bundle{ctx: t.Context(), store: s, now: jan1()}
	entries := []*promokit.LedgerEntry{
		newEntry("par_1", "sto_1", "ord-1", 0, promokit.LedgerPending, promokit.EntryAccrued, 100, "USD", utcDay(1).Add(10*time.Hour)),
		newEntry("par_1", "sto_1", "ord-2", 0, promokit.LedgerPending, promokit.EntryAccrued, 50, "USD", utcDay(1).Add(20*time.Hour)),
		newEntry("par_2", "sto_1", "ord-3", 0, promokit.LedgerPayable, promokit.EntryReleased, 70, "EUR", utcDay(2).Add(time.Hour)),
		newEntry("par_2", "sto_2", "ord-4", 0, promokit.LedgerPending, promokit.EntryAccrued, 30, "EUR", utcDay(2).Add(2*time.Hour)),
	}
	b.write(t, func(tx storage.Tx) error { return tx.LedgerAddMany(b.ctx, entries) })
	if got := b.rollup(t, utcDay(3), 31); !got.Equal(utcDay(3)) {
		t.Fatalf("RollupLedger = %v, want January 3", got)
	}
	wantCounterDiffs(t, b, "check after the roll-up", nil)
	for _, query := range []string{
		`UPDATE ledger_daily SET amount = amount + 1, entries = entries + 1 WHERE payee = 'par_1'`,
		`DELETE FROM ledger_daily WHERE payee = 'par_2' AND payer = 'sto_2'`,
		`INSERT INTO ledger_daily (payer, day, payee, currency, program, status, kind, amount, entries)
			SELECT payer, day, payee, 'JPY', program, status, kind, 9, 1 FROM ledger_daily WHERE payee = 'par_2'`,
	} {
		if err := exec(b.ctx, query); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	wantCounterDiffs(t, b, "check after tampering", []storage.CounterDiff{
		{Kind: "ledger_daily", Subject: "sto_1 par_1 2026-01-01 USD affiliate pending accrued", Stored: 151, FromRows: 150},
		{Kind: "ledger_daily", Subject: "sto_1 par_2 2026-01-02 JPY affiliate payable released", Stored: 9, FromRows: 0},
		{Kind: "ledger_daily", Subject: "sto_2 par_2 2026-01-02 EUR affiliate pending accrued", Stored: 0, FromRows: 30},
		{Kind: "ledger_daily_entries", Subject: "sto_1 par_1 2026-01-01 USD affiliate pending accrued", Stored: 3, FromRows: 2},
		{Kind: "ledger_daily_entries", Subject: "sto_1 par_2 2026-01-02 JPY affiliate payable released", Stored: 1, FromRows: 0},
		{Kind: "ledger_daily_entries", Subject: "sto_2 par_2 2026-01-02 EUR affiliate pending accrued", Stored: 0, FromRows: 1},
		// The payable row added shows in the pair's payable balance.
		{Kind: "payable_balance", Subject: "sto_1 par_2 JPY", Stored: 9, FromRows: 0},
	})
}
