package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// Order events. The marketplace's order system tells promokit what happens
// to an order; each event carries its own id, so a replay changes nothing,
// and each is applied in one transaction with the ledger entries it makes.

const (
	// maxOrderLines bounds an order's lines, maxRefundLines a refund's.
	maxOrderLines = 500
	// maxEventSkew is how far in the future an event's time may be (the
	// clocks of two systems differ a little).
	maxEventSkew = 5 * time.Minute
	// maxCustomerVisitors bounds the visitor ids of a customer that
	// attribution looks at: the most recently seen.
	maxCustomerVisitors = 20
)

// OrderEventInput is one event of an order. ID is the event's own id,
// unique within the store. At is when it happened (now when left out).
// Placed carries the order; Paid an amount (the rest of the order when
// zero); Refunded the amounts given back per line and of shipping.
type OrderEventInput struct {
	ID   string     `json:"id"`
	Type string     `json:"type"`
	At   *time.Time `json:"at"`

	// placed
	CustomerID string                `json:"customer_id"`
	VisitorID  string                `json:"visitor_id"`
	Currency   string                `json:"currency"`
	Lines      []OrderLineInput      `json:"lines"`
	Shipping   int64                 `json:"shipping"`
	Codes      []string              `json:"codes"`
	Payment    *promokit.PaymentPlan `json:"payment"`

	// paid
	Amount int64 `json:"amount"`

	// refunded
	Refund *RefundInput `json:"refund"`
}

// OrderLineInput is a line of a placed order: Amount is what the buyer
// pays for it, after discounts and without shipping.
type OrderLineInput struct {
	ProductID string `json:"product_id"`
	Quantity  int64  `json:"quantity"`
	Amount    int64  `json:"amount"`
}

// RefundInput is a refund or a return: amounts per line (by index) and of
// shipping. Reason is "refund" (the default) or "return".
type RefundInput struct {
	Reason   string       `json:"reason"`
	Lines    []RefundLine `json:"lines"`
	Shipping int64        `json:"shipping"`
}

// RefundLine is what one line gives back.
type RefundLine struct {
	Line     int   `json:"line"`
	Amount   int64 `json:"amount"`
	Quantity int64 `json:"quantity"`
}

// OrderResult is an order after an event, with the ledger entries the
// event wrote (none on a replay, which Replayed tells).
type OrderResult struct {
	Order    *promokit.Order         `json:"order"`
	Entries  []*promokit.LedgerEntry `json:"entries"`
	Replayed bool                    `json:"replayed"`
}

// OrderView is an order with every ledger entry it made.
type OrderView struct {
	Order   *promokit.Order         `json:"order"`
	Entries []*promokit.LedgerEntry `json:"entries"`
}

// validate checks the event's form; the order's arithmetic is checked
// against the stored order.
func (in *OrderEventInput) validate(now time.Time) error {
	var v promokit.Validation
	if !promokit.ValidOrderID(in.ID) {
		v.Add("id", "invalid", "the event id must have 1 to 100 printable ASCII characters")
	}
	if in.At != nil && in.At.After(now.Add(maxEventSkew)) {
		v.Add("at", "in_future", "at must not be in the future")
	}
	placed := in.Type == promokit.EventPlaced
	switch in.Type {
	case promokit.EventPlaced:
		in.validatePlaced(&v)
	case promokit.EventPaid:
		if in.Amount < 0 || in.Amount > promokit.MaxAmount {
			v.Add("amount", "out_of_range", "amount must be between 0 (the rest of the order) and %d", promokit.MaxAmount)
		}
	case promokit.EventCompleted, promokit.EventCancelled:
	case promokit.EventRefunded:
		in.validateRefund(&v)
	default:
		v.Add("type", "invalid", "type must be placed, paid, completed, cancelled or refunded")
	}
	if !placed && (len(in.Lines) > 0 || in.Currency != "" || in.Payment != nil || in.CustomerID != "" || in.VisitorID != "") {
		v.Add("type", "invalid", "only a placed event carries the order's lines, currency, customer and payment plan")
	}
	if in.Type != promokit.EventRefunded && in.Refund != nil {
		v.Add("refund", "invalid", "only a refunded event carries a refund")
	}
	if in.Type != promokit.EventPaid && in.Amount != 0 {
		v.Add("amount", "invalid", "only a paid event carries an amount")
	}
	return v.Err()
}

