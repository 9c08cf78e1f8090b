package http

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// The seller's affiliate program (DOMAIN.md A1–A4, policy P2): its
// store's place in the program, the agreement and the join form, the
// general rate and the products' own rates, the exit with the dates it
// sets, the history of the rates and the links affiliates made to the
// store with their clicks. The pages call GetAffiliate, JoinAffiliate,
// ExitAffiliate, SetRate, ListRates and ListLinks as the routes under
// /v1/stores/{id}/affiliate and GET /v1/links do, for the signed-in
// seller's own store: a page names no store, and a product whose own rate
// the store does not have is a 404 page. Rates are typed as percentages
// and kept in basis points, read exactly, without floating point; times
// are shown in the marketplace's time zone.

// affiliateRoutes are the console's routes of a seller's affiliate
// program.
func (s *Server) affiliateRoutes() []consoleRoute {
	return []consoleRoute{
		{"GET", "/console/affiliate", accessSeller, s.handleConsoleAffiliate},
		{"POST", "/console/affiliate/join", accessSeller, s.handleConsoleAffiliateJoin},
		{"POST", "/console/affiliate/exit", accessSeller, s.handleConsoleAffiliateExit},
		{"POST", "/console/affiliate/rate", accessSeller, s.handleConsoleAffiliateRate},
		{"GET", "/console/affiliate/product-rates", accessSeller, s.handleConsoleAffiliateProductRates},
		{"POST", "/console/affiliate/product-rates", accessSeller, s.handleConsoleAffiliateProductRate},
		{"POST", "/console/affiliate/product-rates/{product_id}/remove", accessSeller, s.handleConsoleAffiliateProductRateRemove},
		{"GET", "/console/affiliate/rates", accessSeller, s.handleConsoleAffiliateRates},
		{"GET", "/console/affiliate/links", accessSeller, s.handleConsoleAffiliateLinks},
	}
}

// affiliateRecent is how many products' own rates, rate changes and links
// the program's page shows; their own pages list them all, a page at a
// time.
const affiliateRecent = 10

// affiliateProducts bounds the products the product rate form suggests.
const affiliateProducts = 100

// Which form of the program's page a refusal belongs to.
const (
	affiliateJoin        = "join"
	affiliateExit        = "exit"
	affiliateRate        = "rate"
	affiliateProductRate = "product_rate"
)

// affiliatePage is the data of the program's page.
type affiliatePage struct {
	P        *engine.Program
	TimeZone string
	Policy   promokit.AffiliatePolicy
	loc      *time.Location

	// ExitNow tells whether an exit asked now is allowed; ExitAsk is
	// when it may be asked (now, or the end of the ExitAfterDays), and
	// ExitEffective and ExitRejoin what an exit asked then sets: when it
	// takes effect and when the store may rejoin.
	ExitNow                            bool
	ExitAsk, ExitEffective, ExitRejoin time.Time
	// RejoinFrom is when a store exiting or out may rejoin, RejoinNow
	// whether it may now.
	RejoinFrom time.Time
	RejoinNow  bool

	// What the forms hold: as typed when one was refused (Failed names
	// it), else the program as it is.
	Join    joinForm
	Rate    string
	Product productRateForm
	Failed  string
	Refusal *refusal
	// ProductRates are the first of the products' own rates in force,
	// MoreProducts whether there are more.
	ProductRates []engine.ProductRate
	MoreProducts bool
	Rates        []*promokit.Rate
	MoreRates    bool
	Links        []*engine.LinkView
	MoreLinks    bool
	Products     []*promokit.Product
	Percentages  rateBounds
}

// joinForm is what the join form holds.
type joinForm struct {
	Rate, URL string
	Accept    bool
}

// productRateForm is what the form of a product's own rate holds.
type productRateForm struct {
	ProductID, Rate string
}

// rateBounds are the rates' bounds as the page writes them.
type rateBounds struct {
	MinGeneral, MinProduct, Max string
}

// refusal is a refused form's error as its form shows it, beside it: the
// message and, for a policy's refusal, its rule, its limit and when it
// stops applying, in the marketplace's time zone.
type refusal struct {
	Message, Rule string
}

