package postgres

import (
	"context"
	"slices"

	"github.com/promokit/promokit/storage"
)

// The qualify and checkout queries, for their plan tests.
const (
	AutomaticPromotionsSQL = automaticPromotionsSQL
	CustomerCodesSQL       = customerCodesSQL
	OrderRedemptionsSQL    = orderRedemptionsSQL
)

// MigrateUpTo applies the migrations up to version and no further, as a
// database an earlier release migrated; Migrate applies the others later.
func (s *DB) MigrateUpTo(ctx context.Context, version int64) error {
	all := s.migrations
	defer func() { s.migrations = all }()
	s.migrations = slices.DeleteFunc(slices.Clone(all), func(m migration) bool { return m.version > version })
	return s.Migrate(ctx)
}

// PlanModes returns plan_cache_mode and enable_seqscan as the store's
// reads and writes see them and as its reads by key (tx.byKey) see them.
func (s *DB) PlanModes(ctx context.Context) (pool, keys string, err error) {
	const show = `SELECT current_setting('plan_cache_mode') || ' ' || current_setting('enable_seqscan')`
	if err := s.pool.QueryRow(ctx, show).Scan(&pool); err != nil {
		return "", "", err
	}
	err = s.keys.QueryRow(ctx, show).Scan(&keys)
	return pool, keys, err
}

// The checkout's other reads by key, for their plan tests.
const (
	CheckoutCodesSQL  = checkoutCodesSQL
	PromotionsByIDSQL = promotionsByIDSQL
	CustomerUsagesSQL = customerUsagesSQL
	LookupFailuresSQL = lookupFailuresSQL
)

// The statements of UsageTakeMany, which run with cached generic plans.
const (
	AddPromotionUsageSQL = addPromotionUsageSQL
	AddCodeUsageSQL      = addCodeUsageSQL
	AddCustomerUsageSQL  = addCustomerUsageSQL
	InsertRedemptionsSQL = insertRedemptionsSQL
)

// The statements of a batch of Idempotency-Key records, which run with
// cached generic plans too.
const (
	CreateIdempotenciesSQL   = createIdempotenciesSQL
	CompleteIdempotenciesSQL = completeIdempotenciesSQL
)

// PlanModesAfter runs write in a write transaction and returns
// plan_cache_mode and enable_seqscan as the statements after it in that
// transaction see them.
func (s *DB) PlanModesAfter(ctx context.Context, write func(context.Context, storage.Tx) error) (modes string, err error) {
	err = s.Write(ctx, func(etx storage.Tx) error {
		if err := write(ctx, etx); err != nil {
			return err
		}
		const show = `SELECT current_setting('plan_cache_mode') || ' ' || current_setting('enable_seqscan')`
		return etx.(*tx).q.QueryRow(ctx, show).Scan(&modes)
	})
	return modes, err
}

// The queries of a store's codes, for their plan tests.
var (
	CodeCountQuery       = codeCountQuery
	CodeListByStoreQuery = codeListByStoreQuery
)

// The counts of the charts of one promotion and one link, for their plan
// tests.
const (
	PromotionUsesSQL = promotionUsesSQL
	LinkStatsSQL     = linkStatsSQL
)
