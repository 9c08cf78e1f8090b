package sqlite_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/sqlite"
	"github.com/promokit/promokit/storage"
)

// Run the benchmarks once each with
//
//	go test -run '^$' -bench . -benchtime 1x ./sqlite/

const (
	benchCodes     = 1_000_000 // codes generated and exported
	benchBaseline  = 20_000    // codes inserted one statement each
	benchBatchSize = 10_000    // codes per write transaction, as generation jobs do
)

// benchStore opens a migrated store with one store and one promotion.
func benchStore(b *testing.B) (*sqlite.DB, *promokit.Promotion) {
	b.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, b.TempDir()+"/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	now := promokit.SystemClock{}.Now()
	p := &promokit.Promotion{ID: "prm_1", StoreID: "sto_1", Name: "Bench", Channel: promokit.ChannelStore,
		Type: promokit.PercentOff, PercentOff: 1000, Currency: "USD", StartsAt: now, Active: true, Version: 1,
		CreatedAt: now, UpdatedAt: now}
	err = s.Write(ctx, func(tx storage.Tx) error {
		if err := tx.StoreCreate(ctx, &promokit.Store{ID: "sto_1", Name: "Bench", CreatedAt: now}); err != nil {
			return err
		}
		return tx.PromotionCreate(ctx, p)
	})
	if err != nil {
		b.Fatal(err)
	}
	return s, p
}

// codeBatch returns n new random codes of p, as a generation job makes them.
func codeBatch(gen *promokit.Generator, p *promokit.Promotion, n int) []*promokit.Code {
	now := promokit.SystemClock{}.Now()
	out := make([]*promokit.Code, n)
	for i := range out {
		out[i] = &promokit.Code{Code: gen.Next(), PromotionID: p.ID, StoreID: p.StoreID, Active: true,
			JobID: "job_1", CreatedAt: now, UpdatedAt: now}
	}
	return out
}

// fillCodes inserts total codes of p with CodeInsertMany in transactions of
// benchBatchSize codes, the timer running only around the writes.
func fillCodes(b *testing.B, s *sqlite.DB, p *promokit.Promotion, total int) time.Duration {
	b.Helper()
	ctx := context.Background()
	spec := promokit.CodeSpec{Count: int64(total)}
	spec.Normalize()
	gen := promokit.NewGenerator(spec)
	var (
		elapsed  time.Duration
		inserted int64
	)
	for inserted < int64(total) {
		batch := codeBatch(gen, p, min(benchBatchSize, total-int(inserted)))
		start := time.Now()
		err := s.Write(ctx, func(tx storage.Tx) error {
			n, err := tx.CodeInsertMany(ctx, batch)
			inserted += n
			return err
		})
		elapsed += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
	}
	return elapsed
}

// BenchmarkInsertCodes inserts codes with CodeInsertMany in transactions of
// ten thousand: as many as the baseline, and a million.
func BenchmarkInsertCodes(b *testing.B) {
	for _, total := range []int{benchBaseline, benchCodes} {
		b.Run(fmt.Sprintf("codes=%d", total), func(b *testing.B) {
			var elapsed time.Duration
			for range b.N {
				b.StopTimer()
				s, p := benchStore(b)
				elapsed += fillCodes(b, s, p, total)
			}
			b.ReportMetric(float64(total*b.N)/elapsed.Seconds(), "rows/s")
			b.ReportMetric(elapsed.Seconds()/float64(b.N), "s/op")
		})
	}
}

// BenchmarkInsertCodesBaseline is the baseline of BenchmarkInsertCodes:
// one single-row INSERT (CreateCode) per code, in the same transactions of
// ten thousand.
func BenchmarkInsertCodesBaseline(b *testing.B) {
	ctx := context.Background()
	var elapsed time.Duration
	for range b.N {
		s, p := benchStore(b)
		spec := promokit.CodeSpec{Count: benchBaseline}
		spec.Normalize()
		gen := promokit.NewGenerator(spec)
		for done := 0; done < benchBaseline; done += benchBatchSize {
			batch := codeBatch(gen, p, min(benchBatchSize, benchBaseline-done))
			start := time.Now()
			err := s.Write(ctx, func(tx storage.Tx) error {
				for _, c := range batch {
					if err := tx.CodeCreate(ctx, c); err != nil {
						return err
					}
				}
				return nil
			})
			elapsed += time.Since(start)
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(benchBaseline*b.N)/elapsed.Seconds(), "rows/s")
}

// BenchmarkExportCodes streams a million codes with ExportCodes.
func BenchmarkExportCodes(b *testing.B) {
	ctx := context.Background()
	s, p := benchStore(b)
	fillCodes(b, s, p, benchCodes)
	b.ResetTimer()
	var rows int
	for range b.N {
		err := s.CodeExport(ctx, promokit.Scope{StoreID: p.StoreID}, storage.CodeFilter{PromotionID: p.ID}, func(c *promokit.Code) error {
			rows++
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if rows != benchCodes*b.N {
		b.Fatalf("exported %d codes, want %d", rows, benchCodes*b.N)
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkGetCodes looks up batches of 16 codes among a million, as the
// checkout's batched look-ups do (CodeGetMany in the read pool, scoped to the
// store): the hot read of validate and GET /v1/codes/{code}.
func BenchmarkGetCodes(b *testing.B) {
	ctx := context.Background()
	s, p := benchStore(b)
	fillCodes(b, s, p, benchCodes)
	var values []string
	err := s.CodeExport(ctx, promokit.Scope{}, storage.CodeFilter{PromotionID: p.ID, Page: storage.Page{Limit: 4096}}, func(c *promokit.Code) error {
		values = append(values, c.Code)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	scope := promokit.Scope{StoreID: p.StoreID}
	batch := make([]string, 16)
	b.ResetTimer()
	for i := range b.N {
		for j := range batch {
			batch[j] = values[(i*16+j)*7919%len(values)]
		}
		var found []*promokit.Code
		err := s.Read(ctx, func(tx storage.Tx) (err error) {
			found, err = tx.CodeGetMany(ctx, scope, batch)
			return err
		})
		if err != nil || len(found) != len(batch) {
			b.Fatalf("CodeGetMany: %d of %d, %v", len(found), len(batch), err)
		}
	}
	b.ReportMetric(float64(16*b.N)/b.Elapsed().Seconds(), "codes/s")
}
