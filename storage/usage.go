package storage

import (
	"context"

	"github.com/promokit/promokit"
)

// UsageTx adds to and reads the usage counters: a promotion's uses and
// discount, a code's uses and a customer's uses of a promotion or a code.
// Every positive addition is conditional on its limit inside the one
// statement that makes it, so that concurrent writers of any process can
// never pass a limit.
type UsageTx interface {
	// UsagePromotionAdd adds uses and discount to a promotion's counters
	// if, for positive amounts, the results stay within its total_uses and
	// total_discount limits; it reports whether it added. The condition is
	// part of the UPDATE, so concurrent writers can never pass a limit.
	// Negative amounts (a use given back) always apply.
	UsagePromotionAdd(ctx context.Context, id string, uses, discount int64) (bool, error)
	// UsageCodeAdd is UsagePromotionAdd for a code's own usage_limit.
	UsageCodeAdd(ctx context.Context, code string, uses int64) (bool, error)
	// UsageCustomerAdd adds p.Uses to the customer's counter p.UsageKey if
	// the result stays within p.Limit (nil: no limit), and reports whether
	// it added: a counter that does not exist
	// yet starts from none (promokit.WithinLimit).
	UsageCustomerAdd(ctx context.Context, p CustomerUse) (bool, error)
	// UsageCustomerGet returns a customer's uses of a subject (0 when none).
	UsageCustomerGet(ctx context.Context, subject, customerKey string) (int64, error)
	// UsageCustomerGetMany returns the uses of each counter among keys that has
	// one; a counter that does not exist is left out (0 uses).
	UsageCustomerGetMany(ctx context.Context, keys []UsageKey) (map[UsageKey]int64, error)
}

// CounterDiff is a stored sum that differs from its rows
// (promokit.CounterDiff).
type CounterDiff = promokit.CounterDiff

// UsageKey names a customer's usage counter (promokit.UsageKey).
type UsageKey = promokit.UsageKey

// Uses is what a batch of orders takes and writes (UsageTakeMany): the
// uses of the counters (promokit.Uses) and the redemptions to insert.
type Uses struct {
	Promotions  []PromotionUse
	Codes       []CodeUse
	Customers   []CustomerUse
	Redemptions []*promokit.Redemption
}

// PromotionUse is uses and discount to add to a promotion's counters.
type PromotionUse = promokit.PromotionUse

// CodeUse is uses to add to a code's counter. The empty code has none.
type CodeUse = promokit.CodeUse

// CustomerUse is uses to add to a customer's counter within Limit.
type CustomerUse = promokit.CustomerUse

// counters returns the uses of u's counters.
func (u *Uses) counters() promokit.Uses {
	return promokit.Uses{Promotions: u.Promotions, Codes: u.Codes, Customers: u.Customers}
}

// UsageTaker is the ability of a Tx to take a batch's uses and insert its
// redemptions (UsageTakeMany) in fewer round trips than
// UsageTakeManyInTurn. UsageTakeMany calls it only with uses that may fit
// (promokit.Uses.MayFit).
type UsageTaker interface {
	UsageTakeMany(ctx context.Context, u Uses) (bool, error)
}

// UsageTakeMany writes a batch of orders at once: it adds the uses of each
// promotion, code and customer counter within its limits (as
// UsagePromotionAdd, UsageCodeAdd and UsageCustomerAdd do, in that order
// and in the order given), then inserts the redemptions and sets their
// IDs. A use of the empty code (a codeless redemption of an automatic
// promotion) has no code counter and is skipped. It reports false when a
// use did not fit a limit; what it wrote is then partial and the
// transaction must be rolled back. Uses that cannot fit
// (promokit.Uses.MayFit) report false before any is sent. Uses may be
// negative: a give-back (release, rollback, an expired hold) writes its
// sums this way with no redemptions, and always fits. It uses tx's
// UsageTaker when it has one.
func UsageTakeMany(ctx context.Context, tx Tx, u Uses) (bool, error) {
	if c := u.counters(); !c.MayFit() {
		return false, nil
	}
	if t, ok := tx.(UsageTaker); ok {
		return t.UsageTakeMany(ctx, u)
	}
	return UsageTakeManyInTurn(ctx, tx, u)
}

// UsageTakeManyInTurn is UsageTakeMany made of tx's plain methods, one
// after another, stopping at the first use that does not fit.
func UsageTakeManyInTurn(ctx context.Context, tx Tx, u Uses) (bool, error) {
	for _, p := range u.Promotions {
		if ok, err := tx.UsagePromotionAdd(ctx, p.ID, p.Uses, p.Discount); err != nil || !ok {
			return false, err
		}
	}
	for _, c := range u.Codes {
		if c.Code == "" {
			continue // codeless redemptions: no code counter
		}
		if ok, err := tx.UsageCodeAdd(ctx, c.Code, c.Uses); err != nil || !ok {
			return false, err
		}
	}
	for _, c := range u.Customers {
		if ok, err := tx.UsageCustomerAdd(ctx, c); err != nil || !ok {
			return false, err
		}
	}
	if err := tx.RedemptionCreateMany(ctx, u.Redemptions); err != nil {
		return false, err
	}
	return true, nil
}
