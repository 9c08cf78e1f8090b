package engine

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// GenerateBatch is how many codes one transaction of a generation job
// inserts by default (Config.GenerateBatch). Progress is committed with
// each batch. Larger batches write each touched index page to the log once
// for more codes: on SQLite 50,000 codes a batch generate about twice as
// fast as 10,000.
const GenerateBatch = 50_000

// CreateCodeJob starts the generation of spec.Count codes for a promotion
// as a background job and returns it. The spec is refused up front when
// its code space is too small for the codes the promotion will have (C3,
// policy.codes.min_space_per_code), and under P4 when the codes would pass
// the store's rolling quota.
func (s *Service) CreateCodeJob(ctx context.Context, promotionID string, spec promokit.CodeSpec) (*promokit.Job, error) {
	pr, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller)
	if err != nil {
		return nil, err
	}
	spec.Normalize()
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	var j *promokit.Job
	err = s.write(ctx, func(tx storage.Tx) error {
		now := s.now()
		cc, err := s.loadForCodes(ctx, tx, pr, promotionID, now)
		if err != nil {
			return err
		}
		// The codes of an import under way hold values of the space too.
		existing, err := tx.CodeCount(ctx, storage.CodeCount{PromotionID: promotionID, Pending: true})
		if err != nil {
			return err
		}
		if err := spec.CheckSpace(existing+spec.Count, cc.settings.Policy.Codes.MinSpacePerCode); err != nil {
			return err
		}
		if err := s.checkQuota(ctx, tx, cc, now, spec.Count); err != nil {
			return err
		}
		j = &promokit.Job{
			ID: promokit.NewID(promokit.PrefixJob, now), Kind: promokit.JobGenerateCodes,
			StoreID: cc.promo.StoreID, PromotionID: promotionID, Spec: spec, Total: spec.Count,
			State: promokit.JobQueued, CreatedAt: now, UpdatedAt: now,
		}
		if cc.store.PartnerPromoCodes {
			// P4 allows a handful of codes: draw them in this transaction,
			// so that the quota just checked counts them at once and no
			// code created meanwhile can pass it.
			return generateNow(ctx, tx, j, now)
		}
		return tx.JobCreate(ctx, j)
	})
	if err != nil {
		return nil, err
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return j, nil
}

// generateNow draws and inserts all of a small job's codes inside tx and
// records the job as succeeded.
func generateNow(ctx context.Context, tx storage.Tx, j *promokit.Job, now time.Time) error {
	gen := promokit.NewGenerator(j.Spec)
	tmpl := &promokit.Code{PromotionID: j.PromotionID, StoreID: j.StoreID, Active: true, JobID: j.ID, CreatedAt: now}
	for attempt := 0; j.Done < j.Total; attempt++ {
		if attempt == 20 {
			return promokit.Errorf(promokit.ECodeSpace, "the code space is exhausted: 20 draws in a row gave only existing codes")
		}
		values := make([]string, 0, j.Total-j.Done)
		for int64(len(values)) < j.Total-j.Done {
			if v := gen.Next(); !slices.Contains(values, v) {
				values = append(values, v)
			}
		}
		n, err := tx.CodeInsertValuesMany(ctx, tmpl, values)
		if err != nil {
			return err
		}
		j.Done += n
	}
	j.State, j.FinishedAt = promokit.JobSucceeded, &now
	return tx.JobCreate(ctx, j)
}

// GetJob returns a job of the caller's store (admin: any).
func (s *Service) GetJob(ctx context.Context, id string) (*promokit.Job, error) {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller)
	if err != nil {
		return nil, err
	}
	var j *promokit.Job
	err = s.read(ctx, func(tx storage.Tx) error {
		j, err = tx.JobGet(ctx, p.Scope(), id)
		return err
	})
	return j, err
}

