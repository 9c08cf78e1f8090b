package http

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// The seller's pages: its store's promotions and their codes, the P4
// tab, the affiliate program, and its money (console_seller_*.go). Each
// calls the engine.Service method the JSON API calls, with the seller's
// principal in the context, so a promotion, code, job or payout of
// another store is a 404 page.

// sellerRoutes are the console's routes of a seller's key.
func (s *Server) sellerRoutes() []consoleRoute {
	return []consoleRoute{
		{"GET", "/console/promotions", accessSeller, s.handleConsolePromotionList},
		{"GET", "/console/promotions/new", accessSeller, s.handleConsolePromotionNew},
		{"POST", "/console/promotions", accessSeller, s.handleConsolePromotionCreate},
		{"GET", "/console/promotions/{id}", accessSeller, s.handleConsolePromotionGet},
		{"POST", "/console/promotions/{id}", accessSeller, s.handleConsolePromotionEdit},
		{"POST", "/console/promotions/{id}/activate", accessSeller, s.handleConsolePromotionActivate},
		{"POST", "/console/promotions/{id}/deactivate", accessSeller, s.handleConsolePromotionDeactivate},
		{"POST", "/console/promotions/{id}/end", accessSeller, s.handleConsolePromotionEnd},
		{"GET", "/console/promotions/{id}/codes", accessSeller, s.handleConsoleCodeList},
		{"POST", "/console/promotions/{id}/codes/generate", accessSeller, s.handleConsoleCodeGenerate},
		{"POST", "/console/promotions/{id}/codes/import", accessSeller, s.handleConsoleCodeImport},
		{"GET", "/console/promotions/{id}/codes.csv", accessSeller, s.handleConsoleCodeExport},
		{"GET", "/console/jobs/{id}", accessSeller, s.handleConsoleJob},
		{"GET", "/console/jobs/{id}/progress", accessSeller, s.handleConsoleJobProgress},
		{"GET", "/console/codes", accessSeller, s.handleConsoleCodeFind},
		{"GET", "/console/codes/{code}", accessSeller, s.handleConsoleCodeGet},

		// The store's money: console_seller_payout.go, console_payout.go
		// and console_statement.go.
		{"GET", "/console/payouts", accessSeller, s.handleConsolePayoutList},
		{"POST", "/console/payouts", accessSeller, s.importDeadlines(http.HandlerFunc(s.handleConsolePayoutCreate)).ServeHTTP},
		{"GET", "/console/payouts/{id}", accessSeller, s.handleConsolePayoutGet},
		{"POST", "/console/payouts/{id}/confirm", accessSeller, s.handleConsolePayoutConfirm},
		{"POST", "/console/payouts/{id}/dispute", accessSeller, s.handleConsolePayoutDispute},
		{"GET", "/console/payouts/{id}/proof", accessSeller, s.handleConsolePayoutProof},
		{"GET", "/console/statement", accessSeller, s.handleConsoleStatement},
		{"GET", "/console/statement/ledger.csv", accessSeller, s.handleConsoleLedgerCSV},
		// The P4 tab (console_seller_p4.go).
		{"GET", "/console/p4", accessP4Seller, s.handleConsoleP4},
		{"GET", "/console/p4/new", accessP4Seller, s.handleConsoleP4New},
		{"POST", "/console/p4", accessP4Seller, s.handleConsoleP4Create},
		{"POST", "/console/p4/codes/{code}/activate", accessP4Seller, s.handleConsoleP4Activate},
		{"POST", "/console/p4/codes/{code}/deactivate", accessP4Seller, s.handleConsoleP4Deactivate},
		{"GET", "/console/p4/codes.csv", accessP4Seller, s.handleConsoleP4Export},
	}
}

// consoleUploadLimit returns the most bytes the route of pattern takes
// when it takes a file, instead of the bound of a form; 0 for the others.
func (s *Server) consoleUploadLimit(pattern string) int64 {
	switch pattern {
	case "/console/promotions/{id}/codes/import":
		return s.importLimit + maxConsoleForm
	case "/console/payouts": // a payout and its proof file, as the API's form
		return s.proofForm().total()
	}
	return 0
}

