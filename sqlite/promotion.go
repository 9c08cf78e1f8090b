package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

const promotionColumns = `id, store_id, name, description, channel, type, amount_off, percent_off_bp, currency,
	min_order_amount, product_ids, starts_at, ends_at, total_uses, total_discount, per_customer, exclusive, priority,
	coupon_per_person, coupon_quantity, coupon_valid_days, active, ended_at, version, created_at, updated_at,
	uses, discount_spent, automatic`

// PromotionCreate inserts a promotion with every field, counters and version
// included. storage.ErrExists when its id exists, storage.ErrNotFound when its
// store does not.
func (t *tx) PromotionCreate(ctx context.Context, p *promokit.Promotion) error {
	productIDs, err := encodeProductIDs(p.ProductIDs)
	if err != nil {
		return err
	}
	perPerson, quantity, validDays := couponColumns(p.Coupon)
	_, err = t.q.ExecContext(ctx, `INSERT INTO promotions (`+promotionColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.StoreID, p.Name, p.Description, string(p.Channel), string(p.Type), p.AmountOff, int64(p.PercentOff), p.Currency,
		p.MinOrder, productIDs, micros(p.StartsAt), nullMicros(p.EndsAt), nullInt(p.TotalUses), nullInt(p.TotalDiscount), nullInt(p.PerCustomer),
		boolInt(p.Exclusive), p.Priority, perPerson, quantity, validDays, boolInt(p.Active), nullMicros(p.EndedAt), p.Version,
		micros(p.CreatedAt), micros(p.UpdatedAt), p.Uses, p.DiscountSpent, boolInt(p.Automatic))
	if err != nil {
		switch constraintViolation(err) {
		case uniqueViolation:
			return storage.Exists("promotion", p.ID)
		case foreignKeyViolation:
			return notFound("store", p.StoreID)
		}
		return fmt.Errorf("sqlite: create promotion %q: %w", p.ID, err)
	}
	return nil
}

// PromotionGet returns a promotion that scope can see: any for an empty scope,
// one of the scope's store for a store scope, and for a partner scope one with
// a code assigned to that partner. storage.ErrNotFound otherwise, so a foreign
// promotion cannot be told from a missing one.
func (t *tx) PromotionGet(ctx context.Context, scope promokit.Scope, id string) (*promokit.Promotion, error) {
	var w where
	w.add("p.id = ?", id)
	scopePromotions(&w, scope)
	q := `SELECT ` + promotionColumns + ` FROM promotions p` + w.String()
	p, err := scanPromotion(t.q.QueryRowContext(ctx, q, w.args...))
	if err != nil {
		return nil, noRows(err, "promotion", id)
	}
	return p, nil
}

// PromotionUpdate replaces the terms, limits, stacking, coupon settings,
// flags (active, ended_at) and updated_at of p if its stored version is
// still version, and sets p.Version to version+1. The store, creation time
// and the counters kept by redemptions are never written here. It returns
// storage.ErrStale when another write came first or there is no such
// promotion.
func (t *tx) PromotionUpdate(ctx context.Context, p *promokit.Promotion, version int64) error {
	productIDs, err := encodeProductIDs(p.ProductIDs)
	if err != nil {
		return err
	}
	perPerson, quantity, validDays := couponColumns(p.Coupon)
	res, err := t.q.ExecContext(ctx, `UPDATE promotions SET
		name = ?, description = ?, channel = ?, type = ?, amount_off = ?, percent_off_bp = ?, currency = ?,
		min_order_amount = ?, product_ids = ?, starts_at = ?, ends_at = ?, total_uses = ?, total_discount = ?,
		per_customer = ?, exclusive = ?, priority = ?, coupon_per_person = ?, coupon_quantity = ?,
		coupon_valid_days = ?, active = ?, ended_at = ?, version = ?, updated_at = ?, automatic = ?
		WHERE id = ? AND version = ?`,
		p.Name, p.Description, string(p.Channel), string(p.Type), p.AmountOff, int64(p.PercentOff), p.Currency,
		p.MinOrder, productIDs, micros(p.StartsAt), nullMicros(p.EndsAt), nullInt(p.TotalUses), nullInt(p.TotalDiscount),
		nullInt(p.PerCustomer), boolInt(p.Exclusive), p.Priority, perPerson, quantity,
		validDays, boolInt(p.Active), nullMicros(p.EndedAt), version+1, micros(p.UpdatedAt), boolInt(p.Automatic),
		p.ID, version)
	if err != nil {
		return fmt.Errorf("sqlite: update promotion %q: %w", p.ID, err)
	}
	if err := mustAffectStale(res, "promotion", p.ID); err != nil {
		return err
	}
	p.Version = version + 1
	return nil
}

