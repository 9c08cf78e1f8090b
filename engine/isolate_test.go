package engine_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// The tests of this file make one member of a batch fail as a database
// fails on a value it refuses (faultStore), in a batch held together with
// neighbours (gather), and check that every neighbour is answered exactly
// as it is alone and that only the marked member fails, with EInvalid.

// TestIsolateValidate: a cart whose read is refused does not fail the
// carts read with it, of its store or of another.
func TestIsolateValidate(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		var fs *faultStore
		b := setupWith(t, faultOpen(&fs, open), engine.Config{})
		_, codes := racePromotion(t, b, percentInput(), 2)
		cart := func(storeID string, codes ...string) engine.ValidateInput {
			return engine.ValidateInput{
				Cart:     promokit.Cart{StoreID: storeID, Currency: "USD", Lines: []promokit.Line{{ProductID: "mug", Quantity: 2, UnitPrice: 1500}}},
				Customer: promokit.Identity{Email: "ann@example.com"},
				Codes:    codes,
			}
		}
		ins := []engine.ValidateInput{
			cart(b.shop.ID, codes[0]),
			cart(b.other.ID, "NO-SUCH"),
			cart(b.shop.ID, marker),
			cart(b.shop.ID, codes[1], "NO-SUCH"),
			cart(b.other.ID, codes[0]),
			cart(b.shop.ID),
		}
		got := make([]*promokit.PricedCart, len(ins))
		errs := make([]error, len(ins))
		calls := make([]func(), len(ins))
		for i, in := range ins {
			calls[i] = func() { got[i], errs[i] = b.svc.Validate(b.admin, in) }
		}
		gather(t, fs, b.svc, "cartReads", false, 1, func(int) { _, _ = b.svc.Validate(b.admin, cart(b.shop.ID)) }, calls...)
		fs.wantShared(t, "CartReadMany", len(ins))
		for i, in := range ins {
			if i == 2 {
				wantRefusedValue(t, "the marked cart", errs[i])
				continue
			}
			alone, err := b.svc.Validate(b.admin, in)
			if err != nil || errs[i] != nil {
				t.Fatalf("cart %d: %v in the batch, %v alone", i, errs[i], err)
			}
			if diff := cmp.Diff(alone, got[i]); diff != "" {
				t.Errorf("cart %d in the batch differs from alone (-alone +batch):\n%s", i, diff)
			}
		}
		if got[0].Discount == 0 || len(got[1].Rejected) != 1 {
			t.Fatalf("the neighbours were not priced: %+v, %+v", got[0], got[1])
		}
	})
}

// TestIsolateCodeLookups: a code look-up whose read is refused does not
// fail the look-ups read with it.
func TestIsolateCodeLookups(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		var fs *faultStore
		b := setupWith(t, faultOpen(&fs, open), engine.Config{})
		_, codes := racePromotion(t, b, percentInput(), 3)
		values := []string{codes[0], "NO-SUCH", marker, codes[1], codes[2]}
		got := make([]*promokit.Code, len(values))
		errs := make([]error, len(values))
		calls := make([]func(), len(values))
		for i, v := range values {
			calls[i] = func() { got[i], errs[i] = b.svc.GetCode(b.seller, v) }
		}
		gather(t, fs, b.svc, "lookups", false, 1, func(int) { _, _ = b.svc.GetCode(b.seller, codes[0]) }, calls...)
		fs.wantShared(t, "CodeGetMany", len(values))
		wantRefusedValue(t, "the marked code", errs[2])
		wantCode(t, errs[1], promokit.ENotFound)
		for _, i := range []int{0, 3, 4} {
			alone, err := b.svc.GetCode(b.seller, values[i])
			if err != nil || errs[i] != nil {
				t.Fatalf("code %s: %v in the batch, %v alone", values[i], errs[i], err)
			}
			if diff := cmp.Diff(alone, got[i]); diff != "" {
				t.Errorf("code %s in the batch differs from alone (-alone +batch):\n%s", values[i], diff)
			}
		}
	})
}

