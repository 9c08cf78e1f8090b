package http

import (
	"errors"
	"net/http"
	"strings"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// The partner's affiliate links: the list with each link's clicks, the
// form of a new link, and a link's page with the URL to share. The pages
// call ListLinks, CreateLink and GetLink, as GET and POST /v1/links do,
// so a partner sees its own links only and another's is a 404 page.

// linksPage is the data of the list of links and its form of a new one.
type linksPage struct {
	Links []linkRow
	Pager pager
	New   engine.LinkInput // what a refused form was sent with
	// Affiliate tells whether the partner may create links: only an
	// affiliate partner does (A3).
	Affiliate bool
}

// linkRow is a link as a page shows it: with the URL that opens it.
type linkRow struct {
	*engine.LinkView
	Share string // the absolute URL of /r/{token}
}

// shareURL returns the URL a partner shares for link token: the server's
// own address, as the browser reached it, and /r/{token}.
func (s *Server) shareURL(r *http.Request, token string) string {
	scheme := "http"
	if s.secureRequest(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/r/" + token
}

// handleConsoleLinkList lists the partner's links, a page at a time, with
// their clicks and the form of a new link.
func (s *Server) handleConsoleLinkList(w http.ResponseWriter, r *http.Request) {
	s.renderLinkList(w, r, &page{Title: "Links"}, engine.LinkInput{})
}

// renderLinkList renders the list of links in pg with the form of a new
// link holding in; the status is the form's errors' or 200.
func (s *Server) renderLinkList(w http.ResponseWriter, r *http.Request, pg *page, in engine.LinkInput) {
	p, err := listPage(r)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	list, err := s.svc.ListLinks(r.Context(), p)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	pa, err := s.svc.GetPartner(r.Context(), consolePrincipal(r).PartnerID)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	rows := make([]linkRow, len(list))
	var last string
	for i, l := range list {
		rows[i] = linkRow{LinkView: l, Share: s.shareURL(r, l.Token)}
		last = l.ID
	}
	pg.Data = linksPage{Links: rows, Pager: newPager(r, len(list), last), New: in, Affiliate: pa.Kind == promokit.PartnerAffiliate}
	status := http.StatusOK
	if pg.Form != nil {
		status = pg.Form.Status
	}
	s.render(w, r, status, "partner_links", pg)
}

// handleConsoleLinkCreate creates a link of the signed-in partner and
// opens its page; a refused form is shown again with its errors. A store
// or product that is not found is an error of its field: the form names
// it, so it is the partner's typing, not a page to hide.
func (s *Server) handleConsoleLinkCreate(w http.ResponseWriter, r *http.Request) {
	in := engine.LinkInput{
		StoreID:   strings.TrimSpace(r.PostFormValue("store_id")),
		ProductID: strings.TrimSpace(r.PostFormValue("product_id")),
	}
	l, err := s.svc.CreateLink(r.Context(), in)
	if promokit.ErrorCode(err) == promokit.ENotFound {
		field := "store_id"
		if in.ProductID != "" && strings.Contains(err.Error(), "product") {
			field = "product_id"
		}
		err = invalidField(field, "not_found", "%s", errorMessage(err))
	}
	if err != nil {
		if !formError(err) {
			s.consoleFail(w, r, err)
			return
		}
		pg := &page{Title: "Links", Form: newFormErrors(err)}
		s.logFormError(r, err, pg.Form)
		s.renderLinkList(w, r, pg, in)
		return
	}
	redirectNotice(w, r, "/console/partner/links/"+l.ID, "link-created")
}

// errorMessage returns the message of a promokit error, without its code.
func errorMessage(err error) string {
	var e *promokit.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// linkPage is the data of a link's page.
type linkPage struct {
	Link linkRow
	// Stats are the link's figures per day over Period, drawn as Charts
	// (its clicks, the flagged ones on top, and its orders), and Totals
	// their sums.
	Stats  *engine.LinkDays
	Totals engine.LinkDay
	Period period
	Charts []Chart
}

// handleConsoleLinkGet shows a link: its URL to share, where it leads,
// its clicks, and its clicks and orders per day (?days=7, 30 or 90; 30 by
// default).
func (s *Server) handleConsoleLinkGet(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	l, err := s.svc.GetLink(ctx, r.PathValue("id"))
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	days, err := daysParam(r)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	st, err := s.svc.LinkDailyStats(ctx, l.ID, days)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	data := linkPage{Link: linkRow{LinkView: l, Share: s.shareURL(r, l.Token)}, Stats: st,
		Period: period{Path: "/console/partner/links/" + l.ID, Anchor: "days", Days: days, Choices: chartDays}}
	n := len(st.Days)
	labels, clicks, flagged, orders := make([]string, n), make([]int64, n), make([]int64, n), make([]int64, n)
	for i, d := range st.Days {
		labels[i], clicks[i], flagged[i], orders[i] = dayLabel(d.Day), d.Clicks, d.Flagged, d.Orders
		data.Totals.Clicks += d.Clicks
		data.Totals.Flagged += d.Flagged
		data.Totals.Orders += d.Orders
	}
	data.Charts = []Chart{
		{Title: "Clicks per day", Unit: "counted clicks", Labels: labels, Values: clicks, Stack: flagged, StackUnit: "flagged clicks"},
		{Title: "Orders per day", Unit: "orders", Labels: labels, Values: orders},
	}
	s.render(w, r, http.StatusOK, "partner_link", &page{Title: "Link " + l.ID, Data: data})
}
