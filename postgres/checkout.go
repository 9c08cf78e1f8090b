package postgres

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

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
