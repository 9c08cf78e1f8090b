package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit/postgres"
)

// TestStatsPlans checks that the charts of one promotion and one link
// count each day as a range of their indexes of migration 0018 with the
// generic plan that prepared statements settle on. Sequential scans are
// turned off, since on an empty table they would win on cost whatever the
// indexes.
func TestStatsPlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := MustOpenSchema(t)
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(ctx) })
	for _, q := range []string{"SET enable_seqscan = off", "SET plan_cache_mode = force_generic_plan",
		"PREPARE uses AS " + postgres.PromotionUsesSQL, "PREPARE link AS " + postgres.LinkStatsSQL} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	plan := func(q string) string {
		t.Helper()
		rows, err := conn.Query(ctx, q, pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(lines, "\n")
	}
	const days = `'{2026-01-01, 2026-01-02}', '{2026-01-02, 2026-01-03}'`
	p := plan("EXPLAIN EXECUTE uses('prm_1', " + days + ")")
	if !strings.Contains(p, "Index Only Scan using redemptions_promotion on redemptions r") ||
		!strings.Contains(p, "Index Cond: ((promotion_id = $1) AND (state = 'redeemed'::text) AND (created_at >= d.lo) AND (created_at < d.hi))") {
		t.Errorf("a promotion's uses per day do not read a range of redemptions_promotion:\n%s", p)
	}
	p = plan("EXPLAIN EXECUTE link('lnk_1', " + days + ")")
	if !strings.Contains(p, "Index Only Scan using clicks_link_day on clicks k") ||
		!strings.Contains(p, "Index Cond: ((link_id = $1) AND (clicked_at >= d.lo) AND (clicked_at < d.hi))") ||
		!strings.Contains(p, "Index Only Scan using orders_link on orders o") ||
		!strings.Contains(p, "Index Cond: ((link_id = $1) AND (placed_at >= d.lo) AND (placed_at < d.hi))") {
		t.Errorf("a link's figures per day do not read ranges of clicks_link_day and orders_link:\n%s", p)
	}
}
