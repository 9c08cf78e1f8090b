package engine

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/promokit/promokit/storage"
)

// Failed code look-ups are how one would guess codes by brute force: a
// code asked for by value that does not exist, or that the caller may not
// see, and for a storefront key any code that does not apply. They are
// counted in the database, per subject and per fixed window of
// LookupWindow, so that every process on one database shares the counts
// and a restart forgets none. A subject that has failed its limit in the
// current window is refused every look-up until the window ends, whether
// its next guess would hit or not.
//
// The limit is exact: a failure is counted with a conditional increment
// (count + n <= limit, decided in the database's write transaction, every
// process's counts locked alike) before it is answered, and a request
// whose failures do not fit is refused instead of answered. However many
// requests run at once, on however many processes, at most limit failures
// of a subject are answered in one window.
//
// The windows are fixed (whole minutes of the clock), not sliding: a
// subject can fail up to twice its limit across the end of one window and
// the start of the next, and no more in any span of one window.

// LookupWindow is the length of the fixed windows failed look-ups are
// counted in.
const LookupWindow = time.Minute

// Kinds of subject that failed look-ups count against.
const (
	SubjectKey      = "key"      // the API key
	SubjectAddr     = "addr"     // the client address (an IPv6 address as its /64)
	SubjectCustomer = "customer" // the customer the request names (Identity.Key), at the store it prices for
)

// LookupSubjects are who the failed look-ups of one request count against:
// its API key, its client address and, when the request names a customer,
// the customer's identity key (promokit.Identity.Key) at the store the
// request prices a cart for (StoreID), so that one customer's guesses at a
// store count together from any address, however the e-mail address is
// written, and the guesses made at one store (through its public
// storefront key, say) never lock the customer out of another. Empty
// fields count against nothing; a customer counts only with its store.
type LookupSubjects struct {
	KeyID       string
	Addr        string
	StoreID     string
	CustomerKey string
}

// lookupSubject is one subject as stored: its kind and its name in the
// database, "key:", "addr:" or "cust:" and its value (for a customer, its
// store, "/" and its identity key).
type lookupSubject struct {
	kind, name string
}

// list returns the subjects that are set, ordered by name so that
// concurrent writers of the same counts take their rows in one order.
func (ls LookupSubjects) list() []lookupSubject {
	out := make([]lookupSubject, 0, 3)
	if ls.Addr != "" {
		out = append(out, lookupSubject{SubjectAddr, "addr:" + ls.Addr})
	}
	if ls.CustomerKey != "" && ls.StoreID != "" {
		out = append(out, lookupSubject{SubjectCustomer, "cust:" + ls.StoreID + "/" + ls.CustomerKey})
	}
	if ls.KeyID != "" {
		out = append(out, lookupSubject{SubjectKey, "key:" + ls.KeyID})
	}
	return out
}

// Kinds returns the kinds of the subjects that are set.
func (ls LookupSubjects) Kinds() []string {
	list := ls.list()
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = s.kind
	}
	return out
}

// subjectNames returns the stored names of subjects.
func subjectNames(subjects []lookupSubject) []string {
	out := make([]string, len(subjects))
	for i, s := range subjects {
		out[i] = s.name
	}
	return out
}

// LookupRefusal says that a subject of a request has failed too many
// look-ups: Kind is its kind (SubjectKey, SubjectAddr or SubjectCustomer)
// and RetryAfter the time until its window ends.
type LookupRefusal struct {
	Kind       string
	RetryAfter time.Duration
}

// Error makes a refusal the error of a call that checks look-ups itself
// (ValidateInput.Guard).
func (r *LookupRefusal) Error() string {
	return "too many failed code look-ups by this " + r.Kind
}

// lookupWindow returns the start of the window that holds now.
func lookupWindow(now time.Time) time.Time { return now.Truncate(LookupWindow) }

// LookupLimits are how many failed look-ups each kind of subject may make
// per window; zero or less leaves that kind unlimited.
type LookupLimits struct {
	Key, Addr, Customer int
}

// of returns the limit of a kind of subject.
func (l LookupLimits) of(kind string) int {
	switch kind {
	case SubjectKey:
		return l.Key
	case SubjectAddr:
		return l.Addr
	}
	return l.Customer
}

