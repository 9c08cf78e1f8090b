package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// UsagePromotionAdd adds to a promotion's counters within its limits: the
// condition is part of the UPDATE, which PostgreSQL re-evaluates on the
// latest row version after waiting for a concurrent writer.
func (t *tx) UsagePromotionAdd(ctx context.Context, id string, uses, discount int64) (bool, error) {
	tag, err := t.q.Exec(ctx, addPromotionUsageSQL, uses, discount, id)
	return affected(tag, err, "promotion usage")
}

const addPromotionUsageSQL = `UPDATE promotions SET uses = uses + $1, discount_spent = discount_spent + $2
	WHERE id = $3
	  AND ($1 <= 0 OR total_uses IS NULL OR uses + $1 <= total_uses)
	  AND ($2 <= 0 OR total_discount IS NULL OR discount_spent + $2 <= total_discount)`

// UsageCodeAdd adds to a code's counter within its usage_limit.
func (t *tx) UsageCodeAdd(ctx context.Context, code string, uses int64) (bool, error) {
	tag, err := t.q.Exec(ctx, addCodeUsageSQL, uses, code)
	return affected(tag, err, "code usage")
}

const addCodeUsageSQL = `UPDATE codes SET uses = uses + $1
	WHERE code = $2 AND ($1 <= 0 OR usage_limit IS NULL OR uses + $1 <= usage_limit)`

// UsageCustomerAdd adds to a customer's counter of a subject within limit.
// The insert that creates a counter has no condition, so uses past limit
// are refused before it (promokit.WithinLimit).
func (t *tx) UsageCustomerAdd(ctx context.Context, p storage.CustomerUse) (bool, error) {
	subject, customerKey, uses, limit := p.Subject, p.CustomerKey, p.Uses, p.Limit
	if !promokit.WithinLimit(uses, limit) {
		return false, nil // a first use past the limit: nothing to ask
	}
	tag, err := t.q.Exec(ctx, addCustomerUsageSQL, subject, customerKey, uses, limit)
	return affected(tag, err, "customer usage")
}

const addCustomerUsageSQL = `INSERT INTO customer_usage AS u (subject, customer_key, uses) VALUES ($1, $2, $3)
	ON CONFLICT (subject, customer_key) DO UPDATE SET uses = u.uses + excluded.uses
	WHERE $3 <= 0 OR $4::bigint IS NULL OR u.uses + excluded.uses <= $4::bigint`

// UsageCustomerGet returns a customer's uses of a subject.
func (t *tx) UsageCustomerGet(ctx context.Context, subject, customerKey string) (int64, error) {
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
			return promokit.Errorf(promokit.EConflict, "order %q already has a redemption of automatic promotion %s", r.OrderID, r.PromotionID)
		}
		return promokit.Errorf(promokit.EConflict, "order %q already has a redemption of code %s", r.OrderID, r.Code)
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

// PromotionGetMany returns the promotions among ids that scope can see.
func (t *tx) PromotionGetMany(ctx context.Context, scope promokit.Scope, ids []string) ([]*promokit.Promotion, error) {
	return queryList(ctx, t.q, "promotions", `
		SELECT `+promotionColumns+` FROM promotions p
		WHERE p.id = ANY($1)
		AND ($2 = '' OR p.store_id = $2)
		AND ($3 = '' OR EXISTS (SELECT 1 FROM codes c WHERE c.promotion_id = p.id AND c.partner_id = $3 AND c.partner_id <> '' AND `+liveCode+`))`,
		[]any{ids, scope.StoreID, scope.PartnerID}, scanPromotion)
}

// customerUsagesSQL selects customers' counters by subject ($1) and
// customer key ($2), two arrays of one length.
const customerUsagesSQL = `SELECT u.subject, u.customer_key, u.uses FROM customer_usage u
	JOIN unnest($1::text[], $2::text[]) AS k(subject, customer_key)
	  ON u.subject = k.subject AND u.customer_key = k.customer_key`

// UsageCustomerGetMany returns the customers' counters among keys, in one query.
func (t *tx) UsageCustomerGetMany(ctx context.Context, keys []storage.UsageKey) (map[storage.UsageKey]int64, error) {
	if len(keys) == 0 {
		return make(map[storage.UsageKey]int64), nil
	}
	subjects, customers := usageArrays(keys)
	rows, err := t.byKey().Query(ctx, customerUsagesSQL, subjects, customers)
	if err != nil {
		return nil, fmt.Errorf("postgres: customer usages: %w", err)
	}
	out, err := readUsages(rows, len(keys))
	if err != nil {
		return nil, fmt.Errorf("postgres: customer usages: %w", err)
	}
	return out, nil
}

