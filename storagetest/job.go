package storagetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// newJob returns a queued generation job of a store, created at created.
func newJob(id, storeID string, created time.Time) *promokit.Job {
	spec := promokit.CodeSpec{Count: 1000, Length: 8, Charset: promokit.DefaultCharset, Prefix: "SPRING-", Suffix: "-X"}
	return &promokit.Job{ID: id, Kind: promokit.JobGenerateCodes, StoreID: storeID, PromotionID: "prm_1", Spec: spec,
		Total: spec.Count, State: promokit.JobQueued, CreatedAt: created, UpdatedAt: created}
}

func mustCreateJobs(t *testing.T, b *bundle, js ...*promokit.Job) {
	t.Helper()
	b.write(t, func(tx storage.Tx) error {
		for _, j := range js {
			if err := tx.JobCreate(b.ctx, j); err != nil {
				return err
			}
		}
		return nil
	})
}

func mustGetJob(t *testing.T, b *bundle, id string) *promokit.Job {
	t.Helper()
	var got *promokit.Job
	b.read(t, func(tx storage.Tx) (err error) {
		got, err = tx.JobGet(b.ctx, promokit.Scope{}, id)
		return err
	})
	return got
}

// testJobs checks the round trip of every field of a job and its scope.
func testJobs(t *testing.T, b *bundle) {
	queued := newJob("job_1", "sto_1", b.now)
	done := newJob("job_2", "sto_2", b.at(time.Second))
	done.Done, done.State, done.Error = 999, promokit.JobFailed, "the code space is exhausted"
	done.UpdatedAt, done.FinishedAt = b.at(time.Hour), ptr(b.at(time.Hour))
	done.LeaseOwner, done.LeaseUntil = "host-1", ptr(b.at(2*time.Hour))
	mustCreateJobs(t, b, queued, done)
	wantEqual(t, "queued job", queued, mustGetJob(t, b, "job_1"))
	wantEqual(t, "finished job", done, mustGetJob(t, b, "job_2"))

	tests := []struct {
		scope promokit.Scope
		id    string
		found bool
	}{
		{promokit.Scope{StoreID: "sto_1"}, "job_1", true},
		{promokit.Scope{StoreID: "sto_1"}, "job_2", false},
		{promokit.Scope{StoreID: "sto_2"}, "job_1", false},
		{promokit.Scope{PartnerID: "par_1"}, "job_1", false}, // jobs are stores' business
		{promokit.Scope{}, "job_missing", false},
	}
	for _, tc := range tests {
		err := b.readErr(func(tx storage.Tx) error {
			_, err := tx.JobGet(b.ctx, tc.scope, tc.id)
			return err
		})
		if tc.found && err != nil {
			t.Errorf("GetJob(%+v, %s) = %v, want found", tc.scope, tc.id, err)
		}
		if !tc.found && !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("GetJob(%+v, %s) = %v, want not_found", tc.scope, tc.id, err)
		}
	}
}

// testJobsClaim checks the lease semantics of JobClaim and JobUpdate.
func testJobsClaim(t *testing.T, b *bundle) {
	claim := func(owner string, now time.Time) (*promokit.Job, error) {
		var j *promokit.Job
		err := b.writeErr(func(tx storage.Tx) (err error) {
			j, err = tx.JobClaim(b.ctx, owner, now, now.Add(time.Minute))
			return err
		})
		return j, err
	}
	update := func(j *promokit.Job, owner string) error {
		return b.writeErr(func(tx storage.Tx) error { return tx.JobUpdate(b.ctx, j, owner) })
	}
	_, err := claim("a", b.now)
	wantErr(t, "JobClaim with no jobs", err, storage.ErrNotFound)

	older, newer := newJob("job_2", "sto_1", b.now), newJob("job_1", "sto_1", b.at(time.Second))
	finished := newJob("job_0", "sto_1", b.at(-time.Hour))
	finished.State, finished.FinishedAt = promokit.JobSucceeded, ptr(b.now)
	mustCreateJobs(t, b, newer, older, finished)

	// The oldest runnable job comes first, whatever its id.
	now := b.at(time.Hour)
	j, err := claim("a", now)
	if err != nil {
		t.Fatalf("JobClaim: %v", err)
	}
	want := *older
	want.State, want.LeaseOwner, want.LeaseUntil, want.UpdatedAt = promokit.JobRunning, "a", ptr(now.Add(time.Minute)), now
	// A database may or may not bump updated_at on a claim.
	want.UpdatedAt = j.UpdatedAt
	wantEqual(t, "claimed job", &want, j)
	stored := mustGetJob(t, b, older.ID)
	if stored.LeaseOwner != "a" || stored.State != promokit.JobRunning || !stored.LeaseUntil.Equal(now.Add(time.Minute)) {
		t.Fatalf("stored job after the claim = %+v, want leased to a and running", stored)
	}

	// While a's lease runs, b gets the next job, then nothing.
	j2, err := claim("b", now.Add(30*time.Second))
	if err != nil || j2.ID != newer.ID {
		t.Fatalf("second JobClaim = %v, %v; want %s", j2, err, newer.ID)
	}
	_, err = claim("c", now.Add(59*time.Second))
	wantErr(t, "JobClaim while every lease runs", err, storage.ErrNotFound)

	// The owner reports progress and renews its lease, to end before b's.
	j.Done, j.UpdatedAt, j.LeaseUntil = 400, now.Add(50*time.Second), ptr(now.Add(80*time.Second))
	if err := update(j, "a"); err != nil {
		t.Fatalf("JobUpdate by the owner: %v", err)
	}
	wantEqual(t, "job after progress", j, mustGetJob(t, b, j.ID))
	wantErr(t, "JobUpdate by a stranger", update(j, "c"), storage.ErrStale)

	// Once the renewed lease is over, c takes the job over and a's
	// updates fail.
	over := *j.LeaseUntil
	_, err = claim("c", over.Add(-time.Microsecond))
	wantErr(t, "JobClaim a microsecond before the lease ends", err, storage.ErrNotFound)
	j3, err := claim("c", over)
	if err != nil || j3.ID != j.ID || j3.Done != 400 || j3.LeaseOwner != "c" {
		t.Fatalf("JobClaim after the lease = %+v, %v; want %s with its progress, leased to c", j3, err, j.ID)
	}
	j.Done = 500
	wantErr(t, "JobUpdate by the former owner", update(j, "a"), storage.ErrStale)

	// c finishes the job and releases the lease: it is never claimed again.
	j3.Done, j3.State, j3.FinishedAt, j3.UpdatedAt = 1000, promokit.JobSucceeded, ptr(over), over
	j3.LeaseOwner, j3.LeaseUntil = "", nil
	if err := update(j3, "c"); err != nil {
		t.Fatalf("JobUpdate by the new owner: %v", err)
	}
	wantEqual(t, "finished job", j3, mustGetJob(t, b, j3.ID))
	wantErr(t, "JobUpdate after the lease was released", update(j3, "c"), storage.ErrStale)
	_, err = claim("d", over.Add(24*time.Hour))
	if err != nil {
		// job_1 is b's, whose lease ended long ago.
		t.Fatalf("JobClaim of b's expired job: %v", err)
	}
	_, err = claim("e", over.Add(24*time.Hour))
	wantErr(t, "JobClaim with only finished or leased jobs", err, storage.ErrNotFound)
}

