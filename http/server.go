// Package http is promokit's JSON API over net/http: the routes of
// docs/API-ROUTES.md, the problem+json error format (problem.go), strict
// request decoding (decode.go), bearer-key authentication, request ids,
// idempotency keys, the limits on failed code look-ups (ratelimit.go) and
// on failed authentications (auth.go), Prometheus metrics and one log line
// per failed request.
//
// Every route under /v1/ needs an API key; /healthz, /readyz, /metrics and
// /openapi.json are anonymous. Handlers decode, call one method of
// engine.Service and encode: who may do what is the engine's decision, so
// a foreign object is answered 404 exactly as a missing one.
package http

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// DefaultImportLimit is the largest CSV file a code import takes when
// Config.ImportLimit is zero.
const DefaultImportLimit = 64 << 20

// DefaultLookupFailures is how many failed look-ups per minute each client
// address and customer may make when Config.LookupFailures is zero, and
// DefaultKeyLookupFailures each key when Config.KeyLookupFailures is zero.
// A key serves many buyers (every buyer of a shop goes through its
// checkout key), so its limit is higher: it bounds a key that guesses,
// not the mistyped codes of a busy shop.
const (
	DefaultLookupFailures    = 20
	DefaultKeyLookupFailures = 1000
)

// DefaultAuthFailures is how many failed authentications per minute each
// client address may make when Config.AuthFailures is zero, and
// DefaultGlobalAuthFailures how many a server checks against the database
// per minute in all when Config.GlobalAuthFailures is zero. Only keys the
// database is asked about count: a client that repeats one wrong key
// counts it once per engine.NegativeKeyTTL and process, so a misconfigured
// client stays far below the first; the second engages only in a flood
// from many addresses.
const (
	DefaultAuthFailures       = 100
	DefaultGlobalAuthFailures = 10_000
)

// Config configures a Server.
type Config struct {
	// Service runs the use cases. Required.
	Service *engine.Service
	// Logger receives one line per failed request (4xx and 5xx at Info
	// and Error) and, at Debug, one per successful request. Nil discards.
	Logger *slog.Logger
	// Registry receives the server's collectors and is what /metrics
	// serves. Nil makes a private registry, so that tests can run many
	// servers in one process.
	Registry *prometheus.Registry
	// Ready reports whether the server may take traffic; /readyz answers
	// 503 while it returns an error. Nil pings the service's store.
	Ready func(context.Context) error
	// OpenAPI is the document served at /openapi.json.
	OpenAPI []byte
	// ImportLimit is the largest CSV body a code import takes, in bytes.
	// Zero means DefaultImportLimit.
	ImportLimit int64
	// ProofLimit is the largest proof file a payout takes, in bytes.
	// Zero means DefaultProofLimit.
	ProofLimit int64
	// TrustProxy makes the limit on failed look-ups take the client's
	// address from the last entry of X-Forwarded-For, which a reverse
	// proxy in front of the server appends. Leave it off when clients
	// connect directly: they could then send any X-Forwarded-For they like.
	TrustProxy bool
	// LookupFailures is how many failed code look-ups one client address
	// and one customer at one store may each make per minute (a fixed
	// window of the clock) before their look-ups are answered 429 until the
	// minute ends; the look-up that would go past it is answered 429 too,
	// however many run at once. A failed look-up is GET /v1/codes/{code} answered 404,
	// a code that POST /v1/validate does not find, and for a storefront
	// key any code that validate rejects. The counts live in the database,
	// shared by every process on it. Zero means DefaultLookupFailures; a
	// negative value disables the limit (failures are still counted in
	// the metrics).
	LookupFailures int
	// KeyLookupFailures is the same limit for one API key. Zero means
	// DefaultKeyLookupFailures; a negative value leaves keys unlimited.
	// A checkout key calls from the shop's servers, so its requests are
	// not counted against their client address, only against the key and
	// the customer they name.
	KeyLookupFailures int
	// AuthFailures is how many failed authentications (an unknown or
	// revoked key that the database was asked about) one client address
	// may make per minute (a fixed window of the clock), counted in the
	// database and shared by every process on it. The failure that would
	// go past it is answered 429 too_many_auth_failures with Retry-After,
	// and so is every later request from the address, whatever its key,
	// until the minute ends, without a database read. Zero means
	// DefaultAuthFailures; a negative value disables the limit. Behind a
	// proxy, set TrustProxy: otherwise every client has the proxy's
	// address, and one client's failures block them all.
	AuthFailures int
	// GlobalAuthFailures is how many failed authentications this server
	// checks against the database per minute in all, from any address;
	// past it, a key it would have to look up is answered 429
	// too_many_auth_failures until the minute ends (keys it authenticated
	// lately go on). Zero means DefaultGlobalAuthFailures; a negative value
	// disables the limit.
	GlobalAuthFailures int
	// Limits bounds each connection's time and each client address's
	// connections (conn.go).
	Limits ConnLimits
	// DisableConsole leaves the console (/console, console.go) out: every
	// path under /console is then answered 404 as any unknown path is.
	DisableConsole bool
}

