package http

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// policyField is one number of the policy as the settings form edits it:
// its input's name (the engine's field, so that an error finds it), its
// label, the rule it belongs to and how to read and write it.
type policyField struct {
	Name, Label, Rule, Unit string
	get                     func(*promokit.Policy) int64
	set                     func(*promokit.Policy, int64)
}

// policyGroup is a fieldset of the settings form: the fields of one rule.
type policyGroup struct {
	Legend string
	Fields []policyField
}

// policyGroups are the policy's numbers, grouped by rule, in the order
// the form shows them.
var policyGroups = []policyGroup{
	{"P1 Coupon activities per store and month", []policyField{
		{"policy.coupons.collectable_per_month", "Collectable coupons", "P1", "a month",
			func(p *promokit.Policy) int64 { return p.Coupons.CollectablePerMonth },
			func(p *promokit.Policy, v int64) { p.Coupons.CollectablePerMonth = v }},
		{"policy.coupons.targeted_per_month", "Targeted coupons", "P1", "a month",
			func(p *promokit.Policy) int64 { return p.Coupons.TargetedPerMonth },
			func(p *promokit.Policy, v int64) { p.Coupons.TargetedPerMonth = v }},
		{"policy.coupons.coin_exchange_per_month", "Coin-exchange coupons", "P1", "a month",
			func(p *promokit.Policy) int64 { return p.Coupons.CoinExchangePerMonth },
			func(p *promokit.Policy, v int64) { p.Coupons.CoinExchangePerMonth = v }},
	}},
	{"P2 Affiliate program", []policyField{
		{"policy.affiliate.exit_after_days", "Exit no earlier than", "P2", "days after joining",
			func(p *promokit.Policy) int64 { return p.Affiliate.ExitAfterDays },
			func(p *promokit.Policy, v int64) { p.Affiliate.ExitAfterDays = v }},
		{"policy.affiliate.rejoin_after_days", "Rejoin no earlier than", "P2", "days after exiting",
			func(p *promokit.Policy) int64 { return p.Affiliate.RejoinAfterDays },
			func(p *promokit.Policy, v int64) { p.Affiliate.RejoinAfterDays = v }},
		{"policy.affiliate.attribution_days", "Attribution window", "P2", "days",
			func(p *promokit.Policy) int64 { return p.Affiliate.AttributionDays },
			func(p *promokit.Policy, v int64) { p.Affiliate.AttributionDays = v }},
		{"policy.affiliate.hold_days", "Commission hold", "P2", "days after completion",
			func(p *promokit.Policy) int64 { return p.Affiliate.HoldDays },
			func(p *promokit.Policy, v int64) { p.Affiliate.HoldDays = v }},
		{"policy.affiliate.click_flood_per_hour", "Click flood", "P2", "clicks an hour per visitor and link (0: none flagged)",
			func(p *promokit.Policy) int64 { return p.Affiliate.ClickFloodPerHour },
			func(p *promokit.Policy, v int64) { p.Affiliate.ClickFloodPerHour = v }},
	}},
	{"P3 Influencer tasks", []policyField{
		{"policy.tasks.data_after_days", "Usage data released", "P3", "days after the end",
			func(p *promokit.Policy) int64 { return p.Tasks.DataAfterDays },
			func(p *promokit.Policy, v int64) { p.Tasks.DataAfterDays = v }},
		{"policy.tasks.payment_after_days", "Payment from", "P3", "days after the end",
			func(p *promokit.Policy) int64 { return p.Tasks.PaymentAfterDays },
			func(p *promokit.Policy, v int64) { p.Tasks.PaymentAfterDays = v }},
	}},
	{"P4 Partner promo codes", []policyField{
		{"policy.partner_codes.max_percent_off_bp", "Largest percentage off", "P4", "basis points (3000 = 30 %)",
			func(p *promokit.Policy) int64 { return int64(p.PartnerCodes.MaxPercentOff) },
			func(p *promokit.Policy, v int64) { p.PartnerCodes.MaxPercentOff = promokit.BasisPoints(v) }},
		{"policy.partner_codes.max_total_uses", "Uses per code", "P4", "at most",
			func(p *promokit.Policy) int64 { return p.PartnerCodes.MaxTotalUses },
			func(p *promokit.Policy, v int64) { p.PartnerCodes.MaxTotalUses = v }},
		{"policy.partner_codes.max_uses_per_customer", "Uses per customer", "P4", "at most",
			func(p *promokit.Policy) int64 { return p.PartnerCodes.MaxUsesPerCustomer },
			func(p *promokit.Policy, v int64) { p.PartnerCodes.MaxUsesPerCustomer = v }},
		{"policy.partner_codes.max_window_months", "Window", "P4", "months after creation",
			func(p *promokit.Policy) int64 { return p.PartnerCodes.MaxWindowMonths },
			func(p *promokit.Policy, v int64) { p.PartnerCodes.MaxWindowMonths = v }},
		{"policy.partner_codes.max_codes_per_window", "Codes per store", "P4", "in the rolling window below",
			func(p *promokit.Policy) int64 { return p.PartnerCodes.MaxCodesPerWindow },
			func(p *promokit.Policy, v int64) { p.PartnerCodes.MaxCodesPerWindow = v }},
		{"policy.partner_codes.window_days", "Rolling window", "P4", "days",
			func(p *promokit.Policy) int64 { return p.PartnerCodes.WindowDays },
			func(p *promokit.Policy, v int64) { p.PartnerCodes.WindowDays = v }},
		{"policy.partner_codes.partner_share_bp", "Seller's share of a code's sale", "P4", "basis points (6000 = 60 %)",
			func(p *promokit.Policy) int64 { return int64(p.PartnerCodes.PartnerShare) },
			func(p *promokit.Policy, v int64) { p.PartnerCodes.PartnerShare = promokit.BasisPoints(v) }},
	}},
	{"Code generation", []policyField{
		{"policy.codes.min_space_per_code", "Code space per code", "", "possible codes for each code issued, at least",
			func(p *promokit.Policy) int64 { return p.Codes.MinSpacePerCode },
			func(p *promokit.Policy, v int64) { p.Codes.MinSpacePerCode = v }},
	}},
}

