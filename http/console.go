package http

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/promokit/promokit"
)

// The console is a server-rendered web client of the engine for the
// people who run the marketplace, its stores and its partners, under
// /console in the same server as the API. Its pages call the same
// engine.Service methods as the API's handlers, with the principal of
// the signed-in key in the context, so that a page shows and does exactly
// what that key could do through the API, and another store's or
// partner's object is a 404 page.
//
// Layout: a console page is a handler in a console_*.go file (one file
// per group of pages) and a template in html/ (one file per page, which
// defines "content" and is rendered inside layout.html). Static files are
// in assets/. Templates are parsed once, at the first server's start.
//
// Sign-in exchanges an API key of an admin, seller or partner for a
// session (engine.SignIn): the browser holds the session id in the
// HttpOnly cookie consoleCookie, the database its hash. Every route runs
// behind http.CrossOriginProtection, which refuses a form posted from
// another origin, and answers with headers that forbid framing, inline
// scripts and caching of pages.

// consoleCookie is the name of the console's session cookie.
const consoleCookie = "pk_console"

// consolePageSize is how many rows a console list shows per page.
const consolePageSize = 50

// maxConsoleForm bounds the body of a console form.
const maxConsoleForm = 64 << 10

// Who may open a console route.
type consoleAccess int

const (
	accessAnyone   consoleAccess = iota // no session needed: sign-in, assets
	accessSignedIn                      // any signed-in principal
	accessAdmin                         // the marketplace's operator
	accessSeller                        // a store's seller
	accessPartner                       // a partner
	accessP4Seller                      // the seller of a store under P4 (partner promo codes)
)

// allows reports whether principal p may open a route of access a.
func (a consoleAccess) allows(p promokit.Principal) bool {
	switch a {
	case accessAnyone, accessSignedIn:
		return true
	case accessAdmin:
		return p.Role == promokit.RoleAdmin
	case accessSeller, accessP4Seller:
		// A P4 route's store is checked by consoleHandler.
		return p.Role == promokit.RoleSeller
	case accessPartner:
		return p.Role == promokit.RolePartner
	}
	return false
}

// consoleRoute is one route of the console.
type consoleRoute struct {
	method, pattern string
	access          consoleAccess
	handle          http.HandlerFunc
}

// consoleRoutes is the console's route table, the only place its routes
// are listed. ConsoleRoutes reads it from a zero Server.
func (s *Server) consoleRoutes() []consoleRoute {
	return append([]consoleRoute{
		{"GET", "/console", accessAnyone, s.handleConsoleRoot},
		{"GET", "/console/{$}", accessSignedIn, s.handleConsoleHome},
		{"GET", "/console/sign-in", accessAnyone, s.handleConsoleSignInForm},
		{"POST", "/console/sign-in", accessAnyone, s.handleConsoleSignIn},
		{"POST", "/console/sign-out", accessAnyone, s.handleConsoleSignOut},
		{"GET", "/console/assets/{name}", accessAnyone, s.handleConsoleAsset},

		{"GET", "/console/dashboard", accessAdmin, s.handleConsoleDashboard},
		{"GET", "/console/stores", accessAdmin, s.handleConsoleStoreList},
		{"POST", "/console/stores", accessAdmin, s.handleConsoleStoreCreate},
		{"GET", "/console/stores/{id}", accessAdmin, s.handleConsoleStoreGet},
		{"POST", "/console/stores/{id}", accessAdmin, s.handleConsoleStoreUpdate},
		{"GET", "/console/partners", accessAdmin, s.handleConsolePartnerList},
		{"POST", "/console/partners", accessAdmin, s.handleConsolePartnerCreate},
		{"GET", "/console/partners/{id}", accessAdmin, s.handleConsolePartnerGet},
		{"GET", "/console/keys", accessAdmin, s.handleConsoleKeyList},
		{"POST", "/console/keys", accessAdmin, s.handleConsoleKeyCreate},
		{"POST", "/console/keys/{id}/revoke", accessAdmin, s.handleConsoleKeyRevoke},
		{"GET", "/console/settings", accessAdmin, s.handleConsoleSettings},
		{"POST", "/console/settings", accessAdmin, s.handleConsoleSettingsUpdate},

		{"GET", "/console/partner/codes", accessPartner, s.handleConsolePartnerCodes},
		{"GET", "/console/partner/codes.csv", accessPartner, s.handleConsolePartnerCodesCSV},
		{"GET", "/console/partner/codes/{code}", accessPartner, s.handleConsolePartnerCode},
		{"GET", "/console/partner/links", accessPartner, s.handleConsoleLinkList},
		{"POST", "/console/partner/links", accessPartner, s.handleConsoleLinkCreate},
		{"GET", "/console/partner/links/{id}", accessPartner, s.handleConsoleLinkGet},
		{"GET", "/console/partner/payouts", accessPartner, s.handleConsolePartnerPayoutList},
		{"GET", "/console/partner/payouts/{id}", accessPartner, s.handleConsolePayoutGet},
		{"POST", "/console/partner/payouts/{id}/confirm", accessPartner, s.handleConsolePayoutConfirm},
		{"POST", "/console/partner/payouts/{id}/dispute", accessPartner, s.handleConsolePayoutDispute},
		{"GET", "/console/partner/payouts/{id}/proof", accessPartner, s.handleConsolePayoutProof},
		{"GET", "/console/partner/earnings", accessPartner, s.handleConsolePartnerEarnings},
		{"GET", "/console/partner/statement", accessPartner, s.handleConsoleStatement},
		{"GET", "/console/partner/statement/ledger.csv", accessPartner, s.handleConsoleLedgerCSV},

		// Any other path under /console is a 404 page, not the API's
		// problem document.
		{"", "/console/", accessAnyone, s.handleConsoleNotFound},
	}, slices.Concat(s.sellerRoutes(), s.affiliateRoutes())...)
}

