package engine_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// order returns a redeem request for a $100 cart of the shop.
func order(b *bundle, id string, email string, codes ...string) engine.RedeemInput {
	return engine.RedeemInput{
		OrderID:  id,
		Cart:     promokit.Cart{StoreID: b.shop.ID, Currency: "USD", Lines: []promokit.Line{{ProductID: "mug", Quantity: 1, UnitPrice: 10000}}},
		Customer: promokit.Identity{Email: email},
		Codes:    codes,
	}
}

// racePromotion creates an active promotion of the shop with n codes.
func racePromotion(t *testing.T, b *bundle, in engine.PromotionInput, n int) (*promokit.Promotion, []string) {
	t.Helper()
	in.StartsAt = ptr(jan1)
	p := mustCreatePromotion(t, b.seller, b, in)
	codes := make([]string, n)
	for i := range codes {
		codes[i] = fmt.Sprintf("RACE-%03d", i)
		if _, err := b.svc.CreateCode(b.seller, p.ID, engine.CodeInput{Code: codes[i]}); err != nil {
			t.Fatal(err)
		}
	}
	return p, codes
}

// race runs n redeems at once and returns how many succeeded and how many
// were refused with reason.
func race(t *testing.T, b *bundle, n int, req func(i int) engine.RedeemInput, reason string) (ok, refused int64) {
	t.Helper()
	var wg sync.WaitGroup
	var okN, refusedN atomic.Int64
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := b.svc.Redeem(b.check, req(i))
			switch {
			case err == nil:
				okN.Add(1)
			case promokit.ErrorCode(err) == engine.RedemptionRefused && err.(*promokit.Error).Fields[0].Code == reason:
				refusedN.Add(1)
			default:
				t.Errorf("redeem %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	return okN.Load(), refusedN.Load()
}

// TestRedeemRaceSharedLimit: 1,000 concurrent redeems over 50 codes of a
// promotion limited to 100 uses (C2): exactly 100 succeed.
func TestRedeemRaceSharedLimit(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		p, codes := racePromotion(t, b, percentInput(), 50)
		ok, refused := race(t, b, 1000, func(i int) engine.RedeemInput {
			return order(b, fmt.Sprintf("ord-%04d", i), fmt.Sprintf("buyer%d@example.com", i), codes[i%50])
		}, promokit.ReasonLimitReached)
		if ok != 100 || refused != 900 {
			t.Fatalf("%d redeemed and %d refused, want 100 and 900", ok, refused)
		}
		got, _ := b.svc.GetPromotion(b.seller, p.ID)
		if got.Uses != 100 || got.DiscountSpent != 100*1500 {
			t.Fatalf("stored uses %d, discount %d", got.Uses, got.DiscountSpent)
		}
	})
}

// TestRedeemRaceBudget: a spend budget of $100 and $5 off: exactly 20.
func TestRedeemRaceBudget(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		in := engine.PromotionInput{Name: ptr("Five off"), Type: ptr(promokit.AmountOff), AmountOff: ptr(int64(500)), TotalDiscount: set(int64(10000))}
		p, codes := racePromotion(t, b, in, 5)
		ok, refused := race(t, b, 200, func(i int) engine.RedeemInput {
			return order(b, fmt.Sprintf("ord-%04d", i), "", codes[i%5])
		}, promokit.ReasonBudgetExhausted)
		if ok != 20 || refused != 180 {
			t.Fatalf("%d redeemed and %d refused, want 20 and 180", ok, refused)
		}
		if got, _ := b.svc.GetPromotion(b.seller, p.ID); got.DiscountSpent != 10000 || got.Uses != 20 {
			t.Fatalf("stored %d uses, %d spent", got.Uses, got.DiscountSpent)
		}
	})
}

