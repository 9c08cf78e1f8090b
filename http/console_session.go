package http

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// signInPage is the data of the sign-in page.
type signInPage struct {
	Next string // where to go once signed in
	// Idle and Lifetime are the session's timeouts, in words.
	Idle, Lifetime string
}

// newSignInPage returns the sign-in page's data, to go to next after.
func (s *Server) newSignInPage(next string) signInPage {
	return signInPage{Next: next, Idle: words(s.svc.SessionIdle()), Lifetime: words(s.svc.SessionLifetime())}
}

// words writes a duration of whole minutes for people: "30 minutes",
// "12 hours", "1 hour 30 minutes".
func words(d time.Duration) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.FormatInt(n, 10) + " " + one + "s"
	}
	h, m := int64(d/time.Hour), int64(d%time.Hour/time.Minute)
	switch {
	case h == 0:
		return unit(m, "minute")
	case m == 0:
		return unit(h, "hour")
	}
	return unit(h, "hour") + " " + unit(m, "minute")
}

// handleConsoleSignInForm shows the sign-in form; a browser signed in
// already goes to the console's home page.
func (s *Server) handleConsoleSignInForm(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(consoleCookie); err == nil {
		if _, err := s.svc.Session(r.Context(), c.Value); err == nil {
			http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
			return
		}
	}
	s.render(w, r, http.StatusOK, "sign_in", &page{Title: "Sign in", Data: s.newSignInPage(r.URL.Query().Get("next"))})
}

// handleConsoleSignIn exchanges the API key of the form for a session: an
// admin, seller or partner key. A wrong key counts toward the limit on
// failed authentications of the client's address, as a request with it
// would; a checkout or storefront key is refused with a message that says
// which keys sign in. A session the browser held before is ended, so that
// a sign-in always starts a new one.
func (s *Server) handleConsoleSignIn(w http.ResponseWriter, r *http.Request) {
	next := r.PostFormValue("next")
	pg := &page{Title: "Sign in", Data: s.newSignInPage(next)}
	secret := strings.TrimSpace(r.PostFormValue("key"))
	if secret == "" {
		s.failForm(w, r, invalidField("key", "required", "Enter an API key."), "sign_in", pg)
		return
	}
	var addr string
	if s.authLimits.Addr > 0 {
		addr = s.clientAddr(r)
	}
	id, p, err := s.svc.SignIn(r.Context(), secret, addr, s.authLimits)
	if err != nil {
		s.signInRefused(w, r, err, pg)
		return
	}
	if c, err := r.Cookie(consoleCookie); err == nil {
		_ = s.svc.SignOut(r.Context(), c.Value)
	}
	if info := infoFrom(r.Context()); info != nil {
		info.keyID = p.KeyID
	}
	http.SetCookie(w, s.sessionCookie(r, id))
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

// signInRefused answers a refused sign-in with the form again and what
// was wrong: a key that is not valid (401, counted in the metrics as a
// request's failed authentication), a checkout or storefront key (403,
// saying which keys sign in), an address over the limit on failed
// authentications (429 with Retry-After). Any other error is answered as
// any console error is.
func (s *Server) signInRefused(w http.ResponseWriter, r *http.Request, err error, pg *page) {
	var (
		refusal *engine.AuthRefusal
		failure *engine.AuthFailure
		e       *formErrors
	)
	switch {
	case errors.As(err, &refusal):
		s.metrics.authRefused.WithLabelValues(refusal.Kind).Inc()
		w.Header().Set("Retry-After", retryAfterSeconds(refusal.RetryAfter))
		e = newFormErrors(promokit.Errorf(promokit.ETooManyAuthFails, "Too many failed sign-ins from this address: try again when the minute is over."))
	case errors.As(err, &failure):
		s.metrics.authFailures.WithLabelValues(failure.Checked).Inc()
		e = fieldError("key", "not_valid", "This key is not valid: it is unknown or revoked.")
		e.Status, e.Code = http.StatusUnauthorized, promokit.EUnauthenticated
	case promokit.ErrorCode(err) == promokit.EForbidden:
		e = fieldError("key", "role", "%s.", capitalize(promokit.ErrorMessage(err)))
		e.Status, e.Code = http.StatusForbidden, promokit.EForbidden
	default:
		s.consoleFail(w, r, err)
		return
	}
	if info := infoFrom(r.Context()); info != nil {
		info.err, info.code = err, e.Code
	}
	pg.Form = e
	s.render(w, r, e.Status, "sign_in", pg)
}

// retryAfterSeconds is a Retry-After header's value for d: whole seconds,
// rounded up, at least one.
func retryAfterSeconds(d time.Duration) string {
	d = max(d, time.Second)
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}

// handleConsoleSignOut ends the browser's session and drops its cookie.
func (s *Server) handleConsoleSignOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(consoleCookie); err == nil {
		if err := s.svc.SignOut(r.Context(), c.Value); err != nil {
			s.consoleFail(w, r, err)
			return
		}
	}
	s.clearSessionCookie(w, r)
	http.Redirect(w, r, "/console/sign-in?notice=signed-out", http.StatusSeeOther)
}

// safeNext returns the page to go to after signing in: next when it is a
// page of the console on this server, the home page otherwise, so that
// the sign-in page never sends a browser to another site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/console/") || strings.HasPrefix(next, "/console/sign-") ||
		strings.ContainsAny(next, "\\\r\n") || strings.Contains(next, "//") {
		return "/console/"
	}
	return next
}

// capitalize returns s with its first letter in upper case.
func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
