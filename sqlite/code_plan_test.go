package sqlite

import (
	"strings"
	"testing"
	"time"

	"github.com/promokit/promokit/storage"
)

// TestStoreCodesPlan checks that a store's codes (the P4 quota's count
// and tally, the P4 tab's list) are read through the store's promotions
// and, for each, codes_promotion: never by walking the table, which holds
// every store's codes.
func TestStoreCodesPlan(t *testing.T) {
	t.Parallel()
	s := mustOpen(t)
	since := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	type query struct {
		sql  string
		args []any
	}
	mk := func(sql string, args []any) query { return query{sql, args} }
	for _, q := range []query{
		mk(codeListByStoreQuery(storage.StoreCodeFilter{StoreID: "sto_1", Page: storage.Page{Limit: 50}})),
		mk(codeListByStoreQuery(storage.StoreCodeFilter{StoreID: "sto_1", Page: storage.Page{Limit: 50, After: "CODE-1"}})),
		mk(codeCountQuery(storage.CodeCount{StoreID: "sto_1", Since: since}, "count(*)")),
		mk(codeCountQuery(storage.CodeCount{StoreID: "sto_1", Since: since}, "count(*), min(c.created_at)")),
	} {
		p := queryPlan(t, s, q.sql, q.args...)
		if !strings.Contains(p, "SEARCH p USING COVERING INDEX promotions_store (store_id=?)") ||
			!strings.Contains(p, "SEARCH c USING INDEX codes_promotion (promotion_id=?") || strings.Contains(p, "SCAN c") {
			t.Errorf("%s does not read the store's codes through codes_promotion:\n%s", q.sql, p)
		}
	}
}
