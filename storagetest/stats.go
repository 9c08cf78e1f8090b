package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// testStatsDaily checks the counts per period: each row counts in the
// period of its time, bounds included at the start and excluded at the
// end, and only what the dashboard counts (redeemed redemptions,
// unflagged clicks, every order, accrued entries in the currency).
func testStatsDaily(t *testing.T, b *bundle) {
	day := func(n int) time.Time { return b.now.Truncate(24*time.Hour).AddDate(0, 0, n) }
	bounds := []time.Time{day(0), day(1), day(2), day(3)}

	var reds []*promokit.Redemption
	redemption := func(order string, state string, at time.Time) {
		reds = append(reds, &promokit.Redemption{StoreID: "sto_1", OrderID: order, Code: "A-1", PromotionID: "prm_1",
			Discount: 1, State: state, RequestHash: []byte{1}, CreatedAt: at, UpdatedAt: at})
	}
	redemption("r1", promokit.RedemptionRedeemed, day(0))                        // the first instant of period 0
	redemption("r2", promokit.RedemptionRedeemed, day(1).Add(-time.Microsecond)) // the last of period 0
	redemption("r3", promokit.RedemptionRedeemed, day(1))
	redemption("r4", promokit.RedemptionRolledBack, day(1).Add(time.Hour)) // not counted
	redemption("r5", promokit.RedemptionHeld, day(2).Add(time.Hour))       // not counted
	redemption("r6", promokit.RedemptionRedeemed, day(3))                  // after the last period
	redemption("r7", promokit.RedemptionRedeemed, day(-1))                 // before the first
	b.write(t, func(tx storage.Tx) error { return tx.RedemptionCreateMany(b.ctx, reds) })

	l := &promokit.Link{ID: "lnk_1", StoreID: "sto_1", PartnerID: "par_1"}
	clicks := []*promokit.Click{newClick(l, "v1", day(0)), newClick(l, "v2", day(2)), newClick(l, "v3", day(2).Add(time.Minute)),
		newClick(l, "v4", day(2).Add(2*time.Minute))}
	clicks[3].Flag = promokit.ClickBot
	mustInsertClicks(t, b, clicks...)

	var orders []*promokit.Order
	for i, at := range []time.Time{day(1), day(1).Add(time.Hour), day(2), day(4)} {
		o := newOrder(b, "sto_1", fmt.Sprintf("o%d", i))
		o.PlacedAt = at
		orders = append(orders, o)
	}
	mustCreateOrders(t, b, orders...)

	entries := []*promokit.LedgerEntry{
		newEntry("par_1", "sto_1", "o0", 1, promokit.LedgerPending, promokit.EntryAccrued, 500, "USD", day(0).Add(time.Hour)),
		newEntry("par_1", "sto_1", "o1", 1, promokit.LedgerPending, promokit.EntryAccrued, 250, "USD", day(0).Add(2*time.Hour)),
		newEntry("par_1", "sto_1", "o1", 1, promokit.LedgerPending, promokit.EntryAdjusted, -50, "USD", day(0).Add(3*time.Hour)),
		newEntry("par_1", "sto_1", "o2", 1, promokit.LedgerPending, promokit.EntryAccrued, 700, "EUR", day(2)),
		newEntry("par_1", "sto_1", "o2", 1, promokit.LedgerPending, promokit.EntryAccrued, 40, "USD", day(2)),
	}
	b.write(t, func(tx storage.Tx) error { return tx.LedgerAddMany(b.ctx, entries) })

	var got []storage.PeriodStats
	b.read(t, func(tx storage.Tx) (err error) {
		got, err = tx.StatsDaily(b.ctx, "USD", bounds)
		return err
	})
	want := []storage.PeriodStats{
		{Redeems: 2, Clicks: 1, Orders: 0, Commissions: 750},
		{Redeems: 1, Clicks: 0, Orders: 2, Commissions: 0},
		{Redeems: 0, Clicks: 2, Orders: 1, Commissions: 40},
	}
	wantEqual(t, "StatsDaily", want, got)

	// One period, and the bound on the number of periods.
	b.read(t, func(tx storage.Tx) (err error) {
		got, err = tx.StatsDaily(b.ctx, "EUR", bounds[2:])
		return err
	})
	wantEqual(t, "StatsDaily of one period", []storage.PeriodStats{{Clicks: 2, Orders: 1, Commissions: 700}}, got)
	many := make([]time.Time, storage.MaxStatsPeriods+2)
	for i := range many {
		many[i] = day(i)
	}
	if err := b.readErr(func(tx storage.Tx) error {
		_, err := tx.StatsDaily(b.ctx, "USD", many)
		return err
	}); err == nil {
		t.Fatalf("StatsDaily of %d periods: no error", len(many)-1)
	}
}
