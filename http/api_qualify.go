package http

import (
	"net/http"

	"github.com/promokit/promokit/engine"
)

// handleQualify answers what a cart could use now, without using anything:
// 200 with each automatic promotion of the store and each code assigned to
// the customer that applies, with its discount on the cart alone and its
// lines, and apart those a limit or the cart keeps out, with the reason
// and the limit. Checkout keys of the store and the admin only: the answer
// names a customer's codes, which a buyer-facing storefront key must not
// learn for any customer id it sends.
func (s *Server) handleQualify(w http.ResponseWriter, r *http.Request) {
	var in engine.QualifyInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	res, err := s.svc.Qualify(r.Context(), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, res)
}
