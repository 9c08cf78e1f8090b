package engine_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storetest"
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

// every counts the failures of every kind of subject.
var every = engine.LookupLimits{Key: 1, Addr: 1, Customer: 1}

// TestLookupLimitKinds: each kind of subject has its own limit, and a kind
// without one is neither counted nor refused.
func TestLookupLimitKinds(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(*testing.T) engine.Store) {
		b := setup(t, open)
		ctx := context.Background()
		all := engine.LookupSubjects{KeyID: "key_1", Addr: "192.0.2.1", CustomerKey: "e:ann@example.com"}
		lim := engine.LookupLimits{Key: 10, Addr: 3}
		if err := b.svc.FailLookups(ctx, all, 3, lim); err != nil {
			t.Fatal(err)
		}
		r, err := b.svc.CheckLookups(ctx, all, lim)
		if err != nil || r == nil || r.Kind != engine.SubjectAddr {
			t.Fatalf("after 3 failures: %+v %v, want the address refused", r, err)
		}
		r, err = b.svc.CheckLookups(ctx, engine.LookupSubjects{KeyID: "key_1", CustomerKey: "e:ann@example.com"}, lim)
		if err != nil || r != nil {
			t.Fatalf("key under its limit, customer unlimited: %+v %v", r, err)
		}
		// The customer was not counted: with a limit now, it is not refused.
		r, err = b.svc.CheckLookups(ctx, engine.LookupSubjects{CustomerKey: "e:ann@example.com"}, engine.LookupLimits{Customer: 1})
		if err != nil || r != nil {
			t.Fatalf("an unlimited kind was counted: %+v %v", r, err)
		}
	})
}

// TestLookupLimit checks the failed look-up limit of each kind of subject,
// the end of its window, and the purge of ended windows.
func TestLookupLimit(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(*testing.T) engine.Store) {
		b := setup(t, open)
		ctx := context.Background()
		const limit = 3
		ann, err := promokit.Identity{Email: "Ann.Smith+shop@Example.com"}.Key()
		if err != nil {
			t.Fatal(err)
		}
		all := engine.LookupSubjects{KeyID: "key_1", Addr: "192.0.2.1", CustomerKey: ann}
		wantRefusal(t, b.svc, all, limit, "", 0)
		if err := b.svc.FailLookups(ctx, all, 2, every); err != nil {
			t.Fatal(err)
		}
		wantRefusal(t, b.svc, all, limit, "", 0)
		if err := b.svc.FailLookups(ctx, all, 0, every); err != nil { // counts nothing
			t.Fatal(err)
		}
		wantRefusal(t, b.svc, all, limit, "", 0)
		b.clock.Add(20 * time.Second)
		if err := b.svc.FailLookups(ctx, all, 1, every); err != nil {
			t.Fatal(err)
		}
		// Each subject has failed 3 times: each is refused on its own,
		// until the minute that began at 09:00 ends.
		wantRefusal(t, b.svc, all, limit, engine.SubjectKey, 40*time.Second)
		wantRefusal(t, b.svc, engine.LookupSubjects{KeyID: "key_2", Addr: "192.0.2.1"}, limit, engine.SubjectAddr, 40*time.Second)
		same, _ := promokit.Identity{Email: "annsmith@example.com"}.Key()
		wantRefusal(t, b.svc, engine.LookupSubjects{KeyID: "key_2", Addr: "192.0.2.9", CustomerKey: same}, limit, engine.SubjectCustomer, 40*time.Second)
		wantRefusal(t, b.svc, engine.LookupSubjects{KeyID: "key_2", Addr: "192.0.2.9"}, limit, "", 0)
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
			st1, st2 := storetest.OpenShared(t, database)
			clock := promokit.NewFixedClock(jan1)
			a := engine.New(engine.Config{Store: st1, Clock: clock})
			b := engine.New(engine.Config{Store: st2, Clock: clock})
			ctx := context.Background()
			subj := engine.LookupSubjects{KeyID: "key_1", Addr: "2001:db8::/64"}
			for i, svc := range []*engine.Service{a, b, a} {
				wantRefusal(t, svc, subj, 3, "", 0)
				if err := svc.FailLookups(ctx, subj, 1, every); err != nil {
					t.Fatalf("failure %d: %v", i, err)
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
	storetest.ForEach(t, func(t *testing.T, open func(*testing.T) engine.Store) {
		b := setup(t, open)
		_, codes := racePromotion(t, b, percentInput(), 1)
		ctx := context.Background()
		lim := engine.LookupLimits{Key: 100, Addr: 2, Customer: 2}
		blocked := engine.LookupSubjects{KeyID: "key_checkout", Addr: "192.0.2.1"}
		if err := b.svc.FailLookups(ctx, blocked, 2, lim); err != nil {
			t.Fatal(err)
		}
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
	storetest.ForEach(t, func(t *testing.T, open func(*testing.T) engine.Store) {
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
			want[engine.LookupSubjects{CustomerKey: customer}] += int64(n)
			wg.Go(func() {
				subj := engine.LookupSubjects{KeyID: key, Addr: addr, CustomerKey: customer}
				if err := b.svc.FailLookups(ctx, subj, n, every); err != nil {
					t.Errorf("FailLookups %d: %v", i, err)
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
