package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// This file holds the orders the order system reports and the events
// applied to them (migration 0007). An order's lines, codes and payment
// plan are JSON columns, always read and written with the order.

const orderColumns = `store_id, id, customer_id, visitor_id, currency, lines, shipping, codes, payment, state, paid,
	refunded_shipping, placed_at, paid_at, completed_at, cancelled_at, program, link_id, partner_id, click_id, clicked_at,
	release_at, released, version, created_at, updated_at, unredeemed_codes`

// OrderCreate inserts an order with its lines; storage.ErrExists when the store
// has an order with that id.
func (t *tx) OrderCreate(ctx context.Context, o *promokit.Order) error {
	lines, codes, payment, err := encodeOrder(o)
	if err != nil {
		return err
	}
	unredeemed, err := encodeCodes(o.UnredeemedCodes)
	if err != nil {
		return err
	}
	program, linkID, partnerID, clickID, clickedAt := attributionArgs(o.Attribution)
	_, err = t.q.ExecContext(ctx, `INSERT INTO orders (`+orderColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.StoreID, o.ID, o.CustomerID, o.VisitorID, o.Currency, lines, o.Shipping, codes, payment, o.State, o.Paid,
		o.RefundedShipping, micros(o.PlacedAt), nullMicros(o.PaidAt), nullMicros(o.CompletedAt), nullMicros(o.CancelledAt),
		program, linkID, partnerID, clickID, clickedAt,
		nullMicros(o.ReleaseAt), boolInt(o.Released), o.Version, micros(o.CreatedAt), micros(o.UpdatedAt), unredeemed)
	if err != nil {
		if constraintViolation(err) == uniqueViolation {
			return storage.Exists("order", o.ID)
		}
		return fmt.Errorf("sqlite: create order %q: %w", o.ID, err)
	}
	return nil
}

