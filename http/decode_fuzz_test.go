package http

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"io"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// stdlibStrict is unmarshalStrict written with encoding/json, the
// reference the request decoder must agree with.
func stdlibStrict(data []byte, dst any) error {
	if len(bytes.TrimSpace(data)) == 0 || !utf8.Valid(data) {
		return errors.New("empty or not UTF-8")
	}
	dec := stdjson.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("more after the value")
	}
	return nil
}

// decodeTargets makes a new value of each type that decodeJSON decodes a
// request body into.
var decodeTargets = []func() any{
	func() any { return new(engine.ValidateInput) },
	func() any { return new(engine.RedeemInput) },
	func() any { return new(reserveInput) },
	func() any { return new(engine.QualifyInput) },
	func() any { return new(engine.PromotionInput) },
	func() any { return new(engine.CodeInput) },
	func() any { return new(promokit.CodeSpec) },
	func() any { return new(engine.StoreInput) },
	func() any { return new(engine.SettingsInput) },
	func() any { return new(engine.KeyInput) },
	func() any { return new(engine.PartnerInput) },
	func() any { return new(engine.ProductInput) },
	func() any { return new(engine.LinkInput) },
	func() any { return new(engine.JoinInput) },
	func() any { return new(engine.RateInput) },
	func() any { return new(engine.OrderEventInput) },
}

// FuzzDecodeLikeStdlib checks that the request decoder, faster than
// encoding/json, accepts exactly the bodies encoding/json accepts, into
// the same values, for every type a request body is decoded into; and that
// what it refuses it refuses as EMalformed. Seeds are below (with one
// encoded zero value of each type) and in
// testdata/fuzz/FuzzDecodeLikeStdlib.
func FuzzDecodeLikeStdlib(f *testing.F) {
	for _, s := range []string{
		`{"cart":{"store_id":"s","currency":"USD","shipping":499,"lines":[{"product_id":"p1","quantity":1,"unit_price":1999}]},"customer":{"email":"a@b.c"},"codes":["A","B"]}`,
		`{"CART":{"Store_ID":"s"},"codes":null}`,
		`{"cart":{"lines":[{"quantity":1e2}]}}`,
		`{"cart":{"shipping":9223372036854775808}}`,
		`{"cart":{"shipping":-0}}`,
		`{"codes":["\u00e9\ud800x","\\"]}`,
		`{"codes":["a"],"codes":["b"]}`,
		`{"unknown":1}`,
		`{"cart":null} {}`,
		`{"cart":{"store_id":1}}`,
		`{"usage_limit":null,"expires_at":"2026-01-16T00:00:00Z","per_customer_limit":3}`,
		`{"expires_at":"2026-13-01T00:00:00Z"}`,
		`{"name":"x","type":"percent_off","percent_off_bp":1000,"starts_at":"2026-01-01T00:00:00+01:00"}`,
		`{"order_id":"o1","amount":{"x":1}}`,
		`[]`, `null`, `"s"`, `{`, `{"a":}`, ` {} `, "{}\n",
	} {
		f.Add([]byte(s))
	}
	for _, target := range decodeTargets {
		seed, err := stdjson.Marshal(target())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, target := range decodeTargets {
			got, want := target(), target()
			err, werr := unmarshalStrict(body, got), stdlibStrict(body, want)
			switch {
			case err != nil && werr == nil:
				t.Fatalf("%T: refused %q that encoding/json takes: %v", got, body, err)
			case err == nil && werr != nil:
				t.Fatalf("%T: took %q that encoding/json refuses (%v): %+v", got, body, werr, got)
			case err == nil && !reflect.DeepEqual(got, want):
				t.Fatalf("%T: %q decoded as\n%+v\nnot as\n%+v", got, body, got, want)
			case err != nil && promokit.ErrorCode(err) != promokit.EMalformed:
				t.Fatalf("%T: %q refused as %s, not %s", got, body, promokit.ErrorCode(err), promokit.EMalformed)
			}
		}
	})
}
