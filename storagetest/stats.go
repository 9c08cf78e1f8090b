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

// testStatsPromotionDaily checks a promotion's uses per period: its
// redeemed redemptions only (not held, released or rolled back), with a
// code or without (an automatic promotion's), each in
// the period of its creation, bounds included at the start and excluded
// at the end, another promotion's never; a promotion without uses has
// zeros, and the number of periods is bounded.
func testStatsPromotionDaily(t *testing.T, b *bundle) {
	day := func(n int) time.Time { return b.now.Truncate(24*time.Hour).AddDate(0, 0, n) }
	bounds := []time.Time{day(0), day(1), day(2), day(3)}
	var reds []*promokit.Redemption
	redemption := func(promotion, order, state string, at time.Time) {
		reds = append(reds, &promokit.Redemption{StoreID: "sto_1", OrderID: order, Code: "A-1", PromotionID: promotion,
			Discount: 1, State: state, RequestHash: []byte{1}, CreatedAt: at, UpdatedAt: at})
	}
	redemption("prm_1", "r1", promokit.RedemptionRedeemed, day(0))                        // the first instant of period 0
	redemption("prm_1", "r2", promokit.RedemptionRedeemed, day(1).Add(-time.Microsecond)) // the last of period 0
	redemption("prm_1", "r3", promokit.RedemptionRedeemed, day(1))
	redemption("prm_1", "r4", promokit.RedemptionRolledBack, day(1).Add(time.Hour)) // given back: not counted
	redemption("prm_1", "r5", promokit.RedemptionHeld, day(2).Add(time.Hour))       // an order being paid: not yet
	redemption("prm_1", "r6", promokit.RedemptionReleased, day(2).Add(time.Hour))   // a hold given back
	redemption("prm_1", "r7", promokit.RedemptionRedeemed, day(2).Add(23*time.Hour))
	redemption("prm_1", "r8", promokit.RedemptionRedeemed, day(3))  // after the last period
	redemption("prm_1", "r9", promokit.RedemptionRedeemed, day(-1)) // before the first
	redemption("prm_2", "r10", promokit.RedemptionRedeemed, day(1)) // another promotion
	redemption("prm_2", "r11", promokit.RedemptionRedeemed, day(2))
	reds[len(reds)-1].Code = "" // an automatic promotion's use is codeless
	b.write(t, func(tx storage.Tx) error { return tx.RedemptionCreateMany(b.ctx, reds) })

	uses := func(promotion string, bounds []time.Time) []int64 {
		var got []int64
		b.read(t, func(tx storage.Tx) (err error) {
			got, err = tx.StatsPromotionDaily(b.ctx, promotion, bounds)
			return err
		})
		return got
	}
	wantEqual(t, "StatsPromotionDaily", []int64{2, 1, 1}, uses("prm_1", bounds))
	wantEqual(t, "StatsPromotionDaily of prm_2", []int64{0, 1, 1}, uses("prm_2", bounds))
	wantEqual(t, "StatsPromotionDaily without uses", []int64{0, 0, 0}, uses("prm_nope", bounds))
	wantEqual(t, "StatsPromotionDaily of one period", []int64{1}, uses("prm_1", bounds[2:]))

	// A rollback after the fact takes the use out of its day.
	var r3 *promokit.Redemption
	for _, r := range reds {
		if r.OrderID == "r3" {
			r3 = r
		}
	}
	b.write(t, func(tx storage.Tx) error {
		ok, err := tx.RedemptionSetState(b.ctx, storage.RedemptionStateChange{ID: r3.ID, From: promokit.RedemptionRedeemed,
			To: promokit.RedemptionRolledBack, Now: day(2)})
		if err == nil && !ok {
			err = fmt.Errorf("r3 was not redeemed")
		}
		return err
	})
	wantEqual(t, "StatsPromotionDaily after a rollback", []int64{2, 0, 1}, uses("prm_1", bounds))

	if err := b.readErr(func(tx storage.Tx) error {
		_, err := tx.StatsPromotionDaily(b.ctx, "prm_1", manyBounds(day))
		return err
	}); err == nil {
		t.Fatalf("StatsPromotionDaily of %d periods: no error", storage.MaxStatsPeriods+1)
	}
	if err := b.readErr(func(tx storage.Tx) error {
		_, err := tx.StatsPromotionDaily(b.ctx, "prm_1", bounds[:1])
		return err
	}); err == nil {
		t.Fatalf("StatsPromotionDaily of no period: no error")
	}
}

