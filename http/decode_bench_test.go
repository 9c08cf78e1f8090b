package http

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/segmentio/encoding/json"

	"github.com/promokit/promokit/engine"
)

// validateLoadBody is the body the load scripts send to POST /v1/validate
// (bench/validate.lua): a 5-line cart, a guest's e-mail and two codes.
const validateLoadBody = `{"cart":{"store_id":"sto_01KDWCJ2M0QQ2NRBGABCW5747N","currency":"USD","shipping":499,"lines":[` +
	`{"product_id":"p1","quantity":1,"unit_price":1999},{"product_id":"p2","quantity":2,"unit_price":550},` +
	`{"product_id":"p3","quantity":1,"unit_price":12000},{"product_id":"p4","quantity":3,"unit_price":99},` +
	`{"product_id":"p5","quantity":1,"unit_price":4500}]},"customer":{"email":"buyer@example.com"},"codes":["K7PX-Q2MD-93HF","ZW4N-8RTC-6VJA"]}`

// decodeLenient is the decoder before strict decoding: the whole body
// checked as UTF-8, then decoded regardless of the case of field names,
// duplicate keys and the text of strings. BenchmarkDecodeValidate
// compares it with unmarshalStrict.
func decodeLenient(data []byte, dst any) error {
	if len(bytes.TrimSpace(data)) == 0 || !utf8.Valid(data) {
		return malformed("", "", "not UTF-8")
	}
	rest, err := json.Parse(data, dst, json.DisallowUnknownFields)
	if err != nil {
		return jsonError(err)
	}
	if len(bytes.Trim(rest, " \t\r\n")) > 0 {
		return malformed("", "", "trailing data")
	}
	return nil
}

// BenchmarkDecodeValidate decodes the load scripts' validate body with the
// decoder before strict decoding (lenient), with the strict one (strict),
// and runs the strict decoder's scan alone (scan).
func BenchmarkDecodeValidate(b *testing.B) {
	body := []byte(validateLoadBody)
	var in engine.ValidateInput
	if err := unmarshalStrict(body, &in); err != nil || len(in.Cart.Lines) != 5 || len(in.Codes) != 2 {
		b.Fatalf("%v %+v", err, in)
	}
	b.Run("lenient", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var in engine.ValidateInput
			if err := decodeLenient(body, &in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("strict", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var in engine.ValidateInput
			if err := unmarshalStrict(body, &in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("scan", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if r := scanJSON(body); r.fault != faultNone {
				b.Fatal(r)
			}
		}
	})
}

// BenchmarkValidateRequest sends the load scripts' validate body, with the
// fixture store's product and code, through the whole server over SQLite:
// what a share of a validate request decoding is.
func BenchmarkValidateRequest(b *testing.B) {
	e := newEngineServer(b)
	body := []byte(strings.NewReplacer("sto_01KDWCJ2M0QQ2NRBGABCW5747N", e.store.ID, `"p1"`, `"sku-1"`, `"p2"`, `"sku-1"`,
		`"p3"`, `"sku-1"`, `"p4"`, `"sku-1"`, `"p5"`, `"sku-1"`, "K7PX-Q2MD-93HF", e.code, "ZW4N-8RTC-6VJA", e.code).Replace(validateLoadBody))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/v1/validate", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.checkout)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}
