package storagetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// Clicks and the visitor ids of customers.

// newClick returns an unflagged click of a visitor on a link.
func newClick(l *promokit.Link, visitor string, at time.Time) *promokit.Click {
	return &promokit.Click{LinkID: l.ID, StoreID: l.StoreID, PartnerID: l.PartnerID, VisitorID: visitor, ClickedAt: at,
		Referrer: "https://blog.example/post", UserAgent: "Mozilla/5.0"}
}

// mustInsertClicks inserts clicks in one transaction.
func mustInsertClicks(t *testing.T, b *bundle, cs ...*promokit.Click) {
	t.Helper()
	b.write(t, func(tx storage.Tx) error { return tx.ClickInsertMany(b.ctx, cs) })
}

// testClicks checks batches of clicks (ids in order), the counts per
// visitor and link since a time, and the counts per link.
func testClicks(t *testing.T, b *bundle) {
	l1 := &promokit.Link{ID: "lnk_1", StoreID: "sto_1", PartnerID: "ptn_1"}
	l2 := &promokit.Link{ID: "lnk_2", StoreID: "sto_1", PartnerID: "ptn_2"}
	l3 := &promokit.Link{ID: "lnk_3", StoreID: "sto_2", PartnerID: "ptn_1"}
	const n = 1000
	batch := make([]*promokit.Click, n)
	for i := range batch {
		l := []*promokit.Link{l1, l2, l3}[i%3]
		batch[i] = newClick(l, fmt.Sprintf("v%d", i%7), b.at(time.Duration(i)*time.Second))
		if i%10 == 0 {
			batch[i].Flag = promokit.ClickBot
		}
	}
	mustInsertClicks(t, b, batch...)
	for i := 1; i < n; i++ {
		if batch[i].ID <= batch[i-1].ID {
			t.Fatalf("click %d has id %d after %d: want increasing ids", i, batch[i].ID, batch[i-1].ID)
		}
	}
	more := []*promokit.Click{newClick(l1, "v0", b.at(time.Hour)), newClick(l1, "v0", b.at(time.Hour))}
	mustInsertClicks(t, b, more...)
	if more[0].ID <= batch[n-1].ID || more[1].ID <= more[0].ID {
		t.Fatalf("ids of a second batch %d, %d after %d: want increasing", more[0].ID, more[1].ID, batch[n-1].ID)
	}
	all := append(slices.Clone(batch), more...)
	b.write(t, func(tx storage.Tx) error { return tx.ClickInsertMany(b.ctx, nil) })

	// The reference counts, from the clicks inserted.
	since := b.at(500 * time.Second)
	wantCounts := map[storage.VisitorLink]int64{}
	wantStats := map[string]storage.LinkStat{}
	for _, c := range all {
		if !c.ClickedAt.Before(since) {
			wantCounts[storage.VisitorLink{VisitorID: c.VisitorID, LinkID: c.LinkID}]++
		}
		s := wantStats[c.LinkID]
		s.Clicks++
		if c.Flag != "" {
			s.Flagged++
		}
		wantStats[c.LinkID] = s
	}
	var pairs []storage.VisitorLink
	for v := range 8 { // v7 never clicked
		for _, l := range []string{"lnk_1", "lnk_2", "lnk_3", "lnk_9"} {
			pairs = append(pairs, storage.VisitorLink{VisitorID: fmt.Sprintf("v%d", v), LinkID: l})
		}
	}
	pairs = append(pairs, pairs[0]) // asked twice, counted once
	for k, n := range wantCounts {
		if !slices.Contains(pairs, k) || n == 0 {
			t.Fatalf("reference count of %v: %d", k, n)
		}
	}
	var counts map[storage.VisitorLink]int64
	b.read(t, func(tx storage.Tx) (err error) {
		counts, err = tx.ClickCountMany(b.ctx, since, pairs, 0)
		return err
	})
	wantEqual(t, "click counts", wantCounts, counts)
	// since is inclusive: from 499 s, the click of v2 on lnk_2 at 499 s
	// (click 499) counts too.
	pair := storage.VisitorLink{VisitorID: "v2", LinkID: "lnk_2"}
	b.read(t, func(tx storage.Tx) (err error) {
		counts, err = tx.ClickCountMany(b.ctx, b.at(499*time.Second), []storage.VisitorLink{pair}, 0)
		return err
	})
	wantEqual(t, "click counts from 499 s", map[storage.VisitorLink]int64{pair: wantCounts[pair] + 1}, counts)
	b.read(t, func(tx storage.Tx) (err error) {
		counts, err = tx.ClickCountMany(b.ctx, since, nil, 0)
		return err
	})
	wantEqual(t, "click counts of no pair", map[storage.VisitorLink]int64{}, counts)
	// A cap bounds each count, never below what is there.
	capped := map[storage.VisitorLink]int64{}
	for k, n := range wantCounts {
		capped[k] = min(n, 5)
	}
	b.read(t, func(tx storage.Tx) (err error) {
		counts, err = tx.ClickCountMany(b.ctx, since, pairs, 5)
		return err
	})
	wantEqual(t, "click counts capped at 5", capped, counts)

	var stats map[string]storage.LinkStat
	b.read(t, func(tx storage.Tx) (err error) {
		stats, err = tx.LinkStatGetMany(b.ctx, []string{"lnk_1", "lnk_2", "lnk_3", "lnk_9", "lnk_1"})
		return err
	})
	wantEqual(t, "link stats", wantStats, stats)
	b.read(t, func(tx storage.Tx) (err error) {
		stats, err = tx.LinkStatGetMany(b.ctx, []string{"lnk_2"})
		return err
	})
	wantEqual(t, "stats of one link", map[string]storage.LinkStat{"lnk_2": wantStats["lnk_2"]}, stats)
	b.read(t, func(tx storage.Tx) (err error) {
		stats, err = tx.LinkStatGetMany(b.ctx, nil)
		return err
	})
	wantEqual(t, "stats of no link", map[string]storage.LinkStat{}, stats)
}

