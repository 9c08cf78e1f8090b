package engine_test

import (
	"fmt"
	"slices"
	"testing"

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
