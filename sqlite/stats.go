package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/promokit/promokit/storage"
)

// periods returns a WITH clause that names the periods of bounds d (i,
// lo, hi), each bound in microseconds, and its arguments, which come
// first in the statement; an error names what for when bounds hold no
// period or more than storage.MaxStatsPeriods.
func periods(what string, bounds []time.Time) (string, []any, error) {
	n := len(bounds) - 1
	if n < 1 || n > storage.MaxStatsPeriods {
		return "", nil, fmt.Errorf("sqlite: %s: %d periods, want 1 to %d", what, n, storage.MaxStatsPeriods)
	}
	var b strings.Builder
	args := make([]any, 0, 3*n+2)
	b.WriteString(`WITH d (i, lo, hi) AS (VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?)")
		args = append(args, i, micros(bounds[i]), micros(bounds[i+1]))
	}
	b.WriteString(`) `)
	return b.String(), args, nil
}

// StatsDaily counts, for each period [bounds[i], bounds[i+1]), the
// redeemed redemptions created in it, the clicks that count, the orders
// placed and the sum of the accrued ledger entries in currency, in one
// statement: each count is a range of a time index (migration 0017).
func (t *tx) StatsDaily(ctx context.Context, currency string, bounds []time.Time) ([]storage.PeriodStats, error) {
	with, args, err := periods("stats", bounds)
	if err != nil {
		return nil, err
	}
	rows, err := t.q.QueryContext(ctx, with+`
		SELECT
		  (SELECT count(*) FROM redemptions r WHERE r.created_at >= d.lo AND r.created_at < d.hi AND r.state = 'redeemed'),
		  (SELECT count(*) FROM clicks c WHERE c.clicked_at >= d.lo AND c.clicked_at < d.hi AND c.flag = ''),
		  (SELECT count(*) FROM orders o WHERE o.placed_at >= d.lo AND o.placed_at < d.hi),
		  (SELECT coalesce(sum(e.amount), 0) FROM ledger_entries e
		    WHERE e.created_at >= d.lo AND e.created_at < d.hi AND e.kind = 'accrued' AND e.currency = ?)
		FROM d ORDER BY d.i`, append(args, currency)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: stats: %w", err)
	}
	defer rows.Close()
	out := make([]storage.PeriodStats, 0, len(bounds)-1)
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

// promotionUsesSQL counts a promotion's uses per period, the periods'
// WITH clause before it: each period is one range of
// redemptions_promotion (promotion_id, state, created_at), migration
// 0018, read from the index alone.
const promotionUsesSQL = `
		SELECT (SELECT count(*) FROM redemptions r
		         WHERE r.promotion_id = ? AND r.state = 'redeemed' AND r.created_at >= d.lo AND r.created_at < d.hi)
		FROM d ORDER BY d.i`

// StatsPromotionDaily counts, for each period [bounds[i], bounds[i+1]),
// the redemptions of the promotion created in it that are redeemed now,
// in one statement (promotionUsesSQL).
func (t *tx) StatsPromotionDaily(ctx context.Context, promotionID string, bounds []time.Time) ([]int64, error) {
	with, args, err := periods("promotion stats", bounds)
	if err != nil {
		return nil, err
	}
	rows, err := t.q.QueryContext(ctx, with+promotionUsesSQL, append(args, promotionID)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: promotion stats: %w", err)
	}
	defer rows.Close()
	out := make([]int64, 0, len(bounds)-1)
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("sqlite: promotion stats: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: promotion stats: %w", err)
	}
	return out, nil
}

// linkStatsSQL counts a link's clicks that count, its flagged clicks and
// its attributed orders per period, the periods' WITH clause before it and
// the link's id bound twice after: each period is one range of
// clicks_link_day (link_id, clicked_at, flag), counted apart by flag in
// one pass, and one of orders_link (link_id, placed_at), migration 0018,
// both read from the index alone.
const linkStatsSQL = `
		SELECT count(*) FILTER (WHERE c.flag = ''), count(*) FILTER (WHERE c.flag <> ''),
		  (SELECT count(*) FROM orders o WHERE o.link_id = ? AND o.placed_at >= d.lo AND o.placed_at < d.hi)
		FROM d LEFT JOIN clicks c ON c.link_id = ? AND c.clicked_at >= d.lo AND c.clicked_at < d.hi
		GROUP BY d.i ORDER BY d.i`

// StatsLinkDaily counts, for each period [bounds[i], bounds[i+1]), the
// link's clicks made in it, apart the flagged ones, and the orders
// placed in it that are attributed to the link, in one statement
// (linkStatsSQL).
func (t *tx) StatsLinkDaily(ctx context.Context, linkID string, bounds []time.Time) ([]storage.LinkPeriodStats, error) {
	with, args, err := periods("link stats", bounds)
	if err != nil {
		return nil, err
	}
	rows, err := t.q.QueryContext(ctx, with+linkStatsSQL, append(args, linkID, linkID)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: link stats: %w", err)
	}
	defer rows.Close()
	out := make([]storage.LinkPeriodStats, 0, len(bounds)-1)
	for rows.Next() {
		var p storage.LinkPeriodStats
		if err := rows.Scan(&p.Clicks, &p.Flagged, &p.Orders); err != nil {
			return nil, fmt.Errorf("sqlite: link stats: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: link stats: %w", err)
	}
	return out, nil
}
