package engine

import (
	"context"
	"time"

	"github.com/promokit/promokit"
)

// ProgramTx is the part of Tx that partner programs use: the affiliate
// program's memberships, rates, links and clicks, the orders the order
// system reports, and the ledger of what partners are owed.
type ProgramTx interface {
	// MembershipCreate inserts a store's membership of the affiliate
	// program.
	MembershipCreate(ctx context.Context, m *promokit.Membership) error
	// MembershipGetLatest returns the store's latest membership; ENotFound
	// when it never joined. With lock it also locks the store's row until
	// the transaction ends (as GetStore does), which serialises joins and
	// exits of one store.
	MembershipGetLatest(ctx context.Context, storeID string, lock bool) (*promokit.Membership, error)
	// MembershipSetExit records an exit request at requestedAt taking
	// effect at exitsAt; ENotFound when the membership does not exist or
	// has already asked to exit.
	MembershipSetExit(ctx context.Context, id string, requestedAt, exitsAt time.Time) error

	// RateAdd inserts a rate and sets its ID.
	RateAdd(ctx context.Context, r *promokit.Rate) error
	// RateListAt returns the rates of a store in force at t for the general
	// rate and the products among productIDs: for each, the row with the
	// latest effective_at at or before t (the highest id among equal
	// times), Removed rows included; one that never had a rate is left
	// out.
	RateListAt(ctx context.Context, storeID string, t time.Time, productIDs []string) ([]*promokit.Rate, error)
	// RateList returns a store's rate history, newest first (by id),
	// the rates with id below p.After when it is set (a decimal id).
	RateList(ctx context.Context, storeID string, p RatePage) ([]*promokit.Rate, error)

	// LinkCreate inserts a link; ECodeTaken when the token exists.
	LinkCreate(ctx context.Context, l *promokit.Link) error
	// LinkGet returns a link visible to scope (its store's, its
	// partner's); ENotFound otherwise.
	LinkGet(ctx context.Context, scope promokit.Scope, id string) (*promokit.Link, error)
	// LinkList lists the links visible to scope, by id.
	LinkList(ctx context.Context, scope promokit.Scope, p Page) ([]*promokit.Link, error)
	// LinkGetTarget returns the link of a token and its store's latest
	// membership in one query; ENotFound when no link has the token.
	LinkGetTarget(ctx context.Context, token string) (*promokit.ClickTarget, error)
	// ClickInsertMany inserts clicks and sets their IDs, in one statement
	// where the database allows.
	ClickInsertMany(ctx context.Context, clicks []*promokit.Click) error
	// ClickCountMany returns, for each pair among pairs that has clicks, how
	// many clicks that visitor made on that link at or after since,
	// counting at most max of them (max <= 0: all), so that a pair's cost
	// is bounded whatever its clicks.
	ClickCountMany(ctx context.Context, since time.Time, pairs []VisitorLink, max int64) (map[VisitorLink]int64, error)
	// ClickGetLatest returns the latest unflagged click, at or after from and
	// at or before to, by any of visitorIDs on a link of the store;
	// ENotFound when there is none.
	ClickGetLatest(ctx context.Context, storeID string, visitorIDs []string, from, to time.Time) (*promokit.Click, error)
	// LinkStatGetMany returns the clicks of each link among linkIDs: all and
	// flagged.
	LinkStatGetMany(ctx context.Context, linkIDs []string) (map[string]LinkStat, error)
	// VisitorAdd records that a customer of the marketplace used a visitor
	// id on an order of the store, or refreshes when it was last seen
	// there. The binding is the store's own: it serves the attribution of
	// that store's orders only (A3), so that no store can bind a customer
	// to a visitor who clicked a link to another store.
	VisitorAdd(ctx context.Context, storeID, customerID, visitorID string, now time.Time) error
	// VisitorList returns up to limit visitor ids that a customer
	// used on orders of the store, the most recently seen first.
	VisitorList(ctx context.Context, storeID, customerID string, limit int) ([]string, error)

	// OrderCreate inserts an order with its lines; EConflict when the
	// store has an order with that id.
	OrderCreate(ctx context.Context, o *promokit.Order) error
	// OrderGet returns an order with its lines; with lock it locks the
	// order's row until the transaction ends (FOR UPDATE on PostgreSQL),
	// which serialises the events of one order. ENotFound when missing.
	OrderGet(ctx context.Context, storeID, id string, lock bool) (*promokit.Order, error)
	// OrderUpdate writes an order's state, payment, refunds (its own and
	// each line's), times and release if its stored version is still
	// version, and sets o.Version to version+1; EVersionMismatch otherwise.
	OrderUpdate(ctx context.Context, o *promokit.Order, version int64) error
	// OrderList lists a store's orders by id (scope's store when set).
	OrderList(ctx context.Context, scope promokit.Scope, p Page) ([]*promokit.Order, error)
	// OrderListDueRelease returns up to limit completed orders whose commissions
	// are not yet released and whose release time is at or before now.
	OrderListDueRelease(ctx context.Context, now time.Time, limit int) ([]*promokit.Order, error)
	// OrderEventGet returns an applied event by its id; ENotFound when
	// none.
	OrderEventGet(ctx context.Context, storeID, id string) (*promokit.OrderEvent, error)
	// OrderEventCreate records an applied event; EConflict when the store
	// has an event with that id.
	OrderEventCreate(ctx context.Context, e *promokit.OrderEvent) error
	// PlaceReads reads at once what placing each of many orders needs
	// (see PlaceQuery), the answers in the order of qs; every query has
	// the same MaxVisitors. PostgreSQL reads them all with three
	// statements in one round trip.
	PlaceReads(ctx context.Context, qs []PlaceQuery) ([]*PlaceData, error)
	// PlaceOrders writes a batch of placed orders at once: their events,
	// the orders, the visitors seen and the entries (setting their IDs),
	// in as few round trips as the database allows. EConflict when an
	// event or an order exists; what it wrote must then be rolled back.
	PlaceOrders(ctx context.Context, p PlacedOrders) error

	// LedgerAddMany appends ledger entries and sets their IDs.
	LedgerAddMany(ctx context.Context, es []*promokit.LedgerEntry) error
	// LedgerListByOrder returns the entries of an order, by id.
	LedgerListByOrder(ctx context.Context, storeID, orderID string) ([]*promokit.LedgerEntry, error)
	// LedgerSum sums the entries that f selects by currency, status and
	// kind. It reads the daily roll-ups (RollupLedger) for the whole UTC
	// days of f that are rolled up (LedgerFilter.RolledDays) and the
	// entries for the rest; the amounts and counts are those of the
	// entries.
	LedgerSum(ctx context.Context, f LedgerFilter) ([]LedgerTotal, error)
	// LedgerList returns at most p.Limit (> 0) entries that f selects,
	// by id, after the id p.After (decimal; "" for the first page).
	LedgerList(ctx context.Context, f LedgerFilter, p Page) ([]*promokit.LedgerEntry, error)
	// LedgerRollup adds to the daily roll-ups the entries created before
	// until (a UTC day start) that are not rolled up yet, at most maxDays
	// days of them, and returns the new rolled_until (zero when there is no
	// entry at all). Concurrent callers serialise on the roll-up's row.
	LedgerRollup(ctx context.Context, until time.Time, maxDays int) (time.Time, error)
}

