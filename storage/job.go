package storage

import (
	"context"
	"time"

	"github.com/promokit/promokit"
)

// JobTx reads and writes background jobs and their leases.
type JobTx interface {
	JobCreate(ctx context.Context, j *promokit.Job) error
	JobGet(ctx context.Context, scope promokit.Scope, id string) (*promokit.Job, error)
	// JobClaim leases one queued or running job whose lease is absent or
	// over at now to owner until until, and returns it; ErrNotFound when
	// there is none. Two processes never claim the same job at once.
	JobClaim(ctx context.Context, owner string, now, until time.Time) (*promokit.Job, error)
	// JobUpdate writes a job's progress, state, error, finish time and
	// lease, if owner still holds its lease; ErrStale otherwise.
	JobUpdate(ctx context.Context, j *promokit.Job, owner string) error
	// JobAddProgress adds p.N to the job's progress if p.Owner still holds
	// its lease, extends the lease to p.Until, and returns the new progress; a
	// job reaching its total becomes succeeded and its lease is released.
	// ErrStale when the lease is lost. Concurrent batches of one job may
	// call it: the increment is atomic.
	JobAddProgress(ctx context.Context, p JobProgress) (int64, error)
}

// JobProgress is N more units of progress of the job ID, reported at Now
// by the holder of its lease Owner, who keeps it until Until
// (JobAddProgress).
type JobProgress struct {
	ID    string
	Owner string
	N     int64
	Now   time.Time
	Until time.Time
}
