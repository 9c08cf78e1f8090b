package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// The ledger of what partners are owed.

// newEntry returns a ledger entry of an order line.
func newEntry(partnerID, storeID, orderID string, line int, status, kind string, amount int64, currency string, at time.Time) *promokit.LedgerEntry {
	return &promokit.LedgerEntry{PartnerID: partnerID, StoreID: storeID, OrderID: orderID, Line: line,
		Program: promokit.ProgramAffiliate, Status: status, Kind: kind, Amount: amount, Currency: currency,
		Basis: amount * 20, Rate: 500, RateID: 3, EventID: "evt-" + orderID, CreatedAt: at}
}

// testLedgerEntries checks that a batch of entries gets increasing ids,
// and an order's entries by id.
func testLedgerEntries(t *testing.T, b *bundle) {
	const n = 1000
	batch := make([]*promokit.LedgerEntry, n)
	for i := range batch {
		batch[i] = newEntry("ptn_1", "sto_1", fmt.Sprintf("ord-%d", i%10), i%3+1, promokit.LedgerPending, promokit.EntryAccrued,
			int64(i+1), "USD", b.at(time.Duration(i)*time.Millisecond))
	}
	batch[5].RateID, batch[5].EventID, batch[5].Amount = 0, "", -5 // a reversal without a rate
	b.write(t, func(tx engine.Tx) error { return tx.AddEntries(b.ctx, batch) })
	for i := 1; i < n; i++ {
		if batch[i].ID <= batch[i-1].ID {
			t.Fatalf("entry %d has id %d after %d: want increasing ids", i, batch[i].ID, batch[i-1].ID)
		}
	}
	b.write(t, func(tx engine.Tx) error { return tx.AddEntries(b.ctx, nil) })
	other := newEntry("ptn_1", "sto_2", "ord-3", 1, promokit.LedgerPayable, promokit.EntryReleased, 7, "USD", b.now)
	b.write(t, func(tx engine.Tx) error { return tx.AddEntries(b.ctx, []*promokit.LedgerEntry{other}) })
	if other.ID <= batch[n-1].ID {
		t.Fatalf("entry of a later batch has id %d, not after %d", other.ID, batch[n-1].ID)
	}

	entries := func(storeID, orderID string) []*promokit.LedgerEntry {
		t.Helper()
		var got []*promokit.LedgerEntry
		b.read(t, func(tx engine.Tx) (err error) {
			got, err = tx.OrderEntries(b.ctx, storeID, orderID)
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

// testLedgerTotals checks statements: the totals by currency, status and
// kind of a partner's or a store's entries in a period (from inclusive,
// to exclusive), and the pages of the entries.
func testLedgerTotals(t *testing.T, b *bundle) {
	partners, stores := []string{"ptn_1", "ptn_2"}, []string{"sto_1", "sto_2"}
	currencies := []string{"EUR", "USD"}
	kinds := []struct{ status, kind string }{
		{promokit.LedgerPending, promokit.EntryAccrued},
		{promokit.LedgerPending, promokit.EntryAdjusted},
		{promokit.LedgerPending, promokit.EntryReleased},
		{promokit.LedgerPayable, promokit.EntryReleased},
		{promokit.LedgerPayable, promokit.EntryReversed},
	}
	var all []*promokit.LedgerEntry
	for i := range 200 {
		k := kinds[i%len(kinds)]
		amount := int64(i*7%100 + 1)
		if k.kind == promokit.EntryReversed || k.status == promokit.LedgerPending && k.kind == promokit.EntryReleased {
			amount = -amount
		}
		all = append(all, newEntry(partners[i%2], stores[i/2%2], fmt.Sprintf("ord-%d", i/4), i%3, k.status, k.kind, amount,
			currencies[i/3%2], b.at(time.Duration(i)*time.Hour)))
	}
	// One batch in an order of times unlike the ids', so that no test
	// can rely on ids following times.
	slices.Reverse(all[100:150])
	b.write(t, func(tx engine.Tx) error { return tx.AddEntries(b.ctx, all) })

	// The reference: the entries f selects, and their sums.
	selects := func(f engine.LedgerFilter, e *promokit.LedgerEntry) bool {
		return (f.PartnerID == "" || e.PartnerID == f.PartnerID) && (f.StoreID == "" || e.StoreID == f.StoreID) &&
			(f.From.IsZero() || !e.CreatedAt.Before(f.From)) && (f.To.IsZero() || e.CreatedAt.Before(f.To))
	}
	wantTotals := func(f engine.LedgerFilter) []engine.LedgerTotal {
		sums := map[[3]string]*engine.LedgerTotal{}
		var out []engine.LedgerTotal
		for _, e := range all {
			if !selects(f, e) {
				continue
			}
			k := [3]string{e.Currency, e.Status, e.Kind}
			if sums[k] == nil {
				sums[k] = &engine.LedgerTotal{Currency: e.Currency, Status: e.Status, Kind: e.Kind}
			}
			sums[k].Amount += e.Amount
			sums[k].Entries++
		}
		for _, s := range sums {
			out = append(out, *s)
		}
		slices.SortFunc(out, func(a, b engine.LedgerTotal) int {
			return cmp.Or(cmp.Compare(a.Currency, b.Currency), cmp.Compare(a.Status, b.Status), cmp.Compare(a.Kind, b.Kind))
		})
		return out
	}
	wantEntries := func(f engine.LedgerFilter) []*promokit.LedgerEntry {
		var out []*promokit.LedgerEntry
		for _, e := range all {
			if selects(f, e) {
				out = append(out, e)
			}
		}
		slices.SortFunc(out, func(a, b *promokit.LedgerEntry) int { return cmp.Compare(a.ID, b.ID) })
		return out
	}
	filters := []engine.LedgerFilter{
		{PartnerID: "ptn_1"},
		{StoreID: "sto_2"},
		{PartnerID: "ptn_2", StoreID: "sto_1"},
		{PartnerID: "ptn_1", From: b.at(40 * time.Hour), To: b.at(130 * time.Hour)},
		{StoreID: "sto_1", From: b.at(120 * time.Hour)},
		{StoreID: "sto_1", To: b.at(11 * time.Hour)},
		{PartnerID: "ptn_1", From: b.at(10 * time.Hour), To: b.at(10 * time.Hour)},
		{PartnerID: "ptn_9"},
	}
	for _, f := range filters {
		name := fmt.Sprintf("filter %s/%s from %v to %v", f.PartnerID, f.StoreID, f.From.Sub(b.now), f.To.Sub(b.now))
		want := wantTotals(f)
		if f.PartnerID != "ptn_9" && f.From != f.To && len(want) < 2 {
			t.Fatalf("%s: the reference selects too little: %v", name, want)
		}
		var got []engine.LedgerTotal
		b.read(t, func(tx engine.Tx) (err error) {
			got, err = tx.LedgerTotals(b.ctx, f)
			return err
		})
		wantEqual(t, "totals of "+name, want, got)

		// Every page of 7, then the whole list in one page.
		var pages []*promokit.LedgerEntry
		p := engine.Page{Limit: 7}
		for range 100 {
			var page []*promokit.LedgerEntry
			b.read(t, func(tx engine.Tx) (err error) {
				page, err = tx.ListEntries(b.ctx, f, p)
				return err
			})
			if len(page) > p.Limit {
				t.Fatalf("%s: a page of %d entries, limit %d", name, len(page), p.Limit)
			}
			pages = append(pages, page...)
			if len(page) < p.Limit {
				break
			}
			p.After = strconv.FormatInt(page[len(page)-1].ID, 10)
		}
		wantEqual(t, "entries of "+name, wantEntries(f), pages)
	}
	// A filter without a partner or a store is refused.
	err := b.readErr(func(tx engine.Tx) error {
		_, err := tx.LedgerTotals(b.ctx, engine.LedgerFilter{From: b.now})
		return err
	})
	if err == nil {
		t.Fatal("LedgerTotals without a partner or a store: no error")
	}
	err = b.readErr(func(tx engine.Tx) error {
		_, err := tx.ListEntries(b.ctx, engine.LedgerFilter{PartnerID: "ptn_1"}, engine.Page{After: "1x", Limit: 10})
		return err
	})
	wantCode(t, "ListEntries after a cursor that is no id", err, promokit.EInvalid)
}
