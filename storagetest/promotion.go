package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// newPromotion returns a minimal storewide promotion of a store, active
// from now with no end.
func newPromotion(b *bundle, storeID, id string) *promokit.Promotion {
	return &promokit.Promotion{
		ID: id, StoreID: storeID, Name: "Promotion " + id, Channel: promokit.ChannelStore,
		Type: promokit.PercentOff, PercentOff: 1000, Currency: "USD",
		StartsAt: b.now, Active: true, Version: 1, CreatedAt: b.now, UpdatedAt: b.now,
	}
}

// mustCreatePromotions creates promotions in one transaction.
func mustCreatePromotions(t *testing.T, b *bundle, ps ...*promokit.Promotion) {
	t.Helper()
	b.write(t, func(tx storage.Tx) error {
		for _, p := range ps {
			if err := tx.PromotionCreate(b.ctx, p); err != nil {
				return fmt.Errorf("create promotion %s: %w", p.ID, err)
			}
		}
		return nil
	})
}

// fullPromotion returns a promotion with every field set, its times in a
// zone other than UTC.
func fullPromotion(b *bundle, storeID, id string) *promokit.Promotion {
	paris := time.FixedZone("CET", 3600)
	return &promokit.Promotion{
		ID: id, StoreID: storeID, Name: "Spring sale", Description: "Ten off everything listed",
		Channel: promokit.ChannelPartner, Type: promokit.AmountOff, AmountOff: 1000, Currency: "USD", MinOrder: 5000,
		ProductIDs: []string{"SKU-9", "SKU-1", "SKU-5"}, // not sorted: the order is kept
		StartsAt:   b.at(24 * time.Hour).In(paris), EndsAt: ptr(b.at(48 * time.Hour).In(paris)),
		TotalUses: ptr(int64(100)), TotalDiscount: ptr(int64(50_000)), PerCustomer: ptr(int64(2)),
		Exclusive: true, Priority: -7, Automatic: true,
		Coupon: &promokit.CouponSettings{PerPerson: 1, Quantity: 500, ValidDays: 3},
		Active: true, EndedAt: ptr(b.at(36 * time.Hour)), Version: 4,
		CreatedAt: b.now, UpdatedAt: b.at(time.Second),
		Uses: 3, DiscountSpent: 2500,
	}
}

func mustGetPromotion(t *testing.T, b *bundle, scope promokit.Scope, id string) *promokit.Promotion {
	t.Helper()
	var got *promokit.Promotion
	b.read(t, func(tx storage.Tx) (err error) {
		got, err = tx.PromotionGet(b.ctx, scope, id)
		return err
	})
	return got
}

// testPromotions checks the round trip of every field of a promotion.
func testPromotions(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	full := fullPromotion(b, "sto_1", "prm_1")
	// A minimal promotion: storewide, no end, no limits, no coupon, inactive.
	minimal := newPromotion(b, "sto_1", "prm_2")
	minimal.Active = false
	mustCreatePromotions(t, b, full, minimal)

	for _, want := range []*promokit.Promotion{full, minimal} {
		got := mustGetPromotion(t, b, promokit.Scope{}, want.ID)
		wantEqual(t, "GetPromotion "+want.ID, want, got)
		for name, tm := range map[string]time.Time{"starts_at": got.StartsAt, "created_at": got.CreatedAt, "updated_at": got.UpdatedAt} {
			if tm.Location() != time.UTC {
				t.Errorf("%s of %s is in %v, want UTC", name, want.ID, tm.Location())
			}
		}
	}
	got := mustGetPromotion(t, b, promokit.Scope{}, "prm_2")
	if got.EndsAt != nil || got.EndedAt != nil || got.TotalUses != nil || got.TotalDiscount != nil || got.PerCustomer != nil || got.Coupon != nil {
		t.Errorf("minimal promotion came back with optional fields set: %+v", got)
	}
	if len(got.ProductIDs) != 0 || !got.Storewide() {
		t.Errorf("minimal promotion has product ids %q, want none", got.ProductIDs)
	}

	err := b.readErr(func(tx storage.Tx) error {
		_, err := tx.PromotionGet(b.ctx, promokit.Scope{}, "prm_missing")
		return err
	})
	wantErr(t, "GetPromotion of a missing promotion", err, storage.ErrNotFound)
}

