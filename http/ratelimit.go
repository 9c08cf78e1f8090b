package http

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// The limit on failed look-ups guards the routes that answer whether a
// code exists, which is how one would guess codes by brute force: GET
// /v1/codes/{code} and POST /v1/validate. Each request's failures count
// against its key, its client address and, when it names one, its
// customer; the counts live in the database (engine.CheckLookups and
// FailLookups), so that every process on it shares them. Before the
// look-up, one read tells whether a subject has failed its limit
// (Config.KeyLookupFailures for a key, Config.LookupFailures for an address
// or a customer) in the current minute: if one has, the request is answered 429
// too_many_failures with Retry-After, and nothing else is done, whether
// its guess would hit or not. A request that fails nothing writes nothing.

// lookupSubjects returns who the failed look-ups of r count against: its
// key, its client address, and the customer of id at storeID (the store
// whose cart the request prices) when it names a valid one (an invalid one
// is refused by the engine, which counts nothing). A checkout key calls
// from the shop's servers, whose address all its buyers share: its
// requests count against the key and the customer only. The customer's
// count is the store's: guesses made through one store's keys never lock
// the customer out of another store, and the engine has checked that the
// key may price that store's carts before anything is counted.
func (s *Server) lookupSubjects(r *http.Request, id promokit.Identity, storeID string) engine.LookupSubjects {
	p, _ := promokit.PrincipalFromContext(r.Context())
	subj := engine.LookupSubjects{KeyID: p.KeyID}
	if p.Role != promokit.RoleCheckout {
		subj.Addr = s.clientAddr(r)
	}
	if key, err := id.Key(); err == nil && key != "" {
		subj.StoreID, subj.CustomerKey = storeID, key
	}
	return subj
}

// allowLookups reports whether r may look codes up. When a subject has
// failed too many look-ups, or the check fails, it answers r and reports
// false.
func (s *Server) allowLookups(w http.ResponseWriter, r *http.Request, subj engine.LookupSubjects) bool {
	refusal, err := s.svc.CheckLookups(r.Context(), subj, s.lookupLimits)
	if err != nil {
		writeError(w, r, err)
		return false
	}
	if refusal == nil {
		return true
	}
	s.refuseLookups(w, r, refusal)
	return false
}

// refuseLookups answers r 429 too_many_failures for refusal, and counts
// it in the metrics.
func (s *Server) refuseLookups(w http.ResponseWriter, r *http.Request, refusal *engine.LookupRefusal) {
	s.metrics.rateLimited.WithLabelValues(refusal.Kind).Inc()
	err := promokit.Errorf(promokit.ETooManyFailures, "too many failed code look-ups by this %s: retry when the minute is over", subjectWord(refusal.Kind))
	writeError(w, r, withRetryAfter(err, refusal.RetryAfter))
}

// subjectWord names a kind of subject in a problem's detail.
func subjectWord(kind string) string {
	switch kind {
	case engine.SubjectAddr:
		return "client address"
	case engine.SubjectCustomer:
		return "customer"
	}
	return "key"
}

// failLookups counts n failed look-ups of r against its subjects, if they
// fit within the subjects' limits, and in the metrics. When they do not
// fit it answers r 429 too_many_failures instead of its failures, and when
// the count cannot be written it answers r with the error; either way it
// reports false, and the look-up's answer is withheld, so that a guess is
// never answered without being counted and no subject is ever answered
// more failures than its limit in a window.
func (s *Server) failLookups(w http.ResponseWriter, r *http.Request, subj engine.LookupSubjects, n int) bool {
	if n <= 0 {
		return true
	}
	// The look-up has run: count it even if the client goes away now.
	refusal, err := s.svc.FailLookups(context.WithoutCancel(r.Context()), subj, n, s.lookupLimits)
	if err != nil {
		writeError(w, r, err)
		return false
	}
	if refusal != nil {
		s.refuseLookups(w, r, refusal)
		return false
	}
	for _, kind := range subj.Kinds() {
		s.metrics.lookupFailures.WithLabelValues(kind).Add(float64(n))
	}
	return true
}

// clientAddr returns the address the limiter counts a request against: the
// connection's peer or, with Config.TrustProxy, the last address of
// X-Forwarded-For, which the trusted proxy appended. An IPv6 address
// counts as its /64, which one client usually holds whole, and an IPv4
// address written as IPv6 (::ffff:192.0.2.1) as the IPv4 address.
func (s *Server) clientAddr(r *http.Request) string {
	addr := r.RemoteAddr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	if s.trustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if last = strings.TrimSpace(last); last != "" {
				addr = last
			}
		}
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		// Not an address (a proxy's odd entry): counted as it is, in
		// printable ASCII and within bounds, since it is stored with the
		// counts (PostgreSQL refuses NUL and text that is not UTF-8).
		return truncateAddr(escapeText(addr, maxAddrLen))
	}
	if ip = ip.Unmap(); ip.Is6() {
		if p, err := ip.WithZone("").Prefix(64); err == nil {
			return p.String()
		}
	}
	return ip.String()
}

// maxAddrLen bounds what clientAddr returns for something that is not an
// address; the longest address it formats, an IPv6 /64, is shorter.
const maxAddrLen = 64

func truncateAddr(s string) string {
	if len(s) > maxAddrLen {
		return s[:maxAddrLen]
	}
	return s
}