// ConsoleRoute is one route of the console: its method ("" for every
// method) and its ServeMux pattern, and who may open it.
type ConsoleRoute struct {
	Method, Pattern, Access string
}

// ConsoleRoutes lists the console's routes, in the order of the console
// table of docs/API-ROUTES.md.
func ConsoleRoutes() []ConsoleRoute {
	table := (&Server{}).consoleRoutes()
	out := make([]ConsoleRoute, len(table))
	for i, rt := range table {
		out[i] = ConsoleRoute{Method: rt.method, Pattern: rt.pattern, Access: rt.access.String()}
	}
	return out
}

// String names the access for the route table of the documentation.
func (a consoleAccess) String() string {
	switch a {
	case accessAnyone:
		return "anyone"
	case accessSignedIn:
		return "signed in"
	case accessAdmin:
		return "admin"
	case accessSeller:
		return "seller"
	case accessPartner:
		return "partner"
	case accessP4Seller:
		return "seller under P4"
	}
	return "none"
}

// navItem is one entry of the console's navigation: a page and the roles
// that have it. The layout shows each principal the entries of its role.
type navItem struct {
	Label string
	Path  string
	Roles []promokit.Role
	// Also are other paths whose pages are the entry's, such as the P4
	// tab, which a P4 seller's Promotions opens.
	Also []string
}

// consoleNav is the navigation, in the order the layout shows it. A new
// group of pages adds its entries here.
var consoleNav = []navItem{
	{Label: "Overview", Path: "/console/", Roles: []promokit.Role{promokit.RoleSeller, promokit.RolePartner}},
	{Label: "Dashboard", Path: "/console/dashboard", Roles: []promokit.Role{promokit.RoleAdmin}},
	{Label: "Stores", Path: "/console/stores", Roles: []promokit.Role{promokit.RoleAdmin}},
	{Label: "Partners", Path: "/console/partners", Roles: []promokit.Role{promokit.RoleAdmin}},
	{Label: "Keys", Path: "/console/keys", Roles: []promokit.Role{promokit.RoleAdmin}},
	{Label: "Settings", Path: "/console/settings", Roles: []promokit.Role{promokit.RoleAdmin}},
	{Label: "Promotions", Path: "/console/promotions", Roles: []promokit.Role{promokit.RoleSeller}, Also: []string{"/console/p4"}},
	{Label: "Codes", Path: "/console/codes", Roles: []promokit.Role{promokit.RoleSeller}},
	{Label: "Payouts", Path: "/console/payouts", Roles: []promokit.Role{promokit.RoleSeller}},
	{Label: "Statement", Path: "/console/statement", Roles: []promokit.Role{promokit.RoleSeller}},
	{Label: "Affiliate", Path: "/console/affiliate", Roles: []promokit.Role{promokit.RoleSeller}},
	{Label: "Codes", Path: "/console/partner/codes", Roles: []promokit.Role{promokit.RolePartner}},
	{Label: "Links", Path: "/console/partner/links", Roles: []promokit.Role{promokit.RolePartner}},
	{Label: "Payouts", Path: "/console/partner/payouts", Roles: []promokit.Role{promokit.RolePartner}},
	{Label: "Earnings", Path: "/console/partner/earnings", Roles: []promokit.Role{promokit.RolePartner}},
	{Label: "Statement", Path: "/console/partner/statement", Roles: []promokit.Role{promokit.RolePartner}},
}