// PlacedOrders is what Tx.PlaceOrders writes.
type PlacedOrders struct {
	Events   []*promokit.OrderEvent
	Orders   []*promokit.Order
	Visitors []VisitorSeen
	Entries  []*promokit.LedgerEntry
}

// VisitorSeen records that a customer used a visitor id on an order of a
// store at Seen (Tx.VisitorAdd).
type VisitorSeen struct {
	StoreID, CustomerID, VisitorID string
	Seen                           time.Time
}

// RatePage pages a rate history: After is a decimal id ("" for the first
// page).
type RatePage = Page

// VisitorLink names one visitor's clicks on one link.
type VisitorLink struct {
	VisitorID string
	LinkID    string
}

// LinkStat counts a link's clicks.
type LinkStat struct {
	Clicks  int64 `json:"clicks"`
	Flagged int64 `json:"flagged"`
}

// LedgerFilter selects ledger entries: of a partner, of a store (either or
// both must be set), created at or after From and before To when they are
// set.
type LedgerFilter struct {
	PartnerID string
	StoreID   string
	From      time.Time
	To        time.Time
}

// LedgerTotal is the sum of the entries of one currency, status and kind.
type LedgerTotal struct {
	Currency string `json:"currency"`
	Status   string `json:"status"`
	Kind     string `json:"kind"`
	Amount   int64  `json:"amount"`
	Entries  int64  `json:"entries"`
}

// PlaceQuery is what Tx.PlaceReads reads for an order placed at At: the
// store's, and the latest unflagged click of VisitorID, or of the visitor
// ids CustomerID used on the store's own orders (the MaxVisitors most
// recently seen there), on a link of the store, made from max(From, the
// latest membership's join) to At; and the rates in force at At of the
// general rate and of ProductIDs.
type PlaceQuery struct {
	StoreID     string
	VisitorID   string
	CustomerID  string
	MaxVisitors int
	ProductIDs  []string
	From, At    time.Time
}

// PlaceData is what Tx.PlaceReads returns for one order: Store, Membership and Click are
// nil when there is none.
type PlaceData struct {
	Settings   *promokit.Settings
	Store      *promokit.Store
	Membership *promokit.Membership
	Click      *promokit.Click
	Rates      []*promokit.Rate
}
