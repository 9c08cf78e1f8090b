package engine

import (
	"slices"
	"sync"
)

// appendNew appends to dst each of values that dst does not hold yet: the
// distinct values of a batch, in the order they first came.
func appendNew(dst []string, values ...string) []string {
	for _, v := range values {
		if !slices.Contains(dst, v) {
			dst = append(dst, v)
		}
	}
	return dst
}

// queue batches concurrent calls: a call joins the pending list, and up to
// max goroutines take the list in batches of at most maxBatch and run each
// batch with run, until nothing is pending. Alone, a call runs at once and
// waits for nothing; under load, the calls that arrive while a batch runs
// form the next one. The goroutines exist only while calls are pending.
type queue[T any] struct {
	max      int // batches in flight at once
	maxBatch int
	limit    int // most pending calls; 0: no limit
	run      func([]T)

	mu      sync.Mutex
	pending []T
	running int
}

// push adds a call, or reports false when limit calls are pending already.
func (q *queue[T]) push(c T) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.limit > 0 && len(q.pending) >= q.limit {
		return false
	}
	q.pending = append(q.pending, c)
	if q.running < q.max {
		q.running++
		go q.drain()
	}
	return true
}

// drain runs batches until no call is pending.
func (q *queue[T]) drain() {
	for {
		q.mu.Lock()
		n := min(len(q.pending), q.maxBatch)
		if n == 0 {
			q.running--
			q.mu.Unlock()
			return
		}
		batch := q.pending[:n:n]
		q.pending = q.pending[n:]
		if len(q.pending) == 0 {
			q.pending = nil
		}
		q.mu.Unlock()
		q.run(batch)
	}
}
