package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/postgres"
	"github.com/promokit/promokit/storage"
)

// benchBatch is the number of codes of one generation transaction.
const benchBatch = 10_000

// MustCreatePromotion creates a store and a promotion of it and returns
// the promotion.
func MustCreatePromotion(tb testing.TB, s *postgres.DB, now time.Time) *promokit.Promotion {
	tb.Helper()
	st := &promokit.Store{ID: promokit.NewID(promokit.PrefixStore, now), Name: "Shop", CreatedAt: now}
	p := &promokit.Promotion{
		ID: promokit.NewID(promokit.PrefixPromotion, now), StoreID: st.ID, Name: "Ten off",
		Channel: promokit.ChannelStore, Type: promokit.PercentOff, PercentOff: 1000, Currency: "USD",
		StartsAt: now, Active: true, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	err := s.Write(context.Background(), func(tx storage.Tx) error {
		if err := tx.StoreCreate(context.Background(), st); err != nil {
			return err
		}
		return tx.PromotionCreate(context.Background(), p)
	})
	if err != nil {
		tb.Fatalf("create promotion: %v", err)
	}
	return p
}

// newCodes draws n codes of p.
func newCodes(g *promokit.Generator, p *promokit.Promotion, n int, now time.Time) []*promokit.Code {
	codes := make([]*promokit.Code, n)
	for i := range codes {
		codes[i] = &promokit.Code{Code: g.Next(), PromotionID: p.ID, StoreID: p.StoreID, Active: true,
			JobID: "job_bench", CreatedAt: now, UpdatedAt: now}
	}
	return codes
}

// generate inserts n new codes of p in transactions of benchBatch codes
// with insert, drawing again for values that exist, as a generation job
// does. The timer stops while codes are drawn.
func generate(b *testing.B, s *postgres.DB, p *promokit.Promotion, n int, insert func(context.Context, storage.Tx, []*promokit.Code) (int64, error)) {
	b.Helper()
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 9, 30, 0, 123456000, time.UTC)
	g := promokit.NewGenerator(promokit.CodeSpec{Length: 12, Charset: promokit.DefaultCharset})
	for done := 0; done < n; {
		b.StopTimer()
		codes := newCodes(g, p, min(benchBatch, n-done), now)
		b.StartTimer()
		err := s.Write(ctx, func(tx storage.Tx) error {
			k, err := insert(ctx, tx, codes)
			done += int(k)
			return err
		})
		if err != nil {
			b.Fatalf("insert codes: %v", err)
		}
	}
}

// insertCodes inserts codes with CodeInsertMany.
func insertCodes(ctx context.Context, tx storage.Tx, codes []*promokit.Code) (int64, error) {
	return tx.CodeInsertMany(ctx, codes)
}

// BenchmarkInsertCodes measures code generation's inserts: CodeInsertMany
// with 10,000 codes per transaction, against one INSERT per code.
func BenchmarkInsertCodes(b *testing.B) {
	cases := []struct {
		name   string
		n      int
		insert func(context.Context, storage.Tx, []*promokit.Code) (int64, error)
	}{
		{"unnest", 1_000_000, insertCodes},
		{"row", 20_000, func(ctx context.Context, tx storage.Tx, codes []*promokit.Code) (int64, error) {
			for i, c := range codes {
				if err := tx.CodeCreate(ctx, c); err != nil {
					return int64(i), err
				}
			}
			return int64(len(codes)), nil
		}},
	}
	for _, tc := range cases {
		b.Run(fmt.Sprintf("%s/%d", tc.name, tc.n), func(b *testing.B) {
			s := MustOpenStore(b)
			p := MustCreatePromotion(b, s, time.Now())
			var rows int
			for b.Loop() {
				generate(b, s, p, tc.n, tc.insert)
				rows += tc.n
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkExportCodes measures ExportCodes over a promotion of 1,000,000 codes.
func BenchmarkExportCodes(b *testing.B) {
	const n = 1_000_000
	ctx := context.Background()
	s := MustOpenStore(b)
	p := MustCreatePromotion(b, s, time.Now())
	generate(b, s, p, n, insertCodes)
	if _, err := s.Pool().Exec(ctx, `VACUUM ANALYZE codes`); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var rows int
	for b.Loop() {
		count := 0
		err := s.CodeExport(ctx, promokit.Scope{StoreID: p.StoreID}, storage.CodeFilter{PromotionID: p.ID}, func(*promokit.Code) error {
			count++
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if count != n {
			b.Fatalf("exported %d codes, want %d", count, n)
		}
		rows += count
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