// testLatestClick checks the click that attributes an order: the latest
// unflagged one of the visitors on the store's links within a window whose
// bounds are inclusive, the highest id among clicks of one instant.
func testLatestClick(t *testing.T, b *bundle) {
	l1 := &promokit.Link{ID: "lnk_1", StoreID: "sto_1", PartnerID: "ptn_1"}
	l2 := &promokit.Link{ID: "lnk_2", StoreID: "sto_1", PartnerID: "ptn_2"}
	l3 := &promokit.Link{ID: "lnk_3", StoreID: "sto_2", PartnerID: "ptn_1"}
	c1 := newClick(l1, "v1", b.now)
	c2 := newClick(l1, "v2", b.at(time.Hour))
	c3 := newClick(l2, "v1", b.at(2*time.Hour))
	c3.Flag = promokit.ClickBot
	c4 := newClick(l3, "v1", b.at(3*time.Hour))
	c5 := newClick(l2, "v3", b.at(time.Hour)) // same instant as c2, inserted after
	c6 := newClick(l1, "v4", b.at(4*time.Hour))
	c6.Flag = promokit.ClickFlood
	mustInsertClicks(t, b, c1, c2, c3, c4)
	mustInsertClicks(t, b, c5, c6)

	latest := func(storeID string, visitors []string, from, to time.Time) (*promokit.Click, error) {
		var c *promokit.Click
		err := b.readErr(func(tx storage.Tx) (err error) {
			c, err = tx.ClickGetLatest(b.ctx, storage.ClickQuery{StoreID: storeID, VisitorIDs: visitors, From: from, To: to})
			return err
		})
		return c, err
	}
	end := b.at(5 * time.Hour)
	for _, tc := range []struct {
		name     string
		store    string
		visitors []string
		from, to time.Time
		want     *promokit.Click
	}{
		{"flagged and foreign clicks left out", "sto_1", []string{"v1"}, b.now, end, c1},
		{"the latest of two visitors", "sto_1", []string{"v1", "v2"}, b.now, end, c2},
		{"the highest id of one instant", "sto_1", []string{"v2", "v3"}, b.now, end, c5},
		{"the other store", "sto_2", []string{"v1", "v2"}, b.now, end, c4},
		{"from is inclusive", "sto_1", []string{"v1"}, b.now, b.now, c1},
		{"to is inclusive", "sto_1", []string{"v2"}, b.now, b.at(time.Hour), c2},
		{"from after the click", "sto_1", []string{"v1"}, b.at(time.Microsecond), end, nil},
		{"to before the click", "sto_1", []string{"v2"}, b.now, b.at(time.Hour - time.Microsecond), nil},
		{"only flagged clicks", "sto_1", []string{"v4"}, b.now, end, nil},
		{"an unknown visitor", "sto_1", []string{"v9"}, b.now, end, nil},
		{"a store without clicks", "sto_9", []string{"v1"}, b.now, end, nil},
		{"no visitor", "sto_1", nil, b.now, end, nil},
	} {
		got, err := latest(tc.store, tc.visitors, tc.from, tc.to)
		if tc.want == nil {
			wantErr(t, tc.name, err, storage.ErrNotFound)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		wantEqual(t, tc.name, tc.want, got)
	}
}

// testVisitors checks a customer's visitor ids: bound per store,
// refreshed on each use, the most recently seen first.
func testVisitors(t *testing.T, b *bundle) {
	b.write(t, func(tx storage.Tx) error {
		for i, v := range []string{"v1", "v2", "v3"} {
			if err := tx.VisitorAdd(b.ctx, storage.VisitorSeen{StoreID: "sto_1", CustomerID: "cus_1", VisitorID: v, Seen: b.at(time.Duration(i) * time.Minute)}); err != nil {
				return err
			}
		}
		if err := tx.VisitorAdd(b.ctx, storage.VisitorSeen{StoreID: "sto_1", CustomerID: "cus_2", VisitorID: "v9", Seen: b.at(time.Hour)}); err != nil {
			return err
		}
		// Another store's bindings: the same customer with a visitor of
		// its own and with one that sto_1 saw too, seen last of all.
		for _, v := range []string{"v8", "v2"} {
			if err := tx.VisitorAdd(b.ctx, storage.VisitorSeen{StoreID: "sto_2", CustomerID: "cus_1", VisitorID: v, Seen: b.at(2 * time.Hour)}); err != nil {
				return err
			}
		}
		return tx.VisitorAdd(b.ctx, storage.VisitorSeen{StoreID: "sto_1", CustomerID: "cus_1", VisitorID: "v1", Seen: b.at(3 * time.Minute)})
	})
	visitors := func(store, customer string, limit int) []string {
		t.Helper()
		var got []string
		b.read(t, func(tx storage.Tx) (err error) {
			got, err = tx.VisitorList(b.ctx, store, customer, limit)
			return err
		})
		return got
	}
	wantEqual(t, "visitors", []string{"v1", "v3", "v2"}, visitors("sto_1", "cus_1", 10))
	wantEqual(t, "the two latest visitors", []string{"v1", "v3"}, visitors("sto_1", "cus_1", 2))
	wantEqual(t, "another customer's visitors", []string{"v9"}, visitors("sto_1", "cus_2", 10))
	wantEqual(t, "visitors of an unknown customer", []string(nil), visitors("sto_1", "cus_9", 10))
	wantEqual(t, "the customer's visitors at another store", []string{"v2", "v8"}, visitors("sto_2", "cus_1", 10))
	wantEqual(t, "the customer at a store that saw it never", []string(nil), visitors("sto_3", "cus_1", 10))
}