// RunJobs works on background jobs until ctx ends: it releases expired
// holds and due commissions, deletes the codes of failed and abandoned
// imports (CleanCodeImports), rolls up the ledger's closed days, claims a
// job whose lease is free, runs it batch by batch, and looks for the next.
// Several processes may run it at once; each job has one worker at a time,
// and a job whose worker died is taken over when its lease runs out.
func (s *Service) RunJobs(ctx context.Context, poll time.Duration) {
	if poll <= 0 {
		poll = time.Second
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	// The day before which this process last rolled up the ledger. A UTC
	// day's entries are rolled up once it has been closed for an hour
	// (ledgerSettle), time for the transactions still writing entries of
	// that day to commit; each process then asks once a day.
	var rolled time.Time
	for {
		// Holds whose time has passed give their uses back.
		for ctx.Err() == nil {
			n, err := s.ExpireHolds(ctx, 1000)
			if err != nil && ctx.Err() == nil {
				s.log.Error("expire holds", "err", err)
			}
			if n < 1000 || err != nil {
				break
			}
		}
		// Completed orders whose hold has passed release their commissions.
		for ctx.Err() == nil {
			n, err := s.ReleaseDue(ctx, 1000)
			if err != nil && ctx.Err() == nil {
				s.log.Error("release commissions", "err", err)
			}
			if n < 1000 || err != nil {
				break
			}
		}
		// Imports that failed, or whose process died, give their values
		// back.
		if ctx.Err() == nil {
			if _, err := s.CleanCodeImports(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("clean code imports", "err", err)
			}
		}
		// The ledger's closed days are rolled up for the statements.
		if until := s.rollupUntil(); until.After(rolled) && ctx.Err() == nil {
			if _, err := s.rollupLedger(ctx, until); err != nil {
				if ctx.Err() == nil {
					s.log.Error("roll up the ledger", "err", err)
				}
			} else {
				rolled = until
			}
		}
		for ctx.Err() == nil {
			ran, err := s.RunOneJob(ctx)
			if err != nil && ctx.Err() == nil {
				s.log.Error("job worker", "err", err)
			}
			if !ran || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

// RunOneJob claims one job and runs it to its end, or until ctx ends or its
// lease is lost. It reports whether it found a job.
func (s *Service) RunOneJob(ctx context.Context) (bool, error) {
	var j *promokit.Job
	err := s.write(ctx, func(tx storage.Tx) error {
		now := s.now()
		var err error
		j, err = tx.JobClaim(ctx, s.owner, now, now.Add(s.jobLease))
		return err
	})
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	s.log.Info("job claimed", "job", j.ID, "kind", j.Kind, "done", j.Done, "total", j.Total)
	switch j.Kind {
	case promokit.JobGenerateCodes:
		err = s.generate(ctx, j)
	default:
		err = s.finishJob(ctx, j, promokit.JobFailed, "unknown job kind "+j.Kind)
	}
	return true, err
}

// generate draws and inserts a job's remaining codes batch by batch. Each
// batch's codes and the job's progress commit in one transaction, so the
// count is exact after any crash. Up to s.genWorkers batches are in flight
// at once (PostgreSQL inserts them in parallel; SQLite's single writer
// takes them in turn while the next batch is drawn). Values that exist
// already are skipped by the insert and drawn again; a job that keeps
// drawing taken values (its space is exhausted) fails.
func (s *Service) generate(ctx context.Context, j *promokit.Job) error {
	var (
		mu       sync.Mutex
		done     = j.Done
		inflight int64
		barren   int
		failed   error
		wg       sync.WaitGroup
	)
	slots := make(chan struct{}, s.genWorkers)
	for {
		mu.Lock()
		if err := ctx.Err(); err != nil && failed == nil {
			failed = err
		}
		remaining := j.Total - done - inflight
		stop := failed != nil || barren >= 20 || (remaining <= 0 && inflight == 0)
		mu.Unlock()
		if stop {
			break
		}
		if remaining <= 0 {
			// The last batches are in flight; wait for them, then draw
			// again for any values they found taken.
			wg.Wait()
			continue
		}
		n := min(int64(s.genBatch), remaining)
		slots <- struct{}{}
		mu.Lock()
		inflight += n
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			inserted, total, err := s.generateBatch(ctx, j, n)
			mu.Lock()
			defer mu.Unlock()
			inflight -= n
			switch {
			case err != nil:
				if failed == nil {
					failed = err
				}
			case inserted == 0:
				barren++
			default:
				barren = 0
				done = max(done, total)
			}
		}()
	}
	wg.Wait()
	if failed != nil {
		return failed
	}
	if barren >= 20 {
		return s.finishJob(ctx, j, promokit.JobFailed, "the code space is exhausted: 20 batches in a row drew only existing codes")
	}
	if s.metrics != nil {
		s.metrics.jobsFinished.WithLabelValues(j.Kind, string(promokit.JobSucceeded)).Inc()
	}
	j.Done, j.State = done, promokit.JobSucceeded
	s.log.Info("job finished", "job", j.ID, "done", done)
	s.analyzeCodes(ctx)
	return nil
}

// analyzeCodes refreshes the planner's statistics of the codes after a bulk
// insert. A failure only leaves the database to do it later: it is logged.
func (s *Service) analyzeCodes(ctx context.Context) {
	if err := s.db.CodeAnalyze(ctx); err != nil {
		s.log.Warn("refreshing the codes' statistics failed", "err", err)
	}
}

// generateBatch draws n distinct values and inserts them with the job's
// progress in one transaction. It returns how many it inserted and the
// job's progress after the commit.
func (s *Service) generateBatch(ctx context.Context, j *promokit.Job, n int64) (inserted, done int64, err error) {
	started := time.Now()
	gen := promokit.NewGenerator(j.Spec)
	values := make([]string, 0, n)
	seen := make(map[string]struct{}, n)
	for int64(len(values)) < n {
		v := gen.Next()
		if _, dup := seen[v]; !dup {
			seen[v] = struct{}{}
			values = append(values, v)
		}
	}
	// Sorted values make concurrent batches take index locks in one
	// order, so two batches drawing the same value cannot deadlock.
	slices.Sort(values)
	now := s.now()
	tmpl := &promokit.Code{PromotionID: j.PromotionID, StoreID: j.StoreID, Active: true, JobID: j.ID, CreatedAt: now}
	err = s.write(ctx, func(tx storage.Tx) error {
		var err error
		if inserted, err = tx.CodeInsertValuesMany(ctx, tmpl, values); err != nil {
			return err
		}
		done, err = tx.JobAddProgress(ctx, storage.JobProgress{ID: j.ID, Owner: s.owner, N: inserted, Now: now, Until: now.Add(s.jobLease)})
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	if s.metrics != nil {
		s.metrics.jobBatch.Observe(time.Since(started).Seconds())
		s.metrics.codesGenerated.Add(float64(inserted))
	}
	return inserted, done, nil
}

func (s *Service) finishJob(ctx context.Context, j *promokit.Job, state promokit.JobState, msg string) error {
	now := s.now()
	j.State, j.Error, j.FinishedAt, j.UpdatedAt, j.LeaseUntil = state, msg, &now, now, nil
	if s.metrics != nil {
		s.metrics.jobsFinished.WithLabelValues(j.Kind, string(state)).Inc()
	}
	return s.write(ctx, func(tx storage.Tx) error { return tx.JobUpdate(ctx, j, s.owner) })
}
