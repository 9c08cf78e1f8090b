package http

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// The P4 tab: the Promotions pages of a seller whose store runs under P4
// (partner promo codes, README "Partner promo codes (P4)"). Such a store
// makes its codes one at a time, each with a promotion of its own that
// holds the code's terms, within the limits of the policy in force; a code
// never changes after its creation but for its activation. The tab shows
// those limits and the store's quota before a code is made, makes the
// promotion and its code in one step (engine.CreatePromotionWithCode),
// and lists every code of the store, newest first, with its terms, state
// and uses, the buttons that activate and deactivate it, the link to its
// uses (the code's page, /console/codes/{code}) and the export of all of
// them as CSV (the store's export, as GET /v1/stores/{id}/codes.csv).
//
// Its routes are for accessP4Seller: any other principal, and the seller
// of a store not under P4, gets the 404 page. A P4 seller who opens the
// promotions list or the form of a new promotion is sent here.

// requireP4 returns nil when the seller p's store runs under P4, and a
// not-found error otherwise: the P4 tab is not the page of other stores.
func (s *Server) requireP4(ctx context.Context, p promokit.Principal) error {
	st, err := s.svc.GetStore(ctx, p.StoreID)
	if err != nil {
		return err
	}
	if !st.PartnerPromoCodes {
		return promokit.Errorf(promokit.ENotFound, "the store does not run under P4")
	}
	return nil
}

// sellerUnderP4 reports whether the seller of r runs a store under P4.
func (s *Server) sellerUnderP4(r *http.Request) (bool, error) {
	p := consolePrincipal(r)
	st, err := s.svc.GetStore(r.Context(), p.StoreID)
	if err != nil {
		return false, err
	}
	return st.PartnerPromoCodes, nil
}

// redirectP4 sends the seller of a store under P4 to the P4 tab's path
// and reports true; it answers an error too, and reports true. For the
// others it does nothing and reports false.
func (s *Server) redirectP4(w http.ResponseWriter, r *http.Request, path string) bool {
	p4, err := s.sellerUnderP4(r)
	if err != nil {
		s.consoleFail(w, r, err)
		return true
	}
	if p4 {
		http.Redirect(w, r, path, http.StatusSeeOther)
	}
	return p4
}

// p4Page is the data of the P4 tab: the store's quota and the codes'
// history.
type p4Page struct {
	Quota  *engine.CodeQuota
	Policy promokit.PartnerCodePolicy
	Rows   []p4Row
	Pager  pager
	// After is the cursor of the page shown, which the buttons send back
	// so that the browser returns to the same page.
	After    string
	Loc      *time.Location
	TimeZone string
}

// p4Row is a code of the history: its terms, its state now and whether
// it can still be activated or deactivated (until it ends).
type p4Row struct {
	*engine.StoreCode
	State string
	Open  bool
}

// UsesLimit is the most uses the code allows: its own limit, else its
// promotion's; nil for none.
func (r p4Row) UsesLimit() *int64 {
	if r.Code.UsageLimit != nil {
		return r.Code.UsageLimit
	}
	return r.Promotion.TotalUses
}

// PerCustomer is the most uses a customer has of the code: its own limit,
// else its promotion's; nil for none.
func (r p4Row) PerCustomer() *int64 {
	if r.Code.PerCustomerLimit != nil {
		return r.Code.PerCustomerLimit
	}
	return r.Promotion.PerCustomer
}

// p4RowProducts is how many product ids a row of the history shows; the
// code's page and the export have them all.
const p4RowProducts = 3

// Products returns the first product ids of the code's promotion, which
// the row shows.
func (r p4Row) Products() []string {
	ids := r.Promotion.ProductIDs
	return ids[:min(len(ids), p4RowProducts)]
}

// MoreProducts is how many product ids the row leaves out.
func (r p4Row) MoreProducts() int {
	return max(len(r.Promotion.ProductIDs)-p4RowProducts, 0)
}

