package sqlite

import (
	"strings"
	"testing"
)

// TestQualifyPlans checks that the qualify queries read their partial
// indexes: a store's automatic promotions through promotions_automatic,
// not its other promotions, and a customer's codes through codes_customer,
// not the codes table, whose generated codes are never in that index.
func TestQualifyPlans(t *testing.T) {
	t.Parallel()
	s := mustOpen(t)
	plan := func(t *testing.T, query string, args ...any) string { return queryPlan(t, s, query, args...) }
	if p := plan(t, automaticPromotionsSQL, "sto_1", 1, 1, 1, 100); !strings.Contains(p, "SEARCH p USING INDEX promotions_automatic (store_id=?)") {
		t.Errorf("automatic promotions do not use promotions_automatic:\n%s", p)
	}
	p := plan(t, customerCodesSQL, "cus_1", "sto_1", 1, 1, 1, 1, 100)
	if !strings.Contains(p, "USING INDEX codes_customer (customer_id=? AND store_id=?)") || !strings.Contains(p, "SEARCH p EXISTS USING INDEX sqlite_autoindex_promotions_1 (id=?)") {
		t.Errorf("customer codes do not use codes_customer and the promotions' key:\n%s", p)
	}
}

// queryPlan returns the plan SQLite chooses for query, one line per step.
func queryPlan(t *testing.T, s *DB, query string, args ...any) string {
	t.Helper()
	rows, err := s.reader.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
