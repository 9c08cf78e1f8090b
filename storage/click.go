package storage

import (
	"context"
	"time"

	"github.com/promokit/promokit"
)

// ClickTx writes and reads clicks on affiliate links, and the visitor ids
// each store has seen a customer use.
type ClickTx interface {
	// ClickInsertMany inserts clicks and sets their IDs, in one statement
	// where the database allows.
	ClickInsertMany(ctx context.Context, clicks []*promokit.Click) error
	// ClickCountMany returns, for each pair among pairs that has clicks, how
	// many clicks that visitor made on that link at or after since,
	// counting at most max of them (max <= 0: all), so that a pair's cost
	// is bounded whatever its clicks.
	ClickCountMany(ctx context.Context, since time.Time, pairs []VisitorLink, max int64) (map[VisitorLink]int64, error)
	// ClickGetLatest returns the latest unflagged click that q selects;
	// ErrNotFound when there is none.
	ClickGetLatest(ctx context.Context, q ClickQuery) (*promokit.Click, error)
	// VisitorAdd records that a customer of the marketplace used a visitor
	// id on an order of the store (VisitorSeen), or refreshes when it was
	// last seen there. The binding is the store's own: it serves the attribution of
	// that store's orders only (A3), so that no store can bind a customer
	// to a visitor who clicked a link to another store.
	VisitorAdd(ctx context.Context, p VisitorSeen) error
	// VisitorList returns up to limit visitor ids that a customer
	// used on orders of the store, the most recently seen first.
	VisitorList(ctx context.Context, storeID, customerID string, limit int) ([]string, error)
}

// VisitorSeen records that a customer used a visitor id on an order of a
// store at Seen (VisitorAdd).
type VisitorSeen struct {
	StoreID, CustomerID, VisitorID string
	Seen                           time.Time
}

// VisitorLink names one visitor's clicks on one link.
type VisitorLink struct {
	VisitorID string
	LinkID    string
}

// ClickQuery selects the latest unflagged click by any of VisitorIDs on a
// link of the store StoreID, made at or after From and at or before To
// (ClickGetLatest).
type ClickQuery struct {
	StoreID    string
	VisitorIDs []string
	From, To   time.Time
}
