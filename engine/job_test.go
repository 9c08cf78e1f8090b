package engine_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

func TestGenerateCodes(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		p := mustCreatePromotion(t, b.seller, b, percentInput())
		// A space of 31^4 ≈ 923k cannot hold 25,000 codes at 1 in 100,000.
		_, err := b.svc.CreateCodeJob(b.seller, p.ID, promokit.CodeSpec{Count: 25_000, Length: 4})
		if e := wantCode(t, err, promokit.ECodeSpace); e.Rule != "C3" {
			t.Errorf("rule %q", e.Rule)
		}
		_, err = b.svc.CreateCodeJob(b.foreign, p.ID, promokit.CodeSpec{Count: 10})
		wantCode(t, err, promokit.ENotFound)
		_, err = b.svc.CreateCodeJob(b.seller, p.ID, promokit.CodeSpec{Count: 0})
		wantCode(t, err, promokit.EInvalid)

		j, err := b.svc.CreateCodeJob(b.seller, p.ID, promokit.CodeSpec{Count: 25_000, Prefix: "sp-"})
		if err != nil || j.State != promokit.JobQueued || j.Total != 25_000 {
			t.Fatalf("job %+v %v", j, err)
		}
		ran, err := b.svc.RunOneJob(context.Background())
		if err != nil || !ran {
			t.Fatalf("RunOneJob: %v %v", ran, err)
		}
		got, err := b.svc.GetJob(b.seller, j.ID)
		if err != nil || got.State != promokit.JobSucceeded || got.Done != 25_000 || got.FinishedAt == nil {
			t.Fatalf("job after run %+v %v", got, err)
		}
		_, err = b.svc.GetJob(b.foreign, j.ID)
		wantCode(t, err, promokit.ENotFound)
		seen := map[string]bool{}
		err = b.svc.ExportCodes(b.seller, storage.CodeFilter{PromotionID: p.ID}, func(c *promokit.Code, _ *promokit.Promotion) error {
			if seen[c.Code] || len(c.Code) != 13 || c.Code[:3] != "SP-" || !promokit.ValidCode(c.Code) || c.JobID != j.ID {
				t.Fatalf("bad or duplicate code %+v", c)
			}
			seen[c.Code] = true
			return nil
		})
		if err != nil || len(seen) != 25_000 {
			t.Fatalf("%d codes exported: %v", len(seen), err)
		}
		if ran, _ := b.svc.RunOneJob(context.Background()); ran {
			t.Fatal("a finished job ran again")
		}
	})
}

// testBatch is the batch size of the tests' generation jobs: small, so that
// a job of a few tens of thousands of codes takes several batches.
const testBatch = 10_000

// crashingStore cancels a context after a number of write transactions, as
// a process killed in the middle of a job would stop.
type crashingStore struct {
	storage.DB
	writes atomic.Int64
	after  int64
	cancel context.CancelFunc
}

func (s *crashingStore) Write(ctx context.Context, fn func(storage.Tx) error) error {
	if s.writes.Add(1) > s.after {
		s.cancel()
		return context.Canceled
	}
	return s.DB.Write(ctx, fn)
}

func TestGenerateCodesResumesAfterCrash(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		p := mustCreatePromotion(t, b.seller, b, percentInput())
		j, err := b.svc.CreateCodeJob(b.seller, p.ID, promokit.CodeSpec{Count: 35_000})
		if err != nil {
			t.Fatal(err)
		}
		// The first worker claims the job (1 write), commits one or two
		// batches (two are in flight at once) and dies.
		ctx, cancel := context.WithCancel(context.Background())
		crash := &crashingStore{DB: b.store, after: 3, cancel: cancel}
		w1 := engine.New(engine.Config{DB: crash, Clock: b.clock, GenerateBatch: testBatch})
		if _, err := w1.RunOneJob(ctx); err == nil {
			t.Fatal("the crashed worker reported success")
		}
		half, _ := b.svc.GetJob(b.seller, j.ID)
		if half.Done == 0 || half.Done > 2*testBatch || half.Done%testBatch != 0 || half.State != promokit.JobRunning {
			t.Fatalf("after the crash: %+v", half)
		}
		if n := countCodes(t, b, p.ID); int64(n) != half.Done {
			t.Fatalf("%d codes stored, job says %d", n, half.Done)
		}
		// Another worker cannot take the job while the lease holds...
		w2 := engine.New(engine.Config{DB: b.store, Clock: b.clock, GenerateBatch: testBatch})
		if ran, err := w2.RunOneJob(context.Background()); ran || err != nil {
			t.Fatalf("job taken over under a live lease: %v %v", ran, err)
		}
		// ...and resumes it once the lease has run out.
		b.clock.Add(time.Minute)
		if ran, err := w2.RunOneJob(context.Background()); !ran || err != nil {
			t.Fatalf("resume: %v %v", ran, err)
		}
		done, _ := b.svc.GetJob(b.seller, j.ID)
		if done.Done != 35_000 || done.State != promokit.JobSucceeded {
			t.Fatalf("after resume: %+v", done)
		}
		if n := countCodes(t, b, p.ID); n != 35_000 {
			t.Fatalf("%d codes stored after resume, want exactly 35000", n)
		}
	})
}