// Server is the HTTP API. It implements http.Handler and is safe for
// concurrent use.
type Server struct {
	svc          *engine.Service
	log          *slog.Logger
	ready        func(context.Context) error
	openapi      []byte
	importLimit  int64
	proofLimit   int64
	trustProxy   bool
	mux          *http.ServeMux
	metrics      *metrics
	promHandler  http.Handler        // serves /metrics
	lookupLimits engine.LookupLimits // failed look-ups per subject and minute; 0: no limit
	authLimits   engine.AuthLimits   // failed authentications per address and minute, and in all; 0: no limit
	limits       ConnLimits          // with defaults: 0 is no limit
	connsRefused prometheus.Counter
	console      *console // nil when the console is off

	idPrefix string        // random per process, so request ids do not repeat across restarts
	idSeq    atomic.Uint64 // numbers the request ids of this process
}

// Route is one registered route: its method and its ServeMux pattern.
type Route struct {
	Method, Pattern string
}

// bodyKind is what a route takes as its request body.
type bodyKind int

const (
	bodyNone bodyKind = iota // no body, or an optional JSON one
	bodyJSON                 // a JSON document of at most maxJSONBody bytes
	bodyCSV                  // a CSV file, spooled to disk (code import)
	bodyFile                 // a file of at most Config.ProofLimit bytes (a payout's proof)
)

// route is one entry of the route table.
type route struct {
	method, pattern string
	handle          http.HandlerFunc
	body            bodyKind
}

