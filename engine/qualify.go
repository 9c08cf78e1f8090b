package engine

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// QualifyInput is a cart and who buys it, as Validate takes them, without
// codes: Qualify finds them.
type QualifyInput struct {
	Cart     promokit.Cart     `json:"cart"`
	Customer promokit.Identity `json:"customer"`
}

// QualifyResult is what a cart could use now: the promotions that qualify,
// each priced alone on the cart, and apart those kept out by a limit or by
// the cart.
type QualifyResult struct {
	Currency     string                 `json:"currency"`
	Subtotal     int64                  `json:"subtotal"`
	Qualified    []QualifiedPromotion   `json:"qualified"`
	NotQualified []UnqualifiedPromotion `json:"not_qualified"`
}

// QualifiedPromotion is an automatic promotion (Code empty) or a code
// assigned to the customer that applies to the cart, with the discount it
// gives on the cart alone and its share on each line it applies to.
type QualifiedPromotion struct {
	PromotionID string                `json:"promotion_id"`
	Code        string                `json:"code"`
	Automatic   bool                  `json:"automatic"`
	Name        string                `json:"name"`
	Description string                `json:"description"`
	Type        promokit.DiscountType `json:"type"`
	AmountOff   int64                 `json:"amount_off"`
	PercentOff  promokit.BasisPoints  `json:"percent_off_bp"`
	Exclusive   bool                  `json:"exclusive"`
	Priority    int64                 `json:"priority"`
	// EndsAt is when it stops applying: the promotion's end or the code's
	// expiry, whichever comes first; nil for never.
	EndsAt   *time.Time      `json:"ends_at"`
	Discount int64           `json:"discount"`
	Lines    []QualifiedLine `json:"lines"`
}

// QualifiedLine is a cart line a promotion applies to: its index in the
// cart's lines and its share of the discount (0 when a fixed amount is used
// up by other lines, or the line is free).
type QualifiedLine struct {
	Index     int    `json:"index"`
	ProductID string `json:"product_id"`
	Discount  int64  `json:"discount"`
}

// UnqualifiedPromotion is a live automatic promotion or assigned code that
// does not apply to this cart, with its reason and, for a limit, the
// rule, the limit, what is used of it and what remains.
type UnqualifiedPromotion struct {
	PromotionID string `json:"promotion_id"`
	Code        string `json:"code"`
	Automatic   bool   `json:"automatic"`
	Name        string `json:"name"`
	Reason      string `json:"reason"`
	Rule        string `json:"rule,omitempty"`
	Limit       *int64 `json:"limit,omitempty"`
	Used        *int64 `json:"used,omitempty"`
	Remaining   *int64 `json:"remaining,omitempty"`
}

// listedReasons are the reasons an UnqualifiedPromotion is listed for: a
// limit, or something the buyer can change (spend more, add a product,
// sign in). Promotions and codes that are inactive, not started or over
// are left out: they are not for this checkout at all.
var listedReasons = []string{
	promokit.ReasonLimitReached, promokit.ReasonBudgetExhausted, promokit.ReasonCustomerLimit,
	promokit.ReasonMinimumNotMet, promokit.ReasonNoEligibleProducts, promokit.ReasonIdentityRequired,
}