func (in *OrderEventInput) validatePlaced(v *promokit.Validation) {
	if !promokit.ValidCurrency(in.Currency) {
		v.Add("currency", "unknown_currency", "currency %q is not an ISO 4217 code", in.Currency)
	}
	if in.CustomerID != "" && !promokit.ValidOrderID(in.CustomerID) {
		v.Add("customer_id", "invalid", "customer_id must have 1 to 100 printable ASCII characters")
	}
	if in.VisitorID != "" && !promokit.ValidOrderID(in.VisitorID) {
		v.Add("visitor_id", "invalid", "visitor_id must have 1 to 100 printable ASCII characters")
	}
	if len(in.Lines) == 0 || len(in.Lines) > maxOrderLines {
		v.Add("lines", "invalid", "an order has 1 to %d lines", maxOrderLines)
	}
	total := in.Shipping
	for i, l := range in.Lines {
		f := "lines/" + strconv.Itoa(i)
		if !promokit.ValidProductID(l.ProductID) {
			v.Add(f+"/product_id", "invalid", "product id must have 1 to 64 printable ASCII characters")
		}
		if l.Quantity < 1 || l.Quantity > 1_000_000 {
			v.Add(f+"/quantity", "out_of_range", "quantity must be between 1 and 1000000")
		}
		if l.Amount < 0 || l.Amount > promokit.MaxAmount {
			v.Add(f+"/amount", "out_of_range", "amount must be between 0 and %d", promokit.MaxAmount)
		}
		total += max(l.Amount, 0)
	}
	if in.Shipping < 0 || in.Shipping > promokit.MaxAmount {
		v.Add("shipping", "out_of_range", "shipping must be between 0 and %d", promokit.MaxAmount)
	}
	if total > promokit.MaxAmount {
		v.Add("lines", "out_of_range", "the order's total must be at most %d", promokit.MaxAmount)
	}
	if len(in.Codes) > 20 {
		v.Add("codes", "invalid", "an order carries at most 20 codes")
	}
	for i, c := range in.Codes {
		if c == "" || len(c) > 64 {
			v.Add("codes/"+strconv.Itoa(i), "invalid", "a code has 1 to 64 characters")
		}
	}
	if p := in.Payment; p != nil {
		if p.Installments < 1 || p.Installments > 120 {
			v.Add("payment/installments", "out_of_range", "installments must be between 1 and 120")
		}
		if len(p.FirstPaymentCodes) > 20 {
			v.Add("payment/first_payment_codes", "invalid", "the first payment carries at most 20 codes")
		}
	}
}

func (in *OrderEventInput) validateRefund(v *promokit.Validation) {
	r := in.Refund
	if r == nil {
		v.Add("refund", "required", "a refunded event carries a refund")
		return
	}
	switch r.Reason {
	case "", "refund", "return":
	default:
		v.Add("refund/reason", "invalid", "reason must be refund or return")
	}
	if len(r.Lines) == 0 && r.Shipping == 0 {
		v.Add("refund", "invalid", "a refund gives back at least one line's amount or shipping")
	}
	if len(r.Lines) > maxOrderLines {
		v.Add("refund/lines", "invalid", "a refund has at most %d lines", maxOrderLines)
	}
	seen := map[int]bool{}
	for i, l := range r.Lines {
		f := "refund/lines/" + strconv.Itoa(i)
		if seen[l.Line] {
			v.Add(f+"/line", "duplicate", "line %d is refunded twice in one event", l.Line)
		}
		seen[l.Line] = true
		if l.Amount < 1 || l.Amount > promokit.MaxAmount {
			v.Add(f+"/amount", "out_of_range", "amount must be between 1 and %d", promokit.MaxAmount)
		}
		if l.Quantity < 0 || l.Quantity > 1_000_000 {
			v.Add(f+"/quantity", "out_of_range", "quantity must be between 0 and 1000000")
		}
	}
	if r.Shipping < 0 || r.Shipping > promokit.MaxAmount {
		v.Add("refund/shipping", "out_of_range", "shipping must be between 0 and %d", promokit.MaxAmount)
	}
}

// hash identifies the event's content, to tell a replay from another event
// that reuses the id.
func (in *OrderEventInput) hash(orderID string) []byte {
	b, _ := json.Marshal(struct {
		OrderID string
		In      *OrderEventInput
	}{orderID, in})
	h := sha256.Sum256(b)
	return h[:]
}

