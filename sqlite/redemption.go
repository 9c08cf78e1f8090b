package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// UsagePromotionAdd adds to a promotion's counters within its limits.
func (t *tx) UsagePromotionAdd(ctx context.Context, id string, uses, discount int64) (bool, error) {
	res, err := t.q.ExecContext(ctx, `UPDATE promotions SET uses = uses + ?1, discount_spent = discount_spent + ?2
		WHERE id = ?3
		  AND (?1 <= 0 OR total_uses IS NULL OR uses + ?1 <= total_uses)
		  AND (?2 <= 0 OR total_discount IS NULL OR discount_spent + ?2 <= total_discount)`, uses, discount, id)
	return affected(res, err, "promotion usage")
}

// UsageCodeAdd adds to a code's counter within its usage_limit.
func (t *tx) UsageCodeAdd(ctx context.Context, code string, uses int64) (bool, error) {
	res, err := t.q.ExecContext(ctx, `UPDATE codes SET uses = uses + ?1
		WHERE code = ?2 AND (?1 <= 0 OR usage_limit IS NULL OR uses + ?1 <= usage_limit)`, uses, code)
	return affected(res, err, "code usage")
}

// UsageCustomerAdd adds to a customer's counter of a subject within limit.
// The insert that creates a counter has no condition, so uses past limit
// are refused before it (promokit.WithinLimit).
func (t *tx) UsageCustomerAdd(ctx context.Context, p storage.CustomerUse) (bool, error) {
	subject, customerKey, uses, limit := p.Subject, p.CustomerKey, p.Uses, p.Limit
	if !promokit.WithinLimit(uses, limit) {
		return false, nil // a first use past the limit: nothing to ask
	}
	var lim sql.NullInt64
	if limit != nil {
		lim = sql.NullInt64{Int64: *limit, Valid: true}
	}
	res, err := t.q.ExecContext(ctx, `INSERT INTO customer_usage (subject, customer_key, uses) VALUES (?1, ?2, ?3)
		ON CONFLICT (subject, customer_key) DO UPDATE SET uses = customer_usage.uses + excluded.uses
		WHERE ?3 <= 0 OR ?4 IS NULL OR customer_usage.uses + excluded.uses <= ?4`, subject, customerKey, uses, lim)
	return affected(res, err, "customer usage")
}

// UsageCustomerGet returns a customer's uses of a subject.
func (t *tx) UsageCustomerGet(ctx context.Context, subject, customerKey string) (int64, error) {
	var n int64
	err := t.q.QueryRowContext(ctx, `SELECT uses FROM customer_usage WHERE subject = ? AND customer_key = ?`, subject, customerKey).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: customer usage: %w", err)
	}
	return n, nil
}

const redemptionColumns = `id, store_id, order_id, code, promotion_id, customer_key, discount, state, request_hash, hold_until, created_at, updated_at`

