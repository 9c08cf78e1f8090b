package load

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Result is what one step measured and found.
type Result struct {
	// Scenario ran at Clients clients.
	Scenario string
	// Database is the kind of the server's database, "" when unknown.
	Database string
	Clients  int
	// Counts counts the requests of the measured window; Warmup those of
	// the warm-up, which are not in the latencies nor in the rate.
	Counts, Warmup Counts
	// Elapsed is the measured window, from the end of the warm-up to the
	// last answer.
	Elapsed time.Duration
	// Latency summarises the latencies of the measured window.
	Latency Latency
	// Failures holds the first description of each failing outcome.
	Failures map[Outcome]string
	// Note says what the exactness check of a redeem or baseline step
	// verified; Problems lists what it found wrong.
	Note     string
	Problems []string
	// RoundRates are the rates of each round, when the step ran in rounds
	// (Config.Rounds), in the order they ran.
	RoundRates []float64
	// Build labels the server measured when a comparison ran two
	// (RunCompare); empty otherwise.
	Build string

	// latencies are those of the measured window, in increasing order,
	// kept only until the step's rounds are merged (mergeRounds).
	latencies []time.Duration
}

// mergeRounds returns the rounds of one scenario at one client count as
// one result: their requests, windows and latencies added up, their
// checks' notes and problems listed round by round.
func mergeRounds(rounds []*Result) *Result {
	m := &Result{Scenario: rounds[0].Scenario, Database: rounds[0].Database, Clients: rounds[0].Clients}
	var notes []string
	n := 0
	for _, r := range rounds {
		n += len(r.latencies)
	}
	m.latencies = make([]time.Duration, 0, n)
	for i, r := range rounds {
		m.Counts.merge(r.Counts)
		m.Warmup.merge(r.Warmup)
		m.Elapsed += r.Elapsed
		m.latencies = append(m.latencies, r.latencies...)
		for o, d := range r.Failures {
			if m.Failures == nil {
				m.Failures = make(map[Outcome]string)
			}
			if _, seen := m.Failures[o]; !seen {
				m.Failures[o] = d
			}
		}
		if r.Note != "" {
			notes = append(notes, fmt.Sprintf("round %d: %s", i+1, r.Note))
		}
		for _, p := range r.Problems {
			m.Problems = append(m.Problems, fmt.Sprintf("round %d: %s", i+1, p))
		}
		m.RoundRates = append(m.RoundRates, r.Rate())
	}
	slices.Sort(m.latencies)
	m.Latency = summarize(m.latencies)
	m.latencies = nil // summarised: a long run need not keep them
	m.Note = strings.Join(notes, "\n    ")
	return m
}

// countsOK reports whether the scenario's rate counts successful requests
// only: the redeem scenarios and their baseline, where a refused request
// did not redeem.
func countsOK(scenario string) bool {
	switch scenario {
	case ScenarioRedeemHot, ScenarioRedeemMany, ScenarioBaseline:
		return true
	}
	return false
}

// Rate returns the requests per second of the measured window: successful
// ones for redeem and baseline, all of them otherwise.
func (r *Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	n := r.Counts.Requests()
	if countsOK(r.Scenario) {
		n = r.Counts.OK
	}
	return float64(n) / r.Elapsed.Seconds()
}

// RateUnit returns "ok/s" or "req/s", whichever Rate counts.
func (r *Result) RateUnit() string {
	if countsOK(r.Scenario) {
		return "ok/s"
	}
	return "req/s"
}

// Failed reports whether the step had a failing request, warm-up
// included, or an exactness problem.
func (r *Result) Failed() bool {
	return r.Counts.Errors()+r.Warmup.Errors() > 0 || len(r.Problems) > 0
}

// Ratio compares a scenario with its baseline at the same client count in
// the same run.
type Ratio struct {
	// Scenario is compared with Baseline, both at Clients clients.
	Scenario, Baseline string
	Clients            int
	// Rate and BaselineRate are the two rates, in Unit.
	Rate, BaselineRate float64
	Unit               string
	// P99 and BaselineP99 are the two 99th percentiles of latency.
	P99, BaselineP99 time.Duration
}

// RatePercent returns the scenario's rate in percent of the baseline's.
func (r Ratio) RatePercent() float64 {
	if r.BaselineRate == 0 {
		return 0
	}
	return 100 * r.Rate / r.BaselineRate
}

// P99Factor returns the scenario's p99 latency over the baseline's.
func (r Ratio) P99Factor() float64 {
	if r.BaselineP99 == 0 {
		return 0
	}
	return float64(r.P99) / float64(r.BaselineP99)
}

