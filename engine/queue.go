package engine

import (
	"runtime"
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
// form the next one (see gather). The goroutines exist only while calls are
// pending.
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
		q.gather()
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

// maxGather bounds the yields of gather before each batch.
const maxGather = 8

// gather lets callers that are ready to run reach push before a batch is
// taken: it yields the processor while the pending list keeps growing, at
// most maxGather times. Under load on few cores the callers of the next
// batch are most often runnable, not running: at 64 connections on 2 cores
// batches of cart reads held 4 calls on average without it and 17 to 21
// with it, each batch's fixed reads shared by that many more. A call
// alone waits for one yield, which returns at once with nothing else to
// run.
func (q *queue[T]) gather() {
	q.mu.Lock()
	n := len(q.pending)
	q.mu.Unlock()
	for range maxGather {
		runtime.Gosched()
		q.mu.Lock()
		m := len(q.pending)
		q.mu.Unlock()
		if m == n || m >= q.maxBatch {
			return
		}
		n = m
	}
}
