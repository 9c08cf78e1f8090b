package http

import (
	"strings"
	"testing"

	"github.com/promokit/promokit"
)

// TestScanJSONDeep checks bodies whose nesting and keys overflow the
// scan's fixed buffers.
func TestScanJSONDeep(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat(`{"a":[`, 40) + `"\u0000"` + strings.Repeat(`]}`, 40)
	want := strings.Repeat("a[0].", 39) + "a[0]"
	if got := scanJSON([]byte(deep)); got.fault != faultText || got.field != want {
		t.Errorf("deep: %+v, want %s", got, want)
	}
	var b strings.Builder
	b.WriteString(`{"o":{`)
	for i := range 100 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"k` + strings.Repeat("x", i) + `":{"k":1,"l":[1,{"k":2}]}`)
	}
	many := b.String()
	if got := scanJSON([]byte(many + `}}`)); got.fault != faultNone {
		t.Errorf("100 keys: %+v", got)
	}
	if got := scanJSON([]byte(many + `,"k\u0078":1}}`)); got.fault != faultDuplicate || got.field != "o.kx" {
		t.Errorf("100 keys and a duplicate: %+v", got)
	}
	if got := scanJSON([]byte(strings.Repeat("[", maxJSONDepth+1))); got.fault != faultDepth {
		t.Errorf("too deep: %+v", got)
	}
	if err := unmarshalStrict([]byte(strings.Repeat("[", maxJSONDepth+1)+strings.Repeat("]", maxJSONDepth+1)), new(any)); promokit.ErrorCode(err) != promokit.EMalformed {
		t.Errorf("too deep: %v", err)
	}
	long := `{"` + strings.Repeat("é", 100) + `":"\u0000"}`
	got := scanJSON([]byte(long))
	if got.fault != faultText || got.field != strings.Repeat("é", 32)+"..." {
		t.Errorf("a long key: %+v", got)
	}
}

// TestEscapeText checks how a client's text is shown in a field name or
// a log line.
func TestEscapeText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"abc-123":                  "abc-123",
		"a\x00b":                   `a\x00b`,
		"caf\u00e9":                `caf\xc3\xa9`,
		"a\nb\xff":                 `a\x0ab\xff`,
		strings.Repeat("x", 64):    strings.Repeat("x", 64),
		strings.Repeat("x", 65):    strings.Repeat("x", 64) + "...",
		strings.Repeat("\x01", 40): strings.Repeat(`\x01`, 16) + "...",
	} {
		if got := escapeText(in, maxShownText); got != want {
			t.Errorf("escapeText(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestValidText checks the rule of valid text on strings.
func TestValidText(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"": true, "abc": true, "a\tb\nc\r": true, "\ufffd": true, "été 日本 😀": true, "\u00a0": true,
		"\x00": false, "a\x01": false, "\x1f": false, "\x7f": false, "\u0080": false, "\u009f": false,
		"\xff": false, "\xc3": false, "\xed\xa0\x80": false, "\xc0\xaf": false,
	} {
		if got := validText(s); got != want {
			t.Errorf("validText(%q) = %v", s, got)
		}
	}
}
