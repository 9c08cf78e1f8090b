package postgres

import (
	"context"
	"fmt"
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
		return nil, fmt.Errorf("postgres: stats: %d periods, want 1 to %d", n, storage.MaxStatsPeriods)
	}
	rows, err := t.q.Query(ctx, `
		SELECT
		  (SELECT count(*) FROM redemptions r WHERE r.created_at >= d.lo AND r.created_at < d.hi AND r.state = 'redeemed'),
		  (SELECT count(*) FROM clicks c WHERE c.clicked_at >= d.lo AND c.clicked_at < d.hi AND c.flag = ''),
		  (SELECT count(*) FROM orders o WHERE o.placed_at >= d.lo AND o.placed_at < d.hi),
		  (SELECT coalesce(sum(e.amount), 0)::bigint FROM ledger_entries e
		    WHERE e.created_at >= d.lo AND e.created_at < d.hi AND e.kind = 'accrued' AND e.currency = $3)
		FROM unnest($1::timestamptz[], $2::timestamptz[]) WITH ORDINALITY AS d (lo, hi, i)
		ORDER BY d.i`, bounds[:n], bounds[1:], currency)
	if err != nil {
		return nil, fmt.Errorf("postgres: stats: %w", err)
	}
	defer rows.Close()
	out := make([]storage.PeriodStats, 0, n)
	for rows.Next() {
		var p storage.PeriodStats
		if err := rows.Scan(&p.Redeems, &p.Clicks, &p.Orders, &p.Commissions); err != nil {
			return nil, fmt.Errorf("postgres: stats: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: stats: %w", err)
	}
	return out, nil
}
