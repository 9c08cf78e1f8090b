package http

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// FuzzDecodePromotion sends arbitrary bytes as the body of POST
// /v1/promotions through the real server and database. Whatever the body,
// the server never answers 5xx, a refusal (4xx) writes nothing, and a
// success creates exactly one promotion whose amounts are in range and
// whose strings are valid text (checkStrings). Seeds are in
// testdata/fuzz/FuzzDecodePromotion.
func FuzzDecodePromotion(f *testing.F) {
	e := newEngineServer(f)
	admin := promokit.NewContext(context.Background(), promokit.Principal{KeyID: "key_fuzz", Role: promokit.RoleAdmin})
	count := func(t *testing.T) int {
		n := 0
		page := storage.Page{Limit: 1000}
		for {
			list, err := e.svc.ListPromotions(admin, storage.PromotionFilter{Page: page})
			if err != nil {
				t.Fatal(err)
			}
			n += len(list)
			if len(list) < page.Limit {
				return n
			}
			page.After = list[len(list)-1].ID
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		before := count(t)
		req := httptest.NewRequest("POST", "/v1/promotions", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.seller)
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, req)
		after := count(t)
		switch {
		case w.Code >= 500:
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body)
		case w.Code >= 400:
			if after != before {
				t.Fatalf("status %d wrote: %d promotions before, %d after", w.Code, before, after)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("status %d with Content-Type %q", w.Code, ct)
			}
		case w.Code == 201:
			if after != before+1 {
				t.Fatalf("201 made %d promotions", after-before)
			}
			var p promotionOut
			if err := unmarshalStrict(w.Body.Bytes(), &p); err != nil {
				t.Fatalf("the 201's body does not decode: %v", err)
			}
			if p.AmountOff < 0 || p.AmountOff > promokit.MaxAmount || p.PercentOff < 0 || p.PercentOff > 10000 ||
				p.MinOrder < 0 || p.StoreID != e.store.ID {
				t.Fatalf("accepted out of range: %+v", p.Promotion)
			}
			checkStrings(t, &p, body)
		default:
			t.Fatalf("status %d", w.Code)
		}
	})
}