// p4State returns the state of code c of promotion p at now: ended (its
// promotion ended or it expired: nothing changes it any more), inactive
// (the code, or its promotion), scheduled, or active.
func p4State(c *promokit.Code, p *promokit.Promotion, now time.Time) (state string, open bool) {
	switch {
	case p.Ended(now) || c.ExpiresAt != nil && !now.Before(*c.ExpiresAt):
		return "ended", false
	case !c.Active:
		return "inactive", true
	case !p.Active:
		return "promotion inactive", true
	case now.Before(p.StartsAt):
		return "scheduled", true
	}
	return "active", true
}

// handleConsoleP4 shows the P4 tab: the quota, the way to a new code and
// the store's codes, newest first, a page at a time.
func (s *Server) handleConsoleP4(w http.ResponseWriter, r *http.Request) {
	pg, err := s.p4Page(r)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "p4", pg)
}

// p4Page loads the P4 tab of r's seller, on the page r asks for.
func (s *Server) p4Page(r *http.Request) (*page, error) {
	ctx := r.Context()
	storeID := consolePrincipal(r).StoreID
	lp, err := listPage(r)
	if err != nil {
		return nil, err
	}
	st, err := s.sellerSettings(ctx)
	if err != nil {
		return nil, err
	}
	q, err := s.svc.PartnerCodeQuota(ctx, storeID)
	if err != nil {
		return nil, err
	}
	codes, err := s.svc.ListStoreCodes(ctx, storeID, lp)
	if err != nil {
		return nil, err
	}
	now := s.svc.Clock().Now()
	d := &p4Page{Quota: q, Policy: st.Policy.PartnerCodes, After: lp.After, Loc: st.Location(), TimeZone: st.TimeZone}
	for _, c := range codes {
		state, open := p4State(c.Code, c.Promotion, now)
		d.Rows = append(d.Rows, p4Row{StoreCode: c, State: state, Open: open})
	}
	d.Pager = pagerOf(r, codes, func(v *engine.StoreCode) string { return v.Code.Code })
	return &page{Title: "Partner promo codes", Data: d}, nil
}

// p4Form is what the form of a new P4 code shows and sends: the code and
// its promotion's terms, amounts in basis points, times in the
// marketplace's zone.
type p4Form struct {
	Code, Name, Description string
	PercentOff              string
	ProductIDs              []string // the checked products
	OtherProducts           string   // ids beyond the listed products, comma separated
	Customers               string   // "all" or "one"
	CustomerID              string
	TotalUses, PerCustomer  string
	StartsAt, EndsAt        string // 2006-01-02T15:04
}

// Checked reports whether product id is checked.
func (f p4Form) Checked(id string) bool { return slices.Contains(f.ProductIDs, id) }

// p4NewPage is the data of the form of a new P4 code: the form, the
// store's products to choose from, the limits of the policy in force and
// the store's quota.
type p4NewPage struct {
	Form     p4Form
	Products []*promokit.Product
	// MoreProducts tells that the store has more products than the list
	// shows: the others are typed in.
	MoreProducts bool
	Policy       promokit.PartnerCodePolicy
	Quota        *engine.CodeQuota
	// LastEnd is the latest end of a code made now, in the zone; MaxEnd
	// the same as the form's datetime-local bound.
	LastEnd  time.Time
	MaxEnd   string
	Loc      *time.Location
	TimeZone string
}

// p4ProductList is how many of the store's products the form lists as
// checkboxes; a store with more types the others' ids.
const p4ProductList = 100

// handleConsoleP4New shows the form of a new code, filled with the
// policy's limits and a window from now to the latest end it allows.
func (s *Server) handleConsoleP4New(w http.ResponseWriter, r *http.Request) {
	pg, err := s.p4NewPage(r, nil)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "p4_new", pg)
}

