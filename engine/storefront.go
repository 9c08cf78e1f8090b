package engine

import (
	"context"
	"slices"

	"github.com/promokit/promokit"
)

// ValidateForBuyer prices a cart with the codes a buyer typed, for a
// shop's buyer-facing pages: the lines, the totals and the codes that
// apply, as Validate answers them. Every code that does not apply, for
// whatever reason (it does not exist, belongs to another store, has
// expired, reached a limit, does not combine…), is reported with the one
// reason not_valid and nothing else: no rule, limit, used or remaining.
// Rejected codes are listed in the order they were sent, so that neither
// their reasons nor their order tell a code that exists from one that
// does not. A guesser learns only whether a code gives a discount to
// this cart now.
//
// Storefront keys of the cart's store and admins may call it; a
// storefront key of another store gets ENotFound for the store, as a
// checkout key does. Other keys are EForbidden. Like Validate, it writes
// nothing.
func (s *Service) ValidateForBuyer(ctx context.Context, in ValidateInput) (*promokit.PricedCart, error) {
	if err := buyerCaller(ctx, in.Cart.StoreID); err != nil {
		return nil, err
	}
	pc, err := s.validate(ctx, in)
	if err != nil {
		return nil, err
	}
	return buyerAnswer(pc, in.Codes), nil
}

// buyerCaller checks that the caller may price a store's carts for its
// buyers: an admin, or a storefront key of that store. Another store is
// not found.
func buyerCaller(ctx context.Context, storeID string) error {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RoleStorefront)
	if err != nil {
		return err
	}
	if p.Role == promokit.RoleStorefront && p.StoreID != storeID || !possibleID(storeID) {
		return notFound("store", storeID)
	}
	return nil
}

// buyerAnswer turns a priced cart into what a buyer may see: each
// rejected code becomes not_valid alone, ordered as the codes were sent
// (normalised and each once, as validate reads them).
func buyerAnswer(pc *promokit.PricedCart, sent []string) *promokit.PricedCart {
	order := make([]string, 0, len(sent))
	for _, c := range sent {
		if c = promokit.NormalizeCode(c); !slices.Contains(order, c) {
			order = append(order, c)
		}
	}
	rejected := make([]promokit.Rejection, 0, len(pc.Rejected))
	for _, r := range pc.Rejected {
		if r.Code == "" {
			// A promotion that applies without a code: not one of the
			// buyer's codes, and nothing to report about them.
			continue
		}
		rejected = append(rejected, promokit.Rejection{Code: r.Code, Reason: promokit.ReasonNotValid})
	}
	position := func(code string) int {
		if i := slices.Index(order, code); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(rejected, func(a, b promokit.Rejection) int { return position(a.Code) - position(b.Code) })
	out := *pc
	out.Rejected = rejected
	return &out
}
