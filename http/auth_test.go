package http

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// keyReads is a store that counts the keys it is asked for by hash: the
// database reads of authentication.
type keyReads struct {
	storage.DB
	n atomic.Int64
}

func (s *keyReads) Read(ctx context.Context, fn func(storage.Tx) error) error {
	return s.DB.Read(ctx, func(tx storage.Tx) error { return fn(&keyReadsTx{Tx: tx, n: &s.n}) })
}

type keyReadsTx struct {
	storage.Tx
	n *atomic.Int64
}

func (t *keyReadsTx) KeyGetByHash(ctx context.Context, hash []byte) (*promokit.Key, error) {
	t.n.Add(1)
	return t.Tx.KeyGetByHash(ctx, hash)
}

// setupKeyReads is setup on a store that counts its key reads.
func setupKeyReads(t *testing.T, open func(*testing.T) storage.DB, opts ...setupOption) (*testBundle, *keyReads) {
	t.Helper()
	st := &keyReads{DB: open(t)}
	b := newBundle(t, st, opts...)
	b.fixtures(t)
	return b, st
}

// wrongKey returns a well-formed key secret that no key has.
func wrongKey(i int) string { return fmt.Sprintf("pk_wrong_%040d", i) }

// want401 fails unless r is 401 unauthenticated.
func want401(t *testing.T, r *response) {
	t.Helper()
	if r.StatusCode != http.StatusUnauthorized || r.Problem.Code != promokit.EUnauthenticated {
		t.Fatalf("%s %s: %d, want 401 unauthenticated: %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, r.Body)
	}
}

// wantAuth429 fails unless r is 429 too_many_auth_failures saying what,
// with a Retry-After of retry seconds.
func wantAuth429(t *testing.T, r *response, what string, retry int) {
	t.Helper()
	if r.StatusCode != http.StatusTooManyRequests || r.Problem.Code != promokit.ETooManyAuthFails || !strings.Contains(r.Problem.Detail, what) {
		t.Fatalf("%s %s: %d, want 429 too_many_auth_failures (%s): %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, what, r.Body)
	}
	if got := r.Header.Get("Retry-After"); got != strconv.Itoa(retry) {
		t.Errorf("Retry-After %q, want %d", got, retry)
	}
}

// authFailures returns the metrics' failed authentications decided as
// checked.
func authFailures(t *testing.T, b *testBundle, checked string) float64 {
	return counterValue(t, b.srv.metrics.authFailures.WithLabelValues(checked))
}

// authRefusals returns the metrics' 429s of a limit.
func authRefusals(t *testing.T, b *testBundle, limit string) float64 {
	return counterValue(t, b.srv.metrics.authRefused.WithLabelValues(limit))
}

// TestAuthLimitAddr checks the limit on failed authentications per client
// address: the failure past it is 429, and so is every request from the
// address, a right key or none included, until the minute ends, with no
// database read; other addresses go on; one wrong key repeated is one
// database read and one failure; concurrent failures stop exactly at the
// limit.
func TestAuthLimitAddr(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b, st := setupKeyReads(t, open, func(c *Config) { c.AuthFailures, c.TrustProxy = 3, true })
		b.clock.Add(15 * time.Second)
		a := from("2001:db8:5:6::1")
		for i := range 3 {
			want401(t, b.c.do(t, "GET", "/v1/stores", wrongKey(i), nil, a...))
		}
		reads := st.n.Load()
		// The fourth failure from the address's /64 is refused instead of
		// answered; then its right key, and no key at all.
		wantAuth429(t, b.c.do(t, "GET", "/v1/stores", wrongKey(3), nil, from("2001:db8:5:6::2")...), "client address", 45)
		reads++
		wantAuth429(t, b.c.do(t, "GET", "/v1/stores", b.seller, nil, a...), "client address", 45)
		wantAuth429(t, b.c.do(t, "GET", "/v1/stores", "", nil, a...), "client address", 45)
		b.clock.Add(30 * time.Second)
		for i := range 5 {
			wantAuth429(t, b.c.do(t, "GET", "/v1/stores", wrongKey(10+i), nil, a...), "client address", 15)
		}
		if got := st.n.Load(); got != reads {
			t.Errorf("%d key reads for the blocked address's requests, want none", got-reads)
		}
		// Another address is not held back: its right key works, a wrong
		// one is 401.
		other := from("2001:db8:5:7::1")
		mustDo(t, b, b.seller, "GET", "/v1/stores", nil, http.StatusOK, other...)
		want401(t, b.c.do(t, "GET", "/v1/stores", wrongKey(20), nil, other...))
		// One wrong key sent again and again is read once and counts
		// once: the address is not blocked.
		c := from("192.0.2.30")
		reads = st.n.Load()
		for range 10 {
			want401(t, b.c.do(t, "GET", "/v1/stores", wrongKey(30), nil, c...))
		}
		if got := st.n.Load(); got != reads+1 {
			t.Errorf("%d key reads for one wrong key sent 10 times, want 1", got-reads)
		}
		mustDo(t, b, b.seller, "GET", "/v1/stores", nil, http.StatusOK, c...)
		// The metrics: 5 failures read from the database (3 + 1 + 1) and 9
		// answered from the cache; 8 requests refused (the failure past
		// the limit, the right key, no key, 5 more wrong keys).
		for checked, want := range map[string]float64{engine.AuthCheckedDatabase: 5, engine.AuthCheckedCache: 9, engine.AuthCheckedNone: 0} {
			if got := authFailures(t, b, checked); got != want {
				t.Errorf("auth failures %s = %v, want %v", checked, got, want)
			}
		}
		if got := authRefusals(t, b, engine.AuthLimitAddr); got != 8 {
			t.Errorf("address refusals %v, want 8", got)
		}
		// The minute is over.
		b.clock.Add(15 * time.Second)
		mustDo(t, b, b.seller, "GET", "/v1/stores", nil, http.StatusOK, a...)

		// Concurrent failures from one address: exactly the limit are
		// answered 401, the others 429.
		var n401, n429 atomic.Int64
		var wg sync.WaitGroup
		for i := range 64 {
			wg.Go(func() {
				r := b.c.do(t, "GET", "/v1/stores", wrongKey(100+i), nil, from("198.51.100.64")...)
				switch r.StatusCode {
				case http.StatusUnauthorized:
					n401.Add(1)
				case http.StatusTooManyRequests:
					n429.Add(1)
				default:
					t.Errorf("status %d: %s", r.StatusCode, r.Body)
				}
			})
		}
		wg.Wait()
		if n401.Load() != 3 || n429.Load() != 61 {
			t.Errorf("64 concurrent failures: %d answered 401 and %d 429, want 3 and 61", n401.Load(), n429.Load())
		}
	})
}

