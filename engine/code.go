package engine

import (
	"context"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// CodeInput creates a custom code, or, in a change, assigns or
// (de)activates one: absent fields keep their values.
type CodeInput struct {
	Code             string              `json:"code"`
	UsageLimit       Nullable[int64]     `json:"usage_limit"`
	PerCustomerLimit Nullable[int64]     `json:"per_customer_limit"`
	CustomerID       *string             `json:"customer_id"`
	PartnerID        *string             `json:"partner_id"`
	ExpiresAt        Nullable[time.Time] `json:"expires_at"`
	Active           *bool               `json:"active"`
}

// codeContext is what every code write checks against.
type codeContext struct {
	settings *promokit.Settings
	store    *promokit.Store
	promo    *promokit.Promotion
}

// loadForCodes loads, inside a write, the promotion the caller may add codes
// to (admin: any; seller: its store's), its store locked, and the settings.
func (s *Service) loadForCodes(ctx context.Context, tx storage.Tx, pr promokit.Principal, promotionID string, now time.Time) (*codeContext, error) {
	return s.readForCodes(ctx, tx, pr, promotionID, now, true)
}

// readForCodes is loadForCodes, with the store locked only with lock: a
// read does not lock.
func (s *Service) readForCodes(ctx context.Context, tx storage.Tx, pr promokit.Principal, promotionID string, now time.Time, lock bool) (*codeContext, error) {
	p, err := tx.PromotionGet(ctx, pr.Scope(), promotionID)
	if err != nil {
		return nil, err
	}
	if err := takesCodes(p, now); err != nil {
		return nil, err
	}
	store, err := tx.StoreGet(ctx, p.StoreID, lock)
	if err != nil {
		return nil, err
	}
	settings, err := tx.SettingsGet(ctx)
	if err != nil {
		return nil, err
	}
	return &codeContext{settings: settings, store: store, promo: p}, nil
}

// takesCodes refuses new codes of a promotion that has ended or that
// applies without a code.
func takesCodes(p *promokit.Promotion, now time.Time) error {
	if p.Ended(now) {
		return promokit.Errorf(promokit.EConflict, "promotion %s has ended: it takes no new codes", p.ID)
	}
	if p.Automatic {
		return promokit.Errorf(promokit.EAutomatic, "promotion %s is automatic: it applies without a code and takes no codes", p.ID)
	}
	return nil
}

// checkQuota enforces P4's rolling quota of codes per store: adding n codes
// must keep the codes created in the window at or under the limit. The
// refusal's current value is the number of codes the window holds, not
// counting the n asked for. The store row is locked by loadForCodes, so
// two writers cannot both pass.
func (s *Service) checkQuota(ctx context.Context, tx storage.Tx, cc *codeContext, now time.Time, n int64) error {
	if !cc.store.PartnerPromoCodes {
		return nil
	}
	pol := cc.settings.Policy.PartnerCodes
	count, err := tx.CodeCount(ctx, storage.CodeCount{StoreID: cc.store.ID, Since: quotaSince(pol, now)})
	if err != nil {
		return err
	}
	if count+n > pol.MaxCodesPerWindow {
		return promokit.PolicyError("P4", pol.MaxCodesPerWindow, count,
			"at most %d codes may be created in any %d days under P4: %d were created in the last %d days, so %d more cannot be",
			pol.MaxCodesPerWindow, pol.WindowDays, count, pol.WindowDays, n)
	}
	return nil
}

// checkCodeLimits enforces P4's per-code limits on a code's own settings.
func checkCodeLimits(cc *codeContext, c *promokit.Code) error {
	if !cc.store.PartnerPromoCodes {
		return nil
	}
	pol := cc.settings.Policy.PartnerCodes
	if c.UsageLimit != nil && *c.UsageLimit > pol.MaxTotalUses {
		return promokit.PolicyError("P4", pol.MaxTotalUses, *c.UsageLimit, "usage_limit may be at most %d under P4", pol.MaxTotalUses).On("usage_limit")
	}
	if c.PerCustomerLimit != nil && *c.PerCustomerLimit > pol.MaxUsesPerCustomer {
		return promokit.PolicyError("P4", pol.MaxUsesPerCustomer, *c.PerCustomerLimit, "per_customer_limit may be at most %d under P4", pol.MaxUsesPerCustomer).On("per_customer_limit")
	}
	return nil
}

// prepareCode checks a new code against its promotion (checkCode) and its
// partner, if any, against the database.
func prepareCode(ctx context.Context, tx storage.Tx, cc *codeContext, c *promokit.Code) error {
	if err := checkCode(cc, c); err != nil {
		return err
	}
	if c.PartnerID != "" {
		if _, err := tx.PartnerGet(ctx, c.PartnerID); err != nil {
			return fieldNotFound(err, "partner_id", "partner", c.PartnerID)
		}
	}
	return nil
}

// checkCode checks a new code's own rules and, under P4, its limits.
func checkCode(cc *codeContext, c *promokit.Code) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.ExpiresAt != nil && !c.ExpiresAt.After(c.CreatedAt) {
		var v promokit.Validation
		v.Add("expires_at", "in_the_past", "expires_at must be in the future")
		return v.Err()
	}
	return checkCodeLimits(cc, c)
}

