package engine_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// requestKey is the key of the request id the tests put in their callers'
// contexts, as the HTTP server puts its request's.
type requestKey struct{}

// ctxStore records the context of every read and write the engine makes,
// and can hold the next reads or writes, as a database busy with a long
// statement holds them, until the test lets them go or their context
// ends: then they fail with the context's error and do nothing, as a
// database does with a cancelled statement.
type ctxStore struct {
	storage.DB

	mu     sync.Mutex
	seen   []context.Context
	hold   int  // reads or writes still to hold
	writes bool // whether hold holds writes (or reads)
	held   chan *heldCall
}

// heldCall is a read or write held by a ctxStore.
type heldCall struct {
	ctx     context.Context
	release chan struct{} // closed by the test: the call goes on
	ended   chan error    // the context's error, when it ended first
}

// ctxOpen returns an open function for setupWith that wraps the store it
// opens in cs.
func ctxOpen(cs **ctxStore, open func(*testing.T) storage.DB) func(*testing.T) storage.DB {
	return func(t *testing.T) storage.DB {
		*cs = &ctxStore{DB: open(t), held: make(chan *heldCall, 4)}
		return *cs
	}
}

func (s *ctxStore) Read(ctx context.Context, fn func(storage.Tx) error) error {
	if err := s.pass(ctx, false); err != nil {
		return err
	}
	return s.DB.Read(ctx, fn)
}

func (s *ctxStore) Write(ctx context.Context, fn func(storage.Tx) error) error {
	if err := s.pass(ctx, true); err != nil {
		return err
	}
	return s.DB.Write(ctx, fn)
}

// pass records ctx and holds the call when it is to be held.
func (s *ctxStore) pass(ctx context.Context, write bool) error {
	s.mu.Lock()
	s.seen = append(s.seen, ctx)
	hold := s.hold > 0 && s.writes == write
	if hold {
		s.hold--
	}
	s.mu.Unlock()
	if !hold {
		return nil
	}
	h := &heldCall{ctx: ctx, release: make(chan struct{}), ended: make(chan error, 1)}
	s.held <- h
	select {
	case <-h.release:
		return nil
	case <-ctx.Done():
		h.ended <- ctx.Err()
		return ctx.Err()
	}
}

// holdNext holds the next n reads, or writes.
func (s *ctxStore) holdNext(n int, writes bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold, s.writes = n, writes
}

// carrying returns the contexts of the reads and writes made with the
// request id id.
func (s *ctxStore) carrying(id string) []context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []context.Context
	for _, ctx := range s.seen {
		if ctx.Value(requestKey{}) == id {
			out = append(out, ctx)
		}
	}
	return out
}

// nextHeld returns the next call the store holds; a call held until the
// test ends is let go then.
func (s *ctxStore) nextHeld(t *testing.T) *heldCall {
	t.Helper()
	select {
	case h := <-s.held:
		t.Cleanup(func() {
			select {
			case <-h.release:
			default:
				close(h.release)
			}
		})
		return h
	case <-time.After(10 * time.Second):
		t.Fatal("no read or write reached the database")
		return nil
	}
}

// wantGoing fails if the held call's context ends within a moment.
func (h *heldCall) wantGoing(t *testing.T) {
	t.Helper()
	select {
	case err := <-h.ended:
		t.Fatalf("the batch's database work stopped (%v) while a caller still waits", err)
	case <-time.After(100 * time.Millisecond):
	}
}

// wantEnded fails unless the held call's context ends soon.
func (h *heldCall) wantEnded(t *testing.T) {
	t.Helper()
	select {
	case <-h.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the batch's database work went on after every caller left")
	}
}

// async runs call in a goroutine and returns the channel of its error.
func async(call func() error) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- call() }()
	return ch
}

// wantErr fails unless the call of ch ends soon with want (nil: with no
// error).
func wantErr(t *testing.T, what string, ch <-chan error, want error) {
	t.Helper()
	select {
	case err := <-ch:
		if !errors.Is(err, want) || (want == nil && err != nil) {
			t.Fatalf("%s: %v, want %v", what, err, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no answer; want %v at once", what, want)
	}
}

// waitPending waits until n calls wait in the queue path of svc.
func waitPending(t *testing.T, svc *engine.Service, path string, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); svc.Pending(path) != n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls wait in %s, want %d", svc.Pending(path), path, n)
		}
	}
}

