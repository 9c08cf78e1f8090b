package promokit_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/promokit/promokit"
)

var (
	placedAt = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	eventAt  = placedAt.Add(time.Hour)
)

func timePtr(t time.Time) *time.Time { return &t }

// testOrder returns an order of two lines (1000 for one item, 2500 for
// two) and 500 of shipping, 4000 in all, in the given state: placed with
// nothing paid, paid 1000 of it, completed after paying 1000 (the rest
// comes in installments), or cancelled.
func testOrder(t *testing.T, state string) *promokit.Order {
	t.Helper()
	o := &promokit.Order{
		StoreID: "sto_1", ID: "ord-1", Currency: "USD", Shipping: 500, State: promokit.OrderPlaced,
		Lines: []promokit.OrderLine{
			{Line: 0, ProductID: "p1", Quantity: 1, Amount: 1000},
			{Line: 1, ProductID: "p2", Quantity: 2, Amount: 2500},
		},
		PlacedAt: placedAt, Version: 1,
	}
	switch state {
	case promokit.OrderPlaced:
	case promokit.OrderPaid:
		o.Paid, o.PaidAt = 1000, timePtr(placedAt)
	case promokit.OrderCompleted:
		o.Paid, o.PaidAt, o.CompletedAt = 1000, timePtr(placedAt), timePtr(placedAt)
	case promokit.OrderCancelled:
		o.CancelledAt = timePtr(placedAt)
	default:
		t.Fatalf("no test order in state %q", state)
	}
	o.State = state
	return o
}

// clone copies o deeply enough to tell whether a refused change left it
// alone.
func clone(o *promokit.Order) *promokit.Order {
	c := *o
	c.Lines = append([]promokit.OrderLine(nil), o.Lines...)
	return &c
}

// fieldCodes returns "field code" for each field of a validation error.
func fieldCodes(err error) []string {
	var e *promokit.Error
	if !errors.As(err, &e) {
		return nil
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field+" "+f.Code)
	}
	return out
}

var noHold = &promokit.Settings{TimeZone: "UTC"}

// applyEvent applies an event of type event with a payload that the
// order's arithmetic allows whenever the state does: pay the rest,
// complete without a hold, cancel, refund 100 of line 0.
func applyEvent(o *promokit.Order, event string) error {
	switch event {
	case promokit.EventPaid:
		return o.Pay(0, eventAt)
	case promokit.EventCompleted:
		_, err := o.Complete(eventAt, eventAt, noHold)
		return err
	case promokit.EventCancelled:
		return o.Cancel(eventAt)
	case promokit.EventRefunded:
		return o.Refund(&promokit.Refund{Lines: []promokit.RefundLine{{Line: 0, Amount: 100}}})
	}
	return o.Accept(event)
}

