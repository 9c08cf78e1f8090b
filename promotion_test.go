package promokit_test

import (
	"testing"
	"time"

	"github.com/promokit/promokit"
)

func ptr[T any](v T) *T { return &v }

func day(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func validPromotion() *promokit.Promotion {
	return &promokit.Promotion{
		Name: "30off2", Channel: promokit.ChannelStore, Type: promokit.AmountOff, AmountOff: 200,
		MinOrder: 3000, Currency: "USD", StartsAt: day("2026-01-01T00:00:00Z"),
		EndsAt: ptr(day("2026-01-11T00:00:00Z")), Active: true,
	}
}

func TestPromotionValidate(t *testing.T) {
	t.Parallel()
	if err := validPromotion().Validate("USD"); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(p *promokit.Promotion){
		"no name":           func(p *promokit.Promotion) { p.Name = " " },
		"control char":      func(p *promokit.Promotion) { p.Name = "a\x00b" },
		"wrong currency":    func(p *promokit.Promotion) { p.Currency = "EUR" },
		"zero amount":       func(p *promokit.Promotion) { p.AmountOff = 0 },
		"negative amount":   func(p *promokit.Promotion) { p.AmountOff = -5 },
		"huge amount":       func(p *promokit.Promotion) { p.AmountOff = promokit.MaxAmount + 1 },
		"percent on amount": func(p *promokit.Promotion) { p.PercentOff = 100 },
		"percent > 100%":    func(p *promokit.Promotion) { p.Type, p.AmountOff, p.PercentOff = promokit.PercentOff, 0, 10001 },
		"unknown type":      func(p *promokit.Promotion) { p.Type = "bogo" },
		"bad channel":       func(p *promokit.Promotion) { p.Channel = "tv" },
		"negative minimum":  func(p *promokit.Promotion) { p.MinOrder = -1 },
		"end before start":  func(p *promokit.Promotion) { p.EndsAt = ptr(p.StartsAt) },
		"zero total uses":   func(p *promokit.Promotion) { p.TotalUses = ptr(int64(0)) },
		"negative budget":   func(p *promokit.Promotion) { p.TotalDiscount = ptr(int64(-1)) },
		"dup product":       func(p *promokit.Promotion) { p.ProductIDs = []string{"a", "a"} },
		"bad product":       func(p *promokit.Promotion) { p.ProductIDs = []string{"a b"} },
		"coupon per person": func(p *promokit.Promotion) { p.Coupon = &promokit.CouponSettings{PerPerson: 0, Quantity: 200} },
	} {
		p := validPromotion()
		change(p)
		if err := p.Validate("USD"); promokit.ErrorCode(err) != promokit.EInvalid {
			t.Errorf("%s: Validate = %v, want invalid", name, err)
		}
	}
}

func TestPromotionStatus(t *testing.T) {
	t.Parallel()
	p := validPromotion()
	for _, tt := range []struct {
		now  string
		want promokit.Status
	}{
		{"2025-12-31T23:59:59Z", promokit.StatusScheduled},
		{"2026-01-01T00:00:00Z", promokit.StatusActive},
		{"2026-01-10T23:59:59Z", promokit.StatusActive},
		{"2026-01-11T00:00:00Z", promokit.StatusEnded},
	} {
		if got := p.Status(day(tt.now)); got != tt.want {
			t.Errorf("Status(%s) = %s, want %s", tt.now, got, tt.want)
		}
	}
	p.Active = false
	if got := p.Status(day("2026-01-05T00:00:00Z")); got != promokit.StatusInactive {
		t.Errorf("inactive: %s", got)
	}
	p.Active = true
	p.EndedAt = ptr(day("2026-01-03T00:00:00Z"))
	if got := p.Status(day("2026-01-05T00:00:00Z")); got != promokit.StatusEnded {
		t.Errorf("ended early: %s", got)
	}
	if p.Editable(day("2025-12-01T00:00:00Z")) != true || p.Editable(day("2026-01-01T00:00:00Z")) {
		t.Error("editable until start only (C5)")
	}
}

func p4Promotion() *promokit.Promotion {
	return &promokit.Promotion{
		Name: "p4", Channel: promokit.ChannelStore, Type: promokit.PercentOff, PercentOff: 3000,
		Currency: "USD", ProductIDs: []string{"module-1"},
		StartsAt: day("2026-01-31T10:00:00Z"), EndsAt: ptr(day("2026-02-28T10:00:00Z")),
		TotalUses: ptr(int64(20)), PerCustomer: ptr(int64(2)), Active: true,
		CreatedAt: day("2026-01-31T10:00:00Z"),
	}
}

func TestCheckPartnerCodePolicy(t *testing.T) {
	t.Parallel()
	pol, _ := promokit.PolicyPreset(promokit.PresetMarketplace)
	pc := pol.PartnerCodes
	if err := promokit.CheckPartnerCodePolicy(p4Promotion(), pc, time.UTC); err != nil {
		t.Fatalf("a promotion at every P4 limit must pass: %v", err)
	}
	for _, tt := range []struct {
		name    string
		change  func(p *promokit.Promotion)
		limit   int64
		current int64
		field   string // the field the refusal is about
	}{
		{"31%", func(p *promokit.Promotion) { p.PercentOff = 3100 }, 3000, 3100, "percent_off_bp"},
		{"amount off", func(p *promokit.Promotion) { p.Type, p.PercentOff, p.AmountOff = promokit.AmountOff, 0, 100 }, 3000, 0, "type"},
		{"whole catalogue", func(p *promokit.Promotion) { p.ProductIDs = nil }, 1, 0, "product_ids"},
		{"21 uses", func(p *promokit.Promotion) { p.TotalUses = ptr(int64(21)) }, 20, 21, "total_uses"},
		{"unlimited uses", func(p *promokit.Promotion) { p.TotalUses = nil }, 20, -1, "total_uses"},
		{"3 per customer", func(p *promokit.Promotion) { p.PerCustomer = ptr(int64(3)) }, 2, 3, "per_customer"},
		{"no per-customer limit", func(p *promokit.Promotion) { p.PerCustomer = nil }, 2, -1, "per_customer"},
		{"no end", func(p *promokit.Promotion) { p.EndsAt = nil }, 28, 0, "ends_at"},
		// January 31 + 1 month is February 28 in 2026: calendar months,
		// clamped to the month's last day (not March 3 as AddDate gives).
		{"one second too long", func(p *promokit.Promotion) { p.EndsAt = ptr(day("2026-02-28T10:00:01Z")) }, 28, 29, "ends_at"},
		// The month follows the code's creation, not its start (P4): a
		// window of 18 days that starts 20 days after the creation ends
		// 38 days after it.
		{"a month from a later start", func(p *promokit.Promotion) {
			p.StartsAt, p.EndsAt = day("2026-02-20T10:00:00Z"), ptr(day("2026-03-10T10:00:00Z"))
		}, 28, 38, "ends_at"},
	} {
		p := p4Promotion()
		tt.change(p)
		err := promokit.CheckPartnerCodePolicy(p, pc, time.UTC)
		e, ok := err.(*promokit.Error)
		if !ok || e.Code != promokit.EPolicy || e.Rule != "P4" {
			t.Errorf("%s: got %v, want a P4 policy error", tt.name, err)
			continue
		}
		if *e.Limit != tt.limit || *e.Current != tt.current {
			t.Errorf("%s: limit/current = %d/%d, want %d/%d", tt.name, *e.Limit, *e.Current, tt.limit, tt.current)
		}
		if e.Field != tt.field {
			t.Errorf("%s: about field %q, want %q", tt.name, e.Field, tt.field)
		}
	}
	if got, want := promokit.PartnerCodeLastEnd(day("2026-01-31T10:00:00Z"), pc, time.UTC), day("2026-02-28T10:00:00Z"); !got.Equal(want) {
		t.Errorf("PartnerCodeLastEnd = %s, want %s", got, want)
	}
	// A later start is fine while the window ends inside the month.
	p := p4Promotion()
	p.StartsAt, p.EndsAt = day("2026-02-20T10:00:00Z"), ptr(day("2026-02-28T10:00:00Z"))
	if err := promokit.CheckPartnerCodePolicy(p, pc, time.UTC); err != nil {
		t.Errorf("a later start, ending a month after the creation: %v", err)
	}
}

func TestCheckPartnerCodePolicyTimeZone(t *testing.T) {
	t.Parallel()
	pol, _ := promokit.PolicyPreset(promokit.PresetMarketplace)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	// 2026-03-15 00:30 in Paris is 2026-03-14T23:30Z; one month later in
	// Paris is 2026-04-15 00:30 CEST = 2026-04-14T22:30Z (DST began on
	// March 29), so the window is an hour shorter than 31 days in UTC.
	p := p4Promotion()
	p.CreatedAt = day("2026-03-14T23:30:00Z")
	p.StartsAt = p.CreatedAt
	p.EndsAt = ptr(day("2026-04-14T22:30:00Z"))
	if err := promokit.CheckPartnerCodePolicy(p, pol.PartnerCodes, paris); err != nil {
		t.Errorf("exactly one calendar month in Paris must pass: %v", err)
	}
	p.EndsAt = ptr(day("2026-04-14T23:00:00Z"))
	if err := promokit.CheckPartnerCodePolicy(p, pol.PartnerCodes, paris); err == nil {
		t.Error("half an hour past one calendar month in Paris must be refused")
	}
}

func TestAddMonths(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"2026-01-31T10:00:00Z": "2026-02-28T10:00:00Z",
		"2028-01-31T10:00:00Z": "2028-02-29T10:00:00Z",
		"2026-01-15T00:00:00Z": "2026-02-15T00:00:00Z",
		"2026-12-31T23:59:59Z": "2027-01-31T23:59:59Z",
	} {
		if got := promokit.AddMonths(day(in), 1); !got.Equal(day(want)) {
			t.Errorf("AddMonths(%s, 1) = %s, want %s", in, got, want)
		}
	}
}

