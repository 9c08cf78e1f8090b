package engine

import (
	"context"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// lookups batches concurrent code look-ups: while a batch is being read,
// the look-ups that arrive wait for the next, and each batch is one query
// per scope. Under load the database then answers tens of look-ups per
// query instead of one; alone, a look-up runs at once and waits for
// nothing. Every answer comes from a read that began after the look-up
// arrived, so batching never serves a stale code.
type lookups struct {
	s *Service
	q queue[*lookup]
}

// newLookups returns the look-ups of s's database, one batch in flight:
// the batches that wait for it grow larger, and that measured faster than
// several batches side by side (BENCHMARKS.md).
func newLookups(s *Service) *lookups {
	l := &lookups{s: s}
	l.q = queue[*lookup]{max: 1, maxBatch: maxLookupBatch, run: l.read}
	return l
}

type lookup struct {
	scope promokit.Scope
	code  string
	found *promokit.Code
	err   error
	done  chan struct{}
}

// maxLookupBatch bounds one batch, and so one query's size.
const maxLookupBatch = 256

// get looks code up in scope; ENotFound when it is missing or foreign.
func (l *lookups) get(ctx context.Context, scope promokit.Scope, code string) (*promokit.Code, error) {
	req := &lookup{scope: scope, code: code, done: make(chan struct{})}
	l.q.push(ctx, req)
	if err := await(ctx, req.done); err != nil {
		return nil, err
	}
	if req.err != nil {
		return nil, req.err
	}
	if req.found == nil {
		return nil, notFound("code", code)
	}
	return req.found, nil
}

// read answers one batch under ctx, the batch's context (batchContext),
// with one query per distinct scope, isolating a look-up whose query the
// database refuses (isolate.go).
func (l *lookups) read(ctx context.Context, batch []*lookup) {
	byScope := make(map[promokit.Scope][]*lookup, 1)
	for _, r := range batch {
		byScope[r.scope] = append(byScope[r.scope], r)
	}
	for scope, reqs := range byScope {
		isolateBatch(l.s, reqs, func(part []*lookup) error { return l.readScope(ctx, scope, part) },
			func(r *lookup, err error) { r.err = err })
		for _, r := range reqs {
			close(r.done)
		}
	}
}

// readScope reads the codes of reqs, look-ups in scope, with one query
// and sets their answers, or returns the query's error and sets none.
func (l *lookups) readScope(ctx context.Context, scope promokit.Scope, reqs []*lookup) error {
	values := make([]string, 0, len(reqs))
	seen := make(map[string]bool, len(reqs))
	for _, r := range reqs {
		if !seen[r.code] {
			seen[r.code] = true
			values = append(values, r.code)
		}
	}
	var codes []*promokit.Code
	err := l.s.read(ctx, func(tx storage.Tx) error {
		var err error
		codes, err = tx.CodeGetMany(ctx, scope, values)
		return err
	})
	if err != nil {
		return err
	}
	found := make(map[string]*promokit.Code, len(codes))
	for _, c := range codes {
		found[c.Code] = c
	}
	for _, r := range reqs {
		if c := found[r.code]; c != nil {
			// Each caller gets its own copy: callers may change it.
			cc := *c
			r.found = &cc
		}
	}
	return nil
}