// TestRedeemRaceOneCustomer: 200 concurrent redeems by one guest, written
// in many forms of one e-mail address, on a once-per-customer promotion.
func TestRedeemRaceOneCustomer(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		in := percentInput()
		in.PerCustomer = set(int64(1))
		_, codes := racePromotion(t, b, in, 10)
		forms := []string{"ann.smith@example.com", "AnnSmith+a@Example.com", "a.n.n.smith+b@EXAMPLE.COM", "annsmith@example.com"}
		ok, refused := race(t, b, 200, func(i int) engine.RedeemInput {
			return order(b, fmt.Sprintf("ord-%04d", i), forms[i%4], codes[i%10])
		}, promokit.ReasonCustomerLimit)
		if ok != 1 || refused != 199 {
			t.Fatalf("%d redeemed and %d refused, want 1 and 199", ok, refused)
		}
		// A guest without identity cannot use a per-customer promotion.
		_, err := b.svc.Redeem(b.check, order(b, "ord-anon", "", codes[0]))
		if e := wantCode(t, err, engine.RedemptionRefused); e.Fields[0].Code != promokit.ReasonIdentityRequired {
			t.Fatalf("anonymous: %+v", e.Fields)
		}
	})
}

func TestRedeemReplayRollback(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		in := percentInput()
		in.TotalUses = set(int64(2))
		p, codes := racePromotion(t, b, in, 2)
		limited := mustCreatePromotion(t, b.seller, b, engine.PromotionInput{
			Name: ptr("Two off"), Type: ptr(promokit.AmountOff), AmountOff: ptr(int64(200)), StartsAt: ptr(jan1), TotalUses: set(int64(1)),
		})
		if _, err := b.svc.CreateCode(b.seller, limited.ID, engine.CodeInput{Code: "ONCE"}); err != nil {
			t.Fatal(err)
		}
		res, err := b.svc.Redeem(b.check, order(b, "ord-1", "a@example.com", codes[0], "once"))
		if err != nil || len(res.Redemptions) != 2 || res.Priced.Discount != 1500+200 || res.Replayed {
			t.Fatalf("redeem: %+v %v", res, err)
		}
		// A retried call (3-D Secure, a network retry) uses nothing again.
		again, err := b.svc.Redeem(b.check, order(b, "ord-1", "a@example.com", codes[0], "once"))
		if err != nil || !again.Replayed || len(again.Redemptions) != 2 {
			t.Fatalf("replay: %+v %v", again, err)
		}
		_, err = b.svc.Redeem(b.check, order(b, "ord-1", "a@example.com", codes[1]))
		wantCode(t, err, promokit.EConflict)
		// All or nothing: ONCE is used up, so codes[1] is not taken either.
		_, err = b.svc.Redeem(b.check, order(b, "ord-2", "b@example.com", codes[1], "ONCE"))
		if e := wantCode(t, err, engine.RedemptionRefused); e.Fields[0].Code != promokit.ReasonLimitReached {
			t.Fatalf("refusal: %+v", e.Fields)
		}
		if got, _ := b.svc.GetPromotion(b.seller, p.ID); got.Uses != 1 {
			t.Fatalf("a refused order took a use: %d", got.Uses)
		}
		// Foreign and unknown.
		_, err = b.svc.Redeem(b.foreign, order(b, "ord-3", "", codes[1]))
		wantCode(t, err, promokit.EForbidden)
		other := as(promokit.Principal{KeyID: "k", Role: promokit.RoleCheckout, StoreID: b.other.ID})
		_, err = b.svc.Redeem(other, order(b, "ord-3", "", codes[1]))
		wantCode(t, err, promokit.ENotFound)
		_, err = b.svc.Redeem(b.check, order(b, "ord-3", "", "NOPE-NOPE"))
		if e := wantCode(t, err, engine.RedemptionRefused); e.Fields[0].Code != promokit.ReasonNotFound {
			t.Fatalf("unknown code: %+v", e.Fields)
		}
		// Cancelling gives the uses back, once.
		for i := 0; i < 2; i++ {
			rs, err := b.svc.Rollback(b.check, b.shop.ID, "ord-1")
			if err != nil || len(rs) != 2 || rs[0].State != promokit.RedemptionRolledBack {
				t.Fatalf("rollback %d: %+v %v", i, rs, err)
			}
		}
		if got, _ := b.svc.GetPromotion(b.seller, p.ID); got.Uses != 0 || got.DiscountSpent != 0 {
			t.Fatalf("after rollback: %d uses, %d spent", got.Uses, got.DiscountSpent)
		}
		if _, err := b.svc.Redeem(b.check, order(b, "ord-4", "a@example.com", "ONCE")); err != nil {
			t.Fatalf("ONCE must be usable again after the rollback: %v", err)
		}
		_, err = b.svc.Rollback(b.check, b.shop.ID, "ord-nope")
		wantCode(t, err, promokit.ENotFound)
		_, err = b.svc.Rollback(context.Background(), b.shop.ID, "ord-1")
		wantCode(t, err, promokit.EUnauthenticated)
	})
}

