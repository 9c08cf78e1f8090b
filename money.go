package promokit

import (
	"fmt"
	"math"
	"math/bits"
	"sort"
	"strings"
)

// Money is an amount of minor units (cents for USD, yen for JPY) of one
// currency. No floating point ever touches it.
type Money struct {
	Minor    int64  `json:"amount"`
	Currency string `json:"currency"`
}

// BasisPoints is a rate in hundredths of a percent: 100 bp = 1%, 10000 bp = 100%.
type BasisPoints int64

// MaxAmount is the largest amount of minor units the engine accepts in any
// input: 10^15, which leaves room to add a million of them without overflow.
const MaxAmount int64 = 1_000_000_000_000_000

// currencies maps each active ISO 4217 code to its number of minor-unit digits.
var currencies = map[string]int{
	"AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "ANG": 2, "AOA": 2, "ARS": 2, "AUD": 2, "AWG": 2, "AZN": 2,
	"BAM": 2, "BBD": 2, "BDT": 2, "BGN": 2, "BHD": 3, "BIF": 0, "BMD": 2, "BND": 2, "BOB": 2, "BRL": 2,
	"BSD": 2, "BTN": 2, "BWP": 2, "BYN": 2, "BZD": 2, "CAD": 2, "CDF": 2, "CHF": 2, "CLP": 0, "CNY": 2,
	"COP": 2, "CRC": 2, "CUP": 2, "CVE": 2, "CZK": 2, "DJF": 0, "DKK": 2, "DOP": 2, "DZD": 2, "EGP": 2,
	"ERN": 2, "ETB": 2, "EUR": 2, "FJD": 2, "FKP": 2, "GBP": 2, "GEL": 2, "GHS": 2, "GIP": 2, "GMD": 2,
	"GNF": 0, "GTQ": 2, "GYD": 2, "HKD": 2, "HNL": 2, "HTG": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2,
	"IQD": 3, "IRR": 2, "ISK": 0, "JMD": 2, "JOD": 3, "JPY": 0, "KES": 2, "KGS": 2, "KHR": 2, "KMF": 0,
	"KPW": 2, "KRW": 0, "KWD": 3, "KYD": 2, "KZT": 2, "LAK": 2, "LBP": 2, "LKR": 2, "LRD": 2, "LSL": 2,
	"LYD": 3, "MAD": 2, "MDL": 2, "MGA": 2, "MKD": 2, "MMK": 2, "MNT": 2, "MOP": 2, "MRU": 2, "MUR": 2,
	"MVR": 2, "MWK": 2, "MXN": 2, "MYR": 2, "MZN": 2, "NAD": 2, "NGN": 2, "NIO": 2, "NOK": 2, "NPR": 2,
	"NZD": 2, "OMR": 3, "PAB": 2, "PEN": 2, "PGK": 2, "PHP": 2, "PKR": 2, "PLN": 2, "PYG": 0, "QAR": 2,
	"RON": 2, "RSD": 2, "RUB": 2, "RWF": 0, "SAR": 2, "SBD": 2, "SCR": 2, "SDG": 2, "SEK": 2, "SGD": 2,
	"SHP": 2, "SLE": 2, "SOS": 2, "SRD": 2, "SSP": 2, "STN": 2, "SVC": 2, "SYP": 2, "SZL": 2, "THB": 2,
	"TJS": 2, "TMT": 2, "TND": 3, "TOP": 2, "TRY": 2, "TTD": 2, "TWD": 2, "TZS": 2, "UAH": 2, "UGX": 0,
	"USD": 2, "UYU": 2, "UZS": 2, "VES": 2, "VND": 0, "VUV": 0, "WST": 2, "XAF": 0, "XCD": 2, "XOF": 0,
	"XPF": 0, "YER": 2, "ZAR": 2, "ZMW": 2, "ZWG": 2,
}

// ValidCurrency reports whether c is an active ISO 4217 code in upper case.
func ValidCurrency(c string) bool {
	_, ok := currencies[c]
	return ok
}

// CurrencyDigits returns the number of minor-unit digits of a valid currency.
func CurrencyDigits(c string) int { return currencies[c] }

// ValidAmount reports whether a is an amount the engine accepts: 0 ≤ a ≤ MaxAmount.
func ValidAmount(a int64) bool { return a >= 0 && a <= MaxAmount }

