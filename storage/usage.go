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
	// UsageCustomerAdd adds uses to a customer's counter of a subject (a
	// promotion id, or "code:" and a code) if the result stays within
	// limit (nil: no limit), and reports whether it added.
	UsageCustomerAdd(ctx context.Context, subject, customerKey string, uses int64, limit *int64) (bool, error)
	// UsageCustomerGet returns a customer's uses of a subject (0 when none).
	UsageCustomerGet(ctx context.Context, subject, customerKey string) (int64, error)
	// UsageCustomerGetMany returns the uses of each counter among keys that has
	// one; a counter that does not exist is left out (0 uses).
	UsageCustomerGetMany(ctx context.Context, keys []UsageKey) (map[UsageKey]int64, error)
}

// CounterDiff is a usage counter that differs from its rows: Kind is
// "promotion_uses", "promotion_discount", "code_uses" or "customer_uses";
// Subject the promotion id, code, or subject and customer key.
type CounterDiff struct {
	Kind     string `json:"kind"`
	Subject  string `json:"subject"`
	Stored   int64  `json:"stored"`
	FromRows int64  `json:"from_rows"`
}

// UsageKey names a customer's usage counter: Subject is a promotion id, or
// "code:" and a code.
type UsageKey struct {
	Subject     string
	CustomerKey string
}

// Uses is what a batch of orders takes and writes (Tx.UsageTakeMany).
type Uses struct {
	Promotions  []PromotionUse
	Codes       []CodeUse
	Customers   []CustomerUse
	Redemptions []*promokit.Redemption
}

// PromotionUse is uses and discount to add to a promotion's counters.
type PromotionUse struct {
	ID       string
	Uses     int64
	Discount int64
}

// CodeUse is uses to add to a code's counter. The empty code has none.
type CodeUse struct {
	Code string
	Uses int64
}

// CustomerUse is uses to add to a customer's counter within Limit (nil: no
// limit).
type CustomerUse struct {
	UsageKey
	Uses  int64
	Limit *int64
}

// UsageTaker is the ability of a Tx to take a batch's uses and insert its
// redemptions (UsageTakeMany) in fewer round trips than
// UsageTakeManyInTurn.
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
// transaction must be rolled back. It uses tx's UsageTaker when it has
// one.
func UsageTakeMany(ctx context.Context, tx Tx, u Uses) (bool, error) {
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
		if ok, err := tx.UsageCustomerAdd(ctx, c.Subject, c.CustomerKey, c.Uses, c.Limit); err != nil || !ok {
			return false, err
		}
	}
	if err := tx.RedemptionCreateMany(ctx, u.Redemptions); err != nil {
		return false, err
	}
	return true, nil
}
