package http

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// validateBody is the shop's $50 cart with codes, and the customer when
// email is set.
func validateBody(b *testBundle, email string, codes ...string) map[string]any {
	body := cartBody(b, "")
	body["codes"] = codes
	if email != "" {
		body["customer"] = map[string]any{"email": email}
	}
	return body
}

// rejectionsOf returns the rejected codes of a validate answer by code.
func rejectionsOf(t *testing.T, r *response) map[string]map[string]any {
	t.Helper()
	var pc struct {
		Rejected []map[string]any `json:"rejected"`
	}
	if err := json.Unmarshal(r.Body, &pc); err != nil {
		t.Fatalf("validate answer: %v: %s", err, r.Body)
	}
	out := map[string]map[string]any{}
	for _, rj := range pc.Rejected {
		out[rj["code"].(string)] = rj
	}
	return out
}

// TestStorefrontValidate checks the answers of validate: the checkout key
// gets each code's reason; the storefront key one not_valid answer for a
// code that does not exist, one of another store, one used up and one
// expired, identical to the byte but for the code.
func TestStorefrontValidate(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		mustDo(t, b, b.seller, "POST", "/v1/promotions/"+b.promo.ID+"/codes", map[string]any{"code": "ONCE1", "usage_limit": 1}, http.StatusCreated)
		mustDo(t, b, b.seller, "POST", "/v1/promotions/"+b.promo.ID+"/codes",
			map[string]any{"code": "EXPIRED1", "expires_at": jan1().Add(30 * time.Hour)}, http.StatusCreated)
		b.clock.Set(jan1().Add(48 * time.Hour)) // the promotion has started, EXPIRED1 has expired
		mustDo(t, b, b.checkout, "POST", "/v1/redeem", map[string]any{"order_id": "ord-1", "cart": cartBody(b, "")["cart"], "codes": []string{"ONCE1"}}, http.StatusCreated)

		// The checkout's precise reasons.
		r := mustDo(t, b, b.checkout, "POST", "/v1/validate", validateBody(b, "", "NOSUCH1", "ONCE1", "EXPIRED1", b.otherCode), http.StatusOK)
		got := rejectionsOf(t, r)
		for code, reason := range map[string]string{"NOSUCH1": "not_found", "ONCE1": "limit_reached", "EXPIRED1": "expired", b.otherCode: "not_found"} {
			if got[code]["reason"] != reason {
				t.Errorf("checkout: %s rejected as %v, want %s: %s", code, got[code], reason, r.Body)
			}
		}
		if got["ONCE1"]["limit"] != 1.0 || got["ONCE1"]["used"] != 1.0 || got["ONCE1"]["remaining"] != 0.0 {
			t.Errorf("checkout: ONCE1 without its limit: %v", got["ONCE1"])
		}

		// The storefront's uniform answer: each code alone, then all four.
		answer := func(code string) string {
			t.Helper()
			r := mustDo(t, b, b.storefront, "POST", "/v1/validate", validateBody(b, "", code), http.StatusOK)
			return strings.ReplaceAll(string(r.Body), code, "CODE")
		}
		missing := answer("NOSUCH1")
		if !strings.Contains(missing, `"rejected":[{"code":"CODE","reason":"not_valid"}]`) {
			t.Fatalf("storefront answer for a missing code: %s", missing)
		}
		for _, code := range []string{"ONCE1", "EXPIRED1", b.otherCode} {
			if a := answer(code); a != missing {
				t.Errorf("storefront answer for %s differs from a missing code's:\n%s\n%s", code, a, missing)
			}
		}
		r = mustDo(t, b, b.storefront, "POST", "/v1/validate", validateBody(b, "", "ONCE1", "NOSUCH1", b.shopCode, "EXPIRED1"), http.StatusOK)
		if !strings.Contains(string(r.Body), `"rejected":[{"code":"ONCE1","reason":"not_valid"},{"code":"NOSUCH1","reason":"not_valid"},{"code":"EXPIRED1","reason":"not_valid"}]`) ||
			!strings.Contains(string(r.Body), `"applied":[{"code":"`+b.shopCode+`"`) {
			t.Errorf("storefront answer for four codes: %s", r.Body)
		}

		// Failed look-ups: the checkout's two missing codes; every code the
		// storefront was told is not valid.
		if got := counterValue(t, b.srv.metrics.lookupFailures.WithLabelValues(engine.SubjectKey)); got != 2+4+3 {
			t.Errorf("promokit_code_lookup_failures_total{subject=\"key\"} %v, want 9", got)
		}

		// Another store's cart is not found; the storefront key may not
		// read a code, redeem or reserve.
		foreign := validateBody(b, "", b.otherCode)
		foreign["cart"] = promokit.Cart{StoreID: b.other.ID, Currency: "USD", Lines: []promokit.Line{{ProductID: "sku-9", Quantity: 1, UnitPrice: 100}}}
		r = mustDo(t, b, b.storefront, "POST", "/v1/validate", foreign, http.StatusNotFound)
		if strings.Contains(string(r.Body), b.otherCode) {
			t.Errorf("the 404 shows the code: %s", r.Body)
		}
		mustDo(t, b, b.storefront, "GET", "/v1/codes/"+b.shopCode, nil, http.StatusForbidden)
		mustDo(t, b, b.storefront, "POST", "/v1/redeem", cartBody(b, "ord-2"), http.StatusForbidden)
		mustDo(t, b, b.storefront, "POST", "/v1/reserve", cartBody(b, "ord-3"), http.StatusForbidden)
		mustDo(t, b, b.storefront, "GET", "/v1/promotions/"+b.promo.ID+"/codes", nil, http.StatusForbidden)
		mustDo(t, b, b.storefront, "POST", "/v1/keys", map[string]any{"role": "storefront", "store_id": b.shop.ID}, http.StatusForbidden)
	})
}

