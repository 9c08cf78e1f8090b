package engine

import (
	"context"
	"time"
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
	s.runBatch(batch)
	for j, r := range batch {
		res[idx[j]], errs[idx[j]] = r.res, r.err
	}
	return res, errs
}
