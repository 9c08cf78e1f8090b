package storage

import (
	"context"
	"time"
)

// MaxStatsPeriods bounds the periods one StatsDaily call counts, so that
// one statement's work stays bounded.
const MaxStatsPeriods = 92

// StatsTx counts what happened in the marketplace per period, for the
// console's charts.
type StatsTx interface {
	// StatsDaily counts, for each period [bounds[i], bounds[i+1]), the
	// redemptions created in it that are redeemed now, the clicks that
	// count for attribution (not flagged), the orders placed, and the
	// sum of the accrued ledger entries in currency: len(bounds)-1
	// periods, at most MaxStatsPeriods, in one statement. The bounds
	// must ascend.
	StatsDaily(ctx context.Context, currency string, bounds []time.Time) ([]PeriodStats, error)
}

// PeriodStats is what happened in one period of StatsDaily.
type PeriodStats struct {
	Redeems     int64
	Clicks      int64
	Orders      int64
	Commissions int64 // minor units of the currency asked for
}
