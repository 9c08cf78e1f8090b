package storagetest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// testPlaceRead checks the read of a placed order: the settings, the
// store, its latest membership, the rates in force and the winning click
// (the latest unflagged click of the order's visitor or of the customer's
// visitors, in the window, since the latest join).
func testPlaceRead(t *testing.T, b *bundle) {
	store := mustCreateStore(t, b, "sto_1")
	mustCreateStore(t, b, "sto_2")
	settings := promokit.DefaultSettings(b.now)
	b.write(t, func(tx storage.Tx) error {
		_, err := tx.SettingsInit(b.ctx, &settings)
		return err
	})
	// read answers one query alone.
	read := func(q storage.PlaceQuery) *storage.PlaceData {
		t.Helper()
		var ds []*storage.PlaceData
		b.read(t, func(tx storage.Tx) (err error) {
			ds, err = placeReadMany(t, b, tx, []storage.PlaceQuery{q})
			return err
		})
		if len(ds) != 1 {
			t.Fatalf("PlaceReads of one query answered %d", len(ds))
		}
		return ds[0]
	}
	q := storage.PlaceQuery{StoreID: "sto_1", VisitorID: "v1", CustomerID: "c1", MaxVisitors: 20,
		ProductIDs: []string{"p1", "p2", "p1"}, From: b.at(-48 * time.Hour), At: b.at(10 * time.Hour)}

	d := read(q)
	if d.Settings == nil || d.Settings.TimeZone != settings.TimeZone || d.Store == nil || d.Store.ID != "sto_1" || d.Membership != nil || d.Click != nil {
		t.Fatalf("store never joined: %+v", d)
	}
	if d := read(storage.PlaceQuery{StoreID: "sto_9", At: b.now, MaxVisitors: 20}); d.Store != nil || d.Click != nil {
		t.Fatalf("missing store: %+v", d)
	}

	m := &promokit.Membership{ID: "mem_1", StoreID: "sto_1", URL: "https://shop.example/", JoinedAt: b.at(-24 * time.Hour)}
	general := &promokit.Rate{StoreID: "sto_1", Rate: 500, EffectiveAt: m.JoinedAt}
	own := &promokit.Rate{StoreID: "sto_1", ProductID: "p1", Rate: 900, EffectiveAt: b.at(time.Hour)}
	later := &promokit.Rate{StoreID: "sto_1", ProductID: "p2", Rate: 100, EffectiveAt: b.at(11 * time.Hour)}
	b.write(t, func(tx storage.Tx) error {
		if err := tx.MembershipCreate(b.ctx, m); err != nil {
			return err
		}
		for _, r := range []*promokit.Rate{general, own, later} {
			if err := tx.RateAdd(b.ctx, r); err != nil {
				return err
			}
		}
		if err := tx.VisitorAdd(b.ctx, storage.VisitorSeen{StoreID: "sto_1", CustomerID: "c1", VisitorID: "v2", Seen: b.now}); err != nil {
			return err
		}
		// Another store's binding of c1 never serves sto_1's orders.
		return tx.VisitorAdd(b.ctx, storage.VisitorSeen{StoreID: "sto_2", CustomerID: "c1", VisitorID: "v4", Seen: b.now})
	})
	l1 := &promokit.Link{ID: "lnk_1", StoreID: "sto_1", PartnerID: "ptn_1"}
	l2 := &promokit.Link{ID: "lnk_2", StoreID: "sto_2", PartnerID: "ptn_1"}
	beforeJoin := newClick(l1, "v1", b.at(-30*time.Hour)) // in the window, before the join
	first := newClick(l1, "v1", b.at(time.Hour))
	viaCustomer := newClick(l1, "v2", b.at(2*time.Hour)) // the customer's other visitor id
	bot := newClick(l1, "v1", b.at(3*time.Hour))
	bot.Flag = promokit.ClickBot
	otherStore := newClick(l2, "v1", b.at(4*time.Hour))
	stranger := newClick(l1, "v3", b.at(5*time.Hour))
	boundElsewhere := newClick(l1, "v4", b.at(6*time.Hour)) // c1's visitor id at sto_2 only
	after := newClick(l1, "v1", b.at(11*time.Hour))         // after the order
	mustInsertClicks(t, b, beforeJoin, first, viaCustomer, bot, otherStore, stranger, boundElsewhere, after)

	d = read(q)
	wantEqual(t, "membership", m, d.Membership)
	if d.Click == nil || d.Click.ID != viaCustomer.ID {
		t.Fatalf("click = %+v, want the customer's other visitor's at the store (%d), not one it used at another store (%d)",
			d.Click, viaCustomer.ID, boundElsewhere.ID)
	}
	rates := map[string]promokit.BasisPoints{}
	for _, r := range d.Rates {
		rates[r.ProductID] = r.Rate
	}
	if len(d.Rates) != 2 || rates[""] != 500 || rates["p1"] != 900 {
		t.Fatalf("rates = %v, want the general 500 and p1's 900 (p2's starts later)", rates)
	}

	// Without the customer only the order's visitor counts.
	q2 := q
	q2.CustomerID = ""
	if d := read(q2); d.Click == nil || d.Click.ID != first.ID {
		t.Fatalf("visitor only: click = %+v, want %d", d.Click, first.ID)
	}
	// The window's start bounds the clicks too.
	q2.From = b.at(90 * time.Minute)
	if d := read(q2); d.Click != nil {
		t.Fatalf("window after the visitor's clicks: click = %+v", d.Click)
	}
	// No visitor id at all: no click.
	q2.VisitorID, q2.From = "", q.From
	if d := read(q2); d.Click != nil {
		t.Fatalf("no visitor: click = %+v", d.Click)
	}

	// The order's redemptions of a code, in every state, by id, and the
	// promotions they name, by id; not its codeless ones, another order's
	// or another store's.
	p1, p2, other := newPromotion(b, "sto_1", "prm_b"), newPromotion(b, "sto_1", "prm_a"), newPromotion(b, "sto_2", "prm_c")
	auto := newPromotion(b, "sto_1", "prm_d")
	auto.Automatic = true
	mustCreatePromotions(t, b, p1, p2, other, auto)
	redemption := func(storeID, orderID, code, promotionID, state string) *promokit.Redemption {
		return &promokit.Redemption{StoreID: storeID, OrderID: orderID, Code: code, PromotionID: promotionID,
			Discount: 100, State: state, RequestHash: []byte{1}, CreatedAt: b.now, UpdatedAt: b.now}
	}
	mine := []*promokit.Redemption{
		redemption("sto_1", "ord-1", "CODE-B", "prm_b", promokit.RedemptionRedeemed),
		redemption("sto_1", "ord-1", "CODE-A", "prm_a", promokit.RedemptionRolledBack),
		redemption("sto_1", "ord-1", "CODE-A2", "prm_a", promokit.RedemptionHeld),
	}
	b.write(t, func(tx storage.Tx) error {
		return tx.RedemptionCreateMany(b.ctx, append(slices.Clone(mine),
			redemption("sto_1", "ord-1", "", "prm_d", promokit.RedemptionRedeemed),
			redemption("sto_1", "ord-2", "CODE-B2", "prm_b", promokit.RedemptionRedeemed),
			redemption("sto_2", "ord-1", "CODE-C", "prm_c", promokit.RedemptionRedeemed)))
	})
	if d := read(q); d.Redemptions != nil || d.Promotions != nil {
		t.Fatalf("no order id: redemptions %v, promotions %v", d.Redemptions, d.Promotions)
	}
	// An order that names no code, of a store not under P4, reads none
	// (storage.NeedsRedemptions); one that names codes reads them, and
	// their promotions only at a P4 store.
	qo := q
	qo.OrderID = "ord-1"
	if d := read(qo); d.Redemptions != nil || d.Promotions != nil {
		t.Fatalf("ord-1 naming no code: redemptions %v, promotions %v", d.Redemptions, d.Promotions)
	}
	qo.Codes = true
	if d := read(qo); len(d.Redemptions) != 3 || d.Promotions != nil {
		t.Fatalf("ord-1 naming codes: %d redemptions, promotions %v; want 3 and none", len(d.Redemptions), d.Promotions)
	}
	p4 := *store
	p4.PartnerPromoCodes = true
	b.write(t, func(tx storage.Tx) error { return tx.StoreUpdate(b.ctx, &p4) })
	qn := qo
	qn.Codes = false
	d = read(qn)
	if len(d.Redemptions) != 3 || len(d.Promotions) != 2 {
		t.Fatalf("ord-1 at a P4 store: %d redemptions, %d promotions; want 3 and 2", len(d.Redemptions), len(d.Promotions))
	}
	wantEqual(t, "ord-1 at a P4 store, naming codes", d, read(qo))
	for i, r := range d.Redemptions {
		if r.ID != mine[i].ID || r.Code != mine[i].Code || r.State != mine[i].State {
			t.Errorf("redemption %d = %+v, want %+v", i, r, mine[i])
		}
	}
	if d.Promotions[0].ID != "prm_a" || d.Promotions[1].ID != "prm_b" {
		t.Errorf("promotions %s, %s; want prm_a, prm_b", d.Promotions[0].ID, d.Promotions[1].ID)
	}
	if d := read(storage.PlaceQuery{StoreID: "sto_1", OrderID: "ord-9", Codes: true, At: b.now, MaxVisitors: 20}); d.Redemptions != nil || d.Promotions != nil {
		t.Fatalf("an order without redemptions: %v, %v", d.Redemptions, d.Promotions)
	}

	// A batch answers each query as it is answered alone, in order.
	q3 := qo
	q3.StoreID = "sto_2"
	q4 := qo
	q4.At = b.at(30 * time.Minute) // before p1's own rate and the first click
	q5 := qo
	q5.StoreID = "sto_9"
	q6 := q3
	q6.Codes = false // sto_2 is not under P4: nothing read
	qs := []storage.PlaceQuery{q, q2, q3, qo, q4, q5, q, qn, q6, qo}
	var ds []*storage.PlaceData
	b.read(t, func(tx storage.Tx) (err error) {
		ds, err = placeReadMany(t, b, tx, qs)
		return err
	})
	if len(ds) != len(qs) {
		t.Fatalf("PlaceReads answered %d of %d queries", len(ds), len(qs))
	}
	for i, q := range qs {
		wantEqual(t, fmt.Sprintf("PlaceReads answer %d", i), read(q), ds[i])
	}
}