// promotionStatuses and promotionChannels are the choices of the list's
// filters and of the form.
var (
	promotionStatuses = []promokit.Status{promokit.StatusScheduled, promokit.StatusActive, promokit.StatusInactive, promokit.StatusEnded}
	promotionChannels = []promokit.Channel{promokit.ChannelStore, promokit.ChannelPartner}
)

// promotionRow is a promotion of a list, with its status now.
type promotionRow struct {
	*promokit.Promotion
	Status promokit.Status
}

// promotionsPage is the data of the list of a seller's promotions.
type promotionsPage struct {
	Rows                  []promotionRow
	Pager                 pager
	Status, Channel, Name string
	Statuses              []promokit.Status
	Channels              []promokit.Channel
	Filtered              bool
	// Loc is the marketplace's time zone, which the page shows times in.
	Loc *time.Location
}

// handleConsolePromotionList lists the store's promotions by id, a page
// at a time, filtered by ?status, ?channel and ?name (a part of it). A
// store under P4 has the P4 tab instead.
func (s *Server) handleConsolePromotionList(w http.ResponseWriter, r *http.Request) {
	if s.redirectP4(w, r, "/console/p4") {
		return
	}
	q := r.URL.Query()
	p, err := listPage(r)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	d := promotionsPage{Status: q.Get("status"), Channel: q.Get("channel"), Name: strings.TrimSpace(q.Get("name")),
		Statuses: promotionStatuses, Channels: promotionChannels}
	d.Filtered = d.Status != "" || d.Channel != "" || d.Name != ""
	f := storage.PromotionFilter{Status: promokit.Status(d.Status), Channel: promokit.Channel(d.Channel), Name: d.Name, Page: p}
	if f.Channel != "" && f.Channel != promokit.ChannelStore && f.Channel != promokit.ChannelPartner && f.Channel != promokit.ChannelPlatform {
		s.consoleFail(w, r, invalidField("channel", "invalid", "channel must be store, partner or platform"))
		return
	}
	list, err := s.svc.ListPromotions(r.Context(), f)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	st, err := s.sellerSettings(r.Context())
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	d.Loc = st.Location()
	now := s.svc.Clock().Now()
	for _, pr := range list {
		d.Rows = append(d.Rows, promotionRow{Promotion: pr, Status: pr.Status(now)})
	}
	d.Pager = pagerOf(r, list, func(v *promokit.Promotion) string { return v.ID })
	s.render(w, r, http.StatusOK, "promotions", &page{Title: "Promotions", Data: d})
}

// promotionForm is what the form of a promotion shows and sends: amounts
// in minor units, times in the marketplace's time zone.
type promotionForm struct {
	Name, Description, Channel, Type  string
	AmountOff, PercentOff, MinOrder   string
	ProductIDs                        string // comma or line separated
	StartsAt, EndsAt                  string // 2006-01-02T15:04
	TotalUses, TotalDiscount, PerCust string
	Exclusive                         bool
	Version                           int64
}

// formTime is the layout of a datetime-local input.
const formTime = "2006-01-02T15:04"

// sellerSettings returns the marketplace's currency and time zone, which
// the forms show and read times in.
func (s *Server) sellerSettings(ctx context.Context) (*promokit.Settings, error) {
	return s.svc.Settings(ctx)
}

// handleConsolePromotionNew shows the form of a new promotion: the
// promotion page without a promotion. A store under P4 has the form of a
// new P4 code instead.
func (s *Server) handleConsolePromotionNew(w http.ResponseWriter, r *http.Request) {
	if s.redirectP4(w, r, "/console/p4/new") {
		return
	}
	st, err := s.sellerSettings(r.Context())
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	f := promotionForm{Channel: string(promokit.ChannelStore), Type: string(promokit.PercentOff),
		StartsAt: s.svc.Clock().Now().In(st.Location()).Format(formTime)}
	s.render(w, r, http.StatusOK, "promotion", &page{Title: "New promotion",
		Data: &promotionPage{Form: f, Channels: promotionChannels, Currency: st.Currency, TimeZone: st.TimeZone, Loc: st.Location()}})
}