// Qualify returns every promotion of the cart's store the cart could use
// now, without using any: each live automatic promotion of the store, and
// each live code of the store assigned to the customer's customer_id (C3;
// codes are restricted to a customer id, never to a guest's e-mail or
// phone, so a guest gets automatic promotions only).
//
// Each is priced alone on the cart by promokit.Price, honouring every
// limit: the promotion's total uses and spend budget (C2), the code's own
// uses (C3), the customer's uses of the promotion and of the code, the
// minimum order, the eligible products, the window and the active flags.
// Together they may not combine (exclusive promotions, the store's
// stacking limit): Validate and Redeem apply the automatic promotions by
// themselves, ordered with the codes the checkout picks among these.
//
// Qualified lists those that apply, the largest discount first. Those a
// limit or the cart keeps out are listed apart in NotQualified with their
// reason (limit_reached, budget_exhausted, customer_limit_reached,
// minimum_not_met, no_eligible_products, identity_required) and, for a
// limit, the rule, limit, used and remaining, so that a checkout can say
// "spend $12 more for 10% off". Inactive, scheduled and ended promotions,
// and codes of other customers, are left out. At most promokit.MaxQualify
// automatic promotions and promokit.MaxQualify codes are considered.
//
// Checkout keys of the cart's store and admins may qualify; a checkout key
// of another store gets ENotFound, as does a store that does not exist.
// An invalid cart or identity is EInvalid. It writes nothing.
func (s *Service) Qualify(ctx context.Context, in QualifyInput) (*QualifyResult, error) {
	if err := checkoutCaller(ctx, in.Cart.StoreID); err != nil {
		return nil, err
	}
	customerKey, err := in.Customer.Key()
	if err != nil {
		return nil, err
	}
	cart := &in.Cart
	cart.CustomerID, cart.CustomerKey = in.Customer.CustomerID, customerKey
	var res *QualifyResult
	err = s.read(ctx, func(tx storage.Tx) error {
		settings, err := tx.SettingsGet(ctx)
		if err != nil {
			return err
		}
		if err := cart.Validate(settings.Currency); err != nil {
			return err
		}
		if _, err := tx.StoreGet(ctx, cart.StoreID, false); err != nil {
			return err
		}
		now := s.now()
		auto, err := automaticCandidates(ctx, tx, cart.StoreID, customerKey, now)
		if err != nil {
			return err
		}
		coded, err := customerCandidates(ctx, tx, cart.StoreID, cart.CustomerID, customerKey, now)
		if err != nil {
			return err
		}
		res = qualify(cart, append(auto, coded...), now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// qualify prices each candidate alone on the cart and sorts them into
// qualified and not.
func qualify(cart *promokit.Cart, cands []promokit.Candidate, now time.Time) *QualifyResult {
	res := &QualifyResult{Currency: cart.Currency, Subtotal: cart.Subtotal(), Qualified: []QualifiedPromotion{}, NotQualified: []UnqualifiedPromotion{}}
	for _, cd := range cands {
		p := cd.Promotion
		code := ""
		if cd.Code != nil {
			code = cd.Code.Code
		}
		pc := promokit.Price(cart, []promokit.Candidate{cd}, 0, now)
		if len(pc.Applied) == 1 {
			q := QualifiedPromotion{
				PromotionID: p.ID, Code: code, Automatic: p.Automatic, Name: p.Name, Description: p.Description,
				Type: p.Type, AmountOff: p.AmountOff, PercentOff: p.PercentOff, Exclusive: p.Exclusive, Priority: p.Priority,
				EndsAt: endOf(&cd), Discount: pc.Applied[0].Discount, Lines: []QualifiedLine{},
			}
			for i, l := range pc.Lines {
				if p.AppliesTo(l.ProductID) {
					q.Lines = append(q.Lines, QualifiedLine{Index: i, ProductID: l.ProductID, Discount: l.Discount})
				}
			}
			res.Qualified = append(res.Qualified, q)
			continue
		}
		for _, r := range pc.Rejected {
			if slices.Contains(listedReasons, r.Reason) {
				res.NotQualified = append(res.NotQualified, UnqualifiedPromotion{
					PromotionID: p.ID, Code: code, Automatic: p.Automatic, Name: p.Name,
					Reason: r.Reason, Rule: r.Rule, Limit: r.Limit, Used: r.Used, Remaining: r.Remaining,
				})
			}
		}
	}
	slices.SortFunc(res.Qualified, func(a, b QualifiedPromotion) int {
		return cmp.Or(cmp.Compare(b.Discount, a.Discount), strings.Compare(a.PromotionID, b.PromotionID), strings.Compare(a.Code, b.Code))
	})
	slices.SortFunc(res.NotQualified, func(a, b UnqualifiedPromotion) int {
		return cmp.Or(strings.Compare(a.PromotionID, b.PromotionID), strings.Compare(a.Code, b.Code))
	})
	return res
}

// endOf returns when a candidate stops applying: the earliest of its
// promotion's end and its code's expiry, nil for never.
func endOf(cd *promokit.Candidate) *time.Time {
	end := cd.Promotion.EndsAt
	if cd.Code != nil && cd.Code.ExpiresAt != nil && (end == nil || cd.Code.ExpiresAt.Before(*end)) {
		end = cd.Code.ExpiresAt
	}
	return end
}

// automaticCandidates loads the live automatic promotions of a store at now
// (at most promokit.MaxQualify, by id) as codeless candidates (Code nil), with their
// usage: the promotion's counters and, for a known customer, the
// customer's uses of the promotion. promokit.Price prices them as it
// prices codes; their code counters stay zero, since they have no code.
func automaticCandidates(ctx context.Context, tx storage.Tx, storeID, customerKey string, now time.Time) ([]promokit.Candidate, error) {
	promos, err := tx.PromotionListAutomatic(ctx, storeID, now, promokit.MaxQualify)
	if err != nil || len(promos) == 0 {
		return nil, err
	}
	var used map[storage.UsageKey]int64
	if customerKey != "" {
		keys := make([]storage.UsageKey, len(promos))
		for i, p := range promos {
			keys[i] = promokit.PromotionUsageKey(p.ID, customerKey)
		}
		if used, err = tx.UsageCustomerGetMany(ctx, keys); err != nil {
			return nil, err
		}
	}
	out := make([]promokit.Candidate, len(promos))
	for i, p := range promos {
		out[i] = promokit.Candidate{Promotion: p, Usage: promokit.Usage{
			PromotionUses: p.Uses, PromotionDiscount: p.DiscountSpent,
			CustomerUses: used[promokit.PromotionUsageKey(p.ID, customerKey)],
		}}
	}
	return out, nil
}

// customerCandidates loads the live codes of a store assigned to a
// customer id at now (at most promokit.MaxQualify, in creation order) with their
// promotions and usage, as the checkout prices codes: the promotion's and
// the code's counters and, for a known customer, the customer's uses of
// each. A guest (no customer id) has none.
func customerCandidates(ctx context.Context, tx storage.Tx, storeID, customerID, customerKey string, now time.Time) ([]promokit.Candidate, error) {
	if customerID == "" {
		return nil, nil
	}
	codes, err := tx.CodeListForCustomer(ctx, storage.CustomerCodesQuery{StoreID: storeID, CustomerID: customerID, Now: now, Limit: promokit.MaxQualify})
	if err != nil || len(codes) == 0 {
		return nil, err
	}
	var ids []string
	for _, c := range codes {
		ids = appendNew(ids, c.PromotionID)
	}
	promos, err := tx.PromotionGetMany(ctx, promokit.Scope{StoreID: storeID}, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*promokit.Promotion, len(promos))
	for _, p := range promos {
		byID[p.ID] = p
	}
	keys := make([]storage.UsageKey, 0, len(ids)+len(codes))
	for _, id := range ids {
		keys = append(keys, promokit.PromotionUsageKey(id, customerKey))
	}
	for _, c := range codes {
		keys = append(keys, promokit.CodeUsageKey(c.Code, customerKey))
	}
	used, err := tx.UsageCustomerGetMany(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make([]promokit.Candidate, 0, len(codes))
	for _, c := range codes {
		p, ok := byID[c.PromotionID]
		if !ok {
			continue // not of this store: never offered
		}
		out = append(out, promokit.Candidate{Code: c, Promotion: p, Usage: promokit.Usage{
			PromotionUses: p.Uses, PromotionDiscount: p.DiscountSpent, CodeUses: c.Uses,
			CustomerUses:     used[promokit.PromotionUsageKey(p.ID, customerKey)],
			CodeCustomerUses: used[promokit.CodeUsageKey(c.Code, customerKey)],
		}})
	}
	return out, nil
}
