package promokit

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Cart is what a checkout prices (C4): a store's lines, shipping and the
// customer. Amounts are minor units of Currency.
type Cart struct {
	StoreID  string `json:"store_id"`
	Currency string `json:"currency"`
	// CustomerID is the marketplace's id of the buyer, for codes
	// restricted to one customer; CustomerKey the buyer's identity key
	// (Identity.Key) for per-customer limits. Both come from the request's
	// identity, not from the cart.
	CustomerID  string `json:"-"`
	CustomerKey string `json:"-"`
	Lines       []Line `json:"lines"`
	Shipping    int64  `json:"shipping"`
}

// Line is one product of a cart.
type Line struct {
	ProductID string `json:"product_id"`
	Quantity  int64  `json:"quantity"`
	UnitPrice int64  `json:"unit_price"`
}

// Amount returns the line's amount before discounts.
func (l Line) Amount() int64 { return l.Quantity * l.UnitPrice }

// Cart limits.
const (
	MaxCartLines    = 500
	MaxLineQuantity = 100_000
)

// Validate checks the cart against the marketplace currency. Quantities and
// prices are bounded so that no sum of the cart can overflow.
func (c *Cart) Validate(currency string) error {
	var v Validation
	if c.StoreID == "" {
		v.Add("store_id", "required", "store_id is required")
	}
	if c.Currency != currency {
		v.Add("currency", "wrong_currency", "currency must be the marketplace currency %s", currency)
	}
	if len(c.Lines) == 0 || len(c.Lines) > MaxCartLines {
		v.Add("lines", "out_of_range", "a cart has 1 to %d lines", MaxCartLines)
	}
	for i, l := range c.Lines {
		field := fmt.Sprintf("lines[%d]", i)
		if !ValidProductID(l.ProductID) {
			v.Add(field+".product_id", "invalid", "product_id must have 1 to 64 printable ASCII characters")
		}
		if l.Quantity < 1 || l.Quantity > MaxLineQuantity {
			v.Add(field+".quantity", "out_of_range", "quantity must be between 1 and %d", MaxLineQuantity)
		}
		// MaxAmount / MaxLineQuantity per unit keeps each line within MaxAmount.
		if l.UnitPrice < 0 || l.UnitPrice > MaxAmount/MaxLineQuantity {
			v.Add(field+".unit_price", "out_of_range", "unit_price must be between 0 and %d", MaxAmount/MaxLineQuantity)
		}
	}
	if c.Shipping < 0 || c.Shipping > MaxAmount {
		v.Add("shipping", "out_of_range", "shipping must be between 0 and %d", MaxAmount)
	}
	return v.Err()
}

// Subtotal returns the sum of the lines before discounts, shipping excluded.
func (c *Cart) Subtotal() int64 {
	var s int64
	for _, l := range c.Lines {
		s += l.Amount()
	}
	return s
}

// Reasons a code does not apply to a cart (C4). Each is stable: clients
// match on them.
const (
	ReasonNotFound           = "not_found"
	ReasonInactive           = "inactive"
	ReasonNotStarted         = "not_started"
	ReasonExpired            = "expired"
	ReasonLimitReached       = "limit_reached"
	ReasonBudgetExhausted    = "budget_exhausted"
	ReasonCustomerLimit      = "customer_limit_reached"
	ReasonMinimumNotMet      = "minimum_not_met"
	ReasonNoEligibleProducts = "no_eligible_products"
	ReasonWrongCustomer      = "wrong_customer"
	ReasonWrongStore         = "wrong_store"
	ReasonNotCombinable      = "not_combinable"
	ReasonStackingLimit      = "stacking_limit"
	ReasonDuplicatePromotion = "one_code_per_promotion"
	ReasonIdentityRequired   = "identity_required"
	ReasonCodeRequired       = "code_required"
	// ReasonNotListed refuses an order whose request lists the automatic
	// promotions it was priced with when another one applies as well (it
	// started, or a use was given back, since the cart was validated).
	ReasonNotListed = "not_listed"
	// ReasonNotValid is the one reason a storefront key gets for any code
	// that does not apply, whatever the cause, so that the answer for a
	// code that does not exist is the same as for one that does.
	ReasonNotValid = "not_valid"
)

