package engine_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// Hot-promotion figures (BENCHMARKS.md):
//
//	PROMOKIT_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable \
//	  go test -run '^$' -bench 'Hot' -benchtime 3000x ./engine/
//
// BenchmarkRedeemHot redeems through the engine (price, conditional
// counters, one row per code) on one promotion with a high limit;
// BenchmarkHotRowBaseline is the pattern of HOT-LIMITS.md: one conditional
// UPDATE of the hot row and one INSERT per transaction.

func BenchmarkRedeemHot(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		for _, clients := range []int{1, 16, 64} {
			b.Run(fmt.Sprintf("%s/clients=%d", db, clients), func(b *testing.B) {
				svc, admin, p := benchPromotion(b, dbtest.Open(b, db))
				codes := make([]string, 50)
				for i := range codes {
					codes[i] = fmt.Sprintf("HOT-%02d", i)
					if _, err := svc.CreateCode(admin, p.ID, engine.CodeInput{Code: codes[i]}); err != nil {
						b.Fatal(err)
					}
				}
				var n atomic.Int64
				runClients(b, clients, func() error {
					i := n.Add(1)
					_, err := svc.Redeem(admin, engine.RedeemInput{
						OrderID: fmt.Sprintf("ord-%d", i),
						Cart: promokit.Cart{StoreID: p.StoreID, Currency: "USD",
							Lines: []promokit.Line{{ProductID: "tshirt", Quantity: 1, UnitPrice: 5000}}},
						Codes: []string{codes[i%50]},
					})
					return err
				})
			})
		}
	}
}

func BenchmarkHotRowBaseline(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		for _, clients := range []int{1, 16, 64} {
			b.Run(fmt.Sprintf("%s/clients=%d", db, clients), func(b *testing.B) {
				st := dbtest.Open(b, db)
				_, _, p := benchPromotion(b, st)
				ctx := context.Background()
				var n atomic.Int64
				runClients(b, clients, func() error {
					i := n.Add(1)
					return st.Write(ctx, func(tx storage.Tx) error {
						ok, err := tx.UsagePromotionAdd(ctx, p.ID, 1, 0)
						if err != nil || !ok {
							return fmt.Errorf("take: %v %v", ok, err)
						}
						now := time.Now().UTC()
						return tx.RedemptionCreate(ctx, &promokit.Redemption{StoreID: p.StoreID, OrderID: fmt.Sprint("ord-", i),
							Code: "HOT", PromotionID: p.ID, State: promokit.RedemptionRedeemed, RequestHash: []byte{1}, CreatedAt: now, UpdatedAt: now})
					})
				})
			})
		}
	}
}

// runClients calls fn b.N times from clients goroutines and reports the
// rate and the latency percentiles.
func runClients(b *testing.B, clients int, fn func() error) {
	b.Helper()
	var (
		mu   sync.Mutex
		lats = make([]time.Duration, 0, b.N)
		left atomic.Int64
		wg   sync.WaitGroup
	)
	left.Store(int64(b.N))
	b.ResetTimer()
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Go(func() {
			mine := make([]time.Duration, 0, b.N/clients+1)
			for left.Add(-1) >= 0 {
				t0 := time.Now()
				if err := fn(); err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lats)
	if len(lats) == 0 {
		return
	}
	pct := func(p float64) float64 { return float64(lats[int(float64(len(lats)-1)*p)].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(lats))/elapsed.Seconds(), "redemptions/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}
