package http

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
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

// raceLookups sends total failing look-ups, c at a time, each through one
// of clients in turn, built by req(i), and returns how many were answered
// as failures (by isFailure) and how many 429 too_many_failures; any other
// answer fails the test.
func raceLookups(t *testing.T, clients []*client, c, total int, req func(cl *client, i int) *response, isFailure func(*response) bool) (failed, refused int) {
	t.Helper()
	var next, nFailed, nRefused atomic.Int64
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			<-start
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				r := req(clients[i%len(clients)], i)
				switch {
				case r.StatusCode == http.StatusTooManyRequests && r.Problem.Code == promokit.ETooManyFailures:
					if r.Header.Get("Retry-After") == "" {
						t.Errorf("look-up %d: 429 without Retry-After", i)
					}
					nRefused.Add(1)
				case isFailure(r):
					nFailed.Add(1)
				default:
					t.Errorf("look-up %d: %d %s", i, r.StatusCode, r.Body)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	return int(nFailed.Load()), int(nRefused.Load())
}

// notFoundRejected reports whether r is a validate answer that rejected
// its codes as not found.
func notFoundRejected(t *testing.T) func(*response) bool {
	return func(r *response) bool {
		if r.StatusCode != http.StatusOK {
			return false
		}
		for _, rj := range rejectionsOf(t, r) {
			if rj["reason"] != promokit.ReasonNotFound {
				return false
			}
		}
		return true
	}
}

// exactLimit is the limit of the exactness tests: the default.
const exactLimit = DefaultLookupFailures

// exactCases fires failing look-ups at c = 8, 16 and 64 at once, three
// times the limit of them (at least c), through clients, for a subject
// that is new at each c, and checks that exactly the limit are answered
// as failures and every other is 429.
func exactCases(t *testing.T, b *testBundle, clients []*client) {
	for _, c := range []int{8, 16, 64} {
		total := max(c, 3*exactLimit)
		t.Run("validate customer c="+strconv.Itoa(c), func(t *testing.T) {
			// One customer through the checkout key, which counts no
			// address: only the customer's limit is at stake.
			email := fmt.Sprintf("buyer-%d@example.com", c)
			failed, refused := raceLookups(t, clients, c, total, func(cl *client, i int) *response {
				return cl.do(t, "POST", "/v1/validate", b.checkout, validateBody(b, email, fmt.Sprintf("NOPE-%d-%d", c, i)))
			}, notFoundRejected(t))
			if failed != exactLimit || refused != total-exactLimit {
				t.Errorf("%d failures answered and %d refused, want %d and %d", failed, refused, exactLimit, total-exactLimit)
			}
		})
		t.Run("code address c="+strconv.Itoa(c), func(t *testing.T) {
			addr := from("198.51.100." + strconv.Itoa(c))
			failed, refused := raceLookups(t, clients, c, total, func(cl *client, i int) *response {
				return cl.do(t, "GET", fmt.Sprintf("/v1/codes/NOPE-%d-%d", c, i), b.seller, nil, addr...)
			}, func(r *response) bool { return r.StatusCode == http.StatusNotFound })
			if failed != exactLimit || refused != total-exactLimit {
				t.Errorf("%d failures answered and %d refused, want %d and %d", failed, refused, exactLimit, total-exactLimit)
			}
		})
	}
}

// exactConfig keeps the default limits and takes client addresses from
// X-Forwarded-For.
func exactConfig(c *Config) { c.TrustProxy = true }

// TestLookupLimitExact: however many failing look-ups run at once, exactly
// the limit of them are answered as failures and every other is 429, for
// validate's customer and for a code look-up's address.
func TestLookupLimitExact(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open, exactConfig)
		exactCases(t, b, []*client{b.c})
	})
}

