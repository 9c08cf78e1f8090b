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
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, min, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	if us := t.Nanosecond() / 1000; us != 0 {
		b = append(b, '.')
		b = appendDigits(b, us, 6)
	}
	return append(b, 'Z')
}

// appendDigits appends the n last decimal digits of the non-negative v,
// padded with zeros.
func appendDigits(b []byte, v, n int) []byte {
	var d [8]byte
	for i := n - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[:n]...)
}

// appendInt appends n, prefixed with a quote when negative (see
// needsQuote).
func appendInt(b []byte, n int64) []byte {
	if n < 0 {
		b = append(b, '\'')
	}
	return strconv.AppendInt(b, n, 10)
}
