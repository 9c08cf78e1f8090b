package sqlite

import (
	"context"

	"github.com/promokit/promokit/engine"
)

// PlaceOrders writes a batch of placed orders one statement after another:
// SQLite runs them in the process, so a batch saves nothing but the
// transaction, which is what matters. A duplicate event or order is
// EConflict and the transaction must be rolled back.
func (t *tx) PlaceOrders(ctx context.Context, p engine.PlacedOrders) error {
	for _, e := range p.Events {
		if err := t.CreateOrderEvent(ctx, e); err != nil {
			return err
		}
	}
	for _, o := range p.Orders {
		if err := t.CreateOrder(ctx, o); err != nil {
			return err
		}
	}
	for _, v := range p.Visitors {
		if err := t.AddVisitor(ctx, v.CustomerID, v.VisitorID, v.Seen); err != nil {
			return err
		}
	}
	return t.AddEntries(ctx, p.Entries)
}