// routes is the route table: the only place routes are listed. Routes()
// reads it from a zero Server, whose handlers it never calls.
func (s *Server) routes() []route {
	return []route{
		{"GET", "/healthz", s.handleHealthz, bodyNone},
		{"GET", "/readyz", s.handleReadyz, bodyNone},
		{"GET", "/metrics", s.handleMetrics, bodyNone},
		{"GET", "/openapi.json", s.handleOpenAPI, bodyNone},

		{"GET", "/v1/settings", s.handleSettingsGet, bodyNone},
		{"PATCH", "/v1/settings", s.handleSettingsUpdate, bodyJSON},

		{"POST", "/v1/keys", s.handleKeyCreate, bodyJSON},
		{"GET", "/v1/keys", s.handleKeyList, bodyNone},
		{"DELETE", "/v1/keys/{id}", s.handleKeyRevoke, bodyNone},

		{"POST", "/v1/stores", s.handleStoreCreate, bodyJSON},
		{"GET", "/v1/stores", s.handleStoreList, bodyNone},
		{"GET", "/v1/stores/{id}", s.handleStoreGet, bodyNone},
		{"PATCH", "/v1/stores/{id}", s.handleStoreUpdate, bodyJSON},
		{"PUT", "/v1/stores/{id}/products/{product_id}", s.handleProductPut, bodyJSON},
		{"GET", "/v1/stores/{id}/products", s.handleProductList, bodyNone},
		{"GET", "/v1/stores/{id}/products/{product_id}", s.handleProductGet, bodyNone},
		{"GET", "/v1/stores/{id}/codes.csv", s.handleStoreCodeExport, bodyNone},

		{"POST", "/v1/partners", s.handlePartnerCreate, bodyJSON},
		{"GET", "/v1/partners", s.handlePartnerList, bodyNone},
		{"GET", "/v1/partners/{id}", s.handlePartnerGet, bodyNone},
		{"GET", "/v1/partners/{id}/codes", s.handlePartnerCodeList, bodyNone},
		{"GET", "/v1/partners/{id}/codes.csv", s.handlePartnerCodeExport, bodyNone},

		{"POST", "/v1/promotions", s.handlePromotionCreate, bodyJSON},
		{"GET", "/v1/promotions", s.handlePromotionList, bodyNone},
		{"GET", "/v1/promotions/{id}", s.handlePromotionGet, bodyNone},
		{"PATCH", "/v1/promotions/{id}", s.handlePromotionUpdate, bodyJSON},
		{"POST", "/v1/promotions/{id}/activate", s.handlePromotionActivate, bodyNone},
		{"POST", "/v1/promotions/{id}/deactivate", s.handlePromotionDeactivate, bodyNone},
		{"POST", "/v1/promotions/{id}/end", s.handlePromotionEnd, bodyNone},
		{"POST", "/v1/promotions/{id}/codes", s.handleCodeCreate, bodyJSON},
		{"GET", "/v1/promotions/{id}/codes", s.handleCodeList, bodyNone},
		{"POST", "/v1/promotions/{id}/codes/import", s.handleCodeImport, bodyCSV},
		{"GET", "/v1/promotions/{id}/codes.csv", s.handleCodeExport, bodyNone},
		{"POST", "/v1/promotions/{id}/code-jobs", s.handleCodeJobCreate, bodyJSON},

		{"GET", "/v1/jobs/{id}", s.handleJobGet, bodyNone},

		{"POST", "/v1/validate", s.handleValidate, bodyJSON},
		{"POST", "/v1/qualify", s.handleQualify, bodyJSON},
		{"POST", "/v1/reserve", s.handleReserve, bodyJSON},
		{"POST", "/v1/redeem", s.handleRedeem, bodyJSON},
		{"POST", "/v1/stores/{id}/orders/{order_id}/release", s.handleRelease, bodyNone},
		{"POST", "/v1/stores/{id}/orders/{order_id}/rollback", s.handleRollback, bodyNone},

		{"GET", "/v1/codes/{code}", s.handleCodeGet, bodyNone},
		{"PATCH", "/v1/codes/{code}", s.handleCodeUpdate, bodyJSON},
		{"GET", "/v1/codes/{code}/redemptions", s.handleCodeRedemptions, bodyNone},

		{"GET", "/v1/stores/{id}/affiliate", s.handleAffiliateGet, bodyNone},
		{"POST", "/v1/stores/{id}/affiliate/join", s.handleAffiliateJoin, bodyJSON},
		{"POST", "/v1/stores/{id}/affiliate/exit", s.handleAffiliateExit, bodyNone},
		{"PUT", "/v1/stores/{id}/affiliate/rate", s.handleRateSet, bodyJSON},
		{"PUT", "/v1/stores/{id}/affiliate/products/{product_id}/rate", s.handleRateSet, bodyJSON},
		{"DELETE", "/v1/stores/{id}/affiliate/products/{product_id}/rate", s.handleRateRemove, bodyNone},
		{"GET", "/v1/stores/{id}/affiliate/rates", s.handleRateList, bodyNone},
		{"POST", "/v1/links", s.handleLinkCreate, bodyJSON},
		{"GET", "/v1/links", s.handleLinkList, bodyNone},
		{"GET", "/v1/links/{id}", s.handleLinkGet, bodyNone},
		{"GET", "/r/{token}", s.handleClick, bodyNone},

		{"POST", "/v1/stores/{id}/orders/{order_id}/events", s.handleOrderEvent, bodyJSON},
		{"GET", "/v1/stores/{id}/orders/{order_id}", s.handleOrderGet, bodyNone},
		{"GET", "/v1/partners/{id}/statement", s.handleStatement(promokit.PartyPartner), bodyNone},
		{"GET", "/v1/partners/{id}/ledger", s.handleLedger(promokit.PartyPartner), bodyNone},
		{"GET", "/v1/partners/{id}/ledger.csv", s.handleLedgerExport(promokit.PartyPartner), bodyNone},
		{"GET", "/v1/stores/{id}/statement", s.handleStatement(promokit.PartyStore), bodyNone},
		{"GET", "/v1/stores/{id}/ledger", s.handleLedger(promokit.PartyStore), bodyNone},
		{"GET", "/v1/stores/{id}/ledger.csv", s.handleLedgerExport(promokit.PartyStore), bodyNone},
		{"GET", "/v1/marketplace/statement", s.handleStatement(promokit.PartyMarketplace), bodyNone},
		{"GET", "/v1/marketplace/ledger", s.handleLedger(promokit.PartyMarketplace), bodyNone},
		{"GET", "/v1/marketplace/ledger.csv", s.handleLedgerExport(promokit.PartyMarketplace), bodyNone},

		{"POST", "/v1/payouts", s.handlePayoutCreate, bodyJSON},
		{"GET", "/v1/payouts", s.handlePayoutList, bodyNone},
		{"GET", "/v1/payouts/{id}", s.handlePayoutGet, bodyNone},
		{"POST", "/v1/payouts/{id}/confirm", s.handlePayoutConfirm, bodyNone},
		{"POST", "/v1/payouts/{id}/dispute", s.handlePayoutDispute, bodyJSON},
		{"PUT", "/v1/payouts/{id}/proof", s.handlePayoutProofPut, bodyFile},
		{"GET", "/v1/payouts/{id}/proof", s.handlePayoutProofGet, bodyNone},
	}
}

