package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// TestIsolateRedeem: in a batch of redeems and reserves near a promotion's
// limit, an order whose read is refused and one whose write is refused
// fail alone with EInvalid and write nothing; the others are written as
// if those had not come: exactly the orders that fit succeed, in the
// order they arrived, and the next is refused with the limit.
func TestIsolateRedeem(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		var fs *faultStore
		b := setupWith(t, faultOpen(&fs, open), engine.Config{RedeemBatches: 1})
		in := percentInput()
		in.TotalUses = set(int64(5)) // the blocker's use, and four
		p, codes := racePromotion(t, b, in, 2)
		type call struct {
			in   engine.RedeemInput
			hold time.Duration
		}
		readBad := order(b, marker+"-1", "", codes[0]) // its order id is refused by the read
		writeBad := order(b, "w1", "", codes[1])
		writeBad.Customer = promokit.Identity{CustomerID: marker} // its row is refused by the write
		calls := []call{
			{order(b, "g1", "a@example.com", codes[0]), 0},
			{readBad, 0},
			{order(b, "g2", "b@example.com", codes[1]), time.Hour},
			{order(b, "g3", "", codes[0]), 0},
			{writeBad, 0},
			{order(b, "g4", "c@example.com", codes[1]), time.Hour},
			{order(b, "g5", "d@example.com", codes[0]), 0},
		}
		res := make([]*engine.RedeemResult, len(calls))
		errs := make([]error, len(calls))
		fns := make([]func(), len(calls))
		for i, c := range calls {
			fns[i] = func() {
				if c.hold == 0 {
					res[i], errs[i] = b.svc.Redeem(b.check, c.in)
				} else {
					res[i], errs[i] = b.svc.Reserve(b.check, c.in, c.hold)
				}
			}
		}
		gather(t, fs, b.svc, "redeems", false, 1, func(int) { _, _ = b.svc.Redeem(b.check, order(b, "blocker", "", codes[0])) }, fns...)
		fs.wantShared(t, "CheckoutRead", len(calls))
		fs.wantShared(t, "UsageTakeMany", 2)
		wantRefusedValue(t, "the order whose read is refused", errs[1])
		wantRefusedValue(t, "the order whose write is refused", errs[4])
		for _, i := range []int{0, 2, 3, 5} {
			if errs[i] != nil || len(res[i].Redemptions) != 1 || res[i].Redemptions[0].Discount != 1500 {
				t.Fatalf("order %s: %+v, %v", calls[i].in.OrderID, res[i], errs[i])
			}
			want := promokit.RedemptionRedeemed
			if calls[i].hold != 0 {
				want = promokit.RedemptionHeld
			}
			if st := res[i].Redemptions[0].State; st != want {
				t.Errorf("order %s: state %s, want %s", calls[i].in.OrderID, st, want)
			}
		}
		if e := wantCode(t, errs[6], engine.RedemptionRefused); e.Fields[0].Code != promokit.ReasonLimitReached {
			t.Fatalf("the order past the limit: %+v", e)
		}
		got, err := b.svc.GetPromotion(b.seller, p.ID)
		if err != nil || got.Uses != 5 {
			t.Fatalf("stored uses %d, %v; want 5", got.Uses, err)
		}
		for _, id := range []string{readBad.OrderID, writeBad.OrderID, "g5"} {
			var rs []*promokit.Redemption
			err := fs.DB.Read(context.Background(), func(tx storage.Tx) (err error) {
				rs, err = tx.RedemptionListByOrder(context.Background(), b.shop.ID, id)
				return err
			})
			if err != nil || len(rs) != 0 {
				t.Errorf("order %s: %d redemptions written, %v", id, len(rs), err)
			}
		}
		checkCounters(t, fs.DB)
	})
}

