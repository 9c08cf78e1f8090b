package http

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// limiter limits failed code look-ups, which is how one would guess codes
// by brute force: each key and each client address may fail a given
// number of look-ups per period, counted in a token bucket, and is
// answered 429 once its bucket is empty, whether its next guess would hit
// or not.
//
// The limiter lives in the memory of one process: behind a load balancer
// each process counts on its own, so a client gets as many failures per
// period as there are processes, and a restart forgets every count. A
// later change moves the counts to the database.
type limiter struct {
	byKey  *buckets
	byAddr *buckets
}

// newLimiter returns a limiter of n failures per period.
func newLimiter(n int, period time.Duration) *limiter {
	return &limiter{byKey: newBuckets(n, period), byAddr: newBuckets(n, period)}
}

// wait returns how long the key and the address must wait before their
// next look-up, or 0 when they may make it now.
func (l *limiter) wait(keyID, addr string, now time.Time) time.Duration {
	return max(l.byKey.wait(keyID, now), l.byAddr.wait(addr, now))
}

// fail records a failed look-up of the key and the address.
func (l *limiter) fail(keyID, addr string, now time.Time) {
	l.byKey.take(keyID, now)
	l.byAddr.take(addr, now)
}

// maxBuckets bounds the memory of one set of buckets. Past it, full
// buckets are dropped, and if that is not enough, all are: an attacker
// with that many addresses would get one more round of guesses.
const maxBuckets = 100_000

// buckets is a set of token buckets, one per identity, that fill at a
// steady rate up to their size. A bucket exists only while it is not
// full, so an identity that never fails costs nothing.
type buckets struct {
	mu   sync.Mutex
	size float64
	rate float64 // tokens per second
	m    map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newBuckets(n int, period time.Duration) *buckets {
	return &buckets{size: float64(n), rate: float64(n) / period.Seconds(), m: make(map[string]*bucket)}
}

// level returns the tokens of b at now.
func (bs *buckets) level(b *bucket, now time.Time) float64 {
	return min(bs.size, b.tokens+now.Sub(b.at).Seconds()*bs.rate)
}

// wait returns how long id must wait for a token at now, or 0.
func (bs *buckets) wait(id string, now time.Time) time.Duration {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b, ok := bs.m[id]
	if !ok {
		return 0
	}
	t := bs.level(b, now)
	if t >= 1 {
		return 0
	}
	return time.Duration((1 - t) / bs.rate * float64(time.Second))
}

// take removes one token of id at now, if it has one.
func (bs *buckets) take(id string, now time.Time) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b, ok := bs.m[id]
	if !ok {
		if len(bs.m) >= maxBuckets {
			bs.sweep(now)
		}
		b = &bucket{tokens: bs.size, at: now}
		bs.m[id] = b
	}
	b.tokens = max(0, bs.level(b, now)-1)
	b.at = now
}

// sweep drops the buckets that are full at now, and every bucket when
// that leaves too many.
func (bs *buckets) sweep(now time.Time) {
	for id, b := range bs.m {
		if bs.level(b, now) >= bs.size {
			delete(bs.m, id)
		}
	}
	if len(bs.m) >= maxBuckets {
		clear(bs.m)
	}
}

// clientAddr returns the address the limiter counts a request against: the
// connection's peer or, with Config.TrustProxy, the last address of
// X-Forwarded-For, which the trusted proxy appended. An IPv6 address
// counts as its /64, which one client usually holds whole.
func (s *Server) clientAddr(r *http.Request) string {
	addr := r.RemoteAddr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	if s.trustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if last = strings.TrimSpace(last); last != "" {
				addr = last
			}
		}
	}
	if ip, err := netip.ParseAddr(addr); err == nil && ip.Is6() && !ip.Is4In6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.String()
		}
	}
	return addr
}