func newCode(in CodeInput, p *promokit.Promotion, now time.Time) *promokit.Code {
	c := &promokit.Code{
		Code: promokit.NormalizeCode(in.Code), PromotionID: p.ID, StoreID: p.StoreID,
		Active: true, CreatedAt: now, UpdatedAt: now,
	}
	applyPtr(&c.UsageLimit, in.UsageLimit)
	applyPtr(&c.PerCustomerLimit, in.PerCustomerLimit)
	if in.ExpiresAt.Set && !in.ExpiresAt.Null {
		in.ExpiresAt.Value = in.ExpiresAt.Value.UTC().Truncate(time.Microsecond)
	}
	applyPtr(&c.ExpiresAt, in.ExpiresAt)
	if in.CustomerID != nil {
		c.CustomerID = *in.CustomerID
	}
	if in.PartnerID != nil {
		c.PartnerID = *in.PartnerID
	}
	if in.Active != nil {
		c.Active = *in.Active
	}
	return c
}

// CreateCode adds a custom code to a promotion: the admin for any, a seller
// for its store's. The value is unique in the marketplace regardless of
// case (ECodeTaken). Under P4 the code counts against the store's rolling
// quota and its limits must respect the policy.
func (s *Service) CreateCode(ctx context.Context, promotionID string, in CodeInput) (*promokit.Code, error) {
	pr, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller)
	if err != nil {
		return nil, err
	}
	var c *promokit.Code
	err = s.write(ctx, func(tx storage.Tx) error {
		now := s.now()
		cc, err := s.loadForCodes(ctx, tx, pr, promotionID, now)
		if err != nil {
			return err
		}
		c, err = s.insertCode(ctx, tx, cc, in, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// insertCode checks the custom code that in creates against cc (its
// rules, its partner and the P4 quota) and inserts it.
func (s *Service) insertCode(ctx context.Context, tx storage.Tx, cc *codeContext, in CodeInput, now time.Time) (*promokit.Code, error) {
	c := newCode(in, cc.promo, now)
	if err := prepareCode(ctx, tx, cc, c); err != nil {
		return nil, err
	}
	if err := s.checkQuota(ctx, tx, cc, now, 1); err != nil {
		return nil, err
	}
	if err := tx.CodeCreate(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// GetCode returns a code by its value, in any case: for the admin and
// unbound checkout keys any code; for a seller or bound checkout key its
// store's; for a partner the codes assigned to it. Anything else is not
// found, whether or not it exists.
func (s *Service) GetCode(ctx context.Context, value string) (*promokit.Code, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	code := promokit.NormalizeCode(value)
	if !promokit.ValidCode(code) {
		return nil, notFound("code", truncateID(value))
	}
	return s.lookups.get(ctx, p.Scope(), code)
}

func truncateID(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// checkPartnerFilter decides who may select codes by partner: the admin,
// a seller (its store's codes assigned to the partner) and the partner
// itself. Another partner is not found; a checkout key is forbidden, as it
// has no business with partners.
func checkPartnerFilter(p promokit.Principal, f storage.CodeFilter) error {
	if f.PartnerID == "" {
		return nil
	}
	switch p.Role {
	case promokit.RoleAdmin, promokit.RoleSeller:
		return nil
	case promokit.RolePartner:
		if p.PartnerID == f.PartnerID {
			return nil
		}
		return notFound("partner", f.PartnerID)
	}
	return promokit.Errorf(promokit.EForbidden, "a %s key may not list a partner's codes", p.Role)
}

// ListCodes lists codes visible to the caller (see GetCode) that f selects.
// A seller listing a promotion of another store gets an empty list, never
// that promotion's codes.
func (s *Service) ListCodes(ctx context.Context, f storage.CodeFilter) ([]*promokit.Code, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkPartnerFilter(p, f); err != nil {
		return nil, err
	}
	f.Page.Bound()
	var list []*promokit.Code
	err = s.read(ctx, func(tx storage.Tx) error {
		if f.PromotionID != "" {
			if _, err := tx.PromotionGet(ctx, p.Scope(), f.PromotionID); err != nil {
				return err
			}
		}
		list, err = tx.CodeList(ctx, p.Scope(), f)
		return err
	})
	return list, err
}

// UpdateCode activates or deactivates a code until it expires, and assigns
// it to a partner or a customer (C3). Limits cannot change once a code
// exists. Under P4 only the active flag changes.
func (s *Service) UpdateCode(ctx context.Context, value string, in CodeInput) (*promokit.Code, error) {
	pr, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller)
	if err != nil {
		return nil, err
	}
	var v promokit.Validation
	if in.Code != "" {
		v.Add("code", "immutable", "a code's value cannot change")
	}
	if in.UsageLimit.Set || in.PerCustomerLimit.Set || in.ExpiresAt.Set {
		v.Add("usage_limit", "immutable", "a code's limits and expiry cannot change once it exists")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	code := promokit.NormalizeCode(value)
	var c *promokit.Code
	err = s.write(ctx, func(tx storage.Tx) error {
		if c, err = tx.CodeGet(ctx, pr.Scope(), code); err != nil {
			return err
		}
		p, err := tx.PromotionGet(ctx, promokit.Scope{}, c.PromotionID)
		if err != nil {
			return err
		}
		now := s.now()
		if p.Ended(now) || (c.ExpiresAt != nil && !now.Before(*c.ExpiresAt)) {
			return promokit.Errorf(promokit.EConflict, "code %s has expired", code)
		}
		store, err := tx.StoreGet(ctx, c.StoreID, true)
		if err != nil {
			return err
		}
		if store.PartnerPromoCodes && (in.PartnerID != nil || in.CustomerID != nil) {
			return &promokit.Error{Code: promokit.EImmutable, Rule: "P4", Message: "a partner promo code cannot be modified once created; it can only be activated or deactivated"}
		}
		if in.Active != nil {
			c.Active = *in.Active
		}
		if in.CustomerID != nil {
			c.CustomerID = *in.CustomerID
		}
		if in.PartnerID != nil {
			c.PartnerID = *in.PartnerID
		}
		c.UpdatedAt = now
		if err := c.Validate(); err != nil {
			return err
		}
		if in.PartnerID != nil && c.PartnerID != "" {
			if _, err := tx.PartnerGet(ctx, c.PartnerID); err != nil {
				return fieldNotFound(err, "partner_id", "partner", c.PartnerID)
			}
		}
		return tx.CodeUpdate(ctx, c)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ExportCodes streams the codes visible to the caller that f selects, each
// with its promotion, to fn. A seller gets its store's codes, a partner
// its own; a promotion the caller cannot see is not found. Selecting by
// partner follows ListCodes; a partner exports by partner only, not by
// promotion.
func (s *Service) ExportCodes(ctx context.Context, f storage.CodeFilter, fn func(*promokit.Code, *promokit.Promotion) error) error {
	p, err := caller(ctx)
	if err != nil {
		return err
	}
	if err := checkPartnerFilter(p, f); err != nil {
		return err
	}
	if f.PromotionID != "" && p.Role == promokit.RolePartner {
		return promokit.Errorf(promokit.EForbidden, "a partner key exports its own codes, by partner")
	}
	scope := p.Scope()
	promos := map[string]*promokit.Promotion{}
	load := func(id string) (*promokit.Promotion, error) {
		if pr, ok := promos[id]; ok {
			return pr, nil
		}
		var pr *promokit.Promotion
		err := s.read(ctx, func(tx storage.Tx) error {
			var err error
			pr, err = tx.PromotionGet(ctx, promokit.Scope{}, id)
			return err
		})
		if err != nil {
			return nil, err
		}
		if len(promos) > 10_000 {
			clear(promos)
		}
		promos[id] = pr
		return pr, nil
	}
	if f.PromotionID != "" {
		err := s.read(ctx, func(tx storage.Tx) error {
			_, err := tx.PromotionGet(ctx, scope, f.PromotionID)
			return err
		})
		if err != nil {
			return err
		}
	}
	return apiError(s.db.CodeExport(ctx, scope, f, func(c *promokit.Code) error {
		pr, err := load(c.PromotionID)
		if err != nil {
			return err
		}
		return fn(c, pr)
	}))
}