// testPromotionsUpdate checks PromotionUpdate and its version check.
func testPromotionsUpdate(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	p := newPromotion(b, "sto_1", "prm_1")
	p.Uses, p.DiscountSpent = 5, 700
	mustCreatePromotions(t, b, p)

	// Every editable field and flag changes; the store, creation time and
	// counters are not PromotionUpdate's to write.
	upd := *fullPromotion(b, "sto_1", "prm_1")
	upd.StoreID, upd.CreatedAt, upd.Uses, upd.DiscountSpent = "sto_other", b.at(-time.Hour), 99, 99
	b.write(t, func(tx storage.Tx) error { return tx.PromotionUpdate(b.ctx, &upd, 1) })
	if upd.Version != 2 {
		t.Fatalf("Version after PromotionUpdate = %d, want 2", upd.Version)
	}
	want := upd
	want.StoreID, want.CreatedAt, want.Uses, want.DiscountSpent = p.StoreID, p.CreatedAt, p.Uses, p.DiscountSpent
	wantEqual(t, "updated promotion", &want, mustGetPromotion(t, b, promokit.Scope{}, "prm_1"))

	// Clearing optional fields stores NULLs.
	cleared := *p
	cleared.Name = "Cleared"
	b.write(t, func(tx storage.Tx) error { return tx.PromotionUpdate(b.ctx, &cleared, 2) })
	want = *p
	want.Name, want.Version = "Cleared", 3
	wantEqual(t, "cleared promotion", &want, mustGetPromotion(t, b, promokit.Scope{}, "prm_1"))

	stale := *p
	stale.Name = "Stale"
	err := b.writeErr(func(tx storage.Tx) error { return tx.PromotionUpdate(b.ctx, &stale, 2) })
	wantErr(t, "PromotionUpdate at a stale version", err, storage.ErrStale)
	wantEqual(t, "promotion after the stale update", &want, mustGetPromotion(t, b, promokit.Scope{}, "prm_1"))

	missing := newPromotion(b, "sto_1", "prm_missing")
	err = b.writeErr(func(tx storage.Tx) error { return tx.PromotionUpdate(b.ctx, missing, 1) })
	wantErr(t, "PromotionUpdate of a missing promotion", err, storage.ErrStale)
}