// testJobsClaimConcurrent checks that concurrent claims never hand one job
// to two owners.
func testJobsClaimConcurrent(t *testing.T, b *bundle) {
	const jobs, workers = 20, 6
	var js []*promokit.Job
	for i := range jobs {
		js = append(js, newJob(fmt.Sprintf("job_%02d", i), "sto_1", b.at(time.Duration(i)*time.Millisecond)))
	}
	mustCreateJobs(t, b, js...)
	now := b.at(time.Hour)
	var (
		mu      sync.Mutex
		claimed = map[string]string{}
		wg      sync.WaitGroup
	)
	for w := range workers {
		owner := fmt.Sprintf("worker-%d", w)
		wg.Go(func() {
			for {
				var j *promokit.Job
				err := b.writeErr(func(tx storage.Tx) (err error) {
					j, err = tx.JobClaim(b.ctx, owner, now, now.Add(time.Hour))
					return err
				})
				if errors.Is(err, storage.ErrNotFound) {
					return
				}
				if err != nil {
					t.Errorf("JobClaim by %s: %v", owner, err)
					return
				}
				mu.Lock()
				if prev, ok := claimed[j.ID]; ok {
					t.Errorf("%s claimed by %s and %s", j.ID, prev, owner)
				}
				claimed[j.ID] = owner
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(claimed) != jobs {
		t.Fatalf("%d jobs claimed, want %d", len(claimed), jobs)
	}
}

// testJobsProgress checks JobAddProgress: atomic increments from
// concurrent writers, the lease check, and success at the total.
func testJobsProgress(t *testing.T, b *bundle) {
	j := newJob("job_1", "sto_1", b.now)
	mustCreateJobs(t, b, j)
	var claimed *promokit.Job
	b.write(t, func(tx storage.Tx) (err error) {
		claimed, err = tx.JobClaim(b.ctx, "w1", b.now, b.at(time.Minute))
		return err
	})
	if claimed.ID != j.ID {
		t.Fatalf("claimed %s", claimed.ID)
	}
	err := b.writeErr(func(tx storage.Tx) error {
		_, err := tx.JobAddProgress(b.ctx, storage.JobProgress{ID: j.ID, Owner: "w2", N: 10, Now: b.now, Until: b.at(time.Minute)})
		return err
	})
	wantErr(t, "progress by a worker without the lease", err, storage.ErrStale)
	var wg sync.WaitGroup
	for i := 0; i < 9; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := b.writeErr(func(tx storage.Tx) error {
				_, err := tx.JobAddProgress(b.ctx, storage.JobProgress{ID: j.ID, Owner: "w1", N: 100, Now: b.at(time.Second), Until: b.at(2 * time.Minute)})
				return err
			}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got := mustGetJob(t, b, j.ID)
	if got.Done != 900 || got.State != promokit.JobRunning || got.LeaseUntil == nil || !got.LeaseUntil.Equal(b.at(2*time.Minute)) {
		t.Fatalf("after 9 concurrent increments: %+v", got)
	}
	var done int64
	b.write(t, func(tx storage.Tx) (err error) {
		done, err = tx.JobAddProgress(b.ctx, storage.JobProgress{ID: j.ID, Owner: "w1", N: 100, Now: b.at(time.Hour), Until: b.at(2 * time.Hour)})
		return err
	})
	got = mustGetJob(t, b, j.ID)
	if done != 1000 || got.State != promokit.JobSucceeded || got.FinishedAt == nil || !got.FinishedAt.Equal(b.at(time.Hour)) || got.LeaseUntil != nil {
		t.Fatalf("at the total: done %d, %+v", done, got)
	}
}
