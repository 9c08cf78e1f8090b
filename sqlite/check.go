package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// checkWith and checkCounters make checkQuery, which compares every usage
// counter (promokit.Counters) with the redemption rows it is derived from;
// held and redeemed rows count. A codeless row (an
// automatic promotion) counts for its promotion and its customer's
// counter of the promotion, never for a code. A customer's counters are
// kept only for promotions and codes with a per-customer limit: counters
// of the others, left from before, are not compared.
//
// It also sums again by UTC day the entries of the days rolled up (before
// rolled_until) and compares the sums with ledger_daily, both ways (a full
// join): the amount as ledger_daily, the count as ledger_daily_entries,
// with the subject "payer payee day currency program status kind" (the day as
// YYYY-MM-DD). An entry that committed after its day was rolled up shows
// here. The payable balance of each payer, payee and currency is summed
// as a statement sums it (payableRolled: the roll-ups' payable rows, then
// the entries after rolled_until) and as a payout checks it
// (payableEntries: every payable entry), and the two are compared, both
// ways. Each payout's amount is compared with the sum of its paid entries
// (payoutPaid): a payout without them shows too. Last, each entry that
// names a payout is compared with it (checkLedgerPayout).
const checkWith = `
WITH live AS (SELECT * FROM redemptions WHERE state IN ('held', 'redeemed')),
byPromotion AS (SELECT promotion_id, count(*) AS n, sum(discount) AS d FROM live GROUP BY promotion_id),
byCode AS (SELECT code, count(*) AS n FROM live WHERE code <> '' GROUP BY code),
byCustomer AS (
    SELECT l.promotion_id AS subject, l.customer_key, count(*) AS n FROM live l JOIN promotions p ON p.id = l.promotion_id
     WHERE l.customer_key <> '' AND p.per_customer IS NOT NULL GROUP BY l.promotion_id, l.customer_key
    UNION ALL
    SELECT '` + promokit.CodeSubjectPrefix + `' || l.code, l.customer_key, count(*) FROM live l JOIN codes c ON c.code = l.code
     WHERE l.code <> '' AND l.customer_key <> '' AND c.per_customer_limit IS NOT NULL AND ` + liveCode + ` GROUP BY l.code, l.customer_key),
rolled AS (
    SELECT e.payer, e.created_at - e.created_at % 86400000000 AS day, e.payee, e.currency, e.program, e.status,
           e.kind, sum(e.amount) AS amount, count(*) AS entries
      FROM ledger_entries e JOIN ledger_rollup r ON r.id = 1 AND e.created_at < r.rolled_until
     GROUP BY 1, 2, 3, 4, 5, 6, 7),
daily AS MATERIALIZED (
    SELECT coalesce(s.payer, d.payer) || ' ' || coalesce(s.payee, d.payee) || ' ' ||
           strftime('%Y-%m-%d', coalesce(s.day, d.day) / 1000000, 'unixepoch') || ' ' || coalesce(s.currency, d.currency) || ' ' ||
           coalesce(s.program, d.program) || ' ' || coalesce(s.status, d.status) || ' ' || coalesce(s.kind, d.kind) AS subject,
           coalesce(s.amount, 0) AS stored_amount, coalesce(d.amount, 0) AS amount,
           coalesce(s.entries, 0) AS stored_entries, coalesce(d.entries, 0) AS entries
      FROM ledger_daily s FULL JOIN rolled d
        ON d.payer = s.payer AND d.payee = s.payee AND d.day = s.day AND d.program = s.program
       AND d.currency = s.currency AND d.status = s.status AND d.kind = s.kind),
payoutPaid AS (
    SELECT payout_id, sum(amount) AS amount FROM ledger_entries
     WHERE payout_id <> '' AND status = '` + promokit.LedgerPaid + `' GROUP BY payout_id),
payableRolled AS (
    SELECT payer, payee, currency, sum(amount) AS amount FROM (
        SELECT payer, payee, currency, amount FROM ledger_daily WHERE status = '` + promokit.LedgerPayable + `'
        UNION ALL
        SELECT e.payer, e.payee, e.currency, e.amount FROM ledger_entries e
          LEFT JOIN ledger_rollup r ON r.id = 1 AND e.created_at < r.rolled_until
         WHERE e.status = '` + promokit.LedgerPayable + `' AND r.id IS NULL)
     GROUP BY payer, payee, currency),
payableEntries AS (
    SELECT payer, payee, currency, sum(amount) AS amount FROM ledger_entries
     WHERE status = '` + promokit.LedgerPayable + `' GROUP BY payer, payee, currency)`

