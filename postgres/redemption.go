package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/promokit/promokit"
)

// AddPromotionUsage adds to a promotion's counters within its limits: the
// condition is part of the UPDATE, which PostgreSQL re-evaluates on the
// latest row version after waiting for a concurrent writer.
func (t *tx) AddPromotionUsage(ctx context.Context, id string, uses, discount int64) (bool, error) {
	tag, err := t.q.Exec(ctx, `UPDATE promotions SET uses = uses + $1, discount_spent = discount_spent + $2
		WHERE id = $3
		  AND ($1 <= 0 OR total_uses IS NULL OR uses + $1 <= total_uses)
		  AND ($2 <= 0 OR total_discount IS NULL OR discount_spent + $2 <= total_discount)`, uses, discount, id)
	return affected(tag, err, "promotion usage")
}

// AddCodeUsage adds to a code's counter within its usage_limit.
func (t *tx) AddCodeUsage(ctx context.Context, code string, uses int64) (bool, error) {
	tag, err := t.q.Exec(ctx, `UPDATE codes SET uses = uses + $1
		WHERE code = $2 AND ($1 <= 0 OR usage_limit IS NULL OR uses + $1 <= usage_limit)`, uses, code)
	return affected(tag, err, "code usage")
}

// AddCustomerUsage adds to a customer's counter of a subject within limit.
func (t *tx) AddCustomerUsage(ctx context.Context, subject, customerKey string, uses int64, limit *int64) (bool, error) {
	if limit != nil && uses > *limit {
		return false, nil
	}
	tag, err := t.q.Exec(ctx, `INSERT INTO customer_usage AS u (subject, customer_key, uses) VALUES ($1, $2, $3)
		ON CONFLICT (subject, customer_key) DO UPDATE SET uses = u.uses + excluded.uses
		WHERE $3 <= 0 OR $4::bigint IS NULL OR u.uses + excluded.uses <= $4::bigint`, subject, customerKey, uses, limit)
	return affected(tag, err, "customer usage")
}

// CustomerUsage returns a customer's uses of a subject.
func (t *tx) CustomerUsage(ctx context.Context, subject, customerKey string) (int64, error) {
	var n int64
	err := t.q.QueryRow(ctx, `SELECT uses FROM customer_usage WHERE subject = $1 AND customer_key = $2`, subject, customerKey).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: customer usage: %w", err)
	}
	return n, nil
}

const redemptionColumns = `id, store_id, order_id, code, promotion_id, customer_key, discount, state, request_hash, hold_until, created_at, updated_at`

// CreateRedemption inserts a redemption.
func (t *tx) CreateRedemption(ctx context.Context, r *promokit.Redemption) error {
	err := t.q.QueryRow(ctx, `INSERT INTO redemptions (store_id, order_id, code, promotion_id, customer_key, discount, state,
		request_hash, hold_until, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		r.StoreID, r.OrderID, r.Code, r.PromotionID, r.CustomerKey, r.Discount, r.State, r.RequestHash,
		r.HoldUntil, r.CreatedAt, r.UpdatedAt).Scan(&r.ID)
	if constraintViolation(err) == uniqueViolation {
		return promokit.Errorf(promokit.EConflict, "order %q already has a redemption of code %s", r.OrderID, r.Code)
	}
	if err != nil {
		return fmt.Errorf("postgres: create redemption: %w", err)
	}
	return nil
}

// OrderRedemptions returns an order's redemptions by id.
func (t *tx) OrderRedemptions(ctx context.Context, storeID, orderID string) ([]*promokit.Redemption, error) {
	return queryList(ctx, t.q, "redemptions", `SELECT `+redemptionColumns+` FROM redemptions
		WHERE store_id = $1 AND order_id = $2 ORDER BY id`, []any{storeID, orderID}, scanRedemption)
}

// SetRedemptionState moves a redemption from one state to another.
func (t *tx) SetRedemptionState(ctx context.Context, id int64, from, to string, holdUntil *time.Time, now time.Time) (bool, error) {
	tag, err := t.q.Exec(ctx, `UPDATE redemptions SET state = $1, hold_until = $2, updated_at = $3 WHERE id = $4 AND state = $5`,
		to, holdUntil, now, id, from)
	return affected(tag, err, "redemption state")
}

// ExpiredHolds returns held redemptions whose hold has ended.
func (t *tx) ExpiredHolds(ctx context.Context, now time.Time, limit int) ([]*promokit.Redemption, error) {
	return queryList(ctx, t.q, "expired holds", `SELECT `+redemptionColumns+` FROM redemptions
		WHERE state = 'held' AND hold_until <= $1 ORDER BY hold_until, id LIMIT $2`, []any{now, limit}, scanRedemption)
}

func scanRedemption(row pgx.Row) (*promokit.Redemption, error) {
	var r promokit.Redemption
	if err := row.Scan(&r.ID, &r.StoreID, &r.OrderID, &r.Code, &r.PromotionID, &r.CustomerKey, &r.Discount, &r.State,
		&r.RequestHash, &r.HoldUntil, &r.CreatedAt, &r.UpdatedAt); err != nil {
		return nil, err
	}
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	if r.HoldUntil != nil {
		h := r.HoldUntil.UTC()
		r.HoldUntil = &h
	}
	return &r, nil
}

// affected reports whether a statement changed a row.
func affected(tag pgconn.CommandTag, err error, what string) (bool, error) {
	if err != nil {
		return false, fmt.Errorf("postgres: %s: %w", what, err)
	}
	return tag.RowsAffected() > 0, nil
}
