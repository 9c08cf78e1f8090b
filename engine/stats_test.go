package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// TestDailyStats checks the dashboard's days: calendar days of the
// marketplace's time zone, today last, each counting what happened in it
// there; and who may read them.
func TestDailyStats(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		tz := "America/New_York"
		if _, err := b.svc.UpdateSettings(b.admin, 1, engine.SettingsInput{TimeZone: &tz}); err != nil {
			t.Fatal(err)
		}
		ny, err := time.LoadLocation(tz)
		if err != nil {
			t.Fatal(err)
		}
		// Jan 1, 3:00 UTC is Dec 31, 22:00 in New York; 5:00 UTC is
		// Jan 1, 0:00 there.
		for i, at := range []time.Time{jan1.Add(-6 * time.Hour), jan1.Add(-4*time.Hour - time.Microsecond), jan1.Add(-4 * time.Hour)} {
			r := &promokit.Redemption{StoreID: b.shop.ID, OrderID: "ord-" + string(rune('a'+i)), Code: "C-1", PromotionID: "prm_1",
				Discount: 1, State: promokit.RedemptionRedeemed, RequestHash: []byte{1}, CreatedAt: at, UpdatedAt: at}
			if err := b.store.Write(context.Background(), func(tx storage.Tx) error { return tx.RedemptionCreate(context.Background(), r) }); err != nil {
				t.Fatal(err)
			}
		}
		st, err := b.svc.DailyStats(b.admin, 3)
		if err != nil {
			t.Fatal(err)
		}
		if st.Currency != "USD" || st.TimeZone != tz || len(st.Days) != 3 {
			t.Fatalf("DailyStats = %+v", st)
		}
		for i, want := range []struct {
			day     time.Time
			redeems int64
		}{
			{time.Date(2025, 12, 30, 0, 0, 0, 0, ny), 0},
			{time.Date(2025, 12, 31, 0, 0, 0, 0, ny), 2},
			{time.Date(2026, 1, 1, 0, 0, 0, 0, ny), 1},
		} {
			if d := st.Days[i]; !d.Day.Equal(want.day) || d.Redeems != want.redeems {
				t.Errorf("day %d: %v with %d redeems, want %v with %d", i, d.Day, d.Redeems, want.day, want.redeems)
			}
		}

		for _, days := range []int{0, -1, storage.MaxStatsPeriods + 1} {
			_, err := b.svc.DailyStats(b.admin, days)
			wantCode(t, err, promokit.EInvalid)
		}
		for _, ctx := range []context.Context{b.seller, b.partner, b.check} {
			_, err := b.svc.DailyStats(ctx, 7)
			wantCode(t, err, promokit.EForbidden)
		}
	})
}

// TestPromotionDailyUses checks a promotion's uses per day: days of the
// marketplace's time zone (a use at 23:59:59 there is the day's, one at
// 0:00 the next's), uses that stand only (a held code and a rolled-back
// use are none, though the promotion's counter holds the hold), and who
// may read them: the admin, the store's seller; another store's seller
// finds nothing, a partner and a checkout key may not.
func TestPromotionDailyUses(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		tz := "America/New_York"
		if _, err := b.svc.UpdateSettings(b.admin, 1, engine.SettingsInput{TimeZone: &tz}); err != nil {
			t.Fatal(err)
		}
		ny, err := time.LoadLocation(tz)
		if err != nil {
			t.Fatal(err)
		}
		in := percentInput()
		in.StartsAt = ptr(jan1)
		p := mustCreatePromotion(t, b.seller, b, in)
		if _, err := b.svc.CreateCode(b.seller, p.ID, engine.CodeInput{Code: "DAYS-1"}); err != nil {
			t.Fatal(err)
		}
		redeem := func(at time.Time, id string) {
			t.Helper()
			b.clock.Set(at)
			if _, err := b.svc.Redeem(b.check, order(b, id, id+"@example.com", "DAYS-1")); err != nil {
				t.Fatalf("redeem %s: %v", id, err)
			}
		}
		redeem(time.Date(2026, 1, 1, 4, 0, 0, 0, ny), "ord-a")
		redeem(time.Date(2026, 1, 1, 23, 59, 59, 0, ny), "ord-b") // 4:59:59 UTC on January 2
		redeem(time.Date(2026, 1, 2, 0, 0, 0, 0, ny), "ord-c")
		redeem(time.Date(2026, 1, 2, 1, 0, 0, 0, ny), "ord-d")
		if _, err := b.svc.Rollback(b.check, b.shop.ID, "ord-d"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.Reserve(b.check, order(b, "ord-e", "e@example.com", "DAYS-1"), time.Hour); err != nil {
			t.Fatal(err)
		}
		b.clock.Set(time.Date(2026, 1, 2, 12, 0, 0, 0, ny))

		for _, ctx := range []context.Context{b.seller, b.admin} {
			got, err := b.svc.PromotionDailyUses(ctx, p.ID, 3)
			if err != nil {
				t.Fatal(err)
			}
			want := &engine.PromotionUses{TimeZone: tz, Days: []engine.DayUses{
				{Day: time.Date(2025, 12, 31, 0, 0, 0, 0, ny), Uses: 0},
				{Day: time.Date(2026, 1, 1, 0, 0, 0, 0, ny), Uses: 2},
				{Day: time.Date(2026, 1, 2, 0, 0, 0, 0, ny), Uses: 1},
			}}
			if got.TimeZone != want.TimeZone || len(got.Days) != len(want.Days) {
				t.Fatalf("PromotionDailyUses = %+v, want %+v", got, want)
			}
			for i, d := range want.Days {
				if g := got.Days[i]; !g.Day.Equal(d.Day) || g.Uses != d.Uses {
					t.Errorf("day %d: %v with %d uses, want %v with %d", i, g.Day, g.Uses, d.Day, d.Uses)
				}
			}
		}
		// The counter the limit checks holds the hold as well.
		if got, _ := b.svc.GetPromotion(b.seller, p.ID); got.Uses != 4 {
			t.Errorf("the promotion's counter is %d, want 3 uses and 1 hold", got.Uses)
		}

		_, err = b.svc.PromotionDailyUses(b.foreign, p.ID, 3)
		wantCode(t, err, promokit.ENotFound)
		_, err = b.svc.PromotionDailyUses(b.seller, "prm_nope", 3)
		wantCode(t, err, promokit.ENotFound)
		for _, ctx := range []context.Context{b.partner, b.check} {
			_, err := b.svc.PromotionDailyUses(ctx, p.ID, 3)
			wantCode(t, err, promokit.EForbidden)
		}
		for _, days := range []int{0, storage.MaxStatsPeriods + 1} {
			_, err := b.svc.PromotionDailyUses(b.seller, p.ID, days)
			wantCode(t, err, promokit.EInvalid)
		}
	})
}

