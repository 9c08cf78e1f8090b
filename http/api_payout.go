package http

import (
	"net/http"
	"strconv"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// Payouts: a payer records money paid to a payee, attaches its proof file,
// and the payee confirms or disputes it. Who may do what is the engine's
// (engine.RecordPayout and the others).

// DefaultProofLimit is the largest proof file a payout takes when
// Config.ProofLimit is zero: 10 MiB.
const DefaultProofLimit = 10 << 20

// handlePayoutCreate records a payout.
func (s *Server) handlePayoutCreate(w http.ResponseWriter, r *http.Request) {
	var in engine.PayoutInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	p, err := s.svc.RecordPayout(r.Context(), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/payouts/"+p.ID)
	writeJSON(w, r, http.StatusCreated, p)
}

// handlePayoutList lists the payouts the caller sees: ?party and
// ?counterparty narrow it.
func (s *Server) handlePayoutList(w http.ResponseWriter, r *http.Request) {
	var v promokit.Validation
	q := r.URL.Query()
	page := pageParams(q, &v)
	if err := v.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	list, err := s.svc.ListPayouts(r.Context(), engine.PayoutQuery{Party: q.Get("party"), Counterparty: q.Get("counterparty")}, page)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, newList(list, page.Limit, func(p *promokit.Payout) string { return p.ID }))
}

// handlePayoutGet answers a payout.
func (s *Server) handlePayoutGet(w http.ResponseWriter, r *http.Request) {
	p, err := s.svc.GetPayout(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, p)
}

// handlePayoutConfirm records the payee's confirmation.
func (s *Server) handlePayoutConfirm(w http.ResponseWriter, r *http.Request) {
	p, err := s.svc.ConfirmPayout(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, p)
}

// handlePayoutDispute records the payee's dispute and its message.
func (s *Server) handlePayoutDispute(w http.ResponseWriter, r *http.Request) {
	var in engine.DisputeInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	p, err := s.svc.DisputePayout(r.Context(), r.PathValue("id"), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, p)
}

// handlePayoutProofPut stores the proof file sent as the raw body. Its
// type is decided by its bytes, whatever Content-Type says; a body
// declared larger than the limit is refused before it is read, and one
// that turns out larger is refused as soon as it passes the limit.
func (s *Server) handlePayoutProofPut(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > s.proofLimit {
		writeError(w, r, proofTooLarge(s.proofLimit))
		return
	}
	data, err := readBody(w, r, s.proofLimit)
	if err != nil {
		if promokit.ErrorCode(err) == promokit.ETooLarge {
			err = proofTooLarge(s.proofLimit)
		}
		writeError(w, r, err)
		return
	}
	p, err := s.svc.AttachPayoutProof(r.Context(), r.PathValue("id"), data)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, p)
}

// proofTooLarge is the ETooLarge error of a proof file above limit.
func proofTooLarge(limit int64) error {
	return promokit.Errorf(promokit.ETooLarge, "a proof file may have at most %d bytes", limit)
}

// handlePayoutProofGet sends a payout's proof file as an attachment with
// its type, never to be sniffed or run by a browser.
func (s *Server) handlePayoutProofGet(w http.ResponseWriter, r *http.Request) {
	proof, data, err := s.svc.PayoutProof(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", proof.Type)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Content-Disposition", `attachment; filename="`+safeFilename(r.PathValue("id")+"-proof"+promokit.ProofExtension(proof.Type))+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "private, no-store")
	h.Set("ETag", `"sha256-`+proof.SHA256+`"`)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
}
