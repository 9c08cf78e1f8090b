package engine_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// wantRefusal fails unless CheckLookups with limit refuses subj for a
// subject of kind with retryAfter, or, for an empty kind, refuses nothing.
func wantRefusal(t *testing.T, svc *engine.Service, subj engine.LookupSubjects, limit int, kind string, retryAfter time.Duration) {
	t.Helper()
	r, err := svc.CheckLookups(context.Background(), subj, engine.LookupLimits{Key: limit, Addr: limit, Customer: limit})
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case kind == "" && r != nil:
		t.Fatalf("%+v refused: %+v", subj, r)
	case kind != "" && (r == nil || r.Kind != kind || r.RetryAfter != retryAfter):
		t.Fatalf("%+v: refusal %+v, want %s for %v", subj, r, kind, retryAfter)
	}
}

// every counts the failures of every kind of subject, with limits no test
// reaches.
var every = engine.LookupLimits{Key: 1 << 30, Addr: 1 << 30, Customer: 1 << 30}

// mustFail counts n failed look-ups of subj under lim and fails unless they
// were counted.
func mustFail(t *testing.T, svc *engine.Service, subj engine.LookupSubjects, n int, lim engine.LookupLimits) {
	t.Helper()
	r, err := svc.FailLookups(context.Background(), subj, n, lim)
	if err != nil || r != nil {
		t.Fatalf("FailLookups(%+v, %d) = %+v, %v; want them counted", subj, n, r, err)
	}
}

// TestLookupLimitKinds: each kind of subject has its own limit, and a kind
// without one is neither counted nor refused.
func TestLookupLimitKinds(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		ctx := context.Background()
		all := engine.LookupSubjects{KeyID: "key_1", Addr: "192.0.2.1", StoreID: "sto_1", CustomerKey: "e:ann@example.com"}
		lim := engine.LookupLimits{Key: 10, Addr: 3}
		mustFail(t, b.svc, all, 3, lim)
		r, err := b.svc.CheckLookups(ctx, all, lim)
		if err != nil || r == nil || r.Kind != engine.SubjectAddr {
			t.Fatalf("after 3 failures: %+v %v, want the address refused", r, err)
		}
		r, err = b.svc.CheckLookups(ctx, engine.LookupSubjects{KeyID: "key_1", StoreID: "sto_1", CustomerKey: "e:ann@example.com"}, lim)
		if err != nil || r != nil {
			t.Fatalf("key under its limit, customer unlimited: %+v %v", r, err)
		}
		// The customer was not counted: with a limit now, it is not refused.
		r, err = b.svc.CheckLookups(ctx, engine.LookupSubjects{StoreID: "sto_1", CustomerKey: "e:ann@example.com"}, engine.LookupLimits{Customer: 1})
		if err != nil || r != nil {
			t.Fatalf("an unlimited kind was counted: %+v %v", r, err)
		}
	})
}

// TestLookupLimit checks the failed look-up limit of each kind of subject,
// the end of its window, and the purge of ended windows.
func TestLookupLimit(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		ctx := context.Background()
		const limit = 3
		ann, err := promokit.Identity{Email: "Ann.Smith+shop@Example.com"}.Key()
		if err != nil {
			t.Fatal(err)
		}
		all := engine.LookupSubjects{KeyID: "key_1", Addr: "192.0.2.1", StoreID: "sto_1", CustomerKey: ann}
		wantRefusal(t, b.svc, all, limit, "", 0)
		mustFail(t, b.svc, all, 2, every)
		wantRefusal(t, b.svc, all, limit, "", 0)
		mustFail(t, b.svc, all, 0, every) // counts nothing
		wantRefusal(t, b.svc, all, limit, "", 0)
		b.clock.Add(20 * time.Second)
		mustFail(t, b.svc, all, 1, every)
		// Each subject has failed 3 times: each is refused on its own,
		// until the minute that began at 09:00 ends.
		wantRefusal(t, b.svc, all, limit, engine.SubjectKey, 40*time.Second)
		wantRefusal(t, b.svc, engine.LookupSubjects{KeyID: "key_2", Addr: "192.0.2.1"}, limit, engine.SubjectAddr, 40*time.Second)
		same, _ := promokit.Identity{Email: "annsmith@example.com"}.Key()
		wantRefusal(t, b.svc, engine.LookupSubjects{KeyID: "key_2", Addr: "192.0.2.9", StoreID: "sto_1", CustomerKey: same}, limit, engine.SubjectCustomer, 40*time.Second)
		wantRefusal(t, b.svc, engine.LookupSubjects{KeyID: "key_2", Addr: "192.0.2.9"}, limit, "", 0)
		// The customer's count is the store's: at another store, or
		// without a store, it has failed nothing.
		wantRefusal(t, b.svc, engine.LookupSubjects{KeyID: "key_2", Addr: "192.0.2.9", StoreID: "sto_2", CustomerKey: same}, limit, "", 0)
		wantRefusal(t, b.svc, engine.LookupSubjects{KeyID: "key_2", Addr: "192.0.2.9", CustomerKey: same}, limit, "", 0)
		wantRefusal(t, b.svc, all, limit+1, "", 0)
		wantRefusal(t, b.svc, all, 0, "", 0) // no limit

		b.clock.Add(40*time.Second - time.Microsecond)
		wantRefusal(t, b.svc, all, limit, engine.SubjectKey, time.Microsecond)
		b.clock.Add(time.Microsecond)
		wantRefusal(t, b.svc, all, limit, "", 0)

		// The purge removes the ended window's three counts, once.
		for _, want := range []int64{3, 0} {
			n, err := b.svc.PurgeLookupFailures(ctx)
			if err != nil || n != want {
				t.Fatalf("PurgeLookupFailures = %d, %v; want %d", n, err, want)
			}
		}
	})
}

