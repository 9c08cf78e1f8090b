package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// The redeem path batches orders (HOT-LIMITS pattern 3). Every redeem and
// reserve call joins a queue of its process; while one batch is being
// written, the calls that arrive wait for the next. A batch reads the
// codes, promotions and counters of all its orders at once, outside any
// write transaction (so the next batch is read while this one is
// written), and prices each cart. One write transaction then takes the
// uses of the whole batch with one conditional UPDATE per promotion
// (`uses + k <= limit`, and the same for the spend budget), one per code
// and one per limited customer counter, and inserts the rows. A hot
// promotion's row is locked once per batch instead of once per order, and
// a commit serves tens of orders.
//
// When a batch does not fit a limit as a whole (it would pass a promotion's,
// a code's or a customer's limit), nothing of it is written and each half
// is written the same way: exactly the orders that fit succeed, in queue
// order, and the others are refused by their pricing once the counters
// show the limit reached, or, alone, by their own conditional updates,
// with the limit that stood in the way. The limits are always decided by
// the database inside the write, so several processes on one database
// stay exact: each sees the others' uses in the conditions of its updates.

// useReq is one redeem or reserve call waiting for its batch.
type useReq struct {
	ctx   context.Context
	in    RedeemInput // with the cart's customer id and key set
	codes []string    // normalised
	hash  []byte
	hold  time.Duration // 0: redeem
	// expect holds the automatic promotions the order must be written
	// with: those the request lists or, when it lists none, those of its
	// first pricing (planBatch). Nil until then.
	expect *[]string

	res  *RedeemResult
	err  error
	done chan struct{}
}

// target returns the state and hold of the redemptions of r at now.
func (r *useReq) target(now time.Time) (string, *time.Time) {
	if r.hold == 0 {
		return promokit.RedemptionRedeemed, nil
	}
	t := now.Add(r.hold)
	return promokit.RedemptionHeld, &t
}

// redemption returns the new row of a code, or automatic promotion, r
// applies.
func (r *useReq) redemption(a promokit.Applied, state string, holdUntil *time.Time, now time.Time) *promokit.Redemption {
	return &promokit.Redemption{
		StoreID: r.in.Cart.StoreID, OrderID: r.in.OrderID, Code: a.Code, PromotionID: a.PromotionID,
		CustomerKey: r.in.Cart.CustomerKey, Discount: a.Discount, State: state, RequestHash: r.hash,
		HoldUntil: holdUntil, CreatedAt: now, UpdatedAt: now,
	}
}

// Batching bounds. A batch of 128 keeps one transaction short (a few
// milliseconds) while a queue of 64 clients fits in one or two batches.
// Past maxRedeemQueue waiting calls the process answers 503 at once rather
// than let callers queue behind more work than it can do in a few seconds.
const (
	maxRedeemBatch = 128
	maxRedeemQueue = 8192
)

// redeem queues r for its batch and waits for its answer. A call whose
// context ends while it waits is answered with the context's error at
// once: it is dropped from its batch if that batch has not begun, and
// otherwise its order is written or not with the others of the batch,
// as a retry of it then finds.
func (s *Service) redeem(r *useReq) (*RedeemResult, error) {
	r.done = make(chan struct{})
	if !s.redeems.push(r.ctx, r) {
		return nil, promokit.Errorf(promokit.EUnavailable, "too many checkouts are waiting; try again in a moment")
	}
	if err := await(r.ctx, r.done); err != nil {
		return nil, err
	}
	return r.res, r.err
}

// errOneByOne stops a batch that does not fit a limit as a whole.
var errOneByOne = errors.New("engine: the batch must be taken order by order")

// runBatch answers every call of batch under ctx, the batch's context
// (batchContext).
func (s *Service) runBatch(ctx context.Context, batch []*useReq) {
	live := make([]*useReq, 0, len(batch))
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			close(r.done)
			continue
		}
		live = append(live, r)
	}
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("redeem batch panicked", "panic", v)
			for _, r := range live {
				r.res, r.err = nil, fmt.Errorf("engine: redeem batch: panic: %v", v)
			}
		}
		for _, r := range live {
			close(r.done)
		}
	}()
	if len(live) == 0 {
		return
	}
	s.writeBatch(ctx, live)
}

