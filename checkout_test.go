package promokit_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/promokit/promokit"
)

var now = day("2026-06-01T12:00:00Z")

func promo(id string, typ promokit.DiscountType, value int64) *promokit.Promotion {
	p := &promokit.Promotion{ID: id, StoreID: "sto_1", Name: id, Channel: promokit.ChannelStore, Type: typ,
		Currency: "GBP", StartsAt: day("2026-01-01T00:00:00Z"), Active: true}
	if typ == promokit.PercentOff {
		p.PercentOff = promokit.BasisPoints(value)
	} else {
		p.AmountOff = value
	}
	return p
}

func cand(code string, p *promokit.Promotion) promokit.Candidate {
	return promokit.Candidate{Code: &promokit.Code{Code: code, PromotionID: p.ID, StoreID: p.StoreID, Active: true}, Promotion: p}
}

func cart(lines ...promokit.Line) *promokit.Cart {
	return &promokit.Cart{StoreID: "sto_1", CustomerID: "cus_1", CustomerKey: "c:cus_1", Currency: "GBP", Lines: lines, Shipping: 499}
}

// checkSums fails unless the lines add up to the order's totals.
func checkSums(t *testing.T, pc *promokit.PricedCart) {
	t.Helper()
	var disc, total int64
	for _, l := range pc.Lines {
		disc += l.Discount
		total += l.Total
		if l.Total < 0 || l.Total != l.Amount-l.Discount {
			t.Fatalf("line %+v does not add up", l)
		}
	}
	var applied int64
	for _, a := range pc.Applied {
		applied += a.Discount
	}
	if disc != pc.Discount || applied != pc.Discount || total+pc.Shipping != pc.Total || pc.Subtotal-pc.Discount+pc.Shipping != pc.Total {
		t.Fatalf("totals do not add up: %+v", pc)
	}
}

// The order of application (LESSONS: cubecart#1997): £5 + 10% + 30% on
// £100 is £55.00 whatever order the codes come in.
func TestPriceStackingOrder(t *testing.T) {
	t.Parallel()
	five, ten, thirty := promo("prm_a", promokit.AmountOff, 500), promo("prm_b", promokit.PercentOff, 1000), promo("prm_c", promokit.PercentOff, 3000)
	for _, order := range [][]promokit.Candidate{
		{cand("FIVE", five), cand("TEN", ten), cand("THIRTY", thirty)},
		{cand("THIRTY", thirty), cand("FIVE", five), cand("TEN", ten)},
	} {
		pc := promokit.Price(cart(promokit.Line{ProductID: "p", Quantity: 1, UnitPrice: 10000}), order, 0, now)
		checkSums(t, pc)
		if pc.Discount != 4500 || pc.Total != 5500+499 || len(pc.Applied) != 3 {
			t.Fatalf("discount %d total %d applied %+v", pc.Discount, pc.Total, pc.Applied)
		}
		if got := fmt.Sprint(pc.Applied); got != "[{TEN prm_b false 1000} {THIRTY prm_c false 3000} {FIVE prm_a false 500}]" {
			t.Errorf("applied in order %s", got)
		}
	}
}

// The seed's collectable coupon 30off2 (C6): $2 off orders over $30.
func TestPriceMinimumOrder(t *testing.T) {
	t.Parallel()
	p := promo("prm_30off2", promokit.AmountOff, 200)
	p.MinOrder = 3000
	pc := promokit.Price(cart(promokit.Line{ProductID: "p", Quantity: 1, UnitPrice: 2999}), []promokit.Candidate{cand("30OFF2", p)}, 0, now)
	if len(pc.Rejected) != 1 || pc.Rejected[0].Reason != promokit.ReasonMinimumNotMet || *pc.Rejected[0].Limit != 3000 || *pc.Rejected[0].Used != 2999 {
		t.Fatalf("$29.99: %+v", pc.Rejected)
	}
	pc = promokit.Price(cart(promokit.Line{ProductID: "p", Quantity: 2, UnitPrice: 1500}), []promokit.Candidate{cand("30OFF2", p)}, 0, now)
	checkSums(t, pc)
	if pc.Discount != 200 || pc.Total != 2800+499 {
		t.Fatalf("$30.00: %+v", pc)
	}
}

