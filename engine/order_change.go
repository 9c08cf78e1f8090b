package engine

import (
	"bytes"
	"context"
	"fmt"
	"slices"
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
	err := s.write(ctx, func(tx storage.Tx) error {
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

// attribute decides what earns on each line of o (O1), from what
// PlaceReadMany read, and accrues it (promokit.Commissions.Accrue). Each
// program gathers its claims on the lines, and promokit.Order.DecideLines
// keeps one per line:
//
//   - the affiliate click (A3, promokit.Order.ClaimAffiliate): the latest
//     unflagged click of the order's visitor, or of any visitor id its
//     customer used on the store's own earlier orders (never another
//     store's, which could bind any customer to any visitor), on a link of
//     the store, made in the window and since the store's latest join,
//     when the store is in the program at the order's time; the link's
//     partner earns each line's rate in force at the order's time (A4);
//   - a P4 code the order redeemed (P4, promokit.Order.ClaimPartnerCodes):
//     the marketplace earns its share, in force now, of each line the
//     code's promotion covers.
//
// A red envelope's claim (R2) and an influencer task's (I3) join here
// with those programs.
func (a *applier) attribute(o *promokit.Order, d *storage.PlaceData) {
	checkCodes(o, d.Redemptions)
	lc := promokit.NewLineClaims(o)
	o.ClaimAffiliate(lc, d.Membership, d.Click, d.Rates)
	o.ClaimPartnerCodes(lc, d.Store, d.Redemptions, d.Promotions, d.Settings.Policy.PartnerCodes)
	o.DecideLines(lc)
	a.entries = append(a.entries, a.commissions().Accrue(o)...)
}

// checkCodes normalises the codes o's placed event names, in its codes
// and its first payment's, and keeps in o.UnredeemedCodes those that no
// redemption of the order holding a use (held or redeemed) names: they
// earn nothing, and the event's answer reports them (O1). Only the
// order's redemptions ground a claim on its lines: a code the order
// system names without a redemption behind it is a mistake or a forgery,
// never a sale of that code.
func checkCodes(o *promokit.Order, reds []*promokit.Redemption) {
	var redeemed []string
	for _, r := range reds {
		if r.State == promokit.RedemptionRedeemed || r.State == promokit.RedemptionHeld {
			redeemed = append(redeemed, r.Code)
		}
	}
	o.Codes = normalizeCodes(o.Codes)
	o.Payment.FirstPaymentCodes = normalizeCodes(o.Payment.FirstPaymentCodes)
	_, o.UnredeemedCodes = promokit.RedeemedCodes(append(slices.Clip(o.Codes), o.Payment.FirstPaymentCodes...), redeemed)
	if o.UnredeemedCodes == nil {
		o.UnredeemedCodes = []string{}
	}
}

// normalizeCodes returns codes normalised (promokit.NormalizeCode),
// without duplicates or empty values, in their order.
func normalizeCodes(codes []string) []string {
	out := make([]string, 0, len(codes))
	for _, c := range codes {
		if c = promokit.NormalizeCode(c); c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// commissions computes the ledger entries of this event.
func (a *applier) commissions() promokit.Commissions {
	return promokit.Commissions{EventID: a.eventID, CreatedAt: a.now}
}

// change applies a paid, completed, cancelled or refunded event to a
// placed order, as the order's state machine allows (promokit.Order.Accept).
func (a *applier) change(ctx context.Context, storeID, orderID string, in *OrderEventInput) (*promokit.Order, error) {
	o, err := a.tx.OrderGet(ctx, storeID, orderID, true)
	if isNotFound(err) {
		return nil, notFound("order", orderID)
	}
	if err != nil {
		return nil, err
	}
	version := o.Version
	switch in.Type {
	case promokit.EventPaid:
		err = o.Pay(in.Amount, a.at)
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
	// o was read (and locked) above: a stale update means another write
	// came first.
	if err := a.tx.OrderUpdate(ctx, o, version); err != nil {
		return nil, changedSince(err, fmt.Sprintf("order %q", o.ID), version)
	}
	return o, nil
}

// completed completes the order: its commissions become payable after the
// policy's hold, at once when there is none.
func (a *applier) completed(ctx context.Context, o *promokit.Order) error {
	release, err := o.Complete(a.at, a.now, a.settings)
	if err != nil || !release {
		return err
	}
	return a.release(ctx, o)
}

// release marks the order's commissions released and moves each line's
// pending commission to payable.
func (a *applier) release(ctx context.Context, o *promokit.Order) error {
	o.Release()
	bal, err := a.balances(ctx, o)
	if err != nil {
		return err
	}
	a.entries = append(a.entries, a.commissions().Release(o, bal)...)
	return nil
}

// balances sums the order's entries per line, the stored ones and those
// of this event so far. An order that nothing earns on has none, and
// nothing is read for it.
func (a *applier) balances(ctx context.Context, o *promokit.Order) (map[int]promokit.LineBalance, error) {
	if !o.Earns() {
		return nil, nil
	}
	stored, err := a.tx.LedgerListByOrder(ctx, o.StoreID, o.ID)
	if err != nil {
		return nil, err
	}
	return promokit.LineBalances(stored, a.entries), nil
}

// cancelled cancels an order before completion: its commissions are
// reversed and its code redemptions rolled back (C4). A completed order is
// refunded instead.
func (a *applier) cancelled(ctx context.Context, o *promokit.Order) error {
	if err := o.Cancel(a.at); err != nil {
		return err
	}
	if _, err := giveBackTx(ctx, a.tx, o.StoreID, o.ID, promokit.RedemptionRedeemed, promokit.RedemptionRolledBack, a.now); err != nil {
		return err
	}
	bal, err := a.balances(ctx, o)
	if err != nil {
		return err
	}
	a.entries = append(a.entries, a.commissions().Reverse(o, bal)...)
	return nil
}

// refunded gives back amounts of lines and shipping within what was paid
// and what each line cost (promokit.Order.Refund), and writes the change
// of each refunded line's commission (promokit.Commissions.Adjust).
func (a *applier) refunded(ctx context.Context, o *promokit.Order, r *RefundInput) error {
	if err := o.Refund(r); err != nil {
		return err
	}
	bal, err := a.balances(ctx, o)
	if err != nil {
		return err
	}
	a.entries = append(a.entries, a.commissions().Adjust(o, r, bal)...)
	return nil
}

// ReleaseDue releases the commissions of up to limit completed orders
// whose hold has passed, each in its own transaction, and returns how
// many it released.
func (s *Service) ReleaseDue(ctx context.Context, limit int) (int, error) {
	var due []*promokit.Order
	err := s.read(ctx, func(tx storage.Tx) error {
		var err error
		due, err = tx.OrderListDueRelease(ctx, s.now(), limit)
		return err
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range due {
		err := s.write(ctx, func(tx storage.Tx) error {
			o, err := tx.OrderGet(ctx, d.StoreID, d.ID, true)
			if err != nil {
				return err
			}
			if !o.Releasable() {
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
				return changedSince(err, fmt.Sprintf("order %q", o.ID), version)
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
