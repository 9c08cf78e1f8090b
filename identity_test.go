package promokit_test

import (
	"strings"
	"testing"

	"github.com/promokit/promokit"
)

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Ann.Smith+promo@Example.COM": "annsmith@example.com",
		" annsmith@example.com ":      "annsmith@example.com",
		"a.n.n.s.m.i.t.h@example.com": "annsmith@example.com",
		"ANNSMITH+x+y@example.com":    "annsmith@example.com",
	} {
		got, ok := promokit.NormalizeEmail(in)
		if !ok || got != want {
			t.Errorf("NormalizeEmail(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "ann", "@example.com", "ann@", "ann@localhost", "+tag@example.com", "a b@example.com", "ann@.com", "\xff@example.com"} {
		if got, ok := promokit.NormalizeEmail(bad); ok {
			t.Errorf("NormalizeEmail(%q) = %q, want refused", bad, got)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"+33 6 12 34 56 78":    "+33612345678",
		"0033 (6) 12-34.56.78": "+33612345678",
		"+1 (415) 555-0100":    "+14155550100",
	} {
		got, ok := promokit.NormalizePhone(in)
		if !ok || got != want {
			t.Errorf("NormalizePhone(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "06 12 34 56 78", "+0 123 456 789", "+33 6x12345678", "+1234", "+1234567890123456"} {
		if got, ok := promokit.NormalizePhone(bad); ok {
			t.Errorf("NormalizePhone(%q) = %q, want refused", bad, got)
		}
	}
}

func TestIdentityKey(t *testing.T) {
	t.Parallel()
	a, err := promokit.Identity{Email: "Ann.Smith+x@Example.com"}.Key()
	b, err2 := promokit.Identity{Email: "annsmith@example.com"}.Key()
	if err != nil || err2 != nil || a != b || !strings.HasPrefix(a, "e:") || strings.Contains(a, "ann") {
		t.Fatalf("one guest, two keys or a clear address: %q %q %v %v", a, b, err, err2)
	}
	p, _ := promokit.Identity{Phone: "+33 6 12 34 56 78"}.Key()
	q, _ := promokit.Identity{Phone: "0033612345678"}.Key()
	if p != q || !strings.HasPrefix(p, "p:") {
		t.Fatalf("phones %q %q", p, q)
	}
	c, _ := promokit.Identity{CustomerID: "cus_1", Email: "x@example.com"}.Key()
	if c != "c:cus_1" {
		t.Fatalf("a known customer is keyed by id: %q", c)
	}
	if k, err := (promokit.Identity{}).Key(); k != "" || err != nil {
		t.Fatalf("empty identity: %q %v", k, err)
	}
	if _, err := (promokit.Identity{Email: "nope"}).Key(); promokit.ErrorCode(err) != promokit.EInvalid {
		t.Fatalf("bad e-mail: %v", err)
	}
}

func FuzzIdentity(f *testing.F) {
	f.Add("Ann.Smith+x@Example.com", "+33 6 12 34 56 78")
	f.Add("\x00@\x00.\x00", "00")
	f.Fuzz(func(t *testing.T, email, phone string) {
		if e, ok := promokit.NormalizeEmail(email); ok {
			if again, ok2 := promokit.NormalizeEmail(e); !ok2 || again != e {
				t.Fatalf("NormalizeEmail is not stable: %q → %q → %q", email, e, again)
			}
		}
		if p, ok := promokit.NormalizePhone(phone); ok {
			if again, ok2 := promokit.NormalizePhone(p); !ok2 || again != p {
				t.Fatalf("NormalizePhone is not stable: %q → %q → %q", phone, p, again)
			}
		}
		for _, id := range []promokit.Identity{{Email: email}, {Phone: phone}} {
			if _, err := id.Key(); err != nil && promokit.ErrorCode(err) != promokit.EInvalid {
				t.Fatalf("Key: %v", err)
			}
		}
	})
}
