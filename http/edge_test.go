package http

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// want422Text fails unless r is 422 invalid with one field error
// invalid_text naming field.
func want422Text(t *testing.T, r *response, field string) {
	t.Helper()
	what := r.Request.Method + " " + r.Request.URL.String()
	if r.StatusCode != http.StatusUnprocessableEntity || r.Problem == nil || r.Problem.Code != promokit.EInvalid {
		t.Errorf("%s: %d %s, want 422 invalid", what, r.StatusCode, r.Body)
		return
	}
	if len(r.Problem.Errors) != 1 || r.Problem.Errors[0].Field != field || r.Problem.Errors[0].Code != codeInvalidText {
		t.Errorf("%s: errors %+v, want %s invalid_text", what, r.Problem.Errors, field)
	}
}

// TestEdgeTextBody sends checkout requests whose JSON strings are not
// valid text, on both databases: each is 422 naming the field, the same on
// both, and nothing is written: no failed look-up is counted, no code is
// used, no order or promotion is made. PostgreSQL refuses NUL in text
// (500 without the edge check) and SQLite stores it.
func TestEdgeTextBody(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open, limitOf3)
		b.clock.Set(jan1().AddDate(0, 0, 2)) // the shop's promotion runs
		for range 5 {
			r := b.c.do(t, "POST", "/v1/validate", b.storefront, validateBody(b, "", "A\u0000B"), from("192.0.2.7")...)
			want422Text(t, r, "codes[0]")
		}
		bad := validateBody(b, "", b.shopCode)
		bad["cart"] = promokit.Cart{StoreID: b.shop.ID, Currency: "USD", Lines: []promokit.Line{
			{ProductID: "sku-1", Quantity: 1, UnitPrice: 100}, {ProductID: "sku\u00001", Quantity: 1, UnitPrice: 100}}}
		want422Text(t, b.c.do(t, "POST", "/v1/validate", b.storefront, bad, from("192.0.2.7")...), "cart.lines[1].product_id")
		want422Text(t, b.c.do(t, "POST", "/v1/validate", b.storefront, validateBody(b, "a\u0000@example.com", b.shopCode), from("192.0.2.7")...), "customer.email")
		want422Text(t, b.c.do(t, "POST", "/v1/validate", b.checkout, `{"codes":["\ud800"],"cart":{"store_id":"`+b.shop.ID+`"}}`), "codes[0]")
		want422Text(t, b.c.do(t, "POST", "/v1/validate", b.checkout, "{\"codes\":[\"A\xffB\"]}"), "codes[0]")
		want422Text(t, b.c.do(t, "POST", "/v1/validate", b.checkout, `{"cart":{"st\u0000ore_id":"x"}}`), `cart.st\u0000ore_id`)
		// Nothing was counted as a failed look-up: the storefront, its
		// address and its key are not limited.
		mustDo(t, b, b.storefront, "POST", "/v1/validate", validateBody(b, "", b.shopCode), http.StatusOK, from("192.0.2.7")...)
		if got := counterValue(t, b.srv.metrics.lookupFailures.WithLabelValues(engine.SubjectKey)); got != 0 {
			t.Errorf("%v failed look-ups counted", got)
		}

		// A redemption with one bad code uses nothing and makes no order.
		redeem := cartBody(b, "ord-nul")
		redeem["codes"] = []string{b.shopCode, "X\u0000"}
		want422Text(t, b.c.do(t, "POST", "/v1/redeem", b.checkout, redeem), "codes[1]")
		redeem["codes"] = []string{b.shopCode}
		redeem["order_id"] = "ord\u0000"
		want422Text(t, b.c.do(t, "POST", "/v1/redeem", b.checkout, redeem, "Idempotency-Key", "redeem-1"), "order_id")
		want422Text(t, b.c.do(t, "POST", "/v1/reserve", b.checkout, redeem), "order_id")
		if c := decodeAs[promokit.Code](t, mustDo(t, b, b.seller, "GET", "/v1/codes/"+b.shopCode, nil, http.StatusOK)); c.Uses != 0 {
			t.Errorf("the code was used %d times", c.Uses)
		}
		mustDo(t, b, b.seller, "GET", "/v1/stores/"+b.shop.ID+"/orders/ord-nul", nil, http.StatusNotFound)

		// A promotion with a NUL in its name is not made.
		before := b.count(t, b.admin, "/v1/promotions")
		r := b.c.do(t, "POST", "/v1/promotions", b.seller, map[string]any{"name": "Sale\u0000", "type": "amount_off", "amount_off": 100})
		want422Text(t, r, "name")
		r = b.c.do(t, "POST", "/v1/promotions", b.seller, `{"name":"Sale","type":"amount_off","amount_off":100,"product_ids":["sku-1","\udc00"]}`)
		want422Text(t, r, "product_ids[1]")
		if after := b.count(t, b.admin, "/v1/promotions"); after != before {
			t.Errorf("%d promotions before, %d after", before, after)
		}
	})
}

