package storage

import (
	"context"
	"time"
)

// MaxStatsPeriods bounds the periods one Stats call counts, so that one
// statement's work stays bounded.
const MaxStatsPeriods = 92

// StatsTx counts what happened per period, for the console's charts: in
// the marketplace, to one promotion, through one link. Each method counts
// len(bounds)-1 periods [bounds[i], bounds[i+1]), at most
// MaxStatsPeriods, in one statement, and refuses more; the bounds must
// ascend. Each count is a range of an index that leads with the object
// and the time (migrations 0017 and 0018), so that its cost follows what
// happened in the periods, not what happened before them.
type StatsTx interface {
	// StatsDaily counts, for each period, the redemptions created in it
	// that are redeemed now, the clicks that count for attribution (not
	// flagged), the orders placed, and the sum of the accrued ledger
	// entries in currency.
	StatsDaily(ctx context.Context, currency string, bounds []time.Time) ([]PeriodStats, error)
	// StatsPromotionDaily counts, for each period, the uses of the
	// promotion promotionID made in it: its redemptions created in the
	// period that are redeemed now, as StatsDaily counts them. A
	// promotion that does not exist has no uses; the caller checks that
	// it may see the promotion.
	StatsPromotionDaily(ctx context.Context, promotionID string, bounds []time.Time) ([]int64, error)
	// StatsLinkDaily counts, for each period, the clicks on the link
	// linkID made in it, apart those that count for attribution and those
	// flagged (bots, floods), and the orders placed in it that are
	// attributed to the link. A link that does not exist has none; the
	// caller checks that it may see the link.
	StatsLinkDaily(ctx context.Context, linkID string, bounds []time.Time) ([]LinkPeriodStats, error)
}

// PeriodStats is what happened in one period of StatsDaily.
type PeriodStats struct {
	Redeems     int64
	Clicks      int64
	Orders      int64
	Commissions int64 // minor units of the currency asked for
}

// LinkPeriodStats is what happened through a link in one period of
// StatsLinkDaily: its clicks that count, its flagged clicks, and the
// orders attributed to it.
type LinkPeriodStats struct {
	Clicks  int64
	Flagged int64
	Orders  int64
}
