package engine_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// buyerCodes creates, at jan1, the codes a storefront test validates: LIVE-1
// applies; ONCE-1 has reached its limit (one use, taken by an order);
// EXP-1 has expired at jan1+1h; SOON-1 starts tomorrow; OTHER-1 is of the
// other store. The clock ends at jan1+2h.
func buyerCodes(t *testing.T, b *bundle) {
	t.Helper()
	in := percentInput()
	in.StartsAt = ptr(jan1)
	live := mustCreatePromotion(t, b.seller, b, in)
	soon := mustCreatePromotion(t, b.seller, b, percentInput())
	other := mustCreatePromotion(t, b.foreign, b, percentInput())
	for _, c := range []struct {
		ctx   context.Context
		promo string
		in    engine.CodeInput
	}{
		{b.seller, live.ID, engine.CodeInput{Code: "LIVE-1"}},
		{b.seller, live.ID, engine.CodeInput{Code: "ONCE-1", UsageLimit: set(int64(1))}},
		{b.seller, live.ID, engine.CodeInput{Code: "EXP-1", ExpiresAt: set(jan1.Add(time.Hour))}},
		{b.seller, soon.ID, engine.CodeInput{Code: "SOON-1"}},
		{b.foreign, other.ID, engine.CodeInput{Code: "OTHER-1"}},
	} {
		if _, err := b.svc.CreateCode(c.ctx, c.promo, c.in); err != nil {
			t.Fatalf("code %s: %v", c.in.Code, err)
		}
	}
	if _, err := b.svc.Redeem(b.check, order(b, "ord-once", "", "ONCE-1")); err != nil {
		t.Fatal(err)
	}
	b.clock.Set(jan1.Add(2 * time.Hour))
}

// TestValidateForBuyer checks the storefront's answer: the same prices as
// the checkout's, and for every code that does not apply, whatever the
// reason, the same not_valid entry, in the order the codes were sent.
func TestValidateForBuyer(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		buyerCodes(t, b)
		front := as(promokit.Principal{KeyID: "key_front", Role: promokit.RoleStorefront, StoreID: b.shop.ID})
		sent := []string{"nope-1", "ONCE-1", "live-1", "EXP-1", "SOON-1", "OTHER-1", "nope-1"}
		in := engine.ValidateInput{Cart: order(b, "", "", sent...).Cart, Codes: sent}

		precise, err := b.svc.Validate(b.check, in)
		if err != nil {
			t.Fatal(err)
		}
		reasons := map[string]string{}
		for _, r := range precise.Rejected {
			reasons[r.Code] = r.Reason
		}
		wantReasons := map[string]string{
			"NOPE-1": promokit.ReasonNotFound, "ONCE-1": promokit.ReasonLimitReached, "EXP-1": promokit.ReasonExpired,
			"SOON-1": promokit.ReasonNotStarted, "OTHER-1": promokit.ReasonNotFound,
		}
		if diff := cmp.Diff(wantReasons, reasons); diff != "" {
			t.Fatalf("the checkout's reasons (-want +got):\n%s", diff)
		}

		buyer, err := b.svc.ValidateForBuyer(front, in)
		if err != nil {
			t.Fatal(err)
		}
		want := *precise
		want.Rejected = nil
		for _, c := range []string{"NOPE-1", "ONCE-1", "EXP-1", "SOON-1", "OTHER-1"} {
			want.Rejected = append(want.Rejected, promokit.Rejection{Code: c, Reason: promokit.ReasonNotValid})
		}
		if diff := cmp.Diff(&want, buyer); diff != "" {
			t.Fatalf("the buyer's answer (-want +got):\n%s", diff)
		}
		if len(buyer.Applied) != 1 || buyer.Applied[0].Code != "LIVE-1" || buyer.Discount != 1500 {
			t.Fatalf("the buyer's applied codes: %+v", buyer)
		}
		// A missing code and one that exists but does not apply encode
		// alike, byte for byte, but for the code itself.
		data, err := json.Marshal(buyer.Rejected)
		if err != nil {
			t.Fatal(err)
		}
		var entries []json.RawMessage
		if err := json.Unmarshal(data, &entries); err != nil {
			t.Fatal(err)
		}
		missing := strings.Replace(string(entries[0]), "NOPE-1", "X", 1)
		for i, c := range []string{"ONCE-1", "EXP-1", "SOON-1", "OTHER-1"} {
			if got := strings.Replace(string(entries[i+1]), c, "X", 1); got != missing {
				t.Errorf("%s encodes as %s, a missing code as %s", c, entries[i+1], entries[0])
			}
		}

		// Sent in the other order, the rejections follow it: their order
		// does not tell the missing from the existing.
		in.Codes = []string{"OTHER-1", "SOON-1", "LIVE-1", "EXP-1", "ONCE-1", "NOPE-1"}
		buyer, err = b.svc.ValidateForBuyer(front, in)
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, r := range buyer.Rejected {
			order = append(order, r.Code)
		}
		if diff := cmp.Diff([]string{"OTHER-1", "SOON-1", "EXP-1", "ONCE-1", "NOPE-1"}, order); diff != "" {
			t.Errorf("rejections in the other order (-want +got):\n%s", diff)
		}

		// The admin may ask for the buyer's answer too.
		if buyer, err = b.svc.ValidateForBuyer(b.admin, in); err != nil || len(buyer.Rejected) != 5 || buyer.Rejected[0].Reason != promokit.ReasonNotValid {
			t.Fatalf("the admin's buyer answer: %+v %v", buyer, err)
		}
	})
}