// writeBatch answers the calls of live: together when their uses fit;
// when they do not, each half of them the same way, so that near a limit
// a batch finds the orders that fit in a few transactions and the others
// are refused by their pricing once the limit is reached. A batch whose
// read or write fails for one of its orders (a value the database
// refuses, an order sent twice at once: memberFault) is written in halves
// too, first the first, so that the others are written as if it had not
// come, still in the order they arrived (isolate.go). A single order
// that does not fit, or fails for itself, is written on its own
// (useEach), to learn which limit refused it or to give it its own
// error. Any other failure (the database down, a deadline) is every
// order's answer at once.
func (s *Service) writeBatch(ctx context.Context, live []*useReq) {
	// A result counts only once its transaction has committed: each
	// attempt starts from none.
	attempt := func(path string, fn func(storage.Tx) error) error {
		err := s.write(ctx, func(tx storage.Tx) error {
			for _, r := range live {
				r.res, r.err = nil, nil
			}
			return fn(tx)
		})
		s.metrics.redeemBatch(path, len(live), err)
		return err
	}
	// The batch is read and priced outside the write transaction, so that
	// the next batch is read while this one is written; the conditional
	// updates of the write decide whether its uses still fit.
	var pl *plan
	err := s.read(ctx, func(tx storage.Tx) error {
		var err error
		pl, err = s.planBatch(ctx, tx, live)
		return err
	})
	if err == nil {
		err = attempt("together", func(tx storage.Tx) error { return s.writePlan(ctx, tx, pl) })
	}
	switch {
	case err == nil:
	case !errors.Is(err, errOneByOne) && !s.memberFault(err):
		// Nothing of the batch was written, and writing it again, in any
		// shape, would only add load to a database that is failing.
		s.log.Warn("redeem batch failed", "orders", len(live), "err", err)
		for _, r := range live {
			r.res, r.err = nil, err
		}
	case len(live) > 1:
		half := len(live) / 2
		s.writeBatch(ctx, live[:half])
		s.writeBatch(ctx, live[half:])
	default:
		err = attempt("order_by_order", func(tx storage.Tx) error { return s.useEach(ctx, tx, live) })
		if err != nil {
			live[0].res, live[0].err = nil, s.batchErr(1, err)
		}
	}
}

