package promokit

import (
	"time"
	"unicode/utf8"
)

// Settings are the marketplace's own: its name, the currency of every
// amount, the IANA time zone that calendar rules use ("0:00 the next day",
// "1 month") and the policy. One row, edited by the admin.
type Settings struct {
	Name      string    `json:"name"`
	Currency  string    `json:"currency"`
	TimeZone  string    `json:"time_zone"`
	Policy    Policy    `json:"policy"`
	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Location returns the marketplace's time zone; Validate has checked it.
func (s Settings) Location() *time.Location {
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Validate checks every field of s.
func (s Settings) Validate() error {
	var v Validation
	if s.Name == "" || utf8.RuneCountInString(s.Name) > 200 {
		v.Add("name", "invalid", "name must have 1 to 200 characters")
	}
	if !ValidCurrency(s.Currency) {
		v.Add("currency", "unknown_currency", "currency %q is not an ISO 4217 code", s.Currency)
	}
	if _, err := time.LoadLocation(s.TimeZone); err != nil || s.TimeZone == "" || s.TimeZone == "Local" {
		v.Add("time_zone", "unknown_time_zone", "time_zone %q is not an IANA time zone", s.TimeZone)
	}
	s.Policy.validate(&v)
	return v.Err()
}

// Policy is the set of numbers the engine enforces when programs are created
// or used (DOMAIN.md section P). The defaults reproduce the source
// documents; an operator may run with other numbers.
type Policy struct {
	Preset       string            `json:"preset"`
	Coupons      CouponPolicy      `json:"coupons"`       // P1
	Affiliate    AffiliatePolicy   `json:"affiliate"`     // P2
	Tasks        TaskPolicy        `json:"tasks"`         // P3
	PartnerCodes PartnerCodePolicy `json:"partner_codes"` // P4
	Codes        CodePolicy        `json:"codes"`
}

// CouponPolicy is P1: coupon activities per store per calendar month (C9).
type CouponPolicy struct {
	CollectablePerMonth  int64 `json:"collectable_per_month"`
	TargetedPerMonth     int64 `json:"targeted_per_month"`
	CoinExchangePerMonth int64 `json:"coin_exchange_per_month"`
}

// AffiliatePolicy is P2 (A2, A3): exit and rejoin delays and the attribution window.
type AffiliatePolicy struct {
	ExitAfterDays   int64 `json:"exit_after_days"`
	RejoinAfterDays int64 `json:"rejoin_after_days"`
	AttributionDays int64 `json:"attribution_days"`
	HoldDays        int64 `json:"hold_days"`
	// ClickFloodPerHour flags a visitor's clicks on one link past this
	// many within an hour as a flood (stored and counted, never
	// attributed); 0 flags none.
	ClickFloodPerHour int64 `json:"click_flood_per_hour"`
}

// TaskPolicy is P3 (I4): when usage data is released and payment allowed.
type TaskPolicy struct {
	DataAfterDays    int64 `json:"data_after_days"`
	PaymentAfterDays int64 `json:"payment_after_days"`
}

// PartnerCodePolicy is P4: the limits on promo codes created by a seller
// whose store runs under it.
type PartnerCodePolicy struct {
	MaxPercentOff      BasisPoints `json:"max_percent_off_bp"`
	MaxTotalUses       int64       `json:"max_total_uses"`
	MaxUsesPerCustomer int64       `json:"max_uses_per_customer"`
	MaxWindowMonths    int64       `json:"max_window_months"`
	MaxCodesPerWindow  int64       `json:"max_codes_per_window"`
	WindowDays         int64       `json:"window_days"`
	PartnerShare       BasisPoints `json:"partner_share_bp"`
}

// CodePolicy governs code generation: the code space must hold at least
// MinSpacePerCode possible codes for each code issued, so that a guess
// succeeds with a probability of at most 1/MinSpacePerCode.
type CodePolicy struct {
	MinSpacePerCode int64 `json:"min_space_per_code"`
}

// Policy presets.
const (
	// PresetMarketplace reproduces the source documents' numbers.
	PresetMarketplace = "marketplace"
	// PresetOpen lifts the program limits for marketplaces that do not
	// want them; code guessing protection stays.
	PresetOpen = "open"
)

// PolicyPreset returns the named preset and whether it exists.
func PolicyPreset(name string) (Policy, bool) {
	switch name {
	case PresetMarketplace:
		return Policy{
			Preset:       PresetMarketplace,
			Coupons:      CouponPolicy{CollectablePerMonth: 10, TargetedPerMonth: 20, CoinExchangePerMonth: 10},
			Affiliate:    AffiliatePolicy{ExitAfterDays: 15, RejoinAfterDays: 7, AttributionDays: 15, ClickFloodPerHour: 20},
			Tasks:        TaskPolicy{DataAfterDays: 1, PaymentAfterDays: 2},
			PartnerCodes: PartnerCodePolicy{MaxPercentOff: 3000, MaxTotalUses: 20, MaxUsesPerCustomer: 2, MaxWindowMonths: 1, MaxCodesPerWindow: 20, WindowDays: 30, PartnerShare: 6000},
			Codes:        CodePolicy{MinSpacePerCode: 100_000},
		}, true
	case PresetOpen:
		return Policy{
			Preset:       PresetOpen,
			Coupons:      CouponPolicy{CollectablePerMonth: 1_000_000, TargetedPerMonth: 1_000_000, CoinExchangePerMonth: 1_000_000},
			Affiliate:    AffiliatePolicy{ExitAfterDays: 0, RejoinAfterDays: 0, AttributionDays: 30, ClickFloodPerHour: 20},
			Tasks:        TaskPolicy{DataAfterDays: 0, PaymentAfterDays: 0},
			PartnerCodes: PartnerCodePolicy{MaxPercentOff: 10000, MaxTotalUses: 1_000_000_000, MaxUsesPerCustomer: 1_000_000_000, MaxWindowMonths: 120, MaxCodesPerWindow: 1_000_000_000, WindowDays: 30, PartnerShare: 6000},
			Codes:        CodePolicy{MinSpacePerCode: 100_000},
		}, true
	}
	return Policy{}, false
}

// DefaultSettings are the settings of a new marketplace.
func DefaultSettings(now time.Time) Settings {
	p, _ := PolicyPreset(PresetMarketplace)
	return Settings{Name: "promokit", Currency: "USD", TimeZone: "UTC", Policy: p, Version: 1, UpdatedAt: now}
}

func (p Policy) validate(v *Validation) {
	if p.Preset != "" {
		if _, ok := PolicyPreset(p.Preset); !ok {
			v.Add("policy.preset", "unknown_preset", "policy.preset must be %q or %q", PresetMarketplace, PresetOpen)
		}
	}
	days := func(field string, n int64) {
		if n < 0 || n > 3650 {
			v.Add(field, "out_of_range", "%s must be between 0 and 3650 days", field)
		}
	}
	count := func(field string, n int64) {
		if n < 0 || n > 1_000_000_000 {
			v.Add(field, "out_of_range", "%s must be between 0 and 1000000000", field)
		}
	}
	count("policy.coupons.collectable_per_month", p.Coupons.CollectablePerMonth)
	count("policy.coupons.targeted_per_month", p.Coupons.TargetedPerMonth)
	count("policy.coupons.coin_exchange_per_month", p.Coupons.CoinExchangePerMonth)
	days("policy.affiliate.exit_after_days", p.Affiliate.ExitAfterDays)
	days("policy.affiliate.rejoin_after_days", p.Affiliate.RejoinAfterDays)
	days("policy.affiliate.hold_days", p.Affiliate.HoldDays)
	if p.Affiliate.ClickFloodPerHour < 0 || p.Affiliate.ClickFloodPerHour > 1_000_000 {
		v.Add("policy.affiliate.click_flood_per_hour", "out_of_range", "policy.affiliate.click_flood_per_hour must be between 0 (flag none) and 1000000")
	}
	if p.Affiliate.AttributionDays < 1 || p.Affiliate.AttributionDays > 3650 {
		v.Add("policy.affiliate.attribution_days", "out_of_range", "policy.affiliate.attribution_days must be between 1 and 3650")
	}
	days("policy.tasks.data_after_days", p.Tasks.DataAfterDays)
	days("policy.tasks.payment_after_days", p.Tasks.PaymentAfterDays)
	pc := p.PartnerCodes
	if pc.MaxPercentOff < 1 || pc.MaxPercentOff > 10000 {
		v.Add("policy.partner_codes.max_percent_off_bp", "out_of_range", "policy.partner_codes.max_percent_off_bp must be between 1 and 10000")
	}
	if pc.PartnerShare < 0 || pc.PartnerShare > 10000 {
		v.Add("policy.partner_codes.partner_share_bp", "out_of_range", "policy.partner_codes.partner_share_bp must be between 0 and 10000")
	}
	count("policy.partner_codes.max_total_uses", pc.MaxTotalUses)
	count("policy.partner_codes.max_uses_per_customer", pc.MaxUsesPerCustomer)
	count("policy.partner_codes.max_codes_per_window", pc.MaxCodesPerWindow)
	if pc.MaxWindowMonths < 1 || pc.MaxWindowMonths > 120 {
		v.Add("policy.partner_codes.max_window_months", "out_of_range", "policy.partner_codes.max_window_months must be between 1 and 120")
	}
	if pc.WindowDays < 1 || pc.WindowDays > 3650 {
		v.Add("policy.partner_codes.window_days", "out_of_range", "policy.partner_codes.window_days must be between 1 and 3650")
	}
	if p.Codes.MinSpacePerCode < 1 || p.Codes.MinSpacePerCode > 1_000_000_000_000 {
		v.Add("policy.codes.min_space_per_code", "out_of_range", "policy.codes.min_space_per_code must be between 1 and 10^12")
	}
}