// p4NewPage loads the form's page, holding f, or the form's defaults for
// nil.
func (s *Server) p4NewPage(r *http.Request, f *p4Form) (*page, error) {
	ctx := r.Context()
	storeID := consolePrincipal(r).StoreID
	st, err := s.sellerSettings(ctx)
	if err != nil {
		return nil, err
	}
	q, err := s.svc.PartnerCodeQuota(ctx, storeID)
	if err != nil {
		return nil, err
	}
	products, err := s.svc.ListProducts(ctx, storeID, storage.Page{Limit: p4ProductList + 1})
	if err != nil {
		return nil, err
	}
	loc, pol := st.Location(), st.Policy.PartnerCodes
	now := s.svc.Clock().Now().In(loc)
	last := promokit.PartnerCodeLastEnd(now, pol, loc)
	// The form's minutes: the bound is the last whole minute allowed.
	maxEnd := last.Truncate(time.Minute).Format(formTime)
	d := &p4NewPage{Products: products, Policy: pol, Quota: q, LastEnd: last, MaxEnd: maxEnd, Loc: loc, TimeZone: st.TimeZone}
	if len(products) > p4ProductList {
		d.Products, d.MoreProducts = products[:p4ProductList], true
	}
	if f != nil {
		d.Form = *f
	} else {
		d.Form = p4Form{Customers: "all", TotalUses: formatInt(pol.MaxTotalUses), PerCustomer: formatInt(pol.MaxUsesPerCustomer),
			StartsAt: now.Format(formTime), EndsAt: maxEnd}
		if len(products) == 1 {
			d.Form.ProductIDs = []string{products[0].ID}
		}
	}
	return &page{Title: "New partner promo code", Data: d}, nil
}

// readP4Form reads the form of a new code into f and the inputs of its
// promotion and its code; a field that is not a number or a time, or a
// customer not named, is an error of v.
func readP4Form(r *http.Request, loc *time.Location, v *promokit.Validation) (p4Form, engine.PromotionInput, engine.CodeInput) {
	f := p4Form{
		Code: strings.TrimSpace(r.PostFormValue("code")), Name: r.PostFormValue("name"), Description: r.PostFormValue("description"),
		PercentOff: r.PostFormValue("percent_off_bp"), ProductIDs: r.PostForm["product_ids"], OtherProducts: r.PostFormValue("other_product_ids"),
		Customers: r.PostFormValue("customers"), CustomerID: strings.TrimSpace(r.PostFormValue("customer_id")),
		TotalUses: r.PostFormValue("total_uses"), PerCustomer: r.PostFormValue("per_customer"),
		StartsAt: r.PostFormValue("starts_at"), EndsAt: r.PostFormValue("ends_at"),
	}
	typ := promokit.PercentOff
	percent := promokit.BasisPoints(formInt(r, v, "percent_off_bp"))
	ids := []string{}
	for _, id := range append(slices.Clone(f.ProductIDs), strings.FieldsFunc(f.OtherProducts, func(c rune) bool { return c == ',' || c == ' ' || c == '\n' || c == '\r' })...) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	in := engine.PromotionInput{Name: &f.Name, Description: &f.Description, Type: &typ, PercentOff: &percent, ProductIDs: &ids}
	code := engine.CodeInput{Code: f.Code}
	if t, ok := formTimeValue(v, "starts_at", f.StartsAt, loc); ok {
		in.StartsAt = &t
	}
	if t, ok := formTimeValue(v, "ends_at", f.EndsAt, loc); ok {
		in.EndsAt = engine.Nullable[time.Time]{Set: true, Value: t}
	}
	if strings.TrimSpace(f.TotalUses) != "" {
		n := formInt(r, v, "total_uses")
		in.TotalUses = engine.Nullable[int64]{Set: true, Value: n}
		code.UsageLimit = in.TotalUses
	}
	if strings.TrimSpace(f.PerCustomer) != "" {
		n := formInt(r, v, "per_customer")
		in.PerCustomer = engine.Nullable[int64]{Set: true, Value: n}
		code.PerCustomerLimit = in.PerCustomer
	}
	switch f.Customers {
	case "all":
	case "one":
		if f.CustomerID == "" {
			v.Add("customer_id", "required", "name the customer the code is for, or choose all customers")
		}
		code.CustomerID = &f.CustomerID
	default:
		v.Add("customers", "required", "choose all customers or one customer")
	}
	return f, in, code
}

