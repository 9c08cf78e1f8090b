package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// autoPromotion creates an automatic promotion of the shop, live from
// jan1.
func autoPromotion(t *testing.T, b *bundle, name string, in engine.PromotionInput) *promokit.Promotion {
	t.Helper()
	in.Name, in.Automatic, in.StartsAt = ptr(name), ptr(true), ptr(jan1)
	return mustCreatePromotion(t, b.seller, b, in)
}

// codedPromotion creates a promotion of the shop, live from jan1, with one
// code.
func codedPromotion(t *testing.T, b *bundle, code string, in engine.PromotionInput) *promokit.Promotion {
	t.Helper()
	in.Name, in.StartsAt = ptr(code), ptr(jan1)
	p := mustCreatePromotion(t, b.seller, b, in)
	if _, err := b.svc.CreateCode(b.seller, p.ID, engine.CodeInput{Code: code}); err != nil {
		t.Fatal(err)
	}
	return p
}

func percentOff(bp promokit.BasisPoints) engine.PromotionInput {
	return engine.PromotionInput{Type: ptr(promokit.PercentOff), PercentOff: ptr(bp)}
}

func amountOff(minor int64) engine.PromotionInput {
	return engine.PromotionInput{Type: ptr(promokit.AmountOff), AmountOff: ptr(minor)}
}

// applied renders a priced cart's applied entries as "code/promotion/
// discount", "auto/promotion/discount" for an automatic promotion.
func applied(pc *promokit.PricedCart) string {
	var out []string
	for _, a := range pc.Applied {
		name := a.Code
		if a.Automatic {
			name = "auto"
			if a.Code != "" {
				name = "auto with code " + a.Code
			}
		}
		out = append(out, fmt.Sprintf("%s/%s/%d", name, a.PromotionID, a.Discount))
	}
	return strings.Join(out, " ")
}

// rejected renders a priced cart's rejections as "code:reason".
func rejected(pc *promokit.PricedCart) string {
	var out []string
	for _, r := range pc.Rejected {
		out = append(out, r.Code+":"+r.Reason)
	}
	return strings.Join(out, " ")
}

// codeless returns the codeless row of a redeem's answer, or nil.
func codeless(res *engine.RedeemResult) *promokit.Redemption {
	for _, r := range res.Redemptions {
		if r.Code == "" {
			return r
		}
	}
	return nil
}

// listing returns the automatic promotions a redeem request lists.
func listing(ids ...string) *[]string { return &ids }

// wantAutomaticRefusal fails unless err refuses a redeem because of the
// automatic promotion id, for reason.
func wantAutomaticRefusal(t *testing.T, err error, id, reason string) *promokit.Error {
	t.Helper()
	e := wantCode(t, err, engine.RedemptionRefused)
	for _, f := range e.Fields {
		if f.Field == "automatic" && f.Code == reason && strings.Contains(f.Message, id) {
			return e
		}
	}
	t.Fatalf("refusal %q %+v, want automatic promotion %s: %s", e.Message, e.Fields, id, reason)
	return nil
}