// baselineOf returns the scenario a scenario is compared with, or "".
func baselineOf(scenario string) string {
	switch scenario {
	case ScenarioRedeemHot, ScenarioRedeemMany:
		return ScenarioBaseline
	case ScenarioValidate, ScenarioClick:
		return ScenarioHealthz
	case ScenarioOrderAttr:
		return ScenarioOrderPlain
	case ScenarioOrderPayouts:
		return ScenarioOrderAttr
	case ScenarioStatement:
		return ScenarioStatementSum
	case ScenarioStoreStatement:
		return ScenarioStoreStatementSum
	case ScenarioConsole:
		return ScenarioConsoleAPI
	}
	return ""
}

// Report is the outcome of a run.
type Report struct {
	// Date is when the run started.
	Date time.Time
	// CPUs is the number of logical CPUs the process may use, as nproc
	// prints it.
	CPUs int
	// Database is the kind of the server's database, "" when unknown.
	Database string
	// IdempotencyKey tells that each redeem carried an Idempotency-Key.
	IdempotencyKey bool
	// Results holds one result per step, in the order they ran.
	Results []*Result
	// Check is what the server's consistency check printed, and
	// CheckErr its failure.
	Check    string
	CheckErr error
}

// Ratios pairs every result that has a baseline with the baseline's
// result at the same client count.
func (rep *Report) Ratios() []Ratio {
	var out []Ratio
	for _, r := range rep.Results {
		base := baselineOf(r.Scenario)
		if base == "" {
			continue
		}
		i := slices.IndexFunc(rep.Results, func(b *Result) bool { return b.Scenario == base && b.Clients == r.Clients })
		if i < 0 {
			continue
		}
		b := rep.Results[i]
		out = append(out, Ratio{Scenario: r.Scenario, Baseline: base, Clients: r.Clients,
			Rate: r.Rate(), BaselineRate: b.Rate(), P99: r.Latency.P99, BaselineP99: b.Latency.P99, Unit: r.RateUnit()})
	}
	return out
}

// Failed reports whether any step failed or the consistency check did.
func (rep *Report) Failed() bool {
	return rep.CheckErr != nil || slices.ContainsFunc(rep.Results, (*Result).Failed)
}

// group formats n with thousands separators: 1234567 is "1,234,567".
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// millis formats a latency in milliseconds with three significant digits
// or so: 0.26 ms, 9.8 ms, 118 ms.
func millis(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms < 10:
		return fmt.Sprintf("%.2f ms", ms)
	case ms < 100:
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}

// rate formats a rate with thousands separators and its unit.
func rate(v float64, unit string) string {
	return group(int64(v+0.5)) + " " + unit
}

// clientsText returns "1 client" or "n clients".
func clientsText(n int) string {
	if n == 1 {
		return "1 client"
	}
	return strconv.Itoa(n) + " clients"
}

// databaseName returns a database kind as printed; "-" when unknown.
func databaseName(kind string) string {
	if kind == "" {
		return "-"
	}
	return kind
}

const rowFormat = "%-12s %-8s %7s %8s %9s %9s %8s %7s %14s %9s %9s %9s %9s\n"

// writeHeader writes the line that opens the table and the table's header.
func writeHeader(w io.Writer, rep *Report) {
	db := "database not given"
	if rep.Database != "" {
		db = rep.Database + " database"
	}
	fmt.Fprintf(w, "promokit bench: %s, %d CPUs (nproc), %s %s/%s, %s\n\n",
		db, rep.CPUs, runtime.Version(), runtime.GOOS, runtime.GOARCH, rep.Date.UTC().Format("2006-01-02 15:04 UTC"))
	if rep.IdempotencyKey {
		fmt.Fprintf(w, "Each redeem is sent with an Idempotency-Key, its order id.\n\n")
	}
	fmt.Fprintf(w, rowFormat, "scenario", "database", "clients", "duration", "requests", "ok", "refused", "errors", "rate", "p50", "p90", "p99", "max")
}

// writeRow writes one step's row, then its exactness line and failures.
func writeRow(w io.Writer, r *Result) {
	fmt.Fprintf(w, rowFormat, r.Scenario, databaseName(r.Database), strconv.Itoa(r.Clients),
		fmt.Sprintf("%.2fs", r.Elapsed.Seconds()), group(r.Counts.Requests()), group(r.Counts.OK),
		group(r.Counts.Refused), group(r.Counts.Errors()), rate(r.Rate(), r.RateUnit()),
		millis(r.Latency.P50), millis(r.Latency.P90), millis(r.Latency.P99), millis(r.Latency.Max))
	if len(r.RoundRates) > 0 {
		rates := make([]string, len(r.RoundRates))
		for i, x := range r.RoundRates {
			rates[i] = group(int64(math.Round(x)))
		}
		fmt.Fprintf(w, "    %d rounds: %s %s\n", len(rates), strings.Join(rates, " / "), r.RateUnit())
	}
	if r.Note != "" {
		fmt.Fprintf(w, "    %s\n", r.Note)
	}
	writeFailures(w, r)
}