// testPlaceOrders checks the batched write of placed orders: every event,
// order, visitor and entry, and storage.ErrExists for an event or order that
// exists, leaving nothing once rolled back.
func testPlaceOrders(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	var p storage.PlacedOrders
	for _, id := range []string{"o1", "o2"} {
		o := newOrder(b, "sto_1", id)
		if id == "o2" {
			o.Attribution = &promokit.Attribution{Program: promokit.ProgramAffiliate, LinkID: "lnk_1", PartnerID: "ptn_1", ClickID: 42, ClickedAt: b.at(-time.Hour)}
			o.Lines[0].Rate, o.Lines[0].RateID, o.Lines[0].RateSource = 500, 7, "general"
		}
		p.Orders = append(p.Orders, o)
		p.Events = append(p.Events, &promokit.OrderEvent{StoreID: "sto_1", ID: id + "-placed", OrderID: id, Type: promokit.EventPlaced,
			RequestHash: []byte{1, 2}, At: b.now, CreatedAt: b.now})
		p.Entries = append(p.Entries, &promokit.LedgerEntry{Payer: "sto_1", Payee: "ptn_1", StoreID: "sto_1", OrderID: id, Line: 1,
			Program: promokit.ProgramAffiliate, Rule: promokit.RuleAffiliate, Status: promokit.LedgerPending, Kind: promokit.EntryAccrued,
			Amount: 500, Currency: "USD", Basis: 10000, Rate: 500, EventID: id + "-placed", CreatedAt: b.now})
	}
	// The same binding twice in a batch is written once; another store's
	// binding of the same customer and visitor is a row of its own.
	p.Visitors = []storage.VisitorSeen{
		{StoreID: "sto_1", CustomerID: "cus_1", VisitorID: "vis_1", Seen: b.now},
		{StoreID: "sto_2", CustomerID: "cus_1", VisitorID: "vis_2", Seen: b.now},
		{StoreID: "sto_1", CustomerID: "cus_1", VisitorID: "vis_1", Seen: b.at(-time.Minute)},
	}
	b.write(t, func(tx storage.Tx) error { return storage.OrderPlaceMany(b.ctx, tx, p) })
	if p.Entries[0].ID == 0 || p.Entries[1].ID <= p.Entries[0].ID {
		t.Fatalf("entry ids %d, %d: want set and increasing", p.Entries[0].ID, p.Entries[1].ID)
	}
	for _, o := range p.Orders {
		wantEqual(t, "order "+o.ID, o, mustGetOrder(t, b, "sto_1", o.ID))
	}
	b.read(t, func(tx storage.Tx) error {
		e, err := tx.OrderEventGet(b.ctx, "sto_1", "o2-placed")
		if err != nil {
			return err
		}
		wantEqual(t, "event", p.Events[1], e)
		vs, err := tx.VisitorList(b.ctx, "sto_1", "cus_1", 10)
		if err != nil || len(vs) != 1 || vs[0] != "vis_1" {
			t.Fatalf("visitors = %v, %v", vs, err)
		}
		if vs, err := tx.VisitorList(b.ctx, "sto_2", "cus_1", 10); err != nil || len(vs) != 1 || vs[0] != "vis_2" {
			t.Fatalf("visitors at another store = %v, %v", vs, err)
		}
		es, err := tx.LedgerListByOrder(b.ctx, "sto_1", "o1")
		if err != nil || len(es) != 1 || es[0].Amount != 500 {
			t.Fatalf("entries of o1 = %v, %v", es, err)
		}
		return nil
	})

	// A batch with an event that exists fails whole.
	o3 := newOrder(b, "sto_1", "o3")
	dupEvent := storage.PlacedOrders{
		Events: []*promokit.OrderEvent{{StoreID: "sto_1", ID: "o3-placed", OrderID: "o3", Type: promokit.EventPlaced, At: b.now, CreatedAt: b.now}, p.Events[0]},
		Orders: []*promokit.Order{o3},
	}
	err := b.writeErr(func(tx storage.Tx) error { return storage.OrderPlaceMany(b.ctx, tx, dupEvent) })
	wantErr(t, "PlaceOrders with an event that exists", err, storage.ErrExists)
	dupOrder := storage.PlacedOrders{
		Events: []*promokit.OrderEvent{{StoreID: "sto_1", ID: "o1-again", OrderID: "o1", Type: promokit.EventPlaced, At: b.now, CreatedAt: b.now}},
		Orders: []*promokit.Order{newOrder(b, "sto_1", "o1")},
	}
	err = b.writeErr(func(tx storage.Tx) error { return storage.OrderPlaceMany(b.ctx, tx, dupOrder) })
	wantErr(t, "PlaceOrders with an order that exists", err, storage.ErrExists)
	err = b.readErr(func(tx storage.Tx) error {
		_, err := tx.OrderGet(b.ctx, "sto_1", "o3", false)
		return err
	})
	wantErr(t, "the order of a failed batch", err, storage.ErrNotFound)
}