// CheckLookups reports whether the subjects may look codes up now: nil
// when each has failed fewer look-ups than its kind's limit in the current
// window; otherwise the first over its limit (the key, then the address,
// then the customer) and how long until the window ends. It writes
// nothing, so a request that fails no look-up pays no write, and the
// checks of concurrent requests share one indexed read of the database
// (the look-up batching of lookup.go). Subjects without a limit are
// neither read nor refused.
//
// It is the server's guard before a look-up and decides nothing about the
// caller's rights; any caller may be checked.
func (s *Service) CheckLookups(ctx context.Context, subj LookupSubjects, lim LookupLimits) (*LookupRefusal, error) {
	list := lim.limited(subj)
	if len(list) == 0 {
		return nil, nil
	}
	c := &lookupCheck{window: lookupWindow(s.now()), names: subjectNames(list), done: make(chan struct{})}
	s.lookupChecks.push(ctx, c)
	if err := await(ctx, c.done); err != nil {
		return nil, err
	}
	if c.err != nil {
		return nil, c.err
	}
	return lim.refusal(list, c.counts, c.window, s.now()), nil
}

// limited returns the subjects whose kind has a limit.
func (l LookupLimits) limited(subj LookupSubjects) []lookupSubject {
	return slices.DeleteFunc(subj.list(), func(sb lookupSubject) bool { return l.of(sb.kind) <= 0 })
}

// refusal returns the refusal of the first of list (the key, then the
// address, then the customer) whose failures in window have reached its
// limit, or nil.
func (l LookupLimits) refusal(list []lookupSubject, failures map[string]int64, window, now time.Time) *LookupRefusal {
	for _, kind := range []string{SubjectKey, SubjectAddr, SubjectCustomer} {
		i := slices.IndexFunc(list, func(s lookupSubject) bool { return s.kind == kind })
		if i >= 0 && failures[list[i].name] >= int64(l.of(kind)) {
			return &LookupRefusal{Kind: kind, RetryAfter: window.Add(LookupWindow).Sub(now)}
		}
	}
	return nil
}

// lookupCheck is one request's read of its subjects' failures, batched
// with the checks that arrive with it.
type lookupCheck struct {
	window time.Time
	names  []string
	counts map[string]int64 // shared by the batch: read only
	err    error
	done   chan struct{}
}

// maxLookupChecks bounds a batch of checks.
const maxLookupChecks = 256

// readLookupChecks answers a batch of checks with one read under ctx, the
// batch's context (batchContext), isolating a check whose read the
// database refuses (isolate.go).
func (s *Service) readLookupChecks(ctx context.Context, batch []*lookupCheck) {
	isolateBatch(s, batch, func(batch []*lookupCheck) error {
		names := make(map[time.Time][]string, 1)
		for _, c := range batch {
			names[c.window] = appendNew(names[c.window], c.names...)
		}
		var failures map[time.Time]map[string]int64
		err := s.read(ctx, func(tx storage.Tx) error {
			var err error
			failures, err = storage.LookupFailureGetWindows(ctx, tx, names)
			return err
		})
		for _, c := range batch {
			c.counts = failures[c.window]
		}
		return err
	}, func(c *lookupCheck, err error) { c.err = err })
	for _, c := range batch {
		close(c.done)
	}
}

// FailLookups counts n failed look-ups against each of the subjects whose
// kind has a limit, in the current window, if they fit: when every one of
// them has failed at most its limit less n look-ups, it adds n to each
// (creating the counts the database lacks) and returns nil; otherwise it
// counts nothing and returns the refusal of the first that does not fit
// (the key, then the address, then the customer), and the request must be
// answered with it instead of its failures. The decision and the counts
// are one write transaction holding the subjects' counts, so that
// concurrent requests of several processes never answer more than a
// limit's failures. It returns once the counts are committed. Concurrent
// calls share one write transaction (the batching of queue.go): with
// SQLite syncing every commit, a flood of failed guesses costs one sync
// per batch rather than one each, and does not hold the single writer
// from the redeems. n of zero or less counts nothing and refuses nothing.
//
// It is the server's count after a look-up and decides nothing about the
// caller's rights; any caller may be counted.
func (s *Service) FailLookups(ctx context.Context, subj LookupSubjects, n int, lim LookupLimits) (*LookupRefusal, error) {
	list := lim.limited(subj)
	if n <= 0 || len(list) == 0 {
		return nil, nil
	}
	limits := make([]int64, len(list))
	for i, sb := range list {
		limits[i] = int64(lim.of(sb.kind))
	}
	f, err := s.countFailures(ctx, subjectNames(list), limits, int64(n))
	if err != nil || f.over == nil {
		return nil, err
	}
	for _, kind := range []string{SubjectKey, SubjectAddr, SubjectCustomer} {
		for i, sb := range list {
			if sb.kind == kind && f.over[i] {
				return &LookupRefusal{Kind: kind, RetryAfter: f.window.Add(LookupWindow).Sub(s.now())}, nil
			}
		}
	}
	return nil, nil // not reached: a refused count has a subject over
}