// writeFailures writes what went wrong in a step, each line marked so that
// it stands out of the table.
func writeFailures(w io.Writer, r *Result) {
	all := r.Counts
	all.merge(r.Warmup)
	for _, f := range []struct {
		o Outcome
		n int64
	}{{ServerError, all.ServerErrors}, {TransportError, all.TransportErrors}, {ClientError, all.ClientErrors}} {
		if f.n == 0 {
			continue
		}
		fmt.Fprintf(w, "!!! %s, %s: %s requests ended with a %s (warm-up included)", r.Scenario, clientsText(r.Clients), group(f.n), f.o)
		if d := r.Failures[f.o]; d != "" {
			fmt.Fprintf(w, "; the first: %s", d)
		}
		fmt.Fprintln(w)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "!!! %s, %s: MISMATCH: %s\n", r.Scenario, clientsText(r.Clients), p)
	}
}

// writeRatios writes one line per scenario compared with its baseline.
func writeRatios(w io.Writer, rep *Report) {
	ratios := rep.Ratios()
	if len(ratios) == 0 {
		return
	}
	fmt.Fprintf(w, "\nAgainst the baseline of the same run:\n")
	for _, r := range ratios {
		if r.BaselineRate == 0 || r.BaselineP99 == 0 {
			fmt.Fprintf(w, "  %-11s vs %-8s %11s: no ratio, the baseline measured no success (a limit reached in its warm-up?)\n",
				r.Scenario, r.Baseline, clientsText(r.Clients))
			continue
		}
		fmt.Fprintf(w, "  %-11s vs %-8s %11s: %s = %5.1f %% of %s; p99 %s = %.2f× %s\n",
			r.Scenario, r.Baseline, clientsText(r.Clients), rate(r.Rate, r.Unit), r.RatePercent(), rate(r.BaselineRate, r.Unit),
			millis(r.P99), r.P99Factor(), millis(r.BaselineP99))
	}
}

// writeMarkdown writes the run as a paragraph and a table ready for
// BENCHMARKS.md.
func writeMarkdown(w io.Writer, rep *Report, commandLine string) {
	date := rep.Date.UTC().Format("2006-01-02")
	fmt.Fprintf(w, "\nMachine: %d CPUs (`nproc` = %d), %s %s/%s, %s database; date %s.\n",
		rep.CPUs, rep.CPUs, runtime.Version(), runtime.GOOS, runtime.GOARCH, databaseName(rep.Database), date)
	if commandLine != "" {
		fmt.Fprintf(w, "Command: `%s`\n", commandLine)
	}
	fmt.Fprintf(w, "\n| date | nproc | database | scenario | clients | duration | requests | ok | refused | errors | rate | p50 | p90 | p99 | max | baseline (same run) | ratio | p99 ratio |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	ratios := rep.Ratios()
	for _, r := range rep.Results {
		base, ratio, p99 := "–", "–", "–"
		if i := slices.IndexFunc(ratios, func(x Ratio) bool { return x.Scenario == r.Scenario && x.Clients == r.Clients }); i >= 0 && ratios[i].BaselineRate > 0 {
			x := ratios[i]
			base = fmt.Sprintf("%s: %s, p99 %s", x.Baseline, rate(x.BaselineRate, x.Unit), millis(x.BaselineP99))
			ratio = fmt.Sprintf("%.0f %%", x.RatePercent())
			p99 = fmt.Sprintf("%.2f×", x.P99Factor())
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %d | %.1f s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			date, rep.CPUs, databaseName(r.Database), scenarioCell(r), r.Clients, r.Elapsed.Seconds(),
			group(r.Counts.Requests()), group(r.Counts.OK), group(r.Counts.Refused), group(r.Counts.Errors()),
			rate(r.Rate(), r.RateUnit()), millis(r.Latency.P50), millis(r.Latency.P90), millis(r.Latency.P99), millis(r.Latency.Max),
			base, ratio, p99)
	}
}

// scenarioCell names a result's scenario in a Markdown table, with its
// build when it comes from a comparison.
func scenarioCell(r *Result) string {
	if r.Build != "" {
		return r.Scenario + " (" + r.Build + ")"
	}
	return r.Scenario
}