// ApplyOrderEvent applies one event to a store's order, for the store's
// checkout key or the admin. A replayed event (same id, same content)
// changes nothing and answers the order as it is now; the same id with
// another content is EConflict. An event for an unknown order is
// ENotFound, and one that breaks the order's arithmetic (refunding more
// than was paid or than a line cost) is EInvalid: nothing is written.
func (s *Service) ApplyOrderEvent(ctx context.Context, storeID, orderID string, in OrderEventInput) (*OrderResult, error) {
	if err := checkoutCaller(ctx, storeID); err != nil {
		return nil, err
	}
	if !promokit.ValidOrderID(orderID) {
		return nil, promokit.Errorf(promokit.EInvalid, "the order id must have 1 to 100 printable ASCII characters")
	}
	if err := in.validate(s.now()); err != nil {
		return nil, err
	}
	hash := in.hash(orderID)
	if in.Type == promokit.EventPlaced {
		return s.placeOrder(ctx, storeID, orderID, &in, hash)
	}
	var out *OrderResult
	err := s.db.Write(ctx, func(tx storage.Tx) error {
		now := s.now()
		prior, err := tx.OrderEventGet(ctx, storeID, in.ID)
		switch {
		case err == nil:
			out, err = replayed(ctx, tx, prior, orderID, hash)
			return err
		case !isNotFound(err):
			return err
		}
		settings, err := tx.SettingsGet(ctx)
		if err != nil {
			return err
		}
		a := &applier{tx: tx, settings: settings, eventID: in.ID, at: eventTime(&in, now), now: now}
		o, err := a.change(ctx, storeID, orderID, &in)
		if err != nil {
			return err
		}
		if err := tx.LedgerAddMany(ctx, a.entries); err != nil {
			return err
		}
		ev := &promokit.OrderEvent{StoreID: storeID, ID: in.ID, OrderID: orderID, Type: in.Type, RequestHash: hash, At: a.at, CreatedAt: now}
		if err := tx.OrderEventCreate(ctx, ev); err != nil {
			return err
		}
		out = &OrderResult{Order: o, Entries: a.entries}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out.Entries == nil {
		out.Entries = []*promokit.LedgerEntry{}
	}
	return out, nil
}

// eventTime is when an event happened: its at, or now.
func eventTime(in *OrderEventInput, now time.Time) time.Time {
	if in.At != nil {
		return in.At.UTC().Truncate(time.Microsecond)
	}
	return now
}

// replayed answers an event applied before: the order as it is now when
// the event is the same, EConflict when its id came with another content.
func replayed(ctx context.Context, tx storage.Tx, prior *promokit.OrderEvent, orderID string, hash []byte) (*OrderResult, error) {
	if prior.OrderID != orderID || !bytes.Equal(prior.RequestHash, hash) {
		return nil, promokit.Errorf(promokit.EConflict, "event %q was applied with another content", prior.ID)
	}
	o, err := tx.OrderGet(ctx, prior.StoreID, orderID, false)
	if err != nil {
		return nil, err
	}
	return &OrderResult{Order: o, Entries: []*promokit.LedgerEntry{}, Replayed: true}, nil
}

// errEventExists says that the event's id is taken: a replay or a conflict.
var errEventExists = errors.New("engine: the event exists")

// placeOrder applies a placed event. Everything the order needs is read
// first, outside the write: the store, the attribution (A3) and the
// rates, which are all decided by what happened before the order. The
// write then inserts the event (its id makes a replay fail at once), the
// order, its visitor and its entries. When ctx ends while the order waits
// for a batch it returns ctx.Err(), and the order is placed or not, as a
// replay of the event then finds.
func (s *Service) placeOrder(ctx context.Context, storeID, orderID string, in *OrderEventInput, hash []byte) (*OrderResult, error) {
	now := s.now()
	at := eventTime(in, now)
	q := storage.PlaceQuery{
		StoreID: storeID, VisitorID: in.VisitorID, CustomerID: in.CustomerID, MaxVisitors: maxCustomerVisitors,
		ProductIDs: make([]string, 0, len(in.Lines)), At: at,
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
		err = s.db.Read(ctx, func(tx storage.Tx) error {
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

// applier applies one event inside its transaction and collects the
// ledger entries it makes.
type applier struct {
	tx       storage.Tx
	settings *promokit.Settings
	eventID  string
	at, now  time.Time
	entries  []*promokit.LedgerEntry
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
		if promokit.ErrorCode(err) == promokit.EConflict {
			return errEventExists
		}
		return err
	}
	if err := tx.OrderCreate(ctx, r.o); err != nil {
		if promokit.ErrorCode(err) == promokit.EConflict {
			return promokit.Errorf(promokit.EConflict, "order %q was placed already (by another event)", r.o.ID)
		}
		return err
	}
	if r.visitor {
		if err := tx.VisitorAdd(ctx, r.o.StoreID, r.o.CustomerID, r.o.VisitorID, r.ev.CreatedAt); err != nil {
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
		return s.db.Write(ctx, func(tx storage.Tx) error { return storage.OrderPlaceMany(ctx, tx, p) })
	}
	r := batch[0]
	r.err = s.batchErr(1, s.db.Write(ctx, func(tx storage.Tx) error { return r.write(ctx, tx) }))
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
	err := s.db.Read(ctx, func(tx storage.Tx) error {
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

// attribute stamps o with the click that wins it (A3), read by PlaceReadMany:
// the latest unflagged click of the order's visitor, or of any visitor id
// its customer used on the store's own earlier orders (never another
// store's, which could bind any customer to any visitor), on a link of
// the store, made in the window and since
// the store's latest join, when the store is in the program at the
// order's time. The winning link's partner earns each line's rate in
// force at the order's time, and the commissions accrue (A4).
func (a *applier) attribute(o *promokit.Order, d *storage.PlaceData) {
	if !d.Membership.ActiveAt(o.PlacedAt) || d.Click == nil {
		return
	}
	c := d.Click
	o.Attribution = &promokit.Attribution{
		Program: promokit.ProgramAffiliate, LinkID: c.LinkID, PartnerID: c.PartnerID, ClickID: c.ID, ClickedAt: c.ClickedAt,
	}
	var general *promokit.Rate
	own := map[string]*promokit.Rate{}
	for _, r := range d.Rates {
		if r.ProductID == "" {
			general = r
		} else if !r.Removed {
			own[r.ProductID] = r
		}
	}
	for i := range o.Lines {
		l := &o.Lines[i]
		r, source := own[l.ProductID], "product"
		if r == nil {
			r, source = general, "general"
		}
		if r == nil {
			continue
		}
		l.Rate, l.RateID, l.RateSource = r.Rate, r.ID, source
		if amount := promokit.ApplyRate(l.Amount, r.Rate); amount != 0 {
			a.entry(o, l, promokit.LedgerPending, promokit.EntryAccrued, amount)
		}
	}
}

// entry adds a ledger entry of o's partner for line l.
func (a *applier) entry(o *promokit.Order, l *promokit.OrderLine, status, kind string, amount int64) {
	a.entries = append(a.entries, &promokit.LedgerEntry{
		PartnerID: o.Attribution.PartnerID, StoreID: o.StoreID, OrderID: o.ID, Line: l.Line,
		Program: o.Attribution.Program, Status: status, Kind: kind, Amount: amount, Currency: o.Currency,
		Basis: l.Amount - l.Refunded, Rate: l.Rate, RateID: l.RateID, EventID: a.eventID, CreatedAt: a.now,
	})
}

// change applies a paid, completed, cancelled or refunded event to a
// placed order.
func (a *applier) change(ctx context.Context, storeID, orderID string, in *OrderEventInput) (*promokit.Order, error) {
	o, err := a.tx.OrderGet(ctx, storeID, orderID, true)
	if isNotFound(err) {
		return nil, notFound("order", orderID)
	}
	if err != nil {
		return nil, err
	}
	version := o.Version
	if o.CancelledAt != nil {
		return nil, promokit.Errorf(promokit.EConflict, "order %q is cancelled", orderID)
	}
	switch in.Type {
	case promokit.EventPaid:
		err = a.paid(o, in.Amount)
	case promokit.EventCompleted:
		err = a.completed(ctx, o)
	case promokit.EventCancelled:
		err = a.cancelled(ctx, o)
	case promokit.EventRefunded:
		err = a.refunded(ctx, o, in.Refund)
	}
	if err != nil {
		return nil, err
	}
	o.UpdatedAt = a.now
	o.State = stateOfOrder(o)
	if err := a.tx.OrderUpdate(ctx, o, version); err != nil {
		return nil, err
	}
	return o, nil
}

// stateOfOrder derives an order's state from its times.
func stateOfOrder(o *promokit.Order) string {
	switch {
	case o.CancelledAt != nil:
		return promokit.OrderCancelled
	case o.CompletedAt != nil:
		return promokit.OrderCompleted
	case o.PaidAt != nil:
		return promokit.OrderPaid
	}
	return promokit.OrderPlaced
}

// paid adds a payment: amount, or the rest of the order when zero.
func (a *applier) paid(o *promokit.Order, amount int64) error {
	rest := o.Total() - o.Paid
	if amount == 0 {
		amount = rest
	}
	if amount > rest || amount <= 0 {
		var v promokit.Validation
		v.Add("amount", "exceeds_total", "order %q costs %d and %d is paid: a payment of %d would pass its total", o.ID, o.Total(), o.Paid, amount)
		return v.Err()
	}
	o.Paid += amount
	if o.PaidAt == nil {
		o.PaidAt = &a.at
	}
	return nil
}

// completed completes the order: its commissions become payable after the
// policy's hold, at once when there is none.
func (a *applier) completed(ctx context.Context, o *promokit.Order) error {
	if o.CompletedAt != nil {
		return promokit.Errorf(promokit.EConflict, "order %q is completed already", o.ID)
	}
	o.CompletedAt = &a.at
	release := a.at.In(a.settings.Location()).AddDate(0, 0, int(a.settings.Policy.Affiliate.HoldDays)).UTC()
	o.ReleaseAt = &release
	if release.After(a.now) {
		return nil
	}
	return a.release(ctx, o)
}

// release moves each line's pending commission to payable.
func (a *applier) release(ctx context.Context, o *promokit.Order) error {
	o.Released = true
	if o.Attribution == nil {
		return nil
	}
	bal, err := a.balances(ctx, o)
	if err != nil {
		return err
	}
	for i := range o.Lines {
		l := &o.Lines[i]
		if p := bal[l.Line].pending; p != 0 {
			a.entry(o, l, promokit.LedgerPending, promokit.EntryReleased, -p)
			a.entry(o, l, promokit.LedgerPayable, promokit.EntryReleased, p)
		}
	}
	return nil
}

// lineBalance is what a line's entries add up to, by status.
type lineBalance struct{ pending, payable int64 }

// balances sums the order's entries per line, the stored ones and those
// of this event so far.
func (a *applier) balances(ctx context.Context, o *promokit.Order) (map[int]lineBalance, error) {
	stored, err := a.tx.LedgerListByOrder(ctx, o.StoreID, o.ID)
	if err != nil {
		return nil, err
	}
	out := map[int]lineBalance{}
	for _, es := range [][]*promokit.LedgerEntry{stored, a.entries} {
		for _, e := range es {
			b := out[e.Line]
			if e.Status == promokit.LedgerPending {
				b.pending += e.Amount
			} else {
				b.payable += e.Amount
			}
			out[e.Line] = b
		}
	}
	return out, nil
}

// cancelled cancels an order before completion: its commissions are
// reversed and its code redemptions rolled back (C4). A completed order is
// refunded instead.
func (a *applier) cancelled(ctx context.Context, o *promokit.Order) error {
	if o.CompletedAt != nil {
		return promokit.Errorf(promokit.EConflict, "order %q is completed: refund it instead of cancelling", o.ID)
	}
	o.CancelledAt = &a.at
	if _, err := giveBackTx(ctx, a.tx, o.StoreID, o.ID, promokit.RedemptionRedeemed, promokit.RedemptionRolledBack, a.now); err != nil {
		return err
	}
	if o.Attribution == nil {
		return nil
	}
	bal, err := a.balances(ctx, o)
	if err != nil {
		return err
	}
	for i := range o.Lines {
		l := &o.Lines[i]
		if p := bal[l.Line].pending; p != 0 {
			a.entry(o, l, promokit.LedgerPending, promokit.EntryReversed, -p)
		}
	}
	return nil
}

// refunded gives back amounts of lines and shipping. Refunds together may
// not pass what was paid, nor a line's refunds its amount. Each refunded
// line's commission is computed again on its net amount, rounded once
// (A4), and the difference is written: to pending while the order's
// commissions are not released, as a reversal of payable after.
func (a *applier) refunded(ctx context.Context, o *promokit.Order, r *RefundInput) error {
	var v promokit.Validation
	lines := map[int]*promokit.OrderLine{}
	for i := range o.Lines {
		lines[o.Lines[i].Line] = &o.Lines[i]
	}
	refund := r.Shipping
	for i, rl := range r.Lines {
		f := "refund/lines/" + strconv.Itoa(i)
		l := lines[rl.Line]
		if l == nil {
			v.Add(f+"/line", "unknown_line", "order %q has no line %d", o.ID, rl.Line)
			continue
		}
		if l.Refunded+rl.Amount > l.Amount {
			v.Add(f+"/amount", "exceeds_line", "line %d cost %d and %d is refunded: %d more would pass it", rl.Line, l.Amount, l.Refunded, rl.Amount)
		}
		if l.RefundedQuantity+rl.Quantity > l.Quantity {
			v.Add(f+"/quantity", "exceeds_line", "line %d has %d items and %d are returned: %d more would pass it", rl.Line, l.Quantity, l.RefundedQuantity, rl.Quantity)
		}
		refund += rl.Amount
	}
	if o.RefundedShipping+r.Shipping > o.Shipping {
		v.Add("refund/shipping", "exceeds_shipping", "shipping cost %d and %d is refunded: %d more would pass it", o.Shipping, o.RefundedShipping, r.Shipping)
	}
	if err := v.Err(); err != nil {
		return err
	}
	if o.Refunded()+refund > o.Paid {
		v.Add("refund", "exceeds_paid", "order %q has %d paid and %d refunded: a refund of %d would pass what was paid", o.ID, o.Paid, o.Refunded(), refund)
		return v.Err()
	}
	o.RefundedShipping += r.Shipping
	for _, rl := range r.Lines {
		l := lines[rl.Line]
		l.Refunded += rl.Amount
		l.RefundedQuantity += rl.Quantity
	}
	if o.Attribution == nil {
		return nil
	}
	bal, err := a.balances(ctx, o)
	if err != nil {
		return err
	}
	for _, rl := range r.Lines {
		l := lines[rl.Line]
		b := bal[l.Line]
		delta := promokit.ApplyRate(l.Amount-l.Refunded, l.Rate) - (b.pending + b.payable)
		switch {
		case delta == 0:
		case !o.Released:
			a.entry(o, l, promokit.LedgerPending, promokit.EntryAdjusted, delta)
		default:
			a.entry(o, l, promokit.LedgerPayable, promokit.EntryReversed, delta)
		}
	}
	return nil
}

// ReleaseDue releases the commissions of up to limit completed orders
// whose hold has passed, each in its own transaction, and returns how
// many it released.
func (s *Service) ReleaseDue(ctx context.Context, limit int) (int, error) {
	var due []*promokit.Order
	err := s.db.Read(ctx, func(tx storage.Tx) error {
		var err error
		due, err = tx.OrderListDueRelease(ctx, s.now(), limit)
		return err
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range due {
		err := s.db.Write(ctx, func(tx storage.Tx) error {
			o, err := tx.OrderGet(ctx, d.StoreID, d.ID, true)
			if err != nil {
				return err
			}
			if o.Released || o.CancelledAt != nil {
				return nil
			}
			now := s.now()
			a := &applier{tx: tx, at: now, now: now}
			version := o.Version
			if err := a.release(ctx, o); err != nil {
				return err
			}
			o.UpdatedAt = now
			if err := tx.OrderUpdate(ctx, o, version); err != nil {
				return err
			}
			return tx.LedgerAddMany(ctx, a.entries)
		})
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// GetOrder answers an order with its ledger entries: to the admin and the
// store's seller and checkout keys.
func (s *Service) GetOrder(ctx context.Context, storeID, orderID string) (*OrderView, error) {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller, promokit.RoleCheckout)
	if err != nil {
		return nil, err
	}
	if sc := p.Scope(); sc.StoreID != "" && sc.StoreID != storeID {
		return nil, notFound("order", orderID)
	}
	var out *OrderView
	err = s.db.Read(ctx, func(tx storage.Tx) error {
		o, err := tx.OrderGet(ctx, storeID, orderID, false)
		if err != nil {
			return err
		}
		es, err := tx.LedgerListByOrder(ctx, storeID, orderID)
		if err != nil {
			return err
		}
		if es == nil {
			es = []*promokit.LedgerEntry{}
		}
		out = &OrderView{Order: o, Entries: es}
		return nil
	})
	return out, err
}
