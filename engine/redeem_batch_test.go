package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// batchService returns a service on b's database whose batch metrics can
// be read, to tell which path a batch took.
func batchService(b *bundle) (*engine.Service, *prometheus.Registry) {
	reg := prometheus.NewRegistry()
	return engine.New(engine.Config{DB: b.store, Clock: b.clock, Metrics: engine.NewMetrics(reg)}), reg
}

// batches returns how many batch transactions took path with result.
func batches(t *testing.T, reg *prometheus.Registry, path, result string) int {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "promokit_redeem_batches_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["path"] == path && labels["result"] == result {
				return int(m.GetCounter().GetValue())
			}
		}
	}
	return 0
}

func checkCounters(t *testing.T, st storage.DB) {
	t.Helper()
	diffs, err := st.UsageCheck(context.Background())
	if err != nil || len(diffs) > 0 {
		t.Fatalf("counters differ from rows: %+v %v", diffs, err)
	}
}

// TestRedeemBatchTogether: orders that fit every limit are written in one
// transaction that takes each counter once; an order refused by its cart
// is answered apart and writes nothing.
func TestRedeemBatchTogether(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		svc, reg := batchService(b)
		p, codes := racePromotion(t, b, percentInput(), 3)
		ins := []engine.RedeemInput{
			order(b, "o1", "a@example.com", codes[0]),
			order(b, "o2", "b@example.com", codes[0]),
			order(b, "o3", "", codes[1]),
			order(b, "o4", "c@example.com", "NO-SUCH-CODE"),
			order(b, "o5", "d@example.com", codes[2]),
		}
		res, errs := svc.RedeemBatch(b.check, ins, make([]time.Duration, len(ins)))
		for i, err := range errs {
			if i == 3 {
				if e := wantCode(t, err, engine.RedemptionRefused); e.Fields[0].Code != promokit.ReasonNotFound {
					t.Fatalf("o4: %+v", e.Fields)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", ins[i].OrderID, err)
			}
			if len(res[i].Redemptions) != 1 || res[i].Redemptions[0].ID == 0 || res[i].Redemptions[0].Discount != 1500 || res[i].Priced.Discount != 1500 {
				t.Fatalf("%s: %+v", ins[i].OrderID, res[i])
			}
		}
		if got := batches(t, reg, "together", "ok"); got != 1 {
			t.Fatalf("%d batches written together, want 1", got)
		}
		got, _ := b.svc.GetPromotion(b.seller, p.ID)
		if got.Uses != 4 || got.DiscountSpent != 4*1500 {
			t.Fatalf("stored uses %d, discount %d", got.Uses, got.DiscountSpent)
		}
		if c, _ := b.svc.GetCode(b.seller, codes[0]); c.Uses != 2 {
			t.Fatalf("code %s used %d times, want 2", codes[0], c.Uses)
		}
		checkCounters(t, b.store)
	})
}