// countFailures counts n failures against each of names in the current
// window when each count plus n stays within its limit (limits[i] for
// names[i]), and nothing otherwise: the returned lookupFail's over then
// tells which names did not fit. It waits for the batch's commit; when ctx
// ends first it returns ctx.Err(), and the failures are counted or not: not
// when the batch has not begun or every caller of the batch has gone, and
// with the others otherwise. A caller that must have its failures counted
// passes a context that is not cancelled (context.WithoutCancel).
func (s *Service) countFailures(ctx context.Context, names []string, limits []int64, n int64) (*lookupFail, error) {
	f := &lookupFail{window: lookupWindow(s.now()), names: names, limits: limits, n: n, done: make(chan struct{})}
	s.lookupFails.push(ctx, f)
	if err := await(ctx, f.done); err != nil {
		return nil, err
	}
	return f, f.err
}

// lookupFail is one request's failures, counted with the others of its
// batch.
type lookupFail struct {
	window time.Time
	names  []string
	limits []int64 // of names
	n      int64
	over   []bool // of names, when the failures did not fit; nil when counted
	err    error
	done   chan struct{}
}

// maxLookupFails bounds a batch of failed look-ups.
const maxLookupFails = 256

// writeLookupFails counts a batch's failures in one transaction (see
// writeLookupFailsOnce) under ctx, the batch's context (batchContext). A
// request whose failures the database refuses is isolated (isolate.go).
func (s *Service) writeLookupFails(ctx context.Context, batch []*lookupFail) {
	isolateBatch(s, batch, func(batch []*lookupFail) error { return s.writeLookupFailsOnce(ctx, batch) },
		func(f *lookupFail, err error) { f.err = err })
	for _, f := range batch {
		close(f.done)
	}
}

// writeLookupFailsOnce counts the failures of batch in one transaction.
// Per window (the windows in order), it takes the counts of every subject
// of the batch (LookupFailureLockMany: held until the commit, taken in the
// order of their subjects), decides the requests in the order they came,
// each counted whole when all its subjects fit and not at all otherwise,
// and adds each subject's accepted failures in one statement. Run again on
// a part of the batch, it decides that part afresh under the lock, so the
// counts stay exact.
func (s *Service) writeLookupFailsOnce(ctx context.Context, batch []*lookupFail) error {
	byWindow := make(map[time.Time][]*lookupFail, 1)
	for _, f := range batch {
		byWindow[f.window] = append(byWindow[f.window], f)
	}
	over := make(map[*lookupFail][]bool)
	err := s.write(ctx, func(tx storage.Tx) error {
		clear(over) // the function may run again
		// Windows in order too: the rows of two windows are then taken
		// in one order by every writer.
		for _, window := range slices.SortedFunc(maps.Keys(byWindow), time.Time.Compare) {
			if err := countWindow(ctx, tx, window, byWindow[window], over); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, f := range batch {
		f.over = over[f]
	}
	return nil
}

// countWindow decides and counts the failures fails of one window in tx,
// recording in over the subjects of each refused one.
func countWindow(ctx context.Context, tx storage.Tx, window time.Time, fails []*lookupFail, over map[*lookupFail][]bool) error {
	seen := make(map[string]bool)
	for _, f := range fails {
		for _, name := range f.names {
			seen[name] = true
		}
	}
	names := slices.Sorted(maps.Keys(seen))
	counts, err := tx.LookupFailureLockMany(ctx, window, names)
	if err != nil {
		return err
	}
	added := make(map[string]int64, len(names))
	for _, f := range fails {
		var refused []bool
		for i, name := range f.names {
			if counts[name]+added[name]+f.n > f.limits[i] {
				if refused == nil {
					refused = make([]bool, len(f.names))
				}
				refused[i] = true
			}
		}
		if refused != nil {
			over[f] = refused
			continue
		}
		for _, name := range f.names {
			added[name] += f.n
		}
	}
	names = slices.DeleteFunc(names, func(name string) bool { return added[name] == 0 })
	if len(names) == 0 {
		return nil
	}
	sums := make([]int64, len(names))
	for i, name := range names {
		sums[i] = added[name]
	}
	return tx.LookupFailureAddMany(ctx, window, names, sums)
}

// PurgeLookupFailures deletes the counts of windows that have ended and
// returns how many it deleted. The server's periodic cleanup calls it; a
// count left behind only takes room, since checks read the current window.
func (s *Service) PurgeLookupFailures(ctx context.Context) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx storage.Tx) error {
		var err error
		n, err = tx.LookupFailureDeleteBefore(ctx, lookupWindow(s.now()))
		return err
	})
	return n, err
}
