package http

import (
	"net/http"
	"strconv"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/csv"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// The affiliate program: a store joins, exits and sets its rates;
// affiliates create links; GET /r/{token} records clicks; the order system
// reports orders; partners and stores read their statements.

// handleAffiliateGet answers a store's place in the affiliate program.
func (s *Server) handleAffiliateGet(w http.ResponseWriter, r *http.Request) {
	p, err := s.svc.GetAffiliate(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, p)
}

// handleAffiliateJoin enrols a store (A1).
func (s *Server) handleAffiliateJoin(w http.ResponseWriter, r *http.Request) {
	var in engine.JoinInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	p, err := s.svc.JoinAffiliate(r.Context(), r.PathValue("id"), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusCreated, p)
}

// handleAffiliateExit asks for a store's exit (A2).
func (s *Server) handleAffiliateExit(w http.ResponseWriter, r *http.Request) {
	p, err := s.svc.ExitAffiliate(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, p)
}

// handleRateSet sets the general rate, or a product's own rate when the
// route names a product.
func (s *Server) handleRateSet(w http.ResponseWriter, r *http.Request) {
	var in engine.RateInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	p, err := s.svc.SetRate(r.Context(), r.PathValue("id"), r.PathValue("product_id"), in, false)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, p)
}

// handleRateRemove ends a product's own rate.
func (s *Server) handleRateRemove(w http.ResponseWriter, r *http.Request) {
	p, err := s.svc.SetRate(r.Context(), r.PathValue("id"), r.PathValue("product_id"), engine.RateInput{}, true)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, p)
}

// handleRateList lists a store's rate history, newest first.
func (s *Server) handleRateList(w http.ResponseWriter, r *http.Request) {
	var v promokit.Validation
	page := pageParams(r.URL.Query(), &v)
	if page.After != "" {
		if _, err := strconv.ParseInt(page.After, 10, 64); err != nil {
			v.Add("after", "invalid", "after must be a cursor returned as next_cursor")
		}
	}
	if err := v.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	list, err := s.svc.ListRates(r.Context(), r.PathValue("id"), page)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, newList(list, page.Limit, func(x *promokit.Rate) string { return strconv.FormatInt(x.ID, 10) }))
}

// linkJSON is a link as the API answers it: with the path that opens it.
type linkJSON struct {
	*promokit.Link
	Path    string `json:"path"`
	Clicks  int64  `json:"clicks"`
	Flagged int64  `json:"flagged"`
}

func newLinkJSON(l *promokit.Link, st storage.LinkStat) linkJSON {
	return linkJSON{Link: l, Path: "/r/" + l.Token, Clicks: st.Clicks, Flagged: st.Flagged}
}

