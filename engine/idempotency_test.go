package engine_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/storage"
)

// TestIdempotencyConcurrent begins, finishes and aborts requests with
// Idempotency-Keys from many goroutines at once, so that their writes
// share transactions: of the callers that send one key together exactly
// one runs and the others are told it is busy; a finished key replays its
// response, to its own request only; an aborted key runs again; a key
// whose first request ran past the stale time is taken over.
func TestIdempotencyConcurrent(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		ctx := context.Background()
		const keys, callers = 40, 3 // each key sent by 3 callers at once
		hash := func(i int) []byte { return []byte(fmt.Sprintf("request %d", i)) }
		var (
			mu  sync.Mutex
			ran = make(map[int]int)
			wg  sync.WaitGroup
		)
		for i := range keys * callers {
			k := i % keys
			wg.Go(func() {
				rec, err := b.svc.BeginIdempotent(ctx, "key_a", fmt.Sprint(k), hash(k))
				switch {
				case err == nil && rec == nil:
					mu.Lock()
					ran[k]++
					mu.Unlock()
				case promokit.ErrorCode(err) != promokit.EIdempotencyBusy:
					t.Errorf("key %d: %v, %+v; want to run or %s", k, err, rec, promokit.EIdempotencyBusy)
				}
			})
		}
		wg.Wait()
		for k := range keys {
			if ran[k] != 1 {
				t.Fatalf("key %d ran %d times, want once", k, ran[k])
			}
		}
		// Finish the even keys and abort the odd ones, all at once.
		for k := range keys {
			wg.Go(func() {
				var err error
				if k%2 == 0 {
					err = b.svc.FinishIdempotent(ctx, &storage.IdempotencyRecord{
						KeyID: "key_a", Key: fmt.Sprint(k), Status: 201, Headers: []byte(`{}`), Body: []byte(fmt.Sprint(k)),
					})
				} else {
					err = b.svc.AbortIdempotent(ctx, "key_a", fmt.Sprint(k))
				}
				if err != nil {
					t.Errorf("key %d: %v", k, err)
				}
			})
		}
		wg.Wait()
		// Again at once: a finished key replays to its request and refuses
		// another; an aborted key runs again.
		for k := range keys {
			wg.Go(func() {
				rec, err := b.svc.BeginIdempotent(ctx, "key_a", fmt.Sprint(k), hash(k))
				if k%2 == 1 {
					if err != nil || rec != nil {
						t.Errorf("aborted key %d: %v, %+v; want to run again", k, err, rec)
					}
					return
				}
				if err != nil || rec == nil || rec.Status != 201 || string(rec.Body) != fmt.Sprint(k) {
					t.Errorf("finished key %d: %v, %+v; want its response", k, err, rec)
				}
				if _, err := b.svc.BeginIdempotent(ctx, "key_a", fmt.Sprint(k), hash(k+1)); promokit.ErrorCode(err) != promokit.EIdempotencyReuse {
					t.Errorf("finished key %d with another request: %v, want %s", k, err, promokit.EIdempotencyReuse)
				}
			})
		}
		wg.Wait()
		// The same key of another API key is another record.
		if rec, err := b.svc.BeginIdempotent(ctx, "key_b", "0", hash(0)); err != nil || rec != nil {
			t.Errorf("key 0 of another API key: %v, %+v; want to run", err, rec)
		}
		// An odd key began again above and was never finished: once stale,
		// its first request is taken over.
		if _, err := b.svc.BeginIdempotent(ctx, "key_a", "1", hash(1)); promokit.ErrorCode(err) != promokit.EIdempotencyBusy {
			t.Errorf("running key 1: %v, want %s", err, promokit.EIdempotencyBusy)
		}
		b.clock.Add(3 * time.Minute)
		if rec, err := b.svc.BeginIdempotent(ctx, "key_a", "1", hash(1)); err != nil || rec != nil {
			t.Errorf("stale key 1: %v, %+v; want to run", err, rec)
		}
	})
}

