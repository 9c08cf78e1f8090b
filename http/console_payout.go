package http

import (
	"net/http"
	"strconv"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// Payouts in the console. A partner's list of the payouts it received is
// here; a seller's list of its store's payouts, both ways, with the form
// that records one, is in console_seller_payout.go. A payout's own page
// is the same for both: its facts and state, the payee's dispute, its
// proof file, and for the payee the forms that confirm receipt or
// dispute it. The pages call ListPayouts, GetPayout, PayoutProof,
// ConfirmPayout and DisputePayout, as the /v1/payouts routes do: a payout
// the signed-in party neither paid nor received is a 404 page.

// payoutsPath returns the path of the signed-in principal's payouts.
func payoutsPath(r *http.Request) string {
	if consolePrincipal(r).Role == promokit.RolePartner {
		return "/console/partner/payouts"
	}
	return "/console/payouts"
}

// partnerPayoutsPage is the data of a partner's list of payouts.
type partnerPayoutsPage struct {
	Payouts []*promokit.Payout
	Pager   pager
}

// handleConsolePartnerPayoutList lists the partner's payouts, a page at a
// time.
func (s *Server) handleConsolePartnerPayoutList(w http.ResponseWriter, r *http.Request) {
	p, err := listPage(r)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	list, err := s.svc.ListPayouts(r.Context(), engine.PayoutQuery{}, p)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "partner_payouts", &page{Title: "Payouts received",
		Data: partnerPayoutsPage{Payouts: list, Pager: pagerOf(r, list, func(v *promokit.Payout) string { return v.ID })}})
}

// payoutPage is the data of a payout's page.
type payoutPage struct {
	Payout *promokit.Payout
	// Base is the path of the principal's payouts; Party the signed-in
	// party, the payout's payer or payee.
	Base, Party string
	// Message is what the dispute form holds: what a refused form was
	// sent with.
	Message string
	// CanConfirm and CanDispute tell which answers the payout's state
	// still takes from the party: none when it is the payer.
	CanConfirm, CanDispute bool
}

func newPayoutPage(r *http.Request, po *promokit.Payout, message string) payoutPage {
	party := consoleParty(r)
	payee := po.Payee == party
	return payoutPage{
		Payout: po, Base: payoutsPath(r), Party: party, Message: message,
		CanConfirm: payee && po.State != promokit.PayoutConfirmed,
		CanDispute: payee && po.State == promokit.PayoutRecorded,
	}
}

// handleConsolePayoutGet shows a payout, with the forms that answer it
// when the signed-in party is its payee.
func (s *Server) handleConsolePayoutGet(w http.ResponseWriter, r *http.Request) {
	po, err := s.svc.GetPayout(r.Context(), r.PathValue("id"))
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "payout", &page{Title: "Payout " + po.ID, Data: newPayoutPage(r, po, "")})
}

// handleConsolePayoutConfirm confirms receipt of a payout and shows it
// again; an answer its state refuses is shown on its page, and one of its
// payer is the 404 page, as any answer the party may not give.
func (s *Server) handleConsolePayoutConfirm(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := s.svc.ConfirmPayout(r.Context(), id); err != nil {
		s.failPayoutAnswer(w, r, err, "")
		return
	}
	redirectNotice(w, r, payoutsPath(r)+"/"+id, "payout-confirmed")
}

// handleConsolePayoutDispute disputes a payout with the form's message; a
// refused form is shown again with its errors.
func (s *Server) handleConsolePayoutDispute(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	msg := r.PostFormValue("message")
	if _, err := s.svc.DisputePayout(r.Context(), id, engine.DisputeInput{Message: msg}); err != nil {
		s.failPayoutAnswer(w, r, err, msg)
		return
	}
	redirectNotice(w, r, payoutsPath(r)+"/"+id, "payout-disputed")
}

// failPayoutAnswer answers a refused confirmation or dispute: the payout's
// page again, with the errors and the message that was sent.
func (s *Server) failPayoutAnswer(w http.ResponseWriter, r *http.Request, err error, message string) {
	if !formError(err) {
		s.consoleFail(w, r, err)
		return
	}
	po, gerr := s.svc.GetPayout(r.Context(), r.PathValue("id"))
	if gerr != nil {
		s.consoleFail(w, r, gerr)
		return
	}
	s.failForm(w, r, err, "payout", &page{Title: "Payout " + po.ID, Data: newPayoutPage(r, po, message)})
}

// handleConsolePayoutProof sends a payout's proof file as an attachment,
// with the headers of GET /v1/payouts/{id}/proof (proofHeaders) and the
// console's: never cached, sniffed, framed or run by the browser.
func (s *Server) handleConsolePayoutProof(w http.ResponseWriter, r *http.Request) {
	proof, data, err := s.svc.PayoutProof(r.Context(), r.PathValue("id"))
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	proofHeaders(w.Header(), r.PathValue("id"), proof, len(data))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}

// proofHeaders sets the headers of payout id's proof file of n bytes, as
// the API and the console send it: its type, as an attachment named after
// the payout, not to be sniffed, and under a policy that runs nothing of
// it nor lets a page frame it; its hash is its ETag. Caching is the
// caller's to forbid.
func proofHeaders(h http.Header, id string, proof *promokit.PayoutProof, n int) {
	h.Set("Content-Type", proof.Type)
	h.Set("Content-Length", strconv.Itoa(n))
	h.Set("Content-Disposition", `attachment; filename="`+safeFilename(id+"-proof"+promokit.ProofExtension(proof.Type))+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'; frame-ancestors 'none'")
	h.Set("ETag", `"sha256-`+proof.SHA256+`"`)
}