func TestSettingsValidate(t *testing.T) {
	t.Parallel()
	s := promokit.DefaultSettings(day("2026-01-01T00:00:00Z"))
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(s *promokit.Settings){
		"zone":     func(s *promokit.Settings) { s.TimeZone = "Mars/Olympus" },
		"local":    func(s *promokit.Settings) { s.TimeZone = "Local" },
		"currency": func(s *promokit.Settings) { s.Currency = "usd" },
		"preset":   func(s *promokit.Settings) { s.Policy.Preset = "lax" },
		"p4 rate":  func(s *promokit.Settings) { s.Policy.PartnerCodes.MaxPercentOff = 10001 },
		"space":    func(s *promokit.Settings) { s.Policy.Codes.MinSpacePerCode = 0 },
		"days":     func(s *promokit.Settings) { s.Policy.Affiliate.ExitAfterDays = -1 },
	} {
		c := s
		change(&c)
		if err := c.Validate(); promokit.ErrorCode(err) != promokit.EInvalid {
			t.Errorf("%s: Validate = %v", name, err)
		}
	}
	p, ok := promokit.PolicyPreset(promokit.PresetMarketplace)
	if !ok || p.Coupons.CollectablePerMonth != 10 || p.Coupons.TargetedPerMonth != 20 || p.Coupons.CoinExchangePerMonth != 10 ||
		p.Affiliate.ExitAfterDays != 15 || p.Affiliate.RejoinAfterDays != 7 || p.Affiliate.AttributionDays != 15 ||
		p.Tasks.DataAfterDays != 1 || p.Tasks.PaymentAfterDays != 2 || p.PartnerCodes.MaxCodesPerWindow != 20 ||
		p.PartnerCodes.WindowDays != 30 || p.PartnerCodes.PartnerShare != 6000 {
		t.Errorf("the marketplace preset must reproduce P1–P4: %+v", p)
	}
}