// failKeyStore fails the creation of the idempotency record "bad" as a
// database refuses a value (errRefused), and records the keys each write
// transaction created.
type failKeyStore struct {
	storage.DB
	mu  sync.Mutex
	txs [][]string
}

type failKeyTx struct {
	storage.Tx
	keys *[]string
}

func (tx failKeyTx) IdempotencyCreate(ctx context.Context, r *storage.IdempotencyRecord) error {
	*tx.keys = append(*tx.keys, r.Key)
	if r.Key == "bad" {
		return fmt.Errorf("key %q: %w", r.Key, errRefused)
	}
	return tx.Tx.IdempotencyCreate(ctx, r)
}

func (tx failKeyTx) IdempotencyCreateMany(ctx context.Context, rs []*storage.IdempotencyRecord) ([]bool, error) {
	for _, r := range rs {
		*tx.keys = append(*tx.keys, r.Key)
		if r.Key == "bad" {
			return nil, fmt.Errorf("key %q: %w", r.Key, errRefused)
		}
	}
	return tx.Tx.IdempotencyCreateMany(ctx, rs)
}

func (s *failKeyStore) DataError(err error) bool {
	return errors.Is(err, errRefused) || s.DB.DataError(err)
}

func (s *failKeyStore) Write(ctx context.Context, fn func(storage.Tx) error) error {
	var keys []string
	err := s.DB.Write(ctx, func(tx storage.Tx) error { return fn(failKeyTx{tx, &keys}) })
	s.mu.Lock()
	s.txs = append(s.txs, keys)
	s.mu.Unlock()
	return err
}

// TestIdempotencyBatchFailure makes one write of a batch of idempotency
// writes fail as a database refuses a value: the batch is undone, written
// again in halves, and only the failed one reports the failure, EInvalid.
func TestIdempotencyBatchFailure(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		g := &gateStore{gate: make(chan struct{}), waiting: make(chan struct{}, 1)}
		fs := &failKeyStore{}
		b := setup(t, func(t *testing.T) storage.DB {
			fs.DB = open(t)
			g.DB = fs
			return g
		})
		ctx := context.Background()
		// The first write waits at the gate; the others gather behind it.
		g.closed.Store(true)
		var wg sync.WaitGroup
		wg.Go(func() {
			if rec, err := b.svc.BeginIdempotent(ctx, "key_a", "first", []byte("h")); err != nil || rec != nil {
				t.Errorf("first: %v, %+v", err, rec)
			}
		})
		<-g.waiting
		g.closed.Store(false)
		errs := make(map[string]error)
		var mu sync.Mutex
		for _, k := range []string{"a", "b", "bad", "c", "d"} {
			wg.Go(func() {
				rec, err := b.svc.BeginIdempotent(ctx, "key_a", k, []byte("h"))
				if rec != nil {
					t.Errorf("%s: a record %+v", k, rec)
				}
				mu.Lock()
				errs[k] = err
				mu.Unlock()
			})
		}
		time.Sleep(100 * time.Millisecond) // let the five calls queue
		close(g.gate)
		wg.Wait()
		for k, err := range errs {
			if k == "bad" && promokit.ErrorCode(err) != promokit.EInvalid || k != "bad" && err != nil {
				t.Errorf("%s: %v", k, err)
			}
			// A key that ran is recorded: sent again, it is busy.
			_, err := b.svc.BeginIdempotent(ctx, "key_a", k, []byte("h"))
			if k != "bad" && promokit.ErrorCode(err) != promokit.EIdempotencyBusy {
				t.Errorf("%s again: %v, want %s", k, err, promokit.EIdempotencyBusy)
			}
		}
		shared := false
		for _, keys := range fs.txs {
			shared = shared || len(keys) > 1 && slices.Contains(keys, "bad")
		}
		if !shared {
			t.Errorf("no transaction held the failed write with others: %q", fs.txs)
		}
	})
}
