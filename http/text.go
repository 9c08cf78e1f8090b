package http

import (
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/promokit/promokit"
)

// Text at the edge. Every string an API request (/v1/) carries into the
// engine (the wildcards of its path, the names and values of its query,
// and every string of its JSON body, keys included) must be valid text:
// UTF-8 with no control character other than tab, line feed and carriage
// return. NUL, the other C0 controls (U+0001 to U+001F), DEL and the C1
// controls (U+007F to U+009F), invalid UTF-8 and, in JSON, an escaped
// surrogate that is not half of a pair are refused with EInvalid and the
// field code codeInvalidText, before any use case runs. No field of the
// API has a use for them, PostgreSQL refuses NUL in text while SQLite
// stores it, and the others corrupt logs, CSV exports and the screens
// codes are typed into; refusing them at the edge gives one answer on both
// databases.

// codeInvalidText is the field code of a string that is not valid text.
const codeInvalidText = "invalid_text"

// invalidTextMessage says what valid text is, after the field's name.
const invalidTextMessage = " must be UTF-8 text without NUL, control characters other than tab and line breaks, or unpaired surrogates"

// forbiddenRune reports whether r is a control character that text may
// not hold: any of C0, DEL and C1 except tab, line feed and carriage
// return.
func forbiddenRune(r rune) bool {
	return r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r >= 0x7f && r <= 0x9f
}

// validText reports whether s is valid text: UTF-8 without a forbidden
// control character. A U+FFFD written as such is valid.
func validText(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if forbiddenRune(rune(c)) {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || forbiddenRune(r) {
			return false
		}
		i += size
	}
	return true
}

// headerText returns the value of a header that is stored as text, such
// as a click's User-Agent, made valid: each invalid byte and forbidden
// control character becomes U+FFFD. net/http refuses control characters in
// headers but lets any byte from 0x80 through, and a header is the
// browser's, not a field the client can correct, so it is mended rather
// than refused.
func headerText(s string) string {
	if validText(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if forbiddenRune(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
		i += size
	}
	return b.String()
}

// invalidText returns the EInvalid error of a field that is not valid
// text.
func invalidText(field string) error {
	what := field
	if what == "" {
		what = "the body"
	}
	e := promokit.Errorf(promokit.EInvalid, "%s", what+invalidTextMessage)
	e.Fields = []promokit.FieldError{{Field: field, Code: codeInvalidText, Message: e.Message}}
	return e
}

// maxShownText is how many bytes of a client's text a field name or a log
// line shows.
const maxShownText = 64

// escapeText returns s in printable ASCII, for a field name or a log line
// that must show a client's text that may not be valid: bytes outside
// printable ASCII are written \xNN, and the result is cut after about max
// bytes, ending in "...".
func escapeText(s string, max int) string {
	clean := len(s) <= max
	for i := 0; clean && i < len(s); i++ {
		clean = s[i] >= ' ' && s[i] <= '~'
	}
	if clean {
		return s
	}
	const hex = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if b.Len() >= max {
			b.WriteString("...")
			break
		}
		if c := s[i]; c >= ' ' && c <= '~' {
			b.WriteByte(c)
		} else {
			b.WriteString(`\x`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		}
	}
	return b.String()
}

// wildcards returns the names of the wildcards of a ServeMux pattern, such
// as id and order_id for "/v1/stores/{id}/orders/{order_id}".
func wildcards(pattern string) []string {
	var names []string
	for {
		_, rest, ok := strings.Cut(pattern, "{")
		if !ok {
			return names
		}
		name, after, ok := strings.Cut(rest, "}")
		if !ok {
			return names
		}
		name = strings.TrimSuffix(name, "...")
		if name != "$" {
			names = append(names, name)
		}
		pattern = after
	}
}

// checkedText wraps the handler of a route whose pattern has the wildcards
// names: a request whose wildcard values, query parameter names or query
// parameter values are not valid text is answered EInvalid, naming the
// wildcard or the parameter, and never reaches h.
func checkedText(names []string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkRequestText(r, names); err != nil {
			writeError(w, r, err)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// checkRequestText checks the text of the wildcards names of r's path and
// of its query; see checkedText.
func checkRequestText(r *http.Request, names []string) error {
	for _, name := range names {
		if !validText(r.PathValue(name)) {
			return invalidText(name)
		}
	}
	return checkQueryText(r.URL.RawQuery)
}

// checkQueryText checks the names and values of a raw query. A query of
// printable ASCII without escapes is valid as it is, without decoding it.
func checkQueryText(raw string) error {
	plain := true
	for i := 0; plain && i < len(raw); i++ {
		c := raw[i]
		plain = c > ' ' && c <= '~' && c != '%'
	}
	if plain {
		return nil
	}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		name, value, _ := strings.Cut(pair, "=")
		// A pair that does not unescape is left to the handler, which
		// ignores it as url.ParseQuery does; its raw bytes are checked.
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if v, err := url.QueryUnescape(value); err == nil {
			value = v
		}
		if !validText(name) {
			return invalidText(escapeText(name, maxShownText))
		}
		if !validText(value) {
			return invalidText(name)
		}
	}
	return nil
}

// maxRequestID is the longest X-Request-Id a client's id may be.
const maxRequestID = 64

// validRequestID reports whether id is a well-formed request id: 1 to
// maxRequestID characters among A-Z, a-z, 0-9 and . _ : -.
func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > maxRequestID {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}
