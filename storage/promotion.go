package storage

import (
	"context"
	"time"

	"github.com/promokit/promokit"
)

// PromotionTx reads and writes promotions. Scoped reads see a promotion of
// the scope's store or, for a partner, one with a live code assigned to it
// (a code of an import still under way is not live): the one rule of
// partner visibility, which each driver writes in one place.
type PromotionTx interface {
	PromotionCreate(ctx context.Context, p *promokit.Promotion) error
	// PromotionGet returns a promotion visible to scope: of the scope's
	// store, or, for a partner scope, one with a code assigned to it.
	PromotionGet(ctx context.Context, scope promokit.Scope, id string) (*promokit.Promotion, error)
	// PromotionUpdate replaces every editable field and the flags of p if
	// its stored version is still version, and sets p.Version to
	// version+1. ErrStale when another write came first or there is no
	// such promotion: the database does not tell which.
	PromotionUpdate(ctx context.Context, p *promokit.Promotion, version int64) error
	PromotionList(ctx context.Context, scope promokit.Scope, f PromotionFilter) ([]*promokit.Promotion, error)
	// PromotionGetMany returns the promotions among ids that scope can see,
	// in any order, leaving out the missing and the foreign.
	PromotionGetMany(ctx context.Context, scope promokit.Scope, ids []string) ([]*promokit.Promotion, error)
	// PromotionListAutomatic returns up to limit automatic promotions of a
	// store that are live at now (active, started, not ended), by id. It
	// reads a partial index of active automatic promotions, so the store's
	// promotions with codes cost nothing.
	PromotionListAutomatic(ctx context.Context, storeID string, now time.Time, limit int) ([]*promokit.Promotion, error)
}

// PromotionFilter selects promotions. Empty fields select everything. Status
// is evaluated at Now.
type PromotionFilter struct {
	StoreID string
	Channel promokit.Channel
	Status  promokit.Status
	// Name selects the promotions whose name contains it, ASCII letters
	// in either case (the engine passes it in lower case): the same
	// match on every database, whatever its collation.
	Name string
	Now  time.Time
	Page
}
