package load

import (
	"math"
	"time"
)

// Outcome is how one request of a step ended.
type Outcome int

// Outcomes. Only OK and Refused are expected; any other one fails the run.
const (
	// OK is a 2xx answer, or a committed baseline transaction.
	OK Outcome = iota
	// Refused is a 409 redemption_refused, or a baseline transaction that
	// found its row at the limit: expected once a limit is reached.
	Refused
	// ClientError is any other 4xx answer.
	ClientError
	// ServerError is a 5xx answer, or a database error of the baseline.
	ServerError
	// TransportError is a request that got no answer: a refused or broken
	// connection, or a timeout.
	TransportError

	numOutcomes
)

// String returns the outcome's name as the tables print it.
func (o Outcome) String() string {
	switch o {
	case OK:
		return "ok"
	case Refused:
		return "refused"
	case ClientError:
		return "4xx"
	case ServerError:
		return "5xx"
	case TransportError:
		return "transport error"
	}
	return "unknown"
}

// Counts counts requests by outcome; each field counts one Outcome.
type Counts struct {
	OK              int64 // OK
	Refused         int64 // Refused
	ClientErrors    int64 // ClientError
	ServerErrors    int64 // ServerError
	TransportErrors int64 // TransportError
}

// add counts one request that ended with o.
func (c *Counts) add(o Outcome) {
	switch o {
	case OK:
		c.OK++
	case Refused:
		c.Refused++
	case ClientError:
		c.ClientErrors++
	case ServerError:
		c.ServerErrors++
	default:
		c.TransportErrors++
	}
}

// merge adds the counts of o to c.
func (c *Counts) merge(o Counts) {
	c.OK += o.OK
	c.Refused += o.Refused
	c.ClientErrors += o.ClientErrors
	c.ServerErrors += o.ServerErrors
	c.TransportErrors += o.TransportErrors
}

// Requests returns the number of requests counted.
func (c Counts) Requests() int64 {
	return c.OK + c.Refused + c.Errors()
}

// Errors returns the requests that ended neither OK nor Refused.
func (c Counts) Errors() int64 {
	return c.ClientErrors + c.ServerErrors + c.TransportErrors
}

// Latency summarises the latencies of one step.
type Latency struct {
	P50, P90, P99, Max time.Duration
}

// summarize returns the percentiles of sorted, which is in increasing order.
func summarize(sorted []time.Duration) Latency {
	if len(sorted) == 0 {
		return Latency{}
	}
	return Latency{
		P50: Percentile(sorted, 50),
		P90: Percentile(sorted, 90),
		P99: Percentile(sorted, 99),
		Max: sorted[len(sorted)-1],
	}
}

// Percentile returns the p-th percentile of sorted, a slice in increasing
// order, by the nearest-rank method: the smallest value such that at least
// p percent of the values are at most it. It is always one of the values,
// never an interpolation. p is clamped to (0, 100]; an empty slice gives 0.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// p*n is exact for whole p, so a rank that is a whole number is found
	// exactly rather than rounded up by a representation error.
	rank := int(math.Ceil(p * float64(n) / 100))
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}