// TestBatchCallersLeave: callers of cart reads that leave are answered
// with their context's error at once. One that left before its batch
// began is not read; one that leaves while its batch runs does not stop
// the batch for the others, who get their answers; a batch whose callers
// have all left stops its database work.
func TestBatchCallersLeave(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		var cs *ctxStore
		reg := prometheus.NewRegistry()
		b := setupWith(t, ctxOpen(&cs, open), engine.Config{Metrics: engine.NewMetrics(reg)})
		validate := func(ctx context.Context) <-chan error {
			return async(func() error {
				_, err := b.svc.Validate(ctx, engine.ValidateInput{Cart: order(b, "", "").Cart})
				return err
			})
		}
		caller := func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(b.check)
			t.Cleanup(cancel)
			return ctx, cancel
		}
		// One caller of two leaves.
		cs.holdNext(2, false)
		first := validate(b.check)
		h := cs.nextHeld(t)
		ctxA, cancelA := caller()
		ctxB, _ := caller()
		a, bb := validate(ctxA), validate(ctxB)
		waitPending(t, b.svc, "cartReads", 2)
		ctxX, cancelX := caller()
		x := validate(ctxX)
		waitPending(t, b.svc, "cartReads", 3)
		cancelX()
		wantErr(t, "a caller that left before its batch", x, context.Canceled)
		close(h.release)
		wantErr(t, "the first caller", first, nil)
		h = cs.nextHeld(t)
		cancelA()
		wantErr(t, "a caller that left its batch", a, context.Canceled)
		h.wantGoing(t)
		close(h.release)
		wantErr(t, "the caller that stayed", bb, nil)
		if batches, carts := histogram(t, reg, "promokit_cart_read_batch_carts"); batches != 2 || carts != 3 {
			t.Fatalf("%v carts read in %d batches, want 3 in 2: the one that left before its batch is not read", carts, batches)
		}
		// Both callers of a batch leave.
		cs.holdNext(2, false)
		first = validate(b.check)
		h = cs.nextHeld(t)
		ctxD, cancelD := caller()
		ctxE, cancelE := caller()
		d, e := validate(ctxD), validate(ctxE)
		waitPending(t, b.svc, "cartReads", 2)
		close(h.release)
		wantErr(t, "the first caller", first, nil)
		h = cs.nextHeld(t)
		cancelD()
		wantErr(t, "the first caller to leave", d, context.Canceled)
		h.wantGoing(t)
		cancelE()
		wantErr(t, "the last caller to leave", e, context.Canceled)
		h.wantEnded(t)
	})
}

// TestWriteCallerLeaves: a caller of a batched write (a redeem, a placed
// order) whose context ends while the write runs is answered with the
// context's error at once, and the write, which no one else waits for,
// stops.
func TestWriteCallerLeaves(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		var cs *ctxStore
		b := setupWith(t, ctxOpen(&cs, open), engine.Config{})
		_, codes := racePromotion(t, b, percentInput(), 1)
		// Each call reports whether it was replayed: whether a call
		// before it was written.
		for _, tc := range []struct {
			name string
			call func(context.Context) (bool, error)
		}{
			{"redeem", func(ctx context.Context) (bool, error) {
				res, err := b.svc.Redeem(ctx, order(b, "o-left", "ann@example.com", codes[0]))
				return err == nil && res.Replayed, err
			}},
			{"placed order", func(ctx context.Context) (bool, error) {
				res, err := b.svc.ApplyOrderEvent(ctx, b.shop.ID, "o-placed", engine.OrderEventInput{
					ID: "e-placed", Type: promokit.EventPlaced, Currency: "USD",
					Lines: []engine.OrderLineInput{{ProductID: "mug", Quantity: 1, Amount: 1000}},
				})
				return err == nil && res.Replayed, err
			}},
		} {
			ctx, cancel := context.WithCancel(b.check)
			cs.holdNext(1, true)
			ch := async(func() error { _, err := tc.call(ctx); return err })
			h := cs.nextHeld(t)
			cancel()
			wantErr(t, tc.name, ch, context.Canceled)
			h.wantEnded(t)
			if replayed, err := tc.call(b.check); err != nil || replayed {
				t.Fatalf("%s again: replayed %v, %v; want written afresh", tc.name, replayed, err)
			}
		}
	})
}