// testPromotionsScope checks that a store sees its promotions, a partner
// those it has a code of, and that anything else is not found.
func testPromotionsScope(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	mustCreateStore(t, b, "sto_2")
	mustCreatePartner(t, b, "par_1")
	mustCreatePartner(t, b, "par_2")
	p1, p2, p3 := newPromotion(b, "sto_1", "prm_1"), newPromotion(b, "sto_1", "prm_2"), newPromotion(b, "sto_2", "prm_3")
	mustCreatePromotions(t, b, p1, p2, p3)
	// par_1 has two codes of prm_1 and one of prm_3; prm_2's code is nobody's.
	c1, c2, c3, c4 := newCode(p1, "P1-A", b.now), newCode(p1, "P1-B", b.now), newCode(p3, "P3-A", b.now), newCode(p2, "P2-A", b.now)
	c1.PartnerID, c2.PartnerID, c3.PartnerID = "par_1", "par_1", "par_1"
	mustCreateCodes(t, b, c1, c2, c3, c4)

	store1, store2 := promokit.Scope{StoreID: "sto_1"}, promokit.Scope{StoreID: "sto_2"}
	par1, par2 := promokit.Scope{PartnerID: "par_1"}, promokit.Scope{PartnerID: "par_2"}
	tests := []struct {
		scope promokit.Scope
		id    string
		found bool
	}{
		{store1, "prm_1", true},
		{store1, "prm_2", true},
		{store1, "prm_3", false},
		{store2, "prm_1", false},
		{store2, "prm_3", true},
		{par1, "prm_1", true},
		{par1, "prm_2", false},
		{par1, "prm_3", true},
		{par2, "prm_1", false},
		{promokit.Scope{}, "prm_3", true},
	}
	for _, tc := range tests {
		err := b.readErr(func(tx storage.Tx) error {
			_, err := tx.PromotionGet(b.ctx, tc.scope, tc.id)
			return err
		})
		if tc.found && err != nil {
			t.Errorf("GetPromotion(%+v, %s) = %v, want found", tc.scope, tc.id, err)
		}
		if !tc.found && !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("GetPromotion(%+v, %s) = %v, want not_found", tc.scope, tc.id, err)
		}
	}

	ids := func(scope promokit.Scope, f storage.PromotionFilter) []string {
		var out []string
		b.read(t, func(tx storage.Tx) error {
			ps, err := tx.PromotionList(b.ctx, scope, f)
			for _, p := range ps {
				out = append(out, p.ID)
			}
			return err
		})
		return out
	}
	wantEqual(t, "promotions of sto_1", []string{"prm_1", "prm_2"}, ids(store1, storage.PromotionFilter{}))
	wantEqual(t, "promotions of par_1", []string{"prm_1", "prm_3"}, ids(par1, storage.PromotionFilter{}))
	wantEqual(t, "promotions of par_2", []string(nil), ids(par2, storage.PromotionFilter{}))
	wantEqual(t, "sto_2 asking for sto_1", []string(nil), ids(store2, storage.PromotionFilter{StoreID: "sto_1"}))
	wantEqual(t, "par_1 filtering sto_2", []string{"prm_3"}, ids(par1, storage.PromotionFilter{StoreID: "sto_2"}))
	wantEqual(t, "everything", []string{"prm_1", "prm_2", "prm_3"}, ids(promokit.Scope{}, storage.PromotionFilter{}))
}

// testPromotionsStatus checks the status filter of ListPromotions at a
// given now, on the boundaries of each status.
func testPromotionsStatus(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	now := b.at(10 * 24 * time.Hour)
	mk := func(id string, mod func(p *promokit.Promotion)) *promokit.Promotion {
		p := newPromotion(b, "sto_1", id)
		mod(p)
		return p
	}
	ps := []*promokit.Promotion{
		mk("prm_01", func(p *promokit.Promotion) {}),                                            // active since b.now
		mk("prm_02", func(p *promokit.Promotion) { p.StartsAt = now }),                          // active from now on
		mk("prm_03", func(p *promokit.Promotion) { p.StartsAt = now.Add(time.Microsecond) }),    // scheduled
		mk("prm_04", func(p *promokit.Promotion) { p.EndsAt = ptr(now) }),                       // ended at now
		mk("prm_05", func(p *promokit.Promotion) { p.EndsAt = ptr(now.Add(time.Microsecond)) }), // still active
		mk("prm_06", func(p *promokit.Promotion) { p.EndedAt = ptr(now.Add(-time.Hour)) }),      // ended early
		mk("prm_07", func(p *promokit.Promotion) { p.EndedAt = ptr(now.Add(time.Hour)) }),       // ends early, later
		mk("prm_08", func(p *promokit.Promotion) { p.Active = false }),                          // inactive
		mk("prm_09", func(p *promokit.Promotion) { p.Active, p.EndsAt = false, ptr(now) }),      // inactive but ended
		mk("prm_10", func(p *promokit.Promotion) { p.Active, p.StartsAt = false, now.Add(time.Hour) }),
		mk("prm_11", func(p *promokit.Promotion) { p.StartsAt, p.EndedAt = now.Add(time.Hour), ptr(now) }), // ended before its start
	}
	mustCreatePromotions(t, b, ps...)
	want := map[promokit.Status][]string{
		promokit.StatusActive:    {"prm_01", "prm_02", "prm_05", "prm_07"},
		promokit.StatusScheduled: {"prm_03"},
		promokit.StatusEnded:     {"prm_04", "prm_06", "prm_09", "prm_11"},
		promokit.StatusInactive:  {"prm_08", "prm_10"},
	}
	for status, ids := range want {
		// The domain agrees with the expectations.
		for _, p := range ps {
			if (p.Status(now) == status) != slices.Contains(ids, p.ID) {
				t.Fatalf("test bug: %s has status %s at now", p.ID, p.Status(now))
			}
		}
		var got []string
		b.read(t, func(tx storage.Tx) error {
			list, err := tx.PromotionList(b.ctx, promokit.Scope{}, storage.PromotionFilter{Status: status, Now: now})
			for _, p := range list {
				got = append(got, p.ID)
			}
			return err
		})
		wantEqual(t, fmt.Sprintf("promotions %s at now", status), ids, got)
	}
}