// In tells whether the store is in the program: joined, or exiting and
// not out yet.
func (d *affiliatePage) In() bool {
	return d.P.State == engine.ProgramJoined || d.P.State == engine.ProgramExiting
}

// CanJoin tells whether the page offers the join form: to a store that
// never joined or is out.
func (d *affiliatePage) CanJoin() bool {
	return d.P.State == engine.ProgramNotJoined || d.P.State == engine.ProgramExited
}

// At writes a time (a time.Time or a *time.Time) in the marketplace's
// time zone, which it names.
func (d *affiliatePage) At(v any) string {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case *time.Time:
		if x != nil {
			t = *x
		}
	}
	if t.IsZero() {
		return "–"
	}
	return t.In(d.loc).Format("2006-01-02 15:04") + " (" + d.TimeZone + ")"
}

// formatPercent writes a rate in percent with two decimals.
func formatPercent(bp promokit.BasisPoints) string {
	sign := ""
	if bp < 0 {
		sign, bp = "-", -bp
	}
	return fmt.Sprintf("%s%d.%02d", sign, bp/100, bp%100)
}

// parsePercent reads a rate typed in percent ("5", "2.5", "0.25 %") as
// basis points, exactly: digits with at most two decimals, since 0.01 %
// (one basis point) is the smallest step. It records a field error of
// field in v and reports false for anything else. It does not check the
// rate's bounds.
func parsePercent(v *promokit.Validation, field, label, raw string) (promokit.BasisPoints, bool) {
	s := strings.TrimSpace(raw)
	s = strings.TrimSpace(strings.TrimSuffix(s, "%"))
	if s == "" {
		v.Add(field, "required", "%s is required: a percentage such as 5 or 2.5", label)
		return 0, false
	}
	whole, frac, dot := strings.Cut(s, ".")
	if !digits(whole) || dot && !digits(frac) {
		v.Add(field, "invalid", "%s must be a percentage such as 5 or 2.5, in digits with a point for the decimals", label)
		return 0, false
	}
	if len(frac) > 2 {
		v.Add(field, "too_precise", "%s has at most 2 decimals: 0.01 %% (one basis point) is the smallest step", label)
		return 0, false
	}
	// Past 100 % is out of range whatever the digits: the length check
	// keeps the arithmetic far from overflow.
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > 5 {
		v.Add(field, "out_of_range", "%s must be at most %s %%", label, formatPercent(engine.MaxRate))
		return 0, false
	}
	var n int64
	if whole != "" {
		n, _ = strconv.ParseInt(whole, 10, 64)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	return promokit.BasisPoints(n*100 + f), true
}

// digits reports whether s is one or more ASCII digits.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// formRate reads the rate of form field name in percent and checks it
// against its bounds (the general rate's, or a product's when product),
// recording a field error in v. It returns the rate in basis points.
func formRate(r *http.Request, v *promokit.Validation, name, label string, product bool) (promokit.BasisPoints, bool) {
	bp, ok := parsePercent(v, name, label, r.PostFormValue(name))
	if !ok {
		return 0, false
	}
	lo, what := engine.MinGeneralRate, "the general rate pays something on every product"
	if product {
		lo, what = engine.MinProductRate, "0 is no commission on the product"
	}
	if bp < lo || bp > engine.MaxRate {
		v.Add(name, "out_of_range", "%s must be from %s %% to %s %% (%s)", label, formatPercent(lo), formatPercent(engine.MaxRate), what)
		return 0, false
	}
	return bp, true
}

// affiliatePage loads the program's page of the signed-in seller's store
// as it now is.
func (s *Server) affiliatePage(r *http.Request) (*affiliatePage, error) {
	ctx := r.Context()
	storeID := consolePrincipal(r).StoreID
	st, err := s.sellerSettings(ctx)
	if err != nil {
		return nil, err
	}
	prog, err := s.svc.GetAffiliate(ctx, storeID)
	if err != nil {
		return nil, err
	}
	loc, pol, now := st.Location(), st.Policy.Affiliate, s.svc.Clock().Now()
	d := &affiliatePage{P: prog, TimeZone: st.TimeZone, Policy: pol, loc: loc,
		Percentages: rateBounds{MinGeneral: formatPercent(engine.MinGeneralRate), MinProduct: formatPercent(engine.MinProductRate), Max: formatPercent(engine.MaxRate)}}
	switch prog.State {
	case engine.ProgramJoined:
		d.ExitAsk, d.ExitNow = now, true
		if prog.ExitFrom != nil && now.Before(*prog.ExitFrom) {
			d.ExitAsk, d.ExitNow = *prog.ExitFrom, false
		}
		d.ExitEffective = engine.ExitTakesEffect(d.ExitAsk, loc)
		d.ExitRejoin = engine.RejoinPossibleFrom(d.ExitEffective, pol, loc)
	case engine.ProgramExiting, engine.ProgramExited:
		d.RejoinFrom = engine.RejoinPossibleFrom(*prog.Membership.ExitsAt, pol, loc)
		d.RejoinNow = !now.Before(d.RejoinFrom)
	}
	if prog.Membership != nil {
		d.Join.URL = prog.Membership.URL
	}
	if prog.Rate != nil {
		d.Rate = formatPercent(*prog.Rate)
	}
	d.ProductRates, d.MoreProducts = prog.ProductRates, len(prog.ProductRates) > affiliateRecent
	if d.MoreProducts {
		d.ProductRates = d.ProductRates[:affiliateRecent]
	}
	if d.In() {
		d.Products, err = s.svc.ListProducts(ctx, storeID, storage.Page{Limit: affiliateProducts})
		if err != nil {
			return nil, err
		}
	}
	d.Rates, err = s.svc.ListRates(ctx, storeID, storage.Page{Limit: affiliateRecent})
	if err != nil {
		return nil, err
	}
	d.MoreRates = len(d.Rates) == affiliateRecent
	d.Links, err = s.svc.ListLinks(ctx, storage.Page{Limit: affiliateRecent})
	if err != nil {
		return nil, err
	}
	d.MoreLinks = len(d.Links) == affiliateRecent
	return d, nil
}

// handleConsoleAffiliate shows the store's program: its state, the forms
// that fit it, the latest rate changes and links.
func (s *Server) handleConsoleAffiliate(w http.ResponseWriter, r *http.Request) {
	d, err := s.affiliatePage(r)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "affiliate", &page{Title: "Affiliate program", Data: d})
}

