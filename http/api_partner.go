package http

import (
	"net/http"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// handlePartnerCreate creates a partner account (admin only).
func (s *Server) handlePartnerCreate(w http.ResponseWriter, r *http.Request) {
	var in engine.PartnerInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	pa, err := s.svc.CreatePartner(r.Context(), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/partners/"+pa.ID)
	writeJSON(w, r, http.StatusCreated, pa)
}

// handlePartnerList lists partners (admin only).
func (s *Server) handlePartnerList(w http.ResponseWriter, r *http.Request) {
	var v promokit.Validation
	page := pageParams(r.URL.Query(), &v)
	if err := v.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	list, err := s.svc.ListPartners(r.Context(), page)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, newList(list, page.Limit, func(p *promokit.Partner) string { return p.ID }))
}

// handlePartnerGet answers a partner: any for the admin, itself for a
// partner; another partner is not found.
func (s *Server) handlePartnerGet(w http.ResponseWriter, r *http.Request) {
	pa, err := s.svc.GetPartner(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, pa)
}

// handlePartnerCodeList lists the codes assigned to a partner that the
// caller sees: all for the admin, its store's for a seller, its own for
// the partner itself.
func (s *Server) handlePartnerCodeList(w http.ResponseWriter, r *http.Request) {
	s.listCodes(w, r, storage.CodeFilter{PartnerID: r.PathValue("id")})
}

// handlePartnerCodeExport streams the codes of handlePartnerCodeList as CSV.
func (s *Server) handlePartnerCodeExport(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.exportCodes(w, r, storage.CodeFilter{PartnerID: id}, "partner-"+id+"-codes.csv")
}