// Routes lists every route the server registers, in the order of
// docs/API-ROUTES.md.
func Routes() []Route {
	table := (&Server{}).routes()
	out := make([]Route, len(table))
	for i, rt := range table {
		out[i] = Route{Method: rt.method, Pattern: rt.pattern}
	}
	return out
}

// NewServer returns a Server for cfg. It registers the server's collectors
// on cfg.Registry and panics if they are registered there already, as
// prometheus.MustRegister does.
func NewServer(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.ImportLimit <= 0 {
		cfg.ImportLimit = DefaultImportLimit
	}
	if cfg.ProofLimit <= 0 {
		cfg.ProofLimit = DefaultProofLimit
	}
	if cfg.LookupFailures == 0 {
		cfg.LookupFailures = DefaultLookupFailures
	}
	if cfg.KeyLookupFailures == 0 {
		cfg.KeyLookupFailures = DefaultKeyLookupFailures
	}
	if cfg.AuthFailures == 0 {
		cfg.AuthFailures = DefaultAuthFailures
	}
	if cfg.GlobalAuthFailures == 0 {
		cfg.GlobalAuthFailures = DefaultGlobalAuthFailures
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	s := &Server{
		svc:         cfg.Service,
		log:         cfg.Logger,
		ready:       cfg.Ready,
		openapi:     cfg.OpenAPI,
		importLimit: cfg.ImportLimit,
		proofLimit:  cfg.ProofLimit,
		trustProxy:  cfg.TrustProxy,
		mux:         http.NewServeMux(),
		metrics:     newMetrics(cfg.Registry),
		promHandler: promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{}),
		lookupLimits: engine.LookupLimits{
			Key: max(cfg.KeyLookupFailures, 0), Addr: max(cfg.LookupFailures, 0), Customer: max(cfg.LookupFailures, 0),
		},
		authLimits:   engine.AuthLimits{Addr: max(cfg.AuthFailures, 0), Global: max(cfg.GlobalAuthFailures, 0)},
		idPrefix:     hex.EncodeToString(b[:]) + "-",
		limits:       cfg.Limits.withDefaults(),
		connsRefused: newConnsRefused(cfg.Registry),
	}
	if s.ready == nil && s.svc != nil {
		s.ready = func(ctx context.Context) error { return s.svc.Store().Ping(ctx) }
	}
	for _, rt := range s.routes() {
		var h http.Handler = rt.handle
		switch rt.method {
		case "POST", "PUT", "PATCH", "DELETE":
			h = s.idempotent(rt.body, h)
		}
		if rt.body == bodyCSV || rt.body == bodyFile {
			h = s.importDeadlines(h)
		}
		// The text of an API request's path and query is checked first,
		// so that bad text is refused before anything, replay records
		// included, is read or written. The operational routes read
		// nothing of the request, and GET /r/{token}, which answers
		// browsers with plain pages, answers a token that is not a
		// token's form, bad text included, "no such link".
		if strings.HasPrefix(rt.pattern, "/v1/") {
			h = checkedText(wildcards(rt.pattern), h)
		}
		s.mux.Handle(rt.method+" "+rt.pattern, h)
	}
	if !cfg.DisableConsole {
		s.console = newConsole(http.HandlerFunc(s.consoleDenied))
		for _, rt := range s.consoleRoutes() {
			s.mux.Handle(strings.TrimSpace(rt.method+" "+rt.pattern), s.consoleHandler(rt))
		}
	}
	return s
}

