package promokit

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Customer identities for per-customer limits (checkout issue, part 6):
// the marketplace's customer id when the buyer is known, and for guests a
// normalised, hashed e-mail address or phone number, so that one person
// cannot use a once-per-customer code again by writing the address in
// another case, with dots or a +tag, or the phone number in another form.

// NormalizeEmail returns the canonical form of an e-mail address: lower
// case, the +tag removed from the local part and its dots removed. Dots are
// removed for every domain, not only those that ignore them: two
// addresses that differ only by dots count as one customer, which errs on
// the side of the limit. It reports false for something that is not an
// address.
func NormalizeEmail(s string) (string, bool) {
	if !utf8.ValidString(s) {
		return "", false
	}
	s = strings.ToLower(strings.TrimSpace(s))
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at == len(s)-1 || len(s) > 254 {
		return "", false
	}
	local, domain := s[:at], s[at+1:]
	if strings.ContainsAny(s, " \t\r\n\"(),:;<>[\\]") || strings.Contains(local, "@") ||
		!strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", false
	}
	if i := strings.IndexByte(local, '+'); i >= 0 {
		local = local[:i]
	}
	local = strings.ReplaceAll(local, ".", "")
	if local == "" {
		return "", false
	}
	return local + "@" + domain, true
}

// NormalizePhone returns a phone number in E.164 form, "+" and 8 to 15
// digits: spaces, dots, dashes and parentheses are dropped, and a leading
// "00" is read as "+". A number without its country code is refused, since
// its country cannot be guessed. It reports false for anything else.
func NormalizePhone(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	if !strings.HasPrefix(s, "+") {
		return "", false
	}
	var b strings.Builder
	b.WriteByte('+')
	for _, r := range s[1:] {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || unicode.IsSpace(r):
		default:
			return "", false
		}
	}
	out := b.String()
	if n := len(out) - 1; n < 8 || n > 15 || out[1] == '0' {
		return "", false
	}
	return out, true
}

// Identity is who uses a code, for per-customer limits.
type Identity struct {
	CustomerID string `json:"customer_id"`
	Email      string `json:"email"`
	Phone      string `json:"phone"`
}

// Key returns the stored key of an identity: "c:" and the customer id when
// there is one; otherwise "e:" or "p:" and the SHA-256 of the normalised
// e-mail or phone, so that no guest address is stored in clear. Empty when
// the identity is empty. An identity that cannot be normalised is an
// EInvalid error naming the field.
func (id Identity) Key() (string, error) {
	var v Validation
	switch {
	case id.CustomerID != "":
		if len(id.CustomerID) > 200 || !printable(id.CustomerID) {
			v.Add("customer.customer_id", "invalid", "customer_id must have at most 200 printable characters")
			return "", v.Err()
		}
		return "c:" + id.CustomerID, nil
	case id.Email != "":
		e, ok := NormalizeEmail(id.Email)
		if !ok {
			v.Add("customer.email", "invalid", "email is not an e-mail address")
			return "", v.Err()
		}
		return "e:" + hashHex(e), nil
	case id.Phone != "":
		p, ok := NormalizePhone(id.Phone)
		if !ok {
			v.Add("customer.phone", "invalid", "phone must be an international number such as +33 6 12 34 56 78")
			return "", v.Err()
		}
		return "p:" + hashHex(p), nil
	}
	return "", nil
}

func hashHex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
