package storetest

import (
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

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

// testCustomerCodes checks that CodeListForCustomer returns the codes of a store
// restricted to a customer that are active, unexpired and of a live
// promotion, in creation order, and nothing of another customer or store.
func testCustomerCodes(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	mustCreateStore(t, b, "sto_2")
	now := b.at(time.Hour)
	live, ended, scheduled, inactive := newPromotion(b, "sto_1", "prm_1"), newPromotion(b, "sto_1", "prm_2"), newPromotion(b, "sto_1", "prm_3"), newPromotion(b, "sto_1", "prm_4")
	ended.EndsAt = ptr(now)
	scheduled.StartsAt = now.Add(time.Microsecond)
	inactive.Active = false
	foreign := newPromotion(b, "sto_2", "prm_5")
	mustCreatePromotions(t, b, live, ended, scheduled, inactive, foreign)

	mk := func(p *promokit.Promotion, value, customer string, mod func(c *promokit.Code)) *promokit.Code {
		c := newCode(p, value, b.now)
		c.CustomerID = customer
		mod(c)
		return c
	}
	none := func(*promokit.Code) {}
	limited := mk(live, "ANN-1", "cus_ann", func(c *promokit.Code) {
		c.UsageLimit, c.PerCustomerLimit, c.PartnerID, c.Uses = ptr(int64(5)), ptr(int64(1)), "par_1", 2
	})
	cs := []*promokit.Code{
		limited,
		mk(live, "BOB-1", "cus_bob", none),
		mk(live, "PUBLIC-1", "", none),
		mk(live, "ANN-OFF", "cus_ann", func(c *promokit.Code) { c.Active = false }),
		mk(live, "ANN-EXPIRED", "cus_ann", func(c *promokit.Code) { c.ExpiresAt = ptr(now) }),
		mk(live, "ANN-2", "cus_ann", func(c *promokit.Code) { c.ExpiresAt = ptr(now.Add(time.Microsecond)) }),
		mk(ended, "ANN-ENDED", "cus_ann", none),
		mk(scheduled, "ANN-SOON", "cus_ann", none),
		mk(inactive, "ANN-INACTIVE", "cus_ann", none),
		mk(foreign, "ANN-FOREIGN", "cus_ann", none),
	}
	mustCreateCodes(t, b, cs...)

	list := func(store, customer string, limit int) []*promokit.Code {
		t.Helper()
		var out []*promokit.Code
		b.read(t, func(tx storage.Tx) (err error) {
			out, err = tx.CodeListForCustomer(b.ctx, store, customer, now, limit)
			return err
		})
		return out
	}
	values := func(cs []*promokit.Code) []string {
		out := make([]string, len(cs))
		for i, c := range cs {
			out[i] = c.Code
		}
		return out
	}
	got := list("sto_1", "cus_ann", 100)
	wantEqual(t, "codes of cus_ann at sto_1", []string{"ANN-1", "ANN-2"}, values(got))
	wantEqual(t, "ANN-1, every field", limited, got[0])
	wantEqual(t, "the first one", []string{"ANN-1"}, values(list("sto_1", "cus_ann", 1)))
	wantEqual(t, "codes of cus_bob", []string{"BOB-1"}, values(list("sto_1", "cus_bob", 100)))
	wantEqual(t, "codes of cus_ann at sto_2", []string{"ANN-FOREIGN"}, values(list("sto_2", "cus_ann", 100)))
	wantEqual(t, "no customer", []string(nil), values(list("sto_1", "", 100)))
	wantEqual(t, "an unknown customer", []string(nil), values(list("sto_1", "cus_zed", 100)))

	// Assigning a code to a customer later brings it in; taking the
	// assignment away takes it out.
	public := *cs[2]
	public.CustomerID = "cus_ann"
	b.write(t, func(tx storage.Tx) error { return tx.CodeUpdate(b.ctx, &public) })
	wantEqual(t, "after assigning PUBLIC-1", []string{"ANN-1", "PUBLIC-1", "ANN-2"}, values(list("sto_1", "cus_ann", 100)))
	public.CustomerID = ""
	b.write(t, func(tx storage.Tx) error { return tx.CodeUpdate(b.ctx, &public) })
	wantEqual(t, "after unassigning PUBLIC-1", []string{"ANN-1", "ANN-2"}, values(list("sto_1", "cus_ann", 100)))
}
