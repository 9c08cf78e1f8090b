package promokit

import "time"

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
	Codes      []string    `json:"codes"`
	Payment    PaymentPlan `json:"payment"`
	State      string      `json:"state"`
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
// or returned of it. Rate, RateID and RateSource are the affiliate rate in
// force when the order was placed ("product", "general", or "" when the
// order is not attributed).
type OrderLine struct {
	Line             int         `json:"line"`
	ProductID        string      `json:"product_id"`
	Quantity         int64       `json:"quantity"`
	Amount           int64       `json:"amount"`
	Refunded         int64       `json:"refunded"`
	RefundedQuantity int64       `json:"refunded_quantity"`
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

// Ledger entry statuses: what a commission is now.
const (
	LedgerPending = "pending" // the order is open
	LedgerPayable = "payable" // the order completed (and its hold passed)
)

// Ledger entry kinds: why the entry was written.
const (
	EntryAccrued  = "accrued"  // an attributed order was placed (pending, positive)
	EntryAdjusted = "adjusted" // a refund or return changed a pending commission
	EntryReleased = "released" // completion moved a commission from pending to payable (a pair)
	EntryReversed = "reversed" // a cancellation, or a refund after release, took it back (negative)
)

// LedgerEntry is one change of what a partner is owed, never edited: a
// partner's balance and a store's total are sums of entries. Basis is the
// line's amount net of refunds that the commission was computed on, Rate
// and RateID the rate used.
type LedgerEntry struct {
	ID        int64       `json:"id"`
	PartnerID string      `json:"partner_id"`
	StoreID   string      `json:"store_id"`
	OrderID   string      `json:"order_id"`
	Line      int         `json:"line"`
	Program   string      `json:"program"`
	Status    string      `json:"status"`
	Kind      string      `json:"kind"`
	Amount    int64       `json:"amount"`
	Currency  string      `json:"currency"`
	Basis     int64       `json:"basis"`
	Rate      BasisPoints `json:"rate_bp"`
	RateID    int64       `json:"rate_id,omitempty"`
	EventID   string      `json:"event_id"`
	CreatedAt time.Time   `json:"created_at"`
}