func TestNewID(t *testing.T) {
	t.Parallel()
	a := promokit.NewID("prm", day("2026-01-01T00:00:00Z"))
	b := promokit.NewID("prm", day("2026-01-01T00:00:00.001Z"))
	if len(a) != 30 || a[:4] != "prm_" {
		t.Fatalf("id %q", a)
	}
	if !(a < b) {
		t.Errorf("ids must sort by time: %s !< %s", a, b)
	}
	if promokit.NewID("prm", day("2026-01-01T00:00:00Z")) == a {
		t.Error("ids must be random within a millisecond")
	}
}

// TestStatusBounds checks that the bounds of each status, which the
// databases' list filters apply, hold for exactly the promotions that
// have that status.
func TestStatusBounds(t *testing.T) {
	t.Parallel()
	now := day("2026-01-10T12:00:00Z")
	before, after := now.Add(-time.Hour), now.Add(time.Hour)
	for _, tc := range []struct {
		name string
		p    promokit.Promotion
		want promokit.Status
	}{
		{"started", promokit.Promotion{Active: true, StartsAt: before}, promokit.StatusActive},
		{"starts now", promokit.Promotion{Active: true, StartsAt: now}, promokit.StatusActive},
		{"ends later", promokit.Promotion{Active: true, StartsAt: before, EndsAt: &after}, promokit.StatusActive},
		{"not started", promokit.Promotion{Active: true, StartsAt: after}, promokit.StatusScheduled},
		{"deactivated", promokit.Promotion{StartsAt: before}, promokit.StatusInactive},
		{"deactivated before its start", promokit.Promotion{StartsAt: after, EndsAt: &after}, promokit.StatusInactive},
		{"past its end", promokit.Promotion{Active: true, StartsAt: before, EndsAt: &before}, promokit.StatusEnded},
		{"ends now", promokit.Promotion{Active: true, StartsAt: before, EndsAt: &now}, promokit.StatusEnded},
		{"ended early", promokit.Promotion{Active: true, StartsAt: before, EndedAt: &now, EndsAt: &after}, promokit.StatusEnded},
		{"deactivated and ended", promokit.Promotion{StartsAt: before, EndedAt: &before}, promokit.StatusEnded},
		{"ended before its start", promokit.Promotion{Active: true, StartsAt: after, EndedAt: &before}, promokit.StatusEnded},
	} {
		if got := tc.p.Status(now); got != tc.want {
			t.Errorf("%s: Status = %s, want %s", tc.name, got, tc.want)
		}
		for _, s := range []promokit.Status{promokit.StatusScheduled, promokit.StatusActive, promokit.StatusInactive, promokit.StatusEnded} {
			b, err := s.Bounds(now)
			if err != nil {
				t.Fatalf("Bounds(%s): %v", s, err)
			}
			if got := b.Holds(&tc.p); got != (s == tc.want) {
				t.Errorf("%s: bounds of %s hold: %v, want %v", tc.name, s, got, s == tc.want)
			}
		}
	}
	if _, err := promokit.Status("paused").Bounds(now); promokit.ErrorCode(err) != promokit.EInvalid {
		t.Errorf("Bounds of an unknown status: %v, want %s", err, promokit.EInvalid)
	}
}
