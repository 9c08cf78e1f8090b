package http

import (
	"net/http"
	"strconv"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// The codes a partner holds (assigned to it: an influencer's task codes,
// a P4 store's partner codes), their CSV file, and each code's uses. The
// pages call ListCodes, ExportCodes and ListCodeRedemptions as
// GET /v1/partners/{id}/codes, codes.csv and /v1/codes/{code}/redemptions
// do: a code the partner does not hold is a 404 page.

// partnerCodesPage is the data of the list of codes.
type partnerCodesPage struct {
	Codes []*promokit.Code
	Pager pager
}

// handleConsolePartnerCodes lists the partner's codes, a page at a time.
func (s *Server) handleConsolePartnerCodes(w http.ResponseWriter, r *http.Request) {
	p, err := listPage(r)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	list, err := s.svc.ListCodes(r.Context(), storage.CodeFilter{PartnerID: consolePrincipal(r).PartnerID, Page: p})
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "partner_codes", &page{Title: "Codes", Data: partnerCodesPage{Codes: list, Pager: pagerOf(r, list, func(v *promokit.Code) string { return v.Code })}})
}

// handleConsolePartnerCodesCSV sends the partner's codes as CSV, the file
// of GET /v1/partners/{id}/codes.csv.
func (s *Server) handleConsolePartnerCodesCSV(w http.ResponseWriter, r *http.Request) {
	id := consolePrincipal(r).PartnerID
	s.exportCodes(w, r, storage.CodeFilter{PartnerID: id}, "partner-"+id+"-codes.csv")
}

// partnerCodePage is the data of a code's uses.
type partnerCodePage struct {
	Code  string
	Uses  []*engine.CodeUse
	Pager pager
}

// handleConsolePartnerCode lists a code's uses, a page at a time: each
// redemption with its order's amount, refunds and state.
func (s *Server) handleConsolePartnerCode(w http.ResponseWriter, r *http.Request) {
	p, err := listPage(r)
	if err == nil && p.After != "" {
		if _, perr := strconv.ParseInt(p.After, 10, 64); perr != nil {
			err = invalidField("after", "invalid", "after must be a cursor of a next page link")
		}
	}
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	code := promokit.NormalizeCode(r.PathValue("code"))
	uses, err := s.svc.ListCodeRedemptions(r.Context(), code, p)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "partner_code", &page{Title: "Code " + code, Data: partnerCodePage{Code: code, Uses: uses, Pager: pagerOf(r, uses, func(v *engine.CodeUse) string { return strconv.FormatInt(v.ID, 10) })}})
}
