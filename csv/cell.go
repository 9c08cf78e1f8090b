package csv

import (
	"strconv"
	"time"
)

// formulaStart reports whether a spreadsheet may evaluate a cell that
// starts with c as a formula: '=', '+', '-' and '@', and the tab and the
// carriage return OWASP adds to them.
func formulaStart(c byte) bool {
	switch c {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// needsQuote reports whether the encoder prefixes s with a single quote:
// when s starts a formula, and when s starts with a quote that the decoder
// would otherwise take for such a prefix (a quote followed by a formula
// character or by another quote), so that unquoteCell(quoteCell(s)) == s for
// every s.
func needsQuote(s string) bool {
	if s == "" {
		return false
	}
	if formulaStart(s[0]) {
		return true
	}
	return s[0] == '\'' && len(s) > 1 && (formulaStart(s[1]) || s[1] == '\'')
}

// unquoteCell removes the single quote the encoder put in front of a cell
// (see needsQuote) and returns any other cell unchanged.
func unquoteCell(s string) string {
	if len(s) > 1 && s[0] == '\'' && (formulaStart(s[1]) || s[1] == '\'') {
		return s[1:]
	}
	return s
}

// appendCell appends s to b, prefixed with a single quote when needsQuote
// says so.
func appendCell(b []byte, s string) []byte {
	if needsQuote(s) {
		b = append(b, '\'')
	}
	return append(b, s...)
}

// appendTime appends t in RFC 3339 in UTC, truncated to the microsecond
// both databases store: "2025-01-02T03:04:05Z", or
// "2025-01-02T03:04:05.000006Z" when the fraction is not zero. It writes
// the digits itself because time.AppendFormat would cost a third of an
// export row.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		// RFC 3339 has four-digit years only; keep such a time readable.
		return t.Truncate(time.Microsecond).AppendFormat(b, "2006-01-02T15:04:05.999999Z07:00")
	}
	hour, min, sec := t.Clock()
	b = append2(b, year/100)
	b = append2(b, year%100)
	b = append(b, '-')
	b = append2(b, int(month))
	b = append(b, '-')
	b = append2(b, day)
	b = append(b, 'T')
	b = append2(b, hour)
	b = append(b, ':')
	b = append2(b, min)
	b = append(b, ':')
	b = append2(b, sec)
	if us := t.Nanosecond() / 1000; us != 0 {
		b = append(b, '.')
		b = append2(b, us/10000)
		b = append2(b, us/100%100)
		b = append2(b, us%100)
	}
	return append(b, 'Z')
}

// digits2 holds "00" to "99".
const digits2 = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// append2 appends v, between 0 and 99, as two digits.
func append2(b []byte, v int) []byte {
	return append(b, digits2[2*v], digits2[2*v+1])
}

// appendInt appends n, prefixed with a quote when negative (see
// needsQuote).
func appendInt(b []byte, n int64) []byte {
	if n < 0 {
		b = append(b, '\'')
	}
	return strconv.AppendInt(b, n, 10)
}
