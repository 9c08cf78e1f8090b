package storagetest

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/promokit/promokit/storage"
)

// testLookupFailures checks the counts of failed look-ups: they start at
// none, add up per subject and window, and the purge removes the windows
// that start before the time given, and only those.
func testLookupFailures(t *testing.T, b *bundle) {
	w1 := b.now.Truncate(time.Minute)
	w2 := w1.Add(time.Minute)
	counts := func(window time.Time, subjects ...string) map[string]int64 {
		t.Helper()
		var m map[string]int64
		b.read(t, func(tx storage.Tx) (err error) {
			m, err = tx.LookupFailureGetMany(b.ctx, window, subjects)
			return err
		})
		return m
	}
	add := func(window time.Time, n int64, subjects ...string) {
		t.Helper()
		b.write(t, func(tx storage.Tx) error {
			return tx.LookupFailureAddMany(b.ctx, window, subjects, slices.Repeat([]int64{n}, len(subjects)))
		})
	}

	wantEqual(t, "counts of an empty table", map[string]int64{}, counts(w1, "key:key_1", "addr:192.0.2.1"))
	add(w1, 1, "addr:192.0.2.1", "key:key_1")
	add(w1, 2, "addr:192.0.2.1", "cust:e:ab12", "key:key_1")
	add(w1, 4, "key:key_2")
	add(w2, 5, "key:key_1")
	// Each subject its own count, in one statement.
	b.write(t, func(tx storage.Tx) error {
		return tx.LookupFailureAddMany(b.ctx, w2, []string{"addr:192.0.2.9", "key:key_3"}, []int64{7, 1})
	})
	wantEqual(t, "counts of subjects added together", map[string]int64{"addr:192.0.2.9": 7, "key:key_3": 1},
		counts(w2, "addr:192.0.2.9", "key:key_3"))
	wantEqual(t, "counts of the first window", map[string]int64{"addr:192.0.2.1": 3, "cust:e:ab12": 2, "key:key_1": 3},
		counts(w1, "addr:192.0.2.1", "cust:e:ab12", "key:key_1", "key:key_9"))
	wantEqual(t, "counts of the second window", map[string]int64{"key:key_1": 5}, counts(w2, "key:key_1", "key:key_2"))
	// The window is a point in time: a window starting a microsecond later
	// is another.
	wantEqual(t, "counts of another window", map[string]int64{}, counts(w1.Add(time.Microsecond), "key:key_1"))

	var n int64
	b.write(t, func(tx storage.Tx) (err error) {
		n, err = tx.LookupFailureDeleteBefore(b.ctx, w2)
		return err
	})
	if n != 4 {
		t.Fatalf("LookupFailureDeleteBefore = %d, want the 4 counts of the first window", n)
	}
	wantEqual(t, "counts of the first window after the purge", map[string]int64{}, counts(w1, "addr:192.0.2.1", "key:key_1", "key:key_2"))
	wantEqual(t, "counts of the second window after the purge", map[string]int64{"key:key_1": 5}, counts(w2, "key:key_1"))
}

// testLookupFailuresConcurrent checks that concurrent writers counting the
// same subjects, new and existing, add up exactly and never fail.
func testLookupFailuresConcurrent(t *testing.T, b *bundle) {
	const writers, rounds = 8, 10
	window := b.now.Truncate(time.Minute)
	subjects := []string{"addr:2001:db8::/64", "cust:c:cus_42", "key:key_1"}
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range rounds {
				err := b.writeErr(func(tx storage.Tx) error {
					return tx.LookupFailureAddMany(b.ctx, window, subjects, slices.Repeat([]int64{1}, len(subjects)))
				})
				if err != nil {
					t.Errorf("LookupFailureAddMany: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	var got map[string]int64
	b.read(t, func(tx storage.Tx) (err error) {
		got, err = tx.LookupFailureGetMany(b.ctx, window, subjects)
		return err
	})
	want := map[string]int64{}
	for _, s := range subjects {
		want[s] = writers * rounds
	}
	wantEqual(t, "counts after concurrent writers", want, got)
}

// testLookupFailuresLocked checks that the counts LookupFailureLockMany
// returns hold until the transaction ends: writers that each read the
// counts of two subjects under the lock and add one to both while the
// first is under a limit, concurrently, stop exactly at the limit. A new
// subject has no count, before or after it is locked.
func testLookupFailuresLocked(t *testing.T, b *bundle) {
	const writers, rounds, limit = 8, 10, 50
	window := b.now.Truncate(time.Minute)
	subjects := []string{"addr:192.0.2.7", "cust:sto_1/e:ab12"}
	var added atomic.Int64
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range rounds {
				took := false
				err := b.writeErr(func(tx storage.Tx) error {
					took = false
					counts, err := tx.LookupFailureLockMany(b.ctx, window, subjects)
					if err != nil || counts[subjects[0]] >= limit {
						return err
					}
					took = true
					return tx.LookupFailureAddMany(b.ctx, window, subjects, []int64{1, 1})
				})
				if err != nil {
					t.Errorf("lock and add: %v", err)
					return
				}
				if took {
					added.Add(1)
				}
			}
		})
	}
	wg.Wait()
	var got map[string]int64
	b.read(t, func(tx storage.Tx) (err error) {
		got, err = tx.LookupFailureGetMany(b.ctx, window, subjects)
		return err
	})
	wantEqual(t, "counts after locked writers", map[string]int64{subjects[0]: limit, subjects[1]: limit}, got)
	if added.Load() != limit {
		t.Errorf("%d writers added, want %d", added.Load(), limit)
	}
	b.write(t, func(tx storage.Tx) error {
		counts, err := tx.LookupFailureLockMany(b.ctx, window, []string{"key:key_new"})
		wantEqual(t, "counts of a new subject under the lock", map[string]int64{}, counts)
		return err
	})
	wantEqual(t, "counts of a new subject after the lock", map[string]int64{}, func() map[string]int64 {
		b.read(t, func(tx storage.Tx) (err error) {
			got, err = tx.LookupFailureGetMany(b.ctx, window, []string{"key:key_new"})
			return err
		})
		return got
	}())
}
