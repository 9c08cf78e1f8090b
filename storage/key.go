package storage

import (
	"context"
	"time"

	"github.com/promokit/promokit"
)

// KeyTx reads and writes API keys. A key is found by its id or by the hash
// of its secret; the secret itself is never stored.
type KeyTx interface {
	KeyCreate(ctx context.Context, k *promokit.Key) error
	KeyGet(ctx context.Context, id string) (*promokit.Key, error)
	KeyGetByHash(ctx context.Context, hash []byte) (*promokit.Key, error)
	KeyList(ctx context.Context, f KeyFilter) ([]*promokit.Key, error)
	// KeyRevoke sets revoked_at of an unrevoked key; ErrNotFound if there
	// is no such key or it is already revoked.
	KeyRevoke(ctx context.Context, id string, now time.Time) error
}

// KeyFilter selects keys.
type KeyFilter struct {
	StoreID   string
	PartnerID string
	Page
}