// failAffiliate answers a refused form of the program's page: the page as
// the program now is, with the form as it was sent (keep changes it) and
// the error beside it. The engine's field rate_bp is the form's input
// rateField.
func (s *Server) failAffiliate(w http.ResponseWriter, r *http.Request, err error, form, rateField string, keep func(*affiliatePage)) {
	if !formError(err) {
		s.consoleFail(w, r, err)
		return
	}
	d, perr := s.affiliatePage(r)
	if perr != nil {
		s.consoleFail(w, r, perr)
		return
	}
	if keep != nil {
		keep(d)
	}
	d.Failed = form
	f := newFormErrors(err)
	for i := range f.Fields {
		if f.Fields[i].Field == "rate_bp" {
			f.Fields[i].Field = rateField
		}
	}
	if len(f.Fields) == 0 {
		d.Refusal = &refusal{Message: f.Message, Rule: d.ruleText(f)}
	}
	s.logFormError(r, err, f)
	pg := &page{Title: "Affiliate program", Form: f, Data: d}
	s.render(w, r, f.Status, "affiliate", pg)
}

// ruleText is the sentence beside a form for a policy's refusal: its
// rule, its limit (days, for A2's) and when it stops applying, in the
// marketplace's time zone; "" for another refusal.
func (d *affiliatePage) ruleText(f *formErrors) string {
	if f.Rule == "" {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Rule %s", f.Rule)
	if f.Limit != nil {
		unit := ""
		if f.Rule == "A2" {
			unit = " days"
		}
		fmt.Fprintf(&b, ": the limit is %d%s", *f.Limit, unit)
		if f.Current != nil {
			fmt.Fprintf(&b, ", and it has been %d", *f.Current)
		}
	}
	if f.PossibleFrom != nil {
		fmt.Fprintf(&b, ". Possible from %s", d.At(*f.PossibleFrom))
	}
	return b.String() + "."
}

// RemovePath is the path of the form that removes product's own rate: a
// product id may hold any printable character, / and ? among them.
func (d *affiliatePage) RemovePath(product string) string { return removeRatePath(product) }

// RemovePath is the path of the form that removes product's own rate.
func (d *affiliateListPage) RemovePath(product string) string { return removeRatePath(product) }

func removeRatePath(product string) string {
	return "/console/affiliate/product-rates/" + url.PathEscape(product) + "/remove"
}

// handleConsoleAffiliateJoin joins the program (A1): the agreement
// accepted, a general rate and the page of the store-wide links.
func (s *Server) handleConsoleAffiliateJoin(w http.ResponseWriter, r *http.Request) {
	f := joinForm{Rate: r.PostFormValue("rate"), URL: strings.TrimSpace(r.PostFormValue("url")), Accept: formBool(r, "accept_terms")}
	var v promokit.Validation
	if !f.Accept {
		v.Add("accept_terms", "required", "Joining requires accepting the program's agreement: tick I accept")
	}
	bp, _ := formRate(r, &v, "rate", "The general rate", false)
	if f.URL == "" {
		v.Add("url", "required", "The store's page is required: store-wide links open it")
	}
	err := v.Err()
	if err == nil {
		_, err = s.svc.JoinAffiliate(r.Context(), consolePrincipal(r).StoreID, engine.JoinInput{AcceptTerms: true, Rate: &bp, URL: f.URL})
	}
	if err != nil {
		s.failAffiliate(w, r, err, affiliateJoin, "rate", func(d *affiliatePage) { d.Join = f })
		return
	}
	redirectNotice(w, r, "/console/affiliate", "affiliate-joined")
}

// handleConsoleAffiliateExit asks for the store's exit (A2).
func (s *Server) handleConsoleAffiliateExit(w http.ResponseWriter, r *http.Request) {
	if _, err := s.svc.ExitAffiliate(r.Context(), consolePrincipal(r).StoreID); err != nil {
		s.failAffiliate(w, r, err, affiliateExit, "", nil)
		return
	}
	redirectNotice(w, r, "/console/affiliate", "affiliate-exiting")
}

// handleConsoleAffiliateRate sets the general rate from now on.
func (s *Server) handleConsoleAffiliateRate(w http.ResponseWriter, r *http.Request) {
	typed := r.PostFormValue("rate")
	var v promokit.Validation
	bp, _ := formRate(r, &v, "rate", "The general rate", false)
	err := v.Err()
	if err == nil {
		_, err = s.svc.SetRate(r.Context(), consolePrincipal(r).StoreID, "", engine.RateInput{Rate: &bp}, false)
	}
	if err != nil {
		s.failAffiliate(w, r, err, affiliateRate, "rate", func(d *affiliatePage) { d.Rate = typed })
		return
	}
	redirectNotice(w, r, "/console/affiliate", "affiliate-rate-set")
}

// handleConsoleAffiliateProductRate sets a product's own rate from now on.
// A product the store does not have is an error of its field: the form
// names it, so it is the seller's typing, not a page to hide.
func (s *Server) handleConsoleAffiliateProductRate(w http.ResponseWriter, r *http.Request) {
	f := productRateForm{ProductID: strings.TrimSpace(r.PostFormValue("product_id")), Rate: r.PostFormValue("product_rate")}
	var v promokit.Validation
	if f.ProductID == "" {
		v.Add("product_id", "required", "The product is required: its id, such as mug")
	}
	bp, _ := formRate(r, &v, "product_rate", "The product's rate", true)
	err := v.Err()
	if err == nil {
		_, err = s.svc.SetRate(r.Context(), consolePrincipal(r).StoreID, f.ProductID, engine.RateInput{Rate: &bp}, false)
		if promokit.ErrorCode(err) == promokit.ENotFound {
			err = invalidField("product_id", "not_found", "Your store has no product %q", f.ProductID)
		}
	}
	if err != nil {
		s.failAffiliate(w, r, err, affiliateProductRate, "product_rate", func(d *affiliatePage) { d.Product = f })
		return
	}
	redirectNotice(w, r, "/console/affiliate", "affiliate-product-rate-set")
}

// handleConsoleAffiliateProductRateRemove ends a product's own rate: the
// product takes the general rate again. A product without an own rate in
// the store's program, another store's among them, is a 404 page.
func (s *Server) handleConsoleAffiliateProductRateRemove(w http.ResponseWriter, r *http.Request) {
	storeID, productID := consolePrincipal(r).StoreID, r.PathValue("product_id")
	prog, err := s.svc.GetAffiliate(r.Context(), storeID)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	if !hasProductRate(prog, productID) {
		s.consoleNotFound(w, r)
		return
	}
	if _, err := s.svc.SetRate(r.Context(), storeID, productID, engine.RateInput{}, true); err != nil {
		s.failAffiliate(w, r, err, affiliateProductRate, "product_rate", nil)
		return
	}
	redirectNotice(w, r, "/console/affiliate", "affiliate-product-rate-removed")
}

// hasProductRate tells whether product has its own rate in force in prog.
func hasProductRate(prog *engine.Program, product string) bool {
	for _, pr := range prog.ProductRates {
		if pr.ProductID == product {
			return true
		}
	}
	return false
}

// affiliateListPage is the data of the pages of all the rate changes and
// all the links.
type affiliateListPage struct {
	Rates        []*promokit.Rate
	Links        []*engine.LinkView
	ProductRates []engine.ProductRate
	Pager        pager
	TimeZone     string
	loc          *time.Location
}

// At writes a time in the marketplace's time zone.
func (d *affiliateListPage) At(t time.Time) string {
	return (&affiliatePage{TimeZone: d.TimeZone, loc: d.loc}).At(t)
}

// handleConsoleAffiliateProductRates lists the products with their own
// rate in force, by product id, a page at a time, each with its button
// that removes it. They are the program's (GetAffiliate), paged here: the
// cursor is the last product id of the page before.
func (s *Server) handleConsoleAffiliateProductRates(w http.ResponseWriter, r *http.Request) {
	st, err := s.sellerSettings(r.Context())
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	p, err := listPage(r)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	prog, err := s.svc.GetAffiliate(r.Context(), consolePrincipal(r).StoreID)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	rates := prog.ProductRates
	if p.After != "" {
		i := 0
		for i < len(rates) && rates[i].ProductID <= p.After {
			i++
		}
		rates = rates[i:]
	}
	rates = rates[:min(len(rates), consolePageSize)]
	d := &affiliateListPage{ProductRates: rates, Pager: pagerOf(r, rates, func(v engine.ProductRate) string { return v.ProductID }), TimeZone: st.TimeZone, loc: st.Location()}
	s.render(w, r, http.StatusOK, "affiliate_product_rates", &page{Title: "Products with their own rate", Data: d})
}

// handleConsoleAffiliateRates lists the store's rate changes, newest
// first, a page at a time.
func (s *Server) handleConsoleAffiliateRates(w http.ResponseWriter, r *http.Request) {
	st, err := s.sellerSettings(r.Context())
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	// ListRates refuses a cursor that is not a rate's id.
	p, err := listPage(r)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	list, err := s.svc.ListRates(r.Context(), consolePrincipal(r).StoreID, p)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	d := &affiliateListPage{Rates: list, Pager: pagerOf(r, list, func(v *promokit.Rate) string { return strconv.FormatInt(v.ID, 10) }), TimeZone: st.TimeZone, loc: st.Location()}
	s.render(w, r, http.StatusOK, "affiliate_rates", &page{Title: "Commission rate changes", Data: d})
}

// handleConsoleAffiliateLinks lists the affiliates' links to the store
// with their clicks, oldest first, a page at a time.
func (s *Server) handleConsoleAffiliateLinks(w http.ResponseWriter, r *http.Request) {
	st, err := s.sellerSettings(r.Context())
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	p, err := listPage(r)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	list, err := s.svc.ListLinks(r.Context(), p)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	d := &affiliateListPage{Links: list, Pager: pagerOf(r, list, func(v *engine.LinkView) string { return v.ID }), TimeZone: st.TimeZone, loc: st.Location()}
	s.render(w, r, http.StatusOK, "affiliate_links", &page{Title: "Affiliate links to your store", Data: d})
}
