package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/promokit/promokit"
)

// errCounters is returned by check when a stored sum differs from its rows.
var errCounters = errors.New("stored sums differ from the rows they are recomputed from")

// runCheck recomputes every usage counter from the redemption rows, and
// the ledger's daily roll-ups, payable balances and payouts' amounts from
// the ledger entries, which are the truth; checks that every entry naming
// a payout names one of its own parties and currency; and prints each
// difference, worded by what was recomputed from what
// (promokit.CounterDiff.String). It exits 1 when there is one, so a cron
// job or a monitoring check can run it.
func (m *Main) runCheck(ctx context.Context) error {
	if err := m.openAndMigrate(ctx); err != nil {
		return err
	}
	defer func() {
		m.DB.Close()
		m.DB = nil
	}()
	diffs, err := m.DB.UsageCheck(ctx)
	if err != nil {
		return err
	}
	sortDiffs(diffs)
	for _, d := range diffs {
		if _, err := fmt.Fprintln(m.Stdout, d.String()); err != nil {
			return err
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%d differences: %w", len(diffs), errCounters)
	}
	_, err = fmt.Fprintln(m.Stdout, "promokit: every usage counter equals its redemptions. Every ledger roll-up, payable balance and payout equals its ledger entries.")
	return err
}

// sortDiffs puts differences in the order of promokit.Counters, and each
// kind's by subject (an entry's id by its number), so that two runs on
// the same database print the same lines in the same order, whatever
// order the database returned them in.
func sortDiffs(ds []promokit.CounterDiff) {
	rank := map[promokit.Counter]int{}
	for i, c := range promokit.Counters() {
		rank[c] = i
	}
	slices.SortFunc(ds, func(a, b promokit.CounterDiff) int {
		if c := cmp.Compare(rank[a.Kind], rank[b.Kind]); c != 0 {
			return c
		}
		x, xerr := strconv.ParseInt(a.Subject, 10, 64)
		y, yerr := strconv.ParseInt(b.Subject, 10, 64)
		if xerr == nil && yerr == nil {
			return cmp.Compare(x, y)
		}
		return cmp.Compare(a.Subject, b.Subject)
	})
}
