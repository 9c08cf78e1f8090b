package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit/storage"
)

// StatsDaily counts, for each period [bounds[i], bounds[i+1]), the
// redeemed redemptions created in it, the clicks that count, the orders
// placed and the sum of the accrued ledger entries in currency, in one
// statement: each count is a range of a time index (migration 0017).
func (t *tx) StatsDaily(ctx context.Context, currency string, bounds []time.Time) ([]storage.PeriodStats, error) {
	n, err := periods("stats", bounds)
	if err != nil {
		return nil, err
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

// periods returns the number of periods of bounds; an error names what
// for when they are none or more than storage.MaxStatsPeriods. A
// statement reads the periods from two arrays, bounds[:n] and bounds[1:],
// with WITH ORDINALITY.
func periods(what string, bounds []time.Time) (int, error) {
	n := len(bounds) - 1
	if n < 1 || n > storage.MaxStatsPeriods {
		return 0, fmt.Errorf("postgres: %s: %d periods, want 1 to %d", what, n, storage.MaxStatsPeriods)
	}
	return n, nil
}

// promotionUsesSQL counts a promotion's uses per period ($1) between the
// bounds $2 and $3: each period is one range of redemptions_promotion
// (promotion_id, state, created_at), migration 0018.
const promotionUsesSQL = `
		SELECT (SELECT count(*) FROM redemptions r
		         WHERE r.promotion_id = $1 AND r.state = 'redeemed' AND r.created_at >= d.lo AND r.created_at < d.hi)
		FROM unnest($2::timestamptz[], $3::timestamptz[]) WITH ORDINALITY AS d (lo, hi, i)
		ORDER BY d.i`

// StatsPromotionDaily counts, for each period [bounds[i], bounds[i+1]),
// the redemptions of the promotion created in it that are redeemed now,
// in one statement (promotionUsesSQL).
func (t *tx) StatsPromotionDaily(ctx context.Context, promotionID string, bounds []time.Time) ([]int64, error) {
	n, err := periods("promotion stats", bounds)
	if err != nil {
		return nil, err
	}
	rows, err := t.q.Query(ctx, promotionUsesSQL, promotionID, bounds[:n], bounds[1:])
	if err != nil {
		return nil, fmt.Errorf("postgres: promotion stats: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("postgres: promotion stats: %w", err)
	}
	return out, nil
}

// linkStatsSQL counts a link's ($1) clicks that count, its flagged
// clicks and its attributed orders per period between the bounds $2 and
// $3: each period is one range of clicks_link_day (link_id, clicked_at)
// INCLUDE (flag), counted apart by flag in one pass, and one of
// orders_link (link_id, placed_at), migration 0018.
const linkStatsSQL = `
		SELECT c.counted, c.flagged,
		  (SELECT count(*) FROM orders o WHERE o.link_id = $1 AND o.placed_at >= d.lo AND o.placed_at < d.hi)
		FROM unnest($2::timestamptz[], $3::timestamptz[]) WITH ORDINALITY AS d (lo, hi, i)
		CROSS JOIN LATERAL (
		  SELECT count(*) FILTER (WHERE k.flag = '') AS counted, count(*) FILTER (WHERE k.flag <> '') AS flagged
		    FROM clicks k WHERE k.link_id = $1 AND k.clicked_at >= d.lo AND k.clicked_at < d.hi) c
		ORDER BY d.i`

// StatsLinkDaily counts, for each period [bounds[i], bounds[i+1]), the
// link's clicks made in it, apart the flagged ones, and the orders
// placed in it that are attributed to the link, in one statement
// (linkStatsSQL).
func (t *tx) StatsLinkDaily(ctx context.Context, linkID string, bounds []time.Time) ([]storage.LinkPeriodStats, error) {
	n, err := periods("link stats", bounds)
	if err != nil {
		return nil, err
	}
	rows, err := t.q.Query(ctx, linkStatsSQL, linkID, bounds[:n], bounds[1:])
	if err != nil {
		return nil, fmt.Errorf("postgres: link stats: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.LinkPeriodStats, error) {
		var p storage.LinkPeriodStats
		err := row.Scan(&p.Clicks, &p.Flagged, &p.Orders)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: link stats: %w", err)
	}
	return out, nil
}