// navLink is a navigation entry as the layout shows it.
type navLink struct {
	Label, Path string
	Current     bool
}

// navFor returns the navigation of role, the entry of path current.
func navFor(role promokit.Role, path string) []navLink {
	var out []navLink
	for _, it := range consoleNav {
		if !slices.Contains(it.Roles, role) {
			continue
		}
		cur := path == it.Path || it.Path != "/console/" && strings.HasPrefix(path, it.Path+"/") ||
			slices.ContainsFunc(it.Also, func(p string) bool { return path == p || strings.HasPrefix(path, p+"/") })
		out = append(out, navLink{Label: it.Label, Path: it.Path, Current: cur})
	}
	return out
}

// consoleHandler returns the handler of route rt: cross-origin protection,
// the console's headers, the check of the request's text, the session and
// the route's access, then rt's handler with the principal in the
// request's context.
func (s *Server) consoleHandler(rt consoleRoute) http.Handler {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setConsoleHeaders(w.Header())
		if !validText(r.URL.Path) {
			s.consoleNotFound(w, r)
			return
		}
		for name, vals := range r.URL.Query() {
			if !validText(name) || slices.ContainsFunc(vals, func(v string) bool { return !validText(v) }) {
				s.consoleFail(w, r, invalidText("query"))
				return
			}
		}
		if r.Method == http.MethodPost {
			limit := int64(maxConsoleForm)
			if n := s.consoleUploadLimit(rt.pattern); n > 0 {
				limit = n
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			if err := r.ParseForm(); err != nil {
				s.consoleFail(w, r, promokit.Errorf(promokit.EInvalid, "the form cannot be read"))
				return
			}
			for name, vals := range r.PostForm {
				if !validText(name) || slices.ContainsFunc(vals, func(v string) bool { return !validText(v) }) {
					s.consoleFail(w, r, invalidText(name))
					return
				}
			}
		}
		if rt.access != accessAnyone {
			p, ok := s.consoleSession(w, r)
			if !ok {
				return
			}
			ctx := promokit.NewContext(r.Context(), p)
			if info := infoFrom(ctx); info != nil {
				info.keyID = p.KeyID
			}
			r = r.WithContext(ctx)
			if !rt.access.allows(p) {
				s.consoleNotFound(w, r)
				return
			}
			if rt.access == accessP4Seller {
				if err := s.requireP4(r.Context(), p); err != nil {
					s.consoleFail(w, r, err)
					return
				}
			}
		}
		rt.handle(w, r)
	})
	return s.console.cop.Handler(h)
}

// setConsoleHeaders sets the headers of every console answer: no page is
// cached (they show private data, and a new key's secret), framed,
// sniffed, or runs a script or style that is not the console's own file.
func setConsoleHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

