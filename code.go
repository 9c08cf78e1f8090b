package promokit

import (
	"crypto/rand"
	"math"
	"math/bits"
	"strings"
	"time"
)

// Code is a promo code of a promotion (C3). Its value is unique in the
// marketplace regardless of case: values are stored in upper case and
// look-ups are normalised the same way.
type Code struct {
	Code             string     `json:"code"`
	PromotionID      string     `json:"promotion_id"`
	StoreID          string     `json:"store_id"`
	Active           bool       `json:"active"`
	UsageLimit       *int64     `json:"usage_limit"`
	PerCustomerLimit *int64     `json:"per_customer_limit"`
	CustomerID       string     `json:"customer_id"` // restricted to this customer when set
	PartnerID        string     `json:"partner_id"`  // the partner it is assigned to
	ExpiresAt        *time.Time `json:"expires_at"`  // earlier than the promotion's end, for collected coupons
	JobID            string     `json:"job_id"`
	Uses             int64      `json:"uses"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

// Code values: 3 to 64 characters among A-Z, 0-9, '-' and '_' once upper-cased.
const (
	MinCodeLength = 3
	MaxCodeLength = 64
)

// NormalizeCode returns the stored form of a code value: surrounding spaces
// removed, ASCII letters upper-cased. It does not validate.
func NormalizeCode(s string) string {
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			return strings.ToUpper(s)
		}
	}
	return s
}

// ValidCode reports whether a normalised value is a valid code.
func ValidCode(s string) bool {
	if len(s) < MinCodeLength || len(s) > MaxCodeLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !codeChar(s[i]) {
			return false
		}
	}
	return true
}

func codeChar(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// Validate checks a code's own settings.
func (c *Code) Validate() error {
	var v Validation
	if !ValidCode(c.Code) {
		v.Add("code", "invalid", "code must have %d to %d characters among A-Z, 0-9, '-' and '_'", MinCodeLength, MaxCodeLength)
	}
	if c.UsageLimit != nil && (*c.UsageLimit < 1 || *c.UsageLimit > 1_000_000_000_000) {
		v.Add("usage_limit", "out_of_range", "usage_limit must be between 1 and 10^12, or null")
	}
	if c.PerCustomerLimit != nil && (*c.PerCustomerLimit < 1 || *c.PerCustomerLimit > 1_000_000_000) {
		v.Add("per_customer_limit", "out_of_range", "per_customer_limit must be between 1 and 10^9, or null")
	}
	if len(c.CustomerID) > 200 || !printable(c.CustomerID) {
		v.Add("customer_id", "invalid", "customer_id must have at most 200 printable characters")
	}
	return v.Err()
}

func printable(s string) bool {
	for _, r := range s {
		if r < ' ' || r == 0x7f || r == 0xfffd {
			return false
		}
	}
	return true
}

// DefaultCharset is the default alphabet of generated codes: upper-case
// letters and digits without the look-alikes 0, O, 1, I and L.
const DefaultCharset = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// MaxGenerate is the most codes one generation job makes.
const MaxGenerate = 10_000_000

// CodeSpec describes codes to generate: Count codes of Prefix, Length
// random characters of Charset, then Suffix.
type CodeSpec struct {
	Count   int64  `json:"count"`
	Length  int    `json:"length"`
	Charset string `json:"charset"`
	Prefix  string `json:"prefix"`
	Suffix  string `json:"suffix"`
}

// Normalize fills defaults and upper-cases the spec's strings.
func (s *CodeSpec) Normalize() {
	if s.Charset == "" {
		s.Charset = DefaultCharset
	}
	if s.Length == 0 {
		s.Length = 10
	}
	s.Charset = strings.ToUpper(s.Charset)
	s.Prefix = NormalizeCode(s.Prefix)
	s.Suffix = NormalizeCode(s.Suffix)
}

// Validate checks a normalised spec on its own; CheckSpace checks it
// against the codes already issued.
func (s *CodeSpec) Validate() error {
	var v Validation
	if s.Count < 1 || s.Count > MaxGenerate {
		v.Add("count", "out_of_range", "count must be between 1 and %d", MaxGenerate)
	}
	if s.Length < 1 || s.Length > 32 {
		v.Add("length", "out_of_range", "length must be between 1 and 32")
	}
	if len(s.Charset) < 2 || len(s.Charset) > 38 {
		v.Add("charset", "invalid", "charset must have 2 to 38 characters")
	} else {
		var seen [256]bool
		for i := 0; i < len(s.Charset); i++ {
			c := s.Charset[i]
			if !codeChar(c) {
				v.Add("charset", "invalid", "charset may only use A-Z, 0-9, '-' and '_'")
				break
			}
			if seen[c] {
				v.Add("charset", "duplicate", "charset lists %q twice", c)
				break
			}
			seen[c] = true
		}
	}
	for field, part := range map[string]string{"prefix": s.Prefix, "suffix": s.Suffix} {
		for i := 0; i < len(part); i++ {
			if !codeChar(part[i]) {
				v.Add(field, "invalid", "%s may only use A-Z, 0-9, '-' and '_'", field)
				break
			}
		}
	}
	if n := len(s.Prefix) + s.Length + len(s.Suffix); n < MinCodeLength || n > MaxCodeLength {
		v.Add("length", "out_of_range", "prefix, random part and suffix together must have %d to %d characters", MinCodeLength, MaxCodeLength)
	}
	return v.Err()
}

// Space returns the number of distinct codes the spec can draw,
// saturating at math.MaxInt64.
func (s *CodeSpec) Space() int64 {
	space := uint64(1)
	for i := 0; i < s.Length; i++ {
		hi, lo := bits.Mul64(space, uint64(len(s.Charset)))
		if hi != 0 || lo > math.MaxInt64 {
			return math.MaxInt64
		}
		space = lo
	}
	return int64(space)
}

// CheckSpace refuses a spec whose code space is too small: issued is the
// number of codes the promotion will have once the spec is drawn, and the
// space must hold minSpacePerCode possible codes for each, so that a guess
// hits with a probability of at most 1/minSpacePerCode.
func (s *CodeSpec) CheckSpace(issued, minSpacePerCode int64) error {
	space := s.Space()
	hi, need := bits.Mul64(uint64(issued), uint64(minSpacePerCode))
	if hi == 0 && need <= math.MaxInt64 && uint64(space) >= need {
		return nil
	}
	e := Errorf(ECodeSpace, "a space of %d codes is too small for %d codes: each code needs %d possible values so that guessing stays improbable; use a longer code or a larger charset", space, issued, minSpacePerCode)
	e.Rule = "C3"
	limit := space / minSpacePerCode
	e.Limit = &limit
	e.Current = &issued
	return e
}

// Generator draws random codes for a spec from crypto/rand without modulo
// bias. It is not safe for concurrent use.
type Generator struct {
	spec CodeSpec
	buf  []byte
	pos  int
	mask byte
}

// NewGenerator returns a generator for a validated, normalised spec.
func NewGenerator(spec CodeSpec) *Generator {
	mask := byte(1)
	for int(mask) < len(spec.Charset)-1 {
		mask = mask<<1 | 1
	}
	return &Generator{spec: spec, buf: make([]byte, 4096), pos: 4096, mask: mask}
}

// Next returns a new random code.
func (g *Generator) Next() string {
	out := make([]byte, 0, len(g.spec.Prefix)+g.spec.Length+len(g.spec.Suffix))
	out = append(out, g.spec.Prefix...)
	n := len(g.spec.Charset)
	for i := 0; i < g.spec.Length; {
		if g.pos == len(g.buf) {
			if _, err := rand.Read(g.buf); err != nil {
				panic(err)
			}
			g.pos = 0
		}
		b := g.buf[g.pos] & g.mask
		g.pos++
		if int(b) < n { // rejection sampling: no bias
			out = append(out, g.spec.Charset[b])
			i++
		}
	}
	return string(append(out, g.spec.Suffix...))
}
