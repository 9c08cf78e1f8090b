package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// UsagePromotionAdd adds to a promotion's counters within its limits: the
// condition is part of the UPDATE, which PostgreSQL re-evaluates on the
// latest row version after waiting for a concurrent writer.
func (t *tx) UsagePromotionAdd(ctx context.Context, id string, uses, discount int64) (bool, error) {
	tag, err := t.q.Exec(ctx, addPromotionUsageSQL, uses, discount, id)
	return affected(tag, err, "promotion usage")
}

const addPromotionUsageSQL = `UPDATE promotions SET uses = uses + $1, discount_spent = discount_spent + $2
	WHERE id = $3
	  AND ($1 <= 0 OR total_uses IS NULL OR uses + $1 <= total_uses)
	  AND ($2 <= 0 OR total_discount IS NULL OR discount_spent + $2 <= total_discount)`

// UsageCodeAdd adds to a code's counter within its usage_limit.
func (t *tx) UsageCodeAdd(ctx context.Context, code string, uses int64) (bool, error) {
	tag, err := t.q.Exec(ctx, addCodeUsageSQL, uses, code)
	return affected(tag, err, "code usage")
}

const addCodeUsageSQL = `UPDATE codes SET uses = uses + $1
	WHERE code = $2 AND ($1 <= 0 OR usage_limit IS NULL OR uses + $1 <= usage_limit)`

// UsageCustomerAdd adds to a customer's counter of a subject within limit.
// The insert that creates a counter has no condition, so uses past limit
// are refused before it (promokit.WithinLimit).
func (t *tx) UsageCustomerAdd(ctx context.Context, p storage.CustomerUse) (bool, error) {
	subject, customerKey, uses, limit := p.Subject, p.CustomerKey, p.Uses, p.Limit
	if !promokit.WithinLimit(uses, limit) {
		return false, nil // a first use past the limit: nothing to ask
	}
	tag, err := t.q.Exec(ctx, addCustomerUsageSQL, subject, customerKey, uses, limit)
	return affected(tag, err, "customer usage")
}

const addCustomerUsageSQL = `INSERT INTO customer_usage AS u (subject, customer_key, uses) VALUES ($1, $2, $3)
	ON CONFLICT (subject, customer_key) DO UPDATE SET uses = u.uses + excluded.uses
	WHERE $3 <= 0 OR $4::bigint IS NULL OR u.uses + excluded.uses <= $4::bigint`

// UsageCustomerGet returns a customer's uses of a subject.
func (t *tx) UsageCustomerGet(ctx context.Context, subject, customerKey string) (int64, error) {
	var n int64
	err := t.q.QueryRow(ctx, `SELECT uses FROM customer_usage WHERE subject = $1 AND customer_key = $2`, subject, customerKey).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: customer usage: %w", err)
	}
	return n, nil
}

// customerUsagesSQL selects customers' counters by subject ($1) and
// customer key ($2), two arrays of one length.
const customerUsagesSQL = `SELECT u.subject, u.customer_key, u.uses FROM customer_usage u
	JOIN unnest($1::text[], $2::text[]) AS k(subject, customer_key)
	  ON u.subject = k.subject AND u.customer_key = k.customer_key`

// UsageCustomerGetMany returns the customers' counters among keys, in one query.
func (t *tx) UsageCustomerGetMany(ctx context.Context, keys []storage.UsageKey) (map[storage.UsageKey]int64, error) {
	if len(keys) == 0 {
		return make(map[storage.UsageKey]int64), nil
	}
	subjects, customers := usageArrays(keys)
	rows, err := t.byKey().Query(ctx, customerUsagesSQL, subjects, customers)
	if err != nil {
		return nil, fmt.Errorf("postgres: customer usages: %w", err)
	}
	out, err := readUsages(rows, len(keys))
	if err != nil {
		return nil, fmt.Errorf("postgres: customer usages: %w", err)
	}
	return out, nil
}

// usageArrays returns the subjects and the customer keys of keys, the
// arguments of customerUsagesSQL.
func usageArrays(keys []storage.UsageKey) (subjects, customers []string) {
	subjects, customers = make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		subjects[i], customers[i] = k.Subject, k.CustomerKey
	}
	return subjects, customers
}

// readUsages reads the rows of customerUsagesSQL, for about n keys, and
// closes them.
func readUsages(rows pgx.Rows, n int) (map[storage.UsageKey]int64, error) {
	defer rows.Close()
	out := make(map[storage.UsageKey]int64, n)
	for rows.Next() {
		var (
			k    storage.UsageKey
			uses int64
		)
		if err := rows.Scan(&k.Subject, &k.CustomerKey, &uses); err != nil {
			return nil, err
		}
		out[k] = uses
	}
	return out, rows.Err()
}

// UsageTakeMany takes a batch's uses and inserts its redemptions with every
// statement sent in one round trip: the inserts first, then the
// conditional updates of the promotions, codes and customers. PostgreSQL
// runs them in order; a use that does not fit changes no row, and the
// caller rolls the transaction back. The inserts (one statement) lock no
// counter, so going first they keep the promotion's row, which every
// batch of a hot promotion waits for, locked only for the updates and the
// commit. The insert that creates a customer's counter has no condition:
// storage.UsageTakeMany has refused uses that take more than a limit
// from none (promokit.Uses.MayFit) before they come here.
func (t *tx) UsageTakeMany(ctx context.Context, u storage.Uses) (bool, error) {
	fit := true
	queue := func(b *pgx.Batch) {
		b.Queue(insertRedemptionsSQL, redemptionColumnsArgs(u.Redemptions)...)
		for _, p := range u.Promotions {
			b.Queue(addPromotionUsageSQL, p.Uses, p.Discount, p.ID)
		}
		for _, c := range u.Codes {
			if c.Code == "" {
				continue // codeless redemptions: no code counter
			}
			b.Queue(addCodeUsageSQL, c.Uses, c.Code)
		}
		for _, c := range u.Customers {
			b.Queue(addCustomerUsageSQL, c.Subject, c.CustomerKey, c.Uses, c.Limit)
		}
	}
	// The statements: the inserts, then the updates.
	err := sendWithGenericPlans(ctx, t.q, "take uses", queue, func(i int, br pgx.BatchResults) error {
		if i == 0 {
			return scanInserted(br, u.Redemptions)
		}
		tag, err := br.Exec()
		if err == nil && tag.RowsAffected() == 0 {
			fit = false
		}
		return err
	})
	return fit && err == nil, err
}
