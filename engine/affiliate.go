package engine

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// Affiliate program states of a store.
const (
	ProgramNotJoined = "not_joined" // never joined
	ProgramJoined    = "joined"     // a member
	ProgramExiting   = "exiting"    // asked to exit; links work until ExitsAt
	ProgramExited    = "exited"     // out since ExitsAt
)

// JoinInput is a store's request to join the affiliate program (A1): it
// accepts the agreement, sets the general rate every product takes, and
// names the page its store-wide links open.
type JoinInput struct {
	AcceptTerms bool                  `json:"accept_terms"`
	Rate        *promokit.BasisPoints `json:"rate_bp"`
	URL         string                `json:"url"`
}

// RateInput sets a commission rate.
type RateInput struct {
	Rate *promokit.BasisPoints `json:"rate_bp"`
}

// Program is a store's place in the affiliate program now: its state, its
// latest membership, the rates in force and when it may next exit or
// rejoin (A2).
type Program struct {
	StoreID      string                `json:"store_id"`
	State        string                `json:"state"`
	Membership   *promokit.Membership  `json:"membership"`
	Rate         *promokit.BasisPoints `json:"rate_bp"`
	ProductRates []ProductRate         `json:"product_rates"`
	ExitFrom     *time.Time            `json:"exit_possible_from,omitempty"`
	RejoinFrom   *time.Time            `json:"rejoin_possible_from,omitempty"`
}

// ProductRate is a product's own rate in force.
type ProductRate struct {
	ProductID   string               `json:"product_id"`
	Rate        promokit.BasisPoints `json:"rate_bp"`
	EffectiveAt time.Time            `json:"effective_at"`
}

// Bounds of commission rates (A1). The general rate pays something on
// every product, so it is at least 1 bp; a product's own rate may be 0,
// no commission on that product. No rate passes 100%.
const (
	MinGeneralRate promokit.BasisPoints = 1
	MinProductRate promokit.BasisPoints = 0
	MaxRate        promokit.BasisPoints = 10000
)

// maxRateProducts bounds the product rates a program answer lists.
const maxRateProducts = 1000

// sellerOf returns the caller if it may manage the store's programs: the
// admin, or the store's seller.
func sellerOf(ctx context.Context, storeID string) (promokit.Principal, error) {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller)
	if err != nil {
		return p, err
	}
	if p.Role == promokit.RoleSeller && p.StoreID != storeID {
		return p, notFound("store", storeID)
	}
	return p, nil
}

// dayStart returns 0:00 of t's calendar day in loc, days days later.
func dayStart(t time.Time, loc *time.Location, days int) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day()+days, 0, 0, 0, 0, loc).UTC()
}

// exitFrom is when a membership may exit (A2: ExitAfterDays after joining).
func exitFrom(m *promokit.Membership, pol promokit.AffiliatePolicy, loc *time.Location) time.Time {
	return m.JoinedAt.In(loc).AddDate(0, 0, int(pol.ExitAfterDays)).UTC()
}

// rejoinFrom is when a store that exited may rejoin (A2: RejoinAfterDays
// after its exit took effect).
func rejoinFrom(m *promokit.Membership, pol promokit.AffiliatePolicy, loc *time.Location) time.Time {
	return RejoinPossibleFrom(*m.ExitsAt, pol, loc)
}

// ExitTakesEffect is when an exit asked for at t takes effect (A2): 0:00
// of the next day in the marketplace's time zone loc.
func ExitTakesEffect(t time.Time, loc *time.Location) time.Time { return dayStart(t, loc, 1) }

// RejoinPossibleFrom is when a store whose exit takes effect at exitsAt may
// rejoin (A2 and its decision): RejoinAfterDays calendar days after that,
// in loc.
func RejoinPossibleFrom(exitsAt time.Time, pol promokit.AffiliatePolicy, loc *time.Location) time.Time {
	return exitsAt.In(loc).AddDate(0, 0, int(pol.RejoinAfterDays)).UTC()
}