// RedemptionCreate inserts a redemption.
func (t *tx) RedemptionCreate(ctx context.Context, r *promokit.Redemption) error {
	err := t.q.QueryRowContext(ctx, `INSERT INTO redemptions (store_id, order_id, code, promotion_id, customer_key, discount, state,
		request_hash, hold_until, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		r.StoreID, r.OrderID, r.Code, r.PromotionID, r.CustomerKey, r.Discount, r.State, r.RequestHash,
		nullMicros(r.HoldUntil), micros(r.CreatedAt), micros(r.UpdatedAt)).Scan(&r.ID)
	if constraintViolation(err) == uniqueViolation {
		return redemptionConflict(r)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create redemption: %w", err)
	}
	return nil
}

// redemptionConflict is the error of a second redemption of a code, or of
// an automatic promotion, by one order.
func redemptionConflict(r *promokit.Redemption) error {
	if r.Code == "" {
		return promokit.Errorf(promokit.EConflict, "order %q already has a redemption of automatic promotion %s", r.OrderID, r.PromotionID)
	}
	return promokit.Errorf(promokit.EConflict, "order %q already has a redemption of code %s", r.OrderID, r.Code)
}

// orderRedemptionsSQL selects the redemptions of a store's orders, the
// order ids travelling as one JSON array (?2). An order's rows are found
// through the two partial unique indexes of migration 0006, one for rows
// with a code and one for codeless rows, so each half repeats the
// predicate of its index for SQLite to use it.
const orderRedemptionsSQL = `SELECT ` + redemptionColumns + ` FROM redemptions
	WHERE store_id = ?1 AND order_id IN (SELECT value FROM json_each(?2)) AND code <> ''
	UNION ALL
	SELECT ` + redemptionColumns + ` FROM redemptions
	WHERE store_id = ?1 AND order_id IN (SELECT value FROM json_each(?2)) AND code = ''
	ORDER BY id`

// RedemptionListByOrder returns an order's redemptions by id.
func (t *tx) RedemptionListByOrder(ctx context.Context, storeID, orderID string) ([]*promokit.Redemption, error) {
	return t.RedemptionListByOrderMany(ctx, storeID, []string{orderID})
}

// RedemptionSetState moves a redemption from one state to another.
func (t *tx) RedemptionSetState(ctx context.Context, p storage.RedemptionStateChange) (bool, error) {
	id, from, to, holdUntil, now := p.ID, p.From, p.To, p.HoldUntil, p.Now
	res, err := t.q.ExecContext(ctx, `UPDATE redemptions SET state = ?, hold_until = ?, updated_at = ? WHERE id = ? AND state = ?`,
		to, nullMicros(holdUntil), micros(now), id, from)
	return affected(res, err, "redemption state")
}

// RedemptionListExpiredHolds returns held redemptions whose hold has ended.
func (t *tx) RedemptionListExpiredHolds(ctx context.Context, now time.Time, limit int) ([]*promokit.Redemption, error) {
	return queryList(ctx, t, "expired holds", `SELECT `+redemptionColumns+` FROM redemptions
		WHERE state = 'held' AND hold_until <= ? ORDER BY hold_until, id LIMIT ?`, []any{micros(now), limit}, scanRedemption)
}

func scanRedemption(row scanner) (*promokit.Redemption, error) {
	var (
		r                    promokit.Redemption
		hold                 sql.NullInt64
		createdAt, updatedAt int64
	)
	if err := row.Scan(&r.ID, &r.StoreID, &r.OrderID, &r.Code, &r.PromotionID, &r.CustomerKey, &r.Discount, &r.State,
		&r.RequestHash, &hold, &createdAt, &updatedAt); err != nil {
		return nil, err
	}
	if hold.Valid {
		h := fromMicros(hold.Int64)
		r.HoldUntil = &h
	}
	r.CreatedAt, r.UpdatedAt = fromMicros(createdAt), fromMicros(updatedAt)
	return &r, nil
}

// affected reports whether an update changed a row.
func affected(res sql.Result, err error, what string) (bool, error) {
	if err != nil {
		return false, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return n > 0, nil
}

// PromotionGetMany returns the promotions among ids that scope can see.
func (t *tx) PromotionGetMany(ctx context.Context, scope promokit.Scope, ids []string) ([]*promokit.Promotion, error) {
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("sqlite: encode promotion ids: %w", err)
	}
	var w where
	w.add("p.id IN (SELECT value FROM json_each(?))", string(list))
	scopePromotions(&w, scope)
	return queryList(ctx, t, "promotions", `SELECT `+promotionColumns+` FROM promotions p`+w.String(), w.args, scanPromotion)
}

// UsageCustomerGetMany returns the customers' counters among keys in one query:
// the keys travel as one JSON array of [subject, customer] pairs, each
// looked up by the primary key.
func (t *tx) UsageCustomerGetMany(ctx context.Context, keys []storage.UsageKey) (map[storage.UsageKey]int64, error) {
	out := make(map[storage.UsageKey]int64, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	pairs := make([][2]string, len(keys))
	for i, k := range keys {
		pairs[i] = [2]string{k.Subject, k.CustomerKey}
	}
	list, err := json.Marshal(pairs)
	if err != nil {
		return nil, fmt.Errorf("sqlite: encode usage keys: %w", err)
	}
	rows, err := t.q.QueryContext(ctx, `SELECT u.subject, u.customer_key, u.uses
		FROM json_each(?) k CROSS JOIN customer_usage u
		WHERE u.subject = k.value ->> 0 AND u.customer_key = k.value ->> 1`, string(list))
	if err != nil {
		return nil, fmt.Errorf("sqlite: customer usages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k storage.UsageKey
			n int64
		)
		if err := rows.Scan(&k.Subject, &k.CustomerKey, &n); err != nil {
			return nil, fmt.Errorf("sqlite: customer usages: %w", err)
		}
		out[k] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: customer usages: %w", err)
	}
	return out, nil
}

// RedemptionListByOrderMany returns the redemptions of a store's orders, the
// order ids travelling as one JSON array.
func (t *tx) RedemptionListByOrderMany(ctx context.Context, storeID string, orderIDs []string) ([]*promokit.Redemption, error) {
	list, err := json.Marshal(orderIDs)
	if err != nil {
		return nil, fmt.Errorf("sqlite: encode order ids: %w", err)
	}
	return queryList(ctx, t, "redemptions", orderRedemptionsSQL, []any{storeID, string(list)}, scanRedemption)
}

// RedemptionCreateMany inserts redemptions, one prepared statement each: on
// the writer connection that costs less than one dynamic multi-row INSERT.
func (t *tx) RedemptionCreateMany(ctx context.Context, rs []*promokit.Redemption) error {
	for _, r := range rs {
		if err := t.RedemptionCreate(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// Savepoint runs fn inside a savepoint.
func (t *tx) Savepoint(ctx context.Context, fn func() error) error {
	if t.q.tx == nil {
		return errors.New("sqlite: savepoint outside a write transaction")
	}
	if _, err := t.q.ExecContext(ctx, `SAVEPOINT redeem`); err != nil {
		return fmt.Errorf("sqlite: savepoint: %w", err)
	}
	if err := fn(); err != nil {
		if _, rbErr := t.q.ExecContext(ctx, `ROLLBACK TO redeem`); rbErr != nil {
			return errors.Join(err, fmt.Errorf("sqlite: rollback to savepoint: %w", rbErr))
		}
		if _, rbErr := t.q.ExecContext(ctx, `RELEASE redeem`); rbErr != nil {
			return errors.Join(err, fmt.Errorf("sqlite: release savepoint: %w", rbErr))
		}
		return err
	}
	if _, err := t.q.ExecContext(ctx, `RELEASE redeem`); err != nil {
		return fmt.Errorf("sqlite: release savepoint: %w", err)
	}
	return nil
}
