package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// Generation figures (BENCHMARKS.md):
//
//	PROMOKIT_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable \
//	  go test -run '^$' -bench 'Generate' -benchtime 1x -timeout 30m ./engine/
//
// BenchmarkGenerateCodes runs a 1,000,000-code job through the engine;
// BenchmarkGenerateCodesBaseline inserts codes one per transaction, one
// INSERT each, as a naive generator would, and reports the same rate.

func benchPromotion(b *testing.B, st storage.DB) (*engine.Service, context.Context, *promokit.Promotion) {
	b.Helper()
	svc := engine.New(engine.Config{DB: st})
	if _, _, err := svc.Bootstrap(context.Background()); err != nil {
		b.Fatal(err)
	}
	admin := as(promokit.Principal{KeyID: "key_admin", Role: promokit.RoleAdmin})
	shop, err := svc.CreateStore(admin, engine.StoreInput{Name: ptr("Bench")})
	if err != nil {
		b.Fatal(err)
	}
	in := percentInput()
	in.StoreID = shop.ID
	in.StartsAt = nil
	in.EndsAt = engine.Nullable[time.Time]{}
	in.TotalUses = set(int64(1_000_000_000)) // a hot promotion with room
	p, err := svc.CreatePromotion(admin, in)
	if err != nil {
		b.Fatal(err)
	}
	return svc, admin, p
}

func BenchmarkGenerateCodes(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			const count = 1_000_000
			svc, admin, p := benchPromotion(b, dbtest.Open(b, db))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				j, err := svc.CreateCodeJob(admin, p.ID, promokit.CodeSpec{Count: count, Length: 12})
				if err != nil {
					b.Fatal(err)
				}
				if ran, err := svc.RunOneJob(context.Background()); !ran || err != nil {
					b.Fatalf("RunOneJob: %v %v", ran, err)
				}
				if j, _ = svc.GetJob(admin, j.ID); j.Done != count {
					b.Fatalf("job did %d", j.Done)
				}
			}
			b.ReportMetric(float64(count*b.N)/b.Elapsed().Seconds(), "codes/s")
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/1M-codes")
		})
	}
}

func BenchmarkGenerateCodesBaseline(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			const count = 20_000
			st := dbtest.Open(b, db)
			_, _, p := benchPromotion(b, st)
			gen := promokit.NewGenerator(promokit.CodeSpec{Length: 12, Charset: promokit.DefaultCharset})
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for k := 0; k < count; k++ {
					now := time.Now().UTC()
					c := &promokit.Code{Code: gen.Next(), PromotionID: p.ID, StoreID: p.StoreID, Active: true, CreatedAt: now, UpdatedAt: now}
					if err := st.Write(ctx, func(tx storage.Tx) error { return tx.CodeCreate(ctx, c) }); err != nil {
						b.Fatal(fmt.Errorf("code %d: %w", k, err))
					}
				}
			}
			rate := float64(count*b.N) / b.Elapsed().Seconds()
			b.ReportMetric(rate, "codes/s")
			b.ReportMetric(1_000_000/rate, "s/1M-codes")
		})
	}
}