// Usage is what has been used of a promotion and a code, and by the cart's
// customer, when the cart is priced: the counters the limits compare to.
type Usage struct {
	PromotionUses     int64
	PromotionDiscount int64
	CodeUses          int64
	CustomerUses      int64 // of the promotion, by this customer
	CodeCustomerUses  int64 // of the code, by this customer
}

// Candidate is a code offered for a cart, with its promotion and usage. A
// candidate without a Code is an automatic promotion, offered without a
// code: its Applied and Rejection carry an empty code and name it by its
// promotion id, and its code counters (CodeUses, CodeCustomerUses) are
// unused. A codeless candidate of a promotion that is not automatic is
// rejected (code_required), so a code can never be skipped.
type Candidate struct {
	Code      *Code
	Promotion *Promotion
	Usage     Usage
}

// value returns the candidate's code value, "" for an automatic promotion.
func (cd *Candidate) value() string {
	if cd.Code == nil {
		return ""
	}
	return cd.Code.Code
}

// Rejection says why a code does not apply; Rule, Limit, Used and Remaining
// are set for limits. PromotionID names the promotion of a codeless
// candidate (an automatic promotion), whose Code is empty; it is empty for
// codes.
type Rejection struct {
	Code        string `json:"code"`
	PromotionID string `json:"promotion_id,omitempty"`
	Reason      string `json:"reason"`
	Rule        string `json:"rule,omitempty"`
	Limit       *int64 `json:"limit,omitempty"`
	Used        *int64 `json:"used,omitempty"`
	Remaining   *int64 `json:"remaining,omitempty"`
}

// Applied is a code that applies, or an automatic promotion (Code empty,
// Automatic true), and the discount it gives.
type Applied struct {
	Code        string `json:"code"`
	PromotionID string `json:"promotion_id"`
	Automatic   bool   `json:"automatic"`
	Discount    int64  `json:"discount"`
}

// PricedLine is a cart line with its share of every discount.
type PricedLine struct {
	Line
	Amount   int64 `json:"amount"`
	Discount int64 `json:"discount"`
	Total    int64 `json:"total"`
}

// PricedCart is the result of pricing a cart.
type PricedCart struct {
	Currency string       `json:"currency"`
	Lines    []PricedLine `json:"lines"`
	Subtotal int64        `json:"subtotal"`
	Discount int64        `json:"discount"`
	Shipping int64        `json:"shipping"`
	Total    int64        `json:"total"`
	Applied  []Applied    `json:"applied"`
	Rejected []Rejection  `json:"rejected"`
}

// LimitRejection is the rejection of a code by a limit: its rule, the
// limit, what is used of it and what remains (never below zero).
func LimitRejection(code, reason, rule string, limit, used int64) Rejection {
	remaining := max(limit-used, 0)
	return Rejection{Code: code, Reason: reason, Rule: rule, Limit: &limit, Used: &used, Remaining: &remaining}
}

// rejection returns the rejection of the candidate for reason, naming the
// promotion of a codeless one.
func (cd *Candidate) rejection(reason string) Rejection {
	r := Rejection{Code: cd.value(), Reason: reason}
	cd.name(&r)
	return r
}

// limitRejection is LimitRejection for the candidate.
func (cd *Candidate) limitRejection(reason, rule string, limit, used int64) Rejection {
	r := LimitRejection(cd.value(), reason, rule, limit, used)
	cd.name(&r)
	return r
}

// name sets the promotion id of a codeless candidate's rejection.
func (cd *Candidate) name(r *Rejection) {
	if cd.Code == nil {
		r.PromotionID = cd.Promotion.ID
	}
}

