package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// automaticPromotionsSQL selects a store's live automatic promotions. The
// conditions automatic and active are those of the partial index
// promotions_automatic; the window is the one of
// promokit.Promotion.Status.
const automaticPromotionsSQL = `SELECT ` + promotionColumns + ` FROM promotions p
	WHERE p.store_id = $1 AND p.automatic AND p.active AND p.starts_at <= $2
	AND (p.ends_at IS NULL OR p.ends_at > $2) AND (p.ended_at IS NULL OR p.ended_at > $2)
	ORDER BY p.id LIMIT $3`

// PromotionListAutomatic returns up to limit live automatic promotions of a
// store at now, by id.
func (t *tx) PromotionListAutomatic(ctx context.Context, storeID string, now time.Time, limit int) ([]*promokit.Promotion, error) {
	return queryList(ctx, t.q, "automatic promotions", automaticPromotionsSQL, []any{storeID, now, limit}, scanPromotion)
}

// customerCodesSQL selects the live codes of a store restricted to a
// customer. It repeats the predicate of the partial index codes_customer
// (a non-empty customer_id), which a generic plan cannot prove from a
// parameter; the promotion's window is checked on its primary key.
const customerCodesSQL = `SELECT ` + codeColumns + ` FROM codes c
	WHERE c.customer_id = $1 AND c.customer_id <> '' AND c.store_id = $2 AND c.active
	AND (c.expires_at IS NULL OR c.expires_at > $3) AND ` + liveCode + `
	AND EXISTS (SELECT 1 FROM promotions p WHERE p.id = c.promotion_id AND p.active AND p.starts_at <= $3
		AND (p.ends_at IS NULL OR p.ends_at > $3) AND (p.ended_at IS NULL OR p.ended_at > $3))
	ORDER BY c.id LIMIT $4`

// CodeListForCustomer returns up to limit live codes of a store restricted to a
// customer, in creation order.
func (t *tx) CodeListForCustomer(ctx context.Context, p storage.CustomerCodesQuery) ([]*promokit.Code, error) {
	storeID, customerID, now, limit := p.StoreID, p.CustomerID, p.Now, p.Limit
	if customerID == "" {
		return nil, nil
	}
	return queryList(ctx, t.q, "customer codes", customerCodesSQL, []any{customerID, storeID, now, limit}, func(row pgx.Row) (*promokit.Code, error) {
		c := new(promokit.Code)
		if err := scanCode(row, c); err != nil {
			return nil, err
		}
		return c, nil
	})
}
