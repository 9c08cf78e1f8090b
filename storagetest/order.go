package storagetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// Orders and the events applied to them.

// newOrder returns a placed order of a store with two lines, not
// attributed.
func newOrder(b *bundle, storeID, id string) *promokit.Order {
	return &promokit.Order{
		StoreID: storeID, ID: id, CustomerID: "cus_1", VisitorID: "vis_1", Currency: "USD",
		Lines: []promokit.OrderLine{
			{Line: 1, ProductID: "prd_1", Quantity: 2, Amount: 10000},
			{Line: 2, ProductID: "prd_2", Quantity: 1, Amount: 2550},
		},
		Shipping: 500, Codes: []string{"SAVE-10"},
		Payment: promokit.PaymentPlan{Installments: 1, FirstPaymentCodes: []string{"SAVE-10"}},
		State:   promokit.OrderPlaced, PlacedAt: b.now, Version: 1, CreatedAt: b.now, UpdatedAt: b.now,
	}
}

// mustCreateOrders creates orders in one transaction.
func mustCreateOrders(t *testing.T, b *bundle, os ...*promokit.Order) {
	t.Helper()
	b.write(t, func(tx storage.Tx) error {
		for _, o := range os {
			if err := tx.OrderCreate(b.ctx, o); err != nil {
				return fmt.Errorf("create order %s: %w", o.ID, err)
			}
		}
		return nil
	})
}

// mustGetOrder returns an order.
func mustGetOrder(t *testing.T, b *bundle, storeID, id string) *promokit.Order {
	t.Helper()
	var o *promokit.Order
	b.read(t, func(tx storage.Tx) (err error) {
		o, err = tx.OrderGet(b.ctx, storeID, id, false)
		return err
	})
	return o
}

// testOrders checks the round trip of orders with every field, their ids
// per store, and versioned updates.
func testOrders(t *testing.T, b *bundle) {
	attributed := newOrder(b, "sto_1", "ord-1")
	attributed.Attribution = &promokit.Attribution{Program: promokit.ProgramAffiliate, LinkID: "lnk_1", PartnerID: "ptn_1",
		ClickID: 42, ClickedAt: b.at(-time.Hour)}
	attributed.Lines[0].Rate, attributed.Lines[0].RateID, attributed.Lines[0].RateSource = 500, 7, "product"
	attributed.Lines[1].Rate, attributed.Lines[1].RateID, attributed.Lines[1].RateSource = 300, 3, "general"
	attributed.Lines[0].Program, attributed.Lines[0].Rule, attributed.Lines[0].Payee = promokit.ProgramAffiliate, promokit.RuleAffiliate, "ptn_1"
	attributed.Lines[1].Program, attributed.Lines[1].Rule, attributed.Lines[1].Code = promokit.ProgramPartnerCode, promokit.RulePartnerCode, "SAVE-10"
	attributed.Lines[1].Payee, attributed.Lines[1].Rate, attributed.Lines[1].RateSource = promokit.Marketplace, 4000, promokit.RateSourcePolicy
	attributed.UnredeemedCodes = []string{"STOLEN-1", "RED-1"}
	bare := &promokit.Order{StoreID: "sto_1", ID: "ord-2", Currency: "EUR", State: promokit.OrderPlaced, PlacedAt: b.now,
		Version: 1, CreatedAt: b.now, UpdatedAt: b.now}
	sameID := newOrder(b, "sto_2", "ord-1")
	mustCreateOrders(t, b, attributed, bare, sameID)
	wantEqual(t, "attributed order", attributed, mustGetOrder(t, b, "sto_1", "ord-1"))
	wantEqual(t, "bare order", bare, mustGetOrder(t, b, "sto_1", "ord-2"))
	wantEqual(t, "another store's order with the same id", sameID, mustGetOrder(t, b, "sto_2", "ord-1"))
	var many []*promokit.Order
	b.read(t, func(tx storage.Tx) (err error) {
		many, err = tx.OrderGetMany(b.ctx, "sto_1", []string{"ord-2", "ord-9", "ord-1", "ord-2"})
		return err
	})
	slices.SortFunc(many, func(a, b *promokit.Order) int { return strings.Compare(a.ID, b.ID) })
	wantEqual(t, "OrderGetMany of sto_1's ord-1, ord-2 and a missing one", []*promokit.Order{attributed, bare}, many)
	err := b.writeErr(func(tx storage.Tx) error { return tx.OrderCreate(b.ctx, newOrder(b, "sto_1", "ord-1")) })
	wantErr(t, "a second order with one id", err, storage.ErrExists)
	err = b.readErr(func(tx storage.Tx) error {
		_, err := tx.OrderGet(b.ctx, "sto_3", "ord-1", false)
		return err
	})
	wantErr(t, "GetOrder of another store", err, storage.ErrNotFound)
	err = b.writeErr(func(tx storage.Tx) error {
		_, err := tx.OrderGet(b.ctx, "sto_1", "ord-9", true)
		return err
	})
	wantErr(t, "GetOrder of a missing order with lock", err, storage.ErrNotFound)

	// An update writes every field events change, read with the lock.
	paid, completed, release := b.at(time.Hour), b.at(48*time.Hour), b.at(48*time.Hour+7*24*time.Hour)
	b.write(t, func(tx storage.Tx) error {
		o, err := tx.OrderGet(b.ctx, "sto_1", "ord-2", true)
		if err != nil {
			return err
		}
		o.Lines = []promokit.OrderLine{{Line: 1, ProductID: "prd_9", Quantity: 3, Amount: 900, Refunded: 300, RefundedQuantity: 1,
			Rate: 1000, RateID: 11, RateSource: "general"}}
		o.Payment = promokit.PaymentPlan{Installments: 3, FirstPaymentCodes: []string{"ENV-1"}}
		o.State, o.Paid, o.RefundedShipping = promokit.OrderCompleted, 900, 50
		o.PaidAt, o.CompletedAt, o.CancelledAt = &paid, &completed, ptr(b.at(72*time.Hour))
		o.Attribution = &promokit.Attribution{Program: promokit.ProgramAffiliate, LinkID: "lnk_2", PartnerID: "ptn_2",
			ClickID: 9, ClickedAt: b.at(-time.Minute)}
		o.ReleaseAt, o.Released, o.UpdatedAt = &release, true, completed
		if err := tx.OrderUpdate(b.ctx, o, 1); err != nil {
			return err
		}
		if o.Version != 2 {
			return fmt.Errorf("OrderUpdate set version %d, want 2", o.Version)
		}
		bare = o
		return nil
	})
	wantEqual(t, "updated order", bare, mustGetOrder(t, b, "sto_1", "ord-2"))
	err = b.writeErr(func(tx storage.Tx) error {
		stale := *bare
		return tx.OrderUpdate(b.ctx, &stale, 1)
	})
	wantErr(t, "an update of a stale version", err, storage.ErrStale)
	err = b.writeErr(func(tx storage.Tx) error {
		missing := *bare
		missing.ID = "ord-9"
		return tx.OrderUpdate(b.ctx, &missing, 2)
	})
	wantErr(t, "an update of a missing order", err, storage.ErrStale)

	// Times and attribution go back to none.
	b.write(t, func(tx storage.Tx) error {
		o := *bare
		o.PaidAt, o.CompletedAt, o.CancelledAt, o.ReleaseAt, o.Attribution = nil, nil, nil, nil, nil
		o.Released, o.UpdatedAt = false, b.at(96*time.Hour)
		if err := tx.OrderUpdate(b.ctx, &o, 2); err != nil {
			return err
		}
		bare = &o
		return nil
	})
	wantEqual(t, "order without times", bare, mustGetOrder(t, b, "sto_1", "ord-2"))
	// The other store's order with the same id is untouched.
	wantEqual(t, "the other store's order", sameID, mustGetOrder(t, b, "sto_2", "ord-1"))
}