func TestOrderStateMachine(t *testing.T) {
	t.Parallel()
	const (
		placed    = promokit.OrderPlaced
		paid      = promokit.OrderPaid
		completed = promokit.OrderCompleted
		cancelled = promokit.OrderCancelled
	)
	for _, tt := range []struct {
		from, event string
		// to is the state after an accepted event; code, field and message
		// describe a refusal.
		to, code, field, message string
	}{
		{from: placed, event: promokit.EventPaid, to: paid},
		{from: placed, event: promokit.EventCompleted, to: completed},
		{from: placed, event: promokit.EventCancelled, to: cancelled},
		// Nothing is paid yet, so nothing can be refunded.
		{from: placed, event: promokit.EventRefunded, code: promokit.EInvalid, field: "refund exceeds_paid",
			message: `order "ord-1" has 0 paid and 0 refunded: a refund of 100 would pass what was paid`},
		{from: placed, event: promokit.EventPlaced, code: promokit.EConflict, message: `order "ord-1" was placed already`},

		{from: paid, event: promokit.EventPaid, to: paid},
		{from: paid, event: promokit.EventCompleted, to: completed},
		{from: paid, event: promokit.EventCancelled, to: cancelled},
		{from: paid, event: promokit.EventRefunded, to: paid},
		{from: paid, event: promokit.EventPlaced, code: promokit.EConflict, message: `order "ord-1" was placed already`},

		// An installment after completion is accepted; the order stays completed.
		{from: completed, event: promokit.EventPaid, to: completed},
		{from: completed, event: promokit.EventCompleted, code: promokit.EConflict, message: `order "ord-1" is completed already`},
		{from: completed, event: promokit.EventCancelled, code: promokit.EConflict, message: `order "ord-1" is completed: refund it instead of cancelling`},
		{from: completed, event: promokit.EventRefunded, to: completed},
		{from: completed, event: promokit.EventPlaced, code: promokit.EConflict, message: `order "ord-1" was placed already`},

		{from: cancelled, event: promokit.EventPaid, code: promokit.EConflict, message: `order "ord-1" is cancelled`},
		{from: cancelled, event: promokit.EventCompleted, code: promokit.EConflict, message: `order "ord-1" is cancelled`},
		{from: cancelled, event: promokit.EventCancelled, code: promokit.EConflict, message: `order "ord-1" is cancelled`},
		{from: cancelled, event: promokit.EventRefunded, code: promokit.EConflict, message: `order "ord-1" is cancelled`},
		{from: cancelled, event: promokit.EventPlaced, code: promokit.EConflict, message: `order "ord-1" is cancelled`},

		{from: placed, event: "shipped", code: promokit.EInvalid, message: `"shipped" is not an order event`},
	} {
		t.Run(tt.from+"/"+tt.event, func(t *testing.T) {
			t.Parallel()
			o := testOrder(t, tt.from)
			before := clone(o)
			err := applyEvent(o, tt.event)
			if got := promokit.ErrorCode(err); got != tt.code {
				t.Fatalf("code = %q, want %q (%v)", got, tt.code, err)
			}
			if tt.code != "" {
				if got := promokit.ErrorMessage(err); got != tt.message {
					t.Errorf("message = %q, want %q", got, tt.message)
				}
				var want []string
				if tt.field != "" {
					want = []string{tt.field}
				}
				if diff := cmp.Diff(want, fieldCodes(err)); diff != "" {
					t.Errorf("fields (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(before, o); diff != "" {
					t.Errorf("a refused event changed the order (-before +after):\n%s", diff)
				}
				return
			}
			if o.State != tt.to {
				t.Errorf("state = %q, want %q", o.State, tt.to)
			}
			// Accept agrees with the transition.
			if err := testOrder(t, tt.from).Accept(tt.event); err != nil {
				t.Errorf("Accept(%q) = %v, the transition was accepted", tt.event, err)
			}
		})
	}
}

func TestOrderTimes(t *testing.T) {
	t.Parallel()
	o := testOrder(t, promokit.OrderPlaced)
	if err := o.Pay(1000, eventAt); err != nil {
		t.Fatal(err)
	}
	if err := o.Pay(0, eventAt.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !o.PaidAt.Equal(eventAt) {
		t.Errorf("PaidAt = %v, want the first payment's %v", o.PaidAt, eventAt)
	}
	o = testOrder(t, promokit.OrderPaid)
	if err := o.Cancel(eventAt); err != nil {
		t.Fatal(err)
	}
	if o.CancelledAt == nil || !o.CancelledAt.Equal(eventAt) || o.State != promokit.OrderCancelled {
		t.Errorf("cancelled at %v in state %q, want %v and cancelled", o.CancelledAt, o.State, eventAt)
	}
}

func TestOrderPay(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name         string
		paid, amount int64
		want         int64 // paid after; 0 when refused
		field        string
	}{
		{name: "the rest when zero", amount: 0, want: 4000},
		{name: "a part", amount: 1500, want: 1500},
		{name: "exactly the total", amount: 4000, want: 4000},
		{name: "an installment to the total", paid: 1500, amount: 2500, want: 4000},
		{name: "the rest of a part", paid: 1500, amount: 0, want: 4000},
		{name: "one past the total", amount: 4001, field: "amount exceeds_total"},
		{name: "an installment past the total", paid: 1500, amount: 2501, field: "amount exceeds_total"},
		{name: "nothing left to pay", paid: 4000, amount: 0, field: "amount exceeds_total"},
		{name: "anything when all is paid", paid: 4000, amount: 1, field: "amount exceeds_total"},
		{name: "a negative amount", amount: -1, field: "amount exceeds_total"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := testOrder(t, promokit.OrderPlaced)
			o.Paid = tt.paid
			before := clone(o)
			err := o.Pay(tt.amount, eventAt)
			if tt.field != "" {
				if diff := cmp.Diff([]string{tt.field}, fieldCodes(err)); diff != "" || promokit.ErrorCode(err) != promokit.EInvalid {
					t.Fatalf("Pay(%d) = %v; fields (-want +got):\n%s", tt.amount, err, diff)
				}
				if diff := cmp.Diff(before, o); diff != "" {
					t.Errorf("a refused payment changed the order:\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("Pay(%d) = %v", tt.amount, err)
			}
			if o.Paid != tt.want || o.State != promokit.OrderPaid || o.PaidAt == nil {
				t.Errorf("paid %d in state %q at %v, want %d, paid", o.Paid, o.State, o.PaidAt, tt.want)
			}
		})
	}
}

func TestOrderComplete(t *testing.T) {
	t.Parallel()
	ny := &promokit.Settings{TimeZone: "America/New_York"}
	ny.Policy.Affiliate.HoldDays = 14
	utc := &promokit.Settings{TimeZone: "UTC"}
	utc.Policy.Affiliate.HoldDays = 14
	march := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name       string
		settings   *promokit.Settings
		at, now    time.Time
		releaseAt  time.Time
		releaseNow bool
	}{
		{name: "no hold releases at once", settings: noHold, at: eventAt, now: eventAt, releaseAt: eventAt, releaseNow: true},
		{name: "a past completion without hold", settings: noHold, at: eventAt, now: eventAt.Add(time.Hour), releaseAt: eventAt, releaseNow: true},
		{name: "a hold waits", settings: utc, at: eventAt, now: eventAt, releaseAt: eventAt.AddDate(0, 0, 14)},
		{name: "a hold just before its end", settings: utc, at: eventAt, now: eventAt.AddDate(0, 0, 14).Add(-time.Microsecond), releaseAt: eventAt.AddDate(0, 0, 14)},
		{name: "a hold at its end", settings: utc, at: eventAt, now: eventAt.AddDate(0, 0, 14), releaseAt: eventAt.AddDate(0, 0, 14), releaseNow: true},
		// 7:00 on March 1 in New York (EST) is 7:00 on March 15 there (EDT): 11:00 UTC.
		{name: "calendar days across a clock change", settings: ny, at: march, now: march, releaseAt: time.Date(2025, 3, 15, 11, 0, 0, 0, time.UTC)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := testOrder(t, promokit.OrderPaid)
			release, err := o.Complete(tt.at, tt.now, tt.settings)
			if err != nil {
				t.Fatal(err)
			}
			if release != tt.releaseNow {
				t.Errorf("release = %v, want %v", release, tt.releaseNow)
			}
			if o.ReleaseAt == nil || !o.ReleaseAt.Equal(tt.releaseAt) || o.ReleaseAt.Location() != time.UTC {
				t.Errorf("ReleaseAt = %v, want %v in UTC", o.ReleaseAt, tt.releaseAt)
			}
			if o.CompletedAt == nil || !o.CompletedAt.Equal(tt.at) || o.State != promokit.OrderCompleted || o.Released {
				t.Errorf("completed at %v in state %q, released %v; want %v, completed, not released", o.CompletedAt, o.State, o.Released, tt.at)
			}
		})
	}
}