// TestBatchesCarryCallerContext: the reads and writes of every batched
// path carry the values of their caller's context (here a request id),
// and the caller's deadline.
func TestBatchesCarryCallerContext(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		var cs *ctxStore
		b := setupWith(t, ctxOpen(&cs, open), engine.Config{})
		_, codes := racePromotion(t, b, percentInput(), 1)
		subj := engine.LookupSubjects{KeyID: "key_checkout"}
		limits := engine.LookupLimits{Key: 10}
		for i, tc := range []struct {
			name string
			call func(context.Context) error
		}{
			{"validate", func(ctx context.Context) error {
				_, err := b.svc.Validate(ctx, engine.ValidateInput{Cart: order(b, "", "").Cart, Codes: codes})
				return err
			}},
			{"redeem", func(ctx context.Context) error {
				_, err := b.svc.Redeem(ctx, order(b, "o-ctx", "ann@example.com", codes[0]))
				return err
			}},
			{"code look-up", func(ctx context.Context) error {
				_, err := b.svc.GetCode(ctx, codes[0])
				return err
			}},
			{"look-up check", func(ctx context.Context) error {
				_, err := b.svc.CheckLookups(ctx, subj, limits)
				return err
			}},
			{"failed look-up", func(ctx context.Context) error {
				_, err := b.svc.FailLookups(ctx, subj, 1, limits)
				return err
			}},
			{"idempotency key", func(ctx context.Context) error {
				_, err := b.svc.BeginIdempotent(ctx, "key_checkout", "idem-ctx", []byte("hash"))
				return err
			}},
			{"placed order", func(ctx context.Context) error {
				_, err := b.svc.ApplyOrderEvent(ctx, b.shop.ID, "o-ctx-placed", engine.OrderEventInput{
					ID: "e-ctx-placed", Type: promokit.EventPlaced, Currency: "USD",
					Lines: []engine.OrderLineInput{{ProductID: "mug", Quantity: 1, Amount: 1000}},
				})
				return err
			}},
		} {
			id := fmt.Sprintf("req-%d", i)
			// Well within the batches' own bound, so that it is the
			// caller's deadline that the batch keeps.
			ctx, cancel := context.WithTimeout(context.WithValue(b.check, requestKey{}, id), 20*time.Second)
			deadline, _ := ctx.Deadline()
			if err := tc.call(ctx); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			cancel()
			seen := cs.carrying(id)
			if len(seen) == 0 {
				t.Errorf("%s: no read or write carried the caller's request id", tc.name)
			}
			for _, ctx := range seen {
				if d, ok := ctx.Deadline(); !ok || !d.Equal(deadline) {
					t.Errorf("%s: a read or write has deadline %v (%v), want the caller's, %v", tc.name, d, ok, deadline)
				}
			}
		}
	})
}

// TestCloseCancelsClickWrites: the click writer's writes run under its
// own context, which Close ends when its own context ends first: the
// write in flight then stops instead of holding a database being closed.
func TestCloseCancelsClickWrites(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		var cs *ctxStore
		b := setupWith(t, ctxOpen(&cs, open), engine.Config{ClickFlush: time.Hour})
		rate := promokit.BasisPoints(500)
		if _, err := b.svc.JoinAffiliate(b.seller, b.shop.ID, engine.JoinInput{AcceptTerms: true, Rate: &rate, URL: "https://shop.example/"}); err != nil {
			t.Fatal(err)
		}
		aff, err := b.svc.CreatePartner(b.admin, engine.PartnerInput{Name: "Aff", Kind: promokit.PartnerAffiliate})
		if err != nil {
			t.Fatal(err)
		}
		l, err := b.svc.CreateLink(b.admin, engine.LinkInput{StoreID: b.shop.ID, PartnerID: aff.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.Click(context.Background(), engine.ClickInput{Token: l.Token, UserAgent: browser}); err != nil {
			t.Fatal(err)
		}
		cs.holdNext(1, true)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		closed := async(func() error { return b.svc.Close(ctx) })
		h := cs.nextHeld(t)
		wantErr(t, "Close", closed, context.DeadlineExceeded)
		h.wantEnded(t)
		// A click after Close is refused, not answered as recorded and
		// left in a queue that nothing writes any more.
		_, err = b.svc.Click(context.Background(), engine.ClickInput{Token: l.Token, UserAgent: browser})
		if promokit.ErrorCode(err) != promokit.EUnavailable {
			t.Errorf("a click after Close: %v, want %s", err, promokit.EUnavailable)
		}
	})
}
