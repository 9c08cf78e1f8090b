package engine_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// The tests of this file send, through the engine, values that PostgreSQL
// refuses (a NUL, invalid UTF-8) with good calls in the same batches, on
// the databases themselves: the faultStore only holds the batches
// together and refuses nothing. PostgreSQL refuses such a text where
// SQLite stores it, so a value that reaches the database is refused on
// the one (EInvalid, nothing written) and stored on the other; either way
// the good calls are answered as alone, and no call gets an internal
// error.

// Values PostgreSQL refuses in a text.
const (
	nul     = "A\x00B"
	badUTF8 = "A\xffB"
)

// onPostgres reports whether t runs on PostgreSQL (dbtest.ForEach).
func onPostgres(t *testing.T) bool { return strings.Contains(t.Name(), "/postgres") }

// wantStoredOrRefused fails unless err answers a call that carried a value
// PostgreSQL refuses: EInvalid on PostgreSQL, stored (nil) on SQLite.
func wantStoredOrRefused(t *testing.T, what string, err error) {
	t.Helper()
	if onPostgres(t) {
		wantRefusedValue(t, what, err)
	} else if err != nil {
		t.Fatalf("%s: %v, want it stored", what, err)
	}
}

// TestRefusedValuesRead: carts and look-ups holding values PostgreSQL
// refuses, read with good ones. A code that cannot exist is not found
// without a read; a store id that cannot exist is not found; a look-up
// subject the database refuses fails alone.
func TestRefusedValuesRead(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		var fs *faultStore
		b := setupWith(t, faultOpen(&fs, open), engine.Config{})
		_, codes := racePromotion(t, b, percentInput(), 1)
		lim := engine.LookupLimits{Addr: 5, Customer: 5}
		cart := func(storeID, addr string, codes ...string) engine.ValidateInput {
			return engine.ValidateInput{
				Cart:     promokit.Cart{StoreID: storeID, Currency: "USD", Lines: []promokit.Line{{ProductID: "mug", Quantity: 2, UnitPrice: 1500}}},
				Customer: promokit.Identity{CustomerID: "cus_1"},
				Codes:    codes,
				Guard:    &engine.LookupGuard{Subjects: engine.LookupSubjects{Addr: addr, CustomerKey: "c:cus_1"}, Limits: lim},
			}
		}
		ins := []engine.ValidateInput{
			cart(b.shop.ID, "192.0.2.1", codes[0]),
			cart(b.shop.ID, "192.0.2.2", nul, codes[0]),
			cart(b.other.ID, "192.0.2.3", "NO-SUCH"),
			cart(b.shop.ID, "192.0.2.4", badUTF8),
			cart(b.shop.ID, nul, codes[0]), // a subject PostgreSQL refuses
			cart(b.other.ID, "192.0.2.5", codes[0]),
		}
		got := make([]*promokit.PricedCart, len(ins))
		errs := make([]error, len(ins))
		calls := make([]func(), len(ins))
		for i, in := range ins {
			calls[i] = func() { got[i], errs[i] = b.svc.Validate(b.admin, in) }
		}
		gather(t, fs, b.svc, "cartReads", false, 1, func(int) { _, _ = b.svc.Validate(b.admin, cart(b.shop.ID, "")) }, calls...)
		for i, in := range ins {
			if i == 4 {
				wantStoredOrRefused(t, "a cart whose subject holds a NUL", errs[i])
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
		if got[0].Discount == 0 || len(got[1].Applied) != 1 {
			t.Fatalf("the good codes did not apply: %+v, %+v", got[0], got[1])
		}
		for _, i := range []int{1, 3} {
			if r := got[i].Rejected; len(r) != 1 || r[0].Reason != promokit.ReasonNotFound || r[0].Code != promokit.NormalizeCode(ins[i].Codes[0]) {
				t.Errorf("cart %d: rejected %+v, want its impossible code not found", i, r)
			}
		}

		// A store id that cannot exist, a code that cannot exist.
		_, err := b.svc.Validate(b.admin, cart("sto_"+nul, "192.0.2.1"))
		wantCode(t, err, promokit.ENotFound)
		_, err = b.svc.ValidateForBuyer(b.admin, cart(badUTF8, "192.0.2.1"))
		wantCode(t, err, promokit.ENotFound)
		_, err = b.svc.GetCode(b.seller, nul)
		wantCode(t, err, promokit.ENotFound)

		// Failed look-ups of a subject the database refuses, counted with
		// others, and their checks.
		ctx := context.Background()
		addrs := []string{"198.51.100.1", badUTF8, "198.51.100.2", nul}
		errs = make([]error, len(addrs))
		calls = make([]func(), len(addrs))
		for i, a := range addrs {
			calls[i] = func() { _, errs[i] = b.svc.FailLookups(ctx, engine.LookupSubjects{Addr: a}, 5, lim) }
		}
		gather(t, fs, b.svc, "lookupFails", true, 1, func(int) { _, _ = b.svc.FailLookups(ctx, engine.LookupSubjects{Addr: "203.0.113.1"}, 1, lim) }, calls...)
		refusals := make([]*engine.LookupRefusal, len(addrs))
		for i, a := range addrs {
			calls[i] = func() { refusals[i], errs[i] = b.svc.CheckLookups(ctx, engine.LookupSubjects{Addr: a}, lim) }
		}
		failErrs := slices.Clone(errs)
		gather(t, fs, b.svc, "lookupChecks", false, 1, func(int) { _, _ = b.svc.CheckLookups(ctx, engine.LookupSubjects{Addr: "203.0.113.1"}, lim) }, calls...)
		for i, a := range addrs {
			if i%2 == 1 {
				wantStoredOrRefused(t, fmt.Sprintf("failures of %q", a), failErrs[i])
				wantStoredOrRefused(t, fmt.Sprintf("check of %q", a), errs[i])
				continue
			}
			if failErrs[i] != nil || errs[i] != nil || refusals[i] == nil {
				t.Fatalf("subject %s: %v, %v, %+v; want its failures counted and refused", a, failErrs[i], errs[i], refusals[i])
			}
		}
	})
}

