package engine

import (
	"crypto/sha256"
	"encoding/json"
	"strconv"
	"time"

	"github.com/promokit/promokit"
)

// Order events. The marketplace's order system tells promokit what happens
// to an order; each event carries its own id, so a replay changes nothing,
// and each is applied in one transaction with the ledger entries it makes.

const (
	// maxOrderLines bounds an order's lines, and a refund's.
	maxOrderLines = 500
	// maxEventSkew is how far in the future an event's time may be (the
	// clocks of two systems differ a little).
	maxEventSkew = 5 * time.Minute
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

// RefundInput is a refund or a return: amounts per line (by the line's
// number) and of shipping. Reason is "refund" (the default) or "return".
// The rules that apply it to an order are promokit.Order.Refund and
// promokit.Commissions.Adjust.
type RefundInput = promokit.Refund

// RefundLine is what one line gives back.
type RefundLine = promokit.RefundLine

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

// eventTime is when an event happened: its at, or now.
func eventTime(in *OrderEventInput, now time.Time) time.Time {
	if in.At != nil {
		return in.At.UTC().Truncate(time.Microsecond)
	}
	return now
}