// A discount is spread over the eligible lines by largest remainder, and
// never reaches lines outside its scope.
func TestPriceAllocation(t *testing.T) {
	t.Parallel()
	p := promo("prm_p", promokit.AmountOff, 1000)
	p.ProductIDs = []string{"a", "b", "c"}
	c := cart(
		promokit.Line{ProductID: "a", Quantity: 1, UnitPrice: 1000},
		promokit.Line{ProductID: "b", Quantity: 2, UnitPrice: 1000},
		promokit.Line{ProductID: "c", Quantity: 3, UnitPrice: 1000},
		promokit.Line{ProductID: "z", Quantity: 1, UnitPrice: 5000},
	)
	pc := promokit.Price(c, []promokit.Candidate{cand("TENNER", p)}, 0, now)
	checkSums(t, pc)
	var got []int64
	for _, l := range pc.Lines {
		got = append(got, l.Discount)
	}
	if fmt.Sprint(got) != "[167 333 500 0]" {
		t.Fatalf("line discounts %v", got)
	}
	// More off than the eligible lines are worth takes them to zero only.
	big := promo("prm_big", promokit.AmountOff, 100000)
	big.ProductIDs = []string{"a"}
	pc = promokit.Price(c, []promokit.Candidate{cand("BIG", big)}, 0, now)
	checkSums(t, pc)
	if pc.Discount != 1000 || pc.Lines[0].Total != 0 {
		t.Fatalf("capped discount %+v", pc)
	}
	none := promo("prm_none", promokit.PercentOff, 1000)
	none.ProductIDs = []string{"q"}
	pc = promokit.Price(c, []promokit.Candidate{cand("NONE", none)}, 0, now)
	if pc.Discount != 0 || pc.Rejected[0].Reason != promokit.ReasonNoEligibleProducts {
		t.Fatalf("no eligible products: %+v", pc.Rejected)
	}
}

func TestPriceRejections(t *testing.T) {
	t.Parallel()
	one := promokit.Line{ProductID: "p", Quantity: 1, UnitPrice: 10000}
	for _, tt := range []struct {
		name   string
		change func(cd *promokit.Candidate, c *promokit.Cart)
		reason string
		limit  int64
		used   int64
	}{
		{"other store", func(cd *promokit.Candidate, c *promokit.Cart) { c.StoreID = "sto_2" }, promokit.ReasonWrongStore, -1, -1},
		{"ended", func(cd *promokit.Candidate, c *promokit.Cart) { cd.Promotion.EndsAt = ptr(now) }, promokit.ReasonExpired, -1, -1},
		{"code expired", func(cd *promokit.Candidate, c *promokit.Cart) { cd.Code.ExpiresAt = ptr(now.Add(-time.Second)) }, promokit.ReasonExpired, -1, -1},
		{"deactivated code", func(cd *promokit.Candidate, c *promokit.Cart) { cd.Code.Active = false }, promokit.ReasonInactive, -1, -1},
		{"not started", func(cd *promokit.Candidate, c *promokit.Cart) { cd.Promotion.StartsAt = now.Add(time.Second) }, promokit.ReasonNotStarted, -1, -1},
		{"other customer", func(cd *promokit.Candidate, c *promokit.Cart) { cd.Code.CustomerID = "cus_2" }, promokit.ReasonWrongCustomer, -1, -1},
		{"guest on a per-customer promotion", func(cd *promokit.Candidate, c *promokit.Cart) {
			cd.Promotion.PerCustomer = ptr(int64(1))
			c.CustomerID, c.CustomerKey = "", ""
		}, promokit.ReasonIdentityRequired, -1, -1},
		{"promotion used up", func(cd *promokit.Candidate, c *promokit.Cart) {
			cd.Promotion.TotalUses, cd.Usage.PromotionUses = ptr(int64(100)), 100
		}, promokit.ReasonLimitReached, 100, 100},
		{"code used up", func(cd *promokit.Candidate, c *promokit.Cart) {
			cd.Code.UsageLimit, cd.Usage.CodeUses = ptr(int64(5)), 5
		}, promokit.ReasonLimitReached, 5, 5},
		{"customer used it", func(cd *promokit.Candidate, c *promokit.Cart) {
			cd.Promotion.PerCustomer, cd.Usage.CustomerUses = ptr(int64(1)), 1
		}, promokit.ReasonCustomerLimit, 1, 1},
		{"budget", func(cd *promokit.Candidate, c *promokit.Cart) {
			cd.Promotion.TotalDiscount, cd.Usage.PromotionDiscount = ptr(int64(50000)), 49500
		}, promokit.ReasonBudgetExhausted, 50000, 49500},
	} {
		p := promo("prm_x", promokit.PercentOff, 1000)
		cd := cand("CODE", p)
		c := cart(one)
		tt.change(&cd, c)
		pc := promokit.Price(c, []promokit.Candidate{cd}, 0, now)
		if len(pc.Rejected) != 1 || pc.Rejected[0].Reason != tt.reason || pc.Discount != 0 {
			t.Errorf("%s: rejected %+v, discount %d", tt.name, pc.Rejected, pc.Discount)
			continue
		}
		r := pc.Rejected[0]
		if tt.limit >= 0 && (*r.Limit != tt.limit || *r.Used != tt.used || *r.Remaining != max(tt.limit-tt.used, 0)) {
			t.Errorf("%s: limit %d used %d remaining %d", tt.name, *r.Limit, *r.Used, *r.Remaining)
		}
	}
}