// checkCounters holds, for each counter of promokit.Counters, the
// queries of its rows that differ, each selecting the subject, the stored
// value, the value from the rows and a detail (empty but for a difference
// that is no sum); checkQuery puts the counter's name before them.
var checkCounters = map[promokit.Counter][]string{
	promokit.CounterPromotionUses: {
		`p.id, p.uses, coalesce(b.n, 0), '' FROM promotions p LEFT JOIN byPromotion b ON b.promotion_id = p.id
 WHERE p.uses <> coalesce(b.n, 0)`,
	},
	promokit.CounterPromotionDiscount: {
		`p.id, p.discount_spent, coalesce(b.d, 0), '' FROM promotions p LEFT JOIN byPromotion b ON b.promotion_id = p.id
 WHERE p.discount_spent <> coalesce(b.d, 0)`,
	},
	promokit.CounterCodeUses: {
		`c.code, c.uses, coalesce(b.n, 0), '' FROM codes c LEFT JOIN byCode b ON b.code = c.code
 WHERE c.uses <> coalesce(b.n, 0) AND ` + liveCode,
	},
	promokit.CounterCustomerUses: {
		`u.subject || ' ' || u.customer_key, u.uses, coalesce(b.n, 0), '' FROM customer_usage u
  LEFT JOIN byCustomer b ON b.subject = u.subject AND b.customer_key = u.customer_key
 WHERE u.uses <> coalesce(b.n, 0)
   AND NOT EXISTS (SELECT 1 FROM promotions p WHERE p.id = u.subject AND p.per_customer IS NULL)
   AND NOT (u.subject LIKE '` + promokit.CodeSubjectPrefix + `%' AND EXISTS (SELECT 1 FROM codes c WHERE c.code = substr(u.subject, length('` + promokit.CodeSubjectPrefix + `') + 1) AND c.per_customer_limit IS NULL AND ` + liveCode + `))`,
		`b.subject || ' ' || b.customer_key, 0, b.n, '' FROM byCustomer b
 WHERE NOT EXISTS (SELECT 1 FROM customer_usage u WHERE u.subject = b.subject AND u.customer_key = b.customer_key)`,
	},
	promokit.CounterLedgerDaily: {
		`subject, stored_amount, amount, '' FROM daily WHERE stored_amount <> amount`,
	},
	promokit.CounterLedgerDailyEntries: {
		`subject, stored_entries, entries, '' FROM daily WHERE stored_entries <> entries`,
	},
	promokit.CounterPayableBalance: {
		`coalesce(s.payer, d.payer) || ' ' || coalesce(s.payee, d.payee) || ' ' || coalesce(s.currency, d.currency),
 coalesce(s.amount, 0), coalesce(d.amount, 0), '' FROM payableRolled s FULL JOIN payableEntries d
    ON d.payer = s.payer AND d.payee = s.payee AND d.currency = s.currency
 WHERE coalesce(s.amount, 0) <> coalesce(d.amount, 0)`,
	},
	promokit.CounterPayoutPaid: {
		`p.id, p.amount, coalesce(e.amount, 0), '' FROM payouts p LEFT JOIN payoutPaid e ON e.payout_id = p.id
 WHERE p.amount <> coalesce(e.amount, 0)`,
	},
	promokit.CounterLedgerPayout: {checkLedgerPayout},
}

// checkLedgerPayout selects each entry that names a payout which does not
// exist, or one whose payer, payee or currency differ from the entry's
// (on the partial index ledger_payout), with a sentence saying which.
const checkLedgerPayout = `CAST(e.id AS TEXT), 0, 0,
       CASE WHEN p.id IS NULL THEN 'names payout ' || e.payout_id || ', which does not exist'
            ELSE 'names payout ' || e.payout_id || ', from ' || p.payer || ' to ' || p.payee || ' in ' || p.currency ||
                 ', but the entry is from ' || e.payer || ' to ' || e.payee || ' in ' || e.currency END
  FROM ledger_entries e LEFT JOIN payouts p ON p.id = e.payout_id
 WHERE e.payout_id <> '' AND (p.id IS NULL OR p.payer <> e.payer OR p.payee <> e.payee OR p.currency <> e.currency)`

// checkQuery is checkWith, then the rows of every counter that differ, in
// the order of promokit.Counters.
var checkQuery = func() string {
	var b strings.Builder
	b.WriteString(checkWith)
	sep := "\n"
	for _, c := range promokit.Counters() {
		for _, q := range checkCounters[c] {
			b.WriteString(sep + "SELECT '" + string(c) + "', " + q)
			sep = "\nUNION ALL\n"
		}
	}
	return b.String()
}()

// UsageCheck recomputes the usage counters from the rows, the ledger's
// daily roll-ups and payable balances and the payouts' amounts from the
// entries, checks the payouts the entries name, and returns what differs.
func (s *DB) UsageCheck(ctx context.Context) ([]storage.CounterDiff, error) {
	rows, err := s.reader.QueryContext(ctx, checkQuery)
	if err != nil {
		return nil, fmt.Errorf("sqlite: check counters: %w", err)
	}
	defer rows.Close()
	var out []storage.CounterDiff
	for rows.Next() {
		var d storage.CounterDiff
		if err := rows.Scan(&d.Kind, &d.Subject, &d.Stored, &d.FromRows, &d.Detail); err != nil {
			return nil, fmt.Errorf("sqlite: check counters: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: check counters: %w", err)
	}
	return out, nil
}
