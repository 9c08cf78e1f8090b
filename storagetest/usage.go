package storagetest

import (
	"sync"
	"testing"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
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

	add := func(fn func(tx storage.Tx) (bool, error)) bool {
		t.Helper()
		var ok bool
		b.write(t, func(tx storage.Tx) (err error) {
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
			ok := add(func(tx storage.Tx) (bool, error) { return tx.UsagePromotionAdd(b.ctx, "prm_1", 1, 100) })
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
	if !add(func(tx storage.Tx) (bool, error) { return tx.UsagePromotionAdd(b.ctx, "prm_1", -1, -100) }) {
		t.Fatal("giving a use back must always apply")
	}
	if add(func(tx storage.Tx) (bool, error) { return tx.UsagePromotionAdd(b.ctx, "prm_1", 1, 101) }) {
		t.Fatal("a discount past the budget was taken")
	}
	for i, want := range []bool{true, true, true, false} {
		if ok := add(func(tx storage.Tx) (bool, error) { return tx.UsageCodeAdd(b.ctx, "CODE-1", 1) }); ok != want {
			t.Fatalf("code use %d: %v, want %v", i+1, ok, want)
		}
	}
	limit := ptr(int64(2))
	for i, want := range []bool{true, true, false} {
		if ok := add(func(tx storage.Tx) (bool, error) {
			return tx.UsageCustomerAdd(b.ctx, storage.CustomerUse{UsageKey: storage.UsageKey{Subject: "prm_1", CustomerKey: "e:x"}, Uses: 1, Limit: limit})
		}); ok != want {
			t.Fatalf("customer use %d: %v, want %v", i+1, ok, want)
		}
	}
	if add(func(tx storage.Tx) (bool, error) {
		return tx.UsageCustomerAdd(b.ctx, storage.CustomerUse{UsageKey: storage.UsageKey{Subject: "prm_1", CustomerKey: "e:y"}, Uses: 3, Limit: limit})
	}) {
		t.Fatal("a first use past the limit was taken")
	}
	add(func(tx storage.Tx) (bool, error) {
		return tx.UsageCustomerAdd(b.ctx, storage.CustomerUse{UsageKey: storage.UsageKey{Subject: "prm_1", CustomerKey: "e:x"}, Uses: -1, Limit: nil})
	})
	var n, none int64
	b.read(t, func(tx storage.Tx) (err error) {
		if n, err = tx.UsageCustomerGet(b.ctx, "prm_1", "e:x"); err != nil {
			return err
		}
		none, err = tx.UsageCustomerGet(b.ctx, "prm_1", "e:nobody")
		return err
	})
	if n != 1 || none != 0 {
		t.Fatalf("customer usage %d and %d, want 1 and 0", n, none)
	}
}