// JoinAffiliate enrols a store in the affiliate program (A1). A store that
// is a member, or asked to exit and is not out yet, is refused with
// EConflict; one that exited may rejoin RejoinAfterDays after its exit took
// effect (A2), and is refused before with the date it becomes possible.
// The url its store-wide links open must be a page URL
// (promokit.PageURLProblem) on one of the store's redirect hosts when it
// has any: EInvalid names the field and the rule otherwise.
func (s *Service) JoinAffiliate(ctx context.Context, storeID string, in JoinInput) (*Program, error) {
	if _, err := sellerOf(ctx, storeID); err != nil {
		return nil, err
	}
	var v promokit.Validation
	if !in.AcceptTerms {
		v.Add("accept_terms", "required", "joining the affiliate program requires accepting its agreement (accept_terms: true)")
	}
	if in.Rate == nil {
		v.Add("rate_bp", "required", "rate_bp, the general commission rate, is required")
	} else if *in.Rate < MinGeneralRate || *in.Rate > MaxRate {
		v.Add("rate_bp", "out_of_range", "rate_bp must be between %d and %d (0.01%% to 100%%)", MinGeneralRate, MaxRate)
	}
	promokit.CheckPageURL(&v, "url", in.URL, nil)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.changeProgram(ctx, storeID, func(tx storage.Tx, st *promokit.Store, settings *promokit.Settings, now time.Time) error {
		var hosts promokit.Validation
		promokit.CheckPageURL(&hosts, "url", in.URL, st.RedirectHosts)
		if err := hosts.Err(); err != nil {
			return err
		}
		pol, loc := settings.Policy.Affiliate, settings.Location()
		last, err := tx.MembershipGetLatest(ctx, storeID, true)
		switch {
		case isNotFound(err):
		case err != nil:
			return err
		case last.ExitsAt == nil || now.Before(*last.ExitsAt):
			return promokit.Errorf(promokit.EConflict, "store %q is already in the affiliate program", storeID)
		default:
			if from := rejoinFrom(last, pol, loc); now.Before(from) {
				e := promokit.PolicyError("A2", pol.RejoinAfterDays, daysBetween(*last.ExitsAt, now),
					"a store may rejoin the affiliate program %d days after its exit took effect: from %s",
					pol.RejoinAfterDays, from.In(loc).Format(time.RFC3339))
				e.PossibleFrom = &from
				return e
			}
		}
		m := &promokit.Membership{ID: promokit.NewID(promokit.PrefixMember, now), StoreID: storeID, URL: in.URL, JoinedAt: now}
		if err := tx.MembershipCreate(ctx, m); err != nil {
			return err
		}
		return tx.RateAdd(ctx, &promokit.Rate{StoreID: storeID, Rate: *in.Rate, EffectiveAt: now})
	})
}

// changeProgram runs change in a write transaction that holds the store's
// row, and answers the program as it then is.
func (s *Service) changeProgram(ctx context.Context, storeID string,
	change func(tx storage.Tx, st *promokit.Store, settings *promokit.Settings, now time.Time) error) (*Program, error) {
	var out *Program
	err := s.write(ctx, func(tx storage.Tx) error {
		settings, err := tx.SettingsGet(ctx)
		if err != nil {
			return err
		}
		st, err := tx.StoreGet(ctx, storeID, true)
		if err != nil {
			return err
		}
		now := s.now()
		if err := change(tx, st, settings, now); err != nil {
			return err
		}
		out, err = s.program(ctx, tx, settings, storeID, now)
		return err
	})
	return out, err
}

// daysBetween is the whole days from a to b, for error reports.
func daysBetween(a, b time.Time) int64 { return int64(b.Sub(a) / (24 * time.Hour)) }

// ExitAffiliate asks for a store's exit from the affiliate program (A2): no
// earlier than ExitAfterDays after joining, taking effect at 0:00 of the
// next day in the marketplace's time zone. From then its links answer 410
// and no order placed earns commission.
func (s *Service) ExitAffiliate(ctx context.Context, storeID string) (*Program, error) {
	if _, err := sellerOf(ctx, storeID); err != nil {
		return nil, err
	}
	return s.changeProgram(ctx, storeID, func(tx storage.Tx, _ *promokit.Store, settings *promokit.Settings, now time.Time) error {
		pol, loc := settings.Policy.Affiliate, settings.Location()
		m, err := tx.MembershipGetLatest(ctx, storeID, true)
		switch {
		case isNotFound(err) || err == nil && m.ExitsAt != nil && !now.Before(*m.ExitsAt):
			return promokit.Errorf(promokit.EConflict, "store %q is not in the affiliate program", storeID)
		case err == nil && m.ExitsAt != nil:
			return promokit.Errorf(promokit.EConflict, "store %q has asked to exit already; it leaves the program at %s",
				storeID, m.ExitsAt.In(loc).Format(time.RFC3339))
		}
		if err != nil {
			return err
		}
		if from := exitFrom(m, pol, loc); now.Before(from) {
			e := promokit.PolicyError("A2", pol.ExitAfterDays, daysBetween(m.JoinedAt, now),
				"a store may exit the affiliate program %d days after joining: from %s",
				pol.ExitAfterDays, from.In(loc).Format(time.RFC3339))
			e.PossibleFrom = &from
			return e
		}
		return tx.MembershipSetExit(ctx, m.ID, now, ExitTakesEffect(now, loc))
	})
}

// GetAffiliate answers a store's place in the program: to the admin, the
// store's seller and checkout keys, and to partners, who pick the stores
// they promote.
func (s *Service) GetAffiliate(ctx context.Context, storeID string) (*Program, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if (p.Role == promokit.RoleSeller || p.Role == promokit.RoleCheckout) && p.StoreID != "" && p.StoreID != storeID {
		return nil, notFound("store", storeID)
	}
	var out *Program
	err = s.read(ctx, func(tx storage.Tx) error {
		settings, err := tx.SettingsGet(ctx)
		if err != nil {
			return err
		}
		if _, err := tx.StoreGet(ctx, storeID, false); err != nil {
			return err
		}
		out, err = s.program(ctx, tx, settings, storeID, s.now())
		return err
	})
	return out, err
}