// TestEdgeTextURL sends requests whose path wildcards, query parameter
// names or query parameter values are not valid text, on both databases:
// each is 422 naming the wildcard or parameter, before the engine or the
// Idempotency-Key records are reached.
func TestEdgeTextURL(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		shop := "/v1/stores/" + b.shop.ID
		for _, tc := range []struct {
			key, method, path string
			body              any
			field             string
		}{
			{b.seller, "GET", "/v1/codes/A%00B", nil, "code"},
			{b.seller, "GET", "/v1/codes/A%FFB", nil, "code"},
			{b.seller, "GET", "/v1/codes/%ED%A0%80", nil, "code"},
			{b.seller, "GET", "/v1/codes/%C2%85", nil, "code"},
			{b.seller, "GET", "/v1/codes/A%1B", nil, "code"},
			{b.seller, "PATCH", "/v1/codes/A%00B", map[string]any{"status": "disabled"}, "code"},
			{b.seller, "GET", "/v1/stores/%00", nil, "id"},
			{b.seller, "GET", "/v1/promotions/prm%00", nil, "id"},
			{b.seller, "PUT", shop + "/products/sku%001", map[string]any{"name": "x"}, "product_id"},
			{b.checkout, "POST", shop + "/orders/ord%00/rollback", nil, "order_id"},
			{b.checkout, "GET", shop + "/orders/%FF", nil, "order_id"},
			{b.seller, "GET", shop + "/products?after=%00", nil, "after"},
			{b.seller, "GET", shop + "/products?after=%FF", nil, "after"},
			{b.seller, "GET", "/v1/promotions?limit=10&status=%00", nil, "status"},
			{b.seller, "GET", "/v1/promotions?x=%C3", nil, "x"},
			{b.seller, "GET", "/v1/promotions?%00=1", nil, `\x00`},
			{b.seller, "GET", "/v1/promotions?a%FFb", nil, `a\xffb`},
			{b.admin, "GET", "/v1/keys?store_id=s%01", nil, "store_id"},
			{b.seller, "GET", "/v1/stores/" + b.shop.ID + "/statement?from=%00", nil, "from"},
		} {
			want422Text(t, b.c.do(t, tc.method, tc.path, tc.key, tc.body), tc.field)
		}
		// Plain and escaped text that is valid goes through.
		mustDo(t, b, b.seller, "GET", "/v1/codes/"+strings.ToLower(b.shopCode)+"?x=%C3%A9+%F0%9F%98%80", nil, http.StatusOK)
		mustDo(t, b, b.seller, "GET", "/v1/codes/%C3%A9T%C3%A9", nil, http.StatusNotFound)

		// A refused request writes no Idempotency-Key record: the key is
		// free for the request the client meant.
		release := shop + "/orders/ord-1/release"
		want422Text(t, b.c.do(t, "POST", shop+"/orders/ord%00/release", b.checkout, nil, "Idempotency-Key", "release-1"), "order_id")
		r := b.c.do(t, "POST", release, b.checkout, nil, "Idempotency-Key", "release-1")
		if r.StatusCode == http.StatusUnprocessableEntity || r.StatusCode >= 500 {
			t.Errorf("the key after a refused request: %d %s", r.StatusCode, r.Body)
		}
	})
}

// TestEdgeTextClickHeaders opens an affiliate link with a User-Agent and a
// Referer that are not valid UTF-8, which net/http lets through: the click
// is recorded with the text made valid, and the clicks queued with it are
// written too, on both databases.
func TestEdgeTextClickHeaders(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		joinShop(t, b)
		_, affKey := newAffiliate(t, b, "Bob Blog")
		l := createLink(t, b, affKey, "")
		if r := b.open(t, "/r/"+l.Token, "User-Agent", browserAgent+" \xff\xfe", "Referer", "https://blog.example/\xc3("); r.StatusCode != http.StatusFound {
			t.Fatalf("click: %d %s", r.StatusCode, r.Body)
		}
		if r := b.open(t, "/r/"+l.Token, "User-Agent", browserAgent); r.StatusCode != http.StatusFound {
			t.Fatalf("click: %d %s", r.StatusCode, r.Body)
		}
		// A click PostgreSQL refuses would stall the writer, which retries.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := b.svc.FlushClicks(ctx); err != nil {
			t.Fatalf("FlushClicks: %v", err)
		}
		if c, _ := clicksOf(t, b, l.ID); c != 2 {
			t.Errorf("%d clicks recorded, want 2", c)
		}
	})
}
