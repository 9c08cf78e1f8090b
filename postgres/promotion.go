package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

const promotionColumns = `p.id, p.store_id, p.name, p.description, p.channel, p.type,
	p.amount_off, p.percent_off_bp, p.currency, p.min_order_amount, p.product_ids,
	p.starts_at, p.ends_at, p.total_uses, p.total_discount, p.per_customer,
	p.exclusive, p.priority, p.coupon_per_person, p.coupon_quantity, p.coupon_valid_days,
	p.active, p.ended_at, p.version, p.created_at, p.updated_at, p.uses, p.discount_spent, p.automatic`

// scanPromotion reads one row of promotionColumns.
func scanPromotion(row pgx.Row) (*promokit.Promotion, error) {
	var p promokit.Promotion
	var perPerson, quantity, validDays *int64
	err := row.Scan(&p.ID, &p.StoreID, &p.Name, &p.Description, &p.Channel, &p.Type,
		&p.AmountOff, &p.PercentOff, &p.Currency, &p.MinOrder, &p.ProductIDs,
		&p.StartsAt, &p.EndsAt, &p.TotalUses, &p.TotalDiscount, &p.PerCustomer,
		&p.Exclusive, &p.Priority, &perPerson, &quantity, &validDays,
		&p.Active, &p.EndedAt, &p.Version, &p.CreatedAt, &p.UpdatedAt, &p.Uses, &p.DiscountSpent, &p.Automatic)
	if err != nil {
		return nil, err
	}
	if len(p.ProductIDs) == 0 {
		p.ProductIDs = nil // storewide, as on SQLite
	}
	if perPerson != nil && quantity != nil && validDays != nil {
		p.Coupon = &promokit.CouponSettings{PerPerson: *perPerson, Quantity: *quantity, ValidDays: *validDays}
	}
	return &p, nil
}

// couponColumns returns the three coupon columns of p, all NULL without a coupon.
func couponColumns(p *promokit.Promotion) (perPerson, quantity, validDays *int64) {
	if c := p.Coupon; c != nil {
		return &c.PerPerson, &c.Quantity, &c.ValidDays
	}
	return nil, nil, nil
}

// PromotionCreate inserts a promotion with every field, counters and version
// included. storage.ErrExists when its id exists, storage.ErrNotFound when its
// store does not.
func (t *tx) PromotionCreate(ctx context.Context, p *promokit.Promotion) error {
	perPerson, quantity, validDays := couponColumns(p)
	_, err := t.q.Exec(ctx, `
		INSERT INTO promotions (id, store_id, name, description, channel, type,
			amount_off, percent_off_bp, currency, min_order_amount, product_ids,
			starts_at, ends_at, total_uses, total_discount, per_customer,
			exclusive, priority, coupon_per_person, coupon_quantity, coupon_valid_days,
			active, ended_at, version, created_at, updated_at, uses, discount_spent, automatic)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
			$15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29)`,
		p.ID, p.StoreID, p.Name, p.Description, p.Channel, p.Type,
		p.AmountOff, p.PercentOff, p.Currency, p.MinOrder, emptyIfNil(p.ProductIDs),
		p.StartsAt, p.EndsAt, p.TotalUses, p.TotalDiscount, p.PerCustomer,
		p.Exclusive, p.Priority, perPerson, quantity, validDays,
		p.Active, p.EndedAt, p.Version, p.CreatedAt, p.UpdatedAt, p.Uses, p.DiscountSpent, p.Automatic)
	if err != nil {
		return createErr(err, "promotion", p.ID, "store", p.StoreID)
	}
	return nil
}

// partnerSeesPromotion is the condition under which a partner, whose id
// is the parameter param, sees promotion p: a live code of p is assigned
// to the partner (storage.PromotionTx.PromotionGet). The test that
// partner_id is not empty lets PostgreSQL use the partial index of
// assigned codes.
func partnerSeesPromotion(param string) string {
	return "EXISTS (SELECT 1 FROM codes c WHERE c.promotion_id = p.id AND c.partner_id = " + param +
		" AND c.partner_id <> '' AND " + liveCode + ")"
}

// promotionInScope is the condition under which the scope whose store id
// is $2 and partner id $3 (either may be empty) sees promotion p.
var promotionInScope = "($2 = '' OR p.store_id = $2) AND ($3 = '' OR " + partnerSeesPromotion("$3") + ")"

// PromotionGet returns a promotion visible to scope: of the scope's store,
// or, for a partner scope, one with a code assigned to the partner.
// storage.ErrNotFound when there is none, or it is outside the scope.
func (t *tx) PromotionGet(ctx context.Context, scope promokit.Scope, id string) (*promokit.Promotion, error) {
	p, err := scanPromotion(t.q.QueryRow(ctx, `
		SELECT `+promotionColumns+` FROM promotions p
		WHERE p.id = $1
		AND `+promotionInScope+``,
		id, scope.StoreID, scope.PartnerID))
	if err != nil {
		return nil, scanErr(err, "promotion", id)
	}
	return p, nil
}

