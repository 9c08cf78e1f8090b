package engine

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// Nullable is a field of a partial update: absent leaves the value as it
// is, null clears it, a value sets it.
type Nullable[T any] struct {
	Set   bool // present in the request
	Null  bool // present as null
	Value T
}

// UnmarshalJSON records that the field was present, and whether as null.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	n.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		n.Null = true
		return nil
	}
	// Decode as strictly as the enclosing document: a decoder does not
	// pass its flags on to an Unmarshaler. Field names match exactly, and
	// unknown ones are refused.
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	dec.DontMatchCaseInsensitiveStructFields()
	return dec.Decode(&n.Value)
}

// apply writes n into *dst when n was set.
func applyPtr[T any](dst **T, n Nullable[T]) {
	switch {
	case !n.Set:
	case n.Null:
		*dst = nil
	default:
		v := n.Value
		*dst = &v
	}
}

// PromotionInput creates a promotion, or, with PATCH semantics, changes one:
// in an edit, absent fields keep their values.
type PromotionInput struct {
	StoreID       string                            `json:"store_id"`
	Name          *string                           `json:"name"`
	Description   *string                           `json:"description"`
	Channel       *promokit.Channel                 `json:"channel"`
	Type          *promokit.DiscountType            `json:"type"`
	AmountOff     *int64                            `json:"amount_off"`
	PercentOff    *promokit.BasisPoints             `json:"percent_off_bp"`
	MinOrder      *int64                            `json:"min_order_amount"`
	ProductIDs    *[]string                         `json:"product_ids"`
	StartsAt      *time.Time                        `json:"starts_at"`
	EndsAt        Nullable[time.Time]               `json:"ends_at"`
	TotalUses     Nullable[int64]                   `json:"total_uses"`
	TotalDiscount Nullable[int64]                   `json:"total_discount"`
	PerCustomer   Nullable[int64]                   `json:"per_customer"`
	Exclusive     *bool                             `json:"exclusive"`
	Priority      *int64                            `json:"priority"`
	Coupon        Nullable[promokit.CouponSettings] `json:"coupon"`
	Automatic     *bool                             `json:"automatic"`
	Active        *bool                             `json:"active"`
}

// apply writes the fields set in in onto p.
func (in *PromotionInput) apply(p *promokit.Promotion) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&p.Name, in.Name)
	set(&p.Description, in.Description)
	if in.Channel != nil {
		p.Channel = *in.Channel
	}
	if in.Type != nil {
		p.Type = *in.Type
		// Switching the type drops the other type's value.
		if p.Type == promokit.AmountOff {
			p.PercentOff = 0
		} else {
			p.AmountOff = 0
		}
	}
	if in.AmountOff != nil {
		p.AmountOff = *in.AmountOff
	}
	if in.PercentOff != nil {
		p.PercentOff = *in.PercentOff
	}
	if in.MinOrder != nil {
		p.MinOrder = *in.MinOrder
	}
	if in.ProductIDs != nil {
		p.ProductIDs = append([]string{}, (*in.ProductIDs)...)
	}
	if in.StartsAt != nil {
		p.StartsAt = in.StartsAt.UTC().Truncate(time.Microsecond)
	}
	if in.EndsAt.Set && !in.EndsAt.Null {
		in.EndsAt.Value = in.EndsAt.Value.UTC().Truncate(time.Microsecond)
	}
	applyPtr(&p.EndsAt, in.EndsAt)
	applyPtr(&p.TotalUses, in.TotalUses)
	applyPtr(&p.TotalDiscount, in.TotalDiscount)
	applyPtr(&p.PerCustomer, in.PerCustomer)
	if in.Exclusive != nil {
		p.Exclusive = *in.Exclusive
	}
	if in.Priority != nil {
		p.Priority = *in.Priority
	}
	applyPtr(&p.Coupon, in.Coupon)
	if in.Automatic != nil {
		p.Automatic = *in.Automatic
	}
	if in.Active != nil {
		p.Active = *in.Active
	}
}

// ownStore returns the store a seller acts for, or the store named in the
// request for the admin.
func ownStore(p promokit.Principal, requested string) (string, error) {
	if p.Role == promokit.RoleSeller {
		if requested != "" && requested != p.StoreID {
			return "", notFound("store", requested)
		}
		return p.StoreID, nil
	}
	if requested == "" {
		var v promokit.Validation
		v.Add("store_id", "required", "store_id is required")
		return "", v.Err()
	}
	return requested, nil
}

