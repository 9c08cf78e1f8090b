package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

const jobColumns = `id, kind, store_id, promotion_id, spec, total, done, state, error,
	created_at, updated_at, finished_at, lease_owner, lease_until`

// scanJob reads one row of jobColumns.
func scanJob(row pgx.Row) (*promokit.Job, error) {
	var j promokit.Job
	err := row.Scan(&j.ID, &j.Kind, &j.StoreID, &j.PromotionID, &j.Spec, &j.Total, &j.Done, &j.State, &j.Error,
		&j.CreatedAt, &j.UpdatedAt, &j.FinishedAt, &j.LeaseOwner, &j.LeaseUntil)
	if err != nil {
		return nil, err
	}
	return &j, nil
}

// JobCreate inserts a job; storage.ErrExists when its id exists.
func (t *tx) JobCreate(ctx context.Context, j *promokit.Job) error {
	_, err := t.q.Exec(ctx, `INSERT INTO jobs (`+jobColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		j.ID, j.Kind, j.StoreID, j.PromotionID, &j.Spec, j.Total, j.Done, j.State, j.Error,
		j.CreatedAt, j.UpdatedAt, j.FinishedAt, j.LeaseOwner, j.LeaseUntil)
	if err != nil {
		return createErr(err, "job", j.ID, "", "")
	}
	return nil
}

// JobGet returns a job that scope can see: a store scope sees its store's
// jobs, and a partner scope none, since jobs belong to stores.
// storage.ErrNotFound otherwise.
func (t *tx) JobGet(ctx context.Context, scope promokit.Scope, id string) (*promokit.Job, error) {
	j, err := scanJob(t.q.QueryRow(ctx, `SELECT `+jobColumns+` FROM jobs
		WHERE id = $1 AND ($2 = '' OR store_id = $2) AND $3 = ''`,
		id, scope.StoreID, scope.PartnerID))
	if err != nil {
		return nil, scanErr(err, "job", id)
	}
	return j, nil
}

// JobClaim leases the oldest queued or running job whose lease is absent or
// over at now to owner until until, marks it running and returns it;
// storage.ErrNotFound when there is none. SKIP LOCKED lets two processes claim
// two different jobs at once, never the same one.
func (t *tx) JobClaim(ctx context.Context, owner string, now, until time.Time) (*promokit.Job, error) {
	j, err := scanJob(t.q.QueryRow(ctx, `
		UPDATE jobs SET lease_owner = $1, lease_until = $3, state = 'running', updated_at = $2
		WHERE id = (
			SELECT id FROM jobs
			WHERE state IN ('queued', 'running') AND (lease_until IS NULL OR lease_until <= $2)
			ORDER BY created_at, id
			LIMIT 1
			FOR UPDATE SKIP LOCKED)
		RETURNING `+jobColumns, owner, now, until))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("job", "to claim")
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: claim job: %w", err)
	}
	return j, nil
}

// JobUpdate writes a job's progress, state, error, finish time, lease and
// updated_at if owner still holds its lease; storage.ErrStale when another
// owner took the job over (or it does not exist).
func (t *tx) JobUpdate(ctx context.Context, j *promokit.Job, owner string) error {
	tag, err := t.q.Exec(ctx, `
		UPDATE jobs SET done = $3, state = $4, error = $5, finished_at = $6,
			lease_owner = $7, lease_until = $8, updated_at = $9
		WHERE id = $1 AND lease_owner = $2`,
		j.ID, owner, j.Done, j.State, j.Error, j.FinishedAt, j.LeaseOwner, j.LeaseUntil, j.UpdatedAt)
	if err != nil {
		return fmt.Errorf("postgres: update job %q: %w", j.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return storage.Stale("job", j.ID)
	}
	return nil
}

// JobAddProgress adds n to a job's progress, marks it running and extends
// its lease, if owner still holds it, and returns the new progress. A job
// that reaches its total is marked succeeded, its lease released. Two
// batches of one job may commit concurrently: the increment is atomic.
func (t *tx) JobAddProgress(ctx context.Context, p storage.JobProgress) (int64, error) {
	id, owner, n, now, until := p.ID, p.Owner, p.N, p.Now, p.Until
	var done int64
	err := t.q.QueryRow(ctx, `
		UPDATE jobs
		SET done = done + $3,
		    state = CASE WHEN done + $3 >= total THEN 'succeeded' ELSE 'running' END,
		    finished_at = CASE WHEN done + $3 >= total THEN $4::timestamptz ELSE NULL END,
		    lease_until = CASE WHEN done + $3 >= total THEN NULL ELSE $5::timestamptz END,
		    updated_at = $4
		WHERE id = $1 AND lease_owner = $2
		RETURNING done`, id, owner, n, now, until).Scan(&done)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, storage.Stale("job", id)
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: add job progress %q: %w", id, err)
	}
	return done, nil
}