// readPromotionForm reads the form of a promotion into f and an input; a
// field that is not a number or a time is an error of v. In an edit
// (edit true) an empty optional field clears its value.
func readPromotionForm(r *http.Request, loc *time.Location, v *promokit.Validation, edit bool) (promotionForm, engine.PromotionInput) {
	f := promotionForm{
		Name: r.PostFormValue("name"), Description: r.PostFormValue("description"),
		Channel: r.PostFormValue("channel"), Type: r.PostFormValue("type"),
		AmountOff: r.PostFormValue("amount_off"), PercentOff: r.PostFormValue("percent_off_bp"),
		MinOrder: r.PostFormValue("min_order_amount"), ProductIDs: r.PostFormValue("product_ids"),
		StartsAt: r.PostFormValue("starts_at"), EndsAt: r.PostFormValue("ends_at"),
		TotalUses: r.PostFormValue("total_uses"), TotalDiscount: r.PostFormValue("total_discount"),
		PerCust: r.PostFormValue("per_customer"), Exclusive: formBool(r, "exclusive"),
	}
	in := engine.PromotionInput{Name: &f.Name, Description: &f.Description, Exclusive: &f.Exclusive}
	ch, typ := promokit.Channel(f.Channel), promokit.DiscountType(f.Type)
	in.Channel, in.Type = &ch, &typ
	amount, percent, minOrder := formInt(r, v, "amount_off"), formInt(r, v, "percent_off_bp"), formInt(r, v, "min_order_amount")
	if typ == promokit.AmountOff {
		in.AmountOff = &amount
		var zero promokit.BasisPoints
		in.PercentOff = &zero
	} else {
		bp := promokit.BasisPoints(percent)
		in.PercentOff = &bp
		var zero int64
		in.AmountOff = &zero
	}
	in.MinOrder = &minOrder
	ids := []string{}
	for _, id := range strings.FieldsFunc(f.ProductIDs, func(c rune) bool { return c == ',' || c == '\n' || c == '\r' || c == ' ' }) {
		ids = append(ids, id)
	}
	in.ProductIDs = &ids
	if t, ok := formTimeValue(v, "starts_at", f.StartsAt, loc); ok {
		in.StartsAt = &t
	}
	optTime := func(name, val string, dst *engine.Nullable[time.Time]) {
		if t, ok := formTimeValue(v, name, val, loc); ok {
			*dst = engine.Nullable[time.Time]{Set: true, Value: t}
		} else if edit && strings.TrimSpace(val) == "" {
			*dst = engine.Nullable[time.Time]{Set: true, Null: true}
		}
	}
	optTime("ends_at", f.EndsAt, &in.EndsAt)
	optInt := func(name, val string, dst *engine.Nullable[int64]) {
		if strings.TrimSpace(val) == "" {
			if edit {
				*dst = engine.Nullable[int64]{Set: true, Null: true}
			}
			return
		}
		*dst = engine.Nullable[int64]{Set: true, Value: formInt(r, v, name)}
	}
	optInt("total_uses", f.TotalUses, &in.TotalUses)
	optInt("total_discount", f.TotalDiscount, &in.TotalDiscount)
	optInt("per_customer", f.PerCust, &in.PerCustomer)
	return f, in
}