// TestRefusedValuesWrite: redeems, placed orders, Idempotency-Key records
// and clicks holding values PostgreSQL refuses, sent with good ones. The
// identifiers the engine checks (order ids, customer ids) and codes that
// cannot exist are refused before any write; a value that reaches the
// database and is refused fails alone, with nothing written; a click's
// texts are made storable.
func TestRefusedValuesWrite(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		var fs *faultStore
		b := setupWith(t, faultOpen(&fs, open), engine.Config{RedeemBatches: 1})
		p, codes := racePromotion(t, b, percentInput(), 1)
		ctx := context.Background()

		// Redeems: the bad ones are refused before their batch, the good
		// ones sent with them are written.
		bad := []engine.RedeemInput{order(b, "bad-code", "", nul), order(b, "bad-code-2", "", badUTF8), order(b, "o\x00", "", codes[0]), order(b, "bad-customer", "", codes[0])}
		bad[3].Customer = promokit.Identity{CustomerID: "cus_" + nul}
		wantCodes := []string{engine.RedemptionRefused, engine.RedemptionRefused, promokit.EInvalid, promokit.EInvalid}
		var wg sync.WaitGroup
		errs := make([]error, 2*len(bad))
		for i := range errs {
			wg.Go(func() {
				if i%2 == 0 {
					_, errs[i] = b.svc.Redeem(b.check, order(b, fmt.Sprint("good-", i), "", codes[0]))
				} else {
					_, errs[i] = b.svc.Redeem(b.check, bad[i/2])
				}
			})
		}
		wg.Wait()
		for i, err := range errs {
			if i%2 == 0 && err != nil {
				t.Fatalf("good order %d: %v", i, err)
			}
			if i%2 == 1 {
				wantCode(t, err, wantCodes[i/2])
			}
		}
		if got, _ := b.svc.GetPromotion(b.seller, p.ID); got.Uses != int64(len(bad)) {
			t.Fatalf("%d uses, want the %d good orders'", got.Uses, len(bad))
		}
		checkCounters(t, fs.DB)

		// Placed orders: a code PostgreSQL refuses reaches the write, which
		// refuses it alone; ids are checked before.
		place := func(storeID, orderID, customer string, codes ...string) error {
			_, err := b.svc.ApplyOrderEvent(b.check, storeID, orderID, engine.OrderEventInput{
				ID: orderID + "-placed", Type: promokit.EventPlaced, CustomerID: customer, Currency: "USD",
				Lines: []engine.OrderLineInput{{ProductID: "mug", Quantity: 1, Amount: 2500}}, Codes: codes,
			})
			return err
		}
		orders := []string{"p1", "p-nul", "p2", "p-utf8", "p3"}
		errs = make([]error, len(orders))
		calls := make([]func(), len(orders))
		for i, id := range orders {
			code := "SPRING"
			switch id {
			case "p-nul":
				code = nul
			case "p-utf8":
				code = badUTF8
			}
			calls[i] = func() { errs[i] = place(b.shop.ID, id, "cus_1", code) }
		}
		gather(t, fs, b.svc, "places", true, 2, func(i int) { _ = place(b.shop.ID, fmt.Sprint("blocker-", i), "") }, calls...)
		for i, id := range orders {
			_, err := b.svc.GetOrder(b.check, b.shop.ID, id)
			if strings.HasPrefix(id, "p-") {
				if id == "p-nul" {
					wantStoredOrRefused(t, "order "+id, errs[i])
				} else if errs[i] != nil {
					// PostgreSQL takes a batch's codes as JSON, whose
					// encoder makes them valid UTF-8.
					wantRefusedValue(t, "order "+id, errs[i])
				}
				if errs[i] != nil {
					wantCode(t, err, promokit.ENotFound)
				}
				continue
			}
			if errs[i] != nil || err != nil {
				t.Fatalf("order %s: %v; read: %v", id, errs[i], err)
			}
		}
		wantCode(t, place(b.shop.ID, "o\x00", "cus_1"), promokit.EInvalid)
		wantCode(t, place(b.shop.ID, "p4", "cus_"+nul), promokit.EInvalid)
		check := as(promokit.Principal{KeyID: "key_any", Role: promokit.RoleCheckout})
		wantCode(t, place("sto_"+nul, "p5", "cus_1"), promokit.ENotFound) // the shop's key
		wantCode(t, func() error {
			_, err := b.svc.ApplyOrderEvent(check, "sto_"+nul, "p5", engine.OrderEventInput{})
			return err
		}(), promokit.ENotFound)

		// Idempotency-Key records: a key the database refuses fails alone.
		keys := []string{"k1", "k\x00", "k2", "k\xff", "k3"}
		errs = make([]error, len(keys))
		for i, k := range keys {
			calls[i] = func() { _, errs[i] = b.svc.BeginIdempotent(ctx, "key_a", k, []byte("h")) }
		}
		gather(t, fs, b.svc, "idempotency", true, 1, func(int) { _, _ = b.svc.BeginIdempotent(ctx, "key_a", "first", []byte("h")) }, calls...)
		for i, k := range keys {
			if i%2 == 1 {
				wantStoredOrRefused(t, fmt.Sprintf("key %q", k), errs[i])
				continue
			}
			if errs[i] != nil {
				t.Fatalf("key %s: %v", k, errs[i])
			}
			if _, err := b.svc.BeginIdempotent(ctx, "key_a", k, []byte("h")); promokit.ErrorCode(err) != promokit.EIdempotencyBusy {
				t.Fatalf("key %s again: %v, want it recorded", k, err)
			}
		}

		// Clicks: the referrer and user agent a header may carry are made
		// storable, and the clicks written with them are stored.
		l := joinAndLink(t, b)
		agents := []string{browser, browser + " \xff\x00Edge", browser + " ok"}
		visitors := make([]string, len(agents))
		for i, ua := range agents {
			visitors[i] = promokit.NewVisitorID()
			if _, err := b.svc.Click(ctx, engine.ClickInput{Token: l.Token, VisitorID: visitors[i], UserAgent: ua, Referrer: "https://blog.example/\x00"}); err != nil {
				t.Fatal(err)
			}
		}
		flushClicks(t, b.svc)
		for i, vid := range visitors {
			c := latestClick(t, fs.DB, b.shop.ID, vid)
			ua := agents[i]
			if i == 1 {
				ua = browser + " \uFFFDEdge"
			}
			if c.UserAgent != ua || c.Referrer != "https://blog.example/" {
				t.Errorf("click %d stored with %q, %q", i, c.UserAgent, c.Referrer)
			}
		}
	})
}