// TestRedeemBatchOverLimit: a batch that would pass a limit as a whole is
// written in halves: exactly the orders that fit succeed, in queue order,
// and the rest are refused with the limit. Promotion uses, spend
// budget, a code's limit and a customer's limit each stop a batch.
func TestRedeemBatchOverLimit(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		for _, tc := range []struct {
			name   string
			in     func() engine.PromotionInput
			code   engine.CodeInput
			email  func(i int) string
			ok     int
			reason string
		}{
			{"promotion uses", func() engine.PromotionInput {
				in := percentInput()
				in.TotalUses = set(int64(3))
				return in
			}, engine.CodeInput{}, func(i int) string { return fmt.Sprintf("b%d@example.com", i) }, 3, promokit.ReasonLimitReached},
			{"spend budget", func() engine.PromotionInput {
				return engine.PromotionInput{Name: ptr("Five off"), Type: ptr(promokit.AmountOff), AmountOff: ptr(int64(500)), TotalDiscount: set(int64(1000))}
			}, engine.CodeInput{}, func(int) string { return "" }, 2, promokit.ReasonBudgetExhausted},
			{"code uses", percentInput, engine.CodeInput{UsageLimit: set(int64(4))},
				func(i int) string { return fmt.Sprintf("b%d@example.com", i) }, 4, promokit.ReasonLimitReached},
			{"customer uses", func() engine.PromotionInput {
				in := percentInput()
				in.PerCustomer = set(int64(2))
				return in
			}, engine.CodeInput{}, func(i int) string { return "Same.Buyer+" + fmt.Sprint(i) + "@example.com" }, 2, promokit.ReasonCustomerLimit},
		} {
			t.Run(tc.name, func(t *testing.T) {
				b := setup(t, open)
				svc, reg := batchService(b)
				in := tc.in()
				in.StartsAt = ptr(jan1)
				p := mustCreatePromotion(t, b.seller, b, in)
				tc.code.Code = "BATCH"
				if _, err := b.svc.CreateCode(b.seller, p.ID, tc.code); err != nil {
					t.Fatal(err)
				}
				ins := make([]engine.RedeemInput, 8)
				for i := range ins {
					ins[i] = order(b, fmt.Sprintf("o%d", i), tc.email(i), "BATCH")
				}
				_, errs := svc.RedeemBatch(b.check, ins, make([]time.Duration, len(ins)))
				for i, err := range errs {
					if i < tc.ok {
						if err != nil {
							t.Fatalf("order %d: %v", i, err)
						}
						continue
					}
					if e := wantCode(t, err, engine.RedemptionRefused); e.Fields[0].Code != tc.reason || e.Limit == nil {
						t.Fatalf("order %d: %+v limit %v", i, e.Fields, e.Limit)
					}
				}
				if got := batches(t, reg, "together", "over_limit"); got < 1 {
					t.Fatalf("%d batches over the limit, want the whole batch at least", got)
				}
				got, _ := b.svc.GetPromotion(b.seller, p.ID)
				if got.Uses != int64(tc.ok) {
					t.Fatalf("stored uses %d, want %d", got.Uses, tc.ok)
				}
				checkCounters(t, b.store)
			})
		}
	})
}

// TestRedeemBatchSentBefore: in one batch, a retry of an order is replayed,
// the same order id with another cart is a conflict, a reserved order is
// redeemed without taking its uses again, and an order listed twice is
// written once.
func TestRedeemBatchSentBefore(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		svc, _ := batchService(b)
		p, codes := racePromotion(t, b, percentInput(), 2)
		done, err := b.svc.Redeem(b.check, order(b, "done", "a@example.com", codes[0]))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.Reserve(b.check, order(b, "held", "b@example.com", codes[1]), time.Minute); err != nil {
			t.Fatal(err)
		}
		other := order(b, "done", "a@example.com", codes[0])
		other.Cart.Lines[0].Quantity = 2
		ins := []engine.RedeemInput{
			order(b, "done", "a@example.com", codes[0]),
			other,
			order(b, "held", "b@example.com", codes[1]),
			order(b, "twice", "c@example.com", codes[1]),
			order(b, "twice", "c@example.com", codes[1]),
		}
		res, errs := svc.RedeemBatch(b.check, ins, make([]time.Duration, len(ins)))
		if errs[0] != nil || !res[0].Replayed || res[0].Redemptions[0].ID != done.Redemptions[0].ID {
			t.Fatalf("retry: %+v %v", res[0], errs[0])
		}
		wantCode(t, errs[1], promokit.EConflict)
		if errs[2] != nil || res[2].Redemptions[0].State != promokit.RedemptionRedeemed {
			t.Fatalf("reserved order: %+v %v", res[2], errs[2])
		}
		if errs[3] != nil || res[3].Replayed || errs[4] != nil || !res[4].Replayed ||
			res[3].Redemptions[0].ID != res[4].Redemptions[0].ID || !bytes.Equal(res[3].Redemptions[0].RequestHash, res[4].Redemptions[0].RequestHash) {
			t.Fatalf("order listed twice: %+v %v / %+v %v", res[3], errs[3], res[4], errs[4])
		}
		got, _ := b.svc.GetPromotion(b.seller, p.ID)
		if got.Uses != 3 {
			t.Fatalf("stored uses %d, want 3", got.Uses)
		}
		checkCounters(t, b.store)
	})
}