// TestRollbackCompletedOrder: a rollback refuses an order that order
// events completed, as its cancelled event is refused, and changes
// nothing (C4: a completed order is refunded, and a refund does not
// return the use). Before completion, or for an order the store only
// redeemed for, it gives the uses back.
func TestRollbackCompletedOrder(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		p, codes := racePromotion(t, b, percentInput(), 5)
		for i, tt := range []struct {
			name   string
			events []string // after placed; nil: no order events at all
			want   string
		}{
			{"no order events", nil, ""},
			{"placed", []string{}, ""},
			{"paid", []string{promokit.EventPaid}, ""},
			{"completed", []string{promokit.EventPaid, promokit.EventCompleted}, promokit.EConflict},
			{"completed and refunded", []string{promokit.EventPaid, promokit.EventCompleted, promokit.EventRefunded}, promokit.EConflict},
		} {
			id := fmt.Sprintf("ord-%d", i)
			if _, err := b.svc.Redeem(b.check, order(b, id, "", codes[i])); err != nil {
				t.Fatal(err)
			}
			if tt.events != nil {
				placeAndApply(t, b, id, tt.events)
			}
			before, _ := b.svc.GetPromotion(b.seller, p.ID)
			rs, err := b.svc.Rollback(b.check, b.shop.ID, id)
			after, _ := b.svc.GetPromotion(b.seller, p.ID)
			if tt.want == "" {
				if err != nil || len(rs) != 1 || rs[0].State != promokit.RedemptionRolledBack || after.Uses != before.Uses-1 {
					t.Errorf("%s: rollback %+v %v, uses %d then %d", tt.name, rs, err, before.Uses, after.Uses)
				}
				continue
			}
			if promokit.ErrorCode(err) != tt.want || after.Uses != before.Uses || after.DiscountSpent != before.DiscountSpent {
				t.Errorf("%s: rollback %v (want %s), uses %d then %d", tt.name, err, tt.want, before.Uses, after.Uses)
			}
			// The redemption stays redeemed: a replayed redeem says so.
			again, err := b.svc.Redeem(b.check, order(b, id, "", codes[i]))
			if err != nil || !again.Replayed || again.Redemptions[0].State != promokit.RedemptionRedeemed {
				t.Errorf("%s: redemption after the refusal: %+v %v", tt.name, again, err)
			}
		}
	})
}

