package http

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
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
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
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
			{"invalid UTF-8", "{\"name\":\"\xff\xfe\"}", nil, 422, "invalid", "name"},
			{"invalid UTF-8 outside strings", "{\"name\":\"x\"\xff}", nil, 400, "malformed", ""},
			{"NUL", `{"name":"a\u0000"}`, nil, 422, "invalid", "name"},
			{"lone surrogate", `{"name":"x","description":"\ud800"}`, nil, 422, "invalid", "description"},
			{"duplicate", `{"name":"x","name":"y"}`, nil, 400, "malformed", "name"},
			{"duplicate nested", `{"name":"x","coupon":{"quantity":1,"quantity":2}}`, nil, 400, "malformed", "coupon.quantity"},
			{"misspelt case", `{"Name":"x"}`, nil, 400, "malformed", "Name"},
			{"misspelt case nested", `{"name":"x","coupon":{"Quantity":1}}`, nil, 400, "malformed", "Quantity"},
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
	b := setup(t, dbtest.OpenSQLite)
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

// TestDecodeText decodes bodies with strings that are not valid text,
// duplicate keys and misspelt field names, and checks the error code,
// field and field code of each, and that valid text, surrogate pairs
// included, decodes.
func TestDecodeText(t *testing.T) {
	t.Parallel()
	const cart = `"cart":{"store_id":"s","currency":"USD","lines":[{"product_id":"p1","quantity":1,"unit_price":100},{"product_id":"p2","quantity":1,"unit_price":100}]}`
	tests := []struct {
		name      string
		body      string
		code      string // "" when the body decodes
		field     string
		fieldCode string
	}{
		// Not text: NUL, other controls, invalid UTF-8 and lone surrogates,
		// in values at every depth and in keys.
		{"NUL in a code", `{"codes":["A\u0000B"]}`, "invalid", "codes[0]", "invalid_text"},
		{"NUL in the second code", `{"codes":["A","B\u0000"]}`, "invalid", "codes[1]", "invalid_text"},
		{"upper case escape", `{"codes":["\U0000"]}`, "malformed", "", ""},
		{"NUL in a nested value", `{` + strings.Replace(cart, `"p2"`, `"p\u0000"`, 1) + `}`, "invalid", "cart.lines[1].product_id", "invalid_text"},
		{"NUL in an object", `{"customer":{"email":"a\u0000@b.c"}}`, "invalid", "customer.email", "invalid_text"},
		{"NUL in the store", `{"cart":{"store_id":"\u0000"}}`, "invalid", "cart.store_id", "invalid_text"},
		{"unit separator", `{"codes":["A\u001fB"]}`, "invalid", "codes[0]", "invalid_text"},
		{"escape", `{"codes":["\u001b[31m"]}`, "invalid", "codes[0]", "invalid_text"},
		{"backspace", `{"codes":["A\bB"]}`, "invalid", "codes[0]", "invalid_text"},
		{"form feed", `{"codes":["A\fB"]}`, "invalid", "codes[0]", "invalid_text"},
		{"DEL escaped", `{"codes":["A\u007fB"]}`, "invalid", "codes[0]", "invalid_text"},
		{"DEL raw", "{\"codes\":[\"A\x7fB\"]}", "invalid", "codes[0]", "invalid_text"},
		{"C1 escaped", `{"codes":["A\u0085B"]}`, "invalid", "codes[0]", "invalid_text"},
		{"C1 raw", "{\"codes\":[\"A\u0085B\"]}", "invalid", "codes[0]", "invalid_text"},
		{"invalid UTF-8", "{\"codes\":[\"\xff\xfe\"]}", "invalid", "codes[0]", "invalid_text"},
		{"truncated UTF-8", "{\"customer\":{\"email\":\"\xc3\"}}", "invalid", "customer.email", "invalid_text"},
		{"encoded surrogate", "{\"codes\":[\"\xed\xa0\x80\"]}", "invalid", "codes[0]", "invalid_text"},
		{"overlong", "{\"codes\":[\"\xc0\xaf\"]}", "invalid", "codes[0]", "invalid_text"},
		{"lone high surrogate", `{"codes":["\ud800"]}`, "invalid", "codes[0]", "invalid_text"},
		{"lone low surrogate", `{"codes":["\udc00"]}`, "invalid", "codes[0]", "invalid_text"},
		{"high then letter", `{"codes":["\ud800x"]}`, "invalid", "codes[0]", "invalid_text"},
		{"high then escape", `{"codes":["\ud800\n"]}`, "invalid", "codes[0]", "invalid_text"},
		{"high twice", `{"codes":["\ud800\ud800"]}`, "invalid", "codes[0]", "invalid_text"},
		{"low then high", `{"codes":["\udc00\ud800"]}`, "invalid", "codes[0]", "invalid_text"},
		{"high at the end", `{"codes":["\uDBFF"]}`, "invalid", "codes[0]", "invalid_text"},
		{"NUL in a key", `{"co\u0000des":["A"]}`, "invalid", `co\u0000des`, "invalid_text"},
		{"NUL in a nested key", `{"cart":{"li\u0000nes":[]}}`, "invalid", `cart.li\u0000nes`, "invalid_text"},
		{"invalid UTF-8 in a key", "{\"cart\":{\"a\xffb\":1}}", "invalid", `cart.a\xffb`, "invalid_text"},
		{"lone surrogate in a key", `{"cart":{"lines":[{"\udc00":1}]}}`, "invalid", `cart.lines[0].\udc00`, "invalid_text"},
		{"bad text in an unknown field", `{"colour":"\u0000"}`, "invalid", "colour", "invalid_text"},
		{"bad text beside a wrong type", `{"cart":5,"codes":["\u0000"]}`, "invalid", "codes[0]", "invalid_text"},
		{"bad text in a body that is not JSON", `{"codes":["\u0000"]`, "malformed", "", ""},
		{"bad text then garbage", `{"codes":["\u0000"]} x`, "malformed", "", ""},
		{"invalid UTF-8 outside strings", "{\"codes\":[]\xff}", "malformed", "", ""},
		{"bad text at the top", `"\u0000"`, "malformed", "", ""},

		// Valid text.
		{"emoji", `{"codes":["\ud83d\ude00","😀","\uD83D\uDE00x"]}`, "", "", ""},
		{"tab and line breaks", `{"customer":{"email":"a\tb\nc\r"}}`, "", "", ""},
		{"replacement character", `{"codes":["\ufffd","` + "\ufffd" + `"]}`, "", "", ""},
		{"letters", `{"codes":["ÉTÉ-été","\u00e9","日本"],"customer":{"email":"\/x"}}`, "", "", ""},
		{"next to the controls", `{"codes":["\u00a0 \u2028 \ufffe ~ \u0020` + "\u00a0\u00ff" + `"]}`, "", "", ""},

		// Duplicates, at several depths, however the key is written.
		{"duplicate", `{"codes":["A"],"codes":["B"]}`, "malformed", "codes", "duplicate_field"},
		{"duplicate in the cart", `{"cart":{"currency":"USD","store_id":"s","currency":"EUR"}}`, "malformed", "cart.currency", "duplicate_field"},
		{"duplicate in a line", `{"cart":{"lines":[{},{"quantity":1,"quantity":2}]}}`, "malformed", "cart.lines[1].quantity", "duplicate_field"},
		{"duplicate escaped", `{"codes":["A"],"\u0063odes":["B"]}`, "malformed", "codes", "duplicate_field"},
		{"duplicate both escaped", `{"\u0063odes":["A"],"c\u006fdes":["B"]}`, "malformed", "codes", "duplicate_field"},
		{"duplicate unknown", `{"x":1,"x":2}`, "malformed", "x", "duplicate_field"},
		{"duplicate null", `{"customer":null,"customer":{"email":"a@b.c"}}`, "malformed", "customer", "duplicate_field"},
		{"not a duplicate", `{"cart":{"lines":[{"quantity":1},{"quantity":2}]},"customer":{"email":"a@b.c"}}`, "", "", ""},
		{"same key in two objects", `{"cart":{"store_id":"s"},"customer":{"customer_id":"s"}}`, "", "", ""},
		{"keys that differ in case", `{"codes":[],"Codes":[]}`, "malformed", "Codes", "unknown_field"},

		// Field names are spelt exactly.
		{"upper case field", `{"CODES":["A"]}`, "malformed", "CODES", "unknown_field"},
		{"title case nested", `{"cart":{"Store_ID":"s"}}`, "malformed", "Store_ID", "unknown_field"},
		{"title case in a line", `{"cart":{"lines":[{"Quantity":1}]}}`, "malformed", "Quantity", "unknown_field"},
		{"every field", `{"codes":[],"customer":{"customer_id":"c","email":"e","phone":"p"},` + cart + `}`, "", "", ""},
	}
	for _, tc := range tests {
		var in engine.ValidateInput
		err := unmarshalStrict([]byte(tc.body), &in)
		if tc.code == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		e, ok := err.(*promokit.Error)
		if !ok || e.Code != tc.code {
			t.Errorf("%s: %q: %v, want %s", tc.name, tc.body, err, tc.code)
			continue
		}
		if tc.field == "" {
			continue
		}
		if len(e.Fields) != 1 || e.Fields[0].Field != tc.field || e.Fields[0].Code != tc.fieldCode {
			t.Errorf("%s: %q: fields %+v, want %s %s", tc.name, tc.body, e.Fields, tc.field, tc.fieldCode)
		}
		if !strings.Contains(e.Message, tc.field) {
			t.Errorf("%s: the message %q does not name %s", tc.name, e.Message, tc.field)
		}
	}
}

