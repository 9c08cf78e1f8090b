package engine

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
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

// queue batches concurrent calls: a call joins the pending list with its
// caller's context, and up to max goroutines take the list in batches of
// at most maxBatch and run each batch with run, until nothing is pending.
// Alone, a call runs at once and waits for nothing; under load, the calls
// that arrive while a batch runs form the next one (see gather). The
// goroutines exist only while calls are pending.
//
// A call whose caller's context has ended when its batch is taken is left
// out of the batch: it is neither run nor answered, since its caller has
// stopped waiting (await). The others run under one context made from
// their callers' (batchContext); docs/batching.md describes every queue.
type queue[T any] struct {
	max      int // batches in flight at once
	maxBatch int
	limit    int // most pending calls; 0: no limit
	run      func(context.Context, []T)

	mu      sync.Mutex
	pending []queued[T]
	running int
}

// queued is a pending call and the context of its caller.
type queued[T any] struct {
	ctx  context.Context
	call T
}

// push adds a call made under ctx, or reports false when limit calls are
// pending already.
func (q *queue[T]) push(ctx context.Context, c T) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.limit > 0 && len(q.pending) >= q.limit {
		return false
	}
	q.pending = append(q.pending, queued[T]{ctx, c})
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
		q.runLive(batch)
	}
}

// runLive runs the calls of batch whose callers still wait, under the
// context batchContext makes of theirs.
func (q *queue[T]) runLive(batch []queued[T]) {
	calls := make([]T, 0, len(batch))
	ctxs := make([]context.Context, 0, len(batch))
	for _, m := range batch {
		if m.ctx.Err() == nil {
			calls, ctxs = append(calls, m.call), append(ctxs, m.ctx)
		}
	}
	if len(calls) == 0 {
		return
	}
	ctx, stop := batchContext(ctxs)
	defer stop()
	q.run(ctx, calls)
}

// batchTimeout bounds how long one batch may run: its database work gets
// at most this long, whatever its callers' deadlines.
const batchTimeout = 30 * time.Second

// batchContext returns the context a batch runs under, made from the
// contexts of its callers (at least one), and the function that releases
// it once the batch is done. The batch's database work is shared, so no
// single caller decides it:
//   - its values are those of the first caller's context (the caller's
//     principal, its request's values): a log line or a database call of
//     the batch carries them;
//   - it is cancelled only once every caller's context has ended: a
//     caller that leaves does not fail the others, and a batch nobody
//     waits for any more stops its database work;
//   - its deadline is the latest of the callers' deadlines, and at most
//     batchTimeout from now (also when a caller has none).
func batchContext(callers []context.Context) (context.Context, func()) {
	deadline := time.Now().Add(batchTimeout)
	latest, bounded, watch := time.Time{}, true, true
	for _, c := range callers {
		d, ok := c.Deadline()
		if bounded = bounded && ok; ok && d.After(latest) {
			latest = d
		}
		// A context that never ends keeps the batch going.
		watch = watch && c.Done() != nil
	}
	if bounded && latest.Before(deadline) {
		deadline = latest
	}
	ctx, cancel := context.WithDeadline(context.WithoutCancel(callers[0]), deadline)
	if !watch {
		return ctx, cancel
	}
	left := new(atomic.Int64)
	left.Store(int64(len(callers)))
	stops := make([]func() bool, len(callers))
	for i, c := range callers {
		stops[i] = context.AfterFunc(c, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		})
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}

// await waits until done is closed or ctx ends, and returns nil in the
// first case and ctx's error in the second: a caller whose context ends
// while its call waits in a queue, or runs in a batch, is answered at
// once, and its batch goes on for the others. An answer that is ready
// when ctx ends is taken.
func await(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		select {
		case <-done:
			return nil
		default:
			return ctx.Err()
		}
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