// formTimeValue reads a datetime-local value in loc; false for an empty
// one, or one that is not a time (an error of v).
func formTimeValue(v *promokit.Validation, name, val string, loc *time.Location) (time.Time, bool) {
	val = strings.TrimSpace(val)
	if val == "" {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation(formTime, val, loc)
	if err != nil {
		v.Add(name, "invalid", "%s must be a date and time such as 2026-01-31T18:00", fieldLabel(name))
		return time.Time{}, false
	}
	return t, true
}

// handleConsolePromotionCreate creates a promotion of the seller's store
// and opens its page; a refused form is shown again with its errors.
func (s *Server) handleConsolePromotionCreate(w http.ResponseWriter, r *http.Request) {
	st, err := s.sellerSettings(r.Context())
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	var v promokit.Validation
	f, in := readPromotionForm(r, st.Location(), &v, false)
	err = v.Err()
	var p *promokit.Promotion
	if err == nil {
		p, err = s.svc.CreatePromotion(r.Context(), in)
	}
	if err != nil {
		s.failForm(w, r, err, "promotion", &page{Title: "New promotion",
			Data: &promotionPage{Form: f, Channels: promotionChannels, Currency: st.Currency, TimeZone: st.TimeZone, Loc: st.Location()}})
		return
	}
	redirectNotice(w, r, "/console/promotions/"+p.ID, "promotion-created")
}

// promotionPage is the data of a promotion's page.
type promotionPage struct {
	P        *promokit.Promotion
	Status   promokit.Status
	Editable bool
	Form     promotionForm
	Channels []promokit.Channel
	Currency string
	TimeZone string
	// Loc is the marketplace's time zone, which the page shows times in.
	Loc *time.Location
	// P4 tells that its store runs under P4: its terms never change
	// (no edit form), only its state does.
	P4 bool
	// Codes is the first page of its codes, More whether there are more.
	Codes []*promokit.Code
	More  bool
	// Uses are its uses per day over Period, drawn as Chart, and
	// UsesTotal their sum; nil before the promotion starts, when it can
	// have none, and on the form of a new promotion.
	Uses      *engine.PromotionUses
	UsesTotal int64
	Chart     Chart
	Period    period
	// Gen and Import are what the forms of codes were sent with when
	// refused.
	Gen       genForm
	ImportErr []promokit.FieldError
}

// genForm is what the form of a generation shows and sends.
type genForm struct {
	Count, Length, Prefix string
}

// handleConsolePromotionGet shows a promotion: its terms (a form until
// its start), its status and the buttons that change it, its uses per
// day once it has started (?days=7, 30 or 90; 30 by default), its codes
// and the forms that add them.
func (s *Server) handleConsolePromotionGet(w http.ResponseWriter, r *http.Request) {
	pg, err := s.promotionPage(r, r.PathValue("id"))
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "promotion", pg)
}

// promotionPage loads the page of promotion id.
func (s *Server) promotionPage(r *http.Request, id string) (*page, error) {
	ctx := r.Context()
	p, err := s.svc.GetPromotion(ctx, id)
	if err != nil {
		return nil, err
	}
	st, err := s.sellerSettings(ctx)
	if err != nil {
		return nil, err
	}
	p4, err := s.sellerUnderP4(r)
	if err != nil {
		return nil, err
	}
	now := s.svc.Clock().Now()
	d := &promotionPage{P: p, Status: p.Status(now), Editable: p.Editable(now) && !p4, Form: newPromotionForm(p, st.Location()),
		Channels: promotionChannels, Currency: st.Currency, TimeZone: st.TimeZone, Loc: st.Location(), P4: p4,
		Gen: genForm{Count: "100", Length: "10"}}
	if !p.Automatic {
		codes, err := s.svc.ListCodes(ctx, storage.CodeFilter{PromotionID: id, Page: storage.Page{Limit: 10}})
		if err != nil {
			return nil, err
		}
		d.Codes, d.More = codes, len(codes) == 10
	}
	if !now.Before(p.StartsAt) {
		if err := s.promotionUses(r, d); err != nil {
			return nil, err
		}
	}
	return &page{Title: p.Name, Data: d}, nil
}

