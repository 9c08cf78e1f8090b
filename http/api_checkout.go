package http

import (
	"net/http"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// handleValidate prices a cart with codes without using them: 200 with
// every line's discount, the totals, and for each code that does not apply
// its reason (and the rule, limit, used and remaining of a limit).
func (s *Server) handleValidate(w http.ResponseWriter, r *http.Request) {
	var in engine.ValidateInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	pc, err := s.svc.Validate(r.Context(), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, pc)
}

// handleRedeem records the codes of a placed order: 201 with the priced
// order and its redemptions, 200 with the recorded redemptions when the same
// order is sent again, 409 redemption_refused (nothing used) when a code no
// longer applies, 409 conflict when the order id was used with another
// request.
func (s *Server) handleRedeem(w http.ResponseWriter, r *http.Request) {
	var in engine.RedeemInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	res, err := s.svc.Redeem(r.Context(), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	status := http.StatusCreated
	if res.Replayed {
		status = http.StatusOK
	}
	writeJSON(w, r, status, res)
}

// rollbackResult is the answer of a rollback.
type rollbackResult struct {
	OrderID     string                 `json:"order_id"`
	Redemptions []*promokit.Redemption `json:"redemptions"`
}

// handleRollback gives back the uses of a cancelled order: 200 with its
// redemptions, rolled back; calling it again changes nothing.
func (s *Server) handleRollback(w http.ResponseWriter, r *http.Request) {
	rs, err := s.svc.Rollback(r.Context(), r.PathValue("id"), r.PathValue("order_id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, rollbackResult{OrderID: r.PathValue("order_id"), Redemptions: rs})
}
