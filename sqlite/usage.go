package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// UsagePromotionAdd adds to a promotion's counters within its limits.
func (t *tx) UsagePromotionAdd(ctx context.Context, id string, uses, discount int64) (bool, error) {
	res, err := t.q.ExecContext(ctx, `UPDATE promotions SET uses = uses + ?1, discount_spent = discount_spent + ?2
		WHERE id = ?3
		  AND (?1 <= 0 OR total_uses IS NULL OR uses + ?1 <= total_uses)
		  AND (?2 <= 0 OR total_discount IS NULL OR discount_spent + ?2 <= total_discount)`, uses, discount, id)
	return affected(res, err, "promotion usage")
}

// UsageCodeAdd adds to a code's counter within its usage_limit.
func (t *tx) UsageCodeAdd(ctx context.Context, code string, uses int64) (bool, error) {
	res, err := t.q.ExecContext(ctx, `UPDATE codes SET uses = uses + ?1
		WHERE code = ?2 AND (?1 <= 0 OR usage_limit IS NULL OR uses + ?1 <= usage_limit)`, uses, code)
	return affected(res, err, "code usage")
}

// UsageCustomerAdd adds to a customer's counter of a subject within limit.
// The insert that creates a counter has no condition, so uses past limit
// are refused before it (promokit.WithinLimit).
func (t *tx) UsageCustomerAdd(ctx context.Context, p storage.CustomerUse) (bool, error) {
	subject, customerKey, uses, limit := p.Subject, p.CustomerKey, p.Uses, p.Limit
	if !promokit.WithinLimit(uses, limit) {
		return false, nil // a first use past the limit: nothing to ask
	}
	var lim sql.NullInt64
	if limit != nil {
		lim = sql.NullInt64{Int64: *limit, Valid: true}
	}
	res, err := t.q.ExecContext(ctx, `INSERT INTO customer_usage (subject, customer_key, uses) VALUES (?1, ?2, ?3)
		ON CONFLICT (subject, customer_key) DO UPDATE SET uses = customer_usage.uses + excluded.uses
		WHERE ?3 <= 0 OR ?4 IS NULL OR customer_usage.uses + excluded.uses <= ?4`, subject, customerKey, uses, lim)
	return affected(res, err, "customer usage")
}

// UsageCustomerGet returns a customer's uses of a subject.
func (t *tx) UsageCustomerGet(ctx context.Context, subject, customerKey string) (int64, error) {
	var n int64
	err := t.q.QueryRowContext(ctx, `SELECT uses FROM customer_usage WHERE subject = ? AND customer_key = ?`, subject, customerKey).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: customer usage: %w", err)
	}
	return n, nil
}

// UsageCustomerGetMany returns the customers' counters among keys in one query:
// the keys travel as one JSON array of [subject, customer] pairs, each
// looked up by the primary key.
func (t *tx) UsageCustomerGetMany(ctx context.Context, keys []storage.UsageKey) (map[storage.UsageKey]int64, error) {
	out := make(map[storage.UsageKey]int64, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	pairs := make([][2]string, len(keys))
	for i, k := range keys {
		pairs[i] = [2]string{k.Subject, k.CustomerKey}
	}
	list, err := json.Marshal(pairs)
	if err != nil {
		return nil, fmt.Errorf("sqlite: encode usage keys: %w", err)
	}
	rows, err := t.q.QueryContext(ctx, `SELECT u.subject, u.customer_key, u.uses
		FROM json_each(?) k CROSS JOIN customer_usage u
		WHERE u.subject = k.value ->> 0 AND u.customer_key = k.value ->> 1`, string(list))
	if err != nil {
		return nil, fmt.Errorf("sqlite: customer usages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k storage.UsageKey
			n int64
		)
		if err := rows.Scan(&k.Subject, &k.CustomerKey, &n); err != nil {
			return nil, fmt.Errorf("sqlite: customer usages: %w", err)
		}
		out[k] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: customer usages: %w", err)
	}
	return out, nil
}
