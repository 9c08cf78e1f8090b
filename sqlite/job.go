package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

const jobColumns = `id, kind, store_id, promotion_id, spec, total, done, state, error, created_at, updated_at,
	finished_at, lease_owner, lease_until`

// JobCreate inserts a job with every field. storage.ErrExists when its id
// exists.
func (t *tx) JobCreate(ctx context.Context, j *promokit.Job) error {
	spec, err := json.Marshal(j.Spec)
	if err != nil {
		return fmt.Errorf("sqlite: encode job spec: %w", err)
	}
	_, err = t.q.ExecContext(ctx, `INSERT INTO jobs (`+jobColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		j.ID, j.Kind, j.StoreID, j.PromotionID, string(spec), j.Total, j.Done, string(j.State), j.Error,
		micros(j.CreatedAt), micros(j.UpdatedAt), nullMicros(j.FinishedAt), j.LeaseOwner, nullMicros(j.LeaseUntil))
	if err != nil {
		if constraintViolation(err) == uniqueViolation {
			return storage.Exists("job", j.ID)
		}
		return fmt.Errorf("sqlite: create job %q: %w", j.ID, err)
	}
	return nil
}

// JobGet returns a job that scope can see: any for an empty scope, one of
// the scope's store for a store scope. Jobs belong to stores, never to
// partners, so a partner scope sees none. storage.ErrNotFound otherwise.
func (t *tx) JobGet(ctx context.Context, scope promokit.Scope, id string) (*promokit.Job, error) {
	var w where
	w.add("id = ?", id)
	if scope.StoreID != "" {
		w.add("store_id = ?", scope.StoreID)
	}
	if scope.PartnerID != "" {
		w.add("0")
	}
	j, err := scanJob(t.q.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs`+w.String(), w.args...))
	if err != nil {
		return nil, noRows(err, "job", id)
	}
	return j, nil
}

// JobClaim leases the oldest queued or running job whose lease is absent or
// over at now to owner until until, marks it running and returns it;
// storage.ErrNotFound when there is none. It must run in a Write: the single
// writer makes the claim exclusive, so two processes never claim one job at
// once.
func (t *tx) JobClaim(ctx context.Context, owner string, now, until time.Time) (*promokit.Job, error) {
	j, err := scanJob(t.q.QueryRowContext(ctx, `UPDATE jobs
		SET lease_owner = ?, lease_until = ?, state = 'running', updated_at = ?
		WHERE id = (
			SELECT id FROM jobs
			WHERE state IN ('queued', 'running') AND (lease_until IS NULL OR lease_until <= ?)
			ORDER BY created_at, id LIMIT 1
		)
		RETURNING `+jobColumns,
		owner, micros(until), micros(now), micros(now)))
	if err != nil {
		return nil, noRows(err, "job", "to claim")
	}
	return j, nil
}

// JobUpdate writes a job's progress, state, error, finish time, lease and
// updated_at if owner still holds its lease; storage.ErrStale otherwise, which
// tells a worker whose lease expired that another has taken the job over.
func (t *tx) JobUpdate(ctx context.Context, j *promokit.Job, owner string) error {
	res, err := t.q.ExecContext(ctx, `UPDATE jobs
		SET done = ?, state = ?, error = ?, finished_at = ?, lease_owner = ?, lease_until = ?, updated_at = ?
		WHERE id = ? AND lease_owner = ?`,
		j.Done, string(j.State), j.Error, nullMicros(j.FinishedAt), j.LeaseOwner, nullMicros(j.LeaseUntil), micros(j.UpdatedAt),
		j.ID, owner)
	if err != nil {
		return fmt.Errorf("sqlite: update job %q: %w", j.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: update job %q: %w", j.ID, err)
	}
	if n == 0 {
		return storage.Stale("job", j.ID)
	}
	return nil
}

func scanJob(row scanner) (*promokit.Job, error) {
	var (
		j                    promokit.Job
		spec, state          string
		createdAt, updatedAt int64
		finishedAt, until    sql.NullInt64
	)
	if err := row.Scan(&j.ID, &j.Kind, &j.StoreID, &j.PromotionID, &spec, &j.Total, &j.Done, &state, &j.Error,
		&createdAt, &updatedAt, &finishedAt, &j.LeaseOwner, &until); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(spec), &j.Spec); err != nil {
		return nil, fmt.Errorf("decode spec of job %q: %w", j.ID, err)
	}
	j.State = promokit.JobState(state)
	j.CreatedAt = fromMicros(createdAt)
	j.UpdatedAt = fromMicros(updatedAt)
	j.FinishedAt = timePtr(finishedAt)
	j.LeaseUntil = timePtr(until)
	return &j, nil
}

// JobAddProgress adds n to a job's progress, marks it running and extends
// its lease, if owner still holds it, and returns the new progress. A job
// that reaches its total is marked succeeded, its lease released.
func (t *tx) JobAddProgress(ctx context.Context, p storage.JobProgress) (int64, error) {
	id, owner, n, now, until := p.ID, p.Owner, p.N, p.Now, p.Until
	var done int64
	err := t.q.QueryRowContext(ctx, `UPDATE jobs
		SET done = done + ?1,
		    state = CASE WHEN done + ?1 >= total THEN 'succeeded' ELSE 'running' END,
		    finished_at = CASE WHEN done + ?1 >= total THEN ?2 ELSE NULL END,
		    lease_until = CASE WHEN done + ?1 >= total THEN NULL ELSE ?3 END,
		    updated_at = ?2
		WHERE id = ?4 AND lease_owner = ?5
		RETURNING done`, n, micros(now), micros(until), id, owner).Scan(&done)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, storage.Stale("job", id)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: add job progress %q: %w", id, err)
	}
	return done, nil
}