// TestValidateAutomatic: validate applies every live automatic promotion
// of the store the cart qualifies for, with and without codes, for a
// checkout key and a storefront key, and leaves out those it does not
// qualify for without a word. Nothing is used.
func TestValidateAutomatic(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		in := percentOff(1000)
		in.Priority = ptr(int64(1)) // before the next at equal priority, whatever their ids
		ten := autoPromotion(t, b, "Ten off everything", in)
		in = percentOff(500)
		in.PerCustomer = set(int64(1))
		welcome := autoPromotion(t, b, "Welcome five percent", in)
		in = amountOff(2000)
		in.MinOrder = ptr(int64(15000))
		autoPromotion(t, b, "Twenty off 150", in)
		in = percentOff(5000)
		in.ProductIDs = &[]string{"tshirt"}
		autoPromotion(t, b, "Half off t-shirts", in)
		in = percentOff(5000)
		in.Name, in.Automatic, in.StartsAt, in.StoreID = ptr("Other store's sale"), ptr(true), ptr(jan1), b.other.ID
		mustCreatePromotion(t, b.admin, b, in)
		five := codedPromotion(t, b, "FIVE-OFF", amountOff(500))

		validate := func(ctx context.Context, email string, codes ...string) *promokit.PricedCart {
			t.Helper()
			req := order(b, "", email, codes...)
			validate := b.svc.Validate
			if ctx != b.check {
				validate = b.svc.ValidateForBuyer
			}
			pc, err := validate(ctx, engine.ValidateInput{Cart: req.Cart, Customer: req.Customer, Codes: req.Codes})
			if err != nil {
				t.Fatal(err)
			}
			return pc
		}
		// Percentages on the original $100, by priority; the fixed amount
		// after them.
		pc := validate(b.check, "ann@example.com")
		if got, want := applied(pc), fmt.Sprintf("auto/%s/1000 auto/%s/500", ten.ID, welcome.ID); got != want || pc.Discount != 1500 || pc.Total != 8500 || len(pc.Rejected) != 0 {
			t.Fatalf("without codes: applied %s, want %s; %+v", got, want, pc)
		}
		pc = validate(b.check, "ann@example.com", "five-off", "NOPE-NOPE")
		if got, want := applied(pc), fmt.Sprintf("auto/%s/1000 auto/%s/500 FIVE-OFF/%s/500", ten.ID, welcome.ID, five.ID); got != want || pc.Total != 8000 {
			t.Fatalf("with a code: applied %s, want %s; total %d", got, want, pc.Total)
		}
		if got := rejected(pc); got != "NOPE-NOPE:not_found" {
			t.Fatalf("with a code: rejected %s, want the unknown code alone", got)
		}
		// A buyer without identity does not get the once-per-customer
		// promotion; nothing says so in the answer, which reports codes.
		pc = validate(b.check, "", "FIVE-OFF")
		if got, want := applied(pc), fmt.Sprintf("auto/%s/1000 FIVE-OFF/%s/500", ten.ID, five.ID); got != want || len(pc.Rejected) != 0 {
			t.Fatalf("anonymous: applied %s, want %s; rejected %+v", got, want, pc.Rejected)
		}
		// A storefront key gets the same prices.
		front := as(promokit.Principal{KeyID: "key_front", Role: promokit.RoleStorefront, StoreID: b.shop.ID})
		pc = validate(front, "ann@example.com", "FIVE-OFF", "NOPE-NOPE")
		if got, want := applied(pc), fmt.Sprintf("auto/%s/1000 auto/%s/500 FIVE-OFF/%s/500", ten.ID, welcome.ID, five.ID); got != want || pc.Total != 8000 {
			t.Fatalf("storefront: applied %s, want %s", got, want)
		}
		if got := rejected(pc); got != "NOPE-NOPE:not_valid" {
			t.Fatalf("storefront: rejected %s", got)
		}
		// Validating uses nothing.
		for _, p := range []*promokit.Promotion{ten, welcome, five} {
			if got, err := b.svc.GetPromotion(b.seller, p.ID); err != nil || got.Uses != 0 {
				t.Fatalf("%s after validate: %+v %v", p.Name, got, err)
			}
		}
		// A promotion ended, deactivated or not started yet applies no more.
		if _, err := b.svc.SetPromotionActive(b.seller, welcome.ID, false); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.EndPromotion(b.seller, ten.ID); err != nil {
			t.Fatal(err)
		}
		if got := applied(validate(b.check, "ann@example.com")); got != "" {
			t.Fatalf("after the end: applied %s", got)
		}
	})
}

