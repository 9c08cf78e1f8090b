package http

import (
	"errors"
	"net/http"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// handleValidate prices a cart with codes, and the store's automatic
// promotions, without using them: 200 with every line's discount, the
// totals, what applies, and the codes that do not apply. A
// checkout key (or the admin) gets each one's reason, with the rule,
// limit, used and remaining of a limit; a storefront key gets not_valid
// for each, whatever the reason (engine.ValidateForBuyer).
//
// Codes that are not found, and for a storefront key every code that does
// not apply, count as failed look-ups against the key, the client address
// and the customer the request names at the cart's store; a storefront key
// cannot tell a missing code from one that does not apply, and neither may
// its limit. A subject past its limit gets 429 before anything is priced,
// and a request whose failures would take a subject past its limit gets
// 429 instead of its answer.
func (s *Server) handleValidate(w http.ResponseWriter, r *http.Request) {
	var in engine.ValidateInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	subj := s.lookupSubjects(r, in.Customer, in.Cart.StoreID)
	// The check of the subjects' failures rides on the cart's read.
	in.Guard = &engine.LookupGuard{Subjects: subj, Limits: s.lookupLimits}
	p, _ := promokit.PrincipalFromContext(r.Context())
	buyer := p.Role == promokit.RoleStorefront
	validate := s.svc.Validate
	if buyer {
		validate = s.svc.ValidateForBuyer
	}
	pc, err := validate(r.Context(), in)
	var refusal *engine.LookupRefusal
	if errors.As(err, &refusal) {
		s.refuseLookups(w, r, refusal)
		return
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	failed := 0
	for _, rj := range pc.Rejected {
		if buyer || rj.Reason == promokit.ReasonNotFound {
			failed++
		}
	}
	if !s.failLookups(w, r, subj, failed) {
		return
	}
	writeJSON(w, r, http.StatusOK, pc)
}

// handleRedeem records the codes and automatic promotions of a placed
// order: 201 with the priced order and its redemptions (a codeless one per
// automatic promotion), 200 with the recorded redemptions when the same
// order is sent again, 409 redemption_refused (nothing used) when a code no
// longer applies or the automatic promotions differ from those the order
// was priced with, 409 conflict when the order id was used with another
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
