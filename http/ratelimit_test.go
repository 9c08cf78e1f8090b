package http

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// limitOf3 sets the limit on failed look-ups to 3 a minute and takes
// client addresses from X-Forwarded-For.
func limitOf3(c *Config) { c.LookupFailures, c.KeyLookupFailures = 3, 3; c.TrustProxy = true }

// from returns the header that makes a request come from addr.
func from(addr string) []string { return []string{"X-Forwarded-For", addr} }

// want429 fails unless r is 429 too_many_failures naming what, with a
// Retry-After of retry seconds.
func want429(t *testing.T, r *response, what string, retry int) {
	t.Helper()
	if r.StatusCode != http.StatusTooManyRequests || r.Problem.Code != promokit.ETooManyFailures || !strings.Contains(r.Problem.Detail, what) {
		t.Fatalf("%s %s: %d, want 429 too_many_failures for the %s: %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, what, r.Body)
	}
	if got := r.Header.Get("Retry-After"); got != strconv.Itoa(retry) {
		t.Errorf("Retry-After %q, want %d", got, retry)
	}
}

// TestLookupLimitValidate checks the limit on failed look-ups of
// validate, for each kind of subject.
func TestLookupLimitValidate(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		// The promotion has started: the shop's code applies, at 09:00.
		started := func(t *testing.T) *testBundle {
			b := setup(t, open, limitOf3)
			b.clock.Set(jan1().Add(48 * time.Hour))
			return b
		}
		failures := func(b *testBundle, kind string) float64 {
			return counterValue(t, b.srv.metrics.lookupFailures.WithLabelValues(kind))
		}

		t.Run("key", func(t *testing.T) {
			t.Parallel()
			b := started(t)
			// For a checkout key only missing codes count: a code that
			// exists but does not apply (one per promotion) is no guess.
			for i := range 5 {
				mustDo(t, b, b.checkout, "POST", "/v1/validate", validateBody(b, "", b.shopCode, b.shopCode2), 200, from("192.0.2."+strconv.Itoa(i))...)
			}
			mustDo(t, b, b.checkout, "POST", "/v1/validate", validateBody(b, "", "NOPE1", "NOPE2"), 200, from("192.0.2.10")...)
			mustDo(t, b, b.checkout, "POST", "/v1/validate", validateBody(b, "", "NOPE3", b.shopCode), 200, from("192.0.2.11")...)
			// Three failures from three addresses: the key is refused, even
			// for a code that applies, until 09:01.
			r := b.c.do(t, "POST", "/v1/validate", b.checkout, validateBody(b, "", b.shopCode), from("192.0.2.12")...)
			want429(t, r, "key", 60)
			b.clock.Add(59 * time.Second)
			r = b.c.do(t, "POST", "/v1/validate", b.checkout, validateBody(b, "", "NOPE4"), from("192.0.2.12")...)
			want429(t, r, "key", 1)
			if got := failures(b, engine.SubjectKey); got != 3 {
				t.Errorf("key failures %v, want 3: a refused request counts nothing", got)
			}
			if got := counterValue(t, b.srv.metrics.rateLimited.WithLabelValues(engine.SubjectKey)); got != 2 {
				t.Errorf("key refusals %v, want 2", got)
			}
			// Other keys are not held back, and the storefront key, for
			// which every code that does not apply counts, has its own
			// count.
			mustDo(t, b, b.admin, "POST", "/v1/validate", validateBody(b, "", b.shopCode), 200, from("192.0.2.13")...)
			for i := range 3 {
				mustDo(t, b, b.storefront, "POST", "/v1/validate", validateBody(b, "", b.shopCode, b.shopCode2), 200, from("198.51.100."+strconv.Itoa(i))...)
			}
			r = b.c.do(t, "POST", "/v1/validate", b.storefront, validateBody(b, "", b.shopCode), from("198.51.100.9")...)
			want429(t, r, "key", 1)
			// The minute is over.
			b.clock.Add(time.Second)
			mustDo(t, b, b.checkout, "POST", "/v1/validate", validateBody(b, "", b.shopCode), 200, from("192.0.2.12")...)
			mustDo(t, b, b.storefront, "POST", "/v1/validate", validateBody(b, "", b.shopCode), 200, from("198.51.100.9")...)
		})

		t.Run("address", func(t *testing.T) {
			t.Parallel()
			b := started(t)
			// A checkout key calls from the shop's servers: its failures
			// do not count against their address.
			mustDo(t, b, b.checkout, "POST", "/v1/validate", validateBody(b, "", "NOPE0"), 200, from("2001:db8:1:2::1")...)
			// Two keys from one address: 2 + 1 failures.
			mustDo(t, b, b.admin, "POST", "/v1/validate", validateBody(b, "", "NOPE1", "NOPE2"), 200, from("2001:db8:1:2::1")...)
			mustDo(t, b, b.storefront, "POST", "/v1/validate", validateBody(b, "", "NOPE3"), 200, from("2001:db8:1:2::ffff")...)
			// A third key from the same /64 is refused, but not the checkout
			// key; from elsewhere the first key is not.
			r := b.c.do(t, "POST", "/v1/validate", b.storefront, validateBody(b, "", b.shopCode), from("2001:db8:1:2:aaaa::7")...)
			want429(t, r, "client address", 60)
			mustDo(t, b, b.checkout, "POST", "/v1/validate", validateBody(b, "", b.shopCode), 200, from("2001:db8:1:2::1")...)
			r = b.c.do(t, "GET", "/v1/codes/"+b.shopCode, b.seller, nil, from("2001:db8:1:2::1")...)
			want429(t, r, "client address", 60)
			mustDo(t, b, b.checkout, "POST", "/v1/validate", validateBody(b, "", b.shopCode), 200, from("2001:db8:1:3::1")...)
			if got := counterValue(t, b.srv.metrics.rateLimited.WithLabelValues(engine.SubjectAddr)); got != 2 {
				t.Errorf("address refusals %v, want 2", got)
			}
		})

		t.Run("customer", func(t *testing.T) {
			t.Parallel()
			b := started(t)
			// One customer, written three ways, from three keys and three
			// addresses: 2 + 1 failures.
			mustDo(t, b, b.checkout, "POST", "/v1/validate", validateBody(b, "Ann.Smith+shop@Example.com", "NOPE1", "NOPE2"), 200, from("192.0.2.1")...)
			mustDo(t, b, b.storefront, "POST", "/v1/validate", validateBody(b, "annsmith@example.com", "NOPE3"), 200, from("192.0.2.2")...)
			r := b.c.do(t, "POST", "/v1/validate", b.admin, validateBody(b, "ANN.SMITH@example.com", b.shopCode), from("192.0.2.3")...)
			want429(t, r, "customer", 60)
			// Without the customer, or as another, the same key and
			// address may go on.
			mustDo(t, b, b.admin, "POST", "/v1/validate", validateBody(b, "", b.shopCode), 200, from("192.0.2.3")...)
			mustDo(t, b, b.admin, "POST", "/v1/validate", validateBody(b, "bob@example.com", b.shopCode), 200, from("192.0.2.3")...)
			if got := failures(b, engine.SubjectCustomer); got != 3 {
				t.Errorf("customer failures %v, want 3", got)
			}
			if got := counterValue(t, b.srv.metrics.rateLimited.WithLabelValues(engine.SubjectCustomer)); got != 1 {
				t.Errorf("customer refusals %v, want 1", got)
			}
			b.clock.Add(time.Minute)
			mustDo(t, b, b.admin, "POST", "/v1/validate", validateBody(b, "ANN.SMITH@example.com", b.shopCode), 200, from("192.0.2.3")...)
		})

		t.Run("idempotency", func(t *testing.T) {
			t.Parallel()
			b := started(t)
			mustDo(t, b, b.checkout, "POST", "/v1/validate", validateBody(b, "", "NOPE1", "NOPE2", "NOPE3"), 200, from("192.0.2.1")...)
			// A 429 is not kept for replay: once the minute is over, the
			// same request with the same Idempotency-Key runs.
			hdr := append(from("192.0.2.1"), "Idempotency-Key", "validate-1")
			want429(t, b.c.do(t, "POST", "/v1/validate", b.checkout, validateBody(b, "", b.shopCode), hdr...), "key", 60)
			b.clock.Add(time.Minute)
			r := mustDo(t, b, b.checkout, "POST", "/v1/validate", validateBody(b, "", b.shopCode), 200, hdr...)
			if r.Header.Get("Idempotent-Replayed") != "" {
				t.Errorf("the answer after the 429 is a replay")
			}
		})
	})
}

