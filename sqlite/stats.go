package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/promokit/promokit/storage"
)

// StatsDaily counts, for each period [bounds[i], bounds[i+1]), the
// redeemed redemptions created in it, the clicks that count, the orders
// placed and the sum of the accrued ledger entries in currency, in one
// statement: each count is a range of a time index (migration 0017).
func (t *tx) StatsDaily(ctx context.Context, currency string, bounds []time.Time) ([]storage.PeriodStats, error) {
	n := len(bounds) - 1
	if n < 1 || n > storage.MaxStatsPeriods {
		return nil, fmt.Errorf("sqlite: stats: %d periods, want 1 to %d", n, storage.MaxStatsPeriods)
	}
	var b strings.Builder
	args := make([]any, 0, 3*n+1)
	b.WriteString(`WITH d (i, lo, hi) AS (VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?)")
		args = append(args, i, micros(bounds[i]), micros(bounds[i+1]))
	}
	b.WriteString(`)
		SELECT
		  (SELECT count(*) FROM redemptions r WHERE r.created_at >= d.lo AND r.created_at < d.hi AND r.state = 'redeemed'),
		  (SELECT count(*) FROM clicks c WHERE c.clicked_at >= d.lo AND c.clicked_at < d.hi AND c.flag = ''),
		  (SELECT count(*) FROM orders o WHERE o.placed_at >= d.lo AND o.placed_at < d.hi),
		  (SELECT coalesce(sum(e.amount), 0) FROM ledger_entries e
		    WHERE e.created_at >= d.lo AND e.created_at < d.hi AND e.kind = 'accrued' AND e.currency = ?)
		FROM d ORDER BY d.i`)
	args = append(args, currency)
	rows, err := t.q.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: stats: %w", err)
	}
	defer rows.Close()
	out := make([]storage.PeriodStats, 0, n)
	for rows.Next() {
		var p storage.PeriodStats
		if err := rows.Scan(&p.Redeems, &p.Clicks, &p.Orders, &p.Commissions); err != nil {
			return nil, fmt.Errorf("sqlite: stats: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: stats: %w", err)
	}
	return out, nil
}
