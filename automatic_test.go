package promokit_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/promokit/promokit"
)

// auto returns the codeless candidate of an automatic promotion.
func auto(p *promokit.Promotion) promokit.Candidate {
	p.Automatic = true
	return promokit.Candidate{Promotion: p}
}

// An automatic promotion is priced like a code, without one: its applied
// entry has no code and names its promotion, and it stacks with codes by
// the declared order (percentages on the original amounts, then amounts).
func TestPriceAutomatic(t *testing.T) {
	t.Parallel()
	ten, five := promo("prm_auto", promokit.PercentOff, 1000), promo("prm_five", promokit.AmountOff, 500)
	c := cart(promokit.Line{ProductID: "p", Quantity: 2, UnitPrice: 3000}, promokit.Line{ProductID: "q", Quantity: 1, UnitPrice: 4000})
	pc := promokit.Price(c, []promokit.Candidate{cand("FIVE", five), auto(ten)}, 0, now)
	checkSums(t, pc)
	if got := fmt.Sprint(pc.Applied); got != "[{ prm_auto true 1000} {FIVE prm_five false 500}]" {
		t.Fatalf("applied %s, rejected %+v", got, pc.Rejected)
	}
	// 10% of 6000 and 4000, then 500 spread over what is left (5400, 3600).
	if pc.Lines[0].Discount != 600+300 || pc.Lines[1].Discount != 400+200 || pc.Total != 10000-1500+499 {
		t.Fatalf("lines %+v total %d", pc.Lines, pc.Total)
	}
}

// A codeless candidate is checked against every condition of its
// promotion, and its rejection names the promotion.
func TestPriceAutomaticRejections(t *testing.T) {
	t.Parallel()
	line := promokit.Line{ProductID: "p", Quantity: 1, UnitPrice: 10000}
	cases := []struct {
		name   string
		change func(p *promokit.Promotion, cd *promokit.Candidate, c *promokit.Cart)
		reason string
		limit  int64 // 0: no limit reported
		used   int64
	}{
		{"coded promotion without its code", func(p *promokit.Promotion, cd *promokit.Candidate, _ *promokit.Cart) {
			p.Automatic = false
		}, promokit.ReasonCodeRequired, 0, 0},
		{"other store", func(p *promokit.Promotion, _ *promokit.Candidate, _ *promokit.Cart) { p.StoreID = "sto_2" }, promokit.ReasonWrongStore, 0, 0},
		{"ended", func(p *promokit.Promotion, _ *promokit.Candidate, _ *promokit.Cart) { p.EndsAt = &now }, promokit.ReasonExpired, 0, 0},
		{"inactive", func(p *promokit.Promotion, _ *promokit.Candidate, _ *promokit.Cart) { p.Active = false }, promokit.ReasonInactive, 0, 0},
		{"not started", func(p *promokit.Promotion, _ *promokit.Candidate, _ *promokit.Cart) { p.StartsAt = now.Add(time.Hour) }, promokit.ReasonNotStarted, 0, 0},
		{"guest on a per-customer promotion", func(p *promokit.Promotion, _ *promokit.Candidate, c *promokit.Cart) {
			p.PerCustomer, c.CustomerKey = ptr(int64(1)), ""
		}, promokit.ReasonIdentityRequired, 0, 0},
		{"total uses", func(p *promokit.Promotion, cd *promokit.Candidate, _ *promokit.Cart) {
			p.TotalUses, cd.Usage.PromotionUses = ptr(int64(5)), 5
		}, promokit.ReasonLimitReached, 5, 5},
		{"customer's uses", func(p *promokit.Promotion, cd *promokit.Candidate, _ *promokit.Cart) {
			p.PerCustomer, cd.Usage.CustomerUses = ptr(int64(2)), 2
		}, promokit.ReasonCustomerLimit, 2, 2},
		{"budget", func(p *promokit.Promotion, cd *promokit.Candidate, _ *promokit.Cart) {
			p.TotalDiscount, cd.Usage.PromotionDiscount = ptr(int64(1500)), 600
		}, promokit.ReasonBudgetExhausted, 1500, 600},
		{"minimum", func(p *promokit.Promotion, _ *promokit.Candidate, _ *promokit.Cart) { p.MinOrder = 10001 }, promokit.ReasonMinimumNotMet, 10001, 10000},
		{"products", func(p *promokit.Promotion, _ *promokit.Candidate, _ *promokit.Cart) { p.ProductIDs = []string{"q"} }, promokit.ReasonNoEligibleProducts, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cd := auto(promo("prm_auto", promokit.PercentOff, 1000))
			c := cart(line)
			tc.change(cd.Promotion, &cd, c)
			pc := promokit.Price(c, []promokit.Candidate{cd}, 0, now)
			if len(pc.Applied) != 0 || len(pc.Rejected) != 1 || pc.Discount != 0 {
				t.Fatalf("applied %+v rejected %+v", pc.Applied, pc.Rejected)
			}
			r := pc.Rejected[0]
			if r.Reason != tc.reason || r.Code != "" || r.PromotionID != "prm_auto" {
				t.Fatalf("rejection %+v, want %s of prm_auto without a code", r, tc.reason)
			}
			if tc.limit != 0 && (r.Limit == nil || *r.Limit != tc.limit || *r.Used != tc.used) {
				t.Fatalf("rejection %+v, want limit %d used %d", r, tc.limit, tc.used)
			}
		})
	}
}

