package http

import (
	"net/http"
	"strings"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// storesPage is the data of the list of stores and its form of a new one.
type storesPage struct {
	Stores []*promokit.Store
	Pager  pager
	// New holds what the form of a new store was sent with, when it was
	// refused.
	New storeForm
}

// storeForm is what a store's form shows and sends.
type storeForm struct {
	Name                  string
	PartnerPromoCodes     bool
	MaxPromotionsPerOrder string
	RedirectHosts         string // one host a line
}

// storePage is the data of one store's page.
type storePage struct {
	Store *promokit.Store
	Form  storeForm
}

// handleConsoleStoreList lists the stores, a page at a time, with the form
// of a new store.
func (s *Server) handleConsoleStoreList(w http.ResponseWriter, r *http.Request) {
	s.renderStoreList(w, r, &page{Title: "Stores"}, storeForm{})
}

// renderStoreList renders the list of stores in pg, with the form of a new
// store holding f; the status is the form's errors' or 200.
func (s *Server) renderStoreList(w http.ResponseWriter, r *http.Request, pg *page, f storeForm) {
	p, err := listPage(r)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	list, err := s.svc.ListStores(r.Context(), p)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	pg.Data = storesPage{Stores: list, Pager: pagerOf(r, list, func(v *promokit.Store) string { return v.ID }), New: f}
	status := http.StatusOK
	if pg.Form != nil {
		status = pg.Form.Status
	}
	s.render(w, r, status, "stores", pg)
}

// handleConsoleStoreCreate creates a store from the form and opens its
// page; a refused form is shown again with its errors.
func (s *Server) handleConsoleStoreCreate(w http.ResponseWriter, r *http.Request) {
	f := storeForm{Name: r.PostFormValue("name"), PartnerPromoCodes: formBool(r, "partner_promo_codes")}
	st, err := s.svc.CreateStore(r.Context(), engine.StoreInput{Name: &f.Name, PartnerPromoCodes: &f.PartnerPromoCodes})
	if err != nil {
		if !formError(err) {
			s.consoleFail(w, r, err)
			return
		}
		pg := &page{Title: "Stores", Form: newFormErrors(err)}
		s.logFormError(r, err, pg.Form)
		s.renderStoreList(w, r, pg, f)
		return
	}
	redirectNotice(w, r, "/console/stores/"+st.ID, "store-created")
}

// handleConsoleStoreGet shows a store with the form that edits it.
func (s *Server) handleConsoleStoreGet(w http.ResponseWriter, r *http.Request) {
	st, err := s.svc.GetStore(r.Context(), r.PathValue("id"))
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "store", &page{Title: st.Name, Data: storePage{Store: st, Form: newStoreForm(st)}})
}

// newStoreForm returns the form of st as it is.
func newStoreForm(st *promokit.Store) storeForm {
	return storeForm{
		Name: st.Name, PartnerPromoCodes: st.PartnerPromoCodes,
		MaxPromotionsPerOrder: formatInt(st.MaxPromotionsPerOrder),
		RedirectHosts:         strings.Join(st.RedirectHosts, "\n"),
	}
}

// handleConsoleStoreUpdate saves a store's name, P4 flag, limit of
// promotions per order and redirect hosts.
func (s *Server) handleConsoleStoreUpdate(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	f := storeForm{
		Name: r.PostFormValue("name"), PartnerPromoCodes: formBool(r, "partner_promo_codes"),
		MaxPromotionsPerOrder: r.PostFormValue("max_promotions_per_order"), RedirectHosts: r.PostFormValue("redirect_hosts"),
	}
	var v promokit.Validation
	maxPer := formInt(r, &v, "max_promotions_per_order")
	hosts := []string{}
	for _, line := range strings.Split(f.RedirectHosts, "\n") {
		if h := strings.TrimSpace(line); h != "" {
			hosts = append(hosts, h)
		}
	}
	err := v.Err()
	var st *promokit.Store
	if err == nil {
		st, err = s.svc.UpdateStore(r.Context(), id, engine.StoreInput{
			Name: &f.Name, PartnerPromoCodes: &f.PartnerPromoCodes, MaxPromotionsPerOrder: &maxPer, RedirectHosts: &hosts,
		})
	}
	if err != nil {
		if !formError(err) {
			s.consoleFail(w, r, err)
			return
		}
		cur, gerr := s.svc.GetStore(r.Context(), id)
		if gerr != nil {
			s.consoleFail(w, r, gerr)
			return
		}
		s.failForm(w, r, err, "store", &page{Title: cur.Name, Data: storePage{Store: cur, Form: f}})
		return
	}
	redirectNotice(w, r, "/console/stores/"+st.ID, "store-saved")
}

// formError reports whether err is one a form shows next to its fields:
// not a missing or foreign object, an ended session or an internal error.
func formError(err error) bool {
	switch promokit.ErrorCode(err) {
	case promokit.ENotFound, promokit.EForbidden, promokit.EUnauthenticated, promokit.EInternal:
		return false
	}
	return true
}

// logFormError records a refused form's error on the request's log line.
func (s *Server) logFormError(r *http.Request, err error, f *formErrors) {
	if info := infoFrom(r.Context()); info != nil {
		info.err, info.code = err, f.Code
	}
}
