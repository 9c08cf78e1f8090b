package promokit

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// The usage counters. Each held or redeemed redemption counts once in
// every counter it took; the counters are the running sums the limits are
// checked against, kept so that a checkout reads a few rows instead of
// counting redemptions, and `promokit check` recomputes them from the
// rows. These are all the usage counters:
//
//   - CounterPromotionUses and CounterPromotionDiscount: a promotion's
//     uses and discount spent, bound by TotalUses and TotalDiscount (C2).
//     Every redemption takes them.
//   - CounterCodeUses: a code's uses, bound by its UsageLimit (C3). A
//     codeless redemption (an automatic promotion) has no code counter.
//   - CounterCustomerUses: a customer's uses of a promotion (PerCustomer,
//     C1) or of a code (PerCustomerLimit, C3), named by a UsageKey. Such a
//     counter is kept only when that limit is set and the redemption has a
//     customer key. Limits cannot change once a promotion has started, so
//     a use given back finds the same counters it took.
//
// Every writer takes counters in one lock order, so that two transactions
// never wait for each other's locks in a cycle: the promotions' by id,
// then the codes' by code, then the customers' by subject and customer
// key (Uses.Sort).
type Counter string

// Counters, as CounterDiff.Kind names them.
const (
	CounterPromotionUses     Counter = "promotion_uses"
	CounterPromotionDiscount Counter = "promotion_discount"
	CounterCodeUses          Counter = "code_uses"
	CounterCustomerUses      Counter = "customer_uses"
	// The ledger's daily roll-ups are stored sums too: the amount and the
	// number of entries of a partner's entries of a store, UTC day,
	// currency, status and kind. `promokit check` recomputes them from
	// the entries of the days rolled up.
	CounterLedgerDaily        Counter = "ledger_daily"
	CounterLedgerDailyEntries Counter = "ledger_daily_entries"
	// The payable balance of each payer, payee and currency, as the
	// statements sum it (the roll-ups' payable rows, then the entries
	// after the days rolled up), must be what a payout checks against:
	// the sum of the pair's payable entries. `promokit check` compares
	// the two (subject: "payer payee currency").
	CounterPayableBalance Counter = "payable_balance"
	// A payout's amount is what its paid entries moved to paid: `promokit
	// check` sums the paid entries of each payout (subject: the payout id)
	// and reports a payout whose sum differs.
	CounterPayoutPaid Counter = "payout_paid"
	// An entry that names a payout must name one that exists, between the
	// entry's payer and payee in the entry's currency: `promokit check`
	// reports any other (subject: the entry's id), with Detail saying
	// what is wrong. It is no sum: Stored and FromRows are 0.
	CounterLedgerPayout Counter = "ledger_payout"
)

// Counters returns every stored sum that `promokit check` recomputes, in
// the order it reports them.
func Counters() []Counter {
	return []Counter{CounterPromotionUses, CounterPromotionDiscount, CounterCodeUses, CounterCustomerUses,
		CounterLedgerDaily, CounterLedgerDailyEntries, CounterPayableBalance, CounterPayoutPaid, CounterLedgerPayout}
}

// Source returns what `promokit check` recomputes c from, as its report
// words it: the redemptions for the usage counters, the ledger entries
// for the roll-ups and the payable balance, the payout's entries for a
// payout's amount.
func (c Counter) Source() string {
	switch c {
	case CounterLedgerDaily, CounterLedgerDailyEntries, CounterPayableBalance, CounterLedgerPayout:
		return "the ledger entries"
	case CounterPayoutPaid:
		return "the payout's entries"
	}
	return "the redemptions"
}

// CounterDiff is a stored sum that differs from the rows it is derived
// from. Subject is, by Kind, the promotion id, the code, the usage key
// (subject, a space, customer key), the roll-up ("payer payee day currency
// program status kind", the day as YYYY-MM-DD), the pair ("payer payee
// currency"), the payout id or the entry id. Detail, for a difference
// that is no sum (CounterLedgerPayout), says what differs.
type CounterDiff struct {
	Kind     Counter `json:"kind"`
	Subject  string  `json:"subject"`
	Stored   int64   `json:"stored"`
	FromRows int64   `json:"from_rows"`
	Detail   string  `json:"detail,omitempty"`
}