// placeReadMany returns what storage.PlaceReadMany reads of qs on tx, and
// fails the test unless storage.PlaceReadManyInTurn reads the same on the
// same transaction: the database's PlaceReader, when its transactions have
// one, against the sequential path.
func placeReadMany(t *testing.T, b *bundle, tx storage.Tx, qs []storage.PlaceQuery) ([]*storage.PlaceData, error) {
	t.Helper()
	ds, err := storage.PlaceReadMany(b.ctx, tx, qs)
	if err != nil {
		return nil, err
	}
	inTurn, err := storage.PlaceReadManyInTurn(b.ctx, tx, qs)
	if err != nil {
		return nil, fmt.Errorf("PlaceReadManyInTurn: %w", err)
	}
	wantEqual(t, "PlaceReadMany against PlaceReadManyInTurn", sortedPlaces(inTurn), sortedPlaces(ds))
	return ds, nil
}

// sortedPlaces returns a copy of ds with what PlaceReadMany leaves
// unspecified made equal: each answer's rates sorted by product (the
// general rate first).
func sortedPlaces(ds []*storage.PlaceData) []*storage.PlaceData {
	out := make([]*storage.PlaceData, len(ds))
	for i, d := range ds {
		if d == nil {
			continue
		}
		c := *d
		c.Rates = slices.SortedFunc(slices.Values(d.Rates), func(a, b *promokit.Rate) int {
			return cmp.Or(strings.Compare(a.ProductID, b.ProductID), cmp.Compare(a.ID, b.ID))
		})
		out[i] = &c
	}
	return out
}