// manyBounds returns the bounds of one period more than
// storage.MaxStatsPeriods, days of day.
func manyBounds(day func(int) time.Time) []time.Time {
	many := make([]time.Time, storage.MaxStatsPeriods+2)
	for i := range many {
		many[i] = day(i)
	}
	return many
}

// testStatsLinkDaily checks a link's figures per period: its clicks that
// count and its flagged ones apart, and the orders attributed to it by
// the time they were placed; another link's clicks and orders, and
// orders without a link, never.
func testStatsLinkDaily(t *testing.T, b *bundle) {
	day := func(n int) time.Time { return b.now.Truncate(24*time.Hour).AddDate(0, 0, n) }
	bounds := []time.Time{day(0), day(1), day(2), day(3)}
	l1 := &promokit.Link{ID: "lnk_1", StoreID: "sto_1", PartnerID: "par_1"}
	l2 := &promokit.Link{ID: "lnk_2", StoreID: "sto_1", PartnerID: "par_1"}
	clicks := []*promokit.Click{
		newClick(l1, "v1", day(0)), // the first instant of period 0
		newClick(l1, "v2", day(1).Add(-time.Microsecond)),
		newClick(l1, "v3", day(1).Add(time.Hour)), // flagged below
		newClick(l1, "v3", day(1).Add(2*time.Hour)),
		newClick(l1, "v4", day(2).Add(time.Minute)), // flagged below
		newClick(l1, "v5", day(3)),                  // after the last period
		newClick(l1, "v6", day(-1)),                 // before the first
		newClick(l2, "v1", day(0).Add(time.Hour)),   // another link
	}
	clicks[2].Flag = promokit.ClickFlood
	clicks[4].Flag = promokit.ClickBot
	mustInsertClicks(t, b, clicks...)

	var orders []*promokit.Order
	order := func(id string, l *promokit.Link, at time.Time) {
		o := newOrder(b, "sto_1", id)
		o.PlacedAt = at
		if l != nil {
			o.Attribution = &promokit.Attribution{Program: promokit.ProgramAffiliate, LinkID: l.ID, PartnerID: l.PartnerID,
				ClickID: clicks[0].ID, ClickedAt: clicks[0].ClickedAt}
		}
		orders = append(orders, o)
	}
	order("o1", l1, day(0).Add(time.Hour))
	order("o2", l1, day(2))
	order("o3", l1, day(3).Add(-time.Microsecond))
	order("o4", l1, day(3)) // after the last period
	order("o5", l2, day(2)) // another link's
	order("o6", nil, day(2))
	mustCreateOrders(t, b, orders...)

	stats := func(link string, bounds []time.Time) []storage.LinkPeriodStats {
		var got []storage.LinkPeriodStats
		b.read(t, func(tx storage.Tx) (err error) {
			got, err = tx.StatsLinkDaily(b.ctx, link, bounds)
			return err
		})
		return got
	}
	wantEqual(t, "StatsLinkDaily", []storage.LinkPeriodStats{
		{Clicks: 2, Flagged: 0, Orders: 1},
		{Clicks: 1, Flagged: 1, Orders: 0},
		{Clicks: 0, Flagged: 1, Orders: 2},
	}, stats("lnk_1", bounds))
	wantEqual(t, "StatsLinkDaily of lnk_2", []storage.LinkPeriodStats{{Clicks: 1}, {}, {Orders: 1}}, stats("lnk_2", bounds))
	wantEqual(t, "StatsLinkDaily without clicks", []storage.LinkPeriodStats{{}, {}, {}}, stats("lnk_nope", bounds))
	wantEqual(t, "StatsLinkDaily of one period", []storage.LinkPeriodStats{{Flagged: 1, Orders: 2}}, stats("lnk_1", bounds[2:]))

	if err := b.readErr(func(tx storage.Tx) error {
		_, err := tx.StatsLinkDaily(b.ctx, "lnk_1", manyBounds(day))
		return err
	}); err == nil {
		t.Fatalf("StatsLinkDaily of %d periods: no error", storage.MaxStatsPeriods+1)
	}
}
