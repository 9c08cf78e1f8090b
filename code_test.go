package promokit_test

import (
	"math"
	"strings"
	"testing"

	"github.com/promokit/promokit"
)

func TestNormalizeCode(t *testing.T) {
	t.Parallel()
	if got := promokit.NormalizeCode("  summer-10 "); got != "SUMMER-10" {
		t.Errorf("NormalizeCode = %q", got)
	}
	for _, ok := range []string{"ABC", "SUMMER_10", strings.Repeat("A", 64)} {
		if !promokit.ValidCode(ok) {
			t.Errorf("ValidCode(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", "AB", "A B", "ÄBC", "abc", strings.Repeat("A", 65), "A=B"} {
		if promokit.ValidCode(bad) {
			t.Errorf("ValidCode(%q) = true", bad)
		}
	}
}

func TestCodeSpecSpace(t *testing.T) {
	t.Parallel()
	s := promokit.CodeSpec{Count: 1, Length: 8}
	s.Normalize()
	if s.Charset != promokit.DefaultCharset || len(s.Charset) != 31 {
		t.Fatalf("default charset %q", s.Charset)
	}
	if got, want := s.Space(), int64(852891037441); got != want { // 31^8
		t.Errorf("Space = %d, want %d", got, want)
	}
	s.Length = 32
	if s.Space() != math.MaxInt64 {
		t.Error("Space must saturate")
	}
}

func TestCodeSpecCheckSpace(t *testing.T) {
	t.Parallel()
	s := promokit.CodeSpec{Count: 1_000_000, Length: 6, Charset: "ABCDEFGHJK"} // 10^6 codes of space
	s.Normalize()
	err := s.CheckSpace(1_000_000, 100_000)
	if promokit.ErrorCode(err) != promokit.ECodeSpace {
		t.Fatalf("a space of 10^6 for 10^6 codes must be refused, got %v", err)
	}
	e := err.(*promokit.Error)
	if e.Limit == nil || *e.Limit != 10 || e.Current == nil || *e.Current != 1_000_000 {
		t.Errorf("limit/current = %v/%v", e.Limit, e.Current)
	}
	s.Length = 11 // 10^11: 10^6 codes × 10^5 fits exactly
	if err := s.CheckSpace(1_000_000, 100_000); err != nil {
		t.Errorf("10^12 space for 10^6 codes: %v", err)
	}
	if err := s.CheckSpace(1_000_001, 100_000); err == nil {
		t.Error("one code over the ratio must be refused")
	}
	if err := s.CheckSpace(math.MaxInt64, math.MaxInt64); err == nil {
		t.Error("overflowing need must be refused")
	}
}

func TestCodeSpecValidate(t *testing.T) {
	t.Parallel()
	for name, s := range map[string]promokit.CodeSpec{
		"zero count":   {Count: 0},
		"too many":     {Count: promokit.MaxGenerate + 1},
		"dup charset":  {Count: 1, Charset: "AAB"},
		"bad charset":  {Count: 1, Charset: "AB!"},
		"bad prefix":   {Count: 1, Prefix: "A B"},
		"too long":     {Count: 1, Length: 32, Prefix: strings.Repeat("P", 40)},
		"one char set": {Count: 1, Charset: "A"},
		"length 33":    {Count: 1, Length: 33},
	} {
		s.Normalize()
		if err := s.Validate(); promokit.ErrorCode(err) != promokit.EInvalid {
			t.Errorf("%s: Validate = %v, want invalid", name, err)
		}
	}
	ok := promokit.CodeSpec{Count: 10, Prefix: "bf-", Suffix: "-26"}
	ok.Normalize()
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	if ok.Prefix != "BF-" {
		t.Errorf("prefix not normalised: %q", ok.Prefix)
	}
}

func TestGenerator(t *testing.T) {
	t.Parallel()
	s := promokit.CodeSpec{Count: 20000, Length: 8, Prefix: "X-", Suffix: "-Y"}
	s.Normalize()
	g := promokit.NewGenerator(s)
	seen := map[string]bool{}
	counts := map[byte]int{}
	for i := 0; i < 20000; i++ {
		c := g.Next()
		if !strings.HasPrefix(c, "X-") || !strings.HasSuffix(c, "-Y") || len(c) != 12 || !promokit.ValidCode(c) {
			t.Fatalf("bad code %q", c)
		}
		for j := 2; j < 10; j++ {
			if !strings.ContainsRune(s.Charset, rune(c[j])) {
				t.Fatalf("%q has a character outside the charset", c)
			}
			counts[c[j]]++
		}
		if seen[c] {
			t.Fatalf("duplicate %q after %d draws from a space of 31^8", c, i)
		}
		seen[c] = true
	}
	// Every character appears, and none is more than 20% off its share:
	// 160,000 draws over 31 characters is ~5,161 each.
	for i := 0; i < len(s.Charset); i++ {
		n := counts[s.Charset[i]]
		if n < 4100 || n > 6200 {
			t.Errorf("character %q drawn %d times, want about 5161", s.Charset[i], n)
		}
	}
}

func FuzzCodePattern(f *testing.F) {
	f.Add(int64(10), 8, "", "", "")
	f.Add(int64(1000000), 6, "ABC", "PRE-", "")
	f.Add(int64(1), 32, "0123456789", "", "-Z")
	f.Add(int64(-1), -5, "ÄÖ", "a b", "\x00")
	f.Fuzz(func(t *testing.T, count int64, length int, charset, prefix, suffix string) {
		s := promokit.CodeSpec{Count: count, Length: length, Charset: charset, Prefix: prefix, Suffix: suffix}
		s.Normalize()
		if err := s.Validate(); err != nil {
			if promokit.ErrorCode(err) != promokit.EInvalid {
				t.Fatalf("Validate returned %v", err)
			}
			return
		}
		if err := s.CheckSpace(s.Count, 100_000); err != nil {
			if promokit.ErrorCode(err) != promokit.ECodeSpace {
				t.Fatalf("CheckSpace returned %v", err)
			}
			return
		}
		g := promokit.NewGenerator(s)
		for i := 0; i < 3; i++ {
			c := g.Next()
			if !promokit.ValidCode(c) || promokit.NormalizeCode(c) != c {
				t.Fatalf("generated invalid code %q from %+v", c, s)
			}
		}
	})
}