// TestAutomaticStacking: automatic promotions and codes are ordered by one
// rule, whatever their origin. An exclusive promotion of higher priority
// applies alone, be it automatic or typed; an exclusive promotion that
// does not apply to the cart keeps nothing out; the store's limit takes
// percentages first, then by priority. A typed code kept out is reported
// and refuses its redeem; an automatic promotion kept out is left out.
func TestAutomaticStacking(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		validate := func(req engine.RedeemInput) *promokit.PricedCart {
			t.Helper()
			pc, err := b.svc.Validate(b.check, engine.ValidateInput{Cart: req.Cart, Customer: req.Customer, Codes: req.Codes})
			if err != nil {
				t.Fatal(err)
			}
			return pc
		}
		tshirts := func(req engine.RedeemInput) engine.RedeemInput {
			req.Cart.Lines[0].ProductID = "tshirt"
			return req
		}

		// An exclusive automatic 20% on mugs, priority 5, over a typed 10%.
		in := percentOff(2000)
		in.Exclusive, in.Priority, in.ProductIDs = ptr(true), ptr(int64(5)), &[]string{"mug"}
		mugs := autoPromotion(t, b, "Mug week", in)
		keep := codedPromotion(t, b, "KEEP-10", percentOff(1000))
		pc := validate(order(b, "", "", "KEEP-10"))
		if got := applied(pc); got != "auto/"+mugs.ID+"/2000" || rejected(pc) != "KEEP-10:not_combinable" {
			t.Fatalf("exclusive automatic: applied %s rejected %s", got, rejected(pc))
		}
		_, err := b.svc.Redeem(b.check, order(b, "o1", "", "KEEP-10"))
		if e := wantCode(t, err, engine.RedemptionRefused); e.Fields[0].Field != "codes" || e.Fields[0].Code != promokit.ReasonNotCombinable {
			t.Fatalf("redeem of a code kept out: %+v", e.Fields)
		}
		res, err := b.svc.Redeem(b.check, order(b, "o1", ""))
		if err != nil || len(res.Redemptions) != 1 || res.Redemptions[0].Code != "" || res.Redemptions[0].PromotionID != mugs.ID || res.Priced.Total != 8000 {
			t.Fatalf("redeem without the code: %+v %v", res, err)
		}
		// On t-shirts the mug promotion does not apply, and keeps nothing out.
		pc = validate(tshirts(order(b, "", "", "KEEP-10")))
		if got := applied(pc); got != "KEEP-10/"+keep.ID+"/1000" || len(pc.Rejected) != 0 {
			t.Fatalf("exclusive automatic that does not apply: applied %s rejected %s", got, rejected(pc))
		}

		// A typed exclusive code of higher priority applies alone; the
		// automatic promotion is left out, and the redeem writes the code.
		in = percentOff(2500)
		in.Exclusive, in.Priority = ptr(true), ptr(int64(9))
		vip := codedPromotion(t, b, "VIP-25", in)
		pc = validate(order(b, "", "", "VIP-25"))
		if got := applied(pc); got != "VIP-25/"+vip.ID+"/2500" || len(pc.Rejected) != 0 {
			t.Fatalf("exclusive code of higher priority: applied %s rejected %s", got, rejected(pc))
		}
		res, err = b.svc.Redeem(b.check, order(b, "o2", "", "VIP-25"))
		if err != nil || len(res.Redemptions) != 1 || res.Redemptions[0].Code != "VIP-25" {
			t.Fatalf("redeem of the exclusive code: %+v %v", res, err)
		}
		if got, _ := b.svc.GetPromotion(b.seller, mugs.ID); got.Uses != 1 {
			t.Fatalf("the automatic promotion left out was used: %d uses", got.Uses)
		}
		for _, id := range []string{mugs.ID, vip.ID} {
			if _, err := b.svc.SetPromotionActive(b.seller, id, false); err != nil {
				t.Fatal(err)
			}
		}

		// The store's limit of one: percentages first, whatever their origin.
		ten := autoPromotion(t, b, "Ten off", percentOff(1000))
		five := codedPromotion(t, b, "FIVE-OFF", amountOff(500))
		in = percentOff(2000)
		in.Priority = ptr(int64(1))
		twenty := codedPromotion(t, b, "TWENTY", in)
		one := int64(1)
		if _, err := b.svc.UpdateStore(b.admin, b.shop.ID, engine.StoreInput{MaxPromotionsPerOrder: &one}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.SetPromotionActive(b.seller, keep.ID, false); err != nil {
			t.Fatal(err)
		}
		pc = validate(order(b, "", "", "FIVE-OFF"))
		if got := applied(pc); got != "auto/"+ten.ID+"/1000" || rejected(pc) != "FIVE-OFF:stacking_limit" {
			t.Fatalf("limit 1, a fixed amount typed: applied %s rejected %s", got, rejected(pc))
		}
		pc = validate(order(b, "", "", "TWENTY", "FIVE-OFF"))
		if got := applied(pc); got != "TWENTY/"+twenty.ID+"/2000" || rejected(pc) != "FIVE-OFF:stacking_limit" {
			t.Fatalf("limit 1, a percentage of higher priority typed: applied %s rejected %s", got, rejected(pc))
		}
		pc = validate(order(b, "", ""))
		if got := applied(pc); got != "auto/"+ten.ID+"/1000" {
			t.Fatalf("limit 1, no code: applied %s", got)
		}
		_, err = b.svc.Redeem(b.check, order(b, "o3", "", "FIVE-OFF"))
		if e := wantCode(t, err, engine.RedemptionRefused); e.Fields[0].Code != promokit.ReasonStackingLimit {
			t.Fatalf("redeem over the limit: %+v", e.Fields)
		}
		res, err = b.svc.Redeem(b.check, order(b, "o4", "", "TWENTY"))
		if err != nil || len(res.Redemptions) != 1 || res.Redemptions[0].Code != "TWENTY" {
			t.Fatalf("redeem of the code that wins the limit: %+v %v", res, err)
		}
		two := int64(2)
		if _, err := b.svc.UpdateStore(b.admin, b.shop.ID, engine.StoreInput{MaxPromotionsPerOrder: &two}); err != nil {
			t.Fatal(err)
		}
		pc = validate(order(b, "", "", "TWENTY", "FIVE-OFF"))
		if got := applied(pc); got != "TWENTY/"+twenty.ID+"/2000 auto/"+ten.ID+"/1000" || rejected(pc) != "FIVE-OFF:stacking_limit" {
			t.Fatalf("limit 2: applied %s rejected %s", got, rejected(pc))
		}
		res, err = b.svc.Redeem(b.check, order(b, "o5", "", "TWENTY"))
		if err != nil || len(res.Redemptions) != 2 || res.Priced.Discount != 3000 || five.ID == "" {
			t.Fatalf("redeem under the limit of 2: %+v %v", res, err)
		}
		checkCounters(t, b.store)
	})
}

