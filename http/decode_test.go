package http

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storetest"
)

// TestUnknownField pins the text of encoding/json's unknown-field error,
// the one error this package reads as text.
func TestUnknownField(t *testing.T) {
	t.Parallel()
	var in engine.PromotionInput
	dec := json.NewDecoder(strings.NewReader(`{"name":"x","colour":"red"}`))
	dec.DisallowUnknownFields()
	err := dec.Decode(&in)
	if field, ok := unknownField(err); !ok || field != "colour" {
		t.Fatalf("unknownField(%v) = %q, %v", err, field, ok)
	}
	if _, ok := unknownField(json.Unmarshal([]byte(`[`), &in)); ok {
		t.Errorf("a syntax error taken for an unknown field")
	}
}

// TestDecodeStrict sends bodies that must be refused before any use case
// runs, and checks the status, code and field of each.
func TestDecodeStrict(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(*testing.T) engine.Store) {
		t.Parallel()
		b := setup(t, open)
		before := b.count(t, b.admin, "/v1/promotions")
		tests := []struct {
			name   string
			body   any
			hdr    []string
			status int
			code   string
			field  string // of the first field error, when there is one
		}{
			{"unknown field", `{"name":"x","colour":"red"}`, nil, 400, "malformed", "colour"},
			{"unknown nested field", `{"name":"x","coupon":{"per_person":1,"quantity":1,"cheat":true}}`, nil, 400, "malformed", "cheat"},
			{"wrong type", `{"name":5}`, nil, 400, "malformed", "name"},
			{"wrong nested type", `{"coupon":{"per_person":"many"}}`, nil, 400, "malformed", "coupon.per_person"},
			{"wrong type in nullable", `{"total_uses":"ten"}`, nil, 400, "malformed", "total_uses"},
			{"overflow", `{"amount_off":99999999999999999999}`, nil, 400, "malformed", "amount_off"},
			{"float for integer", `{"amount_off":1.5}`, nil, 400, "malformed", "amount_off"},
			{"exponent overflow", `{"priority":1e400}`, nil, 400, "malformed", "priority"},
			{"negative", `{"name":"x","type":"amount_off","amount_off":-5}`, nil, 422, "invalid", "amount_off"},
			{"negative limit", `{"name":"x","type":"amount_off","amount_off":5,"total_uses":-1}`, nil, 422, "invalid", "total_uses"},
			{"bad time", `{"name":"x","starts_at":"tomorrow"}`, nil, 400, "malformed", ""},
			{"invalid UTF-8", "{\"name\":\"\xff\xfe\"}", nil, 400, "malformed", ""},
			{"syntax", `{"name":`, nil, 400, "malformed", ""},
			{"syntax in the middle", `{"name" "x"}`, nil, 400, "malformed", ""},
			{"trailing value", `{"name":"x"}{}`, nil, 400, "malformed", ""},
			{"trailing garbage", `{"name":"x"} x`, nil, 400, "malformed", ""},
			{"array", `[]`, nil, 400, "malformed", ""},
			{"string", `"promotion"`, nil, 400, "malformed", ""},
			{"empty", ``, nil, 400, "malformed", ""},
			{"blank", "  \n", nil, 400, "malformed", ""},
			{"too large", `{"name":"` + strings.Repeat("a", maxJSONBody) + `"}`, nil, 413, "too_large", ""},
			{"one byte too large", strings.Repeat(" ", maxJSONBody-2) + "{}" + " ", nil, 413, "too_large", ""},
			{"no content type", `{}`, []string{"Content-Type", ""}, 415, "unsupported_media", ""},
			{"text", `{}`, []string{"Content-Type", "text/plain"}, 415, "unsupported_media", ""},
			{"latin1", `{}`, []string{"Content-Type", "application/json; charset=latin1"}, 415, "unsupported_media", ""},
			{"form", `name=x`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media", ""},
		}
		for _, tc := range tests {
			r := b.c.do(t, "POST", "/v1/promotions", b.seller, tc.body, tc.hdr...)
			if r.StatusCode != tc.status || r.Problem == nil || r.Problem.Code != tc.code {
				t.Errorf("%s: status %d, want %d %s: %s", tc.name, r.StatusCode, tc.status, tc.code, r.Body)
				continue
			}
			if tc.field != "" && (len(r.Problem.Errors) == 0 || r.Problem.Errors[0].Field != tc.field) {
				t.Errorf("%s: errors %+v, want field %s", tc.name, r.Problem.Errors, tc.field)
			}
			if tc.field != "" && !strings.Contains(r.Problem.Detail, strings.TrimPrefix(tc.field, "coupon.")) {
				t.Errorf("%s: the detail %q does not name %s", tc.name, r.Problem.Detail, tc.field)
			}
		}
		// Exactly the limit is accepted (and then refused by validation).
		r := b.c.do(t, "POST", "/v1/promotions", b.seller, strings.Repeat(" ", maxJSONBody-2)+"{}")
		if r.StatusCode != 422 {
			t.Errorf("a body of exactly %d bytes: %d %s", maxJSONBody, r.StatusCode, r.Body)
		}
		// A charset of UTF-8 is fine.
		mustDo(t, b, b.seller, "POST", "/v1/promotions", `{"name":"ok","type":"amount_off","amount_off":1}`, 201, "Content-Type", "application/json; charset=UTF-8")
		if after := b.count(t, b.admin, "/v1/promotions"); after != before+1 {
			t.Errorf("promotions: %d before, %d after, want one more", before, after)
		}
	})
}

// TestQueryParams checks the validation of list parameters.
func TestQueryParams(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.OpenSQLite)
	for _, tc := range []struct{ path, field string }{
		{"/v1/promotions?limit=0", "limit"},
		{"/v1/promotions?limit=1001", "limit"},
		{"/v1/promotions?limit=ten", "limit"},
		{"/v1/promotions?limit=-1", "limit"},
		{"/v1/promotions?status=running", "status"},
		{"/v1/promotions?channel=tv", "channel"},
		{"/v1/keys?limit=0", "limit"},
		{"/v1/stores?limit=5000", "limit"},
		{"/v1/partners?limit=x", "limit"},
		{"/v1/promotions/" + b.promo.ID + "/codes?limit=0", "limit"},
		{"/v1/stores/" + b.shop.ID + "/products?after=" + strings.Repeat("z", 201), "after"},
	} {
		r := b.c.do(t, "GET", tc.path, b.admin, nil)
		if r.StatusCode != 422 || r.Problem.Code != "invalid" || len(r.Problem.Errors) == 0 || r.Problem.Errors[0].Field != tc.field {
			t.Errorf("%s: %d %s, want 422 on %s", tc.path, r.StatusCode, r.Body, tc.field)
		}
	}
	for _, path := range []string{"/v1/promotions?limit=1", "/v1/promotions?limit=1000", "/v1/promotions?status=scheduled&channel=store"} {
		mustDo(t, b, b.admin, "GET", path, nil, 200)
	}
}
