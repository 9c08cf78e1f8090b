package engine

import (
	"context"
	"errors"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// Placed orders. A placed event creates its order: what the order needs is
// read in batches, and the orders are written in batches, each by its own
// queue (placeReads and places).

const (
	// maxCustomerVisitors bounds the visitor ids of a customer that
	// attribution looks at: the most recently seen.
	maxCustomerVisitors = 20
)

// errEventExists says that the event's id is taken: a replay or a conflict.
var errEventExists = errors.New("engine: the event exists")

// placeOrder applies a placed event. Everything the order needs is read
// first, outside the write: the store, the attribution (A3), the rates and
// the order's redemptions with their promotions (P4), which are all
// decided by what happened before the order. The
// write then inserts the event (its id makes a replay fail at once), the
// order, its visitor and its entries. When ctx ends while the order waits
// for a batch it returns ctx.Err(), and the order is placed or not, as a
// replay of the event then finds.
func (s *Service) placeOrder(ctx context.Context, storeID, orderID string, in *OrderEventInput, hash []byte) (*OrderResult, error) {
	now := s.now()
	at := eventTime(in, now)
	q := storage.PlaceQuery{
		StoreID: storeID, OrderID: orderID, VisitorID: in.VisitorID, CustomerID: in.CustomerID, MaxVisitors: maxCustomerVisitors,
		ProductIDs: make([]string, 0, len(in.Lines)), At: at,
		Codes: len(in.Codes) > 0 || in.Payment != nil && len(in.Payment.FirstPaymentCodes) > 0,
	}
	for _, l := range in.Lines {
		q.ProductIDs = appendNew(q.ProductIDs, l.ProductID)
	}
	rr := &placeRead{q: q, done: make(chan struct{})}
	if !s.placeReads.push(ctx, rr) {
		return nil, promokit.Errorf(promokit.EUnavailable, "too many orders are waiting to be read; retry shortly")
	}
	if err := await(ctx, rr.done); err != nil {
		return nil, err
	}
	d, err := rr.d, rr.err
	if err != nil {
		return nil, err
	}
	if d.Store == nil {
		return nil, notFound("store", storeID)
	}
	a := &applier{settings: d.Settings, eventID: in.ID, at: at, now: now}
	o := newOrder(storeID, orderID, in, at, now)
	a.attribute(o, d)
	r := &placeReq{
		ev:      &promokit.OrderEvent{StoreID: storeID, ID: in.ID, OrderID: orderID, Type: in.Type, RequestHash: hash, At: at, CreatedAt: now},
		o:       o,
		entries: a.entries,
		visitor: in.CustomerID != "" && in.VisitorID != "",
		done:    make(chan struct{}),
	}
	if !s.places.push(ctx, r) {
		return nil, promokit.Errorf(promokit.EUnavailable, "too many orders are waiting to be written; retry shortly")
	}
	if err := await(ctx, r.done); err != nil {
		return nil, err
	}
	err = r.err
	if errors.Is(err, errEventExists) {
		var out *OrderResult
		err = s.read(ctx, func(tx storage.Tx) error {
			prior, err := tx.OrderEventGet(ctx, storeID, in.ID)
			if err != nil {
				return err
			}
			out, err = replayed(ctx, tx, prior, orderID, hash)
			return err
		})
		return out, err
	}
	if err != nil {
		return nil, err
	}
	entries := a.entries
	if entries == nil {
		entries = []*promokit.LedgerEntry{}
	}
	return &OrderResult{Order: o, Entries: entries}, nil
}

// Placed orders are written in batches: the orders reported while a batch
// commits form the next one, so that one transaction (and one flush of the
// log) carries many orders and concurrent writers do not queue on the same
// index pages. A batch that fails for one of its orders (a replayed event,
// an order placed twice, a value the database refuses) is written again in
// halves, down to single orders written on their own, which gives each
// order its own answer (isolate.go).
const (
	maxPlaceBatch = 256
	maxPlaceQueue = 8192
)

// placeReq is a placed order waiting for its write, and its result.
type placeReq struct {
	ev      *promokit.OrderEvent
	o       *promokit.Order
	entries []*promokit.LedgerEntry
	visitor bool // record the customer's use of the visitor id
	err     error
	done    chan struct{}
}

// write inserts the event (its id makes a replay fail at once), the
// order, its visitor and its entries.
func (r *placeReq) write(ctx context.Context, tx storage.Tx) error {
	if err := tx.OrderEventCreate(ctx, r.ev); err != nil {
		if errors.Is(err, storage.ErrExists) {
			return errEventExists
		}
		return err
	}
	if err := tx.OrderCreate(ctx, r.o); err != nil {
		if errors.Is(err, storage.ErrExists) {
			return promokit.Errorf(promokit.EConflict, "order %q was placed already (by another event)", r.o.ID)
		}
		return err
	}
	if r.visitor {
		if err := tx.VisitorAdd(ctx, storage.VisitorSeen{StoreID: r.o.StoreID, CustomerID: r.o.CustomerID, VisitorID: r.o.VisitorID, Seen: r.ev.CreatedAt}); err != nil {
			return err
		}
	}
	return tx.LedgerAddMany(ctx, r.entries)
}

// writePlaces writes a batch of placed orders in one transaction under
// ctx, the batch's context (batchContext), or in halves when that fails
// for one of them (isolate.go).
func (s *Service) writePlaces(ctx context.Context, batch []*placeReq) {
	isolateBatch(s, batch, func(part []*placeReq) error { return s.writePlacesOnce(ctx, part) },
		func(r *placeReq, err error) { r.err = err })
	for _, r := range batch {
		close(r.done)
	}
}

// writePlacesOnce writes the orders of batch in one transaction and
// returns its error; a single order is written on its own (placeReq.write)
// and given its answer.
func (s *Service) writePlacesOnce(ctx context.Context, batch []*placeReq) error {
	if len(batch) > 1 {
		var p storage.PlacedOrders
		for _, r := range batch {
			p.Events = append(p.Events, r.ev)
			p.Orders = append(p.Orders, r.o)
			p.Entries = append(p.Entries, r.entries...)
			if r.visitor {
				p.Visitors = append(p.Visitors, storage.VisitorSeen{StoreID: r.o.StoreID, CustomerID: r.o.CustomerID, VisitorID: r.o.VisitorID, Seen: r.ev.CreatedAt})
			}
		}
		return s.write(ctx, func(tx storage.Tx) error { return storage.OrderPlaceMany(ctx, tx, p) })
	}
	r := batch[0]
	r.err = s.batchErr(1, s.write(ctx, func(tx storage.Tx) error { return r.write(ctx, tx) }))
	return nil
}

// newOrder is the order a placed event creates, not yet attributed.
func newOrder(storeID, orderID string, in *OrderEventInput, at, now time.Time) *promokit.Order {
	o := &promokit.Order{
		StoreID: storeID, ID: orderID, CustomerID: in.CustomerID, VisitorID: in.VisitorID,
		Currency: in.Currency, Shipping: in.Shipping, Codes: in.Codes,
		Payment: promokit.PaymentPlan{Installments: 1}, State: promokit.OrderPlaced,
		PlacedAt: at, CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	if o.Codes == nil {
		o.Codes = []string{}
	}
	if in.Payment != nil {
		o.Payment = *in.Payment
	}
	if o.Payment.FirstPaymentCodes == nil {
		o.Payment.FirstPaymentCodes = []string{}
	}
	for i, l := range in.Lines {
		o.Lines = append(o.Lines, promokit.OrderLine{Line: i, ProductID: l.ProductID, Quantity: l.Quantity, Amount: l.Amount})
	}
	return o
}

// placeRead is a placed order waiting for what it needs to be read
// (PlaceQuery), and the answer.
type placeRead struct {
	q    storage.PlaceQuery
	d    *storage.PlaceData
	err  error
	done chan struct{}
}

// maxPlaceReads bounds a batch of placed orders' reads.
const maxPlaceReads = 128

// readPlaces reads what a batch of placed orders needs at once under ctx,
// the batch's context (batchContext), isolating an order whose read the
// database refuses (isolate.go).
func (s *Service) readPlaces(ctx context.Context, batch []*placeRead) {
	isolateBatch(s, batch, func(part []*placeRead) error { return s.readPlacesOnce(ctx, part) },
		func(r *placeRead, err error) { r.err = err })
	for _, r := range batch {
		close(r.done)
	}
}

// readPlacesOnce reads what the orders of batch need in one round trip and
// sets their answers, or returns the read's error and sets none. The
// window's start depends on the settings (the time zone and the
// attribution days), which the same round trip reads: it is computed
// from the settings seen last and read again in the rare case they
// changed.
func (s *Service) readPlacesOnce(ctx context.Context, batch []*placeRead) error {
	qs := make([]storage.PlaceQuery, len(batch))
	var ds []*storage.PlaceData
	err := s.read(ctx, func(tx storage.Tx) error {
		hint := s.placeHint.Load()
		for i, r := range batch {
			qs[i] = r.q
			if hint != nil {
				qs[i].From = hint.from(r.q.At)
			}
		}
		var err error
		if ds, err = storage.PlaceReadMany(ctx, tx, qs); err != nil {
			return err
		}
		if h := newPlaceHint(ds[0].Settings); !h.same(hint) {
			s.placeHint.Store(h)
			for i := range qs {
				qs[i].From = h.from(qs[i].At)
			}
			ds, err = storage.PlaceReadMany(ctx, tx, qs)
		}
		return err
	})
	if err != nil {
		return err
	}
	for i, r := range batch {
		r.d = ds[i]
	}
	return nil
}

// placeHint is what the attribution window takes from the settings.
type placeHint struct {
	zone string
	loc  *time.Location
	days int64
}

func newPlaceHint(s *promokit.Settings) *placeHint {
	return &placeHint{zone: s.TimeZone, loc: s.Location(), days: s.Policy.Affiliate.AttributionDays}
}

// same reports whether h and o give the same windows: the same zone and
// number of days (the locations are loaded anew each time).
func (h *placeHint) same(o *placeHint) bool {
	return o != nil && h.zone == o.zone && h.days == o.days
}

// from is the earliest time a click may have to cover an order placed at
// at (A3): 0:00 of the day days−1 days before the order's day, since a
// click on day D covers orders until 0:00 of day D+days.
func (h *placeHint) from(at time.Time) time.Time {
	return dayStart(at, h.loc, -int(h.days-1))
}