// TestAuthLimitGlobal checks the limit on failed authentications in all:
// past it, any key the server would have to look up is 429 until the
// minute ends, with no database read, while a key it authenticated lately
// goes on.
func TestAuthLimitGlobal(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b, st := setupKeyReads(t, open, func(c *Config) { c.GlobalAuthFailures, c.TrustProxy = 3, true })
		b.clock.Add(20 * time.Second)
		mustDo(t, b, b.seller, "GET", "/v1/stores", nil, http.StatusOK)
		for i := range 3 {
			want401(t, b.c.do(t, "GET", "/v1/stores", wrongKey(i), nil, from("192.0.2."+strconv.Itoa(i))...))
		}
		// The limit is reached: the next unknown key is not read.
		reads := st.n.Load()
		wantAuth429(t, b.c.do(t, "GET", "/v1/stores", wrongKey(3), nil, from("192.0.2.3")...), "server", 40)
		b.clock.Add(10 * time.Second) // past the key cache's TTL
		for i := range 3 {
			wantAuth429(t, b.c.do(t, "GET", "/v1/stores", wrongKey(4+i), nil, from("192.0.2.4")...), "server", 30)
		}
		// A key never seen here is refused; the seller's, seen lately,
		// goes on; neither is read.
		wantAuth429(t, b.c.do(t, "GET", "/v1/stores", b.checkout, nil, from("192.0.2.5")...), "server", 30)
		mustDo(t, b, b.seller, "GET", "/v1/stores", nil, http.StatusOK, from("192.0.2.5")...)
		if got := st.n.Load(); got != reads {
			t.Errorf("%d key reads past the global limit, want none", got-reads)
		}
		if got := authRefusals(t, b, engine.AuthLimitGlobal); got != 5 {
			t.Errorf("global refusals %v, want 5", got)
		}
		if got := authFailures(t, b, engine.AuthCheckedDatabase); got != 3 {
			t.Errorf("failures read from the database %v, want 3", got)
		}
		b.clock.Add(30 * time.Second)
		mustDo(t, b, b.checkout, "GET", "/v1/codes/"+b.shopCode, nil, http.StatusOK)
		want401(t, b.c.do(t, "GET", "/v1/stores", wrongKey(9), nil))
	})
}

// TestAuthLimitShared checks that two servers on one database, as two
// processes, share the count of an address's failed authentications, and
// that a server learns of a block at the address's next failure.
func TestAuthLimitShared(t *testing.T) {
	t.Parallel()
	for _, database := range []string{"sqlite", "postgres"} {
		t.Run(database, func(t *testing.T) {
			t.Parallel()
			st1, st2 := dbtest.OpenShared(t, database)
			limit3 := func(c *Config) { c.AuthFailures, c.TrustProxy = 3, true }
			a := newBundle(t, st1, limit3)
			a.fixtures(t)
			svc := engine.New(engine.Config{DB: st2, Clock: a.clock})
			srv := NewServer(Config{Service: svc, Logger: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry(),
				OpenAPI: mustReadOpenAPI(t), AuthFailures: 3, TrustProxy: true})
			ts := httptest.NewServer(srv)
			t.Cleanup(ts.Close)
			b := &client{base: ts.URL, hc: ts.Client()}
			addr := from("203.0.113.7")
			for i, c := range []*client{a.c, b, a.c} {
				want401(t, c.do(t, "GET", "/v1/stores", wrongKey(i), nil, addr...))
			}
			// The fourth, on the second server, is refused; the first
			// server refuses the next failure too, and from then on the
			// address's right key.
			wantAuth429(t, b.do(t, "GET", "/v1/stores", wrongKey(3), nil, addr...), "client address", 60)
			wantAuth429(t, b.do(t, "GET", "/v1/stores", a.seller, nil, addr...), "client address", 60)
			wantAuth429(t, a.c.do(t, "GET", "/v1/stores", wrongKey(4), nil, addr...), "client address", 60)
			wantAuth429(t, a.c.do(t, "GET", "/v1/stores", a.seller, nil, addr...), "client address", 60)
			a.clock.Add(time.Minute)
			mustDo(t, a, a.seller, "GET", "/v1/stores", nil, http.StatusOK, addr...)
			if r := b.do(t, "GET", "/v1/stores", a.seller, nil, addr...); r.StatusCode != http.StatusOK {
				t.Fatalf("after the minute: %d %s", r.StatusCode, r.Body)
			}
		})
	}
}
