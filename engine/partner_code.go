package engine

import (
	"context"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// A store under P4 (partner promo codes) makes its codes one at a time,
// each with a promotion of its own that carries the code's terms: the
// calls below make such a code in one step, list a store's codes with
// their terms, and tell a store how much of its rolling quota is left.

// CreatePromotionWithCode creates a promotion and one custom code of it in
// one transaction: both are written, or neither is. It does what
// CreatePromotion and then CreateCode do, with their checks and errors in
// that order, so that a code refused (its value taken, its limits above
// P4's, the store's quota used up) leaves no promotion behind, as the two
// calls would. The admin may call it for any store, a seller for its own
// (another store is ENotFound).
func (s *Service) CreatePromotionWithCode(ctx context.Context, in PromotionInput, code CodeInput) (*promokit.Promotion, *promokit.Code, error) {
	pr, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	p, err := newPromotion(pr, in, now)
	if err != nil {
		return nil, nil, err
	}
	var c *promokit.Code
	err = s.write(ctx, func(tx storage.Tx) error {
		cc, err := insertPromotion(ctx, tx, p)
		if err != nil {
			return err
		}
		if err := takesCodes(p, now); err != nil {
			return err
		}
		c, err = s.insertCode(ctx, tx, cc, code, now)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return p, c, nil
}

// StoreCode is a code of a store with its promotion, whose terms are the
// code's settings (percentage, products, window).
type StoreCode struct {
	*promokit.Code
	Promotion *promokit.Promotion
}

// ListStoreCodes returns one page of a store's codes, newest first, each
// with its promotion; page.After is the last code value of the previous
// page. It reads through the store's promotions, as the P4 quota does,
// and serves the stores under P4, whose codes are few. The admin lists
// any store's, a seller its own; another store is ENotFound. Other keys
// are forbidden: a partner lists the codes assigned to it (ListCodes).
func (s *Service) ListStoreCodes(ctx context.Context, storeID string, page storage.Page) ([]*StoreCode, error) {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller)
	if err != nil {
		return nil, err
	}
	if p.Role == promokit.RoleSeller && p.StoreID != storeID || !possibleID(storeID) {
		return nil, notFound("store", truncateID(storeID))
	}
	page.Bound()
	var out []*StoreCode
	err = s.read(ctx, func(tx storage.Tx) error {
		if _, err := tx.StoreGet(ctx, storeID, false); err != nil {
			return err
		}
		codes, err := tx.CodeListByStore(ctx, storage.StoreCodeFilter{StoreID: storeID, Page: page})
		if err != nil || len(codes) == 0 {
			return err
		}
		ids := make([]string, 0, len(codes))
		seen := make(map[string]bool, len(codes))
		for _, c := range codes {
			if !seen[c.PromotionID] {
				seen[c.PromotionID] = true
				ids = append(ids, c.PromotionID)
			}
		}
		promos, err := tx.PromotionGetMany(ctx, promokit.Scope{StoreID: storeID}, ids)
		if err != nil {
			return err
		}
		byID := make(map[string]*promokit.Promotion, len(promos))
		for _, pr := range promos {
			byID[pr.ID] = pr
		}
		out = make([]*StoreCode, 0, len(codes))
		for _, c := range codes {
			// Promotions are never deleted: every code has its own.
			out = append(out, &StoreCode{Code: c, Promotion: byID[c.PromotionID]})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CodeQuota is a store's P4 quota of codes at a moment: of Limit codes
// allowed in any WindowDays days, Used were created in the last
// WindowDays days and Left may still be.
type CodeQuota struct {
	// UnderP4 reports whether the store runs under P4: only then does
	// the quota apply.
	UnderP4    bool
	Limit      int64
	Used       int64
	Left       int64
	WindowDays int64
	// NextFreeAt is when the oldest code counted leaves the window, which
	// frees one more code (more when several were created at that
	// moment); nil when no code is counted.
	NextFreeAt *time.Time
}

// quotaSince is the start of the rolling window of P4's quota at now.
func quotaSince(pol promokit.PartnerCodePolicy, now time.Time) time.Time {
	return now.Add(-time.Duration(pol.WindowDays) * 24 * time.Hour)
}

// PartnerCodeQuota returns the P4 quota of a store now, with the policy
// in force: what CreateCode checks a new code against. The admin reads
// any store's, a seller its own; another store is ENotFound, and other
// keys are forbidden. It is a read: a code created meanwhile may take
// what it reports as left.
func (s *Service) PartnerCodeQuota(ctx context.Context, storeID string) (*CodeQuota, error) {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller)
	if err != nil {
		return nil, err
	}
	if p.Role == promokit.RoleSeller && p.StoreID != storeID || !possibleID(storeID) {
		return nil, notFound("store", truncateID(storeID))
	}
	now := s.now()
	var q *CodeQuota
	err = s.read(ctx, func(tx storage.Tx) error {
		store, err := tx.StoreGet(ctx, storeID, false)
		if err != nil {
			return err
		}
		settings, err := tx.SettingsGet(ctx)
		if err != nil {
			return err
		}
		pol := settings.Policy.PartnerCodes
		tally, err := tx.CodeTally(ctx, storage.CodeCount{StoreID: storeID, Since: quotaSince(pol, now)})
		if err != nil {
			return err
		}
		q = &CodeQuota{UnderP4: store.PartnerPromoCodes, Limit: pol.MaxCodesPerWindow, Used: tally.Count,
			Left: max(pol.MaxCodesPerWindow-tally.Count, 0), WindowDays: pol.WindowDays}
		if tally.Count > 0 {
			at := tally.Oldest.Add(time.Duration(pol.WindowDays) * 24 * time.Hour)
			q.NextFreeAt = &at
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return q, nil
}
