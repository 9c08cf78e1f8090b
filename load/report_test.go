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

// TestMergeRounds adds up the rounds of one scenario: requests, windows
// and latencies together, the percentiles over all of them, and each
// round's rate, note and problems kept in order.
func TestMergeRounds(t *testing.T) {
	t.Parallel()
	rounds := []*Result{
		{Scenario: ScenarioRedeemHot, Database: "sqlite", Clients: 2, Counts: Counts{OK: 3, Refused: 1}, Warmup: Counts{OK: 2},
			Elapsed: time.Second, latencies: ms(1, 2, 3, 40), Note: "exact: a"},
		{Scenario: ScenarioRedeemHot, Database: "sqlite", Clients: 2, Counts: Counts{OK: 6, ServerErrors: 1},
			Elapsed: 2 * time.Second, latencies: ms(4, 5, 6, 7, 8, 9, 10), Note: "exact: b", Problems: []string{"stored 7 uses"},
			Failures: map[Outcome]string{ServerError: "status 500: boom"}},
	}
	m := mergeRounds(rounds)
	if m.Scenario != ScenarioRedeemHot || m.Database != "sqlite" || m.Clients != 2 {
		t.Errorf("merged %s on %s at %d", m.Scenario, m.Database, m.Clients)
	}
	if m.Counts != (Counts{OK: 9, Refused: 1, ServerErrors: 1}) || m.Warmup != (Counts{OK: 2}) || m.Elapsed != 3*time.Second {
		t.Errorf("counts %+v, warm-up %+v, elapsed %v", m.Counts, m.Warmup, m.Elapsed)
	}
	if m.Rate() != 3 || len(m.RoundRates) != 2 || m.RoundRates[0] != 3 || m.RoundRates[1] != 3 {
		t.Errorf("rate %v, round rates %v: want 3 ok/s overall and in each round", m.Rate(), m.RoundRates)
	}
	if want := (Latency{P50: 6 * time.Millisecond, P90: 10 * time.Millisecond, P99: 40 * time.Millisecond, Max: 40 * time.Millisecond}); m.Latency != want {
		t.Errorf("latency %+v, want %+v over the 11 requests of both rounds", m.Latency, want)
	}
	if m.Note != "round 1: exact: a\n    round 2: exact: b" || len(m.Problems) != 1 || m.Problems[0] != "round 2: stored 7 uses" {
		t.Errorf("note %q, problems %q", m.Note, m.Problems)
	}
	if !m.Failed() || m.Failures[ServerError] != "status 500: boom" {
		t.Errorf("failed %v, failures %v", m.Failed(), m.Failures)
	}
	var out bytes.Buffer
	writeRow(&out, m)
	if want := "    2 rounds: 3 / 3 ok/s\n    round 1: exact: a\n    round 2: exact: b\n"; !strings.Contains(out.String(), want) {
		t.Errorf("row has no %q:\n%s", want, out.String())
	}
}