// settingsPage is the data of the settings page: the settings as they are
// and what the form holds.
type settingsPage struct {
	Settings *promokit.Settings
	Version  int64 // the version the form edits
	Name     string
	Currency string
	TimeZone string
	Preset   string
	Presets  []string
	Groups   []policyGroup
	Values   map[string]string // the policy's inputs by name
}

// newSettingsPage returns the form of st as it is.
func newSettingsPage(st *promokit.Settings) settingsPage {
	pg := settingsPage{
		Settings: st, Version: st.Version, Name: st.Name, Currency: st.Currency, TimeZone: st.TimeZone,
		Presets: []string{promokit.PresetMarketplace, promokit.PresetOpen}, Groups: policyGroups,
		Values: make(map[string]string),
	}
	for _, g := range policyGroups {
		for _, f := range g.Fields {
			pg.Values[f.Name] = formatInt(f.get(&st.Policy))
		}
	}
	return pg
}

// handleConsoleSettings shows the marketplace's settings and policy in the
// form that edits them.
func (s *Server) handleConsoleSettings(w http.ResponseWriter, r *http.Request) {
	st, err := s.svc.Settings(r.Context())
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "settings", &page{Title: "Settings", Data: newSettingsPage(st)})
}

// handleConsoleSettingsUpdate saves the settings form. The form carries the
// version it was made from, as the API's If-Match: when the settings
// changed since, nothing is saved and the page shows the settings as they
// now are, so that no one's change is overwritten unseen (412). A preset
// replaces the whole policy; otherwise the policy is the form's numbers.
func (s *Server) handleConsoleSettingsUpdate(w http.ResponseWriter, r *http.Request) {
	var v promokit.Validation
	version, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if err != nil || version < 1 {
		s.consoleFail(w, r, promokit.Errorf(promokit.EInvalid, "the form has no version: open the settings again"))
		return
	}
	in := engine.SettingsInput{}
	name, currency, tz := r.PostFormValue("name"), strings.TrimSpace(r.PostFormValue("currency")), strings.TrimSpace(r.PostFormValue("time_zone"))
	in.Name, in.Currency, in.TimeZone = &name, &currency, &tz
	preset := r.PostFormValue("preset")
	values := make(map[string]string)
	var policy promokit.Policy
	for _, g := range policyGroups {
		for _, f := range g.Fields {
			values[f.Name] = r.PostFormValue(f.Name)
			f.set(&policy, formInt(r, &v, f.Name))
		}
	}
	if preset != "" {
		in.Preset = &preset
	} else {
		policy.Preset = presetOf(policy)
		in.Policy = &policy
	}
	err = v.Err()
	if err == nil {
		_, err = s.svc.UpdateSettings(r.Context(), version, in)
	}
	if err == nil {
		redirectNotice(w, r, "/console/settings", "settings-saved")
		return
	}
	if !formError(err) {
		s.consoleFail(w, r, err)
		return
	}
	cur, gerr := s.svc.Settings(r.Context())
	if gerr != nil {
		s.consoleFail(w, r, gerr)
		return
	}
	data := newSettingsPage(cur)
	if promokit.ErrorCode(err) == promokit.EVersionMismatch {
		// The form shows the settings as they now are: the change is
		// made again on them, or not at all.
		err = promokit.Errorf(promokit.EVersionMismatch, "The settings were changed by someone else since you opened this form (version %d; they are now at version %d). Nothing was saved: the form now shows the current settings; make your change again.", version, cur.Version)
	} else {
		data.Version = version
		data.Name, data.Currency, data.TimeZone, data.Preset, data.Values = name, currency, tz, preset, values
	}
	s.failForm(w, r, err, "settings", &page{Title: "Settings", Data: data})
}

// presetOf returns the name of the preset whose numbers p has, "" for a
// policy of its own.
func presetOf(p promokit.Policy) string {
	for _, name := range []string{promokit.PresetMarketplace, promokit.PresetOpen} {
		preset, _ := promokit.PolicyPreset(name)
		preset.Preset = ""
		if preset == p {
			return name
		}
	}
	return ""
}