func TestPriceExclusiveAndStacking(t *testing.T) {
	t.Parallel()
	c := cart(promokit.Line{ProductID: "p", Quantity: 1, UnitPrice: 10000})
	a, b, x := promo("prm_a", promokit.PercentOff, 1000), promo("prm_b", promokit.AmountOff, 500), promo("prm_x", promokit.AmountOff, 700)
	x.Exclusive = true
	pc := promokit.Price(c, []promokit.Candidate{cand("A", a), cand("X", x), cand("B", b)}, 0, now)
	checkSums(t, pc)
	if len(pc.Applied) != 1 || pc.Applied[0].Code != "X" || len(pc.Rejected) != 2 || pc.Rejected[0].Reason != promokit.ReasonNotCombinable {
		t.Fatalf("exclusive: %+v %+v", pc.Applied, pc.Rejected)
	}
	pc = promokit.Price(c, []promokit.Candidate{cand("A", a), cand("B", b)}, 1, now)
	if len(pc.Applied) != 1 || pc.Applied[0].Code != "A" || pc.Rejected[0].Reason != promokit.ReasonStackingLimit {
		t.Fatalf("stacking limit 1: %+v %+v", pc.Applied, pc.Rejected)
	}
	pc = promokit.Price(c, []promokit.Candidate{cand("A", a), cand("A2", a)}, 0, now)
	if len(pc.Applied) != 1 || pc.Rejected[0].Reason != promokit.ReasonDuplicatePromotion {
		t.Fatalf("one code per promotion: %+v %+v", pc.Applied, pc.Rejected)
	}
}

func TestCartValidate(t *testing.T) {
	t.Parallel()
	ok := cart(promokit.Line{ProductID: "p", Quantity: 1, UnitPrice: 100})
	if err := ok.Validate("GBP"); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(c *promokit.Cart){
		"no lines":       func(c *promokit.Cart) { c.Lines = nil },
		"currency":       func(c *promokit.Cart) { c.Currency = "EUR" },
		"zero quantity":  func(c *promokit.Cart) { c.Lines[0].Quantity = 0 },
		"negative price": func(c *promokit.Cart) { c.Lines[0].UnitPrice = -1 },
		"huge price":     func(c *promokit.Cart) { c.Lines[0].UnitPrice = promokit.MaxAmount },
		"shipping":       func(c *promokit.Cart) { c.Shipping = -1 },
		"product":        func(c *promokit.Cart) { c.Lines[0].ProductID = "" },
	} {
		c := cart(promokit.Line{ProductID: "p", Quantity: 1, UnitPrice: 100})
		change(c)
		if err := c.Validate("GBP"); promokit.ErrorCode(err) != promokit.EInvalid {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzPrice(f *testing.F) {
	f.Add(int64(10000), int64(3), int64(1500), int64(500), int64(3000), int64(2))
	f.Fuzz(func(t *testing.T, price, qty, pct, amount, min, lines int64) {
		if lines < 1 || lines > 20 {
			return
		}
		c := &promokit.Cart{StoreID: "sto_1", Currency: "GBP"}
		for i := int64(0); i < lines; i++ {
			c.Lines = append(c.Lines, promokit.Line{ProductID: fmt.Sprint("p", i), Quantity: qty + i, UnitPrice: price * (i + 1)})
		}
		if c.Validate("GBP") != nil || pct < 1 || pct > 10000 || amount < 1 || amount > promokit.MaxAmount || min < 0 || min > promokit.MaxAmount {
			return
		}
		p1, p2 := promo("prm_a", promokit.PercentOff, pct), promo("prm_b", promokit.AmountOff, amount)
		p2.MinOrder = min
		pc := promokit.Price(c, []promokit.Candidate{cand("A", p1), cand("B", p2)}, 0, now)
		checkSums(t, pc)
		if pc.Discount < 0 || pc.Discount > pc.Subtotal {
			t.Fatalf("discount %d of %d", pc.Discount, pc.Subtotal)
		}
	})
}
