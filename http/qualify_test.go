package http

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// qualifyBody is a $55 cart of the shop (two sku-1 at $15 and one sku-2 at
// $25) for the customer, as POST /v1/qualify takes it.
func qualifyBody(b *testBundle, customer map[string]any) map[string]any {
	return map[string]any{
		"cart": map[string]any{"store_id": b.shop.ID, "currency": "USD", "shipping": 499, "lines": []map[string]any{
			{"product_id": "sku-1", "quantity": 2, "unit_price": 1500}, {"product_id": "sku-2", "quantity": 1, "unit_price": 2500},
		}},
		"customer": customer,
	}
}

// TestQualifyHTTP: automatic promotions and the customer's codes over
// HTTP, with exact discounts, what is kept out and why, and the promotion
// field on create, get and list. Every response also goes through the
// OpenAPI check.
func TestQualifyHTTP(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		mustDo(t, b, b.seller, "PUT", "/v1/stores/"+b.shop.ID+"/products/sku-2", map[string]any{"name": "Shop Thing"}, http.StatusOK)
		start := jan1().Format(time.RFC3339)
		create := func(key string, in map[string]any) *promotionOut {
			t.Helper()
			in["starts_at"] = start
			return mustCreate[promotionOut](t, b, key, "POST", "/v1/promotions", in)
		}
		ten := create(b.seller, map[string]any{"name": "Ten off", "type": "percent_off", "percent_off_bp": 1000, "automatic": true})
		if !ten.Automatic || ten.Status != promokit.StatusActive {
			t.Fatalf("created %+v", ten)
		}
		minimum := create(b.seller, map[string]any{"name": "Big spender", "type": "amount_off", "amount_off": 2000, "min_order_amount": 10000, "automatic": true})
		create(b.seller, map[string]any{"name": "Gone", "type": "percent_off", "percent_off_bp": 5000, "automatic": true,
			"ends_at": jan1().Add(time.Hour).Format(time.RFC3339)})
		create(b.foreign, map[string]any{"name": "Elsewhere", "type": "percent_off", "percent_off_bp": 5000, "automatic": true})
		vip := create(b.seller, map[string]any{"name": "VIP", "type": "percent_off", "percent_off_bp": 1500})
		mustDo(t, b, b.seller, "POST", "/v1/promotions/"+vip.ID+"/codes", map[string]any{"code": "VIP-ANN", "customer_id": "cus_1"}, http.StatusCreated)
		mustDo(t, b, b.seller, "POST", "/v1/promotions/"+vip.ID+"/codes", map[string]any{"code": "VIP-BOB", "customer_id": "cus_2"}, http.StatusCreated)
		once := create(b.seller, map[string]any{"name": "Once", "type": "amount_off", "amount_off": 300, "per_customer": 1})
		mustDo(t, b, b.seller, "POST", "/v1/promotions/"+once.ID+"/codes", map[string]any{"code": "ONCE-PUB"}, http.StatusCreated)
		mustDo(t, b, b.seller, "POST", "/v1/promotions/"+once.ID+"/codes", map[string]any{"code": "ONCE-ANN", "customer_id": "cus_1"}, http.StatusCreated)
		b.clock.Set(jan1().Add(2 * time.Hour))
		order := qualifyBody(b, map[string]any{"customer_id": "cus_1"})
		order["order_id"], order["codes"] = "ord-1", []string{"once-pub"}
		mustDo(t, b, b.checkout, "POST", "/v1/redeem", order, http.StatusCreated)

		r := mustDo(t, b, b.checkout, "POST", "/v1/qualify", qualifyBody(b, map[string]any{"customer_id": "cus_1"}), http.StatusOK)
		got := decodeAs[engine.QualifyResult](t, r)
		one, tenThousand, fiftyFive, zero := int64(1), int64(10000), int64(5500), int64(0)
		want := &engine.QualifyResult{
			Currency: "USD", Subtotal: 5500,
			Qualified: []engine.QualifiedPromotion{
				{PromotionID: vip.ID, Code: "VIP-ANN", Name: "VIP", Description: "", Type: promokit.PercentOff, PercentOff: 1500,
					Discount: 825, Lines: []engine.QualifiedLine{qline(0, "sku-1", 450), qline(1, "sku-2", 375)}},
				{PromotionID: ten.ID, Automatic: true, Name: "Ten off", Type: promokit.PercentOff, PercentOff: 1000,
					Discount: 550, Lines: []engine.QualifiedLine{qline(0, "sku-1", 300), qline(1, "sku-2", 250)}},
			},
			NotQualified: []engine.UnqualifiedPromotion{
				{PromotionID: minimum.ID, Automatic: true, Name: "Big spender", Reason: promokit.ReasonMinimumNotMet, Rule: "C1", Limit: &tenThousand, Used: &fiftyFive},
				{PromotionID: once.ID, Code: "ONCE-ANN", Name: "Once", Reason: promokit.ReasonCustomerLimit, Rule: "C1", Limit: &one, Used: &one, Remaining: &zero},
			},
		}
		if minimum.ID > once.ID {
			want.NotQualified[0], want.NotQualified[1] = want.NotQualified[1], want.NotQualified[0]
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("qualify (-want +got):\n%s\n%s", diff, r.Body)
		}
		for _, s := range []string{"Elsewhere", "Gone", "VIP-BOB", `"code":"ONCE-PUB"`} {
			if strings.Contains(string(r.Body), s) {
				t.Errorf("qualify shows %q: %s", s, r.Body)
			}
		}
		// A guest gets the automatic promotions only; without a body's
		// customer, too.
		r = mustDo(t, b, b.admin, "POST", "/v1/qualify", qualifyBody(b, map[string]any{"email": "guest@example.com"}), http.StatusOK)
		if g := decodeAs[engine.QualifyResult](t, r); len(g.Qualified) != 1 || g.Qualified[0].PromotionID != ten.ID {
			t.Fatalf("guest: %s", r.Body)
		}
		body := qualifyBody(b, nil)
		delete(body, "customer")
		mustDo(t, b, b.checkout, "POST", "/v1/qualify", body, http.StatusOK)

		// The promotion carries the field on get and list; it cannot change.
		r = mustDo(t, b, b.checkout, "GET", "/v1/promotions/"+ten.ID, nil, http.StatusOK)
		if !strings.Contains(string(r.Body), `"automatic":true`) {
			t.Fatalf("get: %s", r.Body)
		}
		r = mustDo(t, b, b.seller, "GET", "/v1/promotions?status=active", nil, http.StatusOK)
		if n := strings.Count(string(r.Body), `"automatic":true`); n != 2 {
			t.Fatalf("list shows %d automatic promotions: %s", n, r.Body)
		}
		later := mustCreate[promotionOut](t, b, b.seller, "POST", "/v1/promotions", map[string]any{"name": "Later", "type": "percent_off",
			"percent_off_bp": 1000, "automatic": true, "starts_at": jan1().Add(48 * time.Hour).Format(time.RFC3339)})
		r = mustDo(t, b, b.seller, "PATCH", "/v1/promotions/"+later.ID, map[string]any{"automatic": false}, http.StatusUnprocessableEntity, "If-Match", `"1"`)
		if r.Problem.Code != promokit.EInvalid || len(r.Problem.Errors) != 1 || r.Problem.Errors[0].Field != "automatic" || r.Problem.Errors[0].Code != "immutable" {
			t.Fatalf("edit automatic: %s", r.Body)
		}
		r = mustDo(t, b, b.seller, "PATCH", "/v1/promotions/"+later.ID, map[string]any{"name": "Later still", "automatic": true}, http.StatusOK, "If-Match", `"1"`)
		if !strings.Contains(string(r.Body), `"automatic":true`) || !strings.Contains(string(r.Body), "Later still") {
			t.Fatalf("edit: %s", r.Body)
		}

		// No codes for an automatic promotion, by any route.
		for _, req := range []struct {
			path string
			body any
			hdr  []string
		}{
			{"/codes", map[string]any{"code": "AUTO-1"}, nil},
			{"/codes/import", "code\nAUTO-2\n", []string{"Content-Type", "text/csv"}},
			{"/code-jobs", map[string]any{"count": 10}, nil},
		} {
			r = mustDo(t, b, b.seller, "POST", "/v1/promotions/"+ten.ID+req.path, req.body, http.StatusConflict, req.hdr...)
			if r.Problem.Code != promokit.EAutomatic {
				t.Fatalf("POST %s: %s", req.path, r.Body)
			}
		}
		r = mustDo(t, b, b.seller, "POST", "/v1/promotions", map[string]any{"name": "Coupon", "type": "amount_off", "amount_off": 100,
			"automatic": true, "coupon": map[string]any{"per_person": 1, "quantity": 10}}, http.StatusUnprocessableEntity)
		if r.Problem.Errors[0].Field != "coupon" {
			t.Fatalf("automatic coupon: %s", r.Body)
		}
	})
}

