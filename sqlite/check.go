package sqlite

import (
	"context"
	"fmt"

	"github.com/promokit/promokit/engine"
)

// checkQuery compares every usage counter with the redemption rows it is
// derived from; held and redeemed rows count. A codeless row (an
// automatic promotion) counts for its promotion and its customer's
// counter of the promotion, never for a code. A customer's counters are
// kept only for promotions and codes with a per-customer limit: counters
// of the others, left from before, are not compared.
const checkQuery = `
WITH live AS (SELECT * FROM redemptions WHERE state IN ('held', 'redeemed')),
byPromotion AS (SELECT promotion_id, count(*) AS n, sum(discount) AS d FROM live GROUP BY promotion_id),
byCode AS (SELECT code, count(*) AS n FROM live WHERE code <> '' GROUP BY code),
byCustomer AS (
    SELECT l.promotion_id AS subject, l.customer_key, count(*) AS n FROM live l JOIN promotions p ON p.id = l.promotion_id
     WHERE l.customer_key <> '' AND p.per_customer IS NOT NULL GROUP BY l.promotion_id, l.customer_key
    UNION ALL
    SELECT 'code:' || l.code, l.customer_key, count(*) FROM live l JOIN codes c ON c.code = l.code
     WHERE l.code <> '' AND l.customer_key <> '' AND c.per_customer_limit IS NOT NULL GROUP BY l.code, l.customer_key)
SELECT 'promotion_uses', p.id, p.uses, coalesce(b.n, 0) FROM promotions p LEFT JOIN byPromotion b ON b.promotion_id = p.id
 WHERE p.uses <> coalesce(b.n, 0)
UNION ALL
SELECT 'promotion_discount', p.id, p.discount_spent, coalesce(b.d, 0) FROM promotions p LEFT JOIN byPromotion b ON b.promotion_id = p.id
 WHERE p.discount_spent <> coalesce(b.d, 0)
UNION ALL
SELECT 'code_uses', c.code, c.uses, coalesce(b.n, 0) FROM codes c LEFT JOIN byCode b ON b.code = c.code
 WHERE c.uses <> coalesce(b.n, 0)
UNION ALL
SELECT 'customer_uses', u.subject || ' ' || u.customer_key, u.uses, coalesce(b.n, 0) FROM customer_usage u
  LEFT JOIN byCustomer b ON b.subject = u.subject AND b.customer_key = u.customer_key
 WHERE u.uses <> coalesce(b.n, 0)
   AND NOT EXISTS (SELECT 1 FROM promotions p WHERE p.id = u.subject AND p.per_customer IS NULL)
   AND NOT (u.subject LIKE 'code:%' AND EXISTS (SELECT 1 FROM codes c WHERE c.code = substr(u.subject, 6) AND c.per_customer_limit IS NULL))
UNION ALL
SELECT 'customer_uses', b.subject || ' ' || b.customer_key, 0, b.n FROM byCustomer b
 WHERE NOT EXISTS (SELECT 1 FROM customer_usage u WHERE u.subject = b.subject AND u.customer_key = b.customer_key)`

// CheckCounters recomputes the usage counters from the rows and returns
// those that differ.
func (s *Store) CheckCounters(ctx context.Context) ([]engine.CounterDiff, error) {
	rows, err := s.reader.QueryContext(ctx, checkQuery)
	if err != nil {
		return nil, fmt.Errorf("sqlite: check counters: %w", err)
	}
	defer rows.Close()
	var out []engine.CounterDiff
	for rows.Next() {
		var d engine.CounterDiff
		if err := rows.Scan(&d.Kind, &d.Subject, &d.Stored, &d.FromRows); err != nil {
			return nil, fmt.Errorf("sqlite: check counters: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: check counters: %w", err)
	}
	return out, nil
}