// TestRedeemBatchReserve: reservations and redemptions share a batch; the
// held uses count against the limit, and the reservation expires.
func TestRedeemBatchReserve(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		svc, _ := batchService(b)
		in := percentInput()
		in.TotalUses = set(int64(2))
		p, codes := racePromotion(t, b, in, 1)
		ins := []engine.RedeemInput{
			order(b, "r1", "a@example.com", codes[0]),
			order(b, "r2", "b@example.com", codes[0]),
			order(b, "r3", "c@example.com", codes[0]),
		}
		res, errs := svc.RedeemBatch(b.check, ins, []time.Duration{time.Minute, 0, 0})
		if errs[0] != nil || res[0].Redemptions[0].State != promokit.RedemptionHeld || res[0].Redemptions[0].HoldUntil == nil {
			t.Fatalf("reserve: %+v %v", res[0], errs[0])
		}
		if errs[1] != nil || res[1].Redemptions[0].State != promokit.RedemptionRedeemed {
			t.Fatalf("redeem: %+v %v", res[1], errs[1])
		}
		wantCode(t, errs[2], engine.RedemptionRefused)
		b.clock.Add(2 * time.Minute)
		if n, err := b.svc.ExpireHolds(context.Background(), 10); err != nil || n != 1 {
			t.Fatalf("expired %d holds: %v", n, err)
		}
		if got, _ := b.svc.GetPromotion(b.seller, p.ID); got.Uses != 1 {
			t.Fatalf("stored uses %d after the hold expired, want 1", got.Uses)
		}
		checkCounters(t, b.store)
	})
}

// histogram returns the count and sum of the histogram name.
func histogram(t *testing.T, reg *prometheus.Registry, name string) (uint64, float64) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			h := mf.GetMetric()[0].GetHistogram()
			return h.GetSampleCount(), h.GetSampleSum()
		}
	}
	t.Fatalf("no histogram %s", name)
	return 0, 0
}

// TestValidateConcurrent: carts of two stores validated at once share their
// reads, yet each sees only its own store's codes and its own customer's
// counters; a store that does not exist is not found. The metrics count
// every cart once, in batches of one or more.
func TestValidateConcurrent(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		svc, reg := batchService(b)
		in := percentInput()
		in.PerCustomer = set(int64(1))
		_, codes := racePromotion(t, b, in, 1)
		in = percentInput()
		in.StoreID, in.StartsAt = b.other.ID, ptr(jan1)
		op, err := b.svc.CreatePromotion(b.admin, in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.CreateCode(b.admin, op.ID, engine.CodeInput{Code: "OTHER-1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.Redeem(b.check, order(b, "used", "used@example.com", codes[0])); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range 60 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				email := fmt.Sprintf("b%d@example.com", i)
				if i%3 == 0 {
					email = "used@example.com"
				}
				store, own, foreign := b.shop.ID, codes[0], "OTHER-1"
				if i%2 == 1 {
					store, own, foreign = b.other.ID, "OTHER-1", codes[0]
				}
				cart := order(b, "", email).Cart
				cart.StoreID = store
				pc, err := svc.Validate(b.admin, engine.ValidateInput{Cart: cart, Customer: promokit.Identity{Email: email}, Codes: []string{own, foreign}})
				if err != nil {
					t.Errorf("validate %d: %v", i, err)
					return
				}
				if len(pc.Rejected) == 0 || pc.Rejected[0].Code != foreign || pc.Rejected[0].Reason != promokit.ReasonNotFound {
					t.Errorf("validate %d: the other store's code: %+v", i, pc.Rejected)
				}
				usedUp := i%3 == 0 && store == b.shop.ID
				if applied := len(pc.Applied) == 1 && pc.Applied[0].Code == own; applied == usedUp {
					t.Errorf("validate %d (customer used the promotion: %v): applied %+v rejected %+v", i, usedUp, pc.Applied, pc.Rejected)
				}
			}()
		}
		wg.Wait()
		cart := order(b, "", "").Cart
		cart.StoreID = "sto_none"
		_, err = svc.Validate(b.admin, engine.ValidateInput{Cart: cart, Codes: codes})
		wantCode(t, err, promokit.ENotFound)
		batches, carts := histogram(t, reg, "promokit_cart_read_batch_carts")
		reads, _ := histogram(t, reg, "promokit_cart_read_batch_seconds")
		if carts != 61 || batches < 2 || batches > 61 || reads != batches {
			t.Errorf("cart reads: %v carts in %d batches (%d timed), want 61 in 2 to 61", carts, batches, reads)
		}
	})
}

