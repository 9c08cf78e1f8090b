package promokit

import "time"

// Redemption states.
const (
	RedemptionHeld       = "held"        // reserved for an order while it is paid
	RedemptionRedeemed   = "redeemed"    // used by a placed order
	RedemptionReleased   = "released"    // a hold given back, or expired
	RedemptionRolledBack = "rolled_back" // a use given back when the order was cancelled
)

// Redemption is one code used by one order: the row that is the truth of
// every usage counter.
type Redemption struct {
	ID          int64      `json:"-"`
	StoreID     string     `json:"store_id"`
	OrderID     string     `json:"order_id"`
	Code        string     `json:"code"`
	PromotionID string     `json:"promotion_id"`
	CustomerKey string     `json:"-"`
	Discount    int64      `json:"discount"`
	State       string     `json:"state"`
	RequestHash []byte     `json:"-"`
	HoldUntil   *time.Time `json:"hold_until,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// ValidOrderID reports whether id is a usable order id: 1 to 100 printable
// ASCII characters.
func ValidOrderID(id string) bool { return asciiID(id, 100) }