// promotionUses adds to d the chart of its promotion's uses per day, over
// the days ?days asks for (30 by default, and on a form's answer).
func (s *Server) promotionUses(r *http.Request, d *promotionPage) error {
	days, err := daysParam(r)
	if err != nil {
		return err
	}
	if d.Uses, err = s.svc.PromotionDailyUses(r.Context(), d.P.ID, days); err != nil {
		return err
	}
	d.Period = period{Path: "/console/promotions/" + d.P.ID, Anchor: "uses", Days: days, Choices: chartDays}
	d.Chart = Chart{Title: "Uses per day", Unit: "uses", Labels: make([]string, len(d.Uses.Days)), Values: make([]int64, len(d.Uses.Days))}
	for i, day := range d.Uses.Days {
		d.Chart.Labels[i], d.Chart.Values[i] = dayLabel(day.Day), day.Uses
		d.UsesTotal += day.Uses
	}
	return nil
}

// newPromotionForm returns the form of p as it is.
func newPromotionForm(p *promokit.Promotion, loc *time.Location) promotionForm {
	opt := func(n *int64) string {
		if n == nil {
			return ""
		}
		return formatInt(*n)
	}
	f := promotionForm{
		Name: p.Name, Description: p.Description, Channel: string(p.Channel), Type: string(p.Type),
		AmountOff: formatInt(p.AmountOff), PercentOff: formatInt(int64(p.PercentOff)), MinOrder: formatInt(p.MinOrder),
		ProductIDs: strings.Join(p.ProductIDs, ", "), StartsAt: p.StartsAt.In(loc).Format(formTime),
		TotalUses: opt(p.TotalUses), TotalDiscount: opt(p.TotalDiscount), PerCust: opt(p.PerCustomer),
		Exclusive: p.Exclusive, Version: p.Version,
	}
	if p.EndsAt != nil {
		f.EndsAt = p.EndsAt.In(loc).Format(formTime)
	}
	return f
}

// handleConsolePromotionEdit saves a promotion's terms before its start,
// if no one saved it since the form was opened.
func (s *Server) handleConsolePromotionEdit(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	st, err := s.sellerSettings(r.Context())
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	var v promokit.Validation
	f, in := readPromotionForm(r, st.Location(), &v, true)
	f.Version = formInt(r, &v, "version")
	err = v.Err()
	if err == nil {
		_, err = s.svc.EditPromotion(r.Context(), id, f.Version, in)
	}
	if err != nil {
		pg, perr := s.promotionPage(r, id)
		if perr != nil {
			s.consoleFail(w, r, perr)
			return
		}
		pg.Data.(*promotionPage).Form = f
		s.failForm(w, r, err, "promotion", pg)
		return
	}
	redirectNotice(w, r, "/console/promotions/"+id, "promotion-saved")
}

// handleConsolePromotionActivate activates a promotion until its end.
func (s *Server) handleConsolePromotionActivate(w http.ResponseWriter, r *http.Request) {
	s.consoleChangePromotion(w, r, "promotion-activated", func(ctx context.Context, id string) (*promokit.Promotion, error) {
		return s.svc.SetPromotionActive(ctx, id, true)
	})
}

// handleConsolePromotionDeactivate deactivates a promotion.
func (s *Server) handleConsolePromotionDeactivate(w http.ResponseWriter, r *http.Request) {
	s.consoleChangePromotion(w, r, "promotion-deactivated", func(ctx context.Context, id string) (*promokit.Promotion, error) {
		return s.svc.SetPromotionActive(ctx, id, false)
	})
}

// handleConsolePromotionEnd ends a promotion now, for good.
func (s *Server) handleConsolePromotionEnd(w http.ResponseWriter, r *http.Request) {
	s.consoleChangePromotion(w, r, "promotion-ended", s.svc.EndPromotion)
}

// consoleChangePromotion runs a change of a promotion's status and goes
// back to its page; a refusal (an ended promotion) is shown on the page.
func (s *Server) consoleChangePromotion(w http.ResponseWriter, r *http.Request, notice string, change func(context.Context, string) (*promokit.Promotion, error)) {
	id := r.PathValue("id")
	if _, err := change(r.Context(), id); err != nil {
		pg, perr := s.promotionPage(r, id)
		if perr != nil {
			s.consoleFail(w, r, perr)
			return
		}
		s.failForm(w, r, err, "promotion", pg)
		return
	}
	redirectNotice(w, r, "/console/promotions/"+id, notice)
}
