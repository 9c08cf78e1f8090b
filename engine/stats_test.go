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
