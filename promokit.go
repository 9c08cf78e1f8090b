// Package promokit holds the domain of the promokit promotions and
// partner-marketing engine: its types, the rules they obey and the errors
// they produce. It performs no I/O: storage lives in the sqlite and postgres
// packages, use cases in engine, and the HTTP API in http.
//
// Money is always an int64 amount of minor units plus an ISO 4217 currency
// (see Money); rates are integer basis points. Time always comes from an
// injected Clock so that tests can stand on any day they choose.
package promokit

import (
	"sync"
	"time"
)

// Version is the release of this build; Commit the source revision. Both are
// set at link time with -ldflags "-X".
var (
	Version = "dev"
	Commit  = ""
)

// Clock tells the current time. Every use case takes its "now" from a Clock
// once per transaction, so a rule never sees two different nows.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns the current time in UTC, truncated to microseconds, the
// precision both databases store.
func (SystemClock) Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// FixedClock is a Clock that tests move by hand. It is safe for concurrent use.
type FixedClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewFixedClock returns a clock standing at t.
func NewFixedClock(t time.Time) *FixedClock {
	return &FixedClock{t: t.UTC().Truncate(time.Microsecond)}
}

// Now returns the clock's current time.
func (c *FixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *FixedClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t.UTC().Truncate(time.Microsecond)
	c.mu.Unlock()
}

// Add moves the clock forward by d.
func (c *FixedClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