// FuzzValidateStorefront sends arbitrary bytes as the body of POST
// /v1/validate with a storefront key, through the real server and
// database, with the limit on failed look-ups off so that every body is
// priced. The server never answers 5xx; a 200 decodes strictly, adds up,
// and tells of each rejected code only that it is not valid.
func FuzzValidateStorefront(f *testing.F) {
	e := newEngineServer(f)
	admin := promokit.NewContext(context.Background(), promokit.Principal{KeyID: "key_fuzz", Role: promokit.RoleAdmin})
	_, front, err := e.svc.CreateKey(admin, engine.KeyInput{Role: promokit.RoleStorefront, StoreID: e.store.ID})
	if err != nil {
		f.Fatal(err)
	}
	srv := NewServer(Config{Service: e.svc, Logger: slog.New(slog.DiscardHandler), LookupFailures: -1})
	cart := `"cart":{"store_id":"` + e.store.ID + `","currency":"USD","lines":[{"product_id":"sku-1","quantity":2,"unit_price":500}]}`
	f.Add([]byte(`{` + cart + `,"codes":["` + e.code + `","NOPE-1","bench-code"]}`))
	f.Add([]byte(`{` + cart + `,"customer":{"email":"A.B+c@Example.com"},"codes":["nope-2"]}`))
	f.Add([]byte(`{"cart":{"store_id":"sto_other","currency":"USD","lines":[{"product_id":"sku-1","quantity":1,"unit_price":1}]},"codes":["X"]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/v1/validate", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+front)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		switch {
		case w.Code >= 500:
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body)
		case w.Code >= 400:
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("status %d with Content-Type %q", w.Code, ct)
			}
		case w.Code == 200:
			var pc promokit.PricedCart
			if err := unmarshalStrict(w.Body.Bytes(), &pc); err != nil {
				t.Fatalf("the 200's body does not decode: %v", err)
			}
			if pc.Discount < 0 || pc.Total != pc.Subtotal-pc.Discount+pc.Shipping {
				t.Fatalf("totals do not add up: %+v", pc)
			}
			for _, r := range pc.Rejected {
				if r != (promokit.Rejection{Code: r.Code, Reason: promokit.ReasonNotValid}) {
					t.Fatalf("a storefront sees %+v", r)
				}
			}
		default:
			t.Fatalf("status %d", w.Code)
		}
	})
}
