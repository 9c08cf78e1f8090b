package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit/postgres"
	"github.com/promokit/promokit/storage"
)

// TestStatsPlans checks that the charts of one promotion and one link
// count each day as a range of their indexes of migration 0018 with the
// generic plan that prepared statements settle on. Sequential scans are
// turned off, since on an empty table they would win on cost whatever the
// indexes.
func TestStatsPlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := migratedConn(t)
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

// Run the benchmark of a promotion's chart with
//
//	PROMOKIT_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable \
//	  go test -run '^$' -bench StatsPromotionDaily -benchtime 20x ./postgres/
//
// It seeds what the SQLite benchmark seeds (2,000,000 redemptions over
// the last 100 days, half of them one busy promotion's, one in twenty
// rolled back), vacuums the table as autovacuum would, and counts the
// busy promotion's uses per day over 7, 30 and 90 days, and a quiet
// promotion's over 90, with the index of migration 0018 and then, as the
// baseline, with the index it replaced. It logs the plan of the busy
// promotion's 30 days with each.
func BenchmarkStatsPromotionDaily(b *testing.B) {
	ctx := context.Background()
	s := MustOpenStore(b)
	pool := s.Pool()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	const rows, days = 2_000_000, 100
	start := today.AddDate(0, 0, -days+1)
	step := today.AddDate(0, 0, 1).Sub(start) / rows
	// The pool's sessions are read-only unless a transaction says
	// otherwise.
	write := func(q string, args ...any) {
		b.Helper()
		err := pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{AccessMode: pgx.ReadWrite}, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, q, args...)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	write(`
		INSERT INTO redemptions (store_id, order_id, code, promotion_id, discount, state, request_hash, created_at, updated_at)
		SELECT 'sto_1', 'o' || i, 'C-' || (i % 1000),
		       CASE WHEN i % 2 = 0 THEN 'prm_busy' WHEN i % 2000 = 1 THEN 'prm_quiet' ELSE 'prm_' || (i % 999) END,
		       100, CASE WHEN i % 40 = 0 THEN 'rolled_back' ELSE 'redeemed' END, '\x01',
		       $2::timestamptz + i * $3::interval, $2::timestamptz + i * $3::interval
		FROM generate_series(0, $1 - 1) AS i`, rows, start, step)
	bounds := func(n int) []time.Time {
		out := make([]time.Time, n+1)
		for i := range out {
			out[i] = today.AddDate(0, 0, i-n+1)
		}
		return out
	}
	run := func(b *testing.B, promotion string, n int) {
		var counted int64
		for range b.N {
			err := s.Read(ctx, func(t storage.Tx) error {
				got, err := t.StatsPromotionDaily(ctx, promotion, bounds(n))
				counted = 0
				for _, v := range got {
					counted += v
				}
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(counted), "uses")
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/chart")
	}
	for _, index := range []struct{ name, columns string }{
		{"index=0018", "promotion_id, state, created_at"},
		{"index=0017", "promotion_id, state"},
	} {
		write(`DROP INDEX redemptions_promotion`)
		write(`CREATE INDEX redemptions_promotion ON redemptions (` + index.columns + `)`)
		if _, err := pool.Exec(ctx, `VACUUM (ANALYZE) redemptions`); err != nil {
			b.Fatal(err)
		}
		days := bounds(30)
		rows, err := pool.Query(ctx, `EXPLAIN (ANALYZE, BUFFERS) `+postgres.PromotionUsesSQL, "prm_busy", days[:30], days[1:])
		if err != nil {
			b.Fatal(err)
		}
		plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("%s, prm_busy over 30 days:\n%s", index.name, strings.Join(plan, "\n"))
		for _, c := range []struct {
			promotion string
			days      int
		}{{"prm_busy", 7}, {"prm_busy", 30}, {"prm_busy", 90}, {"prm_quiet", 90}} {
			b.Run(fmt.Sprintf("%s/%s/days=%d", index.name, c.promotion, c.days), func(b *testing.B) { run(b, c.promotion, c.days) })
		}
	}
}
