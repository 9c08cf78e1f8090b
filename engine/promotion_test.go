package engine_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

func TestPromotionLifecycle(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		in := percentInput()
		in.ProductIDs = &[]string{"mug"}
		p := mustCreatePromotion(t, b.seller, b, in)
		if p.StoreID != b.shop.ID || p.Version != 1 || p.Status(b.clock.Now()) != promokit.StatusScheduled || p.Currency != "USD" {
			t.Fatalf("created %+v", p)
		}
		// Two editors read version 1; the second write loses.
		e1, err := b.svc.EditPromotion(b.seller, p.ID, 1, engine.PromotionInput{Name: ptr("Spring sale")})
		if err != nil || e1.Version != 2 || e1.Name != "Spring sale" || e1.PercentOff != 1500 {
			t.Fatalf("edit: %+v %v", e1, err)
		}
		_, err = b.svc.EditPromotion(b.seller, p.ID, 1, engine.PromotionInput{Name: ptr("Overwrite")})
		wantCode(t, err, promokit.EVersionMismatch)
		// Clearing a limit with null, changing the type.
		e2, err := b.svc.EditPromotion(b.seller, p.ID, 2, engine.PromotionInput{
			TotalUses: engine.Nullable[int64]{Set: true, Null: true}, Type: ptr(promokit.AmountOff), AmountOff: ptr(int64(500)),
		})
		if err != nil || e2.TotalUses != nil || e2.Type != promokit.AmountOff || e2.PercentOff != 0 || e2.AmountOff != 500 {
			t.Fatalf("edit 2: %+v %v", e2, err)
		}
		_, err = b.svc.EditPromotion(b.seller, p.ID, 3, engine.PromotionInput{ProductIDs: &[]string{"not-ours"}})
		wantCode(t, err, promokit.EInvalid)
		_, err = b.svc.EditPromotion(b.seller, p.ID, 3, engine.PromotionInput{StartsAt: ptr(jan1.Add(-time.Hour))})
		wantCode(t, err, promokit.EInvalid)
		// Foreign principals do not find it.
		_, err = b.svc.EditPromotion(b.foreign, p.ID, 3, engine.PromotionInput{Name: ptr("x")})
		wantCode(t, err, promokit.ENotFound)
		_, err = b.svc.GetPromotion(b.foreign, p.ID)
		wantCode(t, err, promokit.ENotFound)
		_, err = b.svc.GetPromotion(b.partner, p.ID)
		wantCode(t, err, promokit.ENotFound)
		if _, err := b.svc.GetPromotion(b.check, p.ID); err != nil {
			t.Fatalf("the store's checkout key must see it: %v", err)
		}
		_, err = b.svc.SetPromotionActive(b.check, p.ID, false)
		wantCode(t, err, promokit.EForbidden)
		// From its start only the status changes (C5).
		b.clock.Set(jan1.Add(24 * time.Hour))
		got, _ := b.svc.GetPromotion(b.seller, p.ID)
		if got.Status(b.clock.Now()) != promokit.StatusActive {
			t.Fatalf("status at start: %s", got.Status(b.clock.Now()))
		}
		_, err = b.svc.EditPromotion(b.seller, p.ID, got.Version, engine.PromotionInput{Name: ptr("late")})
		if e := wantCode(t, err, promokit.EImmutable); e.Rule != "C5" {
			t.Errorf("rule %q, want C5", e.Rule)
		}
		d, err := b.svc.SetPromotionActive(b.seller, p.ID, false)
		if err != nil || d.Status(b.clock.Now()) != promokit.StatusInactive {
			t.Fatalf("deactivate: %+v %v", d, err)
		}
		a, err := b.svc.SetPromotionActive(b.seller, p.ID, true)
		if err != nil || a.Status(b.clock.Now()) != promokit.StatusActive {
			t.Fatalf("activate: %v", err)
		}
		end, err := b.svc.EndPromotion(b.seller, p.ID)
		if err != nil || end.Status(b.clock.Now()) != promokit.StatusEnded {
			t.Fatalf("end: %v", err)
		}
		_, err = b.svc.SetPromotionActive(b.seller, p.ID, true)
		wantCode(t, err, promokit.EConflict)
		_, err = b.svc.EndPromotion(b.seller, p.ID)
		wantCode(t, err, promokit.EConflict)
	})
}

func TestPromotionCreateRefusals(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		in := percentInput()
		in.StoreID = b.other.ID
		_, err := b.svc.CreatePromotion(b.seller, in) // another store's
		wantCode(t, err, promokit.ENotFound)
		_, err = b.svc.CreatePromotion(b.partner, percentInput())
		wantCode(t, err, promokit.EForbidden)
		_, err = b.svc.CreatePromotion(b.admin, percentInput()) // admin must name the store
		wantCode(t, err, promokit.EInvalid)
		in = percentInput()
		in.ProductIDs = &[]string{"tshirt", "ghost"}
		_, err = b.svc.CreatePromotion(b.seller, in)
		if e := wantCode(t, err, promokit.EInvalid); e.Fields[0].Code != "unknown_product" {
			t.Errorf("fields %+v", e.Fields)
		}
		// Products of another store are not ours either.
		if _, err := b.svc.PutProduct(b.foreign, b.other.ID, "lamp", engine.ProductInput{Name: "Lamp"}); err != nil {
			t.Fatal(err)
		}
		in.ProductIDs = &[]string{"lamp"}
		_, err = b.svc.CreatePromotion(b.seller, in)
		wantCode(t, err, promokit.EInvalid)
		list, err := b.svc.ListPromotions(b.admin, storage.PromotionFilter{})
		if err != nil || len(list) != 0 {
			t.Fatalf("refusals wrote %d promotions", len(list))
		}
	})
}