// testPromotionsList checks ListPromotions' filters and pagination.
func testPromotionsList(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	mustCreateStore(t, b, "sto_2")
	var all []*promokit.Promotion
	for i := range 105 {
		p := newPromotion(b, "sto_1", fmt.Sprintf("prm_%03d", i))
		if i%5 == 0 {
			p.StoreID = "sto_2"
		}
		if i%3 == 0 {
			p.Channel = promokit.ChannelPlatform
		}
		all = append(all, p)
	}
	mustCreatePromotions(t, b, all...)
	list := func(f storage.PromotionFilter) []*promokit.Promotion {
		var got []*promokit.Promotion
		b.read(t, func(tx storage.Tx) (err error) {
			got, err = tx.PromotionList(b.ctx, promokit.Scope{}, f)
			return err
		})
		return got
	}
	wantEqual(t, "first page of the default size", all[:100], list(storage.PromotionFilter{}))
	wantEqual(t, "page 2", all[10:20], list(storage.PromotionFilter{Page: storage.Page{After: all[9].ID, Limit: 10}}))
	wantEqual(t, "last page", all[100:], list(storage.PromotionFilter{Page: storage.Page{After: all[99].ID}}))

	var want []*promokit.Promotion
	for _, p := range all {
		if p.StoreID == "sto_2" && p.Channel == promokit.ChannelPlatform {
			want = append(want, p)
		}
	}
	wantEqual(t, "sto_2's platform promotions", want, list(storage.PromotionFilter{StoreID: "sto_2", Channel: promokit.ChannelPlatform}))
	wantEqual(t, "their second page", want[2:4], list(storage.PromotionFilter{StoreID: "sto_2", Channel: promokit.ChannelPlatform,
		Page: storage.Page{After: want[1].ID, Limit: 2}}))

	// The name filter matches a part of the name, ASCII letters in either
	// case, and nothing else folded: the engine passes it in lower case.
	named := []*promokit.Promotion{newPromotion(b, "sto_1", "prm_n1"), newPromotion(b, "sto_1", "prm_n2"), newPromotion(b, "sto_2", "prm_n3")}
	named[0].Name, named[1].Name, named[2].Name = "Summer SALE 10%", "Winter sale", "ÉTÉ Sale"
	mustCreatePromotions(t, b, named...)
	wantEqual(t, "names with sale", named, list(storage.PromotionFilter{Name: "sale"}))
	wantEqual(t, "sto_1's names with sale", named[:2], list(storage.PromotionFilter{StoreID: "sto_1", Name: "sale"}))
	wantEqual(t, "names with 'mer sale'", named[:1], list(storage.PromotionFilter{Name: "mer sale"}))
	wantEqual(t, "names with 10%", named[:1], list(storage.PromotionFilter{Name: "10%"}))
	wantEqual(t, "names with été, folded beyond ASCII", []*promokit.Promotion(nil), list(storage.PromotionFilter{Name: "été"}))
	wantEqual(t, "names with ÉtÉ, as stored beyond ASCII", named[2:], list(storage.PromotionFilter{Name: "ÉtÉ"}))
}

