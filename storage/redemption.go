package storage

import (
	"context"
	"time"

	"github.com/promokit/promokit"
)

// RedemptionTx reads and writes redemptions: the uses of promotions and
// codes that orders hold or have redeemed.
type RedemptionTx interface {
	// RedemptionCreate inserts a redemption and sets its ID; ErrExists
	// when the order already has a redemption of that code, or for a
	// codeless redemption (Code empty: an automatic promotion), one of that
	// promotion without a code.
	RedemptionCreate(ctx context.Context, r *promokit.Redemption) error
	// RedemptionListByOrder returns an order's redemptions, by id.
	RedemptionListByOrder(ctx context.Context, storeID, orderID string) ([]*promokit.Redemption, error)
	// RedemptionSetState makes the change c (a redemption from one state to
	// another, with its new hold) and reports whether it did (false: the
	// redemption was not in c.From).
	RedemptionSetState(ctx context.Context, c RedemptionStateChange) (bool, error)
	// RedemptionListExpiredHolds returns up to limit held redemptions whose hold ended
	// at or before now, oldest first.
	RedemptionListExpiredHolds(ctx context.Context, now time.Time, limit int) ([]*promokit.Redemption, error)
	// RedemptionListByOrderMany returns the redemptions of a store's orders among
	// orderIDs, by id.
	RedemptionListByOrderMany(ctx context.Context, storeID string, orderIDs []string) ([]*promokit.Redemption, error)
	// RedemptionCreateMany inserts redemptions and sets their IDs; ErrExists
	// as RedemptionCreate.
	RedemptionCreateMany(ctx context.Context, rs []*promokit.Redemption) error
	// RedemptionListByCode returns one page of the redemptions of the code
	// value code (normalised, not empty), in every state, by id: those
	// after the id p.After, at most p.Size(). It does not check that the code exists or whom it
	// belongs to: the caller reads the code in its scope first. Codeless
	// redemptions are never listed.
	RedemptionListByCode(ctx context.Context, code string, p IDPage) ([]*promokit.Redemption, error)
}

// RedemptionStateChange moves the redemption ID from the state From to the
// state To at Now, with HoldUntil as its new hold (nil: none)
// (RedemptionSetState).
type RedemptionStateChange struct {
	ID        int64
	From, To  string
	HoldUntil *time.Time
	Now       time.Time
}
