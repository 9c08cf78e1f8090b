package main

import (
	"context"
	"errors"
	"fmt"
)

// errCounters is returned by check when a counter differs from its rows.
var errCounters = errors.New("usage counters differ from the redemptions")

// runCheck recomputes every usage counter from the redemption rows, which
// are the truth, and prints each counter that differs. It exits 1 when one
// does, so a cron job or a monitoring check can run it.
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
	for _, d := range diffs {
		if _, err := fmt.Fprintf(m.Stdout, "%s %s: stored %d, from the redemptions %d\n", d.Kind, d.Subject, d.Stored, d.FromRows); err != nil {
			return err
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%d counters: %w", len(diffs), errCounters)
	}
	_, err = fmt.Fprintln(m.Stdout, "promokit: every usage counter equals its redemptions.")
	return err
}