// Two exclusive automatic promotions: the one of higher priority applies
// alone, the other is not combinable, by its promotion id.
func TestPriceAutomaticExclusive(t *testing.T) {
	t.Parallel()
	a, b := promo("prm_a", promokit.PercentOff, 1000), promo("prm_b", promokit.PercentOff, 2000)
	a.Exclusive, b.Exclusive, b.Priority = true, true, 5
	pc := promokit.Price(cart(promokit.Line{ProductID: "p", Quantity: 1, UnitPrice: 10000}), []promokit.Candidate{auto(a), auto(b), cand("CODE", promo("prm_c", promokit.AmountOff, 100))}, 0, now)
	checkSums(t, pc)
	if got := fmt.Sprint(pc.Applied); got != "[{ prm_b true 2000}]" {
		t.Fatalf("applied %s", got)
	}
	if got := fmt.Sprint(pc.Rejected); got != "[{ prm_a not_combinable  <nil> <nil> <nil>} {CODE  not_combinable  <nil> <nil> <nil>}]" {
		t.Fatalf("rejected %s", got)
	}
}

// An automatic promotion takes no coupon and no partner channel, and a
// store under P4 cannot create one.
func TestPromotionValidateAutomatic(t *testing.T) {
	t.Parallel()
	valid := func() *promokit.Promotion {
		p := promo("prm_auto", promokit.PercentOff, 1000)
		p.Currency, p.Automatic = "USD", true
		return p
	}
	if err := valid().Validate("USD"); err != nil {
		t.Fatalf("a storewide automatic 10%%: %v", err)
	}
	p := valid()
	p.Coupon = &promokit.CouponSettings{PerPerson: 1, Quantity: 10}
	wantField(t, p.Validate("USD"), "coupon", "not_allowed")
	p = valid()
	p.Channel = promokit.ChannelPartner
	wantField(t, p.Validate("USD"), "automatic", "not_allowed")
	p = valid()
	p.Channel = promokit.ChannelPlatform
	if err := p.Validate("USD"); err != nil {
		t.Fatalf("a platform automatic promotion: %v", err)
	}

	p = valid()
	p.ProductIDs, p.TotalUses, p.PerCustomer = []string{"p"}, ptr(int64(20)), ptr(int64(2))
	end := p.StartsAt.Add(24 * time.Hour)
	p.EndsAt, p.CreatedAt = &end, p.StartsAt
	pol, _ := promokit.PolicyPreset(promokit.PresetMarketplace)
	err := promokit.CheckPartnerCodePolicy(p, pol.PartnerCodes, time.UTC)
	var e *promokit.Error
	if !errors.As(err, &e) || e.Code != promokit.EPolicy || e.Rule != "P4" {
		t.Fatalf("automatic under P4: %v", err)
	}
	p.Automatic = false
	if err := promokit.CheckPartnerCodePolicy(p, pol.PartnerCodes, time.UTC); err != nil {
		t.Fatalf("the same terms with codes: %v", err)
	}
}