// String words d as `promokit check` reports it, naming what the value
// was recomputed from: "promotion_uses prm_1: stored 3, from the
// redemptions 2", "payout_paid pay_2: stored 200, from the payout's
// entries 150"; the payable balance is stored by the roll-ups:
// "payable_balance sto_1 par_1 USD: by the roll-ups 9, from the ledger
// entries 0".
func (d CounterDiff) String() string {
	if d.Detail != "" {
		return fmt.Sprintf("%s %s: %s", d.Kind, d.Subject, d.Detail)
	}
	stored := "stored"
	if d.Kind == CounterPayableBalance {
		stored = "by the roll-ups"
	}
	return fmt.Sprintf("%s %s: %s %d, from %s %d", d.Kind, d.Subject, stored, d.Stored, d.Kind.Source(), d.FromRows)
}

// CodeSubjectPrefix starts the subject of a customer's counter of a code:
// the prefix and the code. A promotion's subject is its id, which never
// starts with it.
const CodeSubjectPrefix = "code:"

// UsageKey names a customer's usage counter: Subject is a promotion id, or
// CodeSubjectPrefix and a code. Build it with PromotionUsageKey or
// CodeUsageKey.
type UsageKey struct {
	Subject     string
	CustomerKey string
}

// PromotionUsageKey is the key of a customer's counter of a promotion.
func PromotionUsageKey(promotionID, customerKey string) UsageKey {
	return UsageKey{Subject: promotionID, CustomerKey: customerKey}
}

// CodeUsageKey is the key of a customer's counter of a code.
func CodeUsageKey(code, customerKey string) UsageKey {
	return UsageKey{Subject: CodeSubjectPrefix + code, CustomerKey: customerKey}
}

// CustomerCounter is a customer's counter that a use takes, with the limit
// that bounds it and the rule of that limit (C1 for a promotion's, C3 for
// a code's).
type CustomerCounter struct {
	UsageKey
	Limit *int64
	Rule  string
}

// AppendCustomerCounters appends to dst the customer's counters that a use
// of promotion p, with code c (nil for an automatic promotion), by the
// customer customerKey takes: the promotion's when it has a per-customer
// limit, then the code's when it has one. A use without a customer key
// takes none.
func AppendCustomerCounters(dst []CustomerCounter, p *Promotion, c *Code, customerKey string) []CustomerCounter {
	if customerKey == "" {
		return dst
	}
	if p.PerCustomer != nil {
		dst = append(dst, CustomerCounter{PromotionUsageKey(p.ID, customerKey), p.PerCustomer, "C1"})
	}
	if c != nil && c.PerCustomerLimit != nil {
		dst = append(dst, CustomerCounter{CodeUsageKey(c.Code, customerKey), c.PerCustomerLimit, "C3"})
	}
	return dst
}

// Uses is what orders take of the usage counters (positive) or give back
// (negative), one entry per counter. Sorted, each list is in the lock
// order.
type Uses struct {
	Promotions []PromotionUse
	Codes      []CodeUse
	Customers  []CustomerUse
}

// PromotionUse is uses and discount to add to a promotion's counters.
type PromotionUse struct {
	ID       string
	Uses     int64
	Discount int64
}

// CodeUse is uses to add to a code's counter. The empty code has none.
type CodeUse struct {
	Code string
	Uses int64
}

// CustomerUse is uses to add to a customer's counter within Limit (nil: no
// limit).
type CustomerUse struct {
	UsageKey
	Uses  int64
	Limit *int64
}

// WithinLimit reports whether n uses stay within limit (nil: no limit).
func WithinLimit(n int64, limit *int64) bool {
	return limit == nil || n <= *limit
}

// MayFit reports whether u may fit its limits. It is false when a
// customer's counter takes more uses than its limit allows even from none:
// a first use past a per-customer limit never fits. The database decides
// every other case, inside the conditional update of each counter; this
// one it cannot, since the insert that creates a customer's counter has no
// condition.
func (u *Uses) MayFit() bool {
	for _, c := range u.Customers {
		if !WithinLimit(c.Uses, c.Limit) {
			return false
		}
	}
	return true
}