// TestRedeemAutomatic: a redeem writes one codeless row per automatic
// promotion it applies, which takes the promotion's counters and the
// customer's counter of it, never a code's; a replay answers the same
// rows; rollback, release and expiry give every use back; the counters
// always equal the rows.
func TestRedeemAutomatic(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		in := percentOff(1000)
		in.TotalUses, in.PerCustomer = set(int64(10)), set(int64(2))
		ten := autoPromotion(t, b, "Ten off", in)
		five := codedPromotion(t, b, "FIVE-OFF", amountOff(500))
		annKey, _ := promokit.Identity{Email: "ann@example.com"}.Key()
		counters := func(uses, spent, annUses, fiveUses int64) {
			t.Helper()
			p, err := b.svc.GetPromotion(b.seller, ten.ID)
			if err != nil {
				t.Fatal(err)
			}
			c, err := b.svc.GetCode(b.seller, "FIVE-OFF")
			if err != nil {
				t.Fatal(err)
			}
			var ann int64
			if err := b.store.Read(context.Background(), func(tx storage.Tx) (err error) {
				ann, err = tx.UsageCustomerGet(context.Background(), ten.ID, annKey)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if p.Uses != uses || p.DiscountSpent != spent || ann != annUses || c.Uses != fiveUses {
				t.Fatalf("counters: %d uses, %d spent, ann %d, FIVE-OFF %d; want %d, %d, %d, %d",
					p.Uses, p.DiscountSpent, ann, c.Uses, uses, spent, annUses, fiveUses)
			}
			checkCounters(t, b.store)
		}

		// Without codes: one codeless row.
		res, err := b.svc.Redeem(b.check, order(b, "o1", "ann@example.com"))
		if err != nil || len(res.Redemptions) != 1 || res.Replayed {
			t.Fatalf("redeem without codes: %+v %v", res, err)
		}
		row := res.Redemptions[0]
		if row.Code != "" || row.PromotionID != ten.ID || row.Discount != 1000 || row.State != promokit.RedemptionRedeemed || row.ID == 0 ||
			applied(res.Priced) != "auto/"+ten.ID+"/1000" {
			t.Fatalf("codeless row %+v, priced %s", row, applied(res.Priced))
		}
		counters(1, 1000, 1, 0)
		again, err := b.svc.Redeem(b.check, order(b, "o1", "ann@example.com"))
		if err != nil || !again.Replayed || len(again.Redemptions) != 1 || !cmp.Equal(again.Redemptions[0], row) {
			t.Fatalf("replay: %+v %v", again, err)
		}
		// With a code: both rows, in the order of application.
		res, err = b.svc.Redeem(b.check, order(b, "o2", "ann@example.com", "FIVE-OFF"))
		if err != nil || len(res.Redemptions) != 2 || res.Redemptions[0].Code != "" || res.Redemptions[1].Code != "FIVE-OFF" ||
			res.Redemptions[1].PromotionID != five.ID || res.Priced.Discount != 1500 {
			t.Fatalf("redeem with a code: %+v %v", res, err)
		}
		counters(2, 2000, 2, 1)
		// Ann has used it twice, her limit: an order priced without it is
		// written without it; one that lists it is refused, naming it.
		res, err = b.svc.Redeem(b.check, order(b, "o3", "ann@example.com", "FIVE-OFF"))
		if err != nil || len(res.Redemptions) != 1 || res.Redemptions[0].Code != "FIVE-OFF" || res.Priced.Discount != 500 {
			t.Fatalf("redeem past the customer's limit: %+v %v", res, err)
		}
		listed := order(b, "o4", "ann@example.com", "FIVE-OFF")
		listed.Automatic = listing(ten.ID)
		_, err = b.svc.Redeem(b.check, listed)
		if e := wantAutomaticRefusal(t, err, ten.ID, promokit.ReasonCustomerLimit); e.Rule != "C1" {
			t.Fatalf("listed past the customer's limit: %+v", e)
		}
		counters(2, 2000, 2, 2)

		// Cancelling gives the automatic use back, and the customer's.
		rs, err := b.svc.Rollback(b.check, b.shop.ID, "o1")
		if err != nil || len(rs) != 1 || rs[0].State != promokit.RedemptionRolledBack {
			t.Fatalf("rollback: %+v %v", rs, err)
		}
		counters(1, 1000, 1, 2)
		// A hold takes it, a release gives it back, a redeem commits it.
		hold := order(b, "o5", "ann@example.com")
		hold.Automatic = listing(ten.ID)
		res, err = b.svc.Reserve(b.check, hold, time.Minute)
		if err != nil || len(res.Redemptions) != 1 || res.Redemptions[0].State != promokit.RedemptionHeld {
			t.Fatalf("reserve: %+v %v", res, err)
		}
		counters(2, 2000, 2, 2)
		if _, err := b.svc.Release(b.check, b.shop.ID, "o5"); err != nil {
			t.Fatal(err)
		}
		counters(1, 1000, 1, 2)
		if _, err := b.svc.Reserve(b.check, hold, time.Minute); err != nil {
			t.Fatalf("reserve again: %v", err)
		}
		res, err = b.svc.Redeem(b.check, hold)
		if err != nil || len(res.Redemptions) != 1 || res.Redemptions[0].State != promokit.RedemptionRedeemed {
			t.Fatalf("redeem the hold: %+v %v", res, err)
		}
		counters(2, 2000, 2, 2)
		// An abandoned hold expires and gives its use back.
		bob := order(b, "o6", "bob@example.com")
		if _, err := b.svc.Reserve(b.check, bob, time.Minute); err != nil {
			t.Fatal(err)
		}
		counters(3, 3000, 2, 2)
		b.clock.Add(time.Minute)
		if n, err := b.svc.ExpireHolds(context.Background(), 10); err != nil || n != 1 {
			t.Fatalf("expired %d holds: %v", n, err)
		}
		counters(2, 2000, 2, 2)

		// A guest without identity: the per-customer promotion does not
		// apply, and the order goes through without it.
		res, err = b.svc.Redeem(b.check, order(b, "o7", "", "FIVE-OFF"))
		if err != nil || len(res.Redemptions) != 1 || res.Redemptions[0].Code != "FIVE-OFF" {
			t.Fatalf("guest with a code: %+v %v", res, err)
		}
		res, err = b.svc.Redeem(b.check, order(b, "o8", ""))
		if err != nil || len(res.Redemptions) != 0 || res.Redemptions == nil || res.Priced.Discount != 0 {
			t.Fatalf("guest without a code: %+v %v", res, err)
		}
		guest := order(b, "o9", "")
		guest.Automatic = listing(ten.ID)
		_, err = b.svc.Redeem(b.check, guest)
		wantAutomaticRefusal(t, err, ten.ID, promokit.ReasonIdentityRequired)

		// A list is all or nothing: an automatic promotion that applies and
		// is not listed, or one listed that is not live, refuses the order.
		cat := order(b, "o10", "cat@example.com")
		cat.Automatic = listing()
		_, err = b.svc.Redeem(b.check, cat)
		wantAutomaticRefusal(t, err, ten.ID, promokit.ReasonNotListed)
		cat.Automatic = listing(ten.ID, "prm_nope")
		_, err = b.svc.Redeem(b.check, cat)
		wantAutomaticRefusal(t, err, "prm_nope", promokit.ReasonNotFound)
		cat.Automatic = listing(ten.ID, ten.ID)
		_, err = b.svc.Redeem(b.check, cat)
		wantCode(t, err, promokit.EInvalid)
		counters(2, 2000, 2, 3)
		// The same order with another list is another request.
		cat.Automatic = listing(ten.ID)
		if _, err := b.svc.Redeem(b.check, cat); err != nil {
			t.Fatal(err)
		}
		cat.Automatic = nil
		_, err = b.svc.Redeem(b.check, cat)
		wantCode(t, err, promokit.EConflict)
		counters(3, 3000, 2, 3)
	})
}