// TestDecodeExactNames checks that field names inside a partial update's
// nullable object are spelt exactly too, and that keys are compared as
// text after their escapes.
func TestDecodeExactNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body, code, field string
	}{
		{`{"coupon":{"per_person":1}}`, "", ""},
		{`{"coupon":{"Per_Person":1}}`, "malformed", "Per_Person"},
		{`{"coupon":{"per_person":1,"per_person":2}}`, "malformed", "coupon.per_person"},
		{`{"coupon":{"per_person":"many"}}`, "malformed", "coupon.per_person"},
		{`{"Name":"x"}`, "malformed", "Name"},
		{`{"n\u0061me":"x"}`, "", ""},
		{`{"name":"x","description":"one\ntwo"}`, "", ""},
		{`{"name":"x\u0000"}`, "invalid", "name"},
		{`{"product_ids":["a","\udfff"]}`, "invalid", "product_ids[1]"},
	} {
		var in engine.PromotionInput
		err := unmarshalStrict([]byte(tc.body), &in)
		if promokit.ErrorCode(err) != tc.code && !(tc.code == "" && err == nil) {
			t.Errorf("%s: %v, want %q", tc.body, err, tc.code)
			continue
		}
		if e, ok := err.(*promokit.Error); ok && (len(e.Fields) != 1 || e.Fields[0].Field != tc.field) {
			t.Errorf("%s: fields %+v, want %s", tc.body, e.Fields, tc.field)
		}
	}
}