// handleLinkCreate creates an affiliate link.
func (s *Server) handleLinkCreate(w http.ResponseWriter, r *http.Request) {
	var in engine.LinkInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	l, err := s.svc.CreateLink(r.Context(), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/links/"+l.ID)
	writeJSON(w, r, http.StatusCreated, newLinkJSON(l, storage.LinkStat{}))
}

// handleLinkList lists the caller's links with their click counts.
func (s *Server) handleLinkList(w http.ResponseWriter, r *http.Request) {
	var v promokit.Validation
	page := pageParams(r.URL.Query(), &v)
	if err := v.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	list, err := s.svc.ListLinks(r.Context(), page)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := make([]linkJSON, len(list))
	for i, l := range list {
		out[i] = newLinkJSON(l.Link, l.LinkStat)
	}
	writeJSON(w, r, http.StatusOK, newList(out, page.Limit, func(l linkJSON) string { return l.ID }))
}

// handleLinkGet answers a link with its click counts.
func (s *Server) handleLinkGet(w http.ResponseWriter, r *http.Request) {
	l, err := s.svc.GetLink(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, newLinkJSON(l.Link, l.LinkStat))
}

// Visitor cookie.
const (
	visitorCookie = "pk_vid"
	// visitorMaxAge is how long the browser keeps the visitor id: 400
	// days, the most browsers allow, far past any attribution window.
	visitorMaxAge = 400 * 24 * 60 * 60
)

// handleClick records a click on an affiliate link and redirects to its
// page (A3). It sets the first-party visitor cookie when the browser has
// none. A token of no link is a plain 404, a link whose store left the
// program a plain 410, and a link whose page is not allowed now (the
// store's redirect hosts changed since it was saved) a plain 403: none
// records a click or redirects. The answer is never cached, so that every
// opening reaches the server.
func (s *Server) handleClick(w http.ResponseWriter, r *http.Request) {
	// A HEAD request (a link checker's) learns where the link leads and
	// records nothing.
	in := engine.ClickInput{Token: r.PathValue("token"), Referrer: headerText(r.Referer()), UserAgent: headerText(r.UserAgent()), Probe: r.Method == http.MethodHead}
	if c, err := r.Cookie(visitorCookie); err == nil {
		in.VisitorID = c.Value
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	res, err := s.svc.Click(r.Context(), in)
	if err != nil {
		if info := infoFrom(r.Context()); info != nil {
			info.err = err
		}
		status, msg := http.StatusInternalServerError, "Something went wrong. Please try again later.\n"
		switch promokit.ErrorCode(err) {
		case promokit.ENotFound:
			status, msg = http.StatusNotFound, "This link does not exist.\n"
		case promokit.EGone:
			status, msg = http.StatusGone, "This link is no longer active: the store has left the affiliate program.\n"
		case promokit.EForbidden:
			status, msg = http.StatusForbidden, "This link leads to a page the marketplace does not allow, so it is not opened.\n"
		case promokit.EUnavailable:
			status, msg = http.StatusServiceUnavailable, "This link cannot be opened right now. Please try again in a moment.\n"
			h.Set("Retry-After", "1")
		}
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(msg))
		return
	}
	if res.NewVisitor {
		http.SetCookie(w, &http.Cookie{
			Name: visitorCookie, Value: res.VisitorID, Path: "/", MaxAge: visitorMaxAge,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(r),
		})
	}
	h.Set("Location", res.URL)
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	w.WriteHeader(http.StatusFound)
}

// secure reports whether the request came over TLS, directly or, behind a
// trusted proxy, as X-Forwarded-Proto says.
func (s *Server) secure(r *http.Request) bool {
	return r.TLS != nil || s.trustProxy && r.Header.Get("X-Forwarded-Proto") == "https"
}

// handleOrderEvent applies one event of an order: 201 when it changed the
// order, 200 for a replay.
func (s *Server) handleOrderEvent(w http.ResponseWriter, r *http.Request) {
	var in engine.OrderEventInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	res, err := s.svc.ApplyOrderEvent(r.Context(), r.PathValue("id"), r.PathValue("order_id"), in)
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

// handleOrderGet answers an order with its ledger entries.
func (s *Server) handleOrderGet(w http.ResponseWriter, r *http.Request) {
	o, err := s.svc.GetOrder(r.Context(), r.PathValue("id"), r.PathValue("order_id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, o)
}

// statementQuery reads a statement's party from the route (the
// marketplace, a partner or a store: owner is its kind) and the
// counterparty and the period from the query. The counterparty is
// ?counterparty, or on a partner's route ?store_id and on a store's
// ?partner_id. It also returns the marketplace's time zone, in which the
// period's dates are.
func (s *Server) statementQuery(r *http.Request, owner string) (engine.StatementQuery, *time.Location, error) {
	q := r.URL.Query()
	sq := engine.StatementQuery{Party: promokit.Marketplace, Counterparty: q.Get("counterparty")}
	if owner != promokit.PartyMarketplace {
		sq.Party = r.PathValue("id")
		if promokit.PartyKind(sq.Party) != owner {
			return sq, nil, promokit.Errorf(promokit.ENotFound, "%s %q not found", owner, sq.Party)
		}
	}
	var legacy string
	switch owner {
	case promokit.PartyPartner:
		legacy = "store_id"
	case promokit.PartyStore:
		legacy = "partner_id"
	}
	if v := q.Get(legacy); legacy != "" && v != "" {
		if sq.Counterparty != "" && sq.Counterparty != v {
			return sq, nil, promokit.Errorf(promokit.EInvalid, "counterparty and %s name two parties", legacy)
		}
		sq.Counterparty = v
	}
	var (
		loc *time.Location
		err error
	)
	sq.From, sq.To, loc, err = s.svc.Period(r.Context(), q.Get("from"), q.Get("to"))
	return sq, loc, err
}

// handleStatement answers a party's statement.
func (s *Server) handleStatement(owner string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, _, err := s.statementQuery(r, owner)
		if err != nil {
			writeError(w, r, err)
			return
		}
		st, err := s.svc.GetStatement(r.Context(), q)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, r, http.StatusOK, st)
	}
}

// handleLedger lists a page of a party's ledger entries.
func (s *Server) handleLedger(owner string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var v promokit.Validation
		page := pageParams(r.URL.Query(), &v)
		if err := v.Err(); err != nil {
			writeError(w, r, err)
			return
		}
		q, _, err := s.statementQuery(r, owner)
		if err != nil {
			writeError(w, r, err)
			return
		}
		list, err := s.svc.ListEntries(r.Context(), q, page)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, r, http.StatusOK, newList(list, page.Limit, func(e *promokit.LedgerEntry) string { return strconv.FormatInt(e.ID, 10) }))
	}
}

// handleLedgerExport streams the entries of a statement's period as CSV
// (see csv.LedgerHeader for the columns).
func (s *Server) handleLedgerExport(owner string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, loc, err := s.statementQuery(r, owner)
		if err != nil {
			writeError(w, r, err)
			return
		}
		// The file is named after the period's first day in the
		// marketplace's time zone, where the period's dates are.
		name := q.Party + "-ledger-" + q.From.In(loc).Format(time.DateOnly) + ".csv"
		if q.Party != promokit.Marketplace {
			name = owner + "-" + name
		}
		out := &csvResponse{w: w, filename: safeFilename(name)}
		enc := csv.NewLedgerEncoder(out, loc)
		rows := s.newRowFlusher(w, enc.Flush)
		err = s.svc.ExportEntries(r.Context(), q, func(e *promokit.LedgerEntry) error {
			if err := enc.Encode(e); err != nil {
				return err
			}
			return rows.wrote()
		})
		s.endExport(w, r, out, rows, err)
	}
}
