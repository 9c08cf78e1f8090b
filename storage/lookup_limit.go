package storage

import (
	"context"
	"time"
)

// LookupLimitTx counts failed look-ups and authentications per subject
// ("key:", "addr:" or "cust:" and its value for look-ups, "auth:" and a
// client address for authentications) and per fixed window, named by the
// time it starts.
type LookupLimitTx interface {
	// LookupFailureGetMany returns the failures counted in the window for each
	// of subjects that has a count; the others are left out (none).
	LookupFailureGetMany(ctx context.Context, window time.Time, subjects []string) (map[string]int64, error)
	// LookupFailureLockMany returns the counts of subjects in the window, as
	// LookupFailureGetMany does, and holds them until the write transaction
	// ends: no other transaction changes them meanwhile, whatever process
	// it runs in, so that a count read here plus what the transaction adds
	// is the count. subjects is sorted and holds no duplicate; the rows are
	// taken in that order (PostgreSQL creates the missing ones at zero to
	// hold them too).
	LookupFailureLockMany(ctx context.Context, window time.Time, subjects []string) (map[string]int64, error)
	// LookupFailureAddMany adds counts[i] to the count of subjects[i] in the
	// window, creating the counts it lacks, in one statement that takes
	// the rows in the order of their subjects, so that concurrent writers
	// add up and never wait for each other in a cycle. subjects holds no
	// duplicate; counts is as long.
	LookupFailureAddMany(ctx context.Context, window time.Time, subjects []string, counts []int64) error
	// LookupFailureDeleteBefore removes the counts of windows that start
	// before t and returns how many it removed.
	LookupFailureDeleteBefore(ctx context.Context, t time.Time) (int64, error)
}

// LookupFailureGetWindows reads the failures of the subjects named in each
// window, one LookupFailureGetMany per window: one, but across the end of
// a minute.
func LookupFailureGetWindows(ctx context.Context, tx Tx, names map[time.Time][]string) (map[time.Time]map[string]int64, error) {
	out := make(map[time.Time]map[string]int64, len(names))
	for window, ns := range names {
		counts, err := tx.LookupFailureGetMany(ctx, window, ns)
		if err != nil {
			return nil, err
		}
		out[window] = counts
	}
	return out, nil
}
