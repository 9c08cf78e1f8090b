package http

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// Failed authentications are limited per client address (the address of
// the look-up limit: an IPv6 address as its /64, X-Forwarded-For with
// Config.TrustProxy) and in all, per server (engine.AuthenticateFrom):
// past Config.AuthFailures in a minute, an address is answered 429
// too_many_auth_failures with Retry-After before its key is looked at,
// whether the key is right or wrong, until the minute ends; past
// Config.GlobalAuthFailures, so is any key the server would have to look
// up. Both are counted in the metrics, failed authentications by how they
// were decided and 429s by limit.

// authenticate returns the principal of the request's bearer key, or the
// error to answer: 401 unauthenticated for a missing, malformed, unknown
// or revoked key, 429 too_many_auth_failures with Retry-After when a limit
// on failed authentications refuses the request.
func (s *Server) authenticate(ctx context.Context, r *http.Request) (promokit.Principal, error) {
	var addr string
	if s.authLimits.Addr > 0 {
		addr = s.clientAddr(r)
	}
	scheme, secret, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	secret = strings.TrimSpace(secret)
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		ok, secret = false, ""
	}
	p, err := s.svc.AuthenticateFrom(ctx, secret, addr, s.authLimits)
	if err == nil {
		return p, nil
	}
	var (
		refusal *engine.AuthRefusal
		failure *engine.AuthFailure
	)
	switch {
	case errors.As(err, &refusal):
		s.metrics.authRefused.WithLabelValues(refusal.Kind).Inc()
		err = promokit.Errorf(promokit.ETooManyAuthFails, "%s: retry when the minute is over", refusal.Error())
		return p, withRetryAfter(err, refusal.RetryAfter)
	case errors.As(err, &failure):
		s.metrics.authFailures.WithLabelValues(failure.Checked).Inc()
		if !ok || secret == "" {
			return p, promokit.Errorf(promokit.EUnauthenticated, "send an API key as Authorization: Bearer <key>")
		}
	}
	return p, err
}