// testAutomaticPromotions checks that PromotionListAutomatic returns a
// store's automatic promotions that are live at now, on the boundaries of
// their window, with every field, and nothing of another store.
func testAutomaticPromotions(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	mustCreateStore(t, b, "sto_2")
	now := b.at(10 * 24 * time.Hour)
	mk := func(store, id string, mod func(p *promokit.Promotion)) *promokit.Promotion {
		p := newPromotion(b, store, id)
		p.Automatic = true
		mod(p)
		return p
	}
	full := fullPromotion(b, "sto_1", "prm_00") // live at now, every field set
	full.StartsAt, full.EndsAt, full.EndedAt = b.now, ptr(now.Add(time.Hour)), nil
	ps := []*promokit.Promotion{
		full,
		mk("sto_1", "prm_01", func(p *promokit.Promotion) {}),                                            // live since b.now
		mk("sto_1", "prm_02", func(p *promokit.Promotion) { p.StartsAt = now }),                          // live from now on
		mk("sto_1", "prm_03", func(p *promokit.Promotion) { p.StartsAt = now.Add(time.Microsecond) }),    // scheduled
		mk("sto_1", "prm_04", func(p *promokit.Promotion) { p.EndsAt = ptr(now) }),                       // ended at now
		mk("sto_1", "prm_05", func(p *promokit.Promotion) { p.EndsAt = ptr(now.Add(time.Microsecond)) }), // still live
		mk("sto_1", "prm_06", func(p *promokit.Promotion) { p.EndedAt = ptr(now) }),                      // ended early
		mk("sto_1", "prm_07", func(p *promokit.Promotion) { p.EndedAt = ptr(now.Add(time.Hour)) }),       // ends early, later
		mk("sto_1", "prm_08", func(p *promokit.Promotion) { p.Active = false }),                          // deactivated
		mk("sto_1", "prm_09", func(p *promokit.Promotion) { p.Automatic = false }),                       // has codes
		mk("sto_2", "prm_10", func(p *promokit.Promotion) {}),                                            // another store's
	}
	mustCreatePromotions(t, b, ps...)

	list := func(store string, at time.Time, limit int) []*promokit.Promotion {
		t.Helper()
		var out []*promokit.Promotion
		b.read(t, func(tx storage.Tx) (err error) {
			out, err = tx.PromotionListAutomatic(b.ctx, store, at, limit)
			return err
		})
		return out
	}
	ids := func(ps []*promokit.Promotion) []string {
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = p.ID
		}
		return out
	}
	got := list("sto_1", now, 100)
	wantEqual(t, "live automatic promotions of sto_1", []string{"prm_00", "prm_01", "prm_02", "prm_05", "prm_07"}, ids(got))
	wantEqual(t, "first automatic promotion, every field", full, got[0])
	wantEqual(t, "the first two", []string{"prm_00", "prm_01"}, ids(list("sto_1", now, 2)))
	wantEqual(t, "live automatic promotions of sto_2", []string{"prm_10"}, ids(list("sto_2", now, 100)))
	wantEqual(t, "a store without promotions", []string(nil), ids(list("sto_missing", now, 100)))

	// Deactivating takes a promotion out of the list, activating brings it
	// back: the partial index follows the flag.
	p := *ps[1]
	p.Active = false
	b.write(t, func(tx storage.Tx) error { return tx.PromotionUpdate(b.ctx, &p, p.Version) })
	wantEqual(t, "after deactivating prm_01", []string{"prm_00", "prm_02", "prm_05", "prm_07"}, ids(list("sto_1", now, 100)))
	p.Active = true
	b.write(t, func(tx storage.Tx) error { return tx.PromotionUpdate(b.ctx, &p, p.Version) })
	wantEqual(t, "after activating prm_01", []string{"prm_00", "prm_01", "prm_02", "prm_05", "prm_07"}, ids(list("sto_1", now, 100)))
}
