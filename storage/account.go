package storage

import (
	"context"

	"github.com/promokit/promokit"
)

// AccountTx reads and writes the accounts of the marketplace: stores (the
// shops that sell), partners (who bring sales) and the products of each
// store.
type AccountTx interface {
	StoreCreate(ctx context.Context, s *promokit.Store) error
	// StoreGet returns a store; with lock it also locks the store's row
	// until the transaction ends (FOR UPDATE on PostgreSQL; SQLite's
	// writer is already exclusive), which serialises per-store quotas.
	StoreGet(ctx context.Context, id string, lock bool) (*promokit.Store, error)
	StoreList(ctx context.Context, p Page) ([]*promokit.Store, error)
	StoreUpdate(ctx context.Context, s *promokit.Store) error
	PartnerCreate(ctx context.Context, p *promokit.Partner) error
	PartnerGet(ctx context.Context, id string) (*promokit.Partner, error)
	PartnerList(ctx context.Context, p Page) ([]*promokit.Partner, error)
	// ProductPut inserts or replaces a product of a store.
	ProductPut(ctx context.Context, p *promokit.Product) error
	ProductGet(ctx context.Context, storeID, id string) (*promokit.Product, error)
	ProductList(ctx context.Context, storeID string, p Page) ([]*promokit.Product, error)
	// ProductMissing returns the ids among ids that are not products of the store.
	ProductMissing(ctx context.Context, storeID string, ids []string) ([]string, error)
}