// testOrdersList checks the pages of orders and their scope: a store's
// orders, a partner's attributed ones.
func testOrdersList(t *testing.T, b *bundle) {
	var mine []*promokit.Order
	for i := range 5 {
		o := newOrder(b, "sto_1", fmt.Sprintf("ord-%d", i))
		if i%2 == 0 {
			o.Attribution = &promokit.Attribution{Program: promokit.ProgramAffiliate, LinkID: "lnk_1", PartnerID: "ptn_1",
				ClickID: int64(i + 1), ClickedAt: b.now}
		}
		mine = append(mine, o)
	}
	foreign := newOrder(b, "sto_2", "ord-x")
	foreign.Attribution = &promokit.Attribution{Program: promokit.ProgramAffiliate, LinkID: "lnk_2", PartnerID: "ptn_2", ClickID: 9, ClickedAt: b.now}
	mustCreateOrders(t, b, mine[3], foreign, mine[0], mine[4], mine[1], mine[2])
	list := func(scope promokit.Scope, p storage.Page) []*promokit.Order {
		t.Helper()
		var got []*promokit.Order
		b.read(t, func(tx storage.Tx) (err error) {
			got, err = tx.OrderList(b.ctx, scope, p)
			return err
		})
		return got
	}
	store := promokit.Scope{StoreID: "sto_1"}
	wantEqual(t, "a store's orders", mine, list(store, storage.Page{Limit: 10}))
	wantEqual(t, "first page", mine[:2], list(store, storage.Page{Limit: 2}))
	wantEqual(t, "second page", mine[2:4], list(store, storage.Page{After: "ord-1", Limit: 2}))
	wantEqual(t, "last page", mine[4:], list(store, storage.Page{After: "ord-3", Limit: 2}))
	wantEqual(t, "a partner's orders", []*promokit.Order{mine[0], mine[2], mine[4]}, list(promokit.Scope{PartnerID: "ptn_1"}, storage.Page{Limit: 10}))
	wantEqual(t, "all orders", append(append([]*promokit.Order{}, mine...), foreign), list(promokit.Scope{}, storage.Page{Limit: 10}))
	wantEqual(t, "another store's orders", []*promokit.Order{foreign}, list(promokit.Scope{StoreID: "sto_2"}, storage.Page{Limit: 10}))
	wantEqual(t, "orders of a store without any", []*promokit.Order(nil), list(promokit.Scope{StoreID: "sto_9"}, storage.Page{Limit: 10}))
}

