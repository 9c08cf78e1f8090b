package http

import (
	"net/http"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// partnerKinds are the kinds a new partner may have, in the order the
// form offers them.
var partnerKinds = []promokit.PartnerKind{
	promokit.PartnerAffiliate, promokit.PartnerInfluencer, promokit.PartnerAgency, promokit.PartnerPromoter,
}

// partnersPage is the data of the list of partners and its form of a new
// one.
type partnersPage struct {
	Partners []*promokit.Partner
	Pager    pager
	Kinds    []promokit.PartnerKind
	New      engine.PartnerInput // what a refused form was sent with
}

// handleConsolePartnerList lists the partners, a page at a time, with the
// form of a new partner.
func (s *Server) handleConsolePartnerList(w http.ResponseWriter, r *http.Request) {
	s.renderPartnerList(w, r, &page{Title: "Partners"}, engine.PartnerInput{Kind: promokit.PartnerAffiliate})
}

// renderPartnerList renders the list of partners in pg, with the form of a
// new partner holding in; the status is the form's errors' or 200.
func (s *Server) renderPartnerList(w http.ResponseWriter, r *http.Request, pg *page, in engine.PartnerInput) {
	p, err := listPage(r)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	list, err := s.svc.ListPartners(r.Context(), p)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	pg.Data = partnersPage{Partners: list, Pager: pagerOf(r, list, func(v *promokit.Partner) string { return v.ID }), Kinds: partnerKinds, New: in}
	status := http.StatusOK
	if pg.Form != nil {
		status = pg.Form.Status
	}
	s.render(w, r, status, "partners", pg)
}

// handleConsolePartnerCreate creates a partner from the form and opens its
// page; a refused form is shown again with its errors.
func (s *Server) handleConsolePartnerCreate(w http.ResponseWriter, r *http.Request) {
	in := engine.PartnerInput{Name: r.PostFormValue("name"), Kind: promokit.PartnerKind(r.PostFormValue("kind"))}
	pa, err := s.svc.CreatePartner(r.Context(), in)
	if err != nil {
		if !formError(err) {
			s.consoleFail(w, r, err)
			return
		}
		pg := &page{Title: "Partners", Form: newFormErrors(err)}
		s.logFormError(r, err, pg.Form)
		s.renderPartnerList(w, r, pg, in)
		return
	}
	redirectNotice(w, r, "/console/partners/"+pa.ID, "partner-created")
}

// handleConsolePartnerGet shows a partner.
func (s *Server) handleConsolePartnerGet(w http.ResponseWriter, r *http.Request) {
	pa, err := s.svc.GetPartner(r.Context(), r.PathValue("id"))
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "partner", &page{Title: pa.Name, Data: pa})
}
