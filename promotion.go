package promokit

import (
	"slices"
	"time"
	"unicode/utf8"
)

// Channel says who runs a promotion and who funds it (C1).
type Channel string

// Channels.
const (
	ChannelStore    Channel = "store"    // the seller's own
	ChannelPartner  Channel = "partner"  // used by partner tasks (I1)
	ChannelPlatform Channel = "platform" // funded by the marketplace (R1)
)

// DiscountType is the kind of benefit.
type DiscountType string

// Discount types.
const (
	AmountOff  DiscountType = "amount_off"
	PercentOff DiscountType = "percent_off"
)

// Status is derived from the clock and the promotion's flags; it is never stored.
type Status string

// Statuses.
const (
	StatusScheduled Status = "scheduled" // active, before its start
	StatusActive    Status = "active"    // active, inside its window
	StatusInactive  Status = "inactive"  // deactivated, before its end
	StatusEnded     Status = "ended"     // past its end, or ended early
)

// ValidStatus reports whether s is a known status.
func ValidStatus(s Status) bool {
	switch s {
	case StatusScheduled, StatusActive, StatusInactive, StatusEnded:
		return true
	}
	return false
}

// Promotion is a benefit a store offers (C1): an amount or a percentage off,
// with an optional minimum order, on the whole store or a list of its
// products, inside a window, within limits.
type Promotion struct {
	ID          string       `json:"id"`
	StoreID     string       `json:"store_id"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Channel     Channel      `json:"channel"`
	Type        DiscountType `json:"type"`
	AmountOff   int64        `json:"amount_off"`
	PercentOff  BasisPoints  `json:"percent_off_bp"`
	Currency    string       `json:"currency"`
	MinOrder    int64        `json:"min_order_amount"`
	ProductIDs  []string     `json:"product_ids"` // empty: storewide
	StartsAt    time.Time    `json:"starts_at"`
	EndsAt      *time.Time   `json:"ends_at"`

	// Limits; nil is unlimited.
	TotalUses     *int64 `json:"total_uses"`
	TotalDiscount *int64 `json:"total_discount"` // the spend budget, in minor units
	PerCustomer   *int64 `json:"per_customer"`

	// Stacking (used at checkout).
	Exclusive bool  `json:"exclusive"`
	Priority  int64 `json:"priority"`

	// Coupon, when set, makes the promotion a collectable coupon (C6).
	Coupon *CouponSettings `json:"coupon"`

	// Automatic makes the promotion codeless: it applies to every cart of
	// its store it qualifies for, without a code, and takes no codes. It is
	// chosen when the promotion is created and never changes.
	Automatic bool `json:"automatic"`

	Active    bool       `json:"active"`
	EndedAt   *time.Time `json:"ended_at"`
	Version   int64      `json:"version"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`

	// Derived counters, kept by redemptions.
	Uses          int64 `json:"uses"`
	DiscountSpent int64 `json:"discount_spent"`
}

// CouponSettings make a promotion a collectable coupon (C6): buyers collect
// it, at most PerPerson times each and Quantity times in all; a collected
// coupon is valid for ValidDays from collection, or until the promotion's
// end when ValidDays is zero.
type CouponSettings struct {
	PerPerson int64 `json:"per_person"`
	Quantity  int64 `json:"quantity"`
	ValidDays int64 `json:"valid_days"`
}

// Storewide reports whether the promotion applies to every product of its store.
func (p *Promotion) Storewide() bool { return len(p.ProductIDs) == 0 }

// AppliesTo reports whether the promotion's scope takes in a product of
// its store: every product when storewide, else the listed ones.
func (p *Promotion) AppliesTo(productID string) bool {
	return p.Storewide() || slices.Contains(p.ProductIDs, productID)
}

// Status returns the promotion's status at now.
func (p *Promotion) Status(now time.Time) Status {
	if p.Ended(now) {
		return StatusEnded
	}
	if !p.Active {
		return StatusInactive
	}
	if now.Before(p.StartsAt) {
		return StatusScheduled
	}
	return StatusActive
}

// StatusBounds is what a promotion's stored fields must meet for it to
// have a status at At: the terms a list filter applies, and that
// Promotion.Status decides for one promotion (Status.Bounds). A database
// translates each term into a condition.
type StatusBounds struct {
	At time.Time
	// Ended requires the promotion to be over at At (Promotion.Ended:
	// EndedAt or EndsAt at or before At); false requires it not to be.
	Ended bool
	// Active, when set, is the value Promotion.Active must have.
	Active *bool
	// Started, when set, requires StartsAt at or before At (true) or
	// after it (false).
	Started *bool
}

// Bounds returns the bounds a promotion meets when it has status s at
// now; EInvalid for an unknown status.
func (s Status) Bounds(now time.Time) (StatusBounds, error) {
	yes, no := true, false
	b := StatusBounds{At: now}
	switch s {
	case StatusEnded:
		b.Ended = true
	case StatusInactive:
		b.Active = &no
	case StatusScheduled:
		b.Active, b.Started = &yes, &no
	case StatusActive:
		b.Active, b.Started = &yes, &yes
	default:
		return StatusBounds{}, Errorf(EInvalid, "unknown status %q", s)
	}
	return b, nil
}

// Holds reports whether p meets b: whether it has, at b.At, the status b
// is the bounds of.
func (b StatusBounds) Holds(p *Promotion) bool {
	if p.Ended(b.At) != b.Ended {
		return false
	}
	if b.Active != nil && p.Active != *b.Active {
		return false
	}
	return b.Started == nil || !b.At.Before(p.StartsAt) == *b.Started
}

// Ended reports whether the promotion is over at now: past its end or ended early.
func (p *Promotion) Ended(now time.Time) bool {
	if p.EndedAt != nil && !now.Before(*p.EndedAt) {
		return true
	}
	return p.EndsAt != nil && !now.Before(*p.EndsAt)
}

// Editable reports whether the promotion's terms may still change at now
// (C5): only before its start and never once ended.
func (p *Promotion) Editable(now time.Time) bool {
	return now.Before(p.StartsAt) && !p.Ended(now)
}

// Validate checks the promotion's terms against each other and the
// marketplace currency. It does not check that products exist; the engine
// does, inside the write.
func (p *Promotion) Validate(currency string) error {
	var v Validation
	checkName(&v, "name", p.Name)
	if utf8.RuneCountInString(p.Description) > 2000 {
		v.Add("description", "too_long", "description must have at most 2000 characters")
	}
	switch p.Channel {
	case ChannelStore, ChannelPartner, ChannelPlatform:
	default:
		v.Add("channel", "invalid", "channel must be store, partner or platform")
	}
	if p.Currency != currency {
		v.Add("currency", "wrong_currency", "currency must be the marketplace currency %s", currency)
	}
	switch p.Type {
	case AmountOff:
		if p.AmountOff < 1 || p.AmountOff > MaxAmount {
			v.Add("amount_off", "out_of_range", "amount_off must be between 1 and %d minor units", MaxAmount)
		}
		if p.PercentOff != 0 {
			v.Add("percent_off_bp", "not_allowed", "percent_off_bp is only for type percent_off")
		}
	case PercentOff:
		if p.PercentOff < 1 || p.PercentOff > 10000 {
			v.Add("percent_off_bp", "out_of_range", "percent_off_bp must be between 1 and 10000")
		}
		if p.AmountOff != 0 {
			v.Add("amount_off", "not_allowed", "amount_off is only for type amount_off")
		}
	default:
		v.Add("type", "invalid", "type must be amount_off or percent_off")
	}
	if p.MinOrder < 0 || p.MinOrder > MaxAmount {
		v.Add("min_order_amount", "out_of_range", "min_order_amount must be between 0 and %d", MaxAmount)
	}
	if len(p.ProductIDs) > 1000 {
		v.Add("product_ids", "too_many", "product_ids may list at most 1000 products")
	}
	seen := make(map[string]bool, len(p.ProductIDs))
	for _, id := range p.ProductIDs {
		if !ValidProductID(id) {
			v.Add("product_ids", "invalid", "product id %q is not valid", truncate(id, 70))
			break
		}
		if seen[id] {
			v.Add("product_ids", "duplicate", "product id %q is listed twice", id)
			break
		}
		seen[id] = true
	}
	if p.StartsAt.IsZero() {
		v.Add("starts_at", "required", "starts_at is required")
	}
	if p.EndsAt != nil && !p.EndsAt.After(p.StartsAt) {
		v.Add("ends_at", "before_start", "ends_at must be after starts_at")
	}
	limit := func(field string, n *int64, max int64) {
		if n != nil && (*n < 1 || *n > max) {
			v.Add(field, "out_of_range", "%s must be between 1 and %d, or null for no limit", field, max)
		}
	}
	limit("total_uses", p.TotalUses, 1_000_000_000_000)
	limit("total_discount", p.TotalDiscount, MaxAmount)
	limit("per_customer", p.PerCustomer, 1_000_000_000)
	if p.Priority < -1_000_000 || p.Priority > 1_000_000 {
		v.Add("priority", "out_of_range", "priority must be between -1000000 and 1000000")
	}
	if p.Automatic {
		if p.Coupon != nil {
			v.Add("coupon", "not_allowed", "an automatic promotion has no code, so buyers cannot collect it as a coupon")
		}
		if p.Channel == ChannelPartner {
			v.Add("automatic", "not_allowed", "a partner promotion reaches buyers through its partners' codes (I1); it cannot be automatic")
		}
	}
	if c := p.Coupon; c != nil {
		if c.PerPerson < 1 || c.PerPerson > 1_000_000 {
			v.Add("coupon.per_person", "out_of_range", "coupon.per_person must be between 1 and 1000000")
		}
		if c.Quantity < 1 || c.Quantity > 100_000_000 {
			v.Add("coupon.quantity", "out_of_range", "coupon.quantity must be between 1 and 100000000")
		}
		if c.ValidDays < 0 || c.ValidDays > 3650 {
			v.Add("coupon.valid_days", "out_of_range", "coupon.valid_days must be between 0 and 3650")
		}
	}
	return v.Err()
}

// CheckPartnerCodePolicy checks a promotion of a store that runs under P4
// (partner promo codes) against the policy, in the marketplace zone loc. It
// returns the first breach as a policy error naming the rule, the limit and
// the value the promotion asks for. Its window must end inside the
// calendar months that follow its creation (p.CreatedAt), wherever it
// starts: a code is usable for up to one month following its creation.
func CheckPartnerCodePolicy(p *Promotion, pol PartnerCodePolicy, loc *time.Location) error {
	if p.Automatic {
		return &Error{Code: EPolicy, Rule: "P4", Message: "a store under P4 gives its promotions through partner promo codes; it cannot create an automatic promotion", Field: "automatic"}
	}
	if p.Type != PercentOff {
		return PolicyError("P4", int64(pol.MaxPercentOff), 0, "a partner promo code gives a percentage off, up to %d bp", pol.MaxPercentOff).On("type")
	}
	if p.PercentOff > pol.MaxPercentOff {
		return PolicyError("P4", int64(pol.MaxPercentOff), int64(p.PercentOff), "percent_off_bp may be at most %d under P4", pol.MaxPercentOff).On("percent_off_bp")
	}
	if len(p.ProductIDs) == 0 {
		return PolicyError("P4", 1, 0, "a partner promo code must list one or more products, not the whole catalogue").On("product_ids")
	}
	if p.TotalUses == nil || *p.TotalUses > pol.MaxTotalUses {
		return PolicyError("P4", pol.MaxTotalUses, orMax(p.TotalUses), "total_uses must be set and at most %d under P4", pol.MaxTotalUses).On("total_uses")
	}
	if p.PerCustomer == nil || *p.PerCustomer > pol.MaxUsesPerCustomer {
		return PolicyError("P4", pol.MaxUsesPerCustomer, orMax(p.PerCustomer), "per_customer must be set and at most %d under P4", pol.MaxUsesPerCustomer).On("per_customer")
	}
	return checkPartnerCodeWindow(p, pol, loc)
}

// checkPartnerCodeWindow checks that a P4 promotion's window ends at most
// pol.MaxWindowMonths calendar months (in loc) after its creation. The
// limit and the value are days from the creation.
func checkPartnerCodeWindow(p *Promotion, pol PartnerCodePolicy, loc *time.Location) error {
	created := p.CreatedAt.In(loc)
	last := PartnerCodeLastEnd(created, pol, loc)
	maxDays := ceilDays(last.Sub(created))
	if p.EndsAt == nil {
		return PolicyError("P4", maxDays, 0, "ends_at is required under P4: at most %d month(s) after the code's creation, by %s", pol.MaxWindowMonths, last.Format(time.RFC3339)).On("ends_at")
	}
	if p.EndsAt.After(last) {
		return PolicyError("P4", maxDays, ceilDays(p.EndsAt.Sub(p.CreatedAt)), "ends_at may be at most %d month(s) (%d days) after the code's creation under P4, by %s", pol.MaxWindowMonths, maxDays, last.Format(time.RFC3339)).On("ends_at")
	}
	return nil
}

// PartnerCodeLastEnd returns the latest end that P4 allows the window of
// a code created at created: pol.MaxWindowMonths calendar months later in
// the marketplace's zone loc (AddMonths), in loc.
func PartnerCodeLastEnd(created time.Time, pol PartnerCodePolicy, loc *time.Location) time.Time {
	return AddMonths(created.In(loc), int(pol.MaxWindowMonths))
}

// AddMonths returns t plus n calendar months in t's location, clamped to the
// last day of the target month: January 31 plus one month is February 28
// (or 29), not March 3 as time.AddDate would normalise it.
func AddMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, t.Location())
	last := first.AddDate(0, 1, -1).Day()
	if d > last {
		d = last
	}
	hh, mm, ss := t.Clock()
	return time.Date(first.Year(), first.Month(), d, hh, mm, ss, t.Nanosecond(), t.Location())
}

func orMax(n *int64) int64 {
	if n == nil {
		return -1 // unlimited
	}
	return *n
}

func ceilDays(d time.Duration) int64 {
	day := 24 * time.Hour
	return int64((d + day - 1) / day)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
