package engine_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// TestPartnerCodeDomainExample reproduces DOMAIN.md's P4 paragraph with the
// shipped policy's numbers, as a seller under P4 meets them: a code for
// more than one product at 30%, for all customers or for one named
// customer; 20 uses in all and 2 per customer, held at checkout; the sale
// commissioned 40% for the marketplace and 60% for the seller; activation
// until expiry and nothing after; the export of all the store's codes with
// their settings, and each code's usage history. The refusals at creation
// (31%, 21 uses, 3 per customer, the whole catalogue, a window past the
// month, the 21st code in 30 days) are TestPartnerPromoCodePolicy's.
func TestPartnerCodeDomainExample(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setupAffiliate(t, open, "UTC")
		if _, err := b.svc.UpdateStore(b.admin, b.shop.ID, engine.StoreInput{PartnerPromoCodes: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		// Name, description, 30%, two products, January 1 to February 1,
		// 20 uses, 2 per customer.
		in := p4Input()
		in.Description = ptr("30% off mugs and T-shirts, for my newsletter's readers")
		in.ProductIDs = &[]string{"mug", "tshirt"}
		pr := mustCreatePromotion(t, b.seller, b.bundle, in)
		if _, err := b.svc.CreateCode(b.seller, pr.ID, engine.CodeInput{Code: "ALL-30"}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.CreateCode(b.seller, pr.ID, engine.CodeInput{Code: "ANN-30", CustomerID: ptr("cus-ann")}); err != nil {
			t.Fatal(err)
		}
		redeem := func(orderID, code, customer string) error {
			cart := promokit.Cart{StoreID: b.shop.ID, Currency: "USD", Lines: []promokit.Line{
				{ProductID: "mug", Quantity: 1, UnitPrice: 10000}, {ProductID: "tshirt", Quantity: 1, UnitPrice: 5000}}}
			_, err := b.svc.Redeem(b.check, engine.RedeemInput{OrderID: orderID, Cart: cart,
				Customer: promokit.Identity{CustomerID: customer}, Codes: []string{code}})
			return err
		}
		refused := func(err error, reason string) {
			t.Helper()
			if e := wantCode(t, err, engine.RedemptionRefused); e.Fields[0].Code != reason {
				t.Fatalf("refused for %+v, want %s", e.Fields, reason)
			}
		}

		// One named customer: Ann, and no one else.
		refused(redeem("bob-1", "ANN-30", "cus-bob"), promokit.ReasonWrongCustomer)
		// Up to 2 uses per customer, across the promotion's codes.
		for _, id := range []string{"ann-1", "ann-2"} {
			if err := redeem(id, "ANN-30", "cus-ann"); err != nil {
				t.Fatalf("Ann's use %s: %v", id, err)
			}
		}
		refused(redeem("ann-3", "ANN-30", "cus-ann"), promokit.ReasonCustomerLimit)
		refused(redeem("ann-4", "ALL-30", "cus-ann"), promokit.ReasonCustomerLimit)
		// Up to 20 uses in all: 18 more customers, then none.
		for i := range 18 {
			if err := redeem(fmt.Sprintf("all-%d", i), "ALL-30", fmt.Sprintf("cus-%d", i)); err != nil {
				t.Fatalf("use %d of 20: %v", i+3, err)
			}
		}
		refused(redeem("all-18", "ALL-30", "cus-18"), promokit.ReasonLimitReached)

		// Commissioned 40% / 60%: Ann paid 70.00 for the mug and 35.00 for
		// the T-shirt, both covered: 28.00 and 14.00 for the marketplace,
		// 42.00 and 21.00 for the seller.
		res := b.event(t, "ann-1", engine.OrderEventInput{ID: "ann-1-placed", Type: promokit.EventPlaced, CustomerID: "cus-ann",
			Currency: "USD", Codes: []string{"ANN-30"}, Lines: []engine.OrderLineInput{line("mug", 7000), line("tshirt", 3500)}, Shipping: 499})
		for i, want := range []struct{ basis, marketplace, seller int64 }{{7000, 2800, 4200}, {3500, 1400, 2100}} {
			e := entryOf(t, res.Entries, i, promokit.LedgerPending, promokit.EntryAccrued)
			if e.Payer != b.shop.ID || e.Payee != promokit.Marketplace || e.Rule != "P4" || e.Rate != 4000 ||
				e.Basis != want.basis || e.Amount != want.marketplace || e.Basis-e.Amount != want.seller {
				t.Errorf("line %d: %+v, want %d of %d for the marketplace and %d for the seller", i, e, want.marketplace, want.basis, want.seller)
			}
		}
		b.event(t, "ann-1", engine.OrderEventInput{ID: "ann-1-paid", Type: promokit.EventPaid})
		done := b.event(t, "ann-1", engine.OrderEventInput{ID: "ann-1-done", Type: promokit.EventCompleted})
		if _, payable := sum(done.Entries); payable != 4200 {
			t.Errorf("payable to the marketplace on completion: %d, want 4200 (40%% of 105.00)", payable)
		}

		// Activate and deactivate until expiry, and not after.
		if _, err := b.svc.UpdateCode(b.seller, "ALL-30", engine.CodeInput{Active: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.SetPromotionActive(b.seller, pr.ID, false); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.SetPromotionActive(b.seller, pr.ID, true); err != nil {
			t.Fatal(err)
		}
		b.clock.Set(*pr.EndsAt)
		_, err := b.svc.UpdateCode(b.seller, "ALL-30", engine.CodeInput{Active: ptr(true)})
		wantCode(t, err, promokit.EConflict)
		_, err = b.svc.SetPromotionActive(b.seller, pr.ID, false)
		wantCode(t, err, promokit.EConflict)

		// The export of all its codes with their settings and uses.
		var rows []string
		err = b.svc.ExportStoreCodes(b.seller, b.shop.ID, func(c *promokit.Code, p *promokit.Promotion) error {
			rows = append(rows, fmt.Sprintf("%s %t %q %d | %s %q %d %v %d %d %s-%s", c.Code, c.Active, c.CustomerID, c.Uses,
				p.Name, p.Description, p.PercentOff, p.ProductIDs, *p.TotalUses, *p.PerCustomer,
				p.StartsAt.Format("Jan 2"), p.EndsAt.Format("Jan 2")))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		const terms = `Module promo "30% off mugs and T-shirts, for my newsletter's readers" 3000 [mug tshirt] 20 2 Jan 1-Feb 1`
		if want := []string{`ALL-30 false "" 18 | ` + terms, `ANN-30 true "cus-ann" 2 | ` + terms}; !slices.Equal(rows, want) {
			t.Errorf("the store's export:\n%q\nwant\n%q", rows, want)
		}

		// Each code's usage history: Ann's two orders, one reported.
		uses, err := b.svc.ListCodeRedemptions(b.seller, "ann-30", storage.Page{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, u := range uses {
			s := fmt.Sprintf("%s %s %d", u.OrderID, u.State, u.Discount)
			if u.Amount != nil {
				s += fmt.Sprintf(" %d %d %s", *u.Amount, *u.Refunded, *u.OrderState)
			}
			got = append(got, s)
		}
		if want := []string{"ann-1 redeemed 4500 10500 0 completed", "ann-2 redeemed 4500"}; !slices.Equal(got, want) {
			t.Errorf("ANN-30's usage history %q, want %q", got, want)
		}
	})
}

// p4Code returns the input of a code within P4's limits.
func p4Code(value string) engine.CodeInput {
	return engine.CodeInput{Code: value, UsageLimit: set(int64(20)), PerCustomerLimit: set(int64(2))}
}

// TestCreatePromotionWithCode checks that a promotion and its code are
// made together or not at all: whatever refuses the code (its value
// taken, its limits, the store's quota) or the promotion leaves nothing
// written; and that the calls are scoped as CreatePromotion's are.
func TestCreatePromotionWithCode(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		p4 := mustCreateStore(t, b, "Module maker", true)
		ctx := as(promokit.Principal{KeyID: "key_p4", Role: promokit.RoleSeller, StoreID: p4.ID})
		count := func() int {
			t.Helper()
			list, err := b.svc.ListPromotions(ctx, storage.PromotionFilter{})
			if err != nil {
				t.Fatal(err)
			}
			return len(list)
		}
		p, c, err := b.svc.CreatePromotionWithCode(ctx, p4Input(), p4Code("ONE-30"))
		if err != nil {
			t.Fatal(err)
		}
		if c.PromotionID != p.ID || c.StoreID != p4.ID || !c.CreatedAt.Equal(p.CreatedAt) || *c.UsageLimit != 20 {
			t.Fatalf("code %+v of promotion %+v", c, p)
		}
		if got, err := b.svc.GetCode(ctx, "one-30"); err != nil || got.PromotionID != p.ID {
			t.Fatalf("GetCode: %+v %v", got, err)
		}

		over := p4Input()
		over.PercentOff = ptr(promokit.BasisPoints(3100))
		tooMany := p4Code("TOO-MANY")
		tooMany.UsageLimit = set(int64(21))
		for name, tt := range map[string]struct {
			in          engine.PromotionInput
			code        engine.CodeInput
			want, field string
		}{
			"the value taken":      {p4Input(), p4Code("one-30"), promokit.ECodeTaken, ""},
			"21 uses for the code": {p4Input(), tooMany, promokit.EPolicy, "usage_limit"},
			"31 % off":             {over, p4Code("OVER"), promokit.EPolicy, "percent_off_bp"},
			"a bad value":          {p4Input(), p4Code("a b"), promokit.EInvalid, ""},
		} {
			_, _, err := b.svc.CreatePromotionWithCode(ctx, tt.in, tt.code)
			if e := wantCode(t, err, tt.want); e.Field != tt.field {
				t.Errorf("%s: about %q, want %q", name, e.Field, tt.field)
			}
			if n := count(); n != 1 {
				t.Fatalf("%s: %d promotions, want the first alone", name, n)
			}
		}

		// The quota: 19 more codes, then the 21st is refused with its
		// promotion.
		for i := range 19 {
			if _, _, err := b.svc.CreatePromotionWithCode(ctx, p4Input(), p4Code(fmt.Sprintf("Q-%02d", i))); err != nil {
				t.Fatal(err)
			}
		}
		_, _, err = b.svc.CreatePromotionWithCode(ctx, p4Input(), p4Code("Q-20"))
		if e := wantCode(t, err, promokit.EPolicy); e.Rule != "P4" || *e.Limit != 20 || *e.Current != 20 {
			t.Errorf("the 21st code: %+v", e)
		}
		if n := count(); n != 20 {
			t.Fatalf("%d promotions after the refused 21st code, want 20", n)
		}

		// Scoped as CreatePromotion: another store is not found, a
		// partner is forbidden.
		in := p4Input()
		in.StoreID = p4.ID
		_, _, err = b.svc.CreatePromotionWithCode(b.seller, in, p4Code("FOREIGN"))
		wantCode(t, err, promokit.ENotFound)
		_, _, err = b.svc.CreatePromotionWithCode(b.partner, in, p4Code("PARTNER"))
		wantCode(t, err, promokit.EForbidden)
		// The admin names the store.
		if _, _, err := b.svc.CreatePromotionWithCode(b.admin, engine.PromotionInput{StoreID: b.shop.ID, Name: ptr("Shop code"),
			Type: ptr(promokit.PercentOff), PercentOff: ptr(promokit.BasisPoints(5000))}, engine.CodeInput{Code: "SHOP-50"}); err != nil {
			t.Fatalf("the admin, for a store not under P4: %v", err)
		}
	})
}

// TestListStoreCodes checks a store's codes newest first with their
// promotions, a page at a time, and who may list them.
func TestListStoreCodes(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		p4 := mustCreateStore(t, b, "Module maker", true)
		ctx := as(promokit.Principal{KeyID: "key_p4", Role: promokit.RoleSeller, StoreID: p4.ID})
		var want []string
		for i := range 5 {
			b.clock.Set(jan1.Add(time.Duration(i) * time.Hour))
			in := p4Input()
			in.StartsAt = ptr(b.clock.Now())
			in.Name = ptr(fmt.Sprintf("Promo %d", i))
			if _, _, err := b.svc.CreatePromotionWithCode(ctx, in, p4Code(fmt.Sprintf("CODE-%d", i))); err != nil {
				t.Fatal(err)
			}
			want = append([]string{fmt.Sprintf("CODE-%d", i)}, want...)
		}
		// Another store's code is never listed.
		shop := mustCreatePromotion(t, b.seller, b, engine.PromotionInput{Name: ptr("Shop"), Type: ptr(promokit.PercentOff), PercentOff: ptr(promokit.BasisPoints(1000))})
		if _, err := b.svc.CreateCode(b.seller, shop.ID, engine.CodeInput{Code: "SHOP-1"}); err != nil {
			t.Fatal(err)
		}
		values := func(list []*engine.StoreCode) []string {
			var out []string
			for _, c := range list {
				if c.Promotion == nil || c.Promotion.ID != c.PromotionID || c.Promotion.Name != "Promo "+c.Code.Code[len("CODE-"):] {
					t.Fatalf("code %s with promotion %+v", c.Code.Code, c.Promotion)
				}
				out = append(out, c.Code.Code)
			}
			return out
		}
		all, err := b.svc.ListStoreCodes(ctx, p4.ID, storage.Page{})
		if err != nil || !slices.Equal(values(all), want) {
			t.Fatalf("ListStoreCodes = %v (%v), want %v", values(all), err, want)
		}
		first, err := b.svc.ListStoreCodes(ctx, p4.ID, storage.Page{Limit: 2})
		if err != nil || !slices.Equal(values(first), want[:2]) {
			t.Fatalf("page 1 = %v (%v)", values(first), err)
		}
		next, err := b.svc.ListStoreCodes(ctx, p4.ID, storage.Page{Limit: 2, After: first[1].Code.Code})
		if err != nil || !slices.Equal(values(next), want[2:4]) {
			t.Fatalf("page 2 = %v (%v)", values(next), err)
		}
		if list, err := b.svc.ListStoreCodes(b.admin, p4.ID, storage.Page{}); err != nil || len(list) != 5 {
			t.Fatalf("the admin lists %d (%v)", len(list), err)
		}
		_, err = b.svc.ListStoreCodes(b.seller, p4.ID, storage.Page{})
		wantCode(t, err, promokit.ENotFound)
		_, err = b.svc.ListStoreCodes(b.partner, p4.ID, storage.Page{})
		wantCode(t, err, promokit.EForbidden)
		_, err = b.svc.ListStoreCodes(b.admin, "sto_missing", storage.Page{})
		wantCode(t, err, promokit.ENotFound)
	})
}

// TestPartnerCodeQuota checks the quota a P4 store is shown: the codes of
// the rolling window, what is left, when the window frees the next one,
// and the numbers of the policy in force.
func TestPartnerCodeQuota(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		p4 := mustCreateStore(t, b, "Module maker", true)
		ctx := as(promokit.Principal{KeyID: "key_p4", Role: promokit.RoleSeller, StoreID: p4.ID})
		quota := func(want engine.CodeQuota) {
			t.Helper()
			q, err := b.svc.PartnerCodeQuota(ctx, p4.ID)
			if err != nil {
				t.Fatal(err)
			}
			if q.UnderP4 != want.UnderP4 || q.Limit != want.Limit || q.Used != want.Used || q.Left != want.Left || q.WindowDays != want.WindowDays ||
				(q.NextFreeAt == nil) != (want.NextFreeAt == nil) || q.NextFreeAt != nil && !q.NextFreeAt.Equal(*want.NextFreeAt) {
				t.Fatalf("quota %+v (next %v), want %+v (next %v)", q, q.NextFreeAt, want, want.NextFreeAt)
			}
		}
		quota(engine.CodeQuota{UnderP4: true, Limit: 20, Left: 20, WindowDays: 30})
		create := func(value string) {
			t.Helper()
			in := p4Input()
			in.StartsAt = ptr(b.clock.Now())
			in.EndsAt = set(b.clock.Now().AddDate(0, 0, 7))
			if _, _, err := b.svc.CreatePromotionWithCode(ctx, in, p4Code(value)); err != nil {
				t.Fatal(err)
			}
		}
		create("JAN-1")
		b.clock.Set(jan1.AddDate(0, 0, 9))
		create("JAN-10")
		create("JAN-10B")
		quota(engine.CodeQuota{UnderP4: true, Limit: 20, Used: 3, Left: 17, WindowDays: 30, NextFreeAt: ptr(jan1.AddDate(0, 0, 30))})
		// At the moment the window frees the first, it still counts; a
		// microsecond later it does not.
		b.clock.Set(jan1.AddDate(0, 0, 30))
		quota(engine.CodeQuota{UnderP4: true, Limit: 20, Used: 3, Left: 17, WindowDays: 30, NextFreeAt: ptr(jan1.AddDate(0, 0, 30))})
		b.clock.Set(jan1.AddDate(0, 0, 30).Add(time.Microsecond))
		quota(engine.CodeQuota{UnderP4: true, Limit: 20, Used: 2, Left: 18, WindowDays: 30, NextFreeAt: ptr(jan1.AddDate(0, 0, 39))})

		// The policy in force gives the numbers; none left is 0, not less.
		st, err := b.svc.Settings(b.admin)
		if err != nil {
			t.Fatal(err)
		}
		pol := st.Policy
		pol.PartnerCodes.MaxCodesPerWindow, pol.PartnerCodes.WindowDays = 1, 40
		if _, err := b.svc.UpdateSettings(b.admin, st.Version, engine.SettingsInput{Policy: &pol}); err != nil {
			t.Fatal(err)
		}
		quota(engine.CodeQuota{UnderP4: true, Limit: 1, Used: 3, Left: 0, WindowDays: 40, NextFreeAt: ptr(jan1.AddDate(0, 0, 40))})

		if q, err := b.svc.PartnerCodeQuota(b.seller, b.shop.ID); err != nil || q.UnderP4 {
			t.Fatalf("a store not under P4: %+v %v", q, err)
		}
		_, err = b.svc.PartnerCodeQuota(b.seller, p4.ID)
		wantCode(t, err, promokit.ENotFound)
		_, err = b.svc.PartnerCodeQuota(b.partner, p4.ID)
		wantCode(t, err, promokit.EForbidden)
	})
}
