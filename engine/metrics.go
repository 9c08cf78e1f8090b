package engine

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the engine's Prometheus collectors.
type Metrics struct {
	codesGenerated prometheus.Counter
	jobsFinished   *prometheus.CounterVec
	jobBatch       prometheus.Histogram
	redeemBatches  *prometheus.CounterVec
	redeemOrders   prometheus.Histogram
	clicks         *prometheus.CounterVec
	clickResults   map[string]prometheus.Counter
	clickBatches   *prometheus.CounterVec
	clickWrite     prometheus.Histogram
	cartReadCarts  prometheus.Histogram
	cartRead       prometheus.Histogram
}

// NewMetrics registers the engine's collectors on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		codesGenerated: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "promokit", Name: "codes_generated_total",
			Help: "Codes inserted by generation jobs.",
		}),
		jobsFinished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "promokit", Name: "jobs_finished_total",
			Help: "Background jobs finished, by kind and final state.",
		}, []string{"kind", "state"}),
		jobBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "promokit", Name: "job_batch_seconds",
			Help:    "Duration of one committed batch of a background job.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
	}
	m.redeemBatches = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "promokit", Name: "redeem_batches_total",
		Help: "Write transactions of batched redeem and reserve calls, by path (together, order_by_order) and result (ok, over_limit: taken order by order instead, error).",
	}, []string{"path", "result"})
	m.redeemOrders = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "promokit", Name: "redeem_batch_orders",
		Help:    "Orders in one committed batch of redeem and reserve calls.",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128},
	})
	m.clicks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "promokit", Name: "clicks_total",
		Help: "Affiliate link openings, by result: recorded (queued and redirected), gone (the store left the program), not_found (no such link), refused (the link's page is not allowed now), unavailable (the queue stayed full), dropped (recorded, then refused by the database even without its referrer and user agent).",
	}, []string{"result"})
	m.clickBatches = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "promokit", Name: "click_batches_total",
		Help: "Write transactions of queued clicks, by result (ok, error: retried).",
	}, []string{"result"})
	m.clickWrite = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "promokit", Name: "click_batch_seconds",
		Help:    "Duration of one written batch of clicks.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
	})
	m.cartReadCarts = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "promokit", Name: "cart_read_batch_carts",
		Help:    "Carts in one batch of validate and buyer validate reads.",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128},
	})
	m.cartRead = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "promokit", Name: "cart_read_batch_seconds",
		Help:    "Duration of one batch of validate and buyer validate reads, errors included.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
	})
	// The counters of every click result, resolved once: a click is the
	// hottest call there is.
	m.clickResults = map[string]prometheus.Counter{}
	for _, r := range []string{"recorded", "gone", "not_found", "refused", "unavailable", "dropped"} {
		m.clickResults[r] = m.clicks.WithLabelValues(r)
	}
	reg.MustRegister(m.codesGenerated, m.jobsFinished, m.jobBatch, m.redeemBatches, m.redeemOrders, m.clicks, m.clickBatches, m.clickWrite,
		m.cartReadCarts, m.cartRead)
	return m
}

// redeemBatch records one write transaction of n redeem calls on path.
func (m *Metrics) redeemBatch(path string, n int, err error) {
	if m == nil {
		return
	}
	result := "ok"
	switch {
	case errors.Is(err, errOneByOne):
		result = "over_limit"
	case err != nil:
		result = "error"
	default:
		m.redeemOrders.Observe(float64(n))
	}
	m.redeemBatches.WithLabelValues(path, result).Inc()
}

// click counts one opening of a link by result.
func (m *Metrics) click(result string) {
	if m == nil {
		return
	}
	m.clickResults[result].Inc()
}

// clickBatch records one write of n queued clicks.
func (m *Metrics) clickBatch(n int, d time.Duration, err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.clickBatches.WithLabelValues("error").Inc()
		return
	}
	m.clickBatches.WithLabelValues("ok").Inc()
	m.clickWrite.Observe(d.Seconds())
}

// cartReadBatch records one batch of n cart reads that took d.
func (m *Metrics) cartReadBatch(n int, d time.Duration) {
	if m == nil {
		return
	}
	m.cartReadCarts.Observe(float64(n))
	m.cartRead.Observe(d.Seconds())
}
