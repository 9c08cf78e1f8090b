package promokit_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/promokit/promokit"
)

func TestUsageKeys(t *testing.T) {
	t.Parallel()
	if got, want := promokit.PromotionUsageKey("prm_1", "e:a"), (promokit.UsageKey{Subject: "prm_1", CustomerKey: "e:a"}); got != want {
		t.Errorf("PromotionUsageKey = %+v, want %+v", got, want)
	}
	if got, want := promokit.CodeUsageKey("SAVE-10", "e:a"), (promokit.UsageKey{Subject: "code:SAVE-10", CustomerKey: "e:a"}); got != want {
		t.Errorf("CodeUsageKey = %+v, want %+v", got, want)
	}
}

func TestAppendCustomerCounters(t *testing.T) {
	t.Parallel()
	one, two := ptr(int64(1)), ptr(int64(2))
	limited := &promokit.Promotion{ID: "prm_1", PerCustomer: two}
	free := &promokit.Promotion{ID: "prm_2"}
	code := &promokit.Code{Code: "A-1", PerCustomerLimit: one}
	open := &promokit.Code{Code: "B-1"}
	for _, tc := range []struct {
		name        string
		p           *promokit.Promotion
		c           *promokit.Code
		customerKey string
		want        []promokit.CustomerCounter
	}{
		{"no customer", limited, code, "", nil},
		{"no limit", free, open, "e:a", nil},
		{"promotion's limit", limited, open, "e:a", []promokit.CustomerCounter{
			{UsageKey: promokit.PromotionUsageKey("prm_1", "e:a"), Limit: two, Rule: "C1"}}},
		{"code's limit", free, code, "e:a", []promokit.CustomerCounter{
			{UsageKey: promokit.CodeUsageKey("A-1", "e:a"), Limit: one, Rule: "C3"}}},
		{"both, the promotion's first", limited, code, "e:a", []promokit.CustomerCounter{
			{UsageKey: promokit.PromotionUsageKey("prm_1", "e:a"), Limit: two, Rule: "C1"},
			{UsageKey: promokit.CodeUsageKey("A-1", "e:a"), Limit: one, Rule: "C3"}}},
		{"automatic promotion: no code", limited, nil, "e:a", []promokit.CustomerCounter{
			{UsageKey: promokit.PromotionUsageKey("prm_1", "e:a"), Limit: two, Rule: "C1"}}},
	} {
		if diff := cmp.Diff(tc.want, promokit.AppendCustomerCounters(nil, tc.p, tc.c, tc.customerKey)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestWithinLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n     int64
		limit *int64
		want  bool
	}{
		{1, nil, true},
		{1_000_000, nil, true},
		{0, ptr(int64(0)), true},
		{1, ptr(int64(0)), false},
		{2, ptr(int64(2)), true},
		{3, ptr(int64(2)), false},
		{-1, ptr(int64(0)), true},
	} {
		if got := promokit.WithinLimit(tc.n, tc.limit); got != tc.want {
			t.Errorf("WithinLimit(%d, %v) = %v, want %v", tc.n, tc.limit, got, tc.want)
		}
	}
}

func TestUsesMayFit(t *testing.T) {
	t.Parallel()
	two := ptr(int64(2))
	key := promokit.PromotionUsageKey("prm_1", "e:a")
	for _, tc := range []struct {
		name string
		u    promokit.Uses
		want bool
	}{
		{"nothing", promokit.Uses{}, true},
		{"promotions and codes are the database's to decide", promokit.Uses{
			Promotions: []promokit.PromotionUse{{ID: "prm_1", Uses: 1_000}}, Codes: []promokit.CodeUse{{Code: "A", Uses: 1_000}}}, true},
		{"within the limit", promokit.Uses{Customers: []promokit.CustomerUse{{UsageKey: key, Uses: 2, Limit: two}}}, true},
		{"no limit", promokit.Uses{Customers: []promokit.CustomerUse{{UsageKey: key, Uses: 9}}}, true},
		{"a first use past the limit", promokit.Uses{Customers: []promokit.CustomerUse{
			{UsageKey: key, Uses: 1, Limit: two}, {UsageKey: promokit.CodeUsageKey("A", "e:a"), Uses: 3, Limit: two}}}, false},
	} {
		if got := tc.u.MayFit(); got != tc.want {
			t.Errorf("%s: MayFit = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestUsesTally(t *testing.T) {
	t.Parallel()
	one, two := ptr(int64(1)), ptr(int64(2))
	limited := &promokit.Promotion{ID: "prm_b", PerCustomer: two}
	auto := &promokit.Promotion{ID: "prm_a", Automatic: true, PerCustomer: one}
	free := &promokit.Promotion{ID: "prm_c"}
	type take struct {
		cd          promokit.Candidate
		discount    int64
		customerKey string
	}
	for _, tc := range []struct {
		name  string
		takes []take
		want  promokit.Uses
	}{
		{"none", nil, promokit.Uses{}},
		{"a code without limits, no customer", []take{
			{promokit.Candidate{Promotion: free, Code: &promokit.Code{Code: "C-1"}}, 100, ""},
		}, promokit.Uses{
			Promotions: []promokit.PromotionUse{{ID: "prm_c", Uses: 1, Discount: 100}},
			Codes:      []promokit.CodeUse{{Code: "C-1", Uses: 1}},
		}},
		{"orders add up, in the lock order", []take{
			{promokit.Candidate{Promotion: limited, Code: &promokit.Code{Code: "Z-1", PerCustomerLimit: one}}, 250, "e:b"},
			{promokit.Candidate{Promotion: auto}, 50, "e:b"},
			{promokit.Candidate{Promotion: limited, Code: &promokit.Code{Code: "A-1"}}, 250, "e:a"},
			{promokit.Candidate{Promotion: auto}, 50, "e:a"},
			{promokit.Candidate{Promotion: limited, Code: &promokit.Code{Code: "A-1"}}, 200, "e:b"},
			{promokit.Candidate{Promotion: free, Code: &promokit.Code{Code: "C-1"}}, 10, ""},
		}, promokit.Uses{
			Promotions: []promokit.PromotionUse{{ID: "prm_a", Uses: 2, Discount: 100}, {ID: "prm_b", Uses: 3, Discount: 700},
				{ID: "prm_c", Uses: 1, Discount: 10}},
			Codes: []promokit.CodeUse{{Code: "A-1", Uses: 2}, {Code: "C-1", Uses: 1}, {Code: "Z-1", Uses: 1}},
			Customers: []promokit.CustomerUse{
				{UsageKey: promokit.CodeUsageKey("Z-1", "e:b"), Uses: 1, Limit: one},
				{UsageKey: promokit.PromotionUsageKey("prm_a", "e:a"), Uses: 1, Limit: one},
				{UsageKey: promokit.PromotionUsageKey("prm_a", "e:b"), Uses: 1, Limit: one},
				{UsageKey: promokit.PromotionUsageKey("prm_b", "e:a"), Uses: 1, Limit: two},
				{UsageKey: promokit.PromotionUsageKey("prm_b", "e:b"), Uses: 2, Limit: two},
			},
		}},
	} {
		var tally promokit.UsesTally
		for _, tk := range tc.takes {
			tally.Take(&tk.cd, tk.discount, tk.customerKey)
		}
		if diff := cmp.Diff(tc.want, tally.Uses()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestGiveBack(t *testing.T) {
	t.Parallel()
	one, two := ptr(int64(1)), ptr(int64(2))
	limited := &promokit.Promotion{ID: "prm_1", PerCustomer: two}
	free := &promokit.Promotion{ID: "prm_1"}
	code := &promokit.Code{Code: "A-1", PerCustomerLimit: one}
	for _, tc := range []struct {
		name string
		r    promokit.Redemption
		p    *promokit.Promotion
		c    *promokit.Code
		want promokit.Uses
	}{
		{"a code, no customer", promokit.Redemption{PromotionID: "prm_1", Code: "A-1", Discount: 300}, nil, nil, promokit.Uses{
			Promotions: []promokit.PromotionUse{{ID: "prm_1", Uses: -1, Discount: -300}},
			Codes:      []promokit.CodeUse{{Code: "A-1", Uses: -1}},
		}},
		{"a codeless redemption", promokit.Redemption{PromotionID: "prm_1", Discount: 50, CustomerKey: "e:a"}, limited, nil, promokit.Uses{
			Promotions: []promokit.PromotionUse{{ID: "prm_1", Uses: -1, Discount: -50}},
			Customers:  []promokit.CustomerUse{{UsageKey: promokit.PromotionUsageKey("prm_1", "e:a"), Uses: -1}},
		}},
		{"both customer counters", promokit.Redemption{PromotionID: "prm_1", Code: "A-1", Discount: 300, CustomerKey: "e:a"}, limited, code, promokit.Uses{
			Promotions: []promokit.PromotionUse{{ID: "prm_1", Uses: -1, Discount: -300}},
			Codes:      []promokit.CodeUse{{Code: "A-1", Uses: -1}},
			Customers: []promokit.CustomerUse{{UsageKey: promokit.PromotionUsageKey("prm_1", "e:a"), Uses: -1},
				{UsageKey: promokit.CodeUsageKey("A-1", "e:a"), Uses: -1}},
		}},
		{"no limits: no customer counter", promokit.Redemption{PromotionID: "prm_1", Code: "A-1", Discount: 300, CustomerKey: "e:a"}, free,
			&promokit.Code{Code: "A-1"}, promokit.Uses{
				Promotions: []promokit.PromotionUse{{ID: "prm_1", Uses: -1, Discount: -300}},
				Codes:      []promokit.CodeUse{{Code: "A-1", Uses: -1}},
			}},
	} {
		if diff := cmp.Diff(tc.want, promokit.GiveBack(&tc.r, tc.p, tc.c)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

// TestUsesTallyGive: an order's give-backs are summed per counter and
// come out in the lock order, whatever the order of its redemptions, so
// that a release takes its counters as a redeem batch does.
func TestUsesTallyGive(t *testing.T) {
	t.Parallel()
	one := ptr(int64(1))
	pa := &promokit.Promotion{ID: "prm_a", PerCustomer: one}
	pb := &promokit.Promotion{ID: "prm_b"}
	rs := []struct {
		r promokit.Redemption
		p *promokit.Promotion
		c *promokit.Code
	}{
		{promokit.Redemption{PromotionID: "prm_b", Code: "Z-1", Discount: 100, CustomerKey: "e:a"}, pb, &promokit.Code{Code: "Z-1", PerCustomerLimit: one}},
		{promokit.Redemption{PromotionID: "prm_a", Discount: 40, CustomerKey: "e:a"}, pa, nil},
		{promokit.Redemption{PromotionID: "prm_b", Code: "A-1", Discount: 100, CustomerKey: "e:a"}, pb, &promokit.Code{Code: "A-1"}},
	}
	var tally promokit.UsesTally
	for _, r := range rs {
		tally.Give(&r.r, r.p, r.c)
	}
	want := promokit.Uses{
		Promotions: []promokit.PromotionUse{{ID: "prm_a", Uses: -1, Discount: -40}, {ID: "prm_b", Uses: -2, Discount: -200}},
		Codes:      []promokit.CodeUse{{Code: "A-1", Uses: -1}, {Code: "Z-1", Uses: -1}},
		Customers: []promokit.CustomerUse{{UsageKey: promokit.CodeUsageKey("Z-1", "e:a"), Uses: -1},
			{UsageKey: promokit.PromotionUsageKey("prm_a", "e:a"), Uses: -1}},
	}
	if diff := cmp.Diff(want, tally.Uses()); diff != "" {
		t.Errorf("give-backs (-want +got):\n%s", diff)
	}
}

func TestCounters(t *testing.T) {
	t.Parallel()
	seen := make(map[promokit.Counter]bool)
	for _, c := range promokit.Counters() {
		if c == "" || seen[c] {
			t.Errorf("counter %q is empty or listed twice", c)
		}
		seen[c] = true
	}
	for _, c := range []promokit.Counter{promokit.CounterPromotionUses, promokit.CounterPromotionDiscount,
		promokit.CounterCodeUses, promokit.CounterCustomerUses} {
		if !seen[c] {
			t.Errorf("usage counter %s is not listed", c)
		}
	}
}

// TestCounterDiffString checks that each kind of difference is worded by
// what it was recomputed from.
func TestCounterDiffString(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		d    promokit.CounterDiff
		want string
	}{
		{promokit.CounterDiff{Kind: promokit.CounterPromotionUses, Subject: "prm_1", Stored: 3, FromRows: 2},
			"promotion_uses prm_1: stored 3, from the redemptions 2"},
		{promokit.CounterDiff{Kind: promokit.CounterCustomerUses, Subject: "prm_1 e:x", Stored: 1},
			"customer_uses prm_1 e:x: stored 1, from the redemptions 0"},
		{promokit.CounterDiff{Kind: promokit.CounterLedgerDaily, Subject: "sto_1 par_1 2026-01-01 USD affiliate payable released", Stored: 100, FromRows: 130},
			"ledger_daily sto_1 par_1 2026-01-01 USD affiliate payable released: stored 100, from the ledger entries 130"},
		{promokit.CounterDiff{Kind: promokit.CounterLedgerDailyEntries, Subject: "s", Stored: 1, FromRows: 2},
			"ledger_daily_entries s: stored 1, from the ledger entries 2"},
		{promokit.CounterDiff{Kind: promokit.CounterPayableBalance, Subject: "sto_1 par_1 USD", Stored: 100, FromRows: 130},
			"payable_balance sto_1 par_1 USD: by the roll-ups 100, from the ledger entries 130"},
		{promokit.CounterDiff{Kind: promokit.CounterPayoutPaid, Subject: "pay_2", Stored: 200, FromRows: 150},
			"payout_paid pay_2: stored 200, from the payout's entries 150"},
		{promokit.CounterDiff{Kind: promokit.CounterLedgerPayout, Subject: "17", Detail: "names payout pay_9, which does not exist"},
			"ledger_payout 17: names payout pay_9, which does not exist"},
	} {
		if got := c.d.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.d, got, c.want)
		}
	}
}
