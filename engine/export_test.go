package engine

import (
	"context"
	"time"

	"github.com/promokit/promokit/storage"
)

// RedeemBatch writes ins as one batch of the redeem path, in order, as if
// they had all arrived while the previous batch was being written, and
// returns each call's answer. A zero hold redeems; another reserves.
func (s *Service) RedeemBatch(ctx context.Context, ins []RedeemInput, holds []time.Duration) ([]*RedeemResult, []error) {
	res, errs := make([]*RedeemResult, len(ins)), make([]error, len(ins))
	var batch []*useReq
	var idx []int
	for i, in := range ins {
		r, err := newUseReq(ctx, in, holds[i])
		if err != nil {
			errs[i] = err
			continue
		}
		r.done = make(chan struct{})
		batch, idx = append(batch, r), append(idx, i)
	}
	bctx, stop := batchContext([]context.Context{ctx})
	s.runBatch(bctx, batch)
	stop()
	for j, r := range batch {
		res[idx[j]], errs[idx[j]] = r.res, r.err
	}
	return res, errs
}

// RedeemEach writes ins order by order in one transaction, as a batch does
// when it cannot be written together, and returns each call's answer.
func (s *Service) RedeemEach(ctx context.Context, ins []RedeemInput) ([]*RedeemResult, []error) {
	res, errs := make([]*RedeemResult, len(ins)), make([]error, len(ins))
	batch := make([]*useReq, len(ins))
	for i, in := range ins {
		r, err := newUseReq(ctx, in, 0)
		if err != nil {
			return nil, []error{err}
		}
		batch[i] = r
	}
	if err := s.db.Write(ctx, func(tx storage.Tx) error { return s.useEach(ctx, tx, batch) }); err != nil {
		return nil, []error{err}
	}
	for i, r := range batch {
		res[i], errs[i] = r.res, r.err
	}
	return res, errs
}

// Pending returns how many calls wait in the queue of a batched path,
// behind the batches in flight: "cartReads", "lookups", "lookupChecks",
// "lookupFails", "idempotency", "placeReads", "places" or "redeems".
func (s *Service) Pending(path string) int {
	switch path {
	case "cartReads":
		return s.cartReads.waiting()
	case "lookups":
		return s.lookups.q.waiting()
	case "lookupChecks":
		return s.lookupChecks.waiting()
	case "lookupFails":
		return s.lookupFails.waiting()
	case "idempotency":
		return s.idempotency.waiting()
	case "placeReads":
		return s.placeReads.waiting()
	case "places":
		return s.places.waiting()
	case "redeems":
		return s.redeems.waiting()
	}
	panic("engine: no queue " + path)
}

// waiting returns how many calls are pending.
func (q *queue[T]) waiting() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.pending)
}
