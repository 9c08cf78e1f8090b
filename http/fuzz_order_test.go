package http

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// FuzzOrderEvent sends arbitrary bytes as the body of an order event
// through the real server and database: to an attributed order already
// placed (o1), and to a new order. The server never answers 5xx; a refusal
// writes nothing; and after any event each line of o1 owes exactly its
// commission on what is left of it (A4), nothing once it is cancelled.
func FuzzOrderEvent(f *testing.F) {
	e := newEngineServer(f)
	ctx := context.Background()
	admin := promokit.NewContext(ctx, promokit.Principal{KeyID: "key_fuzz", Role: promokit.RoleAdmin})
	rate := promokit.BasisPoints(750)
	if _, err := e.svc.JoinAffiliate(admin, e.store.ID, engine.JoinInput{AcceptTerms: true, Rate: &rate, URL: "https://shop.example/"}); err != nil {
		f.Fatal(err)
	}
	aff, err := e.svc.CreatePartner(admin, engine.PartnerInput{Name: "Aff", Kind: promokit.PartnerAffiliate})
	if err != nil {
		f.Fatal(err)
	}
	l, err := e.svc.CreateLink(admin, engine.LinkInput{StoreID: e.store.ID, PartnerID: aff.ID})
	if err != nil {
		f.Fatal(err)
	}
	click, err := e.svc.Click(ctx, engine.ClickInput{Token: l.Token, UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"})
	if err != nil {
		f.Fatal(err)
	}
	if err := e.svc.FlushClicks(ctx); err != nil {
		f.Fatal(err)
	}
	checkout := promokit.NewContext(ctx, promokit.Principal{KeyID: "key_fuzz_checkout", Role: promokit.RoleCheckout, StoreID: e.store.ID})
	placed, err := e.svc.ApplyOrderEvent(checkout, e.store.ID, "o1", engine.OrderEventInput{ID: "o1-placed", Type: promokit.EventPlaced,
		VisitorID: click.VisitorID, Currency: "USD", Shipping: 500,
		Lines: []engine.OrderLineInput{{ProductID: "sku-1", Quantity: 2, Amount: 3333}, {ProductID: "sku-2", Quantity: 1, Amount: 999}}})
	if err != nil || placed.Order.Attribution == nil {
		f.Fatalf("place o1: %v %+v", err, placed)
	}
	state := func(t *testing.T) (*engine.OrderView, string) {
		v, err := e.svc.GetOrder(admin, e.store.ID, "o1")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(v)
		return v, string(b)
	}
	for _, seed := range []string{
		`{"id":"p1","type":"paid"}`,
		`{"id":"p2","type":"paid","amount":1000}`,
		`{"id":"r1","type":"refunded","refund":{"lines":[{"line":0,"amount":1111}],"shipping":100}}`,
		`{"id":"r2","type":"refunded","refund":{"reason":"return","lines":[{"line":1,"amount":999,"quantity":1}]}}`,
		`{"id":"c1","type":"completed","at":"2026-01-01T08:00:00Z"}`,
		`{"id":"x1","type":"cancelled"}`,
		`{"id":"n1","type":"placed","currency":"USD","visitor_id":"` + click.VisitorID + `","lines":[{"product_id":"a","quantity":1,"amount":100}]}`,
		`{"id":"bad","type":"refunded","refund":{"lines":[{"line":7,"amount":-1}]}}`,
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	n := 0
	f.Fuzz(func(t *testing.T, body []byte, newOrder bool) {
		path := "/v1/stores/" + e.store.ID + "/orders/o1/events"
		if newOrder {
			n++
			path = "/v1/stores/" + e.store.ID + "/orders/fz-" + string(rune('a'+n%26)) + "/events"
		}
		_, before := state(t)
		req := httptest.NewRequest("POST", path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.checkout)
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, req)
		v, after := state(t)
		switch {
		case w.Code >= 500:
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body)
		case w.Code >= 400 && !newOrder && after != before:
			t.Fatalf("status %d changed order o1", w.Code)
		}
		owed := map[int]int64{}
		for _, en := range v.Entries {
			owed[en.Line] += en.Amount
		}
		for _, line := range v.Order.Lines {
			want := promokit.ApplyRate(line.Amount-line.Refunded, line.Rate)
			if v.Order.CancelledAt != nil {
				want = 0
			}
			if owed[line.Line] != want {
				t.Fatalf("after %q: line %d owes %d, want %d (%+v)", body, line.Line, owed[line.Line], want, v.Order)
			}
		}
	})
}
