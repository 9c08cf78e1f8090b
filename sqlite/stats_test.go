package sqlite

import (
	"strings"
	"testing"
	"time"
)

// TestStatsPlans checks that the charts of one promotion and one link
// count each day as a range of their indexes of migration 0018, from the
// index alone, and never scan a table.
func TestStatsPlans(t *testing.T) {
	t.Parallel()
	s := mustOpen(t)
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	with, args, err := periods("plan", []time.Time{day, day.AddDate(0, 0, 1), day.AddDate(0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	p := queryPlan(t, s, with+promotionUsesSQL, append(args, "prm_1")...)
	if !strings.Contains(p, "USING COVERING INDEX redemptions_promotion (promotion_id=? AND state=? AND created_at>? AND created_at<?)") ||
		strings.Contains(p, "SCAN r") {
		t.Errorf("a promotion's uses per day do not read a range of redemptions_promotion:\n%s", p)
	}
	p = queryPlan(t, s, with+linkStatsSQL, append(args, "lnk_1", "lnk_1")...)
	if !strings.Contains(p, "USING COVERING INDEX clicks_link_day (link_id=? AND clicked_at>? AND clicked_at<?)") ||
		!strings.Contains(p, "USING COVERING INDEX orders_link (link_id=? AND placed_at>? AND placed_at<?)") ||
		strings.Contains(p, "SCAN c") || strings.Contains(p, "SCAN o") {
		t.Errorf("a link's figures per day do not read ranges of clicks_link_day and orders_link:\n%s", p)
	}
}
