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
		return storage.Exists("redemption of automatic promotion", r.PromotionID)
	}
	return storage.Exists("redemption of code", r.Code)
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
