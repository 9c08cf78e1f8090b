package storage

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/promokit/promokit"
)

// PlacedOrders is what OrderPlaceMany writes.
type PlacedOrders struct {
	Events   []*promokit.OrderEvent
	Orders   []*promokit.Order
	Visitors []VisitorSeen
	Entries  []*promokit.LedgerEntry
}

// PlaceQuery is what PlaceReadMany reads for an order placed at At: the
// store's, and the latest unflagged click of VisitorID, or of the visitor
// ids CustomerID used on the store's own orders (the MaxVisitors most
// recently seen there), on a link of the store, made from max(From, the
// latest membership's join) to At; the rates in force at At of the
// general rate and of ProductIDs; and the redemptions with a code of the
// store's order OrderID ("" reads none) when the order can use them (see
// NeedsRedemptions) with, for a P4 store, their promotions.
type PlaceQuery struct {
	StoreID string
	OrderID string
	// Codes says that the placed event names codes, which are checked
	// against the order's redemptions.
	Codes       bool
	VisitorID   string
	CustomerID  string
	MaxVisitors int
	ProductIDs  []string
	From, At    time.Time
}

// PlaceData is what PlaceReadMany returns for one order: Store, Membership
// and Click are nil when there is none. Without a store there is no
// membership and no redemption, and without a membership (a store that
// never joined the affiliate program) there is neither a click nor rates:
// the window of the clicks starts at the join. Redemptions are the
// order's, in every state, by id, and Promotions the store's promotions
// they name, by id, when NeedsRedemptions says the order uses them: an
// order that names no code, of a store that is not under P4, reads none,
// so that the common order pays nothing for what only code sales need.
type PlaceData struct {
	Settings    *promokit.Settings
	Store       *promokit.Store
	Membership  *promokit.Membership
	Click       *promokit.Click
	Rates       []*promokit.Rate
	Redemptions []*promokit.Redemption
	Promotions  []*promokit.Promotion
}

// PlaceReader is the ability of a Tx to read what placing many orders needs
// (PlaceReadMany) in fewer round trips than PlaceReadManyInTurn.
type PlaceReader interface {
	PlaceReadMany(ctx context.Context, qs []PlaceQuery) ([]*PlaceData, error)
}

// PlaceReadMany reads at once what placing each of many orders needs (see
// PlaceQuery), the answers in the order of qs; every query has the same
// MaxVisitors. It uses tx's PlaceReader when it has one.
func PlaceReadMany(ctx context.Context, tx Tx, qs []PlaceQuery) ([]*PlaceData, error) {
	if r, ok := tx.(PlaceReader); ok {
		return r.PlaceReadMany(ctx, qs)
	}
	return PlaceReadManyInTurn(ctx, tx, qs)
}

