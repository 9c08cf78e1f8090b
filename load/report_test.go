package load

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestReportRatios pairs each scenario with its baseline at the same
// client count only, and prints no ratio against a baseline that measured
// no success.
func TestReportRatios(t *testing.T) {
	t.Parallel()
	res := func(scenario string, clients int, ok int64, p99 time.Duration) *Result {
		return &Result{Scenario: scenario, Database: "sqlite", Clients: clients, Counts: Counts{OK: ok},
			Elapsed: time.Second, Latency: Latency{P50: p99 / 2, P90: p99, P99: p99, Max: p99}}
	}
	rep := &Report{Date: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), CPUs: 2, Database: "sqlite", Results: []*Result{
		res(ScenarioRedeemHot, 16, 3000, 30*time.Millisecond),
		res(ScenarioRedeemHot, 64, 2000, 90*time.Millisecond), // no baseline at 64
		res(ScenarioBaseline, 16, 6000, 10*time.Millisecond),
		res(ScenarioValidate, 1, 500, 4*time.Millisecond),
		res(ScenarioHealthz, 1, 2000, time.Millisecond),
		res(ScenarioRedeemMany, 1, 100, time.Millisecond),
		res(ScenarioBaseline, 1, 0, 0),
	}}
	ratios := rep.Ratios()
	if len(ratios) != 3 {
		t.Fatalf("ratios = %+v, want redeem-hot at 16, validate at 1 and redeem-many at 1", ratios)
	}
	if r := ratios[0]; r.Scenario != ScenarioRedeemHot || r.Clients != 16 || r.RatePercent() != 50 || r.P99Factor() != 3 {
		t.Errorf("redeem-hot at 16: %+v, %v %%, %v×", r, r.RatePercent(), r.P99Factor())
	}
	if r := ratios[1]; r.Baseline != ScenarioHealthz || r.RatePercent() != 25 || r.P99Factor() != 4 || r.Unit != "req/s" {
		t.Errorf("validate at 1: %+v", r)
	}
	var out bytes.Buffer
	writeRatios(&out, rep)
	for _, want := range []string{
		"redeem-hot  vs baseline  16 clients: 3,000 ok/s =  50.0 % of 6,000 ok/s; p99 30.0 ms = 3.00× 10.0 ms",
		"validate    vs healthz     1 client: 500 req/s =  25.0 % of 2,000 req/s; p99 4.00 ms = 4.00× 1.00 ms",
		"redeem-many vs baseline    1 client: no ratio, the baseline measured no success",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("ratios have no %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	writeMarkdown(&out, rep, "promokit bench x")
	for _, want := range []string{
		"Machine: 2 CPUs (`nproc` = 2)",
		"| 2026-11-23 | 2 | sqlite | redeem-hot | 16 | 1.0 s | 3,000 | 3,000 | 0 | 0 | 3,000 ok/s | 15.0 ms | 30.0 ms | 30.0 ms | 30.0 ms | baseline: 6,000 ok/s, p99 10.0 ms | 50 % | 3.00× |",
		"| 2026-11-23 | 2 | sqlite | redeem-hot | 64 | 1.0 s | 2,000 | 2,000 | 0 | 0 | 2,000 ok/s | 45.0 ms | 90.0 ms | 90.0 ms | 90.0 ms | – | – | – |",
		"| redeem-many | 1 | 1.0 s | 100 | 100 | 0 | 0 | 100 ok/s | 0.50 ms | 1.00 ms | 1.00 ms | 1.00 ms | – | – | – |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("markdown has no %q:\n%s", want, out.String())
		}
	}
}

// TestWriteRowFailures marks every failing outcome and mismatch.
func TestWriteRowFailures(t *testing.T) {
	t.Parallel()
	r := &Result{Scenario: ScenarioValidate, Clients: 4, Elapsed: time.Second,
		Counts:   Counts{OK: 10, ServerErrors: 2, ClientErrors: 1},
		Warmup:   Counts{TransportErrors: 3},
		Failures: map[Outcome]string{ServerError: "status 500: boom", TransportError: "connection refused"},
		Problems: []string{"stored 9 uses"}}
	var out bytes.Buffer
	writeRow(&out, r)
	for _, want := range []string{
		"!!! validate, 4 clients: 2 requests ended with a 5xx (warm-up included); the first: status 500: boom",
		"!!! validate, 4 clients: 3 requests ended with a transport error (warm-up included); the first: connection refused",
		"!!! validate, 4 clients: 1 requests ended with a 4xx (warm-up included)\n",
		"!!! validate, 4 clients: MISMATCH: stored 9 uses",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("row has no %q:\n%s", want, out.String())
		}
	}
	if !r.Failed() {
		t.Error("Failed() = false")
	}
}
