package load

import (
	"context"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// requestFunc sends the seq-th request of client (both from 0) and
// reports how it ended, with a short description when it failed. It is
// called from one goroutine per client.
type requestFunc func(ctx context.Context, client int, seq int64) (Outcome, string)

// measurement is what one step measured.
type measurement struct {
	// Counts counts the requests started in the measured window, and
	// Warmup those started during the warm-up before it. Both used the
	// server: a limit check must add them up.
	Counts, Warmup Counts
	// Elapsed runs from the end of the warm-up until the last request
	// started in the window has been answered.
	Elapsed time.Duration
	// latencies are those of the requests of Counts, in increasing order.
	latencies []time.Duration
	// Failures holds, for each failing outcome seen (warm-up included),
	// the description of its first occurrence.
	Failures map[Outcome]string
}

// clientState is what one client goroutine records.
type clientState struct {
	counts, warmup Counts
	latencies      []time.Duration
	failures       map[Outcome]string
}

// drive runs clients goroutines, each calling do in a closed loop: during
// warmup without recording latencies, then for duration with. A request
// belongs to the phase in which it starts; no request starts after the
// window. It returns early, with what was measured, when ctx ends.
func drive(ctx context.Context, clients int, warmup, duration time.Duration, do requestFunc) measurement {
	return driveWhile(ctx, clients, warmup, do, func(ctx context.Context) {
		t := time.NewTimer(duration)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	})
}

// driveWhile is drive with a window that lasts as long as window runs: it
// is called once the warm-up is over, and no request starts after it has
// returned.
func driveWhile(ctx context.Context, clients int, warmup time.Duration, do requestFunc, window func(ctx context.Context)) measurement {
	start := time.Now()
	from := start.Add(warmup)
	var end atomic.Int64 // Unix nanoseconds; the window is open until set
	end.Store(math.MaxInt64)
	states := make([]clientState, clients)
	var wg sync.WaitGroup
	for c := range clients {
		st := &states[c]
		st.latencies = make([]time.Duration, 0, 1024)
		wg.Go(func() {
			for seq := int64(0); ctx.Err() == nil; seq++ {
				t0 := time.Now()
				if t0.UnixNano() >= end.Load() {
					return
				}
				o, detail := do(ctx, c, seq)
				d := time.Since(t0)
				if o != OK && o != Refused && ctx.Err() == nil {
					if st.failures == nil {
						st.failures = make(map[Outcome]string)
					}
					if _, seen := st.failures[o]; !seen {
						st.failures[o] = detail
					}
				}
				if t0.Before(from) {
					st.warmup.add(o)
					continue
				}
				st.counts.add(o)
				st.latencies = append(st.latencies, d)
			}
		})
	}
	select {
	case <-ctx.Done():
	case <-time.After(time.Until(from)):
		window(ctx)
	}
	end.Store(time.Now().UnixNano())
	wg.Wait()
	m := measurement{Elapsed: time.Since(from)}
	if m.Elapsed < 0 {
		m.Elapsed = 0 // interrupted during the warm-up
	}
	n := 0
	for i := range states {
		n += len(states[i].latencies)
	}
	all := make([]time.Duration, 0, n)
	for i := range states {
		st := &states[i]
		m.Counts.merge(st.counts)
		m.Warmup.merge(st.warmup)
		all = append(all, st.latencies...)
		for o, d := range st.failures {
			if m.Failures == nil {
				m.Failures = make(map[Outcome]string)
			}
			if _, seen := m.Failures[o]; !seen {
				m.Failures[o] = d
			}
		}
	}
	slices.Sort(all)
	m.latencies = all
	return m
}
