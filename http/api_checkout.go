package http

import (
	"net/http"
	"time"

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

// reserveInput is a redeem request with how long to hold the codes.
type reserveInput struct {
	engine.RedeemInput
	HoldSeconds int64 `json:"hold_seconds"`
}

// handleReserve holds the codes of an order while it is paid: 201 with the
// held redemptions (a held use counts against every limit), 200 when the
// same order is held already, 409 redemption_refused when a code does not
// apply. Redeem commits the hold; release or expiry gives the uses back.
func (s *Server) handleReserve(w http.ResponseWriter, r *http.Request) {
	var in reserveInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	// Clamped only so that the conversion cannot overflow: the engine
	// refuses anything outside 1 second to MaxHold with a field error.
	seconds := min(max(in.HoldSeconds, -1), int64(engine.MaxHold/time.Second)+1)
	res, err := s.svc.Reserve(r.Context(), in.RedeemInput, time.Duration(seconds)*time.Second)
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

// handleRelease gives back the held uses of an order whose payment failed:
// 200 with its redemptions; calling it again changes nothing.
func (s *Server) handleRelease(w http.ResponseWriter, r *http.Request) {
	rs, err := s.svc.Release(r.Context(), r.PathValue("id"), r.PathValue("order_id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, rollbackResult{OrderID: r.PathValue("order_id"), Redemptions: rs})
}