// TestRedeemRaceAutomatic: 1,000 concurrent redeems of orders priced with
// an automatic promotion limited to 100 uses, listing it: exactly 100 get
// its discount and the others are refused, naming it. Without the list,
// exactly 100 get it too, and every other order is refused or written at
// the price it was priced at, without it.
func TestRedeemRaceAutomatic(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		in := percentOff(1500)
		in.TotalUses = set(int64(100))
		p := autoPromotion(t, b, "First hundred", in)
		ok, refused := race(t, b, 1000, func(i int) engine.RedeemInput {
			in := order(b, fmt.Sprintf("ord-%04d", i), fmt.Sprintf("buyer%d@example.com", i))
			in.Automatic = listing(p.ID)
			return in
		}, promokit.ReasonLimitReached)
		if ok != 100 || refused != 900 {
			t.Fatalf("%d redeemed and %d refused, want 100 and 900", ok, refused)
		}
		got, _ := b.svc.GetPromotion(b.seller, p.ID)
		if got.Uses != 100 || got.DiscountSpent != 100*1500 {
			t.Fatalf("stored uses %d, discount %d", got.Uses, got.DiscountSpent)
		}
		checkCounters(t, b.store)

		// Without the list, on a second promotion.
		if _, err := b.svc.SetPromotionActive(b.seller, p.ID, false); err != nil {
			t.Fatal(err)
		}
		q := autoPromotion(t, b, "Second hundred", in)
		var withIt, without, refusedIt atomic.Int64
		var wg sync.WaitGroup
		for i := range 300 {
			wg.Go(func() {
				res, err := b.svc.Redeem(b.check, order(b, fmt.Sprintf("next-%04d", i), ""))
				var e *promokit.Error
				switch {
				case err == nil && len(res.Redemptions) == 1 && res.Redemptions[0].PromotionID == q.ID && res.Priced.Discount == 1500:
					withIt.Add(1)
				case err == nil && len(res.Redemptions) == 0 && res.Priced.Discount == 0:
					without.Add(1)
				case errors.As(err, &e) && e.Code == engine.RedemptionRefused && e.Fields[0].Field == "automatic" && e.Fields[0].Code == promokit.ReasonLimitReached:
					refusedIt.Add(1)
				default:
					t.Errorf("redeem %d: %+v %v", i, res, err)
				}
			})
		}
		wg.Wait()
		if withIt.Load() != 100 || without.Load()+refusedIt.Load() != 200 {
			t.Fatalf("%d with the promotion, %d without, %d refused; want 100 with it", withIt.Load(), without.Load(), refusedIt.Load())
		}
		checkCounters(t, b.store)
	})
}

