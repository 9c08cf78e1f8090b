package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// qualifyCart is a $55 cart of the shop: two mugs at $15 and a $25 t-shirt.
func qualifyCart(b *bundle, customer promokit.Identity) engine.QualifyInput {
	return engine.QualifyInput{
		Cart: promokit.Cart{StoreID: b.shop.ID, Currency: "USD", Shipping: 499, Lines: []promokit.Line{
			{ProductID: "mug", Quantity: 2, UnitPrice: 1500}, {ProductID: "tshirt", Quantity: 1, UnitPrice: 2500},
		}},
		Customer: customer,
	}
}

// qualifyFixture is a shop with automatic promotions and codes in every
// state Qualify must tell apart, for the customer cus_42.
type qualifyFixture struct {
	ten, mug, budget, once, minimum  *promokit.Promotion // automatic, live
	expired, off, later, otherStores *promokit.Promotion // automatic, never offered
	vip, onceCoded, budgetCoded      *promokit.Promotion // with codes
	limited, otherCoded              *promokit.Promotion // with codes
}

var ann = promokit.Identity{CustomerID: "cus_42"}

// newQualifyFixture creates the fixture at jan1 and leaves the clock two
// hours later, when expired has ended.
func newQualifyFixture(t *testing.T, b *bundle) *qualifyFixture {
	t.Helper()
	f := &qualifyFixture{}
	auto := func(ctx context.Context, name string, in engine.PromotionInput) *promokit.Promotion {
		t.Helper()
		in.Name, in.Automatic, in.StartsAt = ptr(name), ptr(true), ptr(jan1)
		return mustCreatePromotion(t, ctx, b, in)
	}
	percent := func(bp promokit.BasisPoints) engine.PromotionInput {
		return engine.PromotionInput{Type: ptr(promokit.PercentOff), PercentOff: ptr(bp)}
	}
	amount := func(minor int64) engine.PromotionInput {
		return engine.PromotionInput{Type: ptr(promokit.AmountOff), AmountOff: ptr(minor)}
	}

	coded := func(name string, in engine.PromotionInput, codes ...engine.CodeInput) *promokit.Promotion {
		t.Helper()
		in.Name, in.StartsAt = ptr(name), ptr(jan1)
		p := mustCreatePromotion(t, b.seller, b, in)
		for _, c := range codes {
			if _, err := b.svc.CreateCode(b.seller, p.ID, c); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	to := func(code, customer string) engine.CodeInput {
		return engine.CodeInput{Code: code, CustomerID: ptr(customer)}
	}
	f.vip = coded("VIP", percent(1500), to("VIP-ANN", "cus_42"), to("VIP-BOB", "cus_99"), to("VIP-ANN-OFF", "cus_42"))
	if _, err := b.svc.UpdateCode(b.seller, "VIP-ANN-OFF", engine.CodeInput{Active: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	in := amount(300)
	in.PerCustomer = set(int64(1))
	f.onceCoded = coded("Three off once", in, engine.CodeInput{Code: "ONCE-PUB"}, to("ONCE-ANN", "cus_42"))
	in = amount(500)
	in.TotalDiscount = set(int64(1200))
	f.budgetCoded = coded("Five off, coded", in, engine.CodeInput{Code: "BUDGET-PUB"}, to("BUDGET-ANN", "cus_42"))
	f.limited = coded("Limited codes", percent(100),
		engine.CodeInput{Code: "ONE-USE", CustomerID: ptr("cus_42"), UsageLimit: set(int64(1))},
		engine.CodeInput{Code: "ONE-EACH", CustomerID: ptr("cus_42"), PerCustomerLimit: set(int64(1))},
		engine.CodeInput{Code: "ONE-EACH-2", CustomerID: ptr("cus_42"), PerCustomerLimit: set(int64(1))})
	f.otherCoded = mustCreatePromotion(t, b.foreign, b, engine.PromotionInput{Name: ptr("Other VIP"),
		Type: ptr(promokit.PercentOff), PercentOff: ptr(promokit.BasisPoints(4000)), StartsAt: ptr(jan1)})
	if _, err := b.svc.CreateCode(b.foreign, f.otherCoded.ID, to("OTHER-ANN", "cus_42")); err != nil {
		t.Fatal(err)
	}

	// Real counters through the checkout, before the automatic promotions
	// exist (they would apply to these orders too): cus_42 used the
	// once-per-customer promotion and each limited code, others spent $10
	// of the coded budget.
	redeem := func(order string, who promokit.Identity, code string) {
		t.Helper()
		in := order1(b, order, code)
		in.Customer = who
		if _, err := b.svc.Redeem(b.check, in); err != nil {
			t.Fatalf("redeem %s: %v", code, err)
		}
	}
	redeem("ord-1", ann, "ONCE-PUB")
	redeem("ord-2", promokit.Identity{Email: "bob@example.com"}, "BUDGET-PUB")
	redeem("ord-3", promokit.Identity{Email: "eve@example.com"}, "BUDGET-PUB")
	redeem("ord-4", ann, "ONE-USE")
	redeem("ord-5", ann, "ONE-EACH")

	f.ten = auto(b.seller, "Ten off everything", percent(1000))
	in = percent(2000)
	in.ProductIDs, in.Exclusive, in.Priority, in.EndsAt = &[]string{"mug"}, ptr(true), ptr(int64(3)), set(jan1.Add(48*time.Hour))
	f.mug = auto(b.seller, "Mug week", in)
	in = amount(500)
	in.TotalDiscount = set(int64(1200))
	f.budget = auto(b.seller, "Five off while the budget lasts", in)
	in = percent(500)
	in.PerCustomer = set(int64(1))
	f.once = auto(b.seller, "Welcome five percent", in)
	in = amount(2000)
	in.MinOrder = ptr(int64(10000))
	f.minimum = auto(b.seller, "Twenty off a hundred", in)

	in = percent(5000)
	in.EndsAt = set(jan1.Add(time.Hour))
	f.expired = auto(b.seller, "Expired half", in)
	f.off = auto(b.seller, "Switched off", percent(5000))
	if _, err := b.svc.SetPromotionActive(b.seller, f.off.ID, false); err != nil {
		t.Fatal(err)
	}
	in = percent(5000)
	in.Name, in.Automatic, in.StartsAt = ptr("Tomorrow"), ptr(true), ptr(jan1.Add(24*time.Hour))
	f.later = mustCreatePromotion(t, b.seller, b, in)
	f.otherStores = auto(b.foreign, "Other store's sale", percent(5000))

	// The automatic promotions' counters are written as their redemptions
	// write them, without the other promotions an order would apply.
	err := b.store.Write(context.Background(), func(tx storage.Tx) error {
		if _, err := tx.UsagePromotionAdd(context.Background(), f.budget.ID, 2, 1000); err != nil {
			return err
		}
		_, err := tx.UsageCustomerAdd(context.Background(), storage.CustomerUse{UsageKey: storage.UsageKey{Subject: f.once.ID, CustomerKey: "c:cus_42"}, Uses: 1, Limit: ptr(int64(1))})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	b.clock.Set(jan1.Add(2 * time.Hour))
	return f
}

// order1 is a redeem request of one $10 mug.
func order1(b *bundle, id, code string) engine.RedeemInput {
	return engine.RedeemInput{
		OrderID: id, Codes: []string{code},
		Cart: promokit.Cart{StoreID: b.shop.ID, Currency: "USD", Lines: []promokit.Line{{ProductID: "mug", Quantity: 1, UnitPrice: 1000}}},
	}
}

// TestQualify: the automatic promotions of the store and the codes of the
// customer that the cart can use, each with its exact discount, and apart
// those a limit or the cart keeps out, with the limit.
func TestQualify(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		f := newQualifyFixture(t, b)
		res, err := b.svc.Qualify(b.check, qualifyCart(b, ann))
		if err != nil {
			t.Fatal(err)
		}
		mugEnd := jan1.Add(48 * time.Hour)
		want := &engine.QualifyResult{
			Currency: "USD", Subtotal: 5500,
			Qualified: []engine.QualifiedPromotion{
				{PromotionID: f.vip.ID, Code: "VIP-ANN", Name: "VIP", Type: promokit.PercentOff, PercentOff: 1500,
					Discount: 825, Lines: []engine.QualifiedLine{qline(0, "mug", 450), qline(1, "tshirt", 375)}},
				{PromotionID: f.mug.ID, Automatic: true, Name: "Mug week", Type: promokit.PercentOff, PercentOff: 2000,
					Exclusive: true, Priority: 3, EndsAt: &mugEnd, Discount: 600, Lines: []engine.QualifiedLine{qline(0, "mug", 600)}},
				{PromotionID: f.ten.ID, Automatic: true, Name: "Ten off everything", Type: promokit.PercentOff, PercentOff: 1000,
					Discount: 550, Lines: []engine.QualifiedLine{qline(0, "mug", 300), qline(1, "tshirt", 250)}},
				{PromotionID: f.limited.ID, Code: "ONE-EACH-2", Name: "Limited codes", Type: promokit.PercentOff, PercentOff: 100,
					Discount: 55, Lines: []engine.QualifiedLine{qline(0, "mug", 30), qline(1, "tshirt", 25)}},
			},
			NotQualified: []engine.UnqualifiedPromotion{
				limitOut(f.budget.ID, "", true, f.budget.Name, promokit.ReasonBudgetExhausted, "C2", 1200, 1000, 200),
				limitOut(f.once.ID, "", true, f.once.Name, promokit.ReasonCustomerLimit, "C1", 1, 1, 0),
				minimumOut(f.minimum.ID, f.minimum.Name, 10000, 5500),
				limitOut(f.onceCoded.ID, "ONCE-ANN", false, f.onceCoded.Name, promokit.ReasonCustomerLimit, "C1", 1, 1, 0),
				limitOut(f.budgetCoded.ID, "BUDGET-ANN", false, f.budgetCoded.Name, promokit.ReasonBudgetExhausted, "C2", 1200, 1000, 200),
				limitOut(f.limited.ID, "ONE-USE", false, f.limited.Name, promokit.ReasonLimitReached, "C3", 1, 1, 0),
				limitOut(f.limited.ID, "ONE-EACH", false, f.limited.Name, promokit.ReasonCustomerLimit, "C3", 1, 1, 0),
			},
		}
		sortOut := cmpopts.SortSlices(func(a, b engine.UnqualifiedPromotion) bool {
			return a.PromotionID+a.Code < b.PromotionID+b.Code
		})
		if diff := cmp.Diff(want, res, sortOut); diff != "" {
			t.Fatalf("Qualify for cus_42 (-want +got):\n%s", diff)
		}
		for i := 1; i < len(res.NotQualified); i++ {
			a, c := res.NotQualified[i-1], res.NotQualified[i]
			if a.PromotionID > c.PromotionID || a.PromotionID == c.PromotionID && a.Code > c.Code {
				t.Fatalf("not_qualified out of order: %+v before %+v", a, c)
			}
		}

		// A guest known by e-mail holds no code and has used nothing: the
		// once-per-customer promotion qualifies. Without any identity it
		// asks for one.
		res, err = b.svc.Qualify(b.check, qualifyCart(b, promokit.Identity{Email: "Guest@Example.com"}))
		if err != nil {
			t.Fatal(err)
		}
		if got := qualifiedIDs(res); got != strings.Join([]string{f.mug.ID, f.ten.ID, f.once.ID}, " ") {
			t.Fatalf("guest qualifies for %s", got)
		}
		res, err = b.svc.Qualify(b.check, qualifyCart(b, promokit.Identity{}))
		if err != nil {
			t.Fatal(err)
		}
		if got := qualifiedIDs(res); got != f.mug.ID+" "+f.ten.ID {
			t.Fatalf("anonymous buyer qualifies for %s", got)
		}
		if !hasOut(res, f.once.ID, promokit.ReasonIdentityRequired) {
			t.Fatalf("anonymous buyer: %+v", res.NotQualified)
		}

		// A cart without a mug: the mug promotion has no eligible product.
		in := qualifyCart(b, ann)
		in.Cart.Lines = in.Cart.Lines[1:]
		res, err = b.svc.Qualify(b.check, in)
		if err != nil {
			t.Fatal(err)
		}
		if !hasOut(res, f.mug.ID, promokit.ReasonNoEligibleProducts) || res.Qualified[0].Code != "VIP-ANN" || res.Qualified[0].Discount != 375 {
			t.Fatalf("t-shirt alone: %+v", res)
		}

		// Qualify uses nothing.
		for _, p := range []*promokit.Promotion{f.ten, f.mug, f.vip} {
			got, err := b.svc.GetPromotion(b.seller, p.ID)
			if err != nil || got.Uses != 0 || got.DiscountSpent != 0 {
				t.Fatalf("%s after qualify: %+v %v", p.Name, got, err)
			}
		}
	})
}

func limitOut(promotionID, code string, automatic bool, name, reason, rule string, limit, used, remaining int64) engine.UnqualifiedPromotion {
	return engine.UnqualifiedPromotion{PromotionID: promotionID, Code: code, Automatic: automatic, Name: name,
		Reason: reason, Rule: rule, Limit: &limit, Used: &used, Remaining: &remaining}
}

func minimumOut(promotionID, name string, limit, used int64) engine.UnqualifiedPromotion {
	return engine.UnqualifiedPromotion{PromotionID: promotionID, Automatic: true, Name: name,
		Reason: promokit.ReasonMinimumNotMet, Rule: "C1", Limit: &limit, Used: &used}
}

func qualifiedIDs(res *engine.QualifyResult) string {
	ids := make([]string, len(res.Qualified))
	for i, q := range res.Qualified {
		ids[i] = q.PromotionID
	}
	return strings.Join(ids, " ")
}

func hasOut(res *engine.QualifyResult, promotionID, reason string) bool {
	for _, u := range res.NotQualified {
		if u.PromotionID == promotionID && u.Reason == reason {
			return true
		}
	}
	return false
}

// TestQualifyCallers: checkout keys of the store and admins qualify; a
// checkout key of another store is not found, other roles are forbidden,
// and a bad cart or identity is invalid.
func TestQualifyCallers(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		f := newQualifyFixture(t, b)
		unbound := as(promokit.Principal{KeyID: "key_all", Role: promokit.RoleCheckout})
		foreignCheckout := as(promokit.Principal{KeyID: "key_other_checkout", Role: promokit.RoleCheckout, StoreID: b.other.ID})
		for name, ctx := range map[string]context.Context{"admin": b.admin, "checkout": b.check, "unbound checkout": unbound} {
			res, err := b.svc.Qualify(ctx, qualifyCart(b, ann))
			if err != nil || len(res.Qualified) != 4 {
				t.Fatalf("%s: %+v %v", name, res, err)
			}
		}
		_, err := b.svc.Qualify(foreignCheckout, qualifyCart(b, ann))
		wantCode(t, err, promokit.ENotFound)
		for _, ctx := range []context.Context{b.seller, b.foreign, b.partner} {
			_, err = b.svc.Qualify(ctx, qualifyCart(b, ann))
			wantCode(t, err, promokit.EForbidden)
		}
		_, err = b.svc.Qualify(context.Background(), qualifyCart(b, ann))
		wantCode(t, err, promokit.EUnauthenticated)

		// The other store's checkout gets the other store's automatic
		// promotion and code of the customer, never the shop's.
		in := qualifyCart(b, ann)
		in.Cart.StoreID = b.other.ID
		res, err := b.svc.Qualify(foreignCheckout, in)
		if err != nil || qualifiedIDs(res) != f.otherStores.ID+" "+f.otherCoded.ID || res.Qualified[1].Code != "OTHER-ANN" ||
			res.Qualified[0].Discount != 2750 || res.Qualified[1].Discount != 2200 || len(res.NotQualified) != 0 {
			t.Fatalf("other store: %+v %v", res, err)
		}
		in.Cart.StoreID = "sto_missing"
		_, err = b.svc.Qualify(b.admin, in)
		wantCode(t, err, promokit.ENotFound)

		for name, change := range map[string]func(in *engine.QualifyInput){
			"currency":  func(in *engine.QualifyInput) { in.Cart.Currency = "EUR" },
			"no lines":  func(in *engine.QualifyInput) { in.Cart.Lines = nil },
			"quantity":  func(in *engine.QualifyInput) { in.Cart.Lines[0].Quantity = 0 },
			"price":     func(in *engine.QualifyInput) { in.Cart.Lines[0].UnitPrice = -1 },
			"e-mail":    func(in *engine.QualifyInput) { in.Customer = promokit.Identity{Email: "not an address"} },
			"no store":  func(in *engine.QualifyInput) { in.Cart.StoreID = "" },
			"shipping":  func(in *engine.QualifyInput) { in.Cart.Shipping = -1 },
			"phone":     func(in *engine.QualifyInput) { in.Customer = promokit.Identity{Phone: "12"} },
			"too long":  func(in *engine.QualifyInput) { in.Customer = promokit.Identity{CustomerID: strings.Repeat("x", 201)} },
			"product":   func(in *engine.QualifyInput) { in.Cart.Lines[0].ProductID = "" },
			"overflows": func(in *engine.QualifyInput) { in.Cart.Lines[0].Quantity = 1 << 40 },
		} {
			in := qualifyCart(b, ann)
			change(&in)
			_, err := b.svc.Qualify(b.admin, in)
			if promokit.ErrorCode(err) != promokit.EInvalid {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}
	})
}

// TestAutomaticPromotionTerms: an automatic promotion takes no code by any
// route, stays automatic (or not) from its creation on, and refuses the
// terms that need a code.
func TestAutomaticPromotionTerms(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		in := percentInput()
		in.Automatic = ptr(true)
		p := mustCreatePromotion(t, b.seller, b, in)
		if !p.Automatic {
			t.Fatalf("created %+v", p)
		}
		if got, err := b.svc.GetPromotion(b.check, p.ID); err != nil || !got.Automatic {
			t.Fatalf("read back: %+v %v", got, err)
		}
		_, err := b.svc.CreateCode(b.seller, p.ID, engine.CodeInput{Code: "NOPE-1"})
		wantCode(t, err, promokit.EAutomatic)
		_, err = b.svc.ImportCodes(b.seller, p.ID, &sliceSource{codes: []string{"NOPE-2"}})
		wantCode(t, err, promokit.EAutomatic)
		_, err = b.svc.CreateCodeJob(b.admin, p.ID, promokit.CodeSpec{Count: 10})
		wantCode(t, err, promokit.EAutomatic)
		if n := countCodes(t, b, p.ID); n != 0 {
			t.Fatalf("the automatic promotion has %d codes", n)
		}

		// Before its start its other terms change; automatic does not.
		_, err = b.svc.EditPromotion(b.seller, p.ID, p.Version, engine.PromotionInput{Automatic: ptr(false)})
		wantField(t, err, "automatic", "immutable")
		edited, err := b.svc.EditPromotion(b.seller, p.ID, p.Version, engine.PromotionInput{Automatic: ptr(true), Name: ptr("Renamed")})
		if err != nil || !edited.Automatic || edited.Name != "Renamed" {
			t.Fatalf("edit: %+v %v", edited, err)
		}
		coded := mustCreatePromotion(t, b.seller, b, percentInput())
		_, err = b.svc.EditPromotion(b.seller, coded.ID, coded.Version, engine.PromotionInput{Automatic: ptr(true)})
		wantField(t, err, "automatic", "immutable")

		in = percentInput()
		in.Automatic, in.Coupon = ptr(true), set(promokit.CouponSettings{PerPerson: 1, Quantity: 10})
		_, err = b.svc.CreatePromotion(b.seller, in)
		wantField(t, err, "coupon", "not_allowed")
		in = percentInput()
		in.Automatic, in.Channel = ptr(true), ptr(promokit.ChannelPartner)
		_, err = b.svc.CreatePromotion(b.seller, in)
		wantField(t, err, "automatic", "not_allowed")

		p4 := mustCreateStore(t, b, "Partner codes", true)
		in = percentInput()
		in.StoreID, in.Automatic = p4.ID, ptr(true)
		in.PercentOff, in.ProductIDs, in.PerCustomer = ptr(promokit.BasisPoints(1000)), &[]string{"mug"}, set(int64(1))
		in.TotalUses = set(int64(20))
		_, err = b.svc.CreatePromotion(b.admin, in)
		if e := wantCode(t, err, promokit.EPolicy); e.Rule != "P4" {
			t.Fatalf("P4 store: %+v", e)
		}
	})
}

// wantField fails unless err is a validation error naming field with code.
func wantField(t *testing.T, err error, field, code string) {
	t.Helper()
	e := wantCode(t, err, promokit.EInvalid)
	for _, f := range e.Fields {
		if f.Field == field && f.Code == code {
			return
		}
	}
	t.Fatalf("fields %+v, want %s %s", e.Fields, field, code)
}

// qline is a line of a qualified promotion.
func qline(index int, productID string, discount int64) engine.QualifiedLine {
	return engine.QualifiedLine{Index: index, ProductID: productID, Discount: discount}
}
