package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

const redemptionColumns = `id, store_id, order_id, code, promotion_id, customer_key, discount, state, request_hash, hold_until, created_at, updated_at`

// RedemptionCreate inserts a redemption.
func (t *tx) RedemptionCreate(ctx context.Context, r *promokit.Redemption) error {
	return redemptionCreated(r, t.q.QueryRow(ctx, createRedemptionSQL, redemptionArgs(r)...).Scan(&r.ID))
}

const createRedemptionSQL = `INSERT INTO redemptions (store_id, order_id, code, promotion_id, customer_key, discount, state,
	request_hash, hold_until, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`

func redemptionArgs(r *promokit.Redemption) []any {
	return []any{r.StoreID, r.OrderID, r.Code, r.PromotionID, r.CustomerKey, r.Discount, r.State, r.RequestHash,
		r.HoldUntil, r.CreatedAt, r.UpdatedAt}
}

// redemptionCreated returns the error of inserting r.
func redemptionCreated(r *promokit.Redemption, err error) error {
	if constraintViolation(err) == uniqueViolation {
		if r.Code == "" {
			return storage.Exists("redemption of automatic promotion", r.PromotionID)
		}
		return storage.Exists("redemption of code", r.Code)
	}
	if err != nil {
		return fmt.Errorf("postgres: create redemption: %w", err)
	}
	return nil
}

// orderRedemptionsSQL selects the redemptions of a store's orders ($2, an
// array). An order's rows are found through the two partial unique
// indexes of migration 0006, one for rows with a code and one for
// codeless rows: each half repeats the predicate of its index, which a
// generic plan can then prove. The orders are joined laterally, one look-up
// of (store, order) each: with "order_id = ANY($2)" a generic plan made
// while the table was small looks the rows up by store alone and filters
// every row of the store.
const orderRedemptionsSQL = `SELECT r.* FROM (SELECT DISTINCT id FROM unnest($2::text[]) AS u(id)) AS o
	CROSS JOIN LATERAL (
	SELECT ` + redemptionColumns + ` FROM redemptions WHERE store_id = $1 AND order_id = o.id AND code <> ''
	UNION ALL
	SELECT ` + redemptionColumns + ` FROM redemptions WHERE store_id = $1 AND order_id = o.id AND code = ''
	) AS r
	ORDER BY r.id`

// RedemptionListByOrder returns an order's redemptions by id.
func (t *tx) RedemptionListByOrder(ctx context.Context, storeID, orderID string) ([]*promokit.Redemption, error) {
	return t.RedemptionListByOrderMany(ctx, storeID, []string{orderID})
}

// RedemptionSetState moves a redemption from one state to another.
func (t *tx) RedemptionSetState(ctx context.Context, p storage.RedemptionStateChange) (bool, error) {
	id, from, to, holdUntil, now := p.ID, p.From, p.To, p.HoldUntil, p.Now
	tag, err := t.q.Exec(ctx, `UPDATE redemptions SET state = $1, hold_until = $2, updated_at = $3 WHERE id = $4 AND state = $5`,
		to, holdUntil, now, id, from)
	return affected(tag, err, "redemption state")
}