// TestPlatformPromotionAdminOnly: a platform promotion is funded by the
// marketplace (C1, R1), so only the admin may create one or change its
// terms; a seller is refused (EForbidden) and nothing is written.
func TestPlatformPromotionAdminOnly(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		platform := percentInput()
		platform.Channel = ptr(promokit.ChannelPlatform)
		_, err := b.svc.CreatePromotion(b.seller, platform)
		wantCode(t, err, promokit.EForbidden)
		if list, _ := b.svc.ListPromotions(b.admin, storage.PromotionFilter{}); len(list) != 0 {
			t.Fatalf("a refused platform promotion was written: %d promotions", len(list))
		}
		own := mustCreatePromotion(t, b.seller, b, percentInput())
		platform.StoreID = b.shop.ID
		funded := mustCreatePromotion(t, b.admin, b, platform)
		for _, tt := range []struct {
			name string
			ctx  context.Context
			p    *promokit.Promotion
			in   engine.PromotionInput
			want string
		}{
			{"seller makes its own platform", b.seller, own, engine.PromotionInput{Channel: ptr(promokit.ChannelPlatform)}, promokit.EForbidden},
			{"seller edits a platform one", b.seller, funded, engine.PromotionInput{PercentOff: ptr(promokit.BasisPoints(5000))}, promokit.EForbidden},
			{"seller makes a platform one its own", b.seller, funded, engine.PromotionInput{Channel: ptr(promokit.ChannelStore)}, promokit.EForbidden},
			{"seller edits its own", b.seller, own, engine.PromotionInput{Channel: ptr(promokit.ChannelPartner)}, ""},
			{"admin edits a platform one", b.admin, funded, engine.PromotionInput{PercentOff: ptr(promokit.BasisPoints(2000))}, ""},
		} {
			before, _ := b.svc.GetPromotion(b.admin, tt.p.ID)
			_, err := b.svc.EditPromotion(tt.ctx, tt.p.ID, before.Version, tt.in)
			after, _ := b.svc.GetPromotion(b.admin, tt.p.ID)
			if promokit.ErrorCode(err) != tt.want {
				t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
			}
			if tt.want != "" && (after.Version != before.Version || after.Channel != before.Channel || after.PercentOff != before.PercentOff) {
				t.Errorf("%s: refused, yet written: %+v", tt.name, after)
			}
		}
	})
}

func TestListPromotions(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		var ids []string
		for i := 0; i < 5; i++ {
			in := percentInput()
			if i%2 == 0 {
				in.StartsAt = ptr(jan1)
			}
			ids = append(ids, mustCreatePromotion(t, b.seller, b, in).ID)
		}
		in := percentInput()
		in.Channel = ptr(promokit.ChannelPartner)
		mustCreatePromotion(t, b.foreign, b, in)
		if _, err := b.svc.SetPromotionActive(b.seller, ids[1], false); err != nil {
			t.Fatal(err)
		}
		count := func(ctx context.Context, f storage.PromotionFilter) int {
			t.Helper()
			list, err := b.svc.ListPromotions(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			return len(list)
		}
		for name, tt := range map[string]struct {
			ctx  context.Context
			f    storage.PromotionFilter
			want int
		}{
			"seller all":      {b.seller, storage.PromotionFilter{}, 5},
			"admin all":       {b.admin, storage.PromotionFilter{}, 6},
			"admin by store":  {b.admin, storage.PromotionFilter{StoreID: b.other.ID}, 1},
			"active":          {b.seller, storage.PromotionFilter{Status: promokit.StatusActive}, 3},
			"scheduled":       {b.seller, storage.PromotionFilter{Status: promokit.StatusScheduled}, 1},
			"inactive":        {b.seller, storage.PromotionFilter{Status: promokit.StatusInactive}, 1},
			"partner channel": {b.admin, storage.PromotionFilter{Channel: promokit.ChannelPartner}, 1},
			"foreign filter":  {b.seller, storage.PromotionFilter{StoreID: b.other.ID}, 0},
			"partner":         {b.partner, storage.PromotionFilter{}, 0},
			"checkout":        {b.check, storage.PromotionFilter{}, 5},
		} {
			if got := count(tt.ctx, tt.f); got != tt.want {
				t.Errorf("%s: %d promotions, want %d", name, got, tt.want)
			}
		}
		// Cursor pagination visits each once, in id order.
		var seen []string
		after := ""
		for {
			page, err := b.svc.ListPromotions(b.seller, storage.PromotionFilter{Page: storage.Page{After: after, Limit: 2}})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range page {
				seen = append(seen, p.ID)
			}
			if len(page) < 2 {
				break
			}
			after = page[len(page)-1].ID
		}
		// Ids sort by creation time to the millisecond; the clock stands
		// still here, so the order among these is the ids' own.
		slices.Sort(ids)
		if !slices.Equal(seen, ids) {
			t.Fatalf("pages gave %v, want %v", seen, ids)
		}
		_, err := b.svc.ListPromotions(b.seller, storage.PromotionFilter{Status: "sleeping"})
		wantCode(t, err, promokit.EInvalid)
	})
}