// useEach writes the orders of a batch one after another in tx, each in a
// savepoint: an order refused or failed leaves no trace, and the next
// order sees the uses of those before it.
//
// It first locks the promotions of all its orders, by id: each order then
// takes its promotions' rows in its own order, and without the locks
// taken up front two such transactions of two processes, over the same
// promotions in other orders, could wait for each other.
func (s *Service) useEach(ctx context.Context, tx storage.Tx, live []*useReq) error {
	settings, err := tx.SettingsGet(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	if err := lockPromotions(ctx, tx, live, now); err != nil {
		return err
	}
	for _, r := range live {
		s.useInSavepoint(ctx, tx, settings, r, now)
	}
	return nil
}

// lockPromotions locks, by id, the rows of the promotions whose codes the
// orders of live use, and of their stores' automatic promotions live at
// now, with an update that changes nothing.
func lockPromotions(ctx context.Context, tx storage.Tx, live []*useReq, now time.Time) error {
	byStore := make(map[string][]string)
	for _, r := range live {
		byStore[r.in.Cart.StoreID] = appendNew(byStore[r.in.Cart.StoreID], r.codes...)
	}
	var ids []string
	for storeID, values := range byStore {
		codes, err := tx.CodeGetMany(ctx, promokit.Scope{StoreID: storeID}, values)
		if err != nil {
			return err
		}
		for _, c := range codes {
			ids = appendNew(ids, c.PromotionID)
		}
		auto, err := tx.PromotionListAutomatic(ctx, storeID, now, promokit.MaxQualify)
		if err != nil {
			return err
		}
		for _, p := range auto {
			ids = appendNew(ids, p.ID)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		if _, err := tx.UsagePromotionAdd(ctx, id, 0, 0); err != nil {
			return err
		}
	}
	return nil
}

// batchOrder is an order of a batch taken together.
type batchOrder struct {
	r      *useReq
	priced *promokit.PricedCart
	cands  []promokit.Candidate
}

// plan is a batch read and priced, ready to be written together: the
// orders to write, the answers already known (refusals, invalid carts,
// unknown stores) and the orders to write one by one at the end.
type plan struct {
	settings *promokit.Settings
	now      time.Time
	orders   []batchOrder
	answered map[*useReq]error
	later    []*useReq
}

// planBatch reads what the orders of a batch need, with one CheckoutRead
// per store (which reads the store's automatic promotions too) and one
// read of the customers' counters, and prices each cart. The first pricing
// of an order that lists no automatic promotion fixes those it must be
// written with (useReq.expect). Orders that were sent before (a retry, the
// redeem of a reservation, a released order), or twice in the batch, are
// left for later.
func (s *Service) planBatch(ctx context.Context, tx storage.Tx, live []*useReq) (*plan, error) {
	pl := &plan{now: s.now(), answered: make(map[*useReq]error)}
	now := pl.now
	type orderKey struct{ store, order string }
	var (
		seen    = make(map[orderKey]bool, len(live))
		byStore = make(map[string][]*useReq)
	)
	for _, r := range live {
		k := orderKey{r.in.Cart.StoreID, r.in.OrderID}
		if seen[k] {
			pl.later = append(pl.later, r)
			continue
		}
		seen[k] = true
		byStore[k.store] = append(byStore[k.store], r)
	}
	type storeOrders struct {
		store *promokit.Store
		fresh []*useReq
	}
	var (
		snap   snapshot
		of     []storage.CartOf
		groups []storeOrders
	)
	for _, storeID := range slices.Sorted(maps.Keys(byStore)) {
		rs := byStore[storeID]
		ids := make([]string, len(rs))
		var values []string
		for i, r := range rs {
			ids[i] = r.in.OrderID
			values = appendNew(values, r.codes...)
		}
		d, err := storage.CheckoutRead(ctx, tx, storage.CheckoutQuery{StoreID: storeID, OrderIDs: ids, Codes: values, Now: now})
		if err != nil {
			return nil, err
		}
		pl.settings = d.Settings
		if d.Store == nil {
			for _, r := range rs {
				pl.answered[r] = notFound("store", storeID)
			}
			continue
		}
		sent := make(map[string]bool, len(d.Prior))
		for _, p := range d.Prior {
			sent[p.OrderID] = true
		}
		g := storeOrders{store: d.Store}
		for _, r := range rs {
			if sent[r.in.OrderID] {
				pl.later = append(pl.later, r)
				continue
			}
			if err := r.in.Cart.Validate(d.Settings.Currency); err != nil {
				pl.answered[r] = err
				continue
			}
			g.fresh = append(g.fresh, r)
			of = append(of, storage.CartOf{StoreID: storeID, CustomerKey: r.in.Cart.CustomerKey, Codes: r.codes})
		}
		snap.add(storeID, d)
		groups = append(groups, g)
	}
	if pl.settings == nil {
		settings, err := tx.SettingsGet(ctx)
		if err != nil {
			return nil, err
		}
		pl.settings = settings
	}
	if err := snap.loadUsage(ctx, tx, of); err != nil {
		return nil, err
	}
	for _, g := range groups {
		for _, r := range g.fresh {
			priced, cands := snap.price(g.store, &r.in.Cart, r.codes, r.expect, now)
			if len(priced.Rejected) > 0 {
				pl.answered[r] = refusal(priced.Rejected)
				continue
			}
			if r.expect == nil {
				// Written later (a batch that does not fit), the order is
				// priced again: it must not come out at another total.
				ids := appliedAutomatic(priced)
				r.expect = &ids
			}
			pl.orders = append(pl.orders, batchOrder{r: r, priced: priced, cands: cands})
		}
	}
	return pl, nil
}

// writePlan writes a planned batch in tx: it takes the uses of all its
// orders together, or returns errOneByOne when they do not fit a limit as
// a whole, inserts their rows, then writes the orders left for later one
// by one.
func (s *Service) writePlan(ctx context.Context, tx storage.Tx, pl *plan) error {
	for r, err := range pl.answered {
		r.err = err
	}
	orders, now := pl.orders, pl.now
	u := batchUses(orders)
	for _, o := range orders {
		state, holdUntil := o.r.target(now)
		res := &RedeemResult{OrderID: o.r.in.OrderID, Priced: o.priced, Redemptions: []*promokit.Redemption{}}
		for _, a := range o.priced.Applied {
			row := o.r.redemption(a, state, holdUntil, now)
			res.Redemptions = append(res.Redemptions, row)
			u.Redemptions = append(u.Redemptions, row)
		}
		o.r.res = res
	}
	ok, err := storage.UsageTakeMany(ctx, tx, u)
	if err != nil {
		return err
	}
	if !ok {
		return errOneByOne
	}
	for _, r := range pl.later {
		s.useInSavepoint(ctx, tx, pl.settings, r, now)
	}
	return nil
}

// useInSavepoint writes one order with useOne in a savepoint of tx and
// sets its answer: an order refused or failed leaves no trace.
func (s *Service) useInSavepoint(ctx context.Context, tx storage.Tx, settings *promokit.Settings, r *useReq, now time.Time) {
	r.err = tx.Savepoint(ctx, func() error {
		var err error
		r.res, err = s.useOne(ctx, tx, settings, r, now)
		return err
	})
	if r.err != nil {
		// Alone in its savepoint, an order whose value the database
		// refused gets EInvalid (batchErr).
		r.res, r.err = nil, s.batchErr(1, r.err)
	}
}

// batchUses sums the uses of every order into one conditional update per
// promotion, code and limited customer counter (promokit.UsesTally), in
// the lock order of takeAll.
func batchUses(orders []batchOrder) storage.Uses {
	var t promokit.UsesTally
	for _, o := range orders {
		for _, a := range o.priced.Applied {
			t.Take(findCandidate(o.cands, a), a.Discount, o.r.in.Cart.CustomerKey)
		}
	}
	u := t.Uses()
	return storage.Uses{Promotions: u.Promotions, Codes: u.Codes, Customers: u.Customers}
}
