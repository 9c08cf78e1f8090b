package sqlite

import (
	"context"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// PlaceOrders writes a batch of placed orders one statement after another:
// SQLite runs them in the process, so a batch saves nothing but the
// transaction, which is what matters. A duplicate event or order is
// EConflict and the transaction must be rolled back.
func (t *tx) PlaceOrders(ctx context.Context, p engine.PlacedOrders) error {
	for _, e := range p.Events {
		if err := t.OrderEventCreate(ctx, e); err != nil {
			return err
		}
	}
	for _, o := range p.Orders {
		if err := t.OrderCreate(ctx, o); err != nil {
			return err
		}
	}
	for _, v := range p.Visitors {
		if err := t.VisitorAdd(ctx, v.StoreID, v.CustomerID, v.VisitorID, v.Seen); err != nil {
			return err
		}
	}
	return t.LedgerAddMany(ctx, p.Entries)
}

// placeRead reads what placing one order needs, query after query.
func (t *tx) placeRead(ctx context.Context, q engine.PlaceQuery) (*engine.PlaceData, error) {
	var d engine.PlaceData
	var err error
	if d.Settings, err = t.SettingsGet(ctx); err != nil {
		return nil, err
	}
	if d.Store, err = t.StoreGet(ctx, q.StoreID, false); err != nil {
		return &d, notFoundNil(err)
	}
	if d.Membership, err = t.MembershipGetLatest(ctx, q.StoreID, false); err != nil {
		return &d, notFoundNil(err)
	}
	if d.Rates, err = t.RateListAt(ctx, q.StoreID, q.At, q.ProductIDs); err != nil {
		return nil, err
	}
	visitors := []string{}
	if q.VisitorID != "" {
		visitors = append(visitors, q.VisitorID)
	}
	if q.CustomerID != "" {
		vs, err := t.VisitorList(ctx, q.StoreID, q.CustomerID, q.MaxVisitors)
		if err != nil {
			return nil, err
		}
		visitors = append(visitors, vs...)
	}
	from := q.From
	if from.Before(d.Membership.JoinedAt) {
		from = d.Membership.JoinedAt
	}
	if d.Click, err = t.ClickGetLatest(ctx, q.StoreID, visitors, from, q.At); err != nil {
		return &d, notFoundNil(err)
	}
	return &d, nil
}

// notFoundNil is nil for ENotFound and err otherwise.
func notFoundNil(err error) error {
	if promokit.ErrorCode(err) == promokit.ENotFound {
		return nil
	}
	return err
}

// PlaceReads runs placeRead for each query: SQLite answers in the
// process, so a batch saves no round trip.
func (t *tx) PlaceReads(ctx context.Context, qs []engine.PlaceQuery) ([]*engine.PlaceData, error) {
	out := make([]*engine.PlaceData, len(qs))
	for i, q := range qs {
		d, err := t.placeRead(ctx, q)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}
