package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// testUsage checks the conditional counters: within limits they add, at a
// limit they refuse, concurrent writers never pass a limit, and negative
// amounts always give back.
func testUsage(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	p := newPromotion(b, "sto_1", "prm_1")
	p.TotalUses, p.TotalDiscount = ptr(int64(10)), ptr(int64(1000))
	mustCreatePromotions(t, b, p)
	c := newCode(p, "CODE-1", b.now)
	c.UsageLimit = ptr(int64(3))
	mustCreateCodes(t, b, c)

	add := func(fn func(tx engine.Tx) (bool, error)) bool {
		t.Helper()
		var ok bool
		b.write(t, func(tx engine.Tx) (err error) {
			ok, err = fn(tx)
			return err
		})
		return ok
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	taken := 0
	for i := 0; i < 25; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok := add(func(tx engine.Tx) (bool, error) { return tx.AddPromotionUsage(b.ctx, "prm_1", 1, 100) })
			mu.Lock()
			defer mu.Unlock()
			if ok {
				taken++
			}
		}()
	}
	wg.Wait()
	got := mustGetPromotion(t, b, promokit.Scope{}, "prm_1")
	if taken != 10 || got.Uses != 10 || got.DiscountSpent != 1000 {
		t.Fatalf("25 concurrent takes of a 10-use promotion: %d taken, stored %d uses %d spent", taken, got.Uses, got.DiscountSpent)
	}
	if !add(func(tx engine.Tx) (bool, error) { return tx.AddPromotionUsage(b.ctx, "prm_1", -1, -100) }) {
		t.Fatal("giving a use back must always apply")
	}
	if add(func(tx engine.Tx) (bool, error) { return tx.AddPromotionUsage(b.ctx, "prm_1", 1, 101) }) {
		t.Fatal("a discount past the budget was taken")
	}
	for i, want := range []bool{true, true, true, false} {
		if ok := add(func(tx engine.Tx) (bool, error) { return tx.AddCodeUsage(b.ctx, "CODE-1", 1) }); ok != want {
			t.Fatalf("code use %d: %v, want %v", i+1, ok, want)
		}
	}
	limit := ptr(int64(2))
	for i, want := range []bool{true, true, false} {
		if ok := add(func(tx engine.Tx) (bool, error) { return tx.AddCustomerUsage(b.ctx, "prm_1", "e:x", 1, limit) }); ok != want {
			t.Fatalf("customer use %d: %v, want %v", i+1, ok, want)
		}
	}
	if add(func(tx engine.Tx) (bool, error) { return tx.AddCustomerUsage(b.ctx, "prm_1", "e:y", 3, limit) }) {
		t.Fatal("a first use past the limit was taken")
	}
	add(func(tx engine.Tx) (bool, error) { return tx.AddCustomerUsage(b.ctx, "prm_1", "e:x", -1, nil) })
	var n, none int64
	b.read(t, func(tx engine.Tx) (err error) {
		if n, err = tx.CustomerUsage(b.ctx, "prm_1", "e:x"); err != nil {
			return err
		}
		none, err = tx.CustomerUsage(b.ctx, "prm_1", "e:nobody")
		return err
	})
	if n != 1 || none != 0 {
		t.Fatalf("customer usage %d and %d, want 1 and 0", n, none)
	}
}

// testRedemptions checks the round trip of redemptions, the one-code-per-
// order key and state moves.
func testRedemptions(t *testing.T, b *bundle) {
	hold := b.at(15 * time.Minute)
	r := &promokit.Redemption{StoreID: "sto_1", OrderID: "ord-1", Code: "A-1", PromotionID: "prm_1", CustomerKey: "c:cus_1",
		Discount: 250, State: promokit.RedemptionHeld, RequestHash: []byte{1, 2, 3}, HoldUntil: &hold, CreatedAt: b.now, UpdatedAt: b.now}
	r2 := &promokit.Redemption{StoreID: "sto_1", OrderID: "ord-1", Code: "B-1", PromotionID: "prm_2",
		Discount: 100, State: promokit.RedemptionRedeemed, RequestHash: []byte{1, 2, 3}, CreatedAt: b.now, UpdatedAt: b.now}
	b.write(t, func(tx engine.Tx) error {
		if err := tx.CreateRedemption(b.ctx, r); err != nil {
			return err
		}
		return tx.CreateRedemption(b.ctx, r2)
	})
	err := b.writeErr(func(tx engine.Tx) error {
		dup := *r
		return tx.CreateRedemption(b.ctx, &dup)
	})
	wantCode(t, "a second redemption of a code by one order", err, promokit.EConflict)
	var moved, stale bool
	b.write(t, func(tx engine.Tx) (err error) {
		if moved, err = tx.SetRedemptionState(b.ctx, r.ID, promokit.RedemptionHeld, promokit.RedemptionRedeemed, nil, b.at(time.Minute)); err != nil {
			return err
		}
		stale, err = tx.SetRedemptionState(b.ctx, r.ID, promokit.RedemptionHeld, promokit.RedemptionReleased, nil, b.at(time.Minute))
		return err
	})
	if !moved || stale {
		t.Fatalf("state moves: %v %v", moved, stale)
	}
	var got []*promokit.Redemption
	b.read(t, func(tx engine.Tx) (err error) {
		got, err = tx.OrderRedemptions(b.ctx, "sto_1", "ord-1")
		return err
	})
	r.State, r.UpdatedAt, r.HoldUntil = promokit.RedemptionRedeemed, b.at(time.Minute), nil
	wantEqual(t, "redemptions", []*promokit.Redemption{r, r2}, got)
	// Holds that have ended, oldest first.
	h1 := &promokit.Redemption{StoreID: "sto_1", OrderID: "ord-2", Code: "A-1", PromotionID: "prm_1", Discount: 1, State: promokit.RedemptionHeld,
		RequestHash: []byte{9}, HoldUntil: ptr(b.at(2 * time.Minute)), CreatedAt: b.now, UpdatedAt: b.now}
	h2 := &promokit.Redemption{StoreID: "sto_1", OrderID: "ord-3", Code: "A-1", PromotionID: "prm_1", Discount: 1, State: promokit.RedemptionHeld,
		RequestHash: []byte{9}, HoldUntil: ptr(b.at(time.Minute)), CreatedAt: b.now, UpdatedAt: b.now}
	live := &promokit.Redemption{StoreID: "sto_1", OrderID: "ord-4", Code: "A-1", PromotionID: "prm_1", Discount: 1, State: promokit.RedemptionHeld,
		RequestHash: []byte{9}, HoldUntil: ptr(b.at(time.Hour)), CreatedAt: b.now, UpdatedAt: b.now}
	b.write(t, func(tx engine.Tx) error {
		for _, h := range []*promokit.Redemption{h1, h2, live} {
			if err := tx.CreateRedemption(b.ctx, h); err != nil {
				return err
			}
		}
		return nil
	})
	b.read(t, func(tx engine.Tx) (err error) {
		got, err = tx.ExpiredHolds(b.ctx, b.at(2*time.Minute), 10)
		return err
	})
	wantEqual(t, "expired holds", []*promokit.Redemption{h2, h1}, got)
	b.read(t, func(tx engine.Tx) (err error) {
		got, err = tx.OrderRedemptions(b.ctx, "sto_2", "ord-1")
		return err
	})
	if len(got) != 0 {
		t.Fatalf("another store's order: %+v", got)
	}
}
