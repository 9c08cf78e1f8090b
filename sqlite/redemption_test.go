package sqlite

import (
	"strings"
	"testing"
)

// TestOrderRedemptionsPlan checks that an order's redemptions are read
// through the two partial unique indexes of the order's key, rows with a
// code and codeless rows, and never by a scan of the table.
func TestOrderRedemptionsPlan(t *testing.T) {
	t.Parallel()
	s := mustOpen(t)
	p := queryPlan(t, s, orderRedemptionsSQL, "sto_1", `["ord-1","ord-2"]`)
	for _, want := range []string{
		"SEARCH redemptions USING INDEX redemptions_order_code (store_id=? AND order_id=?)",
		"SEARCH redemptions USING INDEX redemptions_order_promotion (store_id=? AND order_id=?)",
	} {
		if !strings.Contains(p, want) {
			t.Errorf("plan without %q:\n%s", want, p)
		}
	}
	if strings.Contains(p, "SCAN redemptions") {
		t.Errorf("plan scans the table:\n%s", p)
	}
}