// PromotionList returns one page, ordered by id, of the promotions that
// scope can see (as GetPromotion) and f selects. The status filter is
// evaluated at f.Now; an unknown status is EInvalid.
func (t *tx) PromotionList(ctx context.Context, scope promokit.Scope, f storage.PromotionFilter) ([]*promokit.Promotion, error) {
	var w where
	scopePromotions(&w, scope)
	if f.StoreID != "" {
		w.add("p.store_id = ?", f.StoreID)
	}
	if f.Channel != "" {
		w.add("p.channel = ?", string(f.Channel))
	}
	if f.Status != "" {
		if err := filterStatus(&w, f.Status, f.Now); err != nil {
			return nil, err
		}
	}
	if f.Name != "" {
		// SQLite's lower folds ASCII letters only, as the filter says.
		w.add("instr(lower(p.name), ?) > 0", f.Name)
	}
	if f.After != "" {
		w.add("p.id > ?", f.After)
	}
	q := `SELECT ` + promotionColumns + ` FROM promotions p` + w.String() + ` ORDER BY p.id LIMIT ?`
	return queryList(ctx, t, "promotions", q, append(w.args, f.Page.Size()), scanPromotion)
}

// scopePromotions restricts a query on promotions p to what scope can see.
func scopePromotions(w *where, scope promokit.Scope) {
	if scope.StoreID != "" {
		w.add("p.store_id = ?", scope.StoreID)
	}
	if scope.PartnerID != "" {
		// partner_id <> '' lets SQLite use the partial index codes_partner.
		w.add("EXISTS (SELECT 1 FROM codes c WHERE c.partner_id = ? AND c.partner_id <> '' AND c.promotion_id = p.id AND "+liveCode+")", scope.PartnerID)
	}
}

// filterStatus adds the conditions of status at now: those of its bounds
// (promokit.Status.Bounds), which decide the status once for every
// database.
func filterStatus(w *where, status promokit.Status, now time.Time) error {
	b, err := status.Bounds(now)
	if err != nil {
		return err
	}
	at := micros(b.At)
	const ended = `((p.ended_at IS NOT NULL AND p.ended_at <= ?) OR (p.ends_at IS NOT NULL AND p.ends_at <= ?))`
	if b.Ended {
		w.add(ended, at, at)
		return nil
	}
	w.add("NOT "+ended, at, at)
	switch {
	case b.Active == nil:
	case *b.Active:
		w.add("p.active = 1")
	default:
		w.add("p.active = 0")
	}
	switch {
	case b.Started == nil:
	case *b.Started:
		w.add("p.starts_at <= ?", at)
	default:
		w.add("p.starts_at > ?", at)
	}
	return nil
}

func scanPromotion(row scanner) (*promokit.Promotion, error) {
	var (
		p                                 promokit.Promotion
		channel, typ, productIDs          string
		percentOff                        int64
		startsAt, createdAt, updatedAt    int64
		endsAt, endedAt                   sql.NullInt64
		totalUses, totalDiscount, perCust sql.NullInt64
		perPerson, quantity, validDays    sql.NullInt64
	)
	err := row.Scan(&p.ID, &p.StoreID, &p.Name, &p.Description, &channel, &typ, &p.AmountOff, &percentOff, &p.Currency,
		&p.MinOrder, &productIDs, &startsAt, &endsAt, &totalUses, &totalDiscount, &perCust, &p.Exclusive, &p.Priority,
		&perPerson, &quantity, &validDays, &p.Active, &endedAt, &p.Version, &createdAt, &updatedAt,
		&p.Uses, &p.DiscountSpent, &p.Automatic)
	if err != nil {
		return nil, err
	}
	p.Channel = promokit.Channel(channel)
	p.Type = promokit.DiscountType(typ)
	p.PercentOff = promokit.BasisPoints(percentOff)
	if err := json.Unmarshal([]byte(productIDs), &p.ProductIDs); err != nil {
		return nil, fmt.Errorf("decode product_ids of promotion %q: %w", p.ID, err)
	}
	if len(p.ProductIDs) == 0 {
		p.ProductIDs = nil
	}
	p.StartsAt = fromMicros(startsAt)
	p.EndsAt = timePtr(endsAt)
	p.TotalUses = intPtr(totalUses)
	p.TotalDiscount = intPtr(totalDiscount)
	p.PerCustomer = intPtr(perCust)
	if perPerson.Valid {
		p.Coupon = &promokit.CouponSettings{PerPerson: perPerson.Int64, Quantity: quantity.Int64, ValidDays: validDays.Int64}
	}
	p.EndedAt = timePtr(endedAt)
	p.CreatedAt = fromMicros(createdAt)
	p.UpdatedAt = fromMicros(updatedAt)
	return &p, nil
}

// encodeProductIDs returns ids as a JSON array, "[]" for none.
func encodeProductIDs(ids []string) (string, error) {
	if len(ids) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(ids)
	if err != nil {
		return "", fmt.Errorf("sqlite: encode product_ids: %w", err)
	}
	return string(b), nil
}

// couponColumns returns the three coupon columns of c, all NULL for nil.
func couponColumns(c *promokit.CouponSettings) (perPerson, quantity, validDays any) {
	if c == nil {
		return nil, nil, nil
	}
	return c.PerPerson, c.Quantity, c.ValidDays
}

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

// PromotionGetMany returns the promotions among ids that scope can see.
func (t *tx) PromotionGetMany(ctx context.Context, scope promokit.Scope, ids []string) ([]*promokit.Promotion, error) {
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("sqlite: encode promotion ids: %w", err)
	}
	var w where
	w.add("p.id IN (SELECT value FROM json_each(?))", string(list))
	scopePromotions(&w, scope)
	return queryList(ctx, t, "promotions", `SELECT `+promotionColumns+` FROM promotions p`+w.String(), w.args, scanPromotion)
}