// placeAndApply reports order id of the shop placed (one $100 mug), then
// each event of events in turn.
func placeAndApply(t *testing.T, b *bundle, id string, events []string) {
	t.Helper()
	placed := engine.OrderEventInput{ID: id + "-placed", Type: promokit.EventPlaced, Currency: "USD",
		Lines: []engine.OrderLineInput{{ProductID: "mug", Quantity: 1, Amount: 8500}}}
	if _, err := b.svc.ApplyOrderEvent(b.check, b.shop.ID, id, placed); err != nil {
		t.Fatalf("placed %s: %v", id, err)
	}
	for _, typ := range events {
		in := engine.OrderEventInput{ID: id + "-" + typ, Type: typ}
		if typ == promokit.EventRefunded {
			in.Refund = &engine.RefundInput{Lines: []engine.RefundLine{{Line: 0, Amount: 1000}}}
		}
		if _, err := b.svc.ApplyOrderEvent(b.check, b.shop.ID, id, in); err != nil {
			t.Fatalf("%s %s: %v", typ, id, err)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		in := percentInput()
		in.TotalUses = set(int64(1))
		in.ProductIDs = &[]string{"mug"}
		_, codes := racePromotion(t, b, in, 1)
		v := func(codes ...string) *promokit.PricedCart {
			t.Helper()
			req := order(b, "", "a@example.com", codes...)
			req.Cart.Lines = append(req.Cart.Lines, promokit.Line{ProductID: "tshirt", Quantity: 3, UnitPrice: 999})
			pc, err := b.svc.Validate(b.check, engine.ValidateInput{Cart: req.Cart, Customer: req.Customer, Codes: req.Codes})
			if err != nil {
				t.Fatal(err)
			}
			return pc
		}
		pc := v(codes[0], "nope-nope")
		if pc.Discount != 1500 || pc.Lines[0].Discount != 1500 || pc.Lines[1].Discount != 0 || pc.Subtotal != 10000+2997 ||
			len(pc.Rejected) != 1 || pc.Rejected[0].Reason != promokit.ReasonNotFound {
			t.Fatalf("validate: %+v", pc)
		}
		if _, err := b.svc.Redeem(b.check, order(b, "ord-1", "", codes[0])); err != nil {
			t.Fatal(err)
		}
		pc = v(codes[0])
		if r := pc.Rejected; len(r) != 1 || r[0].Reason != promokit.ReasonLimitReached || *r[0].Limit != 1 || *r[0].Used != 1 || *r[0].Remaining != 0 {
			t.Fatalf("after the last use: %+v", pc.Rejected)
		}
		other := as(promokit.Principal{KeyID: "k", Role: promokit.RoleCheckout, StoreID: b.other.ID})
		_, err := b.svc.Validate(other, engine.ValidateInput{Cart: order(b, "", "", codes[0]).Cart, Codes: codes})
		wantCode(t, err, promokit.ENotFound)
		_, err = b.svc.Validate(b.check, engine.ValidateInput{Cart: promokit.Cart{StoreID: b.shop.ID, Currency: "EUR"}})
		wantCode(t, err, promokit.EInvalid)
	})
}

// A code restricted to one customer applies to that customer only, known
// by the marketplace's id.
func TestRedeemRestrictedCode(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		p := mustCreatePromotion(t, b.seller, b, engine.PromotionInput{Name: ptr("VIP"), Type: ptr(promokit.PercentOff),
			PercentOff: ptr(promokit.BasisPoints(2000)), StartsAt: ptr(jan1)})
		if _, err := b.svc.CreateCode(b.seller, p.ID, engine.CodeInput{Code: "VIP-42", CustomerID: ptr("cus_42")}); err != nil {
			t.Fatal(err)
		}
		in := order(b, "ord-1", "", "VIP-42")
		in.Customer = promokit.Identity{CustomerID: "cus_7"}
		_, err := b.svc.Redeem(b.check, in)
		if e := wantCode(t, err, engine.RedemptionRefused); e.Fields[0].Code != promokit.ReasonWrongCustomer {
			t.Fatalf("another customer: %+v", e.Fields)
		}
		in.Customer = promokit.Identity{CustomerID: "cus_42"}
		if _, err := b.svc.Redeem(b.check, in); err != nil {
			t.Fatalf("the customer it is for: %v", err)
		}
	})
}