// TestStorefrontKey checks what a storefront key may do: create it (the
// admin, or the seller of its store), validate its store's carts, and
// nothing else.
func TestStorefrontKey(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		buyerCodes(t, b)
		k, secret, err := b.svc.CreateKey(b.seller, engine.KeyInput{Name: "shop pages", Role: promokit.RoleStorefront})
		if err != nil || k.StoreID != b.shop.ID {
			t.Fatalf("seller's storefront key: %+v %v", k, err)
		}
		p, err := b.svc.Authenticate(context.Background(), secret)
		if err != nil || p.Role != promokit.RoleStorefront || p.StoreID != b.shop.ID {
			t.Fatalf("Authenticate: %+v %v", p, err)
		}
		_, _, err = b.svc.CreateKey(b.seller, engine.KeyInput{Role: promokit.RoleStorefront, StoreID: b.other.ID})
		wantCode(t, err, promokit.ENotFound)
		_, _, err = b.svc.CreateKey(b.admin, engine.KeyInput{Role: promokit.RoleStorefront})
		wantCode(t, err, promokit.EInvalid)
		_, _, err = b.svc.CreateKey(b.admin, engine.KeyInput{Role: promokit.RoleStorefront, StoreID: b.shop.ID, PartnerID: b.partnr.ID})
		wantCode(t, err, promokit.EInvalid)
		if _, _, err = b.svc.CreateKey(b.admin, engine.KeyInput{Role: promokit.RoleStorefront, StoreID: b.other.ID}); err != nil {
			t.Fatal(err)
		}

		front := as(p)
		cart := order(b, "", "", "LIVE-1").Cart
		if _, err := b.svc.ValidateForBuyer(front, engine.ValidateInput{Cart: cart, Codes: []string{"LIVE-1"}}); err != nil {
			t.Fatal(err)
		}
		// Another store's cart is not found, as for a checkout key.
		otherCart := cart
		otherCart.StoreID = b.other.ID
		_, err = b.svc.ValidateForBuyer(front, engine.ValidateInput{Cart: otherCart, Codes: []string{"OTHER-1"}})
		wantCode(t, err, promokit.ENotFound)
		// The checkout's precise answer is not for it, nor is the buyer's
		// answer for the checkout, a seller or a partner.
		_, err = b.svc.Validate(front, engine.ValidateInput{Cart: cart, Codes: []string{"LIVE-1"}})
		wantCode(t, err, promokit.EForbidden)
		for _, ctx := range []context.Context{b.check, b.seller, b.partner} {
			_, err = b.svc.ValidateForBuyer(ctx, engine.ValidateInput{Cart: cart, Codes: []string{"LIVE-1"}})
			wantCode(t, err, promokit.EForbidden)
		}
		// Everything else is forbidden, even what any other key may do.
		calls := map[string]func() error{
			"Redeem": func() error { _, err := b.svc.Redeem(front, order(b, "ord-f", "", "LIVE-1")); return err },
			"Reserve": func() error {
				_, err := b.svc.Reserve(front, order(b, "ord-f", "", "LIVE-1"), time.Minute)
				return err
			},
			"Release":        func() error { _, err := b.svc.Release(front, b.shop.ID, "ord-once"); return err },
			"Rollback":       func() error { _, err := b.svc.Rollback(front, b.shop.ID, "ord-once"); return err },
			"GetCode":        func() error { _, err := b.svc.GetCode(front, "LIVE-1"); return err },
			"ListCodes":      func() error { _, err := b.svc.ListCodes(front, storage.CodeFilter{}); return err },
			"ListPromotions": func() error { _, err := b.svc.ListPromotions(front, storage.PromotionFilter{}); return err },
			"Settings":       func() error { _, err := b.svc.Settings(front); return err },
			"GetProduct":     func() error { _, err := b.svc.GetProduct(front, b.shop.ID, "mug"); return err },
			"ListKeys":       func() error { _, err := b.svc.ListKeys(front, storage.KeyFilter{}); return err },
			"CreateKey": func() error {
				_, _, err := b.svc.CreateKey(front, engine.KeyInput{Role: promokit.RoleStorefront, StoreID: b.shop.ID})
				return err
			},
		}
		for name, call := range calls {
			if got := promokit.ErrorCode(call()); got != promokit.EForbidden {
				t.Errorf("%s by a storefront key: %q, want forbidden", name, got)
			}
		}
	})
}