// TestLinkDailyStats checks a link's figures per day in the marketplace's
// time zone: the clicks that count, the flagged ones apart, the orders
// its clicks won by the day they were placed; and who may read them: the
// admin, the link's partner and the seller of its store; another partner
// and another store's seller find nothing.
func TestLinkDailyStats(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setupAffiliate(t, open, "Asia/Tokyo")
		b.clock.Set(b.at(1, 1, 10, 0, 0))
		b.join(t, 500)
		l := b.link(t, b.affiliate, "mug")

		b.clock.Set(b.at(1, 2, 23, 59, 0))
		v1 := b.click(t, l, "")
		b.place(t, "ord-1", v1, "", line("mug", 1000)) // January 2 in Tokyo, 14:59 UTC
		b.clock.Set(b.at(1, 3, 0, 0, 0))               // 15:00 UTC, the same day in UTC
		v2 := b.click(t, l, "")
		if _, err := b.svc.Click(context.Background(), engine.ClickInput{Token: l.Token, UserAgent: "Slackbot-LinkExpanding 1.0"}); err != nil {
			t.Fatal(err)
		}
		if err := b.svc.FlushClicks(context.Background()); err != nil {
			t.Fatal(err)
		}
		b.place(t, "ord-2", v2, "", line("mug", 1000))
		b.place(t, "ord-3", "v-nobody", "", line("mug", 1000)) // no click: not the link's

		b.clock.Set(b.at(1, 3, 18, 0, 0))
		for _, ctx := range []context.Context{b.affiliate, b.seller, b.admin} {
			got, err := b.svc.LinkDailyStats(ctx, l.ID, 3)
			if err != nil {
				t.Fatal(err)
			}
			want := []engine.LinkDay{
				{Day: b.at(1, 1, 0, 0, 0)},
				{Day: b.at(1, 2, 0, 0, 0), Clicks: 1, Orders: 1},
				{Day: b.at(1, 3, 0, 0, 0), Clicks: 1, Flagged: 1, Orders: 1},
			}
			if got.TimeZone != "Asia/Tokyo" || len(got.Days) != len(want) {
				t.Fatalf("LinkDailyStats = %+v", got)
			}
			for i, d := range want {
				g := got.Days[i]
				if !g.Day.Equal(d.Day) || g.Clicks != d.Clicks || g.Flagged != d.Flagged || g.Orders != d.Orders {
					t.Errorf("day %d: %+v, want %+v", i, g, d)
				}
			}
		}

		other := as(promokit.Principal{KeyID: "key_other", Role: promokit.RolePartner, PartnerID: b.partnr.ID})
		for _, ctx := range []context.Context{other, b.foreign} {
			_, err := b.svc.LinkDailyStats(ctx, l.ID, 3)
			wantCode(t, err, promokit.ENotFound)
		}
		_, err := b.svc.LinkDailyStats(b.check, l.ID, 3)
		wantCode(t, err, promokit.EForbidden)
		_, err = b.svc.LinkDailyStats(b.affiliate, l.ID, 0)
		wantCode(t, err, promokit.EInvalid)
	})
}