// TestReserve: a held use counts against the limit; release and expiry
// give it back; redeem commits a hold without taking the use twice.
func TestReserve(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		in := percentInput()
		in.TotalUses = set(int64(1))
		p, codes := racePromotion(t, b, in, 2)
		uses := func() int64 {
			t.Helper()
			got, err := b.svc.GetPromotion(b.seller, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.Uses
		}
		res, err := b.svc.Reserve(b.check, order(b, "ord-1", "", codes[0]), 0)
		if err != nil || res.Redemptions[0].State != promokit.RedemptionHeld || res.Redemptions[0].HoldUntil == nil {
			t.Fatalf("reserve: %+v %v", res, err)
		}
		// The hold counts: the last use is taken.
		_, err = b.svc.Reserve(b.check, order(b, "ord-2", "", codes[1]), 0)
		if e := wantCode(t, err, engine.RedemptionRefused); e.Fields[0].Code != promokit.ReasonLimitReached {
			t.Fatalf("second hold: %+v", e.Fields)
		}
		// A declined payment: release gives the use back, once.
		for i := 0; i < 2; i++ {
			if _, err := b.svc.Release(b.check, b.shop.ID, "ord-1"); err != nil {
				t.Fatal(err)
			}
		}
		if n := uses(); n != 0 {
			t.Fatalf("after release: %d uses", n)
		}
		// The buyer pays again with the same order: held again, then redeemed.
		if _, err := b.svc.Reserve(b.check, order(b, "ord-1", "", codes[0]), time.Minute); err != nil {
			t.Fatalf("reserve again: %v", err)
		}
		red, err := b.svc.Redeem(b.check, order(b, "ord-1", "", codes[0]))
		if err != nil || red.Redemptions[0].State != promokit.RedemptionRedeemed || uses() != 1 {
			t.Fatalf("redeem the hold: %+v %v, %d uses", red, err, uses())
		}
		if _, err := b.svc.Release(b.check, b.shop.ID, "ord-1"); err != nil || uses() != 1 {
			t.Fatalf("release must not touch a redeemed order: %v, %d uses", err, uses())
		}
		// An abandoned hold expires with the clock.
		if _, err := b.svc.Rollback(b.check, b.shop.ID, "ord-1"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.Reserve(b.check, order(b, "ord-3", "", codes[1]), time.Minute); err != nil {
			t.Fatal(err)
		}
		if n, err := b.svc.ExpireHolds(context.Background(), 100); err != nil || n != 0 {
			t.Fatalf("nothing has expired yet: %d %v", n, err)
		}
		b.clock.Add(time.Minute)
		if n, err := b.svc.ExpireHolds(context.Background(), 100); err != nil || n != 1 || uses() != 0 {
			t.Fatalf("expiry: %d %v, %d uses", n, err, uses())
		}
		_, err = b.svc.Reserve(b.check, order(b, "ord-4", "", codes[1]), 48*time.Hour)
		wantCode(t, err, promokit.EInvalid)
	})
}