// check returns the reason a candidate cannot apply to the cart at now
// before any amount is computed, or nil. A codeless candidate has only the
// promotion's conditions.
func (cd *Candidate) check(c *Cart, now time.Time) *Rejection {
	code, p, u := cd.Code, cd.Promotion, cd.Usage
	if code == nil {
		code = &Code{Active: true}
	}
	reject := func(reason string) *Rejection {
		r := cd.rejection(reason)
		return &r
	}
	atLimit := func(reason, rule string, limit, used int64) *Rejection {
		r := cd.limitRejection(reason, rule, limit, used)
		return &r
	}
	switch {
	case cd.Code == nil && !p.Automatic:
		return reject(ReasonCodeRequired)
	case p.StoreID != c.StoreID:
		return reject(ReasonWrongStore)
	case p.Ended(now) || (code.ExpiresAt != nil && !now.Before(*code.ExpiresAt)):
		return reject(ReasonExpired)
	case !p.Active || !code.Active:
		return reject(ReasonInactive)
	case now.Before(p.StartsAt):
		return reject(ReasonNotStarted)
	case code.CustomerID != "" && code.CustomerID != c.CustomerID:
		return reject(ReasonWrongCustomer)
	case (p.PerCustomer != nil || code.PerCustomerLimit != nil) && c.CustomerKey == "":
		return reject(ReasonIdentityRequired)
	}
	if p.TotalUses != nil && u.PromotionUses >= *p.TotalUses {
		return atLimit(ReasonLimitReached, "C2", *p.TotalUses, u.PromotionUses)
	}
	if code.UsageLimit != nil && u.CodeUses >= *code.UsageLimit {
		return atLimit(ReasonLimitReached, "C3", *code.UsageLimit, u.CodeUses)
	}
	if p.PerCustomer != nil && u.CustomerUses >= *p.PerCustomer {
		return atLimit(ReasonCustomerLimit, "C1", *p.PerCustomer, u.CustomerUses)
	}
	if code.PerCustomerLimit != nil && u.CodeCustomerUses >= *code.PerCustomerLimit {
		return atLimit(ReasonCustomerLimit, "C3", *code.PerCustomerLimit, u.CodeCustomerUses)
	}
	return nil
}

// eligible reports, per line, whether the promotion applies to it.
func eligible(p *Promotion, lines []Line) []bool {
	out := make([]bool, len(lines))
	for i, l := range lines {
		out[i] = p.AppliesTo(l.ProductID)
	}
	return out
}