// TestIsolateLookupLimits: a subject whose failed look-ups cannot be read,
// or written, does not fail the other subjects' checks and counts.
func TestIsolateLookupLimits(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		var fs *faultStore
		b := setupWith(t, faultOpen(&fs, open), engine.Config{})
		ctx := context.Background()
		lim := engine.LookupLimits{Addr: 1}
		addr := func(a string) engine.LookupSubjects { return engine.LookupSubjects{Addr: a} }
		addrs := []string{"192.0.2.1", "192.0.2.2", marker, "192.0.2.3", "192.0.2.4"}

		// The failures of a batch: every subject but the marked one counts.
		errs := make([]error, len(addrs))
		calls := make([]func(), len(addrs))
		for i, a := range addrs {
			calls[i] = func() { _, errs[i] = b.svc.FailLookups(ctx, addr(a), 1, lim) }
		}
		gather(t, fs, b.svc, "lookupFails", true, 1, func(int) { _, _ = b.svc.FailLookups(ctx, addr("198.51.100.1"), 1, lim) }, calls...)
		fs.wantShared(t, "LookupFailureAddMany", len(addrs))
		for i, a := range addrs {
			if i == 2 {
				wantRefusedValue(t, "the marked subject's failures", errs[i])
				continue
			}
			if errs[i] != nil {
				t.Fatalf("failures of %s: %v", a, errs[i])
			}
		}

		// The checks of a batch: each neighbour as alone, refused once it
		// has failed its limit.
		addrs = append(addrs, "192.0.2.9")
		refusals := make([]*engine.LookupRefusal, len(addrs))
		errs = make([]error, len(addrs))
		calls = make([]func(), len(addrs))
		for i, a := range addrs {
			calls[i] = func() { refusals[i], errs[i] = b.svc.CheckLookups(ctx, addr(a), lim) }
		}
		gather(t, fs, b.svc, "lookupChecks", false, 1, func(int) { _, _ = b.svc.CheckLookups(ctx, addr("198.51.100.1"), lim) }, calls...)
		fs.wantShared(t, "LookupFailureGetMany", len(addrs))
		for i, a := range addrs {
			if i == 2 {
				wantRefusedValue(t, "the marked subject's check", errs[i])
				continue
			}
			alone, err := b.svc.CheckLookups(ctx, addr(a), lim)
			if err != nil || errs[i] != nil {
				t.Fatalf("check of %s: %v in the batch, %v alone", a, errs[i], err)
			}
			if (refusals[i] == nil) != (a == "192.0.2.9") || (alone == nil) != (refusals[i] == nil) {
				t.Errorf("check of %s: %+v in the batch, %+v alone", a, refusals[i], alone)
			}
		}
	})
}

