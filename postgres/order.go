package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// This file holds the orders the order system reports and the events
// applied to them (migration 0007). An order's lines and payment plan are
// jsonb columns, always read and written with the order.

const orderColumns = `store_id, id, customer_id, visitor_id, currency, lines, shipping, codes, payment, state, paid,
	refunded_shipping, placed_at, paid_at, completed_at, cancelled_at, program, link_id, partner_id, click_id, clicked_at,
	release_at, released, version, created_at, updated_at, unredeemed_codes`

// OrderCreate inserts an order with its lines; storage.ErrExists when the store
// has an order with that id.
func (t *tx) OrderCreate(ctx context.Context, o *promokit.Order) error {
	lines, payment, err := encodeOrder(o)
	if err != nil {
		return err
	}
	program, linkID, partnerID, clickID, clickedAt := attributionArgs(o.Attribution)
	_, err = t.q.Exec(ctx, `INSERT INTO orders (`+orderColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)`,
		o.StoreID, o.ID, o.CustomerID, o.VisitorID, o.Currency, lines, o.Shipping, emptyIfNil(o.Codes), payment, o.State, o.Paid,
		o.RefundedShipping, o.PlacedAt, o.PaidAt, o.CompletedAt, o.CancelledAt,
		program, linkID, partnerID, clickID, clickedAt,
		o.ReleaseAt, o.Released, o.Version, o.CreatedAt, o.UpdatedAt, emptyIfNil(o.UnredeemedCodes))
	if err != nil {
		return createErr(err, "order", o.ID, "", "")
	}
	return nil
}

// OrderGet returns an order with its lines; with lock it locks the
// order's row (FOR UPDATE) until the transaction ends.
func (t *tx) OrderGet(ctx context.Context, storeID, id string, lock bool) (*promokit.Order, error) {
	sql := `SELECT ` + orderColumns + ` FROM orders WHERE store_id = $1 AND id = $2`
	if lock {
		sql += ` FOR UPDATE`
	}
	o, err := scanOrder(t.q.QueryRow(ctx, sql, storeID, id))
	if err != nil {
		return nil, scanErr(err, "order", id)
	}
	return o, nil
}

// OrderGetMany returns the store's orders among ids.
func (t *tx) OrderGetMany(ctx context.Context, storeID string, ids []string) ([]*promokit.Order, error) {
	return queryList(ctx, t.q, "orders", `SELECT `+orderColumns+` FROM orders WHERE store_id = $1 AND id = ANY($2)`,
		[]any{storeID, ids}, scanOrder)
}

// OrderUpdate writes every field of an order that its events change, if
// its stored version is still version, and sets o.Version to version+1.
// storage.ErrStale when another write came first or there is no such
// order.
func (t *tx) OrderUpdate(ctx context.Context, o *promokit.Order, version int64) error {
	lines, payment, err := encodeOrder(o)
	if err != nil {
		return err
	}
	program, linkID, partnerID, clickID, clickedAt := attributionArgs(o.Attribution)
	tag, err := t.q.Exec(ctx, `UPDATE orders SET
			lines = $4, payment = $5, state = $6, paid = $7, refunded_shipping = $8,
			paid_at = $9, completed_at = $10, cancelled_at = $11,
			program = $12, link_id = $13, partner_id = $14, click_id = $15, clicked_at = $16,
			release_at = $17, released = $18, updated_at = $19, version = $3 + 1
		WHERE store_id = $1 AND id = $2 AND version = $3`,
		o.StoreID, o.ID, version, lines, payment, o.State, o.Paid, o.RefundedShipping,
		o.PaidAt, o.CompletedAt, o.CancelledAt,
		program, linkID, partnerID, clickID, clickedAt,
		o.ReleaseAt, o.Released, o.UpdatedAt)
	if err != nil {
		return fmt.Errorf("postgres: update order %q: %w", o.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return storage.Stale("order", o.ID)
	}
	o.Version = version + 1
	return nil
}

// OrderList returns one page of the orders scope can see, by id: its
// store's, or those attributed to its partner.
//
// Without a store in scope the orders of all stores are listed by id, and
// the cursor (an order id alone) cannot tell apart two stores' orders that
// share an id: those after the first store's in the order of store ids
// are skipped at a page boundary.
func (t *tx) OrderList(ctx context.Context, scope promokit.Scope, p storage.Page) ([]*promokit.Order, error) {
	var w where
	if scope.StoreID != "" {
		w.add("store_id = ?", scope.StoreID)
	}
	if scope.PartnerID != "" {
		w.add("partner_id = ?", scope.PartnerID)
	}
	w.add("id > ?", p.After)
	return queryList(ctx, t.q, "orders", `SELECT `+orderColumns+` FROM orders`+w.sql()+` ORDER BY id, store_id LIMIT `+w.arg(p.Size()),
		w.args, scanOrder)
}

// OrderListDueRelease returns completed, uncancelled orders whose commissions are
// due at now and not released, the earliest due first.
func (t *tx) OrderListDueRelease(ctx context.Context, now time.Time, limit int) ([]*promokit.Order, error) {
	return queryList(ctx, t.q, "due releases", `SELECT `+orderColumns+` FROM orders
		WHERE completed_at IS NOT NULL AND NOT released AND cancelled_at IS NULL AND release_at <= $1
		ORDER BY release_at, store_id, id LIMIT $2`, []any{now, limit}, scanOrder)
}

// encodeOrder returns the JSON of an order's lines and payment plan.
func encodeOrder(o *promokit.Order) (lines, payment []byte, err error) {
	ls := o.Lines
	if ls == nil {
		ls = []promokit.OrderLine{}
	}
	if lines, err = json.Marshal(ls); err != nil {
		return nil, nil, fmt.Errorf("postgres: encode order lines: %w", err)
	}
	if payment, err = json.Marshal(o.Payment); err != nil {
		return nil, nil, fmt.Errorf("postgres: encode order payment: %w", err)
	}
	return lines, payment, nil
}

// attributionArgs returns the attribution columns of a, all NULL when a
// is nil.
func attributionArgs(a *promokit.Attribution) (program, linkID, partnerID *string, clickID *int64, clickedAt *time.Time) {
	if a == nil {
		return nil, nil, nil, nil, nil
	}
	return &a.Program, &a.LinkID, &a.PartnerID, &a.ClickID, &a.ClickedAt
}

func scanOrder(row pgx.Row) (*promokit.Order, error) {
	var (
		o                          promokit.Order
		lines, payment             []byte
		program, linkID, partnerID *string
		clickID                    *int64
		clickedAt                  *time.Time
	)
	if err := row.Scan(&o.StoreID, &o.ID, &o.CustomerID, &o.VisitorID, &o.Currency, &lines, &o.Shipping, &o.Codes, &payment,
		&o.State, &o.Paid, &o.RefundedShipping, &o.PlacedAt, &o.PaidAt, &o.CompletedAt, &o.CancelledAt,
		&program, &linkID, &partnerID, &clickID, &clickedAt,
		&o.ReleaseAt, &o.Released, &o.Version, &o.CreatedAt, &o.UpdatedAt, &o.UnredeemedCodes); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(lines, &o.Lines); err != nil {
		return nil, fmt.Errorf("decode lines of order %q: %w", o.ID, err)
	}
	if err := json.Unmarshal(payment, &o.Payment); err != nil {
		return nil, fmt.Errorf("decode payment of order %q: %w", o.ID, err)
	}
	if program != nil {
		a := &promokit.Attribution{Program: *program}
		if linkID != nil {
			a.LinkID = *linkID
		}
		if partnerID != nil {
			a.PartnerID = *partnerID
		}
		if clickID != nil {
			a.ClickID = *clickID
		}
		if clickedAt != nil {
			a.ClickedAt = *clickedAt
		}
		o.Attribution = a
	}
	return &o, nil
}

const orderEventColumns = `store_id, id, order_id, type, request_hash, at, created_at`

// OrderEventGet returns an applied event by its id.
func (t *tx) OrderEventGet(ctx context.Context, storeID, id string) (*promokit.OrderEvent, error) {
	var e promokit.OrderEvent
	err := t.q.QueryRow(ctx, `SELECT `+orderEventColumns+` FROM order_events WHERE store_id = $1 AND id = $2`, storeID, id).
		Scan(&e.StoreID, &e.ID, &e.OrderID, &e.Type, &e.RequestHash, &e.At, &e.CreatedAt)
	if err != nil {
		return nil, scanErr(err, "order event", id)
	}
	return &e, nil
}

// OrderEventCreate records an applied event; storage.ErrExists when the store
// has an event with that id.
func (t *tx) OrderEventCreate(ctx context.Context, e *promokit.OrderEvent) error {
	hash := e.RequestHash
	if hash == nil {
		hash = []byte{}
	}
	_, err := t.q.Exec(ctx, `INSERT INTO order_events (`+orderEventColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		e.StoreID, e.ID, e.OrderID, e.Type, hash, e.At, e.CreatedAt)
	if err != nil {
		return createErr(err, "order event", e.ID, "", "")
	}
	return nil
}