// Format renders m for people, such as "12.50 USD".
func (m Money) Format() string {
	d := CurrencyDigits(m.Currency)
	neg := m.Minor < 0
	v := m.Minor
	if neg {
		v = -v
	}
	if d == 0 {
		return fmt.Sprintf("%s%d %s", sign(neg), v, m.Currency)
	}
	p := int64(math.Pow10(d))
	return fmt.Sprintf("%s%d.%0*d %s", sign(neg), v/p, d, v%p, m.Currency)
}

func sign(neg bool) string {
	if neg {
		return "-"
	}
	return ""
}

// ParseMajor reads s, an amount of currency written in major units as
// people write it ("12.50", "12.5", "12", ".99"), into minor units,
// exactly: digits with at most one dot, and after it at most as many
// digits as the currency has minor digits (none for JPY). It takes no
// sign, exponent, space or thousands separator, so that no amount is read
// as another (is "1,250" one thousand or one and a quarter?). The result
// is at most MaxAmount. An invalid currency is an error: its digits are
// unknown.
func ParseMajor(s, currency string) (int64, error) {
	digits, ok := currencies[currency]
	if !ok {
		return 0, fmt.Errorf("currency %q is not an ISO 4217 code", currency)
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" || !allDigits(whole) || !allDigits(frac) {
		return 0, fmt.Errorf("%q is not an amount such as %s", s, Money{Minor: 1250 * pow10(digits) / 100, Currency: currency}.plain())
	}
	if len(frac) > digits {
		if digits == 0 {
			return 0, fmt.Errorf("%s has no minor units: write a whole number", currency)
		}
		return 0, fmt.Errorf("%s has %d digits after the point at most", currency, digits)
	}
	for len(frac) < digits {
		frac += "0"
	}
	var n int64
	for _, c := range whole + frac {
		d := int64(c - '0')
		if n > (MaxAmount-d)/10 {
			return 0, fmt.Errorf("an amount is at most %s", Money{Minor: MaxAmount, Currency: currency}.Format())
		}
		n = n*10 + d
	}
	return n, nil
}

// allDigits reports whether s holds ASCII digits only (true for "").
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// pow10 returns 10^d for a currency's digits.
func pow10(d int) int64 {
	p := int64(1)
	for range d {
		p *= 10
	}
	return p
}

// plain renders m in major units without its currency, such as "12.50":
// what ParseMajor reads back.
func (m Money) plain() string {
	s := m.Format()
	return s[:len(s)-len(m.Currency)-1]
}

// ApplyRate returns amount × rate / 10000 rounded half away from zero, the
// rounding every rule of the engine uses. amount may be negative (a
// reversal); the product is computed in 128 bits, so any amount of at most
// MaxAmount and any rate of at most 100% (10000 bp) is exact.
func ApplyRate(amount int64, rate BasisPoints) int64 {
	neg := (amount < 0) != (rate < 0)
	a, r := uabs(amount), uabs(int64(rate))
	hi, lo := bits.Mul64(a, r)
	q, rem := bits.Div64(hi%10000, lo, 10000)
	if rem >= 5000 {
		q++
	}
	if neg {
		return -int64(q)
	}
	return int64(q)
}

func uabs(v int64) uint64 {
	if v < 0 {
		return uint64(-v)
	}
	return uint64(v)
}

// Allocate spreads total over parts in proportion to weights by the largest
// remainder method: the results add up to total exactly, each is the floor of
// its exact share or one more, and ties go to the earlier part. Weights must
// be non-negative; when they sum to zero everything goes to nothing and the
// result is all zeros (total must then be zero too, or it is given to part 0).
func Allocate(total int64, weights []int64) []int64 {
	out := make([]int64, len(weights))
	if len(weights) == 0 {
		return out
	}
	var sum int64
	for _, w := range weights {
		sum += w
	}
	if sum == 0 {
		out[0] = total
		return out
	}
	type rem struct {
		i int
		r uint64
	}
	rems := make([]rem, len(weights))
	var given int64
	for i, w := range weights {
		q, r := mulDiv(total, w, sum)
		out[i] = q
		given += q
		rems[i] = rem{i, r}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r > rems[b].r })
	for k := 0; given < total; k++ {
		out[rems[k%len(rems)].i]++
		given++
	}
	return out
}

// mulDiv returns floor(a*b/c) and the remainder for non-negative a, b and
// positive c, computed in 128 bits so that large amounts cannot overflow.
func mulDiv(a, b, c int64) (int64, uint64) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	// Every share is at most the total, so the quotient fits in 64 bits
	// and hi < c holds; Div64 would panic otherwise.
	q, r := bits.Div64(hi, lo, uint64(c))
	return int64(q), r
}