// TestIsolateOrderEvents: a placed order whose read is refused, and one
// whose write is refused, fail alone with EInvalid and are not placed;
// the orders read and written with them are placed.
func TestIsolateOrderEvents(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		var fs *faultStore
		b := setupWith(t, faultOpen(&fs, open), engine.Config{})
		place := func(orderID, customer string, codes ...string) (*engine.OrderResult, error) {
			return b.svc.ApplyOrderEvent(b.check, b.shop.ID, orderID, engine.OrderEventInput{
				ID: orderID + "-placed", Type: promokit.EventPlaced, CustomerID: customer, Currency: "USD",
				Lines: []engine.OrderLineInput{{ProductID: "mug", Quantity: 1, Amount: 2500}}, Codes: codes,
			})
		}
		for _, tc := range []struct {
			path   string // the queue, and whose statement is refused
			writes bool
			method string
			bad    func() (*engine.OrderResult, error)
		}{
			{"placeReads", false, "PlaceReadMany", func() (*engine.OrderResult, error) { return place("bad-read", marker) }},
			{"places", true, "OrderPlaceMany", func() (*engine.OrderResult, error) { return place("bad-write", "cus_1", marker) }},
		} {
			orders := []string{tc.path + "-1", tc.path + "-2", "bad", tc.path + "-3", tc.path + "-4"}
			errs := make([]error, len(orders))
			calls := make([]func(), len(orders))
			for i, id := range orders {
				calls[i] = func() {
					if id == "bad" {
						_, errs[i] = tc.bad()
						return
					}
					_, errs[i] = place(id, fmt.Sprint("cus_", i), "SPRING")
				}
			}
			// Two batches of each queue are in flight at once: two
			// blockers hold them.
			blocker := func(i int) { _, _ = place(fmt.Sprintf("%s-blocker-%d", tc.path, i), "") }
			gather(t, fs, b.svc, tc.path, tc.writes, 2, blocker, calls...)
			fs.wantShared(t, tc.method, len(orders))
			for i, id := range orders {
				if id == "bad" {
					wantRefusedValue(t, "the marked order of "+tc.path, errs[i])
					continue
				}
				if errs[i] != nil {
					t.Fatalf("order %s: %v", id, errs[i])
				}
				if v, err := b.svc.GetOrder(b.check, b.shop.ID, id); err != nil || v.Order.State != promokit.OrderPlaced {
					t.Fatalf("order %s: %+v, %v", id, v, err)
				}
			}
		}
		for _, id := range []string{"bad-read", "bad-write"} {
			_, err := b.svc.GetOrder(b.check, b.shop.ID, id)
			wantCode(t, err, promokit.ENotFound)
		}
	})
}

// TestIsolateClicks: a click the database refuses does not lose the
// clicks written with it, and is itself stored without the referrer and
// user agent it was refused for: every redirect answered is a click
// stored.
func TestIsolateClicks(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		var fs *faultStore
		b := setupWith(t, faultOpen(&fs, open), engine.Config{ClickFlush: time.Hour})
		l := joinAndLink(t, b)
		agents := []string{browser + " 1", browser + " 2", browser + " " + marker, browser + " 3", browser + " 4"}
		visitors := make([]string, len(agents))
		for i, ua := range agents {
			visitors[i] = promokit.NewVisitorID()
			if _, err := b.svc.Click(context.Background(), engine.ClickInput{Token: l.Token, VisitorID: visitors[i], UserAgent: ua, Referrer: "https://blog.example/"}); err != nil {
				t.Fatal(err)
			}
		}
		flushClicks(t, b.svc)
		fs.wantShared(t, "ClickInsertMany", len(agents))
		v, err := b.svc.GetLink(b.admin, l.ID)
		if err != nil || v.Clicks != int64(len(agents)) {
			t.Fatalf("stored %+v, %v; want the %d clicks answered", v, err, len(agents))
		}
		for i, vid := range visitors {
			c := latestClick(t, fs.DB, b.shop.ID, vid)
			ua, ref := agents[i], "https://blog.example/"
			if i == 2 {
				ua, ref = "", ""
			}
			if c.UserAgent != ua || c.Referrer != ref {
				t.Errorf("click %d stored with %q, %q; want %q, %q", i, c.UserAgent, c.Referrer, ua, ref)
			}
		}
	})
}

// joinAndLink makes the shop join the affiliate program and returns a link
// of an affiliate to it.
func joinAndLink(t *testing.T, b *bundle) *promokit.Link {
	t.Helper()
	rate := promokit.BasisPoints(500)
	if _, err := b.svc.JoinAffiliate(b.seller, b.shop.ID, engine.JoinInput{AcceptTerms: true, Rate: &rate, URL: "https://shop.example/"}); err != nil {
		t.Fatal(err)
	}
	aff, err := b.svc.CreatePartner(b.admin, engine.PartnerInput{Name: "Aff", Kind: promokit.PartnerAffiliate})
	if err != nil {
		t.Fatal(err)
	}
	l, err := b.svc.CreateLink(b.admin, engine.LinkInput{StoreID: b.shop.ID, PartnerID: aff.ID})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// flushClicks writes the queued clicks, and fails the test if they are not
// written within a minute, the bound of a machine that is very busy.
func flushClicks(t *testing.T, svc *engine.Service) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := svc.FlushClicks(ctx); err != nil {
		t.Fatalf("FlushClicks: %v", err)
	}
}

// latestClick returns the latest click of visitor on a link of the store,
// as stored.
func latestClick(t *testing.T, st storage.DB, storeID, visitor string) *promokit.Click {
	t.Helper()
	var c *promokit.Click
	err := st.Read(context.Background(), func(tx storage.Tx) (err error) {
		c, err = tx.ClickGetLatest(context.Background(), storage.ClickQuery{StoreID: storeID, VisitorIDs: []string{visitor}, From: jan1.Add(-time.Hour), To: jan1.Add(time.Hour)})
		return err
	})
	if err != nil {
		t.Fatalf("the click of %s: %v", visitor, err)
	}
	return c
}