// TestIsolateIdempotency: an Idempotency-Key record that cannot be written
// does not fail the records written with it, at its start or its end.
func TestIsolateIdempotency(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		var fs *faultStore
		b := setupWith(t, faultOpen(&fs, open), engine.Config{})
		ctx := context.Background()
		hash := []byte("request")
		keys := []string{"k1", "k2", marker, "k3", "k4"}
		errs := make([]error, len(keys))
		calls := make([]func(), len(keys))
		for i, k := range keys {
			calls[i] = func() {
				var rec *storage.IdempotencyRecord
				if rec, errs[i] = b.svc.BeginIdempotent(ctx, "key_a", k, hash); rec != nil {
					errs[i] = fmt.Errorf("a record %+v for a new key", rec)
				}
			}
		}
		blocker := func(i int) { _, _ = b.svc.BeginIdempotent(ctx, "key_a", fmt.Sprint("first-", i), hash) }
		gather(t, fs, b.svc, "idempotency", true, 1, blocker, calls...)
		fs.wantShared(t, "IdempotencyCreateMany", len(keys))
		for i, k := range keys {
			if i == 2 {
				wantRefusedValue(t, "the marked key", errs[i])
				continue
			}
			if errs[i] != nil {
				t.Fatalf("begin %s: %v", k, errs[i])
			}
		}

		// The responses of a batch: the one whose body is refused is not
		// stored, the others are, and replay.
		keys = []string{"k1", "k2", "k3", "k4"}
		bodies := []string{"one", "two", "three " + marker, "four"}
		calls = make([]func(), len(keys))
		for i, k := range keys {
			calls[i] = func() {
				errs[i] = b.svc.FinishIdempotent(ctx, &storage.IdempotencyRecord{KeyID: "key_a", Key: k, Status: 201, Body: []byte(bodies[i])})
			}
		}
		blocker = func(int) {
			_ = b.svc.FinishIdempotent(ctx, &storage.IdempotencyRecord{KeyID: "key_a", Key: "first-0", Status: 201})
		}
		gather(t, fs, b.svc, "idempotency", true, 1, blocker, calls...)
		fs.wantShared(t, "IdempotencyCompleteMany", len(keys))
		for i, k := range keys {
			rec, err := b.svc.BeginIdempotent(ctx, "key_a", k, hash)
			if i == 2 {
				wantRefusedValue(t, "the marked response", errs[i])
				wantCode(t, err, promokit.EIdempotencyBusy) // begun, never finished
				continue
			}
			if errs[i] != nil || err != nil || rec == nil || string(rec.Body) != bodies[i] {
				t.Fatalf("finish %s: %v; replay: %+v, %v", k, errs[i], rec, err)
			}
		}
	})
}

// TestIsolateDatabaseDown: an error that is no member's (the database does
// not answer) is every member's answer at once, with no statement more.
func TestIsolateDatabaseDown(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		var fs *faultStore
		b := setupWith(t, faultOpen(&fs, open), engine.Config{RedeemBatches: 1})
		_, codes := racePromotion(t, b, percentInput(), 1)
		cart := promokit.Cart{StoreID: b.shop.ID, Currency: "USD", Lines: []promokit.Line{{ProductID: "mug", Quantity: 1, UnitPrice: 1500}}}

		const n = 5
		errs := make([]error, n)
		calls := make([]func(), n)
		for i := range calls {
			calls[i] = func() { _, errs[i] = b.svc.Validate(b.admin, engine.ValidateInput{Cart: cart, Codes: codes}) }
		}
		fs.setDown("CartReadMany", 1) // the blocker's read passes
		gather(t, fs, b.svc, "cartReads", false, 1, func(int) { _, _ = b.svc.Validate(b.admin, engine.ValidateInput{Cart: cart}) }, calls...)
		if got := fs.callCount("CartReadMany"); got != 2 {
			t.Errorf("%d cart reads, want 2: the blocker's and one for the batch", got)
		}
		for i, err := range errs {
			if promokit.ErrorCode(err) != promokit.EInternal {
				t.Errorf("cart %d: %v, want the database's error", i, err)
			}
		}

		errs = make([]error, n)
		for i := range calls {
			calls[i] = func() { _, errs[i] = b.svc.Redeem(b.check, order(b, fmt.Sprint("down-", i), "", codes[0])) }
		}
		fs.setDown("CheckoutRead", 1)
		gather(t, fs, b.svc, "redeems", false, 1, func(int) { _, _ = b.svc.Redeem(b.check, order(b, "blocker", "", codes[0])) }, calls...)
		if got := fs.callCount("CheckoutRead"); got != 2 {
			t.Errorf("%d checkout reads, want 2: the blocker's and one for the batch", got)
		}
		for i, err := range errs {
			if promokit.ErrorCode(err) != promokit.EInternal {
				t.Errorf("order %d: %v, want the database's error", i, err)
			}
		}
	})
}