// TestRedeemBatchAutomatic: orders of one batch that apply one automatic
// promotion add up on its counters in one write; a batch past its limit
// is written in halves, and the orders priced with it that no longer fit
// are refused, naming it. Orders priced once the limit is reached are
// written without it, unless they list it.
func TestRedeemBatchAutomatic(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		svc, reg := batchService(b)
		in := amountOff(1000)
		in.TotalUses, in.PerCustomer = set(int64(6)), set(int64(5))
		p := autoPromotion(t, b, "Ten dollars off", in)
		codedPromotion(t, b, "FIVE-OFF", amountOff(500))
		ins := []engine.RedeemInput{
			order(b, "b1", "ann@example.com"),
			order(b, "b2", "ann@example.com", "FIVE-OFF"),
			order(b, "b3", "bob@example.com", "FIVE-OFF"),
			order(b, "b4", "dan@example.com"),
		}
		ins[0].Automatic = listing(p.ID)
		res, errs := svc.RedeemBatch(b.check, ins, make([]time.Duration, len(ins)))
		for i, err := range errs {
			if err != nil || codeless(res[i]) == nil || codeless(res[i]).Discount != 1000 || len(res[i].Redemptions) != 1+len(ins[i].Codes) {
				t.Fatalf("%s: %+v %v", ins[i].OrderID, res[i], err)
			}
		}
		if got := batches(t, reg, "together", "ok"); got != 1 {
			t.Fatalf("%d batches written together, want 1", got)
		}
		if got, _ := b.svc.GetPromotion(b.seller, p.ID); got.Uses != 4 || got.DiscountSpent != 4000 {
			t.Fatalf("stored %d uses, %d spent; want 4 and 4000", got.Uses, got.DiscountSpent)
		}
		if c, _ := b.svc.GetCode(b.seller, "FIVE-OFF"); c.Uses != 2 {
			t.Fatalf("FIVE-OFF used %d times, want 2", c.Uses)
		}
		checkCounters(t, b.store)

		// Four more orders for the two uses left: the first two are written,
		// the two others were priced with it and are refused.
		ins = []engine.RedeemInput{order(b, "c1", "c1@example.com"), order(b, "c2", "c2@example.com", "FIVE-OFF"),
			order(b, "c3", "c3@example.com", "FIVE-OFF"), order(b, "c4", "c4@example.com")}
		ins[3].Automatic = listing(p.ID)
		_, errs = svc.RedeemBatch(b.check, ins, make([]time.Duration, len(ins)))
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("orders that fit: %v %v", errs[0], errs[1])
		}
		for _, err := range errs[2:] {
			if e := wantAutomaticRefusal(t, err, p.ID, promokit.ReasonLimitReached); e.Limit == nil || *e.Limit != 6 {
				t.Fatalf("refusal %+v", e)
			}
		}
		if got := batches(t, reg, "together", "over_limit"); got < 1 {
			t.Fatalf("%d batches over the limit", got)
		}
		// Priced now, an order goes without it, or is refused if it lists it.
		ins = []engine.RedeemInput{order(b, "d1", "d1@example.com", "FIVE-OFF"), order(b, "d2", "d2@example.com")}
		ins[1].Automatic = listing(p.ID)
		res, errs = svc.RedeemBatch(b.check, ins, make([]time.Duration, len(ins)))
		if errs[0] != nil || len(res[0].Redemptions) != 1 || res[0].Redemptions[0].Code != "FIVE-OFF" {
			t.Fatalf("an order priced after the limit: %+v %v", res[0], errs[0])
		}
		wantAutomaticRefusal(t, errs[1], p.ID, promokit.ReasonLimitReached)
		if got, _ := b.svc.GetPromotion(b.seller, p.ID); got.Uses != 6 {
			t.Fatalf("stored %d uses, want 6", got.Uses)
		}
		checkCounters(t, b.store)

		// Order by order (the path of a batch that failed as a whole), the
		// same holds.
		if _, err := b.svc.Rollback(b.check, b.shop.ID, "b1"); err != nil {
			t.Fatal(err)
		}
		ins = []engine.RedeemInput{order(b, "e1", "e1@example.com"), order(b, "e2", "e2@example.com"), order(b, "e3", "e3@example.com")}
		for i := range ins {
			ins[i].Automatic = listing(p.ID)
		}
		res, errs = svc.RedeemEach(b.check, ins)
		if errs[0] != nil || len(res[0].Redemptions) != 1 || res[0].Redemptions[0].PromotionID != p.ID {
			t.Fatalf("the use given back: %+v %v", res[0], errs[0])
		}
		for _, err := range errs[1:] {
			wantAutomaticRefusal(t, err, p.ID, promokit.ReasonLimitReached)
		}
		checkCounters(t, b.store)
	})
}