func TestOrderRelease(t *testing.T) {
	t.Parallel()
	o := testOrder(t, promokit.OrderCompleted)
	if !o.Releasable() {
		t.Fatal("a completed order's commissions are not releasable")
	}
	o.Release()
	if !o.Released || o.Releasable() {
		t.Errorf("after Release: released %v, releasable %v; want true, false", o.Released, o.Releasable())
	}
	if c := testOrder(t, promokit.OrderCancelled); c.Releasable() {
		t.Error("a cancelled order's commissions are releasable")
	}
}

func TestOrderRefund(t *testing.T) {
	t.Parallel()
	type line = promokit.RefundLine
	for _, tt := range []struct {
		name string
		// paid, refunded, returned and refundedShipping are the order's
		// state before the refund: 4000 paid when paid is 0.
		paid, refunded, returned, refundedShipping int64
		refund                                     promokit.Refund
		// fields are the refusal's field codes; else the lines' refunded
		// amounts and quantities and the shipping refunded after.
		fields                []string
		lineRefunded, lineQty [2]int64
		shippingRefunded      int64
	}{
		{name: "part of a line", refund: promokit.Refund{Lines: []line{{Line: 0, Amount: 400}}}, lineRefunded: [2]int64{400, 0}},
		{name: "a whole line", refund: promokit.Refund{Lines: []line{{Line: 0, Amount: 1000}}}, lineRefunded: [2]int64{1000, 0}},
		{name: "a return with its items", refund: promokit.Refund{Reason: "return", Lines: []line{{Line: 1, Amount: 2500, Quantity: 2}}}, lineRefunded: [2]int64{0, 2500}, lineQty: [2]int64{0, 2}},
		{name: "lines and shipping", refund: promokit.Refund{Lines: []line{{Line: 1, Amount: 1}, {Line: 0, Amount: 2}}, Shipping: 3}, lineRefunded: [2]int64{2, 1}, shippingRefunded: 3},
		{name: "shipping alone", refund: promokit.Refund{Shipping: 500}, shippingRefunded: 500},
		{name: "everything", refund: promokit.Refund{Lines: []line{{Line: 0, Amount: 1000, Quantity: 1}, {Line: 1, Amount: 2500, Quantity: 2}}, Shipping: 500}, lineRefunded: [2]int64{1000, 2500}, lineQty: [2]int64{1, 2}, shippingRefunded: 500},
		{name: "the rest of a line", refunded: 600, refund: promokit.Refund{Lines: []line{{Line: 0, Amount: 400}}}, lineRefunded: [2]int64{1000, 0}},
		{name: "the rest of the shipping", refundedShipping: 300, refund: promokit.Refund{Shipping: 200}, shippingRefunded: 500},

		{name: "one past a line", refund: promokit.Refund{Lines: []line{{Line: 0, Amount: 1001}}}, fields: []string{"refund/lines/0/amount exceeds_line"}},
		{name: "past a line with its refunds", refunded: 600, refund: promokit.Refund{Lines: []line{{Line: 0, Amount: 401}}}, fields: []string{"refund/lines/0/amount exceeds_line"}},
		{name: "more items than the line", refund: promokit.Refund{Lines: []line{{Line: 1, Amount: 100, Quantity: 3}}}, fields: []string{"refund/lines/0/quantity exceeds_line"}},
		{name: "more items with the returned", returned: 1, refund: promokit.Refund{Lines: []line{{Line: 0, Amount: 100, Quantity: 1}}}, fields: []string{"refund/lines/0/quantity exceeds_line"}},
		{name: "an unknown line", refund: promokit.Refund{Lines: []line{{Line: 0, Amount: 1}, {Line: 7, Amount: 10}}}, fields: []string{"refund/lines/1/line unknown_line"}},
		{name: "a negative line", refund: promokit.Refund{Lines: []line{{Line: -1, Amount: 10}}}, fields: []string{"refund/lines/0/line unknown_line"}},
		{name: "past the shipping", refund: promokit.Refund{Shipping: 501}, fields: []string{"refund/shipping exceeds_shipping"}},
		{name: "past the shipping with its refunds", refundedShipping: 300, refund: promokit.Refund{Shipping: 201}, fields: []string{"refund/shipping exceeds_shipping"}},
		{name: "every breach at once", refund: promokit.Refund{Lines: []line{{Line: 0, Amount: 1001, Quantity: 2}, {Line: 9, Amount: 1}}, Shipping: 501},
			fields: []string{"refund/lines/0/amount exceeds_line", "refund/lines/0/quantity exceeds_line", "refund/lines/1/line unknown_line", "refund/shipping exceeds_shipping"}},
		{name: "past what was paid", paid: 1000, refund: promokit.Refund{Lines: []line{{Line: 1, Amount: 1001}}}, fields: []string{"refund exceeds_paid"}},
		{name: "exactly what was paid", paid: 1000, refund: promokit.Refund{Lines: []line{{Line: 1, Amount: 1000}}}, lineRefunded: [2]int64{0, 1000}},
		{name: "past what was paid with the refunds", paid: 1000, refunded: 800, refund: promokit.Refund{Shipping: 201}, fields: []string{"refund exceeds_paid"}},
		{name: "up to what was paid with the refunds", paid: 1000, refunded: 800, refund: promokit.Refund{Shipping: 200}, lineRefunded: [2]int64{800, 0}, shippingRefunded: 200},
		// What was paid is checked only once the caps hold.
		{name: "a cap before what was paid", paid: 1, refund: promokit.Refund{Lines: []line{{Line: 0, Amount: 1001}}}, fields: []string{"refund/lines/0/amount exceeds_line"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := testOrder(t, promokit.OrderPaid)
			o.Paid = 4000
			if tt.paid != 0 {
				o.Paid = tt.paid
			}
			o.Lines[0].Refunded, o.Lines[0].RefundedQuantity, o.RefundedShipping = tt.refunded, tt.returned, tt.refundedShipping
			before := clone(o)
			err := o.Refund(&tt.refund)
			if tt.fields != nil {
				if promokit.ErrorCode(err) != promokit.EInvalid {
					t.Fatalf("Refund = %v, want invalid", err)
				}
				if diff := cmp.Diff(tt.fields, fieldCodes(err)); diff != "" {
					t.Errorf("fields (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(before, o); diff != "" {
					t.Errorf("a refused refund changed the order (-before +after):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("Refund = %v", err)
			}
			got := [2]int64{o.Lines[0].Refunded, o.Lines[1].Refunded}
			gotQty := [2]int64{o.Lines[0].RefundedQuantity, o.Lines[1].RefundedQuantity}
			if got != tt.lineRefunded || gotQty != tt.lineQty || o.RefundedShipping != tt.shippingRefunded {
				t.Errorf("refunded lines %v (items %v) and shipping %d, want %v (items %v) and %d",
					got, gotQty, o.RefundedShipping, tt.lineRefunded, tt.lineQty, tt.shippingRefunded)
			}
			if o.State != promokit.OrderPaid || o.Paid != before.Paid {
				t.Errorf("state %q, paid %d: a refund changes neither", o.State, o.Paid)
			}
		})
	}
}
