package promokit_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/promokit/promokit"
)

func TestApplyRate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		amount int64
		rate   promokit.BasisPoints
		want   int64
	}{
		{10000, 500, 500},   // A4: $100 at 5% → $5.00
		{20000, 1000, 2000}, // I3: 10% of $200 → $20
		{1, 5000, 1},        // 0.5 rounds away from zero
		{1, 4999, 0},        // below half rounds down
		{3, 5000, 2},        // 1.5 → 2
		{-1, 5000, -1},      // -0.5 → -1 (away from zero)
		{-3, 5000, -2},      // -1.5 → -2
		{999, 333, 33},      // 33.2667 → 33
		{1005, 1000, 101},   // 100.5 → 101
		{promokit.MaxAmount, 10000, promokit.MaxAmount},
	} {
		if got := promokit.ApplyRate(tt.amount, tt.rate); got != tt.want {
			t.Errorf("ApplyRate(%d, %d) = %d, want %d", tt.amount, tt.rate, got, tt.want)
		}
	}
}

func TestAllocate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		total   int64
		weights []int64
		want    []int64
	}{
		{100, []int64{1, 1, 1}, []int64{34, 33, 33}},
		{200, []int64{1000, 2000, 3000}, []int64{33, 67, 100}},
		{1, []int64{1, 1}, []int64{1, 0}},
		{0, []int64{5, 7}, []int64{0, 0}},
		{10, []int64{0, 3}, []int64{0, 10}},
		{7, []int64{0, 0}, []int64{7, 0}},
		{promokit.MaxAmount, []int64{promokit.MaxAmount, promokit.MaxAmount, 1}, nil},
	} {
		got := promokit.Allocate(tt.total, tt.weights)
		var sum int64
		for _, g := range got {
			sum += g
		}
		if sum != tt.total {
			t.Errorf("Allocate(%d, %v) = %v sums to %d", tt.total, tt.weights, got, sum)
		}
		if tt.want != nil && fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("Allocate(%d, %v) = %v, want %v", tt.total, tt.weights, got, tt.want)
		}
	}
}

func FuzzAllocate(f *testing.F) {
	f.Add(int64(100), int64(1), int64(2), int64(3))
	f.Add(int64(1), int64(0), int64(0), int64(1))
	f.Fuzz(func(t *testing.T, total, a, b, c int64) {
		if total < 0 || total > promokit.MaxAmount || a < 0 || b < 0 || c < 0 ||
			a > promokit.MaxAmount || b > promokit.MaxAmount || c > promokit.MaxAmount {
			return
		}
		w := []int64{a, b, c}
		got := promokit.Allocate(total, w)
		var sum, wsum int64
		for i, g := range got {
			sum += g
			wsum += w[i]
			if g < 0 {
				t.Fatalf("negative share %v", got)
			}
		}
		if sum != total {
			t.Fatalf("Allocate(%d, %v) = %v sums to %d", total, w, got, sum)
		}
		if wsum > 0 {
			for i, g := range got {
				if w[i] == 0 && g != 0 {
					t.Fatalf("zero weight got %d: %v", g, got)
				}
			}
		}
	})
}

func TestMoneyFormat(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		m    promokit.Money
		want string
	}{
		{promokit.Money{Minor: 500, Currency: "USD"}, "5.00 USD"},
		{promokit.Money{Minor: -1234, Currency: "EUR"}, "-12.34 EUR"},
		{promokit.Money{Minor: 500, Currency: "JPY"}, "500 JPY"},
		{promokit.Money{Minor: 1005, Currency: "KWD"}, "1.005 KWD"},
	} {
		if got := tt.m.Format(); got != tt.want {
			t.Errorf("%+v.Format() = %q, want %q", tt.m, got, tt.want)
		}
	}
	if promokit.ValidCurrency("usd") || promokit.ValidCurrency("XXX") || !promokit.ValidCurrency("USD") {
		t.Error("ValidCurrency accepts only upper-case active ISO 4217 codes")
	}
}

func TestParseMajor(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in, currency string
		want         int64
		err          string // a part of the error's message; "" for none
	}{
		{"12.50", "USD", 1250, ""},
		{"12.5", "USD", 1250, ""},
		{"12", "USD", 1200, ""},
		{"12.", "USD", 1200, ""},
		{".99", "USD", 99, ""},
		{"0.01", "USD", 1, ""},
		{"007.10", "USD", 710, ""},
		{"1200", "JPY", 1200, ""},
		{"1.234", "BHD", 1234, ""},
		{"10000000000000.00", "USD", promokit.MaxAmount, ""},
		{"10000000000000.01", "USD", 0, "at most 10000000000000.00 USD"},
		{"99999999999999999999", "USD", 0, "at most"},
		{"1.005", "USD", 0, "2 digits after the point"},
		{"12.5", "JPY", 0, "no minor units"},
		{"", "USD", 0, "such as 12.50"},
		{".", "USD", 0, "such as 12.50"},
		{"-1", "USD", 0, "such as 12.50"},
		{"+1", "USD", 0, "such as 12.50"},
		{"1,250", "USD", 0, "such as 12.50"},
		{"1 250", "USD", 0, "such as 12.50"},
		{"1e3", "USD", 0, "such as 12.50"},
		{"1.2.3", "USD", 0, "such as 12.50"},
		{"١٢", "USD", 0, "such as 12.50"}, // digits of another script
		{"x", "JPY", 0, "such as 12"},
		{"1", "usd", 0, "not an ISO 4217 code"},
	} {
		got, err := promokit.ParseMajor(tt.in, tt.currency)
		switch {
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("ParseMajor(%q, %s) = %d, %v; want %d", tt.in, tt.currency, got, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("ParseMajor(%q, %s) = %d, %v; want an error saying %q", tt.in, tt.currency, got, err, tt.err)
		}
	}
}

// FuzzParseMajor checks that an accepted amount is one the engine takes
// (0 to MaxAmount) and that written back in major units it reads as
// itself.
func FuzzParseMajor(f *testing.F) {
	for _, s := range []string{"12.50", "0", ".5", "10000000000000.00", "1.005", "-3", "1e9"} {
		f.Add(s, "USD")
	}
	f.Add("1200", "JPY")
	f.Add("1.234", "KWD")
	f.Fuzz(func(t *testing.T, s, currency string) {
		n, err := promokit.ParseMajor(s, currency)
		if err != nil {
			return
		}
		if !promokit.ValidAmount(n) {
			t.Fatalf("ParseMajor(%q, %s) = %d, out of range", s, currency, n)
		}
		major := strings.TrimSuffix(promokit.Money{Minor: n, Currency: currency}.Format(), " "+currency)
		if back, err := promokit.ParseMajor(major, currency); err != nil || back != n {
			t.Fatalf("ParseMajor(%q, %s) = %d, written %q, read back %d, %v", s, currency, n, major, back, err)
		}
	})
}
