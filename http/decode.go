package http

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
	"github.com/segmentio/encoding/json"
)

// maxJSONBody is the largest JSON request body, in bytes.
const maxJSONBody = 1 << 20

// malformed returns the EMalformed error of an undecodable request, with
// the field at fault when it is known.
func malformed(field, code, format string, args ...any) error {
	e := promokit.Errorf(promokit.EMalformed, format, args...)
	if field != "" {
		e.Fields = []promokit.FieldError{{Field: field, Code: code, Message: e.Message}}
	}
	return e
}

// checkMediaType refuses a request whose Content-Type is not want
// (EUnsupportedMedia). A charset parameter, when given, must be UTF-8.
func checkMediaType(r *http.Request, want string) error {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != want {
		return promokit.Errorf(promokit.EUnsupportedMedia, "the body must be sent as Content-Type: %s", want)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return promokit.Errorf(promokit.EUnsupportedMedia, "the body must be encoded in UTF-8, not %s", cs)
	}
	return nil
}

// readBody reads the whole body of r, up to limit bytes (ETooLarge beyond).
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, promokit.Errorf(promokit.ETooLarge, "the body may have at most %d bytes", limit)
		}
		return nil, malformed("", "", "the body could not be read")
	}
	return data, nil
}

// decodeJSON decodes the JSON body of r into dst strictly: the
// Content-Type must be application/json (EUnsupportedMedia), the body at
// most maxJSONBody bytes (ETooLarge), and it must hold exactly one JSON
// value of dst's shape, with field names spelt exactly, no unknown field
// and no key twice in one object (EMalformed, naming the field when it
// can). Every string of a body that is JSON, keys included, must be valid
// text (text.go), or the request is EInvalid naming the field, with the
// field code invalid_text. Values that decode but break a rule, such as a
// negative amount, are left to the domain's validation.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if err := checkMediaType(r, "application/json"); err != nil {
		return err
	}
	body, err := readBody(w, r, maxJSONBody)
	if err != nil {
		return err
	}
	return unmarshalStrict(body, dst)
}

// strictFlags are the flags of every decode of a request body.
const strictFlags = json.DisallowUnknownFields | json.DontMatchCaseInsensitiveStructFields

// unmarshalStrict decodes one JSON value from data into dst; see decodeJSON.
// A body that is not JSON is EMalformed even when one of its strings is
// not valid text; a body that is JSON with a string that is not valid
// text is EInvalid even when it does not have dst's shape, as the text is
// checked first.
func unmarshalStrict(data []byte, dst any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return malformed("", "", "a JSON body is required")
	}
	found := scanJSON(data)
	switch found.fault {
	case faultDuplicate:
		return malformed(found.field, "duplicate_field", "%s is given twice: each field may appear once in its object", found.field)
	case faultText:
		if found.field != "" && json.Valid(data) {
			return invalidText(found.field)
		}
	}
	rest, err := json.Parse(data, dst, strictFlags)
	if err != nil {
		return jsonError(err)
	}
	if len(bytes.Trim(rest, " \t\r\n")) > 0 { // JSON's white space only
		return malformed("", "", "the body must hold one JSON value and nothing after it")
	}
	switch found.fault {
	case faultText: // the body is one string
		return invalidText(found.field)
	case faultDepth:
		return malformed("", "", "the body nests arrays and objects more than %d deep", maxJSONDepth)
	case faultSyntax: // the decoder should have said why
		return malformed("", "", "the body is not valid JSON")
	}
	return nil
}