// TestLookupLimitShared checks that two servers on one database, as two
// processes, share the counts of failed look-ups.
func TestLookupLimitShared(t *testing.T) {
	t.Parallel()
	for _, database := range []string{"sqlite", "postgres"} {
		t.Run(database, func(t *testing.T) {
			t.Parallel()
			st1, st2 := dbtest.OpenShared(t, database)
			a := newBundle(t, st1, limitOf3)
			a.fixtures(t)
			svc := engine.New(engine.Config{DB: st2, Clock: a.clock})
			srv := NewServer(Config{Service: svc, Logger: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry(),
				OpenAPI: mustReadOpenAPI(t), LookupFailures: 3, KeyLookupFailures: 3, TrustProxy: true})
			ts := httptest.NewServer(srv)
			t.Cleanup(ts.Close)
			b := &client{base: ts.URL, hc: ts.Client()}

			// One key from three addresses, one failure on each server
			// and a third on the first.
			for i, c := range []*client{a.c, b, a.c} {
				r := c.do(t, "GET", "/v1/codes/NOPE"+strconv.Itoa(i), a.checkout, nil, from("192.0.2."+strconv.Itoa(i))...)
				if r.StatusCode != http.StatusNotFound {
					t.Fatalf("look-up %d: %d %s", i, r.StatusCode, r.Body)
				}
			}
			for _, c := range []*client{a.c, b} {
				want429(t, c.do(t, "GET", "/v1/codes/"+a.shopCode, a.checkout, nil, from("192.0.2.9")...), "key", 60)
			}
			a.clock.Add(time.Minute)
			if r := b.do(t, "GET", "/v1/codes/"+a.shopCode, a.checkout, nil, from("192.0.2.9")...); r.StatusCode != http.StatusOK {
				t.Fatalf("after the minute: %d %s", r.StatusCode, r.Body)
			}
			// The purge of either process removes the ended window's
			// count: the key's (a checkout key's addresses are not counted).
			if n, err := svc.PurgeLookupFailures(context.Background()); err != nil || n != 1 {
				t.Fatalf("PurgeLookupFailures = %d, %v; want 1", n, err)
			}
		})
	}
}

