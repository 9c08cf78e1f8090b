package http

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
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
	func() any { return new(engine.PayoutInput) },
	func() any { return new(engine.DisputeInput) },
}

// strictRule returns the rule of the request decoder that encoding/json
// does not apply and that refuses data as a t: a string, value or key,
// that is not valid text ("text"), a key given twice in one object
// ("duplicate"), or a field name that matches a field of t only
// regardless of case ("case"). It returns "" when none does. It finds
// them through encoding/json, not the way scanJSON does.
func strictRule(data []byte, t reflect.Type) string {
	if !utf8.Valid(data) {
		return "text"
	}
	var v any
	if stdjson.Unmarshal(data, &v) != nil {
		return ""
	}
	// encoding/json turns each escaped lone surrogate into U+FFFD: more
	// of those after decoding than the body writes is one.
	written := strings.Count(string(data), "\ufffd") + bytes.Count(bytes.ToLower(data), []byte(`\ufffd`))
	decoded := 0
	bad := false
	walkJSON(v, func(s string) {
		decoded += strings.Count(s, "\ufffd")
		bad = bad || !validText(s)
	})
	if bad || decoded > written {
		return "text"
	}
	if duplicateKey(data) {
		return "duplicate"
	}
	if !exactNames(v, t) {
		return "case"
	}
	return ""
}

// walkJSON calls fn with every string of v, a value decoded into any, keys
// included.
func walkJSON(v any, fn func(string)) {
	switch v := v.(type) {
	case string:
		fn(v)
	case []any:
		for _, e := range v {
			walkJSON(e, fn)
		}
	case map[string]any:
		for k, e := range v {
			fn(k)
			walkJSON(e, fn)
		}
	}
}

// duplicateKey reports whether an object of data, valid JSON, has a key
// twice, reading data as encoding/json's tokens.
func duplicateKey(data []byte) bool {
	type frame struct {
		object, wantKey bool
		keys            map[string]bool
	}
	var stack []*frame
	dec := stdjson.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.wantKey {
			if d, ok := tok.(stdjson.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			k := tok.(string)
			if top.keys[k] {
				return true
			}
			top.keys[k], top.wantKey = true, false
			continue
		}
		switch tok {
		case stdjson.Delim('{'), stdjson.Delim('['):
			if top != nil && top.object {
				top.wantKey = true
			}
			stack = append(stack, &frame{object: tok == stdjson.Delim('{'), wantKey: true, keys: map[string]bool{}})
		case stdjson.Delim('}'), stdjson.Delim(']'):
			stack = stack[:len(stack)-1]
		default:
			if top != nil && top.object {
				top.wantKey = true
			}
		}
	}
}

// exactNames reports whether every key of v's objects that stands for a
// field of a struct of t is spelt as the field's JSON name. Keys that
// name no field are encoding/json's to refuse.
func exactNames(v any, t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if strings.HasPrefix(t.Name(), "Nullable[") {
		t = t.Field(2).Type // Value
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		arr, _ := v.([]any)
		for _, e := range arr {
			if !exactNames(e, t.Elem()) {
				return false
			}
		}
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok || t == reflect.TypeFor[time.Time]() {
			return true
		}
		fields := jsonFields(t)
		for k, e := range obj {
			for name, ft := range fields {
				if strings.EqualFold(name, k) {
					if name != k || !exactNames(e, ft) {
						return false
					}
					break
				}
			}
		}
	}
	return true
}

// jsonFields returns the JSON names of the fields of struct type t, with
// those of its embedded structs, and their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported():
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			for n, ft := range jsonFields(f.Type) {
				out[n] = ft
			}
		case name == "":
			out[f.Name] = f.Type
		default:
			out[name] = f.Type
		}
	}
	return out
}

// checkStrings fails t if a string of v, a decoded value, is not valid
// text, or holds U+FFFD that data does not write.
func checkStrings(t *testing.T, v any, data []byte) {
	t.Helper()
	writes := bytes.Contains(data, []byte("\ufffd")) || bytes.Contains(bytes.ToLower(data), []byte(`\ufffd`))
	var walk func(reflect.Value, string)
	walk = func(rv reflect.Value, path string) {
		switch rv.Kind() {
		case reflect.String:
			s := rv.String()
			if !validText(s) || strings.ContainsRune(s, utf8.RuneError) && !writes {
				t.Fatalf("%s decoded as %q from %q", path, s, data)
			}
		case reflect.Pointer, reflect.Interface:
			if !rv.IsNil() {
				walk(rv.Elem(), path)
			}
		case reflect.Slice, reflect.Array:
			for i := range rv.Len() {
				walk(rv.Index(i), path+"[]")
			}
		case reflect.Map:
			for _, k := range rv.MapKeys() {
				walk(k, path+" key")
				walk(rv.MapIndex(k), path+"{}")
			}
		case reflect.Struct:
			for i := range rv.NumField() {
				if rv.Type().Field(i).IsExported() {
					walk(rv.Field(i), path+"."+rv.Type().Field(i).Name)
				}
			}
		}
	}
	walk(reflect.ValueOf(v), "")
}

// FuzzDecodeLikeStdlib checks that the request decoder, faster than
// encoding/json, accepts exactly the bodies encoding/json accepts, into
// the same values, for every type a request body is decoded into, except
// those that break one of its own rules (strictRule): text that is not
// valid, a key given twice, a field name in another case. What it refuses
// it refuses as EMalformed, or as EInvalid for text that is not valid; a
// body it accepts has no duplicate key, and decodes into strings that are
// valid text without a U+FFFD the body does not write. Seeds are below
// (with one encoded zero value of each type) and in
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
		`{"codes":["A\u0000B"]}`,
		`{"codes":["\ud83d\ude00","\ufffd"]}`,
		`{"cart":{"lines":[{"product_id":"a","product_id":"b"}]}}`,
		`{"coupon":{"Per_Person":1},"name":"x"}`,
		"{\"codes\":[\"\xc2\x85\",\"\x7f\"]}",
		"{\"cart\":{\"store_id\":\"\xff\"}}",
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
			code := promokit.ErrorCode(err)
			rule := strictRule(body, reflect.TypeOf(got))
			switch {
			case err == nil && werr != nil:
				t.Fatalf("%T: took %q that encoding/json refuses (%v): %+v", got, body, werr, got)
			case err == nil && rule != "":
				t.Fatalf("%T: took %q that breaks the %s rule", got, body, rule)
			case err == nil && !reflect.DeepEqual(got, want):
				t.Fatalf("%T: %q decoded as\n%+v\nnot as\n%+v", got, body, got, want)
			case err == nil:
				checkStrings(t, got, body)
			case werr == nil && rule == "":
				t.Fatalf("%T: refused %q that encoding/json takes: %v", got, body, err)
			case code == promokit.EInvalid && rule != "text":
				t.Fatalf("%T: %q refused as %s: %v", got, body, code, err)
			case code != promokit.EMalformed && code != promokit.EInvalid:
				t.Fatalf("%T: %q refused as %s, not %s", got, body, code, promokit.EMalformed)
			}
		}
	})
}
