package sqlite

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
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

// Run the benchmark of a promotion's chart with
//
//	go test -run '^$' -bench StatsPromotionDaily -benchtime 20x ./sqlite/
//
// It seeds 2,000,000 redemptions over the last 100 days: 1,000,000 of one
// busy promotion (10,000 a day, one in twenty rolled back) and as many of
// 1,000 others, then counts the busy promotion's uses per day over 7, 30
// and 90 days, and a quiet promotion's (1,000 uses) over 90, first with
// the index of migration 0018 and then, as the baseline, with the index
// it replaced, redemptions_promotion (promotion_id, state).
func BenchmarkStatsPromotionDaily(b *testing.B) {
	ctx := b.Context()
	s, err := Open(ctx, b.TempDir()+"/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	const rows, days = 2_000_000, 100
	start := micros(today.AddDate(0, 0, -days+1))
	step := (micros(today.AddDate(0, 0, 1)) - start) / rows
	// Row i is made at start + i*step: even rows are the busy
	// promotion's, odd ones another's (every thousandth of them the
	// quiet promotion's).
	if _, err := s.writer.ExecContext(ctx, `WITH RECURSIVE n (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
		INSERT INTO redemptions (store_id, order_id, code, promotion_id, discount, state, request_hash, created_at, updated_at)
		SELECT 'sto_1', 'o' || i, 'C-' || (i % 1000),
		       CASE WHEN i % 2 = 0 THEN 'prm_busy' WHEN i % 2000 = 1 THEN 'prm_quiet' ELSE 'prm_' || (i % 999) END,
		       100, CASE WHEN i % 40 = 0 THEN 'rolled_back' ELSE 'redeemed' END, x'01', ? + i * ?, ? + i * ?
		FROM n`, rows, start, step, start, step); err != nil {
		b.Fatal(err)
	}
	if _, err := s.writer.ExecContext(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, promotion string, n int) {
		bounds := make([]time.Time, n+1)
		for i := range bounds {
			bounds[i] = today.AddDate(0, 0, i-n+1)
		}
		var counted int64
		for range b.N {
			err := s.Read(ctx, func(t storage.Tx) error {
				got, err := t.StatsPromotionDaily(ctx, promotion, bounds)
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
		if _, err := s.writer.ExecContext(ctx, `DROP INDEX redemptions_promotion; CREATE INDEX redemptions_promotion ON redemptions (`+
			index.columns+`); ANALYZE`); err != nil {
			b.Fatal(err)
		}
		for _, c := range []struct {
			promotion string
			days      int
		}{{"prm_busy", 7}, {"prm_busy", 30}, {"prm_busy", 90}, {"prm_quiet", 90}} {
			b.Run(fmt.Sprintf("%s/%s/days=%d", index.name, c.promotion, c.days), func(b *testing.B) { run(b, c.promotion, c.days) })
		}
	}
}

// Run the benchmark of the write cost of the click index with
//
//	go test -run '^$' -bench ClickInsertIndexes -benchtime 2000x ./sqlite/
//
// Two databases hold 1,000,000 clicks over 100 links each, one with the
// indexes of migration 0018 and one without clicks_link_day, as before
// it. Each op writes a batch of 1,000 clicks (as the click queue does
// under load) to each of them in turn, the first going first in even ops
// and second in odd ones, so that the machine's drift weighs on both; it
// reports each one's rate and the share of the first's.
func BenchmarkClickInsertIndexes(b *testing.B) {
	ctx := b.Context()
	open := func(drop bool) *DB {
		s, err := Open(ctx, b.TempDir()+"/bench.db")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		if err := s.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
		if drop {
			if _, err := s.writer.ExecContext(ctx, `DROP INDEX clicks_link_day`); err != nil {
				b.Fatal(err)
			}
		}
		start := time.Now().Add(-100 * 24 * time.Hour)
		if _, err := s.writer.ExecContext(ctx, `WITH RECURSIVE n (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999999)
			INSERT INTO clicks (link_id, store_id, partner_id, visitor_id, clicked_at, user_agent, flag)
			SELECT 'lnk_' || (i % 100), 'sto_1', 'par_1', 'v' || (i % 50000), ? + i * 8640, 'Mozilla/5.0', CASE WHEN i % 10 = 0 THEN 'bot' ELSE '' END
			FROM n`, micros(start)); err != nil {
			b.Fatal(err)
		}
		return s
	}
	dbs := []*DB{open(false), open(true)}
	var spent [2]time.Duration
	batch := make([]*promokit.Click, 1000)
	b.ResetTimer()
	for i := range b.N {
		for k := range dbs {
			k = (k + i) % 2
			now := time.Now()
			for j := range batch {
				batch[j] = &promokit.Click{LinkID: fmt.Sprintf("lnk_%d", (i*1000+j)%100), StoreID: "sto_1", PartnerID: "par_1",
					VisitorID: fmt.Sprintf("w%d-%d", i, j), ClickedAt: now, UserAgent: "Mozilla/5.0"}
			}
			start := time.Now()
			if err := dbs[k].Write(ctx, func(t storage.Tx) error { return t.ClickInsertMany(ctx, batch) }); err != nil {
				b.Fatal(err)
			}
			spent[k] += time.Since(start)
		}
	}
	b.ReportMetric(float64(1000*b.N)/spent[0].Seconds(), "clicks/s-0018")
	b.ReportMetric(float64(1000*b.N)/spent[1].Seconds(), "clicks/s-0017")
	b.ReportMetric(100*spent[1].Seconds()/spent[0].Seconds(), "%-of-0017")
}