// program reads a store's program state at now.
func (s *Service) program(ctx context.Context, tx storage.Tx, settings *promokit.Settings, storeID string, now time.Time) (*Program, error) {
	out := &Program{StoreID: storeID, State: ProgramNotJoined, ProductRates: []ProductRate{}}
	m, err := tx.MembershipGetLatest(ctx, storeID, false)
	if isNotFound(err) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	pol, loc := settings.Policy.Affiliate, settings.Location()
	out.Membership = m
	switch {
	case m.ExitsAt == nil:
		out.State = ProgramJoined
		from := exitFrom(m, pol, loc)
		out.ExitFrom = &from
	case now.Before(*m.ExitsAt):
		out.State = ProgramExiting
	default:
		out.State = ProgramExited
		from := rejoinFrom(m, pol, loc)
		out.RejoinFrom = &from
		return out, nil
	}
	// The rates in force: the general one and every product's own.
	hist, err := s.currentRates(ctx, tx, storeID)
	if err != nil {
		return nil, err
	}
	for _, r := range hist {
		switch {
		case r.ProductID == "":
			out.Rate = &r.Rate
		case !r.Removed:
			out.ProductRates = append(out.ProductRates, ProductRate{ProductID: r.ProductID, Rate: r.Rate, EffectiveAt: r.EffectiveAt})
		}
	}
	slices.SortFunc(out.ProductRates, func(a, b ProductRate) int { return cmp.Compare(a.ProductID, b.ProductID) })
	return out, nil
}

// currentRates returns the latest rate row of the general rate and of each
// product, read newest first from the history.
func (s *Service) currentRates(ctx context.Context, tx storage.Tx, storeID string) ([]*promokit.Rate, error) {
	seen := map[string]bool{}
	var out []*promokit.Rate
	page := storage.IDPage{Limit: 1000}
	for len(seen) <= maxRateProducts {
		rs, err := tx.RateList(ctx, storeID, page)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			if !seen[r.ProductID] {
				seen[r.ProductID] = true
				out = append(out, r)
			}
		}
		if len(rs) < page.Limit {
			break
		}
		page.After = rs[len(rs)-1].ID
	}
	return out, nil
}

// SetRate sets the general rate (productID "") or a product's own rate,
// in force from now; the orders placed before keep the rate of their time
// (A4). removed ends a product's own rate, which then takes the general
// one again. Only a member store may change its rates.
func (s *Service) SetRate(ctx context.Context, storeID, productID string, in RateInput, removed bool) (*Program, error) {
	if _, err := sellerOf(ctx, storeID); err != nil {
		return nil, err
	}
	var v promokit.Validation
	switch {
	case removed && productID == "":
		v.Add("product_id", "required", "only a product's own rate can be removed; the general rate can only be changed")
	case removed:
	case in.Rate == nil:
		v.Add("rate_bp", "required", "rate_bp is required")
	case productID == "" && (*in.Rate < MinGeneralRate || *in.Rate > MaxRate):
		v.Add("rate_bp", "out_of_range", "the general rate_bp must be between %d and %d", MinGeneralRate, MaxRate)
	case *in.Rate < MinProductRate || *in.Rate > MaxRate:
		v.Add("rate_bp", "out_of_range", "a product's rate_bp must be between %d (no commission) and %d", MinProductRate, MaxRate)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.changeProgram(ctx, storeID, func(tx storage.Tx, _ *promokit.Store, _ *promokit.Settings, now time.Time) error {
		m, err := tx.MembershipGetLatest(ctx, storeID, true)
		if isNotFound(err) || err == nil && !m.ActiveAt(now) {
			return promokit.Errorf(promokit.EConflict, "store %q is not in the affiliate program", storeID)
		}
		if err != nil {
			return err
		}
		if productID != "" {
			if _, err := tx.ProductGet(ctx, storeID, productID); err != nil {
				return err
			}
		}
		r := &promokit.Rate{StoreID: storeID, ProductID: productID, Removed: removed, EffectiveAt: now}
		if !removed {
			r.Rate = *in.Rate
		}
		return tx.RateAdd(ctx, r)
	})
}

// ListRates returns a store's rate history, newest first.
func (s *Service) ListRates(ctx context.Context, storeID string, page storage.Page) ([]*promokit.Rate, error) {
	if _, err := sellerOf(ctx, storeID); err != nil {
		return nil, err
	}
	page.Bound()
	p, err := idPage(page)
	if err != nil {
		return nil, err
	}
	var out []*promokit.Rate
	err = s.read(ctx, func(tx storage.Tx) error {
		if _, err := tx.StoreGet(ctx, storeID, false); err != nil {
			return err
		}
		var err error
		out, err = tx.RateList(ctx, storeID, p)
		return err
	})
	return out, err
}
