package engine

import (
	"bytes"
	"context"
	"strconv"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// OrderResult is an order after an event, with the ledger entries the
// event wrote (none on a replay, which Replayed tells).
type OrderResult struct {
	Order    *promokit.Order         `json:"order"`
	Entries  []*promokit.LedgerEntry `json:"entries"`
	Replayed bool                    `json:"replayed"`
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

// applier applies one event inside its transaction and collects the
// ledger entries it makes.
type applier struct {
	tx       storage.Tx
	settings *promokit.Settings
	eventID  string
	at, now  time.Time
	entries  []*promokit.LedgerEntry
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