// CreatePromotion creates a promotion of a store: the admin for any store, a
// seller for its own. It starts now unless starts_at says otherwise, and is
// active unless active is false. Under P4 (a store running partner promo
// codes) its terms must respect the policy, or it is refused with the rule
// and the limit. Products in its scope must be products of its store.
func (s *Service) CreatePromotion(ctx context.Context, in PromotionInput) (*promokit.Promotion, error) {
	pr, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller)
	if err != nil {
		return nil, err
	}
	p, err := newPromotion(pr, in, s.now())
	if err != nil {
		return nil, err
	}
	err = s.write(ctx, func(tx storage.Tx) error {
		_, err := insertPromotion(ctx, tx, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// newPromotion returns the promotion that in creates for the caller pr at
// now, not yet checked against the database (insertPromotion).
func newPromotion(pr promokit.Principal, in PromotionInput, now time.Time) (*promokit.Promotion, error) {
	storeID, err := ownStore(pr, in.StoreID)
	if err != nil {
		return nil, err
	}
	p := &promokit.Promotion{
		ID: promokit.NewID(promokit.PrefixPromotion, now), StoreID: storeID,
		Channel: promokit.ChannelStore, StartsAt: now, Active: true, Version: 1,
		ProductIDs: []string{}, CreatedAt: now, UpdatedAt: now,
	}
	in.apply(p)
	if err := checkChannel(pr, p); err != nil {
		return nil, err
	}
	return p, nil
}

// insertPromotion checks the new promotion p against the settings, its
// store (locked, for the P4 quota of a code created with it) and its
// products, and inserts it. It returns what a code of p is checked
// against.
func insertPromotion(ctx context.Context, tx storage.Tx, p *promokit.Promotion) (*codeContext, error) {
	settings, err := tx.SettingsGet(ctx)
	if err != nil {
		return nil, err
	}
	p.Currency = settings.Currency
	if err := p.Validate(settings.Currency); err != nil {
		return nil, err
	}
	store, err := tx.StoreGet(ctx, p.StoreID, true)
	if err != nil {
		return nil, fieldNotFound(err, "store_id", "store", p.StoreID)
	}
	if store.PartnerPromoCodes {
		if err := promokit.CheckPartnerCodePolicy(p, settings.Policy.PartnerCodes, settings.Location()); err != nil {
			return nil, err
		}
	}
	if err := checkProducts(ctx, tx, p); err != nil {
		return nil, err
	}
	if err := tx.PromotionCreate(ctx, p); err != nil {
		return nil, err
	}
	return &codeContext{settings: settings, store: store, promo: p}, nil
}

// checkChannel refuses a seller a platform promotion (C1, R1): the
// marketplace funds it, so only the admin creates one or changes its
// terms.
func checkChannel(pr promokit.Principal, p *promokit.Promotion) error {
	if pr.Role == promokit.RoleSeller && p.Channel == promokit.ChannelPlatform {
		return promokit.Errorf(promokit.EForbidden, "a platform promotion is funded by the marketplace: only the admin may create one or change its terms")
	}
	return nil
}

func checkProducts(ctx context.Context, tx storage.Tx, p *promokit.Promotion) error {
	if len(p.ProductIDs) == 0 {
		return nil
	}
	missing, err := tx.ProductMissing(ctx, p.StoreID, p.ProductIDs)
	if err != nil || len(missing) == 0 {
		return err
	}
	var v promokit.Validation
	v.Add("product_ids", "unknown_product", "product %q is not a product of store %s", missing[0], p.StoreID)
	return v.Err()
}

// GetPromotion returns a promotion visible to the caller: any for the admin
// and unbound checkout keys; its store's for a seller or bound checkout key;
// for a partner, one it holds a code of. Anything else is not found.
func (s *Service) GetPromotion(ctx context.Context, id string) (*promokit.Promotion, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var pr *promokit.Promotion
	err = s.read(ctx, func(tx storage.Tx) error {
		pr, err = tx.PromotionGet(ctx, p.Scope(), id)
		return err
	})
	return pr, err
}

// maxNameFilter bounds the text a list of promotions is searched by.
const maxNameFilter = 200

// asciiLower returns s with its ASCII letters in lower case and every
// other byte as it is: the folding of PromotionFilter.Name.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// ListPromotions lists the promotions visible to the caller (see
// GetPromotion) that f selects, by id. f.Name matches a part of the name,
// ASCII letters in either case; longer than 200 bytes is EInvalid.
func (s *Service) ListPromotions(ctx context.Context, f storage.PromotionFilter) ([]*promokit.Promotion, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if f.Status != "" && !promokit.ValidStatus(f.Status) {
		var v promokit.Validation
		v.Add("status", "invalid", "status must be scheduled, active, inactive or ended")
		return nil, v.Err()
	}
	if len(f.Name) > maxNameFilter {
		var v promokit.Validation
		v.Add("name", "too_long", "name must be at most %d bytes", maxNameFilter)
		return nil, v.Err()
	}
	f.Name = asciiLower(f.Name)
	f.Now = s.now()
	f.Page.Bound()
	var list []*promokit.Promotion
	err = s.read(ctx, func(tx storage.Tx) error {
		list, err = tx.PromotionList(ctx, p.Scope(), f)
		return err
	})
	return list, err
}

// changePromotion loads a promotion the caller owns (admin: any), applies
// change to it and writes it back if its version is still version. A
// version of 0 skips the check, for flag changes that cannot lose an edit.
func (s *Service) changePromotion(ctx context.Context, id string, version int64, change func(tx storage.Tx, now time.Time, settings *promokit.Settings, store *promokit.Store, p *promokit.Promotion) error) (*promokit.Promotion, error) {
	pr, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller)
	if err != nil {
		return nil, err
	}
	var p *promokit.Promotion
	err = s.write(ctx, func(tx storage.Tx) error {
		if p, err = tx.PromotionGet(ctx, pr.Scope(), id); err != nil {
			return err
		}
		if version != 0 && p.Version != version {
			return promokit.Errorf(promokit.EVersionMismatch, "promotion %s is at version %d, not %d: read it again", id, p.Version, version)
		}
		settings, err := tx.SettingsGet(ctx)
		if err != nil {
			return err
		}
		store, err := tx.StoreGet(ctx, p.StoreID, true)
		if err != nil {
			return err
		}
		now := s.now()
		if err := change(tx, now, settings, store, p); err != nil {
			return err
		}
		p.UpdatedAt = now
		old := p.Version
		// p was read above: a stale update means another write came first.
		return changedSince(tx.PromotionUpdate(ctx, p, old), fmt.Sprintf("promotion %q", p.ID), old)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// EditPromotion changes a promotion's terms (C5): only before its start,
// never under P4, and only if it is still at version, so that two editors
// cannot overwrite each other. A seller may neither make a promotion a
// platform one nor change a platform promotion's terms (EForbidden).
func (s *Service) EditPromotion(ctx context.Context, id string, version int64, in PromotionInput) (*promokit.Promotion, error) {
	if in.StoreID != "" {
		var v promokit.Validation
		v.Add("store_id", "immutable", "a promotion cannot move to another store")
		return nil, v.Err()
	}
	pr, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	return s.changePromotion(ctx, id, version, func(tx storage.Tx, now time.Time, settings *promokit.Settings, store *promokit.Store, p *promokit.Promotion) error {
		if err := checkChannel(pr, p); err != nil {
			return err
		}
		if store.PartnerPromoCodes {
			return &promokit.Error{Code: promokit.EImmutable, Rule: "P4", Message: "a partner promo code cannot be modified once created; it can only be activated or deactivated"}
		}
		if !p.Editable(now) {
			return &promokit.Error{Code: promokit.EImmutable, Rule: "C5", Message: "a promotion can be edited until its start; after that only its status changes"}
		}
		if in.Automatic != nil && *in.Automatic != p.Automatic {
			// The kind is fixed at creation: a promotion with codes (or a
			// generation job under way) would keep them once automatic,
			// and an automatic one would start taking codes.
			var v promokit.Validation
			v.Add("automatic", "immutable", "a promotion is automatic, or uses codes, from its creation on")
			return v.Err()
		}
		in.apply(p)
		if err := checkChannel(pr, p); err != nil {
			return err
		}
		if in.StartsAt != nil && p.StartsAt.Before(now) {
			var v promokit.Validation
			v.Add("starts_at", "in_the_past", "starts_at cannot move into the past")
			return v.Err()
		}
		if err := p.Validate(settings.Currency); err != nil {
			return err
		}
		return checkProducts(ctx, tx, p)
	})
}

// SetPromotionActive activates or deactivates a promotion until its end.
func (s *Service) SetPromotionActive(ctx context.Context, id string, active bool) (*promokit.Promotion, error) {
	return s.changePromotion(ctx, id, 0, func(_ storage.Tx, now time.Time, _ *promokit.Settings, _ *promokit.Store, p *promokit.Promotion) error {
		if p.Ended(now) {
			return promokit.Errorf(promokit.EConflict, "promotion %s has ended", id)
		}
		p.Active = active
		return nil
	})
}

// EndPromotion ends a promotion now, for good.
func (s *Service) EndPromotion(ctx context.Context, id string) (*promokit.Promotion, error) {
	return s.changePromotion(ctx, id, 0, func(_ storage.Tx, now time.Time, _ *promokit.Settings, _ *promokit.Store, p *promokit.Promotion) error {
		if p.Ended(now) {
			return promokit.Errorf(promokit.EConflict, "promotion %s has already ended", id)
		}
		p.EndedAt = &now
		return nil
	})
}