// p4Inputs names the form's input of each engine field whose name differs:
// the code's limits are the promotion's, which the form asks once.
var p4Inputs = map[string]string{
	"usage_limit":        "total_uses",
	"per_customer_limit": "per_customer",
	"type":               "percent_off_bp",
}

// p4FormError returns err with its fields named as the form's inputs: a
// taken value is the code's, and a refusal of the quota, which is no
// field's, is shown next to the quota (the input "quota").
func p4FormError(err error) error {
	var e *promokit.Error
	if !errors.As(err, &e) {
		return err
	}
	out := *e
	out.Fields = make([]promokit.FieldError, len(e.Fields))
	for i, fe := range e.Fields {
		if in, ok := p4Inputs[fe.Field]; ok {
			fe.Field = in
		}
		out.Fields[i] = fe
	}
	if in, ok := p4Inputs[out.Field]; ok {
		out.Field = in
	}
	switch {
	case out.Code == promokit.ECodeTaken && len(out.Fields) == 0:
		out.Fields = []promokit.FieldError{{Field: "code", Code: out.Code, Message: out.Message}}
	case out.Code == promokit.EPolicy && out.Field == "" && len(out.Fields) == 0:
		out.Field = "quota"
	}
	return &out
}

// handleConsoleP4Create makes a code and its promotion in one step and
// opens the tab; a refused form is shown again, each refusal next to its
// input with the rule and the limit.
func (s *Server) handleConsoleP4Create(w http.ResponseWriter, r *http.Request) {
	st, err := s.sellerSettings(r.Context())
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	var v promokit.Validation
	f, in, code := readP4Form(r, st.Location(), &v)
	err = v.Err()
	if err == nil {
		_, _, err = s.svc.CreatePromotionWithCode(r.Context(), in, code)
	}
	if err != nil {
		pg, perr := s.p4NewPage(r, &f)
		if perr != nil {
			s.consoleFail(w, r, perr)
			return
		}
		s.failForm(w, r, p4FormError(err), "p4_new", pg)
		return
	}
	redirectNotice(w, r, "/console/p4", "p4-created")
}

// handleConsoleP4Activate activates a code of the store until it ends.
func (s *Server) handleConsoleP4Activate(w http.ResponseWriter, r *http.Request) {
	s.consoleSetCodeActive(w, r, true, "p4-activated")
}

// handleConsoleP4Deactivate deactivates a code of the store.
func (s *Server) handleConsoleP4Deactivate(w http.ResponseWriter, r *http.Request) {
	s.consoleSetCodeActive(w, r, false, "p4-deactivated")
}

// consoleSetCodeActive activates or deactivates the code of the path, the
// only change a P4 code takes, and goes back to the tab's page the form
// was sent from; a refusal (an ended code) is shown on the tab.
func (s *Server) consoleSetCodeActive(w http.ResponseWriter, r *http.Request, active bool, notice string) {
	_, err := s.svc.UpdateCode(r.Context(), r.PathValue("code"), engine.CodeInput{Active: &active})
	if err != nil {
		if !formError(err) {
			s.consoleFail(w, r, err)
			return
		}
		pg, perr := s.p4Page(r)
		if perr != nil {
			s.consoleFail(w, r, perr)
			return
		}
		s.failForm(w, r, err, "p4", pg)
		return
	}
	back := "/console/p4"
	if after := r.PostFormValue("after"); after != "" && len(after) <= 200 {
		back += "?after=" + url.QueryEscape(after)
	}
	redirectNotice(w, r, back, notice)
}

// handleConsoleP4Export streams every code of the store with its
// promotion's terms as a CSV download: the store's export, as the API's
// GET /v1/stores/{id}/codes.csv.
func (s *Server) handleConsoleP4Export(w http.ResponseWriter, r *http.Request) {
	id := consolePrincipal(r).StoreID
	s.streamCodes(w, r, "store-"+id+"-codes.csv", func(fn func(*promokit.Code, *promokit.Promotion) error) error {
		return s.svc.ExportStoreCodes(r.Context(), id, fn)
	})
}