// TestLookupLimitExactShared: two servers on one database, as two
// processes, answer exactly the limit's failures between them.
func TestLookupLimitExactShared(t *testing.T) {
	t.Parallel()
	for _, database := range []string{"sqlite", "postgres"} {
		t.Run(database, func(t *testing.T) {
			t.Parallel()
			st1, st2 := dbtest.OpenShared(t, database)
			a := newBundle(t, st1, exactConfig)
			a.fixtures(t)
			svc := engine.New(engine.Config{DB: st2, Clock: a.clock})
			srv := NewServer(Config{Service: svc, Logger: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry(),
				OpenAPI: mustReadOpenAPI(t), TrustProxy: true})
			ts := httptest.NewServer(srv)
			t.Cleanup(ts.Close)
			exactCases(t, a, []*client{a.c, {base: ts.URL, hc: ts.Client()}})
		})
	}
}

// TestLookupLimitPerStore: a customer's failed look-ups count per store.
// Guesses through store A's public storefront key lock the customer out
// of store A only: store B's storefront and checkout keys, and a checkout
// key bound to no store pricing a cart of store B, go on.
func TestLookupLimitPerStore(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open, func(c *Config) { c.LookupFailures, c.TrustProxy = 3, true })
		b.clock.Set(jan1().Add(48 * time.Hour))
		otherFront := mustCreate[keyJSON](t, b, b.foreign, "POST", "/v1/keys", map[string]any{"name": "other storefront", "role": "storefront"}).Secret
		otherCheckout := mustCreate[keyJSON](t, b, b.foreign, "POST", "/v1/keys", map[string]any{"name": "other checkout", "role": "checkout"}).Secret
		anyStore := mustCreate[keyJSON](t, b, b.admin, "POST", "/v1/keys", map[string]any{"name": "marketplace checkout", "role": "checkout"}).Secret
		const ann = "ann@example.com"
		otherBody := func(codes ...string) map[string]any {
			return map[string]any{
				"cart":     promokit.Cart{StoreID: b.other.ID, Currency: "USD", Lines: []promokit.Line{{ProductID: "sku-9", Quantity: 1, UnitPrice: 4000}}},
				"codes":    codes,
				"customer": map[string]any{"email": ann},
			}
		}
		// Store A's storefront, from three addresses: three failures of
		// Ann at store A.
		for i := range 3 {
			mustDo(t, b, b.storefront, "POST", "/v1/validate", validateBody(b, ann, "GUESS"+strconv.Itoa(i)), 200, from("203.0.113."+strconv.Itoa(i))...)
		}
		want429(t, b.c.do(t, "POST", "/v1/validate", b.storefront, validateBody(b, ann, b.shopCode), from("203.0.113.9")...), "customer", 60)
		want429(t, b.c.do(t, "POST", "/v1/validate", anyStore, validateBody(b, ann, b.shopCode)), "customer", 60)
		// At store B, Ann has failed nothing.
		r := mustDo(t, b, otherFront, "POST", "/v1/validate", otherBody(b.otherCode), 200, from("203.0.113.20")...)
		if rj := rejectionsOf(t, r); len(rj) != 0 {
			t.Errorf("store B's code rejected: %v", rj)
		}
		mustDo(t, b, otherCheckout, "POST", "/v1/validate", otherBody(b.otherCode), 200)
		mustDo(t, b, anyStore, "POST", "/v1/validate", otherBody(b.otherCode), 200)
		// And her failures at B count at B: two more there, and the
		// unbound key's third locks her out of B as well.
		mustDo(t, b, otherCheckout, "POST", "/v1/validate", otherBody("NOPE1", "NOPE2"), 200)
		mustDo(t, b, anyStore, "POST", "/v1/validate", otherBody("NOPE3"), 200)
		want429(t, b.c.do(t, "POST", "/v1/validate", otherFront, otherBody(b.otherCode), from("203.0.113.21")...), "customer", 60)
		// A storefront key of store A naming store B's cart is not found,
		// and counts nothing anywhere.
		r = b.c.do(t, "POST", "/v1/validate", b.storefront, otherBody("NOPE4"), from("203.0.113.22")...)
		if r.StatusCode != http.StatusNotFound {
			t.Fatalf("store A's storefront key pricing store B's cart: %d %s", r.StatusCode, r.Body)
		}
	})
}