// FuzzDecodeRedeem sends arbitrary bytes as the body of POST /v1/redeem
// through the real server and database. The server never answers 5xx; a
// refusal uses nothing (the code's use count is unchanged), and a success
// uses it exactly as many times as its answer records it: once, or not at
// all for an order without the code; its answer's strings are valid text
// (checkStrings). Seeds are in
// testdata/fuzz/FuzzDecodeRedeem.
func FuzzDecodeRedeem(f *testing.F) {
	e := newEngineServer(f)
	admin := promokit.NewContext(context.Background(), promokit.Principal{KeyID: "key_fuzz", Role: promokit.RoleAdmin})
	uses := func(t *testing.T) int64 {
		c, err := e.svc.GetCode(admin, e.code)
		if err != nil {
			t.Fatal(err)
		}
		return c.Uses
	}
	f.Add([]byte(`{"order_id":"o1","cart":{"store_id":"` + e.store.ID + `","currency":"USD","lines":[{"product_id":"sku-1","quantity":1,"unit_price":500}]},"codes":["` + e.code + `"]}`))
	f.Add([]byte(`{"order_id":"o2","cart":{"store_id":"` + e.store.ID + `","currency":"USD","lines":[{"product_id":"sku-1","quantity":1,"unit_price":500}]},"automatic":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		before := uses(t)
		req := httptest.NewRequest("POST", "/v1/redeem", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.checkout)
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, req)
		after := uses(t)
		switch {
		case w.Code >= 500:
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body)
		case w.Code >= 400 || w.Code == 200:
			if after != before {
				t.Fatalf("status %d used the code: %d uses before, %d after", w.Code, before, after)
			}
		case w.Code == 201:
			var res engine.RedeemResult
			if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
				t.Fatalf("the 201's body does not decode: %v", err)
			}
			checkStrings(t, &res, body)
			recorded := int64(0)
			for _, r := range res.Redemptions {
				if r.Code == e.code {
					recorded++
				}
			}
			if recorded > 1 || after != before+recorded {
				t.Fatalf("201 used the code %d times and recorded it %d times", after-before, recorded)
			}
		}
	})
}

// FuzzDecodeQualify sends arbitrary bytes as the body of POST /v1/qualify
// through the real server and database, whose store has an automatic 10%
// promotion and a code assigned to the customer cus_1. The server never
// answers 5xx and never uses anything; a 200 decodes strictly into strings
// that are valid text, and each qualified promotion's discount is within
// the cart, spread over lines of the cart that add up to it. Seeds are in testdata/fuzz/FuzzDecodeQualify.
func FuzzDecodeQualify(f *testing.F) {
	e := newEngineServer(f)
	admin := promokit.NewContext(context.Background(), promokit.Principal{KeyID: "key_fuzz", Role: promokit.RoleAdmin})
	auto, err := e.svc.CreatePromotion(admin, engine.PromotionInput{StoreID: e.store.ID, Name: ptr("Ten off"),
		Type: ptr(promokit.PercentOff), PercentOff: ptr(promokit.BasisPoints(1000)), Automatic: ptr(true), PerCustomer: engine.Nullable[int64]{Set: true, Value: 2}})
	if err != nil {
		f.Fatal(err)
	}
	c, err := e.svc.GetCode(admin, e.code)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := e.svc.CreateCode(admin, c.PromotionID, engine.CodeInput{Code: "ANN-CODE", CustomerID: ptr("cus_1")}); err != nil {
		f.Fatal(err)
	}
	uses := func(t *testing.T) int64 {
		var n int64
		for _, id := range []string{auto.ID, c.PromotionID} {
			p, err := e.svc.GetPromotion(admin, id)
			if err != nil {
				t.Fatal(err)
			}
			n += p.Uses + p.DiscountSpent
		}
		return n
	}
	f.Add([]byte(`{"cart":{"store_id":"` + e.store.ID + `","currency":"USD","lines":[{"product_id":"sku-1","quantity":3,"unit_price":333}]},"customer":{"customer_id":"cus_1"}}`))
	f.Add([]byte(`{"cart":{"store_id":"` + e.store.ID + `","currency":"USD","shipping":1,"lines":[{"product_id":"sku-1","quantity":1,"unit_price":0},{"product_id":"x","quantity":7,"unit_price":1}]},"customer":{"email":"a.b+c@example.com"}}`))
	f.Add([]byte(`{"cart":{"store_id":"` + e.store.ID + `","currency":"USD","lines":[{"product_id":"sku-1","quantity":100000,"unit_price":10000000000}]},"customer":{"customer_id":"cus_1"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		before := uses(t)
		req := httptest.NewRequest("POST", "/v1/qualify", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.checkout)
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, req)
		if after := uses(t); after != before {
			t.Fatalf("status %d used something: %d before, %d after", w.Code, before, after)
		}
		switch {
		case w.Code >= 500:
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body)
		case w.Code >= 400:
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("status %d with Content-Type %q", w.Code, ct)
			}
		case w.Code == 200:
			var res engine.QualifyResult
			if err := unmarshalStrict(w.Body.Bytes(), &res); err != nil {
				t.Fatalf("the 200's body does not decode: %v", err)
			}
			checkStrings(t, &res, body)
			for _, q := range res.Qualified {
				var sum int64
				last := -1
				for _, l := range q.Lines {
					if l.Index <= last || l.Discount < 0 {
						t.Fatalf("lines out of order or negative: %+v", q)
					}
					last = l.Index
					sum += l.Discount
				}
				if q.Discount < 0 || q.Discount > res.Subtotal || sum != q.Discount {
					t.Fatalf("discount %d of a %d cart, lines add up to %d: %+v", q.Discount, res.Subtotal, sum, q)
				}
			}
		default:
			t.Fatalf("status %d", w.Code)
		}
	})
}