// TestLookupLimitShared checks that two services on one database, as two
// server processes, count failures together.
func TestLookupLimitShared(t *testing.T) {
	t.Parallel()
	for _, database := range []string{"sqlite", "postgres"} {
		t.Run(database, func(t *testing.T) {
			t.Parallel()
			st1, st2 := dbtest.OpenShared(t, database)
			clock := promokit.NewFixedClock(jan1)
			a := engine.New(engine.Config{DB: st1, Clock: clock})
			b := engine.New(engine.Config{DB: st2, Clock: clock})
			ctx := context.Background()
			subj := engine.LookupSubjects{KeyID: "key_1", Addr: "2001:db8::/64"}
			for i, svc := range []*engine.Service{a, b, a} {
				wantRefusal(t, svc, subj, 3, "", 0)
				if r, err := svc.FailLookups(ctx, subj, 1, every); err != nil || r != nil {
					t.Fatalf("failure %d: %+v %v", i, r, err)
				}
			}
			wantRefusal(t, a, subj, 3, engine.SubjectKey, time.Minute)
			wantRefusal(t, b, subj, 3, engine.SubjectKey, time.Minute)
		})
	}
}

// TestValidateGuard: a validate with a Guard reads its subjects' failed
// look-ups with the cart, in the batches of concurrent validates, and is
// refused before pricing once a subject has reached its limit, with the
// time left in the window; the others are priced.
func TestValidateGuard(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		_, codes := racePromotion(t, b, percentInput(), 1)
		lim := engine.LookupLimits{Key: 100, Addr: 2, Customer: 2}
		blocked := engine.LookupSubjects{KeyID: "key_checkout", Addr: "192.0.2.1"}
		mustFail(t, b.svc, blocked, 2, lim)
		b.clock.Add(15 * time.Second)
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Go(func() {
				subj := engine.LookupSubjects{KeyID: "key_checkout", Addr: fmt.Sprintf("192.0.2.%d", 1+i%2)}
				in := engine.ValidateInput{Cart: order(b, "", "").Cart, Codes: codes, Guard: &engine.LookupGuard{Subjects: subj, Limits: lim}}
				pc, err := b.svc.Validate(b.check, in)
				var refusal *engine.LookupRefusal
				switch {
				case i%2 == 0 && (!errors.As(err, &refusal) || refusal.Kind != engine.SubjectAddr || refusal.RetryAfter != 45*time.Second):
					t.Errorf("validate %d from the blocked address: %+v %v, want the address refused for 45s", i, pc, err)
				case i%2 == 1 && (err != nil || len(pc.Applied) != 1):
					t.Errorf("validate %d from another address: %+v %v, want the code applied", i, pc, err)
				}
			})
		}
		wg.Wait()
		// Without a guard nothing is checked; the next window forgets.
		if _, err := b.svc.Validate(b.check, engine.ValidateInput{Cart: order(b, "", "").Cart, Codes: codes}); err != nil {
			t.Fatalf("validate without a guard: %v", err)
		}
		b.clock.Add(45 * time.Second)
		in := engine.ValidateInput{Cart: order(b, "", "").Cart, Codes: codes, Guard: &engine.LookupGuard{Subjects: blocked, Limits: lim}}
		if _, err := b.svc.Validate(b.check, in); err != nil {
			t.Fatalf("validate in the next minute: %v", err)
		}
	})
}