// PromotionUpdate replaces every field of p but its id, store, creation
// time and counters, if its stored version is still version, and sets
// p.Version to version+1. storage.ErrStale when another write came first
// or there is no such promotion.
func (t *tx) PromotionUpdate(ctx context.Context, p *promokit.Promotion, version int64) error {
	perPerson, quantity, validDays := couponColumns(p)
	tag, err := t.q.Exec(ctx, `
		UPDATE promotions SET
			name = $3, description = $4, channel = $5, type = $6,
			amount_off = $7, percent_off_bp = $8, currency = $9, min_order_amount = $10, product_ids = $11,
			starts_at = $12, ends_at = $13, total_uses = $14, total_discount = $15, per_customer = $16,
			exclusive = $17, priority = $18, coupon_per_person = $19, coupon_quantity = $20, coupon_valid_days = $21,
			active = $22, ended_at = $23, updated_at = $24, automatic = $25, version = $2 + 1
		WHERE id = $1 AND version = $2`,
		p.ID, version, p.Name, p.Description, p.Channel, p.Type,
		p.AmountOff, p.PercentOff, p.Currency, p.MinOrder, emptyIfNil(p.ProductIDs),
		p.StartsAt, p.EndsAt, p.TotalUses, p.TotalDiscount, p.PerCustomer,
		p.Exclusive, p.Priority, perPerson, quantity, validDays,
		p.Active, p.EndedAt, p.UpdatedAt, p.Automatic)
	if err != nil {
		return fmt.Errorf("postgres: update promotion %q: %w", p.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return storage.Stale("promotion", p.ID)
	}
	p.Version = version + 1
	return nil
}

// PromotionList returns a page of the promotions that scope can see and f
// selects, ordered by id. The status is evaluated at f.Now, in SQL, with
// the bounds of promokit.Status.Bounds.
func (t *tx) PromotionList(ctx context.Context, scope promokit.Scope, f storage.PromotionFilter) ([]*promokit.Promotion, error) {
	var w where
	if scope.StoreID != "" {
		w.add("p.store_id = ?", scope.StoreID)
	}
	if scope.PartnerID != "" {
		w.add(partnerSeesPromotion("?"), scope.PartnerID)
	}
	if f.StoreID != "" {
		w.add("p.store_id = ?", f.StoreID)
	}
	if f.Channel != "" {
		w.add("p.channel = ?", f.Channel)
	}
	if f.Status != "" {
		if err := filterStatus(&w, f.Status, f.Now); err != nil {
			return nil, err
		}
	}
	if f.Name != "" {
		// translate folds ASCII letters only, as SQLite's lower does:
		// lower would follow the database's locale.
		w.add("strpos(translate(p.name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), ?) > 0", f.Name)
	}
	if f.After != "" {
		w.add("p.id > ?", f.After)
	}
	sql := `SELECT ` + promotionColumns + ` FROM promotions p` + w.sql() + ` ORDER BY p.id LIMIT ` + w.arg(f.Page.Size())
	return queryList(ctx, t.q, "promotions", sql, w.args, scanPromotion)
}

// filterStatus adds the conditions of status at now: those of its bounds
// (promokit.Status.Bounds), which decide the status once for every
// database.
func filterStatus(w *where, status promokit.Status, now time.Time) error {
	b, err := status.Bounds(now)
	if err != nil {
		return err
	}
	at := w.arg(b.At)
	ended := "((p.ended_at IS NOT NULL AND p.ended_at <= " + at + ") OR (p.ends_at IS NOT NULL AND p.ends_at <= " + at + "))"
	if b.Ended {
		w.add(ended)
		return nil
	}
	w.add("NOT " + ended)
	switch {
	case b.Active == nil:
	case *b.Active:
		w.add("p.active")
	default:
		w.add("NOT p.active")
	}
	switch {
	case b.Started == nil:
	case *b.Started:
		w.add("p.starts_at <= " + at)
	default:
		w.add("p.starts_at > " + at)
	}
	return nil
}

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

// PromotionGetMany returns the promotions among ids that scope can see.
func (t *tx) PromotionGetMany(ctx context.Context, scope promokit.Scope, ids []string) ([]*promokit.Promotion, error) {
	return queryList(ctx, t.q, "promotions", `
		SELECT `+promotionColumns+` FROM promotions p
		WHERE p.id = ANY($1)
		AND `+promotionInScope+``,
		[]any{ids, scope.StoreID, scope.PartnerID}, scanPromotion)
}

// promotionsByIDSQL selects promotions by id ($1, an array). It names no
// store: a generic plan made on a store's few promotions would walk the
// store's promotions by store and filter them by id.
const promotionsByIDSQL = `SELECT ` + promotionColumns + ` FROM promotions p WHERE p.id = ANY($1)`
