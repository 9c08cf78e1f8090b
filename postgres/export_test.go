package postgres

import (
	"context"
	"slices"
)

// The qualify and checkout queries, for their plan tests.
const (
	AutomaticPromotionsSQL = automaticPromotionsSQL
	CustomerCodesSQL       = customerCodesSQL
	OrderRedemptionsSQL    = orderRedemptionsSQL
)

// MigrateUpTo applies the migrations up to version and no further, as a
// database an earlier release migrated; Migrate applies the others later.
func (s *Store) MigrateUpTo(ctx context.Context, version int64) error {
	all := s.migrations
	defer func() { s.migrations = all }()
	s.migrations = slices.DeleteFunc(slices.Clone(all), func(m migration) bool { return m.version > version })
	return s.Migrate(ctx)
}

// PlanModes returns plan_cache_mode as the store's reads and writes see it
// and as its reads by key (tx.byKey) see it.
func (s *Store) PlanModes(ctx context.Context) (pool, keys string, err error) {
	if err := s.pool.QueryRow(ctx, `SHOW plan_cache_mode`).Scan(&pool); err != nil {
		return "", "", err
	}
	err = s.keys.QueryRow(ctx, `SHOW plan_cache_mode`).Scan(&keys)
	return pool, keys, err
}

// CheckoutCodesSQL and CheckoutPromotionsSQL are the reads by key of a
// validate, for their plan tests.
const (
	CheckoutCodesSQL      = checkoutCodesSQL
	CheckoutPromotionsSQL = checkoutPromotionsSQL
)
