package http

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/promokit/promokit/engine"
)

// metrics are the server's Prometheus collectors.
type metrics struct {
	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	lookupFailures *prometheus.CounterVec // by kind of subject
	rateLimited    *prometheus.CounterVec // by kind of subject
	authFailures   *prometheus.CounterVec // by how they were decided
	authRefused    *prometheus.CounterVec // by limit

	// statuses holds the label of each status, so that counting a request
	// does not format its status.
	statuses [600]string
}

// newMetrics registers the server's collectors on reg.
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "promokit", Name: "http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "promokit", Name: "http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern and method.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"route", "method"}),
		lookupFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "promokit", Name: "code_lookup_failures_total",
			Help: "Failed code look-ups (unknown codes, codes of other stores or partners, and any code a storefront validation rejects), " +
				"counted once for each subject they count against: the key, the client address (addr) and the customer.",
		}, []string{"subject"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "promokit", Name: "rate_limited_total",
			Help: "Requests refused with 429 because a subject failed too many code look-ups, by that subject: key, addr or customer.",
		}, []string{"subject"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "promokit", Name: "auth_failures_total",
			Help: "Requests answered 401 for their API key, by how the key was decided: none (missing or malformed, nothing looked up), " +
				"cache (refused from memory: the database refused it a moment ago), database (unknown or revoked).",
		}, []string{"checked"}),
		authRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "promokit", Name: "auth_rate_limited_total",
			Help: "Requests refused with 429 too_many_auth_failures, by limit: addr (the client address failed too many authentications) " +
				"or global (this server checked too many unknown keys).",
		}, []string{"limit"}),
	}
	for i := range m.statuses {
		m.statuses[i] = strconv.Itoa(i)
	}
	// Every series exists from the start, at zero.
	for _, kind := range []string{engine.SubjectKey, engine.SubjectAddr, engine.SubjectCustomer} {
		m.lookupFailures.WithLabelValues(kind)
		m.rateLimited.WithLabelValues(kind)
	}
	for _, checked := range []string{engine.AuthCheckedNone, engine.AuthCheckedCache, engine.AuthCheckedDatabase} {
		m.authFailures.WithLabelValues(checked)
	}
	for _, limit := range []string{engine.AuthLimitAddr, engine.AuthLimitGlobal} {
		m.authRefused.WithLabelValues(limit)
	}
	reg.MustRegister(m.requests, m.duration, m.lookupFailures, m.rateLimited, m.authFailures, m.authRefused)
	return m
}

// observe counts one request and records its duration.
func (m *metrics) observe(route, method string, status int, d time.Duration) {
	label := ""
	if status >= 0 && status < len(m.statuses) {
		label = m.statuses[status]
	} else {
		label = strconv.Itoa(status)
	}
	m.requests.WithLabelValues(route, method, label).Inc()
	m.duration.WithLabelValues(route, method).Observe(d.Seconds())
}