// testDueReleases checks which orders fall due: completed, not cancelled,
// not released, with a release at or before now; the earliest first.
func testDueReleases(t *testing.T, b *bundle) {
	order := func(id string, release time.Time, mod func(o *promokit.Order)) *promokit.Order {
		o := newOrder(b, "sto_1", id)
		o.State, o.CompletedAt, o.ReleaseAt = promokit.OrderCompleted, ptr(b.at(-30*24*time.Hour)), ptr(release)
		if mod != nil {
			mod(o)
		}
		return o
	}
	late := order("ord-late", b.at(-time.Hour), nil)
	early := order("ord-early", b.at(-2*time.Hour), nil)
	atNow := order("ord-now", b.now, nil)
	otherStore := order("ord-other", b.at(-90*time.Minute), func(o *promokit.Order) { o.StoreID = "sto_2" })
	notYet := order("ord-future", b.at(time.Microsecond), nil)
	released := order("ord-released", b.at(-3*time.Hour), func(o *promokit.Order) { o.Released = true })
	cancelled := order("ord-cancelled", b.at(-3*time.Hour), func(o *promokit.Order) { o.CancelledAt = ptr(b.at(-24 * time.Hour)) })
	open := order("ord-open", b.at(-3*time.Hour), func(o *promokit.Order) { o.State, o.CompletedAt = promokit.OrderPaid, nil })
	noRelease := order("ord-plain", b.now, func(o *promokit.Order) { o.CompletedAt, o.ReleaseAt = nil, nil })
	mustCreateOrders(t, b, late, early, atNow, otherStore, notYet, released, cancelled, open, noRelease)
	due := func(now time.Time, limit int) []*promokit.Order {
		t.Helper()
		var got []*promokit.Order
		b.read(t, func(tx storage.Tx) (err error) {
			got, err = tx.OrderListDueRelease(b.ctx, now, limit)
			return err
		})
		return got
	}
	wantEqual(t, "due releases", []*promokit.Order{early, otherStore, late, atNow}, due(b.now, 10))
	wantEqual(t, "the two first due", []*promokit.Order{early, otherStore}, due(b.now, 2))
	wantEqual(t, "due a little later", []*promokit.Order{early, otherStore, late, atNow, notYet}, due(b.at(time.Second), 10))
	wantEqual(t, "due before any", []*promokit.Order(nil), due(b.at(-3*time.Hour), 10))

	// Once released, an order is no longer due.
	b.write(t, func(tx storage.Tx) error {
		o, err := tx.OrderGet(b.ctx, "sto_1", "ord-early", true)
		if err != nil {
			return err
		}
		o.Released = true
		return tx.OrderUpdate(b.ctx, o, o.Version)
	})
	wantEqual(t, "due after a release", []*promokit.Order{otherStore, late, atNow}, due(b.now, 10))
}

// testOrderEvents checks the record of applied events, by id per store.
func testOrderEvents(t *testing.T, b *bundle) {
	e := &promokit.OrderEvent{StoreID: "sto_1", ID: "evt-1", OrderID: "ord-1", Type: promokit.EventPlaced,
		RequestHash: []byte{0xde, 0xad, 0xbe, 0xef}, At: b.at(-time.Minute), CreatedAt: b.now}
	same := &promokit.OrderEvent{StoreID: "sto_2", ID: "evt-1", OrderID: "ord-7", Type: promokit.EventPaid,
		RequestHash: []byte{1}, At: b.now, CreatedAt: b.now}
	b.write(t, func(tx storage.Tx) error {
		if err := tx.OrderEventCreate(b.ctx, e); err != nil {
			return err
		}
		return tx.OrderEventCreate(b.ctx, same)
	})
	get := func(storeID, id string) (*promokit.OrderEvent, error) {
		var got *promokit.OrderEvent
		err := b.readErr(func(tx storage.Tx) (err error) {
			got, err = tx.OrderEventGet(b.ctx, storeID, id)
			return err
		})
		return got, err
	}
	got, err := get("sto_1", "evt-1")
	if err != nil {
		t.Fatalf("OrderEventGet: %v", err)
	}
	wantEqual(t, "event", e, got) // the request hash included
	got, err = get("sto_2", "evt-1")
	if err != nil {
		t.Fatalf("OrderEventGet: %v", err)
	}
	wantEqual(t, "the other store's event", same, got)
	_, err = get("sto_1", "evt-2")
	wantErr(t, "OrderEventGet of a missing event", err, storage.ErrNotFound)
	_, err = get("sto_3", "evt-1")
	wantErr(t, "OrderEventGet of another store", err, storage.ErrNotFound)
	err = b.writeErr(func(tx storage.Tx) error {
		dup := *e
		dup.Type = promokit.EventCancelled
		return tx.OrderEventCreate(b.ctx, &dup)
	})
	wantErr(t, "a second event with one id", err, storage.ErrExists)
}