// wantField fails unless err is a validation error naming field with code.
func wantField(t *testing.T, err error, field, code string) {
	t.Helper()
	var e *promokit.Error
	if !errors.As(err, &e) || e.Code != promokit.EInvalid {
		t.Fatalf("error %v, want invalid", err)
	}
	for _, f := range e.Fields {
		if f.Field == field && f.Code == code {
			return
		}
	}
	t.Fatalf("fields %+v, want %s %s", e.Fields, field, code)
}

// An exclusive promotion that cannot apply to the cart — no eligible
// line, under its minimum, or over its spend budget alone — keeps nothing
// out: it is rejected with its reason and the others apply.
func TestPriceExclusiveThatDoesNotApply(t *testing.T) {
	t.Parallel()
	c := cart(promokit.Line{ProductID: "p", Quantity: 1, UnitPrice: 10000})
	for name, change := range map[string]func(p *promokit.Promotion, cd *promokit.Candidate){
		"no eligible line": func(p *promokit.Promotion, _ *promokit.Candidate) { p.ProductIDs = []string{"q"} },
		"minimum":          func(p *promokit.Promotion, _ *promokit.Candidate) { p.MinOrder = 20000 },
		"budget": func(p *promokit.Promotion, cd *promokit.Candidate) {
			p.TotalDiscount, cd.Usage.PromotionDiscount = ptr(int64(5000)), 4000
		},
	} {
		x := promo("prm_x", promokit.PercentOff, 2000)
		x.Exclusive, x.Priority = true, 9
		cx := auto(x)
		change(x, &cx)
		pc := promokit.Price(c, []promokit.Candidate{cx, cand("TEN", promo("prm_t", promokit.PercentOff, 1000))}, 0, now)
		checkSums(t, pc)
		if got := fmt.Sprint(pc.Applied); got != "[{TEN prm_t false 1000}]" || len(pc.Rejected) != 1 || pc.Rejected[0].PromotionID != "prm_x" {
			t.Errorf("%s: applied %s, rejected %+v", name, got, pc.Rejected)
		}
	}
}

// Under a stacking limit, automatic promotions and codes are taken in one
// order: percentages first, then by priority, whatever their origin.
func TestPriceAutomaticStackingLimit(t *testing.T) {
	t.Parallel()
	c := cart(promokit.Line{ProductID: "p", Quantity: 1, UnitPrice: 10000})
	ten, five, twenty := promo("prm_ten", promokit.PercentOff, 1000), promo("prm_five", promokit.AmountOff, 500), promo("prm_twenty", promokit.PercentOff, 2000)
	twenty.Priority = 1
	pc := promokit.Price(c, []promokit.Candidate{cand("FIVE", five), auto(ten)}, 1, now)
	if got := fmt.Sprint(pc.Applied); got != "[{ prm_ten true 1000}]" || len(pc.Rejected) != 1 || pc.Rejected[0].Code != "FIVE" || pc.Rejected[0].Reason != promokit.ReasonStackingLimit {
		t.Fatalf("a typed amount after an automatic percentage: %s %+v", got, pc.Rejected)
	}
	pc = promokit.Price(c, []promokit.Candidate{cand("TWENTY", twenty), auto(ten)}, 1, now)
	if got := fmt.Sprint(pc.Applied); got != "[{TWENTY prm_twenty false 2000}]" || len(pc.Rejected) != 1 || pc.Rejected[0].PromotionID != "prm_ten" || pc.Rejected[0].Reason != promokit.ReasonStackingLimit {
		t.Fatalf("a typed percentage of higher priority: %s %+v", got, pc.Rejected)
	}
}
