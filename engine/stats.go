package engine

import (
	"context"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// DefaultStatsDays is how many days the dashboard shows unless asked for
// another number.
const DefaultStatsDays = 30

// DailyStats are the marketplace's figures per calendar day of its time
// zone, oldest first, the last day being today (so far).
type DailyStats struct {
	Currency string
	TimeZone string
	Days     []DayStats
}

// DayStats are the figures of one day: the redemptions made that day that
// stand (redeemed), the clicks on affiliate links that count for
// attribution, the orders placed, and the commissions accrued (minor units
// of the marketplace's currency: what the orders' lines earned their
// payees when placed, before refunds and cancellations).
type DayStats struct {
	Day         time.Time // 0:00 of the day, in the marketplace's time zone
	Redeems     int64
	Clicks      int64
	Orders      int64
	Commissions int64
}

// DailyStats returns the marketplace's figures of the last days days
// (1 to storage.MaxStatsPeriods; EInvalid otherwise), today included;
// admin only. The days are those of the marketplace's time zone, so a day
// may have 23 or 25 hours. It reads the settings and the counts in two
// statements, whatever the number of days.
func (s *Service) DailyStats(ctx context.Context, days int) (*DailyStats, error) {
	if _, err := require(ctx, promokit.RoleAdmin); err != nil {
		return nil, err
	}
	if days < 1 || days > storage.MaxStatsPeriods {
		var v promokit.Validation
		v.Add("days", "out_of_range", "days must be between 1 and %d", storage.MaxStatsPeriods)
		return nil, v.Err()
	}
	var out *DailyStats
	err := s.read(ctx, func(tx storage.Tx) error {
		st, err := tx.SettingsGet(ctx)
		if err != nil {
			return err
		}
		loc := st.Location()
		now := s.now().In(loc)
		bounds := make([]time.Time, days+1)
		for i := range bounds {
			// time.Date normalises the day and finds 0:00 across a
			// change of the clocks.
			bounds[i] = time.Date(now.Year(), now.Month(), now.Day()-days+1+i, 0, 0, 0, 0, loc)
		}
		counts, err := tx.StatsDaily(ctx, st.Currency, bounds)
		if err != nil {
			return err
		}
		out = &DailyStats{Currency: st.Currency, TimeZone: st.TimeZone, Days: make([]DayStats, len(counts))}
		for i, c := range counts {
			out.Days[i] = DayStats{Day: bounds[i], Redeems: c.Redeems, Clicks: c.Clicks, Orders: c.Orders, Commissions: c.Commissions}
		}
		return nil
	})
	return out, err
}