// TestFailLookupsConcurrent: concurrent FailLookups share their writes and
// add up exactly, whatever the subjects they share and their counts.
func TestFailLookupsConcurrent(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		ctx := context.Background()
		const callers = 60
		// Each subject alone, with the failures counted against it.
		want := make(map[engine.LookupSubjects]int64)
		var wg sync.WaitGroup
		for i := range callers {
			key, addr, customer := fmt.Sprintf("key_%d", i%3), fmt.Sprintf("192.0.2.%d", i%7), fmt.Sprintf("e:%d", i%5)
			n := 1 + i%4
			want[engine.LookupSubjects{KeyID: key}] += int64(n)
			want[engine.LookupSubjects{Addr: addr}] += int64(n)
			want[engine.LookupSubjects{StoreID: "sto_1", CustomerKey: customer}] += int64(n)
			wg.Go(func() {
				subj := engine.LookupSubjects{KeyID: key, Addr: addr, StoreID: "sto_1", CustomerKey: customer}
				if r, err := b.svc.FailLookups(ctx, subj, n, every); err != nil || r != nil {
					t.Errorf("FailLookups %d: %+v %v", i, r, err)
				}
			})
		}
		wg.Wait()
		// Each subject is refused exactly when its sum reaches the limit.
		for subj, sum := range want {
			wantRefusal(t, b.svc, subj, int(sum), subj.Kinds()[0], time.Minute)
			wantRefusal(t, b.svc, subj, int(sum)+1, "", 0)
		}
	})
}

// TestFailLookupsExact: concurrent FailLookups of one subject, through two
// services on one database as two processes, count exactly the limit's
// failures and refuse every other, with the subject that did not fit and
// the time left in the window; a refused call counts nothing against its
// other subjects either.
func TestFailLookupsExact(t *testing.T) {
	t.Parallel()
	for _, database := range []string{"sqlite", "postgres"} {
		t.Run(database, func(t *testing.T) {
			t.Parallel()
			st1, st2 := dbtest.OpenShared(t, database)
			clock := promokit.NewFixedClock(jan1.Add(10 * time.Second))
			svcs := []*engine.Service{engine.New(engine.Config{DB: st1, Clock: clock}), engine.New(engine.Config{DB: st2, Clock: clock})}
			lim := engine.LookupLimits{Key: 1000, Addr: 1000, Customer: 20}
			for _, c := range []int{8, 16, 64} {
				customer := fmt.Sprintf("e:buyer-%d", c)
				var counted, refused atomic.Int64
				var wg sync.WaitGroup
				slots := make(chan struct{}, c) // c calls at once
				for i := range max(c, 60) {
					slots <- struct{}{}
					wg.Go(func() {
						defer func() { <-slots }()
						subj := engine.LookupSubjects{KeyID: fmt.Sprintf("key_%d", c), Addr: fmt.Sprintf("192.0.2.%d", c), StoreID: "sto_1", CustomerKey: customer}
						r, err := svcs[i%2].FailLookups(context.Background(), subj, 1, lim)
						switch {
						case err != nil:
							t.Errorf("FailLookups: %v", err)
						case r == nil:
							counted.Add(1)
						case r.Kind != engine.SubjectCustomer || r.RetryAfter != 50*time.Second:
							t.Errorf("refusal %+v, want the customer for 50s", r)
						default:
							refused.Add(1)
						}
					})
				}
				wg.Wait()
				if counted.Load() != 20 || refused.Load() != int64(max(c, 60)-20) {
					t.Errorf("c=%d: %d counted, %d refused; want 20 and %d", c, counted.Load(), refused.Load(), max(c, 60)-20)
				}
				// The key and the address counted the 20 only.
				only := engine.LookupSubjects{KeyID: fmt.Sprintf("key_%d", c)}
				wantRefusal(t, svcs[0], only, 20, engine.SubjectKey, 50*time.Second)
				wantRefusal(t, svcs[1], only, 21, "", 0)
				only = engine.LookupSubjects{Addr: fmt.Sprintf("192.0.2.%d", c)}
				wantRefusal(t, svcs[1], only, 20, engine.SubjectAddr, 50*time.Second)
				wantRefusal(t, svcs[0], only, 21, "", 0)
			}
		})
	}
}
