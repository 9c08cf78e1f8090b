package storage

import (
	"context"
	"time"

	"github.com/promokit/promokit"
)

// OrderTx reads and writes the orders the order system reports and the
// events it sent about them.
type OrderTx interface {
	// OrderCreate inserts an order with its lines; ErrExists when the
	// store has an order with that id.
	OrderCreate(ctx context.Context, o *promokit.Order) error
	// OrderGet returns an order with its lines; with lock it locks the
	// order's row until the transaction ends (FOR UPDATE on PostgreSQL),
	// which serialises the events of one order. ErrNotFound when missing.
	OrderGet(ctx context.Context, storeID, id string, lock bool) (*promokit.Order, error)
	// OrderGetMany returns the store's orders among ids, in any order,
	// leaving out the missing.
	OrderGetMany(ctx context.Context, storeID string, ids []string) ([]*promokit.Order, error)
	// OrderUpdate writes an order's state, payment, refunds (its own and
	// each line's), times and release if its stored version is still
	// version, and sets o.Version to version+1; ErrStale otherwise, whether
	// the order changed or does not exist.
	OrderUpdate(ctx context.Context, o *promokit.Order, version int64) error
	// OrderList lists a store's orders by id (scope's store when set).
	OrderList(ctx context.Context, scope promokit.Scope, p Page) ([]*promokit.Order, error)
	// OrderListDueRelease returns up to limit completed orders whose commissions
	// are not yet released and whose release time is at or before now.
	OrderListDueRelease(ctx context.Context, now time.Time, limit int) ([]*promokit.Order, error)
	// OrderEventGet returns an applied event by its id; ErrNotFound when
	// none.
	OrderEventGet(ctx context.Context, storeID, id string) (*promokit.OrderEvent, error)
	// OrderEventCreate records an applied event; ErrExists when the store
	// has an event with that id.
	OrderEventCreate(ctx context.Context, e *promokit.OrderEvent) error
}
