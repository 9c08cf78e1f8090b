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
	if err := checkDays(days); err != nil {
		return nil, err
	}
	var out *DailyStats
	err := s.read(ctx, func(tx storage.Tx) error {
		st, err := tx.SettingsGet(ctx)
		if err != nil {
			return err
		}
		bounds := dayBounds(s.now(), st.Location(), days)
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

// checkDays returns EInvalid on the field "days" unless days is a number
// of days a chart may show: 1 to storage.MaxStatsPeriods.
func checkDays(days int) error {
	if days < 1 || days > storage.MaxStatsPeriods {
		var v promokit.Validation
		v.Add("days", "out_of_range", "days must be between 1 and %d", storage.MaxStatsPeriods)
		return v.Err()
	}
	return nil
}

// dayBounds returns the bounds of the last days calendar days of loc at
// now, today last: 0:00 of each day, then 0:00 of tomorrow.
func dayBounds(now time.Time, loc *time.Location, days int) []time.Time {
	now = now.In(loc)
	bounds := make([]time.Time, days+1)
	for i := range bounds {
		// time.Date normalises the day and finds 0:00 across a change
		// of the clocks.
		bounds[i] = time.Date(now.Year(), now.Month(), now.Day()-days+1+i, 0, 0, 0, 0, loc)
	}
	return bounds
}

// PromotionUses are a promotion's uses per calendar day of the
// marketplace's time zone, oldest first, the last day being today (so
// far).
type PromotionUses struct {
	TimeZone string
	Days     []DayUses
}

// DayUses are the uses of a promotion made in one day. A use is a
// redemption of the promotion that stands: redeemed by a placed order,
// and counted in the day it was made (when its code was held for the
// order, or redeemed without a hold). A held code (an order still being
// paid), a hold given back or expired, and a use rolled back when its
// order was cancelled are no use, so that the days add up to what
// buyers actually used; the promotion's own counter of uses, which its
// limit checks, counts held codes too, and may run ahead of the days by
// the holds in flight.
type DayUses struct {
	Day  time.Time // 0:00 of the day, in the marketplace's time zone
	Uses int64
}

// PromotionDailyUses returns the uses of promotion id in each of the last
// days days (1 to storage.MaxStatsPeriods; EInvalid otherwise), today
// included, in the marketplace's time zone (DayUses says what counts).
// The admin may read any promotion's and a seller its store's; another
// store's promotion is not found, as GetPromotion answers. A partner may
// see a promotion it holds a code of, but not how the whole promotion is
// used, and a checkout key has no use for it: both are forbidden. It
// reads the promotion, the settings and the counts in three statements,
// whatever the number of days and of uses.
func (s *Service) PromotionDailyUses(ctx context.Context, id string, days int) (*PromotionUses, error) {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller)
	if err != nil {
		return nil, err
	}
	if err := checkDays(days); err != nil {
		return nil, err
	}
	var out *PromotionUses
	err = s.read(ctx, func(tx storage.Tx) error {
		if _, err := tx.PromotionGet(ctx, p.Scope(), id); err != nil {
			return err
		}
		st, err := tx.SettingsGet(ctx)
		if err != nil {
			return err
		}
		bounds := dayBounds(s.now(), st.Location(), days)
		counts, err := tx.StatsPromotionDaily(ctx, id, bounds)
		if err != nil {
			return err
		}
		out = &PromotionUses{TimeZone: st.TimeZone, Days: make([]DayUses, len(counts))}
		for i, n := range counts {
			out.Days[i] = DayUses{Day: bounds[i], Uses: n}
		}
		return nil
	})
	return out, err
}

// LinkDays are a link's figures per calendar day of the marketplace's
// time zone, oldest first, the last day being today (so far).
type LinkDays struct {
	TimeZone string
	Days     []LinkDay
}

// LinkDay is what happened through a link in one day: the clicks on it
// that count for attribution; the flagged ones (bots, link previews,
// floods), stored but never attributing; and the orders placed that day
// that are attributed to the link (its click won them, A3), whatever
// became of them since.
type LinkDay struct {
	Day     time.Time // 0:00 of the day, in the marketplace's time zone
	Clicks  int64
	Flagged int64
	Orders  int64
}

// LinkDailyStats returns the figures of link id in each of the last days
// days (1 to storage.MaxStatsPeriods; EInvalid otherwise), today
// included, in the marketplace's time zone. It is scoped as GetLink: the
// admin reads any link's, a partner its own links', a seller those of
// links to its store; any other link is not found. A checkout key is
// forbidden. It reads the link, the settings and the counts in three
// statements, whatever the number of days and of clicks.
func (s *Service) LinkDailyStats(ctx context.Context, id string, days int) (*LinkDays, error) {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RolePartner, promokit.RoleSeller)
	if err != nil {
		return nil, err
	}
	if err := checkDays(days); err != nil {
		return nil, err
	}
	var out *LinkDays
	err = s.read(ctx, func(tx storage.Tx) error {
		if _, err := tx.LinkGet(ctx, p.Scope(), id); err != nil {
			return err
		}
		st, err := tx.SettingsGet(ctx)
		if err != nil {
			return err
		}
		bounds := dayBounds(s.now(), st.Location(), days)
		counts, err := tx.StatsLinkDaily(ctx, id, bounds)
		if err != nil {
			return err
		}
		out = &LinkDays{TimeZone: st.TimeZone, Days: make([]LinkDay, len(counts))}
		for i, c := range counts {
			out.Days[i] = LinkDay{Day: bounds[i], Clicks: c.Clicks, Flagged: c.Flagged, Orders: c.Orders}
		}
		return nil
	})
	return out, err
}