// RedemptionListExpiredHolds returns held redemptions whose hold has ended.
func (t *tx) RedemptionListExpiredHolds(ctx context.Context, now time.Time, limit int) ([]*promokit.Redemption, error) {
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

// RedemptionListByOrderMany returns the redemptions of a store's orders.
func (t *tx) RedemptionListByOrderMany(ctx context.Context, storeID string, orderIDs []string) ([]*promokit.Redemption, error) {
	return queryList(ctx, t.q, "redemptions", orderRedemptionsSQL, []any{storeID, orderIDs}, scanRedemption)
}

// insertRedemptionsSQL inserts redemptions given column by column, as
// arrays (redemptionColumnsArgs): one statement for a whole batch.
const insertRedemptionsSQL = `INSERT INTO redemptions (store_id, order_id, code, promotion_id, customer_key, discount, state,
	request_hash, hold_until, created_at, updated_at)
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[],
		$8::bytea[], $9::timestamptz[], $10::timestamptz[], $11::timestamptz[])
	RETURNING id, store_id, order_id, code, promotion_id`

// redemptionColumnsArgs returns the arguments of insertRedemptionsSQL.
func redemptionColumnsArgs(rs []*promokit.Redemption) []any {
	var (
		stores, orders, codes, promotions, customers, states = make([]string, len(rs)), make([]string, len(rs)),
			make([]string, len(rs)), make([]string, len(rs)), make([]string, len(rs)), make([]string, len(rs))
		discounts        = make([]int64, len(rs))
		hashes           = make([][]byte, len(rs))
		holds            = make([]*time.Time, len(rs))
		created, updated = make([]time.Time, len(rs)), make([]time.Time, len(rs))
	)
	for i, r := range rs {
		stores[i], orders[i], codes[i], promotions[i], customers[i] = r.StoreID, r.OrderID, r.Code, r.PromotionID, r.CustomerKey
		discounts[i], states[i], hashes[i], holds[i] = r.Discount, r.State, r.RequestHash, r.HoldUntil
		created[i], updated[i] = r.CreatedAt, r.UpdatedAt
	}
	return []any{stores, orders, codes, promotions, customers, discounts, states, hashes, holds, created, updated}
}

// scanInserted sets the IDs of rs from the rows insertRedemptionsSQL
// returned, matched by store, order, code and promotion. A redemption
// that exists already fails the whole statement with storage.ErrExists, naming
// none: the caller finds which order by writing them one by one.
func scanInserted(br pgx.BatchResults, rs []*promokit.Redemption) error {
	err := scanInsertedRows(br, rs)
	if constraintViolation(err) == uniqueViolation {
		return storage.Exists("redemption", "")
	}
	return err
}

// scanInsertedRows is scanInserted before its errors are told apart.
func scanInsertedRows(br pgx.BatchResults, rs []*promokit.Redemption) error {
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	type key struct{ store, order, code, promotion string }
	at := make(map[key]*promokit.Redemption, len(rs))
	for _, r := range rs {
		at[key{r.StoreID, r.OrderID, r.Code, r.PromotionID}] = r
	}
	n := 0
	for rows.Next() {
		var (
			id int64
			k  key
		)
		if err := rows.Scan(&id, &k.store, &k.order, &k.code, &k.promotion); err != nil {
			return err
		}
		r, ok := at[k]
		if !ok {
			return fmt.Errorf("postgres: inserted a redemption not asked for: store %s, order %q, code %q, promotion %s", k.store, k.order, k.code, k.promotion)
		}
		r.ID = id
		n++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n != len(rs) {
		return fmt.Errorf("postgres: inserted %d redemptions of %d", n, len(rs))
	}
	return nil
}

// genericPlansSQL and connectionPlansSQL frame the statements of
// UsageTakeMany and of the Idempotency-Key records' batches
// (sendWithGenericPlans). The connections of Write plan every execution anew (Open:
// plan_cache_mode), which cost a hot redeem batch a third of
// PostgreSQL's CPU, all of it spent planning the same updates and inserts
// by key again and again. Inside the frame those statements keep one
// plan per connection, made without sequential scans, so that a plan
// made while a table was nearly empty still finds its row by key
// (TestQualifyPlans checks each one). The settings are local to the
// transaction (set_config's is_local, as SET LOCAL); RESET hands the
// statements that follow in it (an order written alone in a savepoint)
// back to the connection's settings.
const genericPlansSQL = `SELECT set_config('plan_cache_mode', 'force_generic_plan', true), set_config('enable_seqscan', 'off', true)`

var connectionPlansSQL = [...]string{`RESET plan_cache_mode`, `RESET enable_seqscan`}

// sendWithGenericPlans sends the statements that queue adds to a batch in
// one round trip, framed by genericPlansSQL and connectionPlansSQL, and
// reads the result of each of them, in order, with read; i counts queue's
// statements only.
func sendWithGenericPlans(ctx context.Context, q querier, what string, queue func(*pgx.Batch), read func(i int, br pgx.BatchResults) error) error {
	var b pgx.Batch
	b.Queue(genericPlansSQL)
	queue(&b)
	n := b.Len() - 1
	for _, sql := range connectionPlansSQL {
		b.Queue(sql)
	}
	return sendBatch(ctx, q, &b, what, func(i int, br pgx.BatchResults) error {
		if i == 0 || i > n {
			_, err := br.Exec()
			return err
		}
		return read(i-1, br)
	})
}

// RedemptionCreateMany inserts redemptions in one round trip.
func (t *tx) RedemptionCreateMany(ctx context.Context, rs []*promokit.Redemption) error {
	var b pgx.Batch
	for _, r := range rs {
		b.Queue(createRedemptionSQL, redemptionArgs(r)...)
	}
	return t.sendBatch(ctx, &b, "redemptions", func(i int, br pgx.BatchResults) error {
		return redemptionCreated(rs[i], br.QueryRow().Scan(&rs[i].ID))
	})
}

// sendBatch sends b and reads each of its results with read, in order.
func (t *tx) sendBatch(ctx context.Context, b *pgx.Batch, what string, read func(int, pgx.BatchResults) error) error {
	return sendBatch(ctx, t.q, b, what, read)
}

// sendBatch sends b on q; see tx.sendBatch.
func sendBatch(ctx context.Context, q querier, b *pgx.Batch, what string, read func(int, pgx.BatchResults) error) error {
	if b.Len() == 0 {
		return nil
	}
	br := q.SendBatch(ctx, b)
	for i := range b.Len() {
		if err := read(i, br); err != nil {
			_ = br.Close()
			var se *storage.Error
			if errors.As(err, &se) {
				return err // the database's own report, such as storage.ErrExists
			}
			return fmt.Errorf("postgres: %s: %w", what, err)
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	return nil
}