// usageArrays returns the subjects and the customer keys of keys, the
// arguments of customerUsagesSQL.
func usageArrays(keys []storage.UsageKey) (subjects, customers []string) {
	subjects, customers = make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		subjects[i], customers[i] = k.Subject, k.CustomerKey
	}
	return subjects, customers
}

// readUsages reads the rows of customerUsagesSQL, for about n keys, and
// closes them.
func readUsages(rows pgx.Rows, n int) (map[storage.UsageKey]int64, error) {
	defer rows.Close()
	out := make(map[storage.UsageKey]int64, n)
	for rows.Next() {
		var (
			k    storage.UsageKey
			uses int64
		)
		if err := rows.Scan(&k.Subject, &k.CustomerKey, &uses); err != nil {
			return nil, err
		}
		out[k] = uses
	}
	return out, rows.Err()
}

// RedemptionListByOrderMany returns the redemptions of a store's orders.
func (t *tx) RedemptionListByOrderMany(ctx context.Context, storeID string, orderIDs []string) ([]*promokit.Redemption, error) {
	return queryList(ctx, t.q, "redemptions", orderRedemptionsSQL, []any{storeID, orderIDs}, scanRedemption)
}

// UsageTakeMany takes a batch's uses and inserts its redemptions with every
// statement sent in one round trip: the inserts first, then the
// conditional updates of the promotions, codes and customers. PostgreSQL
// runs them in order; a use that does not fit changes no row, and the
// caller rolls the transaction back. The inserts (one statement) lock no
// counter, so going first they keep the promotion's row, which every
// batch of a hot promotion waits for, locked only for the updates and the
// commit. The insert that creates a customer's counter has no condition:
// storage.UsageTakeMany has refused uses that take more than a limit
// from none (promokit.Uses.MayFit) before they come here.
func (t *tx) UsageTakeMany(ctx context.Context, u storage.Uses) (bool, error) {
	fit := true
	queue := func(b *pgx.Batch) {
		b.Queue(insertRedemptionsSQL, redemptionColumnsArgs(u.Redemptions)...)
		for _, p := range u.Promotions {
			b.Queue(addPromotionUsageSQL, p.Uses, p.Discount, p.ID)
		}
		for _, c := range u.Codes {
			if c.Code == "" {
				continue // codeless redemptions: no code counter
			}
			b.Queue(addCodeUsageSQL, c.Uses, c.Code)
		}
		for _, c := range u.Customers {
			b.Queue(addCustomerUsageSQL, c.Subject, c.CustomerKey, c.Uses, c.Limit)
		}
	}
	// The statements: the inserts, then the updates.
	err := sendWithGenericPlans(ctx, t.q, "take uses", queue, func(i int, br pgx.BatchResults) error {
		if i == 0 {
			return scanInserted(br, u.Redemptions)
		}
		tag, err := br.Exec()
		if err == nil && tag.RowsAffected() == 0 {
			fit = false
		}
		return err
	})
	return fit && err == nil, err
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
// that exists already fails the whole statement with EConflict, naming
// none: the caller finds which order by writing them one by one.
func scanInserted(br pgx.BatchResults, rs []*promokit.Redemption) error {
	err := scanInsertedRows(br, rs)
	if constraintViolation(err) == uniqueViolation {
		return promokit.Errorf(promokit.EConflict, "an order of the batch already has one of its redemptions")
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
			if promokit.ErrorCode(err) != promokit.EInternal {
				return err // the store's own refusal, such as EConflict
			}
			return fmt.Errorf("postgres: %s: %w", what, err)
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	return nil
}

// Savepoint runs fn inside a savepoint.
func (t *tx) Savepoint(ctx context.Context, fn func() error) error {
	if _, err := t.q.Exec(ctx, `SAVEPOINT redeem`); err != nil {
		return fmt.Errorf("postgres: savepoint: %w", err)
	}
	if err := fn(); err != nil {
		if _, rbErr := t.q.Exec(ctx, `ROLLBACK TO SAVEPOINT redeem`); rbErr != nil {
			return errors.Join(err, fmt.Errorf("postgres: rollback to savepoint: %w", rbErr))
		}
		if _, rbErr := t.q.Exec(ctx, `RELEASE SAVEPOINT redeem`); rbErr != nil {
			return errors.Join(err, fmt.Errorf("postgres: release savepoint: %w", rbErr))
		}
		return err
	}
	if _, err := t.q.Exec(ctx, `RELEASE SAVEPOINT redeem`); err != nil {
		return fmt.Errorf("postgres: release savepoint: %w", err)
	}
	return nil
}

// batchReads are queries to send in one round trip (sendBatch), each with
// the function that reads its results.
type batchReads struct {
	b     pgx.Batch
	reads []func(pgx.BatchResults) error
}

// queue adds a query and the function that reads its results.
func (r *batchReads) queue(read func(pgx.BatchResults) error, sql string, args ...any) {
	r.b.Queue(sql, args...)
	r.reads = append(r.reads, read)
}

// send sends the queries queued and reads their results; with none queued
// it sends nothing.
func (r *batchReads) send(ctx context.Context, q querier, what string) error {
	return sendBatch(ctx, q, &r.b, what, func(i int, br pgx.BatchResults) error { return r.reads[i](br) })
}

// queueStoreReads queues the reads by key of a store's checkout into d:
// the store (nil when there is none), its codes among codes and its live
// automatic promotions at now.
func queueStoreReads(r *batchReads, d *storage.CheckoutData, storeID string, codes []string, now time.Time) {
	r.queue(func(br pgx.BatchResults) (err error) {
		d.Store, err = scanStore(br.QueryRow())
		if errors.Is(err, pgx.ErrNoRows) {
			d.Store, err = nil, nil
		}
		return err
	}, `SELECT `+storeColumns+` FROM stores WHERE id = $1`, storeID)
	r.queue(func(br pgx.BatchResults) (err error) {
		d.Codes, err = collect(br, func(row pgx.Row) (*promokit.Code, error) {
			c := new(promokit.Code)
			return c, scanCode(row, c)
		})
		return err
	}, checkoutCodesSQL, codes, storeID)
	r.queue(func(br pgx.BatchResults) (err error) {
		d.Automatic, err = collect(br, scanPromotion)
		return err
	}, automaticPromotionsSQL, storeID, now, promokit.MaxQualify)
}

// CartReadMany reads what a batch of validated carts needs in two round
// trips on the pool of reads by key, whatever the number of stores: the
// settings, the failed look-ups and each store's row, codes and live
// automatic promotions first; then the codes' promotions, by the ids the
// codes hold, and the customers' counters (storage.CartUsageKeys).
func (t *tx) CartReadMany(ctx context.Context, q *storage.CartsQuery) (*storage.CartsData, error) {
	d := &storage.CartsData{
		Stores:   make(map[string]*storage.CheckoutData),
		Failures: make(map[time.Time]map[string]int64, len(q.Failures)),
	}
	var r batchReads
	r.queue(func(br pgx.BatchResults) (err error) {
		d.Settings, err = scanSettings(br.QueryRow())
		return err
	}, getSettingsSQL)
	for window, subjects := range q.Failures {
		counts := make(map[string]int64, len(subjects))
		d.Failures[window] = counts
		r.queue(func(br pgx.BatchResults) error {
			rows, err := br.Query()
			if err != nil {
				return err
			}
			return readFailures(rows, counts)
		}, lookupFailuresSQL, window, subjects)
	}
	for storeID, codes := range storage.CodesByStore(q.Carts) {
		cd := new(storage.CheckoutData)
		d.Stores[storeID] = cd
		queueStoreReads(&r, cd, storeID, codes, q.Now)
	}
	if err := r.send(ctx, t.byKey(), "cart reads"); err != nil {
		return nil, err
	}
	var (
		codes     = make(map[string]*promokit.Code)
		automatic = make(map[string][]*promokit.Promotion, len(d.Stores))
		ids       []string
	)
	for storeID, cd := range d.Stores {
		cd.Settings, automatic[storeID] = d.Settings, cd.Automatic
		for _, c := range cd.Codes {
			codes[c.Code] = c
			if !slices.Contains(ids, c.PromotionID) {
				ids = append(ids, c.PromotionID)
			}
		}
	}
	r = batchReads{}
	if len(ids) > 0 {
		r.queue(func(br pgx.BatchResults) error {
			list, err := collect(br, scanPromotion)
			for _, p := range list {
				// A code's promotion is of the code's store.
				if cd := d.Stores[p.StoreID]; cd != nil && slices.ContainsFunc(cd.Codes, func(c *promokit.Code) bool { return c.PromotionID == p.ID }) {
					cd.Promotions = append(cd.Promotions, p)
				}
			}
			return err
		}, promotionsByIDSQL, ids)
	}
	if keys := storage.CartUsageKeys(q.Carts, codes, nil, automatic); len(keys) > 0 {
		subjects, customers := usageArrays(keys)
		r.queue(func(br pgx.BatchResults) error {
			rows, err := br.Query()
			if err != nil {
				return err
			}
			d.Usage, err = readUsages(rows, len(keys))
			return err
		}, customerUsagesSQL, subjects, customers)
	}
	if err := r.send(ctx, t.byKey(), "cart reads"); err != nil {
		return nil, err
	}
	return d, nil
}

// checkoutCodesSQL selects a store's codes by value ($1, an array).
const checkoutCodesSQL = `SELECT ` + codeColumns + ` FROM codes c WHERE c.code = ANY($1) AND c.store_id = $2 AND ` + liveCode

// checkoutPromotionsSQL selects the promotions of a store's codes ($1, an
// array of values). The codes' promotion ids are found first, by the
// codes' key: as a plain IN subquery, the planner may walk the
// promotion's codes instead, all million of them.
const checkoutPromotionsSQL = `WITH ids AS MATERIALIZED (SELECT DISTINCT c.promotion_id FROM codes c WHERE c.code = ANY($1) AND c.store_id = $2 AND ` + liveCode + `)
	SELECT ` + promotionColumns + ` FROM promotions p JOIN ids ON ids.promotion_id = p.id WHERE p.store_id = $2`

// promotionsByIDSQL selects promotions by id ($1, an array). It names no
// store: a generic plan made on a store's few promotions would walk the
// store's promotions by store and filter them by id.
const promotionsByIDSQL = `SELECT ` + promotionColumns + ` FROM promotions p WHERE p.id = ANY($1)`

// CheckoutRead reads what the checkouts of one store need with every
// query sent in one round trip, the store's live automatic promotions
// among them (through their partial index). Inside a write (a redeem's)
// that is all; outside (a validate, a redeem batch's read) it runs on the
// pool of reads by key with cached plans (tx.byKey), and the codes'
// promotions follow in a second round trip.
func (t *tx) CheckoutRead(ctx context.Context, cq storage.CheckoutQuery) (*storage.CheckoutData, error) {
	storeID, orderIDs, codes, now := cq.StoreID, cq.OrderIDs, cq.Codes, cq.Now
	var (
		r batchReads
		d storage.CheckoutData
	)
	r.queue(func(br pgx.BatchResults) (err error) {
		d.Settings, err = scanSettings(br.QueryRow())
		return err
	}, getSettingsSQL)
	queueStoreReads(&r, &d, storeID, codes, now)
	if len(orderIDs) > 0 {
		r.queue(func(br pgx.BatchResults) (err error) {
			d.Prior, err = collect(br, scanRedemption)
			return err
		}, orderRedemptionsSQL, storeID, orderIDs)
	}
	q, inWrite := t.byKey(), t.keys == nil
	if len(orderIDs) > 0 && inWrite {
		// Inside the redeem's write the codes' promotions ride in the
		// one round trip.
		r.queue(func(br pgx.BatchResults) (err error) {
			d.Promotions, err = collect(br, scanPromotion)
			return err
		}, checkoutPromotionsSQL, codes, storeID)
	}
	err := r.send(ctx, q, "checkout read")
	if err != nil || len(orderIDs) > 0 && inWrite {
		return &d, err
	}
	// The codes' promotions are read by the ids the codes hold, in a
	// further round trip, rather than by looking the codes up again in
	// the first: the second look-up cost PostgreSQL half as much as the
	// first.
	var ids []string
	for _, c := range d.Codes {
		if !slices.Contains(ids, c.PromotionID) {
			ids = append(ids, c.PromotionID)
		}
	}
	if len(ids) == 0 {
		return &d, nil
	}
	list, err := queryList(ctx, q, "checkout promotions", promotionsByIDSQL, []any{ids}, scanPromotion)
	for _, p := range list {
		if p.StoreID == storeID { // a code's promotion is of the code's store
			d.Promotions = append(d.Promotions, p)
		}
	}
	return &d, err
}

// collect reads the rows of a batch's next query.
func collect[T any](br pgx.BatchResults, scan func(pgx.Row) (T, error)) ([]T, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
