package http

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// TestAffiliateBindingPerStore checks that the customer ↔ visitor binding
// an order writes serves only the attribution of that order's store (A3).
// A visitor clicks an affiliate's link to shop; another store's checkout
// key then reports an order binding a customer to that visitor id; shop's
// later order from that customer, without a visitor id or with another
// one, is not attributed and pays no commission. Shop's own binding keeps
// working: its order with the clicking visitor binds its customer, and
// that customer's later order from another device is attributed, however
// many visitor ids another store binds the customer to meanwhile.
func TestAffiliateBindingPerStore(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		shop, other := "/v1/stores/"+b.shop.ID, "/v1/stores/"+b.other.ID
		aff, affKey := newAffiliate(t, b, "Bea Affiliate")
		otherCheckout := mustCreate[keyJSON](t, b, b.admin, "POST", "/v1/keys",
			map[string]any{"name": "other checkout", "role": "checkout", "store_id": b.other.ID}).Secret
		joinShop(t, b)
		l := createLink(t, b, affKey, "")
		victim := visitorCookieOf(b.open(t, l.Path, "User-Agent", browserAgent))
		buyer := visitorCookieOf(b.open(t, l.Path, "User-Agent", browserAgent))
		if victim == nil || buyer == nil {
			t.Fatal("opening the link set no visitor cookie")
		}
		flush(t, b)
		b.clock.Add(time.Minute)

		// The attack: the other store's checkout binds cus-fraud to the
		// visitor who clicked shop's link.
		placedBy := func(key, store, order string, in map[string]any) *engine.OrderResult {
			t.Helper()
			r := mustDo(t, b, key, "POST", store+"/orders/"+order+"/events", in, http.StatusCreated)
			return decodeAs[engine.OrderResult](t, r)
		}
		bind := map[string]any{
			"id": "b1-placed", "type": "placed", "visitor_id": victim.Value, "customer_id": "cus-fraud", "currency": "USD",
			"lines": []map[string]any{{"product_id": "sku-9", "quantity": 1, "amount": 100}},
		}
		if res := placedBy(otherCheckout, other, "b1", bind); res.Order.Attribution != nil || len(res.Entries) != 0 {
			t.Fatalf("the other store's order, of a store out of the program: %+v %+v", res.Order.Attribution, res.Entries)
		}
		b.clock.Add(time.Minute)
		// Shop's orders from cus-fraud, without a visitor id and with a
		// visitor id of its own that never clicked: no attribution.
		for _, visitor := range []string{"", promokit.NewVisitorID()} {
			in := placedEvent("a-"+visitor+"-placed", visitor, 10000)
			in["customer_id"] = "cus-fraud"
			res := placedBy(b.checkout, shop, "a-"+visitor, in)
			if res.Order.Attribution != nil || len(res.Entries) != 0 {
				t.Fatalf("shop's order of cus-fraud with visitor %q: attributed %+v, entries %+v", visitor, res.Order.Attribution, res.Entries)
			}
		}

		// The legitimate case: shop's own order binds cus-1 to the buyer's
		// visitor id, and cus-1's next order from another device is
		// attributed through that binding.
		first := placedEvent("s1-placed", buyer.Value, 10000)
		first["customer_id"] = "cus-1"
		res := placedBy(b.checkout, shop, "s1", first)
		if res.Order.Attribution == nil || res.Order.Attribution.PartnerID != aff.ID || len(res.Entries) != 1 {
			t.Fatalf("shop's order with the clicking visitor: %+v %+v", res.Order.Attribution, res.Entries)
		}
		// Nor can another store push shop's binding out of the visitor ids
		// attribution looks at (the most recent few) by binding cus-1 to
		// many fresh ones of its own.
		b.clock.Add(time.Minute)
		for i := range 25 {
			id := "flood-" + strconv.Itoa(i)
			in := map[string]any{
				"id": id + "-placed", "type": "placed", "visitor_id": promokit.NewVisitorID(), "customer_id": "cus-1", "currency": "USD",
				"lines": []map[string]any{{"product_id": "sku-9", "quantity": 1, "amount": 100}},
			}
			placedBy(otherCheckout, other, id, in)
		}
		b.clock.Add(24 * time.Hour)
		for i, visitor := range []string{"", promokit.NewVisitorID()} {
			id := "s" + string(rune('2'+i))
			in := placedEvent(id+"-placed", visitor, 5000)
			in["customer_id"] = "cus-1"
			res := placedBy(b.checkout, shop, id, in)
			if res.Order.Attribution == nil || res.Order.Attribution.LinkID != l.ID || len(res.Entries) != 1 || res.Entries[0].Amount != 250 {
				t.Fatalf("cus-1's order %s on another device (visitor %q): %+v %+v", id, visitor, res.Order.Attribution, res.Entries)
			}
		}

		// The affiliate's ledger holds the three legitimate orders only.
		entries := decodeAs[listJSON[promokit.LedgerEntry]](t, mustDo(t, b, affKey, "GET", "/v1/partners/"+aff.ID+"/ledger?from=2026-01-01", nil, http.StatusOK))
		orders := map[string]bool{}
		for _, e := range entries.Data {
			orders[e.OrderID] = true
		}
		if len(entries.Data) != 3 || !orders["s1"] || !orders["s2"] || !orders["s3"] {
			t.Fatalf("the affiliate's ledger: %+v", entries.Data)
		}
	})
}