// consoleSession returns the principal of the request's session. Without
// a live session it sends the browser to the sign-in page, back to this
// page afterwards when it is one to go back to, and reports false.
func (s *Server) consoleSession(w http.ResponseWriter, r *http.Request) (promokit.Principal, bool) {
	var id string
	if c, err := r.Cookie(consoleCookie); err == nil {
		id = c.Value
	}
	p, err := s.svc.Session(r.Context(), id)
	if err == nil {
		return p, true
	}
	if promokit.ErrorCode(err) != promokit.EUnauthenticated {
		s.consoleFail(w, r, err)
		return promokit.Principal{}, false
	}
	if id != "" {
		s.clearSessionCookie(w, r)
	}
	target := "/console/sign-in"
	if r.Method == http.MethodGet && r.URL.Path != "/console/" {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	} else if id != "" {
		target += "?notice=ended"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return promokit.Principal{}, false
}

// secureRequest reports whether the browser reached the server over TLS:
// directly, or through a trusted proxy that says so in X-Forwarded-Proto.
func (s *Server) secureRequest(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	return s.trustProxy && strings.EqualFold(strings.TrimSpace(lastValue(r.Header.Values("X-Forwarded-Proto"))), "https")
}

// lastValue returns the last entry of a header's comma-separated values,
// the one the nearest proxy appended.
func lastValue(vals []string) string {
	if len(vals) == 0 {
		return ""
	}
	last := vals[len(vals)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	return last
}

// sessionCookie returns the cookie that holds session id: for /console
// only, out of the reach of scripts, not sent with other sites' requests
// but with links followed to the console, and Secure over TLS. It lasts
// as long as the browser runs; the session's timeouts are the server's.
func (s *Server) sessionCookie(r *http.Request, id string) *http.Cookie {
	return &http.Cookie{
		Name: consoleCookie, Value: id, Path: "/console",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secureRequest(r),
	}
}

// clearSessionCookie tells the browser to drop the session cookie.
func (s *Server) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	c := s.sessionCookie(r, "")
	c.MaxAge = -1
	http.SetCookie(w, c)
}

// page is what every console template renders: the layout's data (the
// title, the principal and its navigation, a notice) and the page's own.
type page struct {
	Title     string
	Principal promokit.Principal
	Nav       []navLink
	// Notice is a message about what the previous request did, such as
	// "The store was saved."; Form, the errors of a refused form.
	Notice string
	Form   *formErrors
	// RequestID names the request, for a report of a failure.
	RequestID string
	// Data is the page's own.
	Data any
}

// render answers r with status and the page template name, in the layout.
// The page is rendered whole before anything is sent, so that a template
// that fails sends a 500 page rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, pg *page) {
	if p, ok := promokit.PrincipalFromContext(r.Context()); ok {
		pg.Principal = p
		pg.Nav = navFor(p.Role, r.URL.Path)
	}
	pg.RequestID = infoFrom(r.Context()).requestID()
	if pg.Notice == "" {
		pg.Notice = consoleNotices[r.URL.Query().Get("notice")]
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	t, ok := s.console.pages[name]
	if !ok {
		s.consoleTemplateFailed(w, r, errors.New("no console template "+name))
		return
	}
	if err := t.ExecuteTemplate(buf, "layout", pg); err != nil {
		s.consoleTemplateFailed(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// bufPool holds the buffers pages are rendered into.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// consoleTemplateFailed answers a page whose template failed: a plain 500,
// with the error on the request's log line.
func (s *Server) consoleTemplateFailed(w http.ResponseWriter, r *http.Request, err error) {
	if info := infoFrom(r.Context()); info != nil {
		info.err, info.code = err, promokit.EInternal
	}
	s.log.LogAttrs(r.Context(), slog.LevelError, "console template", slog.String("err", err.Error()))
	http.Error(w, "internal error: the page could not be shown", http.StatusInternalServerError)
}

// consoleNotices are the messages a page shows after a redirect, by the
// value of its notice parameter: the parameter names one, so that no text
// of the request is ever shown as a notice.
var consoleNotices = map[string]string{
	"signed-out":      "You are signed out.",
	"ended":           "Your session has ended: sign in again.",
	"store-created":   "The store was created.",
	"store-saved":     "The store was saved.",
	"partner-created": "The partner was created.",
	"key-revoked":     "The key was revoked, and its console sessions ended.",
	"settings-saved":  "The settings were saved.",

	// A seller's pages.
	"promotion-created":     "The promotion was created.",
	"promotion-saved":       "The promotion was saved.",
	"promotion-activated":   "The promotion is active.",
	"promotion-deactivated": "The promotion is inactive: no code of it applies until it is activated again.",
	"promotion-ended":       "The promotion has ended, for good.",
	"imported":              "The codes were imported.",
	"payout-recorded":       "The payout was recorded. The payee confirms it once the money has arrived, or disputes it.",

	// A seller's affiliate program.
	"affiliate-joined":               "Your store is in the affiliate program: affiliates can promote all its products through their links.",
	"affiliate-exiting":              "Your exit is recorded. The page says when it takes effect and from when you may rejoin.",
	"affiliate-rate-set":             "The general rate is set: orders placed from now on earn at it.",
	"affiliate-product-rate-set":     "The product's rate is set: its orders placed from now on earn at it.",
	"affiliate-product-rate-removed": "The product's own rate is removed: it takes the general rate again.",

	// The P4 tab.
	"p4-created":     "The code was created, with its promotion.",
	"p4-activated":   "The code is active.",
	"p4-deactivated": "The code is inactive: it applies to no order until it is activated again.",

	// A partner's pages.
	"link-created":     "The link was created.",
	"payout-confirmed": "The payout's receipt is confirmed.",
	"payout-disputed":  "The payout is disputed: the payer sees your message.",
}

// redirectNotice sends the browser to path with the notice of name.
func redirectNotice(w http.ResponseWriter, r *http.Request, path, notice string) {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	http.Redirect(w, r, path+sep+"notice="+notice, http.StatusSeeOther)
}

// errorPage is the data of the error page.
type errorPage struct {
	Status  int
	Message string
}

// consoleFail answers r with the error page of err: a 404 page for a
// missing or foreign object and for a call the principal's role may not
// make (a console page never tells a foreign object from a missing one,
// nor an operator's page from a missing one), the sign-in page for an
// ended session, and the status and message of the API's problem for the
// others. An internal error is logged with the request, never shown.
func (s *Server) consoleFail(w http.ResponseWriter, r *http.Request, err error) {
	code := promokit.ErrorCode(err)
	switch code {
	case promokit.ENotFound, promokit.EForbidden:
		s.consoleNotFound(w, r)
		return
	case promokit.EUnauthenticated:
		s.clearSessionCookie(w, r)
		http.Redirect(w, r, "/console/sign-in?notice=ended", http.StatusSeeOther)
		return
	}
	p := newProblem(err, infoFrom(r.Context()).requestID())
	if info := infoFrom(r.Context()); info != nil {
		info.err, info.code = err, p.Code
	}
	msg := p.Detail
	if p.Code == promokit.EInternal {
		msg = "Something went wrong on the server. If it happens again, report it with the request id below."
	}
	s.render(w, r, p.Status, "error", &page{Title: p.Title, Data: errorPage{Status: p.Status, Message: msg}})
}

// consoleNotFound answers the 404 page.
func (s *Server) consoleNotFound(w http.ResponseWriter, r *http.Request) {
	if info := infoFrom(r.Context()); info != nil {
		info.code = promokit.ENotFound
	}
	s.render(w, r, http.StatusNotFound, "error", &page{Title: "Page not found",
		Data: errorPage{Status: http.StatusNotFound, Message: "There is no such page, or it is not yours to see."}})
}

// handleConsoleNotFound answers every path under /console that no route
// takes.
// A signed-in browser gets the page with its navigation.
func (s *Server) handleConsoleNotFound(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(consoleCookie); err == nil {
		if p, err := s.svc.Session(r.Context(), c.Value); err == nil {
			r = r.WithContext(promokit.NewContext(r.Context(), p))
		}
	}
	s.consoleNotFound(w, r)
}

// handleConsoleRoot sends /console to the console's home page.
func (s *Server) handleConsoleRoot(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/console/", http.StatusMovedPermanently)
}

// consoleDenied answers a request that http.CrossOriginProtection refused:
// a form posted from another site's page, which the console never takes.
func (s *Server) consoleDenied(w http.ResponseWriter, r *http.Request) {
	setConsoleHeaders(w.Header())
	if info := infoFrom(r.Context()); info != nil {
		info.code = promokit.EForbidden
	}
	s.render(w, r, http.StatusForbidden, "error", &page{Title: "Request refused",
		Data: errorPage{Status: http.StatusForbidden, Message: "The console takes forms from its own pages only: this one came from another site, and nothing was done."}})
}

// consolePrincipal returns the principal of a console request.
func consolePrincipal(r *http.Request) promokit.Principal {
	p, _ := promokit.PrincipalFromContext(r.Context())
	return p
}
