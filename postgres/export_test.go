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
