package load

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// RunCompare measures two servers side by side, such as this build and the
// one before a change, each with its own database and fixtures. The
// scenarios run in rounds (cfgs[0].Rounds, at least one) at each client
// count, and in each round every scenario runs on one server and then on
// the other, the first server first in odd rounds and second in even ones,
// so that a machine whose speed drifts weighs on both alike. Each
// server's results are reported as Run reports them, labelled with
// labels; then each scenario of the second as a share of the first's.
// Everything but the server (BaseURL, AdminKey, DatabaseURL and the
// functions that reach its database) comes from cfgs[0].
func RunCompare(ctx context.Context, cfgs [2]Config, labels [2]string) ([2]*Report, error) {
	var reps [2]*Report
	common := cfgs[0]
	if common.Rounds < 1 {
		common.Rounds = 1
	}
	if err := common.Validate(); err != nil {
		return reps, err
	}
	if common.Out == nil {
		common.Out = io.Discard
	}
	if common.Log == nil {
		common.Log = io.Discard
	}
	var benches [2]*bench
	for i := range cfgs {
		c := common
		c.BaseURL, c.AdminKey, c.DatabaseURL = cfgs[i].BaseURL, cfgs[i].AdminKey, cfgs[i].DatabaseURL
		c.CheckFunc, c.SeedClicks, c.SeedEntries = cfgs[i].CheckFunc, cfgs[i].SeedClicks, cfgs[i].SeedEntries
		b, rep, err := newBench(c)
		if err != nil {
			return reps, err
		}
		defer b.close(ctx)
		benches[i], reps[i] = b, rep
		if err := b.seed0(ctx); err != nil {
			return reps, fmt.Errorf("%s: %w", labels[i], err)
		}
	}
	w := common.Out
	writeHeader(w, reps[0])
	d := common.Duration / time.Duration(common.Rounds)
	for _, n := range common.Clients {
		// rounds[i][j] are the rounds of scenario j on server i.
		var rounds [2][][]*Result
		for i := range rounds {
			rounds[i] = make([][]*Result, len(common.Scenarios))
		}
		report := func() {
			for i := range rounds {
				fmt.Fprintf(w, "%s:\n", labels[i])
				for _, rs := range rounds[i] {
					if len(rs) > 0 {
						r := mergeRounds(rs)
						r.Build = labels[i]
						reps[i].Results = append(reps[i].Results, r)
						writeRow(w, r)
					}
				}
			}
		}
		for round := 1; round <= common.Rounds; round++ {
			order := []int{0, 1}
			if round%2 == 0 {
				order = []int{1, 0}
			}
			for j, sc := range common.Scenarios {
				for _, i := range order {
					r, err := benches[i].runStep(ctx, sc, n, d)
					if r != nil {
						rounds[i][j] = append(rounds[i][j], r)
					}
					if err != nil {
						report()
						return reps, fmt.Errorf("%s: %s, %s, round %d: %w", labels[i], sc, clientsText(n), round, err)
					}
				}
			}
		}
		report()
	}
	for i, rep := range reps {
		if ratios := rep.Ratios(); len(ratios) > 0 {
			fmt.Fprintf(w, "\n%s:", labels[i])
			writeRatios(w, rep)
		}
	}
	writeShares(w, reps, labels)
	for i, b := range benches {
		if redeemedIn(common.Scenarios) && b.cfg.CheckFunc != nil {
			b.check(ctx, reps[i], labels[i])
		}
	}
	if common.Markdown {
		for _, rep := range reps {
			writeMarkdown(w, rep, common.CommandLine)
		}
	}
	if reps[0].Failed() || reps[1].Failed() {
		return reps, ErrFailed
	}
	return reps, nil
}

// Share is a scenario's rate on the second server of a comparison as a
// share of its rate on the first, with each round's share.
type Share struct {
	Scenario string
	Clients  int
	// Rate and Base are the second's and the first's rates over all
	// rounds, in Unit.
	Rate, Base float64
	Unit       string
	// Rounds holds, round by round, the second's rate over the first's.
	Rounds []float64
}

// Shares pairs the results of two reports of a comparison by scenario and
// client count.
func Shares(reps [2]*Report) []Share {
	var out []Share
	for _, r := range reps[1].Results {
		i := slices.IndexFunc(reps[0].Results, func(b *Result) bool { return b.Scenario == r.Scenario && b.Clients == r.Clients })
		if i < 0 {
			continue
		}
		b := reps[0].Results[i]
		s := Share{Scenario: r.Scenario, Clients: r.Clients, Rate: r.Rate(), Base: b.Rate(), Unit: r.RateUnit()}
		for k := range min(len(r.RoundRates), len(b.RoundRates)) {
			if b.RoundRates[k] > 0 {
				s.Rounds = append(s.Rounds, r.RoundRates[k]/b.RoundRates[k])
			}
		}
		out = append(out, s)
	}
	return out
}

// writeShares writes one line per scenario: the second server's rate as a
// share of the first's, over all rounds and round by round.
func writeShares(w io.Writer, reps [2]*Report, labels [2]string) {
	shares := Shares(reps)
	if len(shares) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s against %s, the same scenarios in alternated rounds:\n", labels[1], labels[0])
	for _, s := range shares {
		if s.Base == 0 {
			fmt.Fprintf(w, "  %-16s %11s: no share, %s measured no success\n", s.Scenario, clientsText(s.Clients), labels[0])
			continue
		}
		rounds := make([]string, len(s.Rounds))
		for i, x := range s.Rounds {
			rounds[i] = fmt.Sprintf("%.1f", 100*x)
		}
		fmt.Fprintf(w, "  %-16s %11s: %s = %5.1f %% of %s; rounds %s %%\n", s.Scenario, clientsText(s.Clients),
			rate(s.Rate, s.Unit), 100*s.Rate/s.Base, rate(s.Base, s.Unit), strings.Join(rounds, " / "))
	}
}