// Price prices a cart with candidates at now (C4): the codes sent and the
// store's automatic promotions, which are ordered together by one rule,
// whatever their origin. The order of application is declared, not
// accidental:
//
//  1. Candidates that cannot apply (expired, limits reached, wrong
//     customer…) are rejected with their reason; a second code of a
//     promotion already applied is rejected (one code per promotion per
//     order). So are those that cannot apply to this cart whatever the
//     others do: without an eligible line (no_eligible_products), or under
//     the minimum order amount, compared with the subtotal of the eligible
//     lines before any discount (minimum_not_met).
//  2. Exclusive promotions: if one applies, it applies alone — the one of
//     highest priority, then lowest id, among those whose discount alone
//     fits their spend budget — and the others are not_combinable. An
//     exclusive promotion that does not apply to the cart never keeps the
//     others out.
//  3. The rest are ordered: percentages first, then fixed amounts; within
//     each, higher priority first, then lower promotion id. At most
//     maxStack apply (0: no limit); the others are stacking_limit.
//  4. Every percentage is computed on the lines' original amounts; fixed
//     amounts come after, on what the percentages left. A discount never
//     takes a line below zero.
//  5. Each discount is spread over its eligible lines in proportion to
//     what is left of them, by the largest remainder, so the lines add up
//     to the order's discount to the cent. A discount larger than the
//     promotion's remaining spend budget is rejected (budget_exhausted).
//
// Example: £100 of one product with 10% off, 30% off and £5 off, all
// combinable: 10 + 30 on the original £100, then 5 → £55.00.
func Price(c *Cart, candidates []Candidate, maxStack int, now time.Time) *PricedCart {
	pc := &PricedCart{Currency: c.Currency, Shipping: c.Shipping, Applied: []Applied{}, Rejected: []Rejection{}}
	left := make([]int64, len(c.Lines))
	for i, l := range c.Lines {
		left[i] = l.Amount()
		pc.Subtotal += left[i]
	}
	var ok []Candidate
	seen := map[string]bool{}
	for _, cd := range candidates {
		if r := cd.check(c, now); r != nil {
			pc.Rejected = append(pc.Rejected, *r)
			continue
		}
		if seen[cd.Promotion.ID] {
			pc.Rejected = append(pc.Rejected, cd.rejection(ReasonDuplicatePromotion))
			continue
		}
		seen[cd.Promotion.ID] = true
		ok = append(ok, cd)
	}
	byPriority := func(a, b Candidate) int {
		return cmp.Or(cmp.Compare(b.Promotion.Priority, a.Promotion.Priority), cmp.Compare(a.Promotion.ID, b.Promotion.ID))
	}
	slices.SortStableFunc(ok, func(a, b Candidate) int {
		pa, pb := a.Promotion.Type == PercentOff, b.Promotion.Type == PercentOff
		if pa != pb {
			if pa {
				return -1
			}
			return 1
		}
		return byPriority(a, b)
	})
	// What does not depend on the other discounts is decided first, so
	// that a promotion that cannot apply to this cart takes no part in
	// the choice of an exclusive one or in the stacking limit.
	fit := ok[:0]
	for _, cd := range ok {
		p := cd.Promotion
		base := eligibleBase(p, c.Lines)
		switch {
		case base == 0:
			pc.Rejected = append(pc.Rejected, cd.rejection(ReasonNoEligibleProducts))
		case base < p.MinOrder:
			r := cd.limitRejection(ReasonMinimumNotMet, "C1", p.MinOrder, base)
			r.Remaining = nil
			pc.Rejected = append(pc.Rejected, r)
		case p.Exclusive && overBudget(&cd, alone(p, base)):
			// An exclusive promotion applies alone: its discount is known
			// before it is chosen.
			pc.Rejected = append(pc.Rejected, cd.limitRejection(ReasonBudgetExhausted, "C2", *p.TotalDiscount, cd.Usage.PromotionDiscount))
		default:
			fit = append(fit, cd)
		}
	}
	ok = fit
	if i := slices.IndexFunc(ok, func(cd Candidate) bool { return cd.Promotion.Exclusive }); i >= 0 {
		best := ok[i]
		for _, cd := range ok {
			if cd.Promotion.Exclusive && byPriority(cd, best) < 0 {
				best = cd
			}
		}
		for _, cd := range ok {
			// Promotions are unique among ok: one candidate per promotion.
			if cd.Promotion.ID != best.Promotion.ID {
				pc.Rejected = append(pc.Rejected, cd.rejection(ReasonNotCombinable))
			}
		}
		ok = []Candidate{best}
	}
	discounts := make([]int64, len(c.Lines))
	applied := 0
	for _, cd := range ok {
		p := cd.Promotion
		elig := eligible(p, c.Lines)
		var base, room int64
		weights := make([]int64, len(c.Lines))
		for i, l := range c.Lines {
			if elig[i] {
				base += l.Amount()
				room += left[i]
				weights[i] = left[i]
			}
		}
		if maxStack > 0 && applied >= maxStack {
			pc.Rejected = append(pc.Rejected, cd.rejection(ReasonStackingLimit))
			continue
		}
		d := min(alone(p, base), room)
		if overBudget(&cd, d) {
			pc.Rejected = append(pc.Rejected, cd.limitRejection(ReasonBudgetExhausted, "C2", *p.TotalDiscount, cd.Usage.PromotionDiscount))
			continue
		}
		for i, share := range Allocate(d, weights) {
			discounts[i] += share
			left[i] -= share
		}
		pc.Discount += d
		pc.Applied = append(pc.Applied, Applied{Code: cd.value(), PromotionID: p.ID, Automatic: cd.Code == nil, Discount: d})
		applied++
	}
	pc.Lines = make([]PricedLine, len(c.Lines))
	for i, l := range c.Lines {
		pc.Lines[i] = PricedLine{Line: l, Amount: l.Amount(), Discount: discounts[i], Total: left[i]}
	}
	pc.Total = pc.Subtotal - pc.Discount + pc.Shipping
	return pc
}

// eligibleBase returns the original amount of the lines a promotion
// applies to.
func eligibleBase(p *Promotion, lines []Line) int64 {
	var base int64
	for _, l := range lines {
		if p.AppliesTo(l.ProductID) {
			base += l.Amount()
		}
	}
	return base
}

// alone returns the discount of a promotion on eligible lines of original
// amount base, before any other discount: a percentage of base, or the
// fixed amount, never more than base.
func alone(p *Promotion, base int64) int64 {
	if p.Type == PercentOff {
		return min(ApplyRate(base, p.PercentOff), base)
	}
	return min(p.AmountOff, base)
}

// overBudget reports whether a discount d would take the candidate's
// promotion past its spend budget.
func overBudget(cd *Candidate, d int64) bool {
	p := cd.Promotion
	return p.TotalDiscount != nil && cd.Usage.PromotionDiscount+d > *p.TotalDiscount
}

// MaxQualify is how many automatic promotions, and how many codes assigned
// to the customer, Qualify considers at most: the first by id (creation
// order). A store runs a handful of automatic promotions at once and a
// customer holds a handful of codes; the bound keeps one call cheap
// whatever the data.
const MaxQualify = 100
