package storage

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/promokit/promokit"
)

// CartsQuery is what CartReadMany reads.
type CartsQuery struct {
	Carts []CartOf
	// Now is the time of the stores' live automatic promotions.
	Now time.Time
	// Failures holds, by window, the subjects whose failed look-ups to
	// read.
	Failures map[time.Time][]string
}

// CartOf is a cart as CartReadMany reads it: its store, its customer's key
// ("" for none) and its codes.
type CartOf struct {
	StoreID     string
	CustomerKey string
	Codes       []string
}

// CartsData is what CartReadMany returns.
type CartsData struct {
	Settings *promokit.Settings
	// Stores holds, for each store of the carts, what CheckoutRead would
	// return for the codes of its carts; its Store is nil when there is no
	// such store.
	Stores map[string]*CheckoutData
	// Failures holds, by window, the counts of the subjects asked that
	// have one.
	Failures map[time.Time]map[string]int64
	// Usage holds the customers' counters that exist among, for each cart
	// with a customer: those of its codes' promotions, those of its codes
	// that have a per-customer limit, and those of its store's automatic
	// promotions that have one.
	Usage map[UsageKey]int64
}

// CheckoutData is what CheckoutRead returns.
type CheckoutData struct {
	Settings   *promokit.Settings
	Store      *promokit.Store // nil: no such store
	Prior      []*promokit.Redemption
	Codes      []*promokit.Code
	Promotions []*promokit.Promotion // of Codes
	// Automatic holds the store's automatic promotions live at the time
	// asked, by id, at most MaxQualify.
	Automatic []*promokit.Promotion
}

// CheckoutQuery is what CheckoutRead reads for the checkouts of one store:
// the redemptions of the orders among OrderIDs, the codes among Codes that
// the store owns with their promotions, and the store's automatic
// promotions live at Now.
type CheckoutQuery struct {
	StoreID  string
	OrderIDs []string
	Codes    []string
	Now      time.Time
}

// CheckoutReader is the ability of a Tx to read at once what the checkouts
// of one store need (CheckoutRead), in fewer round trips than
// CheckoutReadInTurn.
type CheckoutReader interface {
	CheckoutRead(ctx context.Context, q CheckoutQuery) (*CheckoutData, error)
}

// CheckoutRead reads what the checkouts of one store need: the settings,
// the store (nil when there is none, and then nothing else), the
// redemptions of the orders among q.OrderIDs (by id), the codes among
// q.Codes that the store owns with their promotions, and the store's
// automatic promotions live at q.Now (as PromotionListAutomatic reads
// them, at most promokit.MaxQualify, by id). It uses tx's CheckoutReader
// when it has one.
func CheckoutRead(ctx context.Context, tx Tx, q CheckoutQuery) (*CheckoutData, error) {
	if r, ok := tx.(CheckoutReader); ok {
		return r.CheckoutRead(ctx, q)
	}
	return CheckoutReadInTurn(ctx, tx, q)
}

// CheckoutReadInTurn is CheckoutRead made of tx's plain methods, one after
// another.
func CheckoutReadInTurn(ctx context.Context, tx Tx, q CheckoutQuery) (*CheckoutData, error) {
	var (
		d   CheckoutData
		err error
	)
	if d.Settings, err = tx.SettingsGet(ctx); err != nil {
		return nil, err
	}
	d.Store, err = tx.StoreGet(ctx, q.StoreID, false)
	if errors.Is(err, ErrNotFound) {
		return &d, nil
	}
	if err != nil {
		return nil, err
	}
	if len(q.OrderIDs) > 0 {
		if d.Prior, err = tx.RedemptionListByOrderMany(ctx, q.StoreID, q.OrderIDs); err != nil {
			return nil, err
		}
	}
	if d.Automatic, err = tx.PromotionListAutomatic(ctx, q.StoreID, q.Now, promokit.MaxQualify); err != nil {
		return nil, err
	}
	if len(q.Codes) == 0 {
		return &d, nil
	}
	scope := promokit.Scope{StoreID: q.StoreID}
	if d.Codes, err = tx.CodeGetMany(ctx, scope, q.Codes); err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range d.Codes {
		ids = appendNew(ids, c.PromotionID)
	}
	if len(ids) > 0 {
		d.Promotions, err = tx.PromotionGetMany(ctx, scope, ids)
	}
	return &d, err
}