// TestClientAddrOddEntry: behind a trusted proxy, a last X-Forwarded-For
// entry that is not an address is counted as printable ASCII, so that no
// text a database refuses reaches the counts, and a failed look-up from it
// is answered 404 (then 429), never 500, on both databases.
func TestClientAddrOddEntry(t *testing.T) {
	t.Parallel()
	s := &Server{trustProxy: true}
	for _, entry := range []string{"a\x00b", "\xff\xfe", "unknown", strings.Repeat("x", 200)} {
		r := httptest.NewRequest("GET", "/v1/codes/X", nil)
		r.Header.Set("X-Forwarded-For", "192.0.2.1, "+entry)
		got := s.clientAddr(r)
		if len(got) > maxAddrLen+3 {
			t.Errorf("clientAddr(%q) = %q: longer than %d bytes", entry, got, maxAddrLen)
		}
		for i := 0; i < len(got); i++ {
			if got[i] < ' ' || got[i] > '~' {
				t.Fatalf("clientAddr(%q) = %q: not printable ASCII", entry, got)
			}
		}
	}
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open, limitOf3)
		for i := range 4 {
			r := b.c.do(t, "GET", "/v1/codes/NOSUCHCODE", b.foreign, nil, from("192.0.2.1, a\xff\xfeb")...)
			want := http.StatusNotFound
			if i == 3 {
				want = http.StatusTooManyRequests
			}
			if r.StatusCode != want {
				t.Fatalf("look-up %d from an odd address: %d, want %d: %s", i+1, r.StatusCode, want, r.Body)
			}
		}
	})
}
