package engine

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the engine's Prometheus collectors.
type Metrics struct {
	codesGenerated prometheus.Counter
	jobsFinished   *prometheus.CounterVec
	jobBatch       prometheus.Histogram
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
	reg.MustRegister(m.codesGenerated, m.jobsFinished, m.jobBatch)
	return m
}