// PlaceReadManyInTurn is PlaceReadMany made of tx's plain methods, query
// after query.
func PlaceReadManyInTurn(ctx context.Context, tx Tx, qs []PlaceQuery) ([]*PlaceData, error) {
	out := make([]*PlaceData, len(qs))
	for i, q := range qs {
		d, err := placeRead(ctx, tx, q)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

// placeRead reads what placing one order needs, query after query.
func placeRead(ctx context.Context, tx Tx, q PlaceQuery) (*PlaceData, error) {
	var d PlaceData
	var err error
	if d.Settings, err = tx.SettingsGet(ctx); err != nil {
		return nil, err
	}
	if d.Store, err = tx.StoreGet(ctx, q.StoreID, false); err != nil {
		return &d, notFoundNil(err)
	}
	if err := placeReadRedemptions(ctx, tx, q, &d); err != nil {
		return nil, err
	}
	if d.Membership, err = tx.MembershipGetLatest(ctx, q.StoreID, false); err != nil {
		return &d, notFoundNil(err)
	}
	if d.Rates, err = tx.RateListAt(ctx, q.StoreID, q.At, q.ProductIDs); err != nil {
		return nil, err
	}
	visitors := []string{}
	if q.VisitorID != "" {
		visitors = append(visitors, q.VisitorID)
	}
	if q.CustomerID != "" {
		vs, err := tx.VisitorList(ctx, q.StoreID, q.CustomerID, q.MaxVisitors)
		if err != nil {
			return nil, err
		}
		visitors = append(visitors, vs...)
	}
	from := q.From
	if from.Before(d.Membership.JoinedAt) {
		from = d.Membership.JoinedAt
	}
	if d.Click, err = tx.ClickGetLatest(ctx, ClickQuery{StoreID: q.StoreID, VisitorIDs: visitors, From: from, To: q.At}); err != nil {
		return &d, notFoundNil(err)
	}
	return &d, nil
}

// NeedsRedemptions says whether placing the order of q at store st uses
// the order's redemptions: to check the codes its event names (q.Codes),
// or for the P4 claims of a store under P4, which come from every code the
// order redeemed. PlaceData's Promotions serve only the P4 claims.
func NeedsRedemptions(q PlaceQuery, st *promokit.Store) bool {
	return q.OrderID != "" && st != nil && (q.Codes || st.PartnerPromoCodes)
}

// placeReadRedemptions reads the redemptions of the order q.OrderID, when
// NeedsRedemptions says so, and for a P4 store the promotions they name,
// into d.
func placeReadRedemptions(ctx context.Context, tx Tx, q PlaceQuery, d *PlaceData) error {
	if !NeedsRedemptions(q, d.Store) {
		return nil
	}
	all, err := tx.RedemptionListByOrder(ctx, q.StoreID, q.OrderID)
	if err != nil {
		return err
	}
	var ids []string
	for _, r := range all {
		if r.Code == "" {
			continue
		}
		d.Redemptions = append(d.Redemptions, r)
		if !slices.Contains(ids, r.PromotionID) {
			ids = append(ids, r.PromotionID)
		}
	}
	if len(ids) == 0 || !d.Store.PartnerPromoCodes {
		return nil
	}
	if d.Promotions, err = tx.PromotionGetMany(ctx, promokit.Scope{StoreID: q.StoreID}, ids); err != nil {
		return err
	}
	slices.SortFunc(d.Promotions, func(a, b *promokit.Promotion) int { return strings.Compare(a.ID, b.ID) })
	return nil
}

// notFoundNil is nil for ErrNotFound and err otherwise.
func notFoundNil(err error) error {
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// OrderPlacer is the ability of a Tx to write a batch of placed orders
// (OrderPlaceMany) in fewer round trips than OrderPlaceManyInTurn.
type OrderPlacer interface {
	OrderPlaceMany(ctx context.Context, p PlacedOrders) error
}

// OrderPlaceMany writes a batch of placed orders at once: their events, the
// orders, the visitors seen and the entries (setting their IDs). ErrExists
// when an event or an order exists; what it wrote must then be rolled
// back. It uses tx's OrderPlacer when it has one.
func OrderPlaceMany(ctx context.Context, tx Tx, p PlacedOrders) error {
	if w, ok := tx.(OrderPlacer); ok {
		return w.OrderPlaceMany(ctx, p)
	}
	return OrderPlaceManyInTurn(ctx, tx, p)
}

// OrderPlaceManyInTurn is OrderPlaceMany made of tx's plain methods, one
// statement after another.
func OrderPlaceManyInTurn(ctx context.Context, tx Tx, p PlacedOrders) error {
	for _, e := range p.Events {
		if err := tx.OrderEventCreate(ctx, e); err != nil {
			return err
		}
	}
	for _, o := range p.Orders {
		if err := tx.OrderCreate(ctx, o); err != nil {
			return err
		}
	}
	for _, v := range p.Visitors {
		if err := tx.VisitorAdd(ctx, VisitorSeen{StoreID: v.StoreID, CustomerID: v.CustomerID, VisitorID: v.VisitorID, Seen: v.Seen}); err != nil {
			return err
		}
	}
	return tx.LedgerAddMany(ctx, p.Entries)
}
