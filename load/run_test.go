package load

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestDrive runs the closed loop with a fake request: every call is
// counted once, in the phase it started in, requests of one client never
// overlap, none starts after the window, and failures keep their first
// description.
func TestDrive(t *testing.T) {
	t.Parallel()
	const clients = 3
	warmup, duration := 40*time.Millisecond, 80*time.Millisecond
	var (
		calls    atomic.Int64
		inFlight [clients]atomic.Int32
		mu       sync.Mutex
		starts   []time.Time
	)
	begin := time.Now()
	m := drive(context.Background(), clients, warmup, duration, func(ctx context.Context, client int, seq int64) (Outcome, string) {
		if inFlight[client].Add(1) != 1 {
			t.Errorf("client %d sent two requests at once", client)
		}
		defer inFlight[client].Add(-1)
		mu.Lock()
		starts = append(starts, time.Now())
		mu.Unlock()
		n := calls.Add(1)
		time.Sleep(time.Millisecond)
		switch {
		case n%10 == 0:
			return ServerError, "boom"
		case n%7 == 0:
			return Refused, ""
		}
		return OK, ""
	})
	total := m.Counts.Requests() + m.Warmup.Requests()
	if total != calls.Load() {
		t.Fatalf("counted %d requests, made %d", total, calls.Load())
	}
	if m.Warmup.Requests() == 0 || m.Counts.Requests() == 0 {
		t.Fatalf("warm-up %+v, measured %+v: want both", m.Warmup, m.Counts)
	}
	if m.Counts.ServerErrors+m.Warmup.ServerErrors != calls.Load()/10 {
		t.Errorf("%d server errors counted, %d made", m.Counts.ServerErrors+m.Warmup.ServerErrors, calls.Load()/10)
	}
	if m.Failures[ServerError] != "boom" || len(m.Failures) != 1 {
		t.Errorf("failures = %v, want only the server error", m.Failures)
	}
	// The window closes when its timer fires, which a busy machine runs
	// late: a request may start a little after the nominal end, but not a
	// request time after request time.
	end := begin.Add(warmup + duration)
	for _, s := range starts {
		if s.After(end.Add(50 * time.Millisecond)) {
			t.Errorf("a request started %v after the window", s.Sub(end))
		}
	}
	if m.Elapsed < duration || m.Elapsed > duration+time.Second {
		t.Errorf("elapsed %v for a window of %v", m.Elapsed, duration)
	}
	if int64(len(m.latencies)) != m.Counts.Requests() || !slices.IsSorted(m.latencies) {
		t.Errorf("%d latencies for %d requests, sorted %v", len(m.latencies), m.Counts.Requests(), slices.IsSorted(m.latencies))
	}
	if l := summarize(m.latencies); l.P50 < time.Millisecond || l.Max < l.P99 || l.P99 < l.P90 || l.P90 < l.P50 {
		t.Errorf("latency %+v: want ordered percentiles of at least the 1 ms each request sleeps", l)
	}
}

// TestDriveCancel stops the loop when the context ends.
func TestDriveCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int64
	done := make(chan measurement)
	go func() {
		done <- drive(ctx, 2, 0, time.Hour, func(ctx context.Context, client int, seq int64) (Outcome, string) {
			if calls.Add(1) == 50 {
				cancel()
			}
			return OK, ""
		})
	}()
	select {
	case m := <-done:
		if m.Counts.Requests() != calls.Load() {
			t.Errorf("counted %d of %d requests", m.Counts.Requests(), calls.Load())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("drive did not stop when its context ended")
	}
}
