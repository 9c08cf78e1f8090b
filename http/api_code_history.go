package http

import (
	"net/http"
	"strconv"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/csv"
	"github.com/promokit/promokit/engine"
)

// handleCodeRedemptions answers one page of a code's usage history: its
// redemptions in every state, by id; next_cursor is the last one's id. A
// code the caller does not see is answered as a missing one, with the one
// message GET /v1/codes/{code} gives. The answer says no more than that
// look-up: a seller or partner is told the same for a code elsewhere and
// for none, and the admin sees every code anyway, so it needs no look-up
// limit.
func (s *Server) handleCodeRedemptions(w http.ResponseWriter, r *http.Request) {
	var v promokit.Validation
	page := pageParams(r.URL.Query(), &v)
	if err := v.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	list, err := s.svc.ListCodeRedemptions(r.Context(), r.PathValue("code"), page)
	if promokit.ErrorCode(err) == promokit.ENotFound {
		err = promokit.Errorf(promokit.ENotFound, "code not found")
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, newList(list, page.Limit, func(x *engine.CodeUse) string { return strconv.FormatInt(x.ID, 10) }))
}

// handleStoreCodeExport streams every code of a store, across its
// promotions, as CSV: the columns of a promotion's export (csv.CodeHeader),
// the promotions by id and each one's codes in creation order.
func (s *Server) handleStoreCodeExport(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.streamCodes(w, r, "store-"+id+"-codes.csv", func(fn func(*promokit.Code, *promokit.Promotion) error) error {
		return s.svc.ExportStoreCodes(r.Context(), id, fn)
	})
}

// streamCodes streams the codes that export passes to its function as a
// CSV attachment named filename, as exportCodes does.
func (s *Server) streamCodes(w http.ResponseWriter, r *http.Request, filename string, export func(func(*promokit.Code, *promokit.Promotion) error) error) {
	out := &csvResponse{w: w, filename: safeFilename(filename)}
	enc := csv.NewCodeEncoder(out)
	rows := s.newRowFlusher(w, enc.Flush)
	err := export(func(c *promokit.Code, p *promokit.Promotion) error {
		if err := enc.Encode(c, p); err != nil {
			return err
		}
		return rows.wrote()
	})
	s.endExport(w, r, out, rows, err)
}