// TestCustomerCountersOnlyWithLimits: a customer's counter is kept for a
// promotion or code with a per-customer limit only, and given back on
// rollback; the check compares exactly those.
func TestCustomerCountersOnlyWithLimits(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		free, freeCodes := racePromotion(t, b, percentInput(), 1)
		in := percentInput()
		in.PerCustomer = set(int64(3))
		limited := mustCreatePromotion(t, b.seller, b, in)
		if _, err := b.svc.CreateCode(b.seller, limited.ID, engine.CodeInput{Code: "LIMITED", PerCustomerLimit: set(int64(2))}); err != nil {
			t.Fatal(err)
		}
		b.clock.Set(jan1.Add(48 * time.Hour))
		for i, code := range []string{freeCodes[0], "LIMITED", "LIMITED"} {
			if _, err := b.svc.Redeem(b.check, order(b, fmt.Sprint("o", i), "ann@example.com", code)); err != nil {
				t.Fatal(err)
			}
		}
		key, _ := promokit.Identity{Email: "ann@example.com"}.Key()
		usage := func(subject string) int64 {
			var n int64
			if err := b.store.Read(context.Background(), func(tx storage.Tx) (err error) {
				n, err = tx.UsageCustomerGet(context.Background(), subject, key)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if a, c, l, lc := usage(free.ID), usage("code:"+freeCodes[0]), usage(limited.ID), usage("code:LIMITED"); a != 0 || c != 0 || l != 2 || lc != 2 {
			t.Fatalf("customer counters: free %d/%d, limited %d/%d; want 0/0 and 2/2", a, c, l, lc)
		}
		_, err := b.svc.Redeem(b.check, order(b, "o3", "ann@example.com", "LIMITED"))
		if e := wantCode(t, err, engine.RedemptionRefused); e.Fields[0].Code != promokit.ReasonCustomerLimit || e.Rule != "C3" {
			t.Fatalf("third use of the code: %+v", e)
		}
		for _, id := range []string{"o0", "o1"} {
			if _, err := b.svc.Rollback(b.check, b.shop.ID, id); err != nil {
				t.Fatal(err)
			}
		}
		if l, lc := usage(limited.ID), usage("code:LIMITED"); l != 1 || lc != 1 {
			t.Fatalf("after rollback: limited %d/%d, want 1/1", l, lc)
		}
		checkCounters(t, b.store)
		// A tampered counter of a limited promotion is found.
		if err := b.store.Write(context.Background(), func(tx storage.Tx) error {
			_, err := tx.UsageCustomerAdd(context.Background(), storage.CustomerUse{UsageKey: storage.UsageKey{Subject: limited.ID, CustomerKey: key}, Uses: 1, Limit: nil})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		diffs, err := b.store.UsageCheck(context.Background())
		if err != nil || len(diffs) != 1 || diffs[0].Kind != "customer_uses" || diffs[0].Stored != 2 || diffs[0].FromRows != 1 {
			t.Fatalf("a tampered customer counter: %+v %v", diffs, err)
		}
	})
}

// TestRedeemEach: written order by order, orders over two promotions take
// exactly what fits, in order, and each refusal names its limit.
func TestRedeemEach(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		in := percentInput()
		in.TotalUses = set(int64(2))
		p1, c1 := racePromotion(t, b, in, 1)
		in = percentInput()
		in.Name, in.StartsAt, in.TotalUses = ptr("Other"), ptr(jan1), set(int64(1))
		p2 := mustCreatePromotion(t, b.seller, b, in)
		if _, err := b.svc.CreateCode(b.seller, p2.ID, engine.CodeInput{Code: "OTHER-1"}); err != nil {
			t.Fatal(err)
		}
		ins := []engine.RedeemInput{
			order(b, "e1", "", c1[0], "OTHER-1"),
			order(b, "e2", "", c1[0], "OTHER-1"),
			order(b, "e3", "", c1[0]),
			order(b, "e4", "", c1[0]),
		}
		_, errs := b.svc.RedeemEach(b.check, ins)
		if errs[0] != nil || errs[2] != nil {
			t.Fatalf("orders that fit: %v, %v", errs[0], errs[2])
		}
		for _, i := range []int{1, 3} {
			if e := wantCode(t, errs[i], engine.RedemptionRefused); e.Fields[0].Code != promokit.ReasonLimitReached || e.Limit == nil {
				t.Fatalf("order %d: %+v", i, e)
			}
		}
		got1, _ := b.svc.GetPromotion(b.seller, p1.ID)
		got2, _ := b.svc.GetPromotion(b.seller, p2.ID)
		if got1.Uses != 2 || got2.Uses != 1 {
			t.Fatalf("stored uses %d and %d, want 2 and 1", got1.Uses, got2.Uses)
		}
		checkCounters(t, b.store)
	})
}