// ServeHTTP answers one request. It gives the request its id, authenticates
// the key of every /v1/ request, routes it, recovers a panic of its handler
// and records its metrics and log line.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	info := &requestInfo{}
	info.id, info.clientID = s.requestID(r)
	w.Header().Set("X-Request-Id", info.id)
	sw := &statusWriter{ResponseWriter: w}
	ctx := context.WithValue(r.Context(), infoKey{}, info)
	var authErr error
	if strings.HasPrefix(r.URL.Path, "/v1/") {
		var p promokit.Principal
		if p, authErr = s.authenticate(ctx, r); authErr == nil {
			ctx = promokit.NewContext(ctx, p)
			info.keyID = p.KeyID
		}
	}
	r = r.WithContext(ctx)
	sw.req = r
	sw.trackBody(r)
	defer s.finish(sw, r, info, start)
	if authErr != nil {
		// Not routed, but counted and logged under its route all the same.
		_, r.Pattern = s.mux.Handler(r)
		writeError(sw, r, authErr)
		return
	}
	s.mux.ServeHTTP(sw, r)
}

// requestID returns the id of the request and the X-Request-Id its client
// sent that is not used. A client's X-Request-Id is the request's id when
// it is well formed (validRequestID: 1 to 64 of A-Z a-z 0-9 . _ : -), so
// that a client can follow its request through the logs; otherwise the
// server makes one, and the client's value is returned to be logged
// beside it, escaped and cut short, never echoed.
func (s *Server) requestID(r *http.Request) (id, unused string) {
	sent := r.Header.Get("X-Request-Id")
	if validRequestID(sent) {
		return sent, ""
	}
	var buf [32]byte
	return string(strconv.AppendUint(append(buf[:0], s.idPrefix...), s.idSeq.Add(1), 36)), sent
}

// finish recovers a panic of the handler, answering 500 when nothing was
// sent yet, then records the request's metrics and log line. A handler
// that panics with http.ErrAbortHandler has cut its response short on
// purpose: the panic goes on to net/http, which drops the connection.
// Otherwise an answer sent before the end of the request's body closes
// its connection cleanly (lingerClose).
func (s *Server) finish(sw *statusWriter, r *http.Request, info *requestInfo, start time.Time) {
	v := recover()
	if v != nil && v != http.ErrAbortHandler {
		err := panicError(v)
		if !sw.wrote {
			writeError(sw, r, err)
		}
		info.err = err
		if sw.status == 0 || sw.status < 500 {
			sw.status = http.StatusInternalServerError
		}
	}
	s.observe(sw, r, info, time.Since(start))
	if v == http.ErrAbortHandler {
		panic(v)
	}
	sw.lingerClose()
}

// observe records the metrics of a finished request and logs it: failed
// requests at Info (4xx) or Error (5xx), the others at Debug.
func (s *Server) observe(sw *statusWriter, r *http.Request, info *requestInfo, d time.Duration) {
	status := sw.status
	if status == 0 {
		status = http.StatusOK
	}
	route := r.Pattern
	if route == "" {
		route = "unmatched"
	}
	method := methodLabel(r.Method)
	s.metrics.observe(route, method, status, d)
	level := slog.LevelDebug
	switch {
	case status >= 500:
		level = slog.LevelError
	case status >= 400:
		level = slog.LevelInfo
	}
	if !s.log.Enabled(r.Context(), level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("request_id", info.id),
		slog.String("method", r.Method),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Duration("duration", d),
		slog.String("key_id", info.keyID),
	}
	if info.clientID != "" {
		attrs = append(attrs, slog.String("client_request_id", escapeText(info.clientID, maxShownText)))
	}
	if info.code != "" {
		attrs = append(attrs, slog.String("code", info.code))
	}
	if info.err != nil && (status >= 500 || status == StatusClientClosed || info.code == promokit.EInternal) {
		attrs = append(attrs, slog.String("err", info.err.Error()))
	}
	s.log.LogAttrs(r.Context(), level, "request", attrs...)
}

// methodLabel bounds the method label of the metrics to the known methods.
func methodLabel(m string) string {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
		return m
	}
	return "OTHER"
}
