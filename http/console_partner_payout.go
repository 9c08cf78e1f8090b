package http

import (
	"net/http"
	"strconv"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// The payouts a partner received: the list, a payout's page with its
// proof file, and the partner's answer, a confirmation of receipt or a
// dispute with a message. The pages call ListPayouts, GetPayout,
// PayoutProof, ConfirmPayout and DisputePayout, as the /v1/payouts routes
// do: another partner's payout is a 404 page.

// partnerPayoutsPage is the data of the list of payouts.
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
	var last string
	if len(list) > 0 {
		last = list[len(list)-1].ID
	}
	s.render(w, r, http.StatusOK, "partner_payouts", &page{Title: "Payouts received",
		Data: partnerPayoutsPage{Payouts: list, Pager: newPager(r, len(list), last)}})
}

// partnerPayoutPage is the data of a payout's page.
type partnerPayoutPage struct {
	Payout *promokit.Payout
	// Message is what the dispute form holds: what a refused form was
	// sent with.
	Message string
	// CanConfirm and CanDispute tell which answers the payout's state
	// still takes.
	CanConfirm, CanDispute bool
}

func newPartnerPayoutPage(po *promokit.Payout, message string) partnerPayoutPage {
	return partnerPayoutPage{
		Payout: po, Message: message,
		CanConfirm: po.State != promokit.PayoutConfirmed,
		CanDispute: po.State == promokit.PayoutRecorded,
	}
}

// handleConsolePartnerPayoutGet shows a payout with the forms that answer
// it.
func (s *Server) handleConsolePartnerPayoutGet(w http.ResponseWriter, r *http.Request) {
	po, err := s.svc.GetPayout(r.Context(), r.PathValue("id"))
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "partner_payout", &page{Title: "Payout " + po.ID, Data: newPartnerPayoutPage(po, "")})
}

// handleConsolePartnerPayoutConfirm confirms receipt of a payout and shows
// it again; an answer its state refuses is shown on its page.
func (s *Server) handleConsolePartnerPayoutConfirm(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := s.svc.ConfirmPayout(r.Context(), id); err != nil {
		s.failPayoutAnswer(w, r, err, "")
		return
	}
	redirectNotice(w, r, "/console/partner/payouts/"+id, "payout-confirmed")
}

// handleConsolePartnerPayoutDispute disputes a payout with the form's
// message; a refused form is shown again with its errors.
func (s *Server) handleConsolePartnerPayoutDispute(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	msg := r.PostFormValue("message")
	if _, err := s.svc.DisputePayout(r.Context(), id, engine.DisputeInput{Message: msg}); err != nil {
		s.failPayoutAnswer(w, r, err, msg)
		return
	}
	redirectNotice(w, r, "/console/partner/payouts/"+id, "payout-disputed")
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
	s.failForm(w, r, err, "partner_payout", &page{Title: "Payout " + po.ID, Data: newPartnerPayoutPage(po, message)})
}

// handleConsolePartnerPayoutProof sends a payout's proof file as an
// attachment, as GET /v1/payouts/{id}/proof does: never cached (the
// console's headers), sniffed, or run by the browser.
func (s *Server) handleConsolePartnerPayoutProof(w http.ResponseWriter, r *http.Request) {
	proof, data, err := s.svc.PayoutProof(r.Context(), r.PathValue("id"))
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", proof.Type)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Content-Disposition", `attachment; filename="`+safeFilename(r.PathValue("id")+"-proof"+promokit.ProofExtension(proof.Type))+`"`)
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'; frame-ancestors 'none'")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}