// TestCheckCounters: after races, rollbacks and expiries the counters
// equal the rows; a counter changed behind the rows' back is reported.
func TestCheckCounters(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		in := percentInput()
		in.PerCustomer = set(int64(10))
		p, codes := racePromotion(t, b, in, 5)
		race(t, b, 60, func(i int) engine.RedeemInput {
			return order(b, fmt.Sprintf("ord-%03d", i), fmt.Sprintf("b%d@example.com", i%7), codes[i%5])
		}, promokit.ReasonLimitReached)
		if _, err := b.svc.Rollback(b.check, b.shop.ID, "ord-001"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.Reserve(b.check, order(b, "ord-held", "z@example.com", codes[0]), time.Minute); err != nil {
			t.Fatal(err)
		}
		diffs, err := b.store.UsageCheck(context.Background())
		if err != nil || len(diffs) != 0 {
			t.Fatalf("counters differ from rows: %+v %v", diffs, err)
		}
		if err := b.store.Write(context.Background(), func(tx storage.Tx) error {
			_, err := tx.UsageCodeAdd(context.Background(), codes[2], 1)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		diffs, err = b.store.UsageCheck(context.Background())
		if err != nil || len(diffs) != 1 || diffs[0].Kind != "code_uses" || diffs[0].Subject != codes[2] || diffs[0].Stored != diffs[0].FromRows+1 {
			t.Fatalf("a tampered counter: %+v %v", diffs, err)
		}
		got, _ := b.svc.GetPromotion(b.seller, p.ID)
		if got.Uses != 60 {
			t.Fatalf("uses %d", got.Uses)
		}
	})
}

// A store's stacking rule caps how many promotions an order combines.
func TestStackingLimit(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		for i, in := range []engine.PromotionInput{percentInput(), {Name: ptr("Two off"), Type: ptr(promokit.AmountOff), AmountOff: ptr(int64(200))}} {
			in.StartsAt = ptr(jan1)
			p := mustCreatePromotion(t, b.seller, b, in)
			if _, err := b.svc.CreateCode(b.seller, p.ID, engine.CodeInput{Code: fmt.Sprintf("STACK-%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		one := int64(1)
		_, err := b.svc.UpdateStore(b.seller, b.shop.ID, engine.StoreInput{MaxPromotionsPerOrder: &one})
		wantCode(t, err, promokit.EForbidden)
		if _, err := b.svc.UpdateStore(b.admin, b.shop.ID, engine.StoreInput{MaxPromotionsPerOrder: &one}); err != nil {
			t.Fatal(err)
		}
		req := order(b, "", "", "STACK-0", "STACK-1")
		pc, err := b.svc.Validate(b.check, engine.ValidateInput{Cart: req.Cart, Codes: req.Codes})
		if err != nil || len(pc.Applied) != 1 || pc.Applied[0].Code != "STACK-0" || pc.Rejected[0].Reason != promokit.ReasonStackingLimit {
			t.Fatalf("stacking limit 1: %+v %v", pc, err)
		}
		_, err = b.svc.Redeem(b.check, order(b, "ord-1", "", "STACK-0", "STACK-1"))
		if e := wantCode(t, err, engine.RedemptionRefused); e.Fields[0].Code != promokit.ReasonStackingLimit {
			t.Fatalf("redeem over the stacking limit: %+v", e.Fields)
		}
		bad := int64(101)
		_, err = b.svc.UpdateStore(b.admin, b.shop.ID, engine.StoreInput{MaxPromotionsPerOrder: &bad})
		wantCode(t, err, promokit.EInvalid)
	})
}

// TestGiveBackLockOrder: rollbacks and releases give uses back in the lock
// order every redeem batch takes them (promokit.Counter), not in the order
// of the order's redemptions. The promotion with the greater id applies
// first, so its redemption comes first: given back one by one, a rollback
// would lock it before the other while a batch holds the other and waits
// for it, and PostgreSQL would fail one of them with a deadlock.
func TestGiveBackLockOrder(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		var ps [2]*promokit.Promotion
		for i := range ps {
			in := percentInput()
			in.TotalUses, in.PerCustomer = set(int64(1_000_000)), set(int64(1_000_000))
			ps[i] = mustCreatePromotion(t, b.seller, b, in)
		}
		if ps[0].ID > ps[1].ID {
			ps[0], ps[1] = ps[1], ps[0]
		}
		// The greater id applies first; its code sorts last.
		if _, err := b.svc.EditPromotion(b.seller, ps[1].ID, ps[1].Version, engine.PromotionInput{Priority: ptr(int64(10))}); err != nil {
			t.Fatal(err)
		}
		for i, p := range ps {
			if _, err := b.svc.CreateCode(b.seller, p.ID, engine.CodeInput{Code: fmt.Sprintf("LOCK-%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		b.clock.Set(jan1.Add(48 * time.Hour)) // both have started
		const workers, rounds = 8, 25
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < rounds; i++ {
					id := fmt.Sprintf("ord-%d-%d", w, i)
					res, err := b.svc.Redeem(b.check, order(b, id, "buyer@example.com", "LOCK-0", "LOCK-1"))
					if err != nil {
						t.Errorf("redeem %s: %v", id, err)
						return
					}
					if len(res.Redemptions) != 2 || res.Redemptions[0].PromotionID != ps[1].ID {
						t.Errorf("redeem %s: %+v, want the promotion with the greater id first", id, res.Redemptions)
						return
					}
					if _, err := b.svc.Rollback(b.check, b.shop.ID, id); err != nil {
						t.Errorf("rollback %s: %v", id, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		for _, p := range ps {
			if got, _ := b.svc.GetPromotion(b.seller, p.ID); got.Uses != 0 || got.DiscountSpent != 0 {
				t.Errorf("promotion %s: %d uses, %d spent after every order rolled back", p.ID, got.Uses, got.DiscountSpent)
			}
		}
		checkCounters(t, b.store)
	})
}