// TestQualifyHTTPRefusals: foreign and unfit callers, and carts that do
// not decode or do not validate, are refused with a problem document.
func TestQualifyHTTPRefusals(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		k := mustCreate[keyJSON](t, b, b.admin, "POST", "/v1/keys", map[string]any{"name": "other checkout", "role": "checkout", "store_id": b.other.ID})
		ok := qualifyBody(b, map[string]any{"customer_id": "cus_1"})
		r := mustDo(t, b, k.Secret, "POST", "/v1/qualify", ok, http.StatusNotFound)
		if strings.Contains(string(r.Body), b.shopName) {
			t.Fatalf("foreign checkout: %s", r.Body)
		}
		for _, key := range []string{b.seller, b.foreign, b.partner, b.storefront} {
			mustDo(t, b, key, "POST", "/v1/qualify", ok, http.StatusForbidden)
		}
		mustDo(t, b, "", "POST", "/v1/qualify", ok, http.StatusUnauthorized)

		cart := func(change func(c map[string]any)) map[string]any {
			body := qualifyBody(b, map[string]any{"customer_id": "cus_1"})
			change(body["cart"].(map[string]any))
			return body
		}
		for name, tc := range map[string]struct {
			body   any
			status int
			field  string
		}{
			"currency":       {cart(func(c map[string]any) { c["currency"] = "EUR" }), http.StatusUnprocessableEntity, "currency"},
			"no lines":       {cart(func(c map[string]any) { c["lines"] = []any{} }), http.StatusUnprocessableEntity, "lines"},
			"quantity":       {cart(func(c map[string]any) { c["lines"].([]map[string]any)[0]["quantity"] = 0 }), http.StatusUnprocessableEntity, "lines[0].quantity"},
			"negative price": {cart(func(c map[string]any) { c["lines"].([]map[string]any)[1]["unit_price"] = -1 }), http.StatusUnprocessableEntity, "lines[1].unit_price"},
			"e-mail":         {qualifyBody(b, map[string]any{"email": "not an address"}), http.StatusUnprocessableEntity, "customer.email"},
			"codes":          {map[string]any{"cart": ok["cart"], "codes": []string{"X"}}, http.StatusBadRequest, "codes"},
			"wrong type":     {cart(func(c map[string]any) { c["shipping"] = "free" }), http.StatusBadRequest, ""},
			"overflow":       {`{"cart":{"store_id":"` + b.shop.ID + `","currency":"USD","lines":[{"product_id":"a","quantity":1,"unit_price":99999999999999999999}]}}`, http.StatusBadRequest, ""},
			"not json":       {"{", http.StatusBadRequest, ""},
		} {
			r := mustDo(t, b, b.checkout, "POST", "/v1/qualify", tc.body, tc.status)
			if tc.field == "" {
				continue
			}
			found := false
			for _, f := range r.Problem.Errors {
				found = found || f.Field == tc.field
			}
			if !found {
				t.Errorf("%s: errors %+v, want field %s", name, r.Problem.Errors, tc.field)
			}
		}
		mustDo(t, b, b.checkout, "POST", "/v1/qualify", "cart=1", http.StatusUnsupportedMediaType, "Content-Type", "application/x-www-form-urlencoded")
	})
}

// qline is a line of a qualified promotion.
func qline(index int, productID string, discount int64) engine.QualifiedLine {
	return engine.QualifiedLine{Index: index, ProductID: productID, Discount: discount}
}
