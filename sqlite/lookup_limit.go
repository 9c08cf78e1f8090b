package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// The counts of failed code look-ups, per subject and fixed window
// (migration 0004). Each statement takes the subjects as one JSON array,
// so that its text never varies and stays prepared.

// LookupFailureGetMany returns the counts of subjects in the window; subjects
// without one are left out. One read of the primary key for all of them.
func (t *tx) LookupFailureGetMany(ctx context.Context, window time.Time, subjects []string) (map[string]int64, error) {
	list, err := json.Marshal(subjects)
	if err != nil {
		return nil, fmt.Errorf("sqlite: encode subjects: %w", err)
	}
	rows, err := t.q.QueryContext(ctx, `SELECT subject, failures FROM lookup_failures
		WHERE window_start = ? AND subject IN (SELECT value FROM json_each(?))`, micros(window), string(list))
	if err != nil {
		return nil, fmt.Errorf("sqlite: read lookup failures: %w", err)
	}
	defer rows.Close()
	out := make(map[string]int64, len(subjects))
	for rows.Next() {
		var (
			subject string
			n       int64
		)
		if err := rows.Scan(&subject, &n); err != nil {
			return nil, fmt.Errorf("sqlite: read lookup failures: %w", err)
		}
		out[subject] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read lookup failures: %w", err)
	}
	return out, nil
}

// LookupFailureLockMany returns the counts of subjects in the window. A write
// transaction holds the database's only write lock from its start
// (BEGIN IMMEDIATE), in every process: no other writer changes the counts
// until it ends.
func (t *tx) LookupFailureLockMany(ctx context.Context, window time.Time, subjects []string) (map[string]int64, error) {
	return t.LookupFailureGetMany(ctx, window, subjects)
}

// LookupFailureAddMany adds counts to the counts of subjects in the window
// with one upsert; the single writer takes them one at a time. The pairs
// travel as one JSON array of [subject, count]. (The WHERE true lets
// SQLite tell the upsert's ON CONFLICT from a join's ON.)
func (t *tx) LookupFailureAddMany(ctx context.Context, window time.Time, subjects []string, counts []int64) error {
	if len(counts) != len(subjects) {
		return fmt.Errorf("sqlite: add lookup failures: %d subjects, %d counts", len(subjects), len(counts))
	}
	pairs := make([][2]any, len(subjects))
	for i, s := range subjects {
		pairs[i] = [2]any{s, counts[i]}
	}
	list, err := json.Marshal(pairs)
	if err != nil {
		return fmt.Errorf("sqlite: encode subjects: %w", err)
	}
	_, err = t.q.ExecContext(ctx, `INSERT INTO lookup_failures (window_start, subject, failures)
		SELECT ?, value ->> 0, value ->> 1 FROM json_each(?) WHERE true
		ON CONFLICT (window_start, subject) DO UPDATE SET failures = failures + excluded.failures`,
		micros(window), string(list))
	if err != nil {
		return fmt.Errorf("sqlite: add lookup failures: %w", err)
	}
	return nil
}

// LookupFailureDeleteBefore removes the counts of windows that start
// before before.
func (t *tx) LookupFailureDeleteBefore(ctx context.Context, before time.Time) (int64, error) {
	res, err := t.q.ExecContext(ctx, `DELETE FROM lookup_failures WHERE window_start < ?`, micros(before))
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete lookup failures: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete lookup failures: %w", err)
	}
	return n, nil
}
