package promokit

import (
	"strconv"
	"time"
)

// Order states, derived from the events an order received: cancelled and
// completed are final.
const (
	OrderPlaced    = "placed"
	OrderPaid      = "paid"
	OrderCompleted = "completed"
	OrderCancelled = "cancelled"
)

// Order event types.
const (
	EventPlaced    = "placed"
	EventPaid      = "paid"
	EventCompleted = "completed"
	EventCancelled = "cancelled"
	EventRefunded  = "refunded"
)

// Order is a store's order as the marketplace's order system reported it
// through events, with its attribution to an affiliate link (A3). Amounts
// are minor units of Currency. Lines hold what each line was paid (after
// discounts, excluding shipping) and what was refunded of it.
type Order struct {
	StoreID    string      `json:"store_id"`
	ID         string      `json:"id"`
	CustomerID string      `json:"customer_id,omitempty"`
	VisitorID  string      `json:"visitor_id,omitempty"`
	Currency   string      `json:"currency"`
	Lines      []OrderLine `json:"lines"`
	Shipping   int64       `json:"shipping"`
	// Codes are the codes the placed event named, normalised
	// (NormalizeCode), without duplicates; UnredeemedCodes those of them,
	// and of the first payment's, that the order did not redeem (no
	// redemption of the order holds a use of them when it was placed):
	// they earn nothing (O1, RedeemedCodes).
	Codes           []string    `json:"codes"`
	UnredeemedCodes []string    `json:"unredeemed_codes"`
	Payment         PaymentPlan `json:"payment"`
	State           string      `json:"state"`
	// Paid is what the buyer has paid so far (installments add up).
	Paid int64 `json:"paid"`
	// RefundedShipping is the shipping refunded; each line keeps its own.
	RefundedShipping int64        `json:"refunded_shipping"`
	PlacedAt         time.Time    `json:"placed_at"`
	PaidAt           *time.Time   `json:"paid_at,omitempty"`
	CompletedAt      *time.Time   `json:"completed_at,omitempty"`
	CancelledAt      *time.Time   `json:"cancelled_at,omitempty"`
	Attribution      *Attribution `json:"attribution,omitempty"`
	// ReleaseAt is when the commissions of a completed order become
	// payable (completion plus the policy's hold); Released says they are.
	ReleaseAt *time.Time `json:"release_at,omitempty"`
	Released  bool       `json:"released"`
	Version   int64      `json:"version"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// Total is what the order costs: its lines and shipping.
func (o *Order) Total() int64 {
	t := o.Shipping
	for _, l := range o.Lines {
		t += l.Amount
	}
	return t
}

// Refunded is everything refunded of the order so far.
func (o *Order) Refunded() int64 {
	t := o.RefundedShipping
	for _, l := range o.Lines {
		t += l.Refunded
	}
	return t
}

// PaymentPlan is how the order is paid: in Installments (1 for a single
// payment) and the codes that the first payment used (a red envelope, R2).
type PaymentPlan struct {
	Installments      int64    `json:"installments"`
	FirstPaymentCodes []string `json:"first_payment_codes"`
}

// OrderLine is one line of an order: Amount is what the line costs the
// buyer (after discounts, excluding shipping), Refunded what was refunded
// or returned of it. Program, Rule, Code and Payee are the claim that won
// the line when the order was placed (O1, DecideLines): the program that
// earns on it, the rule that grounds it, the code it rests on ("" for an
// affiliate click) and the party that earns (a partner, or the
// marketplace for a P4 code's share); all "" when nothing earns on the
// line. Rate, RateID and RateSource are that program's rate in force when
// the order was placed: the affiliate rate ("product" or "general") or
// the marketplace's P4 share ("policy"); 0 and "" when nothing earns.
type OrderLine struct {
	Line             int         `json:"line"`
	ProductID        string      `json:"product_id"`
	Quantity         int64       `json:"quantity"`
	Amount           int64       `json:"amount"`
	Refunded         int64       `json:"refunded"`
	RefundedQuantity int64       `json:"refunded_quantity"`
	Program          string      `json:"program,omitempty"`
	Rule             string      `json:"rule,omitempty"`
	Code             string      `json:"code,omitempty"`
	Payee            string      `json:"payee,omitempty"`
	Rate             BasisPoints `json:"rate_bp"`
	RateID           int64       `json:"rate_id,omitempty"`
	RateSource       string      `json:"rate_source,omitempty"`
}

// Attribution is the click that won an order (A3): the latest qualifying
// click of the visitor or customer on a link of the order's store.
type Attribution struct {
	Program   string    `json:"program"`
	LinkID    string    `json:"link_id"`
	PartnerID string    `json:"partner_id"`
	ClickID   int64     `json:"click_id"`
	ClickedAt time.Time `json:"clicked_at"`
}

// OrderEvent is the record of one applied event, by the id the order system
// gave it: replaying it changes nothing, and the same id with another
// content is refused.
type OrderEvent struct {
	StoreID     string    `json:"store_id"`
	ID          string    `json:"id"`
	OrderID     string    `json:"order_id"`
	Type        string    `json:"type"`
	RequestHash []byte    `json:"-"`
	At          time.Time `json:"at"`
	CreatedAt   time.Time `json:"created_at"`
}

// Ledger entry statuses: where the money of an entry stands.
const (
	LedgerPending = "pending" // the order is open: the payee may not earn it yet
	LedgerPayable = "payable" // earned: the payer owes it to the payee
	LedgerPaid    = "paid"    // a payout moved it from payable to paid
)

// Ledger entry kinds: why the entry was written.
const (
	EntryAccrued  = "accrued"  // an order earned it (pending, positive)
	EntryAdjusted = "adjusted" // a refund or return changed a pending amount
	EntryReleased = "released" // completion moved an amount from pending to payable (a pair)
	EntryReversed = "reversed" // a cancellation, or a refund after release, took it back (negative)
	EntryPaidOut  = "paid_out" // a payout moved an amount from payable to paid (a pair)
)

// LedgerEntry is one change of what a payer owes a payee (each the
// marketplace, a store or a partner: PartyKind), never edited: every
// balance is a sum of entries. The entries of an order name its store and
// the order line; Program and Rule are what earned on the line (O1).
// Basis is the line's amount net of refunds that the amount was computed
// on, Rate and RateID the rate used. The entries of a payout name it
// (PayoutID) and no order.
type LedgerEntry struct {
	ID        int64       `json:"id"`
	Payer     string      `json:"payer"`
	Payee     string      `json:"payee"`
	StoreID   string      `json:"store_id"`
	OrderID   string      `json:"order_id"`
	Line      int         `json:"line"`
	Program   string      `json:"program"`
	Rule      string      `json:"rule"`
	Status    string      `json:"status"`
	Kind      string      `json:"kind"`
	Amount    int64       `json:"amount"`
	Currency  string      `json:"currency"`
	Basis     int64       `json:"basis"`
	Rate      BasisPoints `json:"rate_bp"`
	RateID    int64       `json:"rate_id,omitempty"`
	EventID   string      `json:"event_id"`
	PayoutID  string      `json:"payout_id,omitempty"`
	CreatedAt time.Time   `json:"created_at"`
}

// The order state machine. A placed event creates the order; each later
// event is accepted or refused by the order's state, as Accept decides:
//
//	state \ event   paid      completed  cancelled  refunded
//	placed          accepted  accepted   accepted   accepted
//	paid            accepted  accepted   accepted   accepted
//	completed       accepted  conflict   conflict   accepted
//	cancelled       conflict  conflict   conflict   conflict
//
// A payment after completion is an installment; a completed order is
// refunded, not cancelled; a cancelled order takes no event. Pay, Complete,
// Cancel and Refund check Accept first and the event's arithmetic after it,
// and change nothing when they refuse. The state itself is derived from
// the order's times, so each of them sets State last.

// Accept returns nil when an event of type event may follow the order as
// it is, and the EConflict refusal otherwise. A placed event never
// follows (the order exists), and an unknown type is EInvalid.
func (o *Order) Accept(event string) error {
	if o.CancelledAt != nil {
		return Errorf(EConflict, "order %q is cancelled", o.ID)
	}
	switch event {
	case EventPaid, EventRefunded:
		return nil
	case EventCompleted:
		if o.CompletedAt != nil {
			return Errorf(EConflict, "order %q is completed already", o.ID)
		}
		return nil
	case EventCancelled:
		if o.CompletedAt != nil {
			return Errorf(EConflict, "order %q is completed: refund it instead of cancelling", o.ID)
		}
		return nil
	case EventPlaced:
		return Errorf(EConflict, "order %q was placed already", o.ID)
	}
	return Errorf(EInvalid, "%q is not an order event", event)
}

// stateOf derives the order's state from its times: cancelled, completed,
// paid (once any payment arrived), else placed.
func (o *Order) stateOf() string {
	switch {
	case o.CancelledAt != nil:
		return OrderCancelled
	case o.CompletedAt != nil:
		return OrderCompleted
	case o.PaidAt != nil:
		return OrderPaid
	}
	return OrderPlaced
}

// Pay adds a payment made at at: amount, or the rest of the order when
// amount is zero. Payments together may not pass the order's total: a
// payment beyond it, or of nothing left to pay, is EInvalid with the field
// code exceeds_total. PaidAt keeps the first payment's time.
func (o *Order) Pay(amount int64, at time.Time) error {
	if err := o.Accept(EventPaid); err != nil {
		return err
	}
	rest := o.Total() - o.Paid
	if amount == 0 {
		amount = rest
	}
	if amount > rest || amount <= 0 {
		var v Validation
		v.Add("amount", "exceeds_total", "order %q costs %d and %d is paid: a payment of %d would pass its total", o.ID, o.Total(), o.Paid, amount)
		return v.Err()
	}
	o.Paid += amount
	if o.PaidAt == nil {
		o.PaidAt = &at
	}
	o.State = o.stateOf()
	return nil
}

// Complete completes the order at at. Its commissions become payable
// after the hold of s's affiliate policy, counted in calendar days of the
// marketplace's time zone from completion (ReleaseAt); release reports
// whether that time is already reached at now (at once when there is no
// hold), so that the caller releases them (Release) in the same change.
func (o *Order) Complete(at, now time.Time, s *Settings) (release bool, err error) {
	if err := o.Accept(EventCompleted); err != nil {
		return false, err
	}
	o.CompletedAt = &at
	releaseAt := at.In(s.Location()).AddDate(0, 0, int(s.Policy.Affiliate.HoldDays)).UTC()
	o.ReleaseAt = &releaseAt
	o.State = o.stateOf()
	return !releaseAt.After(now), nil
}

// Cancel cancels the order at at, before its completion. The caller rolls
// back its code redemptions (C4) and reverses its pending commissions
// (Commissions.Reverse).
func (o *Order) Cancel(at time.Time) error {
	if err := o.Accept(EventCancelled); err != nil {
		return err
	}
	o.CancelledAt = &at
	o.State = o.stateOf()
	return nil
}

// Releasable reports whether the order's commissions may still be
// released: not released yet, and the order not cancelled.
func (o *Order) Releasable() bool {
	return !o.Released && o.CancelledAt == nil
}

// Release marks the commissions of a completed order as released, once
// its hold has passed; Commissions.Release gives the ledger entries that
// move them from pending to payable.
func (o *Order) Release() {
	o.Released = true
}

// Refund is a refund or a return of an order: amounts given back per line
// (by the line's number) and of shipping. Reason is "refund" (the default)
// or "return"; Quantity is the number of items returned with a line's
// amount.
type Refund struct {
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

// Refund gives back r's amounts of lines and shipping. r has the form an
// event's refund is checked for before (each line named once, amounts
// positive). Each cap is checked on everything refunded so far, and a
// breach is EInvalid with the field and its code, every breach listed at
// once: a line that the order lacks (unknown_line), a line's refunds past
// its amount or its returned items past its quantity (exceeds_line),
// shipping refunds past the shipping (exceeds_shipping). When those hold,
// the order's refunds together may not pass what was paid (exceeds_paid).
// The caller then adjusts the commissions of the refunded lines
// (Commissions.Adjust).
func (o *Order) Refund(r *Refund) error {
	if err := o.Accept(EventRefunded); err != nil {
		return err
	}
	var v Validation
	lines := o.lineIndex()
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
	o.State = o.stateOf()
	return nil
}

// lineIndex maps each line's number to the line.
func (o *Order) lineIndex() map[int]*OrderLine {
	lines := make(map[int]*OrderLine, len(o.Lines))
	for i := range o.Lines {
		lines[o.Lines[i].Line] = &o.Lines[i]
	}
	return lines
}