// OrderGet returns an order with its lines. lock needs no work on SQLite:
// a write transaction already holds the only write lock.
func (t *tx) OrderGet(ctx context.Context, storeID, id string, lock bool) (*promokit.Order, error) {
	o, err := scanOrder(t.q.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE store_id = ? AND id = ?`, storeID, id))
	if err != nil {
		return nil, noRows(err, "order", id)
	}
	return o, nil
}

// OrderGetMany returns the store's orders among ids.
func (t *tx) OrderGetMany(ctx context.Context, storeID string, ids []string) ([]*promokit.Order, error) {
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("sqlite: encode order ids: %w", err)
	}
	return queryList(ctx, t, "orders", `SELECT `+orderColumns+` FROM orders
		WHERE store_id = ? AND id IN (SELECT value FROM json_each(?))`, []any{storeID, string(list)}, scanOrder)
}

// OrderUpdate writes every field of an order that its events change, if
// its stored version is still version, and sets o.Version to version+1.
// storage.ErrStale when another write came first or there is no such
// order.
func (t *tx) OrderUpdate(ctx context.Context, o *promokit.Order, version int64) error {
	lines, _, payment, err := encodeOrder(o)
	if err != nil {
		return err
	}
	program, linkID, partnerID, clickID, clickedAt := attributionArgs(o.Attribution)
	res, err := t.q.ExecContext(ctx, `UPDATE orders SET
		lines = ?, payment = ?, state = ?, paid = ?, refunded_shipping = ?, paid_at = ?, completed_at = ?, cancelled_at = ?,
		program = ?, link_id = ?, partner_id = ?, click_id = ?, clicked_at = ?,
		release_at = ?, released = ?, updated_at = ?, version = ?
		WHERE store_id = ? AND id = ? AND version = ?`,
		lines, payment, o.State, o.Paid, o.RefundedShipping, nullMicros(o.PaidAt), nullMicros(o.CompletedAt), nullMicros(o.CancelledAt),
		program, linkID, partnerID, clickID, clickedAt,
		nullMicros(o.ReleaseAt), boolInt(o.Released), micros(o.UpdatedAt), version+1,
		o.StoreID, o.ID, version)
	if err != nil {
		return fmt.Errorf("sqlite: update order %q: %w", o.ID, err)
	}
	if err := mustAffectStale(res, "order", o.ID); err != nil {
		return err
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
	return queryList(ctx, t, "orders", `SELECT `+orderColumns+` FROM orders`+w.String()+` ORDER BY id, store_id LIMIT ?`,
		append(w.args, p.Size()), scanOrder)
}

// OrderListDueRelease returns completed, uncancelled orders whose commissions are
// due at now and not released, the earliest due first.
func (t *tx) OrderListDueRelease(ctx context.Context, now time.Time, limit int) ([]*promokit.Order, error) {
	return queryList(ctx, t, "due releases", `SELECT `+orderColumns+` FROM orders
		WHERE completed_at IS NOT NULL AND released = 0 AND cancelled_at IS NULL AND release_at <= ?
		ORDER BY release_at, store_id, id LIMIT ?`, []any{micros(now), limit}, scanOrder)
}

// encodeOrder returns the JSON of an order's lines, codes and payment.
func encodeOrder(o *promokit.Order) (lines, codes, payment string, err error) {
	ls := o.Lines
	if ls == nil {
		ls = []promokit.OrderLine{}
	}
	cs := o.Codes
	if cs == nil {
		cs = []string{}
	}
	b1, err := json.Marshal(ls)
	if err != nil {
		return "", "", "", fmt.Errorf("sqlite: encode order lines: %w", err)
	}
	b2, err := json.Marshal(cs)
	if err != nil {
		return "", "", "", fmt.Errorf("sqlite: encode order codes: %w", err)
	}
	b3, err := json.Marshal(o.Payment)
	if err != nil {
		return "", "", "", fmt.Errorf("sqlite: encode order payment: %w", err)
	}
	return string(b1), string(b2), string(b3), nil
}

// encodeCodes returns the JSON of a list of code values.
func encodeCodes(cs []string) (string, error) {
	if cs == nil {
		cs = []string{}
	}
	b, err := json.Marshal(cs)
	if err != nil {
		return "", fmt.Errorf("sqlite: encode order codes: %w", err)
	}
	return string(b), nil
}

// attributionArgs returns the attribution columns of a, all NULL when a
// is nil.
func attributionArgs(a *promokit.Attribution) (program, linkID, partnerID, clickID, clickedAt any) {
	if a == nil {
		return nil, nil, nil, nil, nil
	}
	return a.Program, a.LinkID, a.PartnerID, a.ClickID, micros(a.ClickedAt)
}

func scanOrder(row scanner) (*promokit.Order, error) {
	var (
		o                             promokit.Order
		lines, codes, payment         string
		unredeemed                    string
		placed, created, updated      int64
		paid, completed, cancelled    sql.NullInt64
		program, linkID, partnerID    sql.NullString
		clickID, clickedAt, releaseAt sql.NullInt64
	)
	if err := row.Scan(&o.StoreID, &o.ID, &o.CustomerID, &o.VisitorID, &o.Currency, &lines, &o.Shipping, &codes, &payment,
		&o.State, &o.Paid, &o.RefundedShipping, &placed, &paid, &completed, &cancelled,
		&program, &linkID, &partnerID, &clickID, &clickedAt,
		&releaseAt, &o.Released, &o.Version, &created, &updated, &unredeemed); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(lines), &o.Lines); err != nil {
		return nil, fmt.Errorf("decode lines of order %q: %w", o.ID, err)
	}
	if err := json.Unmarshal([]byte(codes), &o.Codes); err != nil {
		return nil, fmt.Errorf("decode codes of order %q: %w", o.ID, err)
	}
	if err := json.Unmarshal([]byte(unredeemed), &o.UnredeemedCodes); err != nil {
		return nil, fmt.Errorf("decode unredeemed codes of order %q: %w", o.ID, err)
	}
	if err := json.Unmarshal([]byte(payment), &o.Payment); err != nil {
		return nil, fmt.Errorf("decode payment of order %q: %w", o.ID, err)
	}
	o.PlacedAt, o.CreatedAt, o.UpdatedAt = fromMicros(placed), fromMicros(created), fromMicros(updated)
	o.PaidAt, o.CompletedAt, o.CancelledAt, o.ReleaseAt = timePtr(paid), timePtr(completed), timePtr(cancelled), timePtr(releaseAt)
	if program.Valid {
		o.Attribution = &promokit.Attribution{Program: program.String, LinkID: linkID.String, PartnerID: partnerID.String,
			ClickID: clickID.Int64, ClickedAt: fromMicros(clickedAt.Int64)}
	}
	return &o, nil
}

const orderEventColumns = `store_id, id, order_id, type, request_hash, at, created_at`

// OrderEventGet returns an applied event by its id.
func (t *tx) OrderEventGet(ctx context.Context, storeID, id string) (*promokit.OrderEvent, error) {
	var (
		e           promokit.OrderEvent
		at, created int64
	)
	err := t.q.QueryRowContext(ctx, `SELECT `+orderEventColumns+` FROM order_events WHERE store_id = ? AND id = ?`, storeID, id).
		Scan(&e.StoreID, &e.ID, &e.OrderID, &e.Type, &e.RequestHash, &at, &created)
	if err != nil {
		return nil, noRows(err, "order event", id)
	}
	e.At, e.CreatedAt = fromMicros(at), fromMicros(created)
	return &e, nil
}

// OrderEventCreate records an applied event; storage.ErrExists when the store
// has an event with that id.
func (t *tx) OrderEventCreate(ctx context.Context, e *promokit.OrderEvent) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO order_events (`+orderEventColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.StoreID, e.ID, e.OrderID, e.Type, nonNil(e.RequestHash), micros(e.At), micros(e.CreatedAt))
	if err != nil {
		if constraintViolation(err) == uniqueViolation {
			return storage.Exists("order event", e.ID)
		}
		return fmt.Errorf("sqlite: create order event %q: %w", e.ID, err)
	}
	return nil
}