// TestRedeemAutomaticBudget: an automatic promotion's spend budget holds
// as its total uses do, and is given back on rollback.
func TestRedeemAutomaticBudget(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		in := amountOff(500)
		in.TotalDiscount = set(int64(1200))
		p := autoPromotion(t, b, "Five off while it lasts", in)
		for _, id := range []string{"o1", "o2"} {
			req := order(b, id, "")
			req.Automatic = listing(p.ID)
			if _, err := b.svc.Redeem(b.check, req); err != nil {
				t.Fatal(err)
			}
		}
		req := order(b, "o3", "")
		req.Automatic = listing(p.ID)
		_, err := b.svc.Redeem(b.check, req)
		if e := wantAutomaticRefusal(t, err, p.ID, promokit.ReasonBudgetExhausted); e.Rule != "C2" || *e.Limit != 1200 {
			t.Fatalf("budget: %+v", e)
		}
		if _, err := b.svc.Rollback(b.check, b.shop.ID, "o1"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.Redeem(b.check, req); err != nil {
			t.Fatalf("after the rollback: %v", err)
		}
		if got, _ := b.svc.GetPromotion(b.seller, p.ID); got.Uses != 2 || got.DiscountSpent != 1000 {
			t.Fatalf("stored %d uses, %d spent", got.Uses, got.DiscountSpent)
		}
		checkCounters(t, b.store)
	})
}