// CartReader is the ability of a Tx to read at once what a batch of
// validated carts needs (CartReadMany), in fewer round trips than
// CartReadManyInTurn.
type CartReader interface {
	CartReadMany(ctx context.Context, q *CartsQuery) (*CartsData, error)
}

// CartReadMany reads at once what a batch of validated carts needs: what
// CheckoutRead reads of each store of the carts, for its carts' codes and
// without orders, the failed look-ups of q.Failures and the customers'
// counters of the carts (CartsData). It uses tx's CartReader when it has
// one.
func CartReadMany(ctx context.Context, tx Tx, q *CartsQuery) (*CartsData, error) {
	if r, ok := tx.(CartReader); ok {
		return r.CartReadMany(ctx, q)
	}
	return CartReadManyInTurn(ctx, tx, q)
}

// CartReadManyInTurn is CartReadMany made of tx's plain methods, one after
// another: the failed look-ups, each store's CheckoutReadInTurn, then the
// customers' counters.
func CartReadManyInTurn(ctx context.Context, tx Tx, q *CartsQuery) (*CartsData, error) {
	failures, err := LookupFailureGetWindows(ctx, tx, q.Failures)
	if err != nil {
		return nil, err
	}
	d := &CartsData{Stores: make(map[string]*CheckoutData), Failures: failures}
	codes := make(map[string]*promokit.Code)
	automatic := make(map[string][]*promokit.Promotion)
	for storeID, values := range CodesByStore(q.Carts) {
		cd, err := CheckoutReadInTurn(ctx, tx, CheckoutQuery{StoreID: storeID, Codes: values, Now: q.Now})
		if err != nil {
			return nil, err
		}
		d.Settings, d.Stores[storeID], automatic[storeID] = cd.Settings, cd, cd.Automatic
		for _, c := range cd.Codes {
			codes[c.Code] = c
		}
	}
	if keys := CartUsageKeys(q.Carts, codes, nil, automatic); len(keys) > 0 {
		if d.Usage, err = tx.UsageCustomerGetMany(ctx, keys); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// CodesByStore returns the distinct codes of carts, by store.
func CodesByStore(carts []CartOf) map[string][]string {
	out := make(map[string][]string)
	for _, c := range carts {
		out[c.StoreID] = appendNew(out[c.StoreID], c.Codes...)
	}
	return out
}

// appendNew appends to dst each of values that dst does not hold yet.
func appendNew(dst []string, values ...string) []string {
	for _, v := range values {
		if !slices.Contains(dst, v) {
			dst = append(dst, v)
		}
	}
	return dst
}

// CartUsageKeys returns, without repeats, the customers' counters that
// pricing the carts of `of` reads: for each cart with a customer, those of
// its codes (codes, by value) and of their promotions, and those of its
// store's automatic promotions, that have a per-customer limit. Only
// limited counters exist, and only they matter. perCustomer reports
// whether a promotion has one; nil when the codes' promotions are not read
// yet, and then every code's promotion is named: a counter that does not
// exist reads as none.
func CartUsageKeys(of []CartOf, codes map[string]*promokit.Code, perCustomer func(promotionID string) bool, automatic map[string][]*promokit.Promotion) []UsageKey {
	var keys []UsageKey
	seen := make(map[UsageKey]bool)
	add := func(k UsageKey) {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for _, u := range of {
		if u.CustomerKey == "" {
			continue
		}
		for _, v := range u.Codes {
			c, ok := codes[v]
			if !ok {
				continue
			}
			if perCustomer == nil || perCustomer(c.PromotionID) {
				add(promokit.PromotionUsageKey(c.PromotionID, u.CustomerKey))
			}
			if c.PerCustomerLimit != nil {
				add(promokit.CodeUsageKey(v, u.CustomerKey))
			}
		}
		for _, p := range automatic[u.StoreID] {
			if p.PerCustomer != nil {
				add(promokit.PromotionUsageKey(p.ID, u.CustomerKey))
			}
		}
	}
	return keys
}
