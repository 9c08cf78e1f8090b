package engine

import (
	"context"
	"errors"
	"testing"
	"time"
)

// idKey is the key of a request id in the tests' contexts.
type idKey struct{}

// TestBatchContextValues: a batch's context holds the values of its first
// caller's context, not those of the others.
func TestBatchContextValues(t *testing.T) {
	t.Parallel()
	first := context.WithValue(context.Background(), idKey{}, "req-1")
	second := context.WithValue(context.Background(), idKey{}, "req-2")
	ctx, stop := batchContext([]context.Context{first, second})
	defer stop()
	if got := ctx.Value(idKey{}); got != "req-1" {
		t.Fatalf("the batch's request id is %v, want the first caller's, req-1", got)
	}
}

// TestBatchContextDeadline: a batch's deadline is the latest of its
// callers' deadlines, and at most batchTimeout from now, also when a
// caller has none.
func TestBatchContextDeadline(t *testing.T) {
	t.Parallel()
	now := time.Now()
	soon, later := now.Add(5*time.Second), now.Add(10*time.Second)
	withDeadline := func(d time.Time) context.Context {
		ctx, cancel := context.WithDeadline(context.Background(), d)
		t.Cleanup(cancel)
		return ctx
	}
	for _, tc := range []struct {
		name    string
		callers []context.Context
		want    time.Time // zero: batchTimeout from now
	}{
		{"the latest of the callers'", []context.Context{withDeadline(soon), withDeadline(later)}, later},
		{"the latest, in any order", []context.Context{withDeadline(later), withDeadline(soon)}, later},
		{"bounded when a caller has none", []context.Context{withDeadline(soon), context.Background()}, time.Time{}},
		{"bounded when the callers' are far", []context.Context{withDeadline(now.Add(time.Hour))}, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now()
			ctx, stop := batchContext(tc.callers)
			defer stop()
			got, ok := ctx.Deadline()
			if !ok {
				t.Fatal("the batch has no deadline")
			}
			if !tc.want.IsZero() {
				if !got.Equal(tc.want) {
					t.Fatalf("deadline %v, want %v", got, tc.want)
				}
				return
			}
			if got.Before(before.Add(batchTimeout)) || got.After(time.Now().Add(batchTimeout)) {
				t.Fatalf("deadline %v, want batchTimeout from now (%v)", got, before.Add(batchTimeout))
			}
		})
	}
}

// TestBatchContextCancel: a batch's context ends once every caller's has
// ended, not before; a caller whose context never ends keeps it going; and
// releasing it ends it.
func TestBatchContextCancel(t *testing.T) {
	t.Parallel()
	t.Run("every caller gone", func(t *testing.T) {
		a, cancelA := context.WithCancel(context.Background())
		b, cancelB := context.WithCancel(context.Background())
		defer cancelB()
		ctx, stop := batchContext([]context.Context{a, b})
		defer stop()
		cancelA()
		wantGoing(t, ctx)
		cancelB()
		wantEnded(t, ctx)
	})
	t.Run("every caller past its deadline", func(t *testing.T) {
		a, cancelA := context.WithTimeout(context.Background(), time.Millisecond)
		defer cancelA()
		b, cancelB := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancelB()
		ctx, stop := batchContext([]context.Context{a, b})
		defer stop()
		wantEnded(t, ctx)
		if last, _ := b.Deadline(); time.Now().Before(last) {
			t.Fatal("the batch ended before its last caller's deadline")
		}
	})
	t.Run("a caller that stays", func(t *testing.T) {
		a, cancelA := context.WithCancel(context.Background())
		ctx, stop := batchContext([]context.Context{a, context.Background()})
		defer stop()
		cancelA()
		wantGoing(t, ctx)
	})
	t.Run("released", func(t *testing.T) {
		a, cancelA := context.WithCancel(context.Background())
		defer cancelA()
		ctx, stop := batchContext([]context.Context{a})
		stop()
		if ctx.Err() == nil {
			t.Fatal("the batch's context goes on after its release")
		}
	})
}

// wantGoing fails if ctx ends within a moment.
func wantGoing(t *testing.T, ctx context.Context) {
	t.Helper()
	select {
	case <-ctx.Done():
		t.Fatal("the batch's context ended while a caller still waits")
	case <-time.After(50 * time.Millisecond):
	}
}

// wantEnded fails unless ctx ends within a few seconds.
func wantEnded(t *testing.T, ctx context.Context) {
	t.Helper()
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the batch's context goes on after every caller left")
	}
}

// TestAwait: a wait ends with the answer when it is ready, also when the
// caller's context has ended too, and with the context's error when only
// the context has ended.
func TestAwait(t *testing.T) {
	t.Parallel()
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	answered := make(chan struct{})
	close(answered)
	for range 100 { // the answer wins whichever case select takes
		if err := await(ended, answered); err != nil {
			t.Fatalf("an answered call whose context ended: %v, want its answer", err)
		}
	}
	if err := await(ended, make(chan struct{})); !errors.Is(err, context.Canceled) {
		t.Fatalf("an unanswered call whose context ended: %v, want context.Canceled", err)
	}
}

// TestQueueLeavesOutDeparted: a call whose caller's context has ended when
// its batch is taken is not run, and the others run under a context that
// carries their first caller's values.
func TestQueueLeavesOutDeparted(t *testing.T) {
	t.Parallel()
	type run struct {
		call string
		id   any
	}
	ran := make(chan run, 3)
	q := &queue[string]{max: 1, maxBatch: 8, run: func(ctx context.Context, batch []string) {
		for _, c := range batch {
			ran <- run{c, ctx.Value(idKey{})}
		}
	}}
	gone, cancel := context.WithCancel(context.WithValue(context.Background(), idKey{}, "gone"))
	cancel()
	q.push(gone, "left")
	q.push(context.WithValue(context.Background(), idKey{}, "req-1"), "one")
	q.push(context.WithValue(context.Background(), idKey{}, "req-2"), "two")
	// Batches run in the order of their calls: one that ran the call
	// left would run it before one.
	var got []run
	for len(got) < 2 {
		select {
		case r := <-ran:
			got = append(got, r)
		case <-time.After(5 * time.Second):
			t.Fatalf("ran %v, then nothing", got)
		}
	}
	if got[0] != (run{"one", "req-1"}) || got[1].call != "two" {
		t.Fatalf("ran %v, want one (under req-1) then two, and not left", got)
	}
}