// jsonError turns an error of encoding/json into an EMalformed error that
// names the field at fault when encoding/json tells it.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tpe *time.ParseError
	switch {
	case errors.As(err, &syn):
		return malformed("", "", "the body is not valid JSON: %s (at byte %d)", syn.Error(), syn.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return malformed("", "", "the body must be %s", jsonKind(typ.Type))
		}
		what, _, _ := strings.Cut(typ.Value, " ")
		if what == "number" && isInteger(typ.Type) {
			return malformed(field, "wrong_type", "%s must be %s within its range", field, jsonKind(typ.Type))
		}
		return malformed(field, "wrong_type", "%s must be %s, not %s", field, jsonKind(typ.Type), what)
	case errors.As(err, &tpe):
		return malformed("", "", "a time is not in RFC 3339 format, such as 2025-01-02T15:04:05Z: %s", tpe.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return malformed("", "", "the body ends in the middle of a JSON value")
	}
	if field, ok := unknownField(err); ok {
		return malformed(field, "unknown_field", "unknown field %q", field)
	}
	return malformed("", "", "the body cannot be decoded: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// unknownField returns the field named by the error that
// Decoder.DisallowUnknownFields produces, which encoding/json reports as
// text only: `json: unknown field "name"`. This is the one place that
// reads an error's text; decode_test.go pins it.
func unknownField(err error) (string, bool) {
	rest, ok := strings.CutPrefix(err.Error(), "json: unknown field ")
	if !ok {
		return "", false
	}
	name, uerr := strconv.Unquote(rest)
	if uerr != nil {
		return rest, true
	}
	return name, true
}

// jsonKind describes the JSON value a Go type takes.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	if t == reflect.TypeFor[time.Time]() {
		return "an RFC 3339 time string"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "another type"
}

// isInteger reports whether t is an integer type.
func isInteger(t reflect.Type) bool {
	if t == nil {
		return false
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// pageParams reads the cursor and page size of a list request: after, and
// limit between 1 and promokit.MaxPageSize (promokit.DefaultPageSize when
// absent). Bad values are added to v.
func pageParams(q url.Values, v *promokit.Validation) storage.Page {
	p := storage.Page{After: q.Get("after"), Limit: promokit.DefaultPageSize}
	if len(p.After) > 200 {
		v.Add("after", "invalid", "after must be a cursor returned as next_cursor")
	}
	if s, ok := q["limit"]; ok {
		n, err := strconv.Atoi(s[0])
		if err != nil || n < 1 || n > promokit.MaxPageSize {
			v.Add("limit", "out_of_range", "limit must be an integer between 1 and %d", promokit.MaxPageSize)
		} else {
			p.Limit = n
		}
	}
	return p
}

// ifMatch returns the version named by the request's If-Match header, the
// ETag a client read. An edit without it is EPreconditionNeeded, so that
// no client overwrites a change it has not seen; a value that is not one
// strong ETag of ours, such as "*" or a weak tag, can match no version
// and is EVersionMismatch.
func ifMatch(r *http.Request) (int64, error) {
	vals := r.Header.Values("If-Match")
	if len(vals) == 0 {
		return 0, promokit.Errorf(promokit.EPreconditionNeeded, "send If-Match with the ETag you read, such as If-Match: \"3\", so that no change is lost")
	}
	v := strings.TrimSpace(vals[0])
	if len(vals) == 1 && len(v) >= 3 && v[0] == '"' && v[len(v)-1] == '"' {
		if n, err := strconv.ParseInt(v[1:len(v)-1], 10, 64); err == nil && n > 0 {
			return n, nil
		}
	}
	return 0, promokit.Errorf(promokit.EVersionMismatch, "If-Match must be the one ETag you read, such as \"3\"")
}

// etag returns the ETag of a version.
func etag(version int64) string {
	return `"` + strconv.FormatInt(version, 10) + `"`
}

// queryEnum checks that the query parameter name, when present, is one of
// allowed, adding an error to v otherwise, and returns it.
func queryEnum(q url.Values, v *promokit.Validation, name string, allowed ...string) string {
	s := q.Get(name)
	if s == "" {
		return ""
	}
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	v.Add(name, "invalid", "%s must be one of %s", name, strings.Join(allowed, ", "))
	return s
}
