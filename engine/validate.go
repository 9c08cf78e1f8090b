package engine

import (
	"context"
	"slices"

	"github.com/promokit/promokit"
)

// ValidateInput is a cart and the codes a buyer entered.
type ValidateInput struct {
	Cart     promokit.Cart     `json:"cart"`
	Customer promokit.Identity `json:"customer"`
	Codes    []string          `json:"codes"`
}

// Validate prices a cart with codes without using them (C4): every line's
// discount, the totals, and for each code that does not apply its reason,
// with the rule, limit, used and remaining where a limit stands in the way.
// It writes nothing; Redeem checks again inside its write. Checkout keys of
// the cart's store and admins may validate.
func (s *Service) Validate(ctx context.Context, in ValidateInput) (*promokit.PricedCart, error) {
	if err := checkoutCaller(ctx, in.Cart.StoreID); err != nil {
		return nil, err
	}
	return s.validate(ctx, in)
}

// validate is Validate once the caller is allowed.
func (s *Service) validate(ctx context.Context, in ValidateInput) (*promokit.PricedCart, error) {
	if len(in.Codes) > MaxOrderCodes {
		var v promokit.Validation
		v.Add("codes", "out_of_range", "a cart carries at most %d codes", MaxOrderCodes)
		return nil, v.Err()
	}
	customerKey, err := in.Customer.Key()
	if err != nil {
		return nil, err
	}
	in.Cart.CustomerID, in.Cart.CustomerKey = in.Customer.CustomerID, customerKey
	codes := make([]string, 0, len(in.Codes))
	for _, c := range in.Codes {
		if c = promokit.NormalizeCode(c); !slices.Contains(codes, c) {
			codes = append(codes, c)
		}
	}
	var priced *promokit.PricedCart
	err = s.store.Read(ctx, func(tx Tx) error {
		settings, err := tx.GetSettings(ctx)
		if err != nil {
			return err
		}
		if err := in.Cart.Validate(settings.Currency); err != nil {
			return err
		}
		priced, _, err = s.price(ctx, tx, &in.Cart, codes, s.now())
		return err
	})
	return priced, err
}
