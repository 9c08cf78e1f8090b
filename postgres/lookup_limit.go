package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The counts of failed code look-ups, per subject and fixed window
// (migration 0004).

// lookupFailuresSQL selects the failures of subjects ($2, an array) in the
// window that starts at $1.
const lookupFailuresSQL = `SELECT subject, failures FROM lookup_failures
	WHERE window_start = $1 AND subject = ANY($2::text[])`

// LookupFailureGetMany returns the counts of subjects in the window; subjects
// without one are left out. One read of the primary key for all of them.
func (t *tx) LookupFailureGetMany(ctx context.Context, window time.Time, subjects []string) (map[string]int64, error) {
	rows, err := t.byKey().Query(ctx, lookupFailuresSQL, window, subjects)
	if err != nil {
		return nil, fmt.Errorf("postgres: read lookup failures: %w", err)
	}
	out := make(map[string]int64, len(subjects))
	if err := readFailures(rows, out); err != nil {
		return nil, fmt.Errorf("postgres: read lookup failures: %w", err)
	}
	return out, nil
}

// readFailures reads rows of subjects and their failures into out, and
// closes them. A count of zero (a row LookupFailureLockMany created that
// nothing was added to) is left out, as a missing one.
func readFailures(rows pgx.Rows, out map[string]int64) error {
	defer rows.Close()
	for rows.Next() {
		var (
			subject string
			n       int64
		)
		if err := rows.Scan(&subject, &n); err != nil {
			return err
		}
		if n != 0 {
			out[subject] = n
		}
	}
	return rows.Err()
}

// LookupFailureLockMany returns the counts of subjects in the window and
// locks their rows until the transaction ends, in one upsert: a missing
// row is created at zero, so that it is locked too and a concurrent
// transaction waits for this one instead of creating it, and an existing
// row is updated to itself, which locks it and returns it. The rows are
// taken in the order of their subjects, so that two transactions never
// wait for each other in a cycle.
func (t *tx) LookupFailureLockMany(ctx context.Context, window time.Time, subjects []string) (map[string]int64, error) {
	rows, err := t.q.Query(ctx, `INSERT INTO lookup_failures (window_start, subject, failures)
		SELECT $1, s, 0 FROM unnest($2::text[]) AS u(s) ORDER BY s
		ON CONFLICT (window_start, subject) DO UPDATE SET failures = lookup_failures.failures
		RETURNING subject, failures`, window, subjects)
	if err != nil {
		return nil, fmt.Errorf("postgres: lock lookup failures: %w", err)
	}
	out := make(map[string]int64, len(subjects))
	if err := readFailures(rows, out); err != nil {
		return nil, fmt.Errorf("postgres: lock lookup failures: %w", err)
	}
	return out, nil
}

// LookupFailureAddMany adds counts to the counts of subjects in the window
// with one upsert. The rows are taken in the order of their subjects, so
// that two statements counting the same subjects never wait for each
// other in a cycle.
func (t *tx) LookupFailureAddMany(ctx context.Context, window time.Time, subjects []string, counts []int64) error {
	_, err := t.q.Exec(ctx, `INSERT INTO lookup_failures (window_start, subject, failures)
		SELECT $1, s, n FROM unnest($2::text[], $3::bigint[]) AS u(s, n) ORDER BY s
		ON CONFLICT (window_start, subject) DO UPDATE SET failures = lookup_failures.failures + EXCLUDED.failures`,
		window, subjects, counts)
	if err != nil {
		return fmt.Errorf("postgres: add lookup failures: %w", err)
	}
	return nil
}

// LookupFailureDeleteBefore removes the counts of windows that start
// before before.
func (t *tx) LookupFailureDeleteBefore(ctx context.Context, before time.Time) (int64, error) {
	tag, err := t.q.Exec(ctx, `DELETE FROM lookup_failures WHERE window_start < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete lookup failures: %w", err)
	}
	return tag.RowsAffected(), nil
}