// Sort puts each list of u in the lock order: promotions by id, codes by
// code, customers' counters by subject and customer key.
func (u *Uses) Sort() {
	slices.SortFunc(u.Promotions, func(a, b PromotionUse) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(u.Codes, func(a, b CodeUse) int { return strings.Compare(a.Code, b.Code) })
	slices.SortFunc(u.Customers, func(a, b CustomerUse) int {
		return cmp.Or(strings.Compare(a.Subject, b.Subject), strings.Compare(a.CustomerKey, b.CustomerKey))
	})
}

// GiveBack returns what redemption r gives back when it is released or
// rolled back: one use of each counter it took, and its discount. p is
// its promotion and c its code (nil for a codeless redemption); both are
// read only for their per-customer limits, so they may be nil when r has
// no customer key.
func GiveBack(r *Redemption, p *Promotion, c *Code) Uses {
	u := Uses{Promotions: []PromotionUse{{ID: r.PromotionID, Uses: -1, Discount: -r.Discount}}}
	if r.Code != "" {
		u.Codes = []CodeUse{{Code: r.Code, Uses: -1}}
	}
	if r.CustomerKey == "" {
		return u
	}
	var buf [2]CustomerCounter
	for _, k := range AppendCustomerCounters(buf[:0], p, c, r.CustomerKey) {
		u.Customers = append(u.Customers, CustomerUse{UsageKey: k.UsageKey, Uses: -1})
	}
	return u
}

// UsesTally sums the uses that orders take, one entry per counter. The
// zero value is ready to use.
type UsesTally struct {
	promotions map[string]PromotionUse
	codes      map[string]int64
	customers  map[UsageKey]CustomerUse
}

// Take adds one use of a candidate, with the discount it gives, by the
// customer customerKey (empty: none): one use and the discount to its
// promotion, one use to its code (an automatic promotion has none) and
// one use to each of the customer's counters it takes
// (AppendCustomerCounters).
func (t *UsesTally) Take(cd *Candidate, discount int64, customerKey string) {
	u := Uses{Promotions: []PromotionUse{{ID: cd.Promotion.ID, Uses: 1, Discount: discount}}}
	if cd.Code != nil {
		u.Codes = []CodeUse{{Code: cd.Code.Code, Uses: 1}}
	}
	var buf [2]CustomerCounter
	for _, k := range AppendCustomerCounters(buf[:0], cd.Promotion, cd.Code, customerKey) {
		u.Customers = append(u.Customers, CustomerUse{UsageKey: k.UsageKey, Uses: 1, Limit: k.Limit})
	}
	t.add(u)
}

// Give subtracts what redemption r gives back (GiveBack, whose p and c it
// takes).
func (t *UsesTally) Give(r *Redemption, p *Promotion, c *Code) {
	t.add(GiveBack(r, p, c))
}

// add adds u to the sums.
func (t *UsesTally) add(u Uses) {
	if t.promotions == nil {
		t.promotions = make(map[string]PromotionUse)
		t.codes = make(map[string]int64)
		t.customers = make(map[UsageKey]CustomerUse)
	}
	for _, p := range u.Promotions {
		sum := t.promotions[p.ID]
		t.promotions[p.ID] = PromotionUse{ID: p.ID, Uses: sum.Uses + p.Uses, Discount: sum.Discount + p.Discount}
	}
	for _, c := range u.Codes {
		t.codes[c.Code] += c.Uses
	}
	for _, c := range u.Customers {
		sum := t.customers[c.UsageKey]
		sum.UsageKey, sum.Uses = c.UsageKey, sum.Uses+c.Uses
		if c.Limit != nil {
			sum.Limit = c.Limit
		}
		t.customers[c.UsageKey] = sum
	}
}

// Uses returns the sums, sorted in the lock order.
func (t *UsesTally) Uses() Uses {
	var u Uses
	for _, id := range slices.Sorted(maps.Keys(t.promotions)) {
		u.Promotions = append(u.Promotions, t.promotions[id])
	}
	for _, c := range slices.Sorted(maps.Keys(t.codes)) {
		u.Codes = append(u.Codes, CodeUse{Code: c, Uses: t.codes[c]})
	}
	u.Customers = slices.Collect(maps.Values(t.customers))
	u.Sort()
	return u
}
