package sqlite

import (
	"context"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// automaticPromotionsSQL selects a store's live automatic promotions. It
// repeats the predicate of the partial index promotions_automatic
// (automatic = 1 AND active = 1) so that SQLite can use it; the window is
// the one of promokit.Promotion.Status.
const automaticPromotionsSQL = `SELECT ` + promotionColumns + ` FROM promotions p
	WHERE p.store_id = ? AND p.automatic = 1 AND p.active = 1 AND p.starts_at <= ?
	AND (p.ends_at IS NULL OR p.ends_at > ?) AND (p.ended_at IS NULL OR p.ended_at > ?)
	ORDER BY p.id LIMIT ?`

// PromotionListAutomatic returns up to limit live automatic promotions of a
// store at now, by id.
func (t *tx) PromotionListAutomatic(ctx context.Context, storeID string, now time.Time, limit int) ([]*promokit.Promotion, error) {
	at := micros(now)
	return queryList(ctx, t, "automatic promotions", automaticPromotionsSQL, []any{storeID, at, at, at, limit}, scanPromotion)
}

// customerCodesSQL selects the live codes of a store restricted to a
// customer. It repeats the predicate of the partial index codes_customer
// (a non-empty customer_id) so that SQLite can use it; the promotion's
// window is checked on its primary key.
const customerCodesSQL = `SELECT ` + codeColumns + ` FROM codes c
	WHERE c.customer_id = ? AND c.customer_id <> '' AND c.store_id = ? AND c.active = 1
	AND (c.expires_at IS NULL OR c.expires_at > ?) AND ` + liveCode + `
	AND EXISTS (SELECT 1 FROM promotions p WHERE p.id = c.promotion_id AND p.active = 1 AND p.starts_at <= ?
		AND (p.ends_at IS NULL OR p.ends_at > ?) AND (p.ended_at IS NULL OR p.ended_at > ?))
	ORDER BY c.id LIMIT ?`

// CodeListForCustomer returns up to limit live codes of a store restricted to a
// customer, in creation order.
func (t *tx) CodeListForCustomer(ctx context.Context, p storage.CustomerCodesQuery) ([]*promokit.Code, error) {
	storeID, customerID, now, limit := p.StoreID, p.CustomerID, p.Now, p.Limit
	if customerID == "" {
		return nil, nil
	}
	at := micros(now)
	return queryList(ctx, t, "customer codes", customerCodesSQL, []any{customerID, storeID, at, at, at, at, limit}, scanCode)
}
