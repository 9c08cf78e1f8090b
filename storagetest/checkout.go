package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// testBatches checks the batch methods of the checkout against their
// single-object counterparts: the same conditions, many objects at once.
func testBatches(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	mustCreateStore(t, b, "sto_2")
	p1, p2 := newPromotion(b, "sto_1", "prm_1"), newPromotion(b, "sto_1", "prm_2")
	p1.TotalUses, p1.TotalDiscount = ptr(int64(10)), ptr(int64(1000))
	foreign := newPromotion(b, "sto_2", "prm_3")
	// Automatic promotions: one live, one not started, one of another store.
	live, later, elsewhere := newPromotion(b, "sto_1", "prm_4"), newPromotion(b, "sto_1", "prm_5"), newPromotion(b, "sto_2", "prm_6")
	later.StartsAt = b.at(time.Hour)
	for _, p := range []*promokit.Promotion{live, later, elsewhere} {
		p.Automatic = true
	}
	mustCreatePromotions(t, b, p1, p2, foreign, live, later, elsewhere)
	limited := newCode(p1, "LIM-1", b.now)
	limited.UsageLimit = ptr(int64(2))
	mustCreateCodes(t, b, limited, newCode(p1, "FREE-1", b.now), newCode(p2, "FREE-2", b.now), newCode(foreign, "FOREIGN-1", b.now))

	var got []*promokit.Promotion
	b.read(t, func(tx storage.Tx) (err error) {
		got, err = tx.PromotionGetMany(b.ctx, promokit.Scope{StoreID: "sto_1"}, []string{"prm_2", "prm_1", "prm_3", "prm_none"})
		return err
	})
	slices.SortFunc(got, func(a, b *promokit.Promotion) int { return strings.Compare(a.ID, b.ID) })
	wantEqual(t, "promotions of a store", []*promokit.Promotion{mustGetPromotion(t, b, promokit.Scope{}, "prm_1"), mustGetPromotion(t, b, promokit.Scope{}, "prm_2")}, got)

	// UsageTakeMany within every limit adds each use and inserts the rows.
	red := func(store, order, code string) *promokit.Redemption {
		return &promokit.Redemption{StoreID: store, OrderID: order, Code: code, PromotionID: "prm_1", Discount: 10,
			State: promokit.RedemptionRedeemed, RequestHash: []byte(order), CreatedAt: b.now, UpdatedAt: b.now}
	}
	two := ptr(int64(2))
	take := func(u storage.Uses) bool {
		t.Helper()
		var ok bool
		err := b.writeErr(func(tx storage.Tx) (err error) {
			if ok, err = storage.UsageTakeMany(b.ctx, tx, u); err == nil && !ok {
				err = errors.New("did not fit")
			}
			return err
		})
		if err != nil && ok {
			t.Fatal(err)
		}
		return ok
	}
	// Two orders of one batch apply the automatic promotion prm_4: two
	// codeless rows; a use of the empty code has no counter to take.
	auto := func(order string) *promokit.Redemption {
		r := red("sto_1", order, "")
		r.PromotionID = "prm_4"
		return r
	}
	rs := []*promokit.Redemption{red("sto_1", "o1", "FREE-1"), red("sto_1", "o1", "LIM-1"), red("sto_1", "o2", "FREE-1"), auto("o1"), auto("o2"),
		red("sto_2", "o1", "FREE-1")}
	if !take(storage.Uses{
		Promotions: []storage.PromotionUse{{ID: "prm_1", Uses: 3, Discount: 30}, {ID: "prm_2", Uses: 1, Discount: 5}, {ID: "prm_4", Uses: 2, Discount: 20}},
		Codes:      []storage.CodeUse{{Code: "", Uses: 2}, {Code: "FREE-1", Uses: 5}, {Code: "LIM-1", Uses: 2}},
		Customers: []storage.CustomerUse{{UsageKey: storage.UsageKey{Subject: "prm_1", CustomerKey: "e:a"}, Uses: 2, Limit: two},
			{UsageKey: storage.UsageKey{Subject: "code:FREE-1", CustomerKey: "e:a"}, Uses: 7}},
		Redemptions: rs,
	}) {
		t.Fatal("uses within every limit did not fit")
	}
	for _, r := range rs {
		if r.ID == 0 {
			t.Fatalf("redemption %s/%s has no id", r.OrderID, r.Code)
		}
	}
	// Each limit refuses a batch past it, and the rollback leaves nothing.
	for name, u := range map[string]storage.Uses{
		"promotion": {Promotions: []storage.PromotionUse{{ID: "prm_1", Uses: 8}}},
		"budget":    {Promotions: []storage.PromotionUse{{ID: "prm_1", Uses: 1, Discount: 971}}},
		"code":      {Codes: []storage.CodeUse{{Code: "FREE-2", Uses: 1}, {Code: "LIM-1", Uses: 1}}},
		"customer":  {Customers: []storage.CustomerUse{{UsageKey: storage.UsageKey{Subject: "prm_1", CustomerKey: "e:a"}, Uses: 1, Limit: two}}},
		"first use": {Customers: []storage.CustomerUse{{UsageKey: storage.UsageKey{Subject: "prm_1", CustomerKey: "e:c"}, Uses: 3, Limit: two}}},
		"row":       {Codes: []storage.CodeUse{{Code: "FREE-2", Uses: 1}}, Redemptions: []*promokit.Redemption{red("sto_1", "o1", "FREE-1")}},
		"codeless":  {Codes: []storage.CodeUse{{Code: "FREE-2", Uses: 1}}, Redemptions: []*promokit.Redemption{auto("o1")}},
	} {
		ok := false
		err := b.writeErr(func(tx storage.Tx) (err error) {
			ok, err = storage.UsageTakeMany(b.ctx, tx, u)
			if err == nil && !ok {
				err = errors.New("did not fit")
			}
			return err
		})
		if ok || err == nil {
			t.Fatalf("%s: a batch past the limit was taken", name)
		}
		if name == "row" || name == "codeless" {
			wantErr(t, "a second redemption of a code or an automatic promotion in a batch", err, storage.ErrExists)
		}
	}
	if p := mustGetPromotion(t, b, promokit.Scope{}, "prm_1"); p.Uses != 3 || p.DiscountSpent != 30 {
		t.Fatalf("prm_1: %d uses, %d spent; want 3 and 30", p.Uses, p.DiscountSpent)
	}
	if p := mustGetPromotion(t, b, promokit.Scope{}, "prm_4"); p.Uses != 2 || p.DiscountSpent != 20 {
		t.Fatalf("prm_4: %d uses, %d spent; want 2 and 20", p.Uses, p.DiscountSpent)
	}
	for code, want := range map[string]int64{"FREE-1": 5, "LIM-1": 2, "FREE-2": 0} {
		if c := mustGetCode(t, b, promokit.Scope{}, code); c.Uses != want {
			t.Fatalf("code %s: %d uses, want %d", code, c.Uses, want)
		}
	}
	var usage map[storage.UsageKey]int64
	b.read(t, func(tx storage.Tx) (err error) {
		usage, err = tx.UsageCustomerGetMany(b.ctx, []storage.UsageKey{{Subject: "prm_1", CustomerKey: "e:a"}, {Subject: "prm_1", CustomerKey: "e:b"},
			{Subject: "prm_1", CustomerKey: "e:c"}, {Subject: "code:FREE-1", CustomerKey: "e:a"}, {Subject: "prm_2", CustomerKey: "e:a"}})
		return err
	})
	wantEqual(t, "customer usages", map[storage.UsageKey]int64{{Subject: "prm_1", CustomerKey: "e:a"}: 2,
		{Subject: "code:FREE-1", CustomerKey: "e:a"}: 7}, usage)

	// Redemptions inserted together are read by order; a failed batch
	// left none.
	var orders []*promokit.Redemption
	b.read(t, func(tx storage.Tx) (err error) {
		orders, err = tx.RedemptionListByOrderMany(b.ctx, "sto_1", []string{"o2", "o1", "o9"})
		return err
	})
	wantEqual(t, "orders' redemptions", rs[:5], orders)
	err := b.writeErr(func(tx storage.Tx) error {
		return tx.RedemptionCreateMany(b.ctx, []*promokit.Redemption{red("sto_1", "o3", "FREE-1"), red("sto_1", "o1", "FREE-1")})
	})
	wantErr(t, "a second redemption of a code in a batch", err, storage.ErrExists)
	b.read(t, func(tx storage.Tx) (err error) {
		orders, err = tx.RedemptionListByOrderMany(b.ctx, "sto_1", []string{"o3"})
		return err
	})
	if len(orders) != 0 {
		t.Fatalf("a failed batch left %+v", orders)
	}

	// CheckoutRead: the settings, the store, its orders' rows, its codes
	// among those asked and their promotions, and its automatic promotions
	// live at the time asked; another store's code is not read, and a
	// missing store is nil.
	settings := promokit.DefaultSettings(b.now)
	b.write(t, func(tx storage.Tx) error {
		_, err := tx.SettingsInit(b.ctx, &settings)
		return err
	})
	var d *storage.CheckoutData
	b.read(t, func(tx storage.Tx) (err error) {
		d, err = checkoutRead(t, b, tx, storage.CheckoutQuery{StoreID: "sto_1", OrderIDs: []string{"o2", "o9"}, Codes: []string{"FREE-1", "FREE-2", "NONE", "FOREIGN-1"}, Now: b.now})
		return err
	})
	slices.SortFunc(d.Codes, func(a, b *promokit.Code) int { return strings.Compare(a.Code, b.Code) })
	slices.SortFunc(d.Promotions, func(a, b *promokit.Promotion) int { return strings.Compare(a.ID, b.ID) })
	if d.Settings == nil || d.Settings.Currency != settings.Currency || d.Store == nil || d.Store.ID != "sto_1" || len(d.Prior) != 2 || d.Prior[0].OrderID != "o2" || d.Prior[1].OrderID != "o2" || d.Prior[1].Code != "" ||
		len(d.Codes) != 2 || d.Codes[0].Code != "FREE-1" || d.Codes[1].Code != "FREE-2" ||
		len(d.Promotions) != 2 || d.Promotions[0].ID != "prm_1" || d.Promotions[1].ID != "prm_2" {
		t.Fatalf("checkout read: %+v", d)
	}
	wantEqual(t, "live automatic promotions", []*promokit.Promotion{mustGetPromotion(t, b, promokit.Scope{}, "prm_4")}, d.Automatic)
	b.read(t, func(tx storage.Tx) (err error) {
		d, err = checkoutRead(t, b, tx, storage.CheckoutQuery{StoreID: "sto_1", Now: b.at(time.Hour)})
		return err
	})
	if len(d.Automatic) != 2 || d.Automatic[0].ID != "prm_4" || d.Automatic[1].ID != "prm_5" || d.Store == nil || len(d.Codes) != 0 {
		t.Fatalf("checkout read without codes, an hour later: %+v", d)
	}
	b.read(t, func(tx storage.Tx) (err error) {
		d, err = checkoutRead(t, b, tx, storage.CheckoutQuery{StoreID: "sto_none", OrderIDs: []string{"o1"}, Codes: []string{"FREE-1"}, Now: b.now})
		return err
	})
	if d.Settings == nil || d.Store != nil || len(d.Codes) != 0 {
		t.Fatalf("checkout read of a missing store: %+v", d)
	}

	// CartReadMany reads for a batch of carts over several stores what
	// CheckoutRead reads of each store for its carts' codes, the failed
	// look-ups asked, and the counters of the carts' customers: of their
	// codes' promotions, of their codes with a per-customer limit (not
	// FREE-1's) and of their stores' automatic promotions with one.
	perCode := newCode(p1, "PER-1", b.now)
	perCode.PerCustomerLimit = ptr(int64(5))
	mustCreateCodes(t, b, perCode)
	perAuto := newPromotion(b, "sto_2", "prm_7")
	perAuto.Automatic, perAuto.PerCustomer = true, ptr(int64(3))
	mustCreatePromotions(t, b, perAuto)
	window := b.now.Truncate(time.Minute)
	b.write(t, func(tx storage.Tx) error {
		if ok, err := storage.UsageTakeMany(b.ctx, tx, storage.Uses{Customers: []storage.CustomerUse{
			{UsageKey: storage.UsageKey{Subject: "code:PER-1", CustomerKey: "e:a"}, Uses: 1, Limit: ptr(int64(5))},
			{UsageKey: storage.UsageKey{Subject: "prm_7", CustomerKey: "e:b"}, Uses: 1, Limit: ptr(int64(3))},
		}}); err != nil || !ok {
			return fmt.Errorf("take the counters: %v, %w", ok, err)
		}
		return tx.LookupFailureAddMany(b.ctx, window, []string{"key:key_1"}, []int64{3})
	})
	q := &storage.CartsQuery{
		Carts: []storage.CartOf{
			{StoreID: "sto_1", CustomerKey: "e:a", Codes: []string{"FREE-1", "PER-1", "NONE"}},
			{StoreID: "sto_1", Codes: []string{"FREE-2", "FOREIGN-1"}},
			{StoreID: "sto_2", CustomerKey: "e:b", Codes: []string{"FOREIGN-1"}},
			{StoreID: "sto_2", CustomerKey: "e:a"},
			{StoreID: "sto_none", CustomerKey: "e:b", Codes: []string{"FREE-1"}},
		},
		Now:      b.now,
		Failures: map[time.Time][]string{window: {"key:key_1", "addr:192.0.2.1"}},
	}
	var carts *storage.CartsData
	b.read(t, func(tx storage.Tx) (err error) {
		carts, err = cartReadMany(t, b, tx, q)
		return err
	})
	wantEqual(t, "settings of the cart reads", &settings, carts.Settings)
	byStore := storage.CodesByStore(q.Carts)
	if len(carts.Stores) != len(byStore) {
		t.Fatalf("cart reads of %d stores, want %d", len(carts.Stores), len(byStore))
	}
	for storeID, values := range byStore {
		b.read(t, func(tx storage.Tx) (err error) {
			d, err = checkoutRead(t, b, tx, storage.CheckoutQuery{StoreID: storeID, Codes: values, Now: b.now})
			return err
		})
		got := carts.Stores[storeID]
		for _, cd := range []*storage.CheckoutData{d, got} {
			slices.SortFunc(cd.Codes, func(a, b *promokit.Code) int { return strings.Compare(a.Code, b.Code) })
			slices.SortFunc(cd.Promotions, func(a, b *promokit.Promotion) int { return strings.Compare(a.ID, b.ID) })
		}
		wantEqual(t, "cart reads of "+storeID+" against its checkout read", d, got)
	}
	if s1 := carts.Stores["sto_1"]; len(s1.Codes) != 3 || len(s1.Promotions) != 2 || carts.Stores["sto_none"].Store != nil {
		t.Fatalf("cart reads: sto_1 %+v, sto_none %+v", s1, carts.Stores["sto_none"])
	}
	wantEqual(t, "failed look-ups of the cart reads", map[time.Time]map[string]int64{window: {"key:key_1": 3}}, carts.Failures)
	wantEqual(t, "counters of the cart reads", map[storage.UsageKey]int64{{Subject: "prm_1", CustomerKey: "e:a"}: 2,
		{Subject: "code:PER-1", CustomerKey: "e:a"}: 1, {Subject: "prm_7", CustomerKey: "e:b"}: 1}, carts.Usage)

	// Refreshing the codes' statistics works on a table in use.
	if err := b.store.CodeAnalyze(b.ctx); err != nil {
		t.Fatalf("CodeAnalyze: %v", err)
	}

	// A savepoint undoes what fails inside it, even a failed statement,
	// and the transaction goes on.
	b.write(t, func(tx storage.Tx) error {
		err := tx.Savepoint(b.ctx, func() error {
			if _, err := tx.UsageCodeAdd(b.ctx, "FREE-2", 10); err != nil {
				return err
			}
			return tx.RedemptionCreate(b.ctx, red("sto_1", "o1", "FREE-1"))
		})
		wantErr(t, "a conflict inside a savepoint", err, storage.ErrExists)
		return tx.Savepoint(b.ctx, func() error {
			_, err := tx.UsageCodeAdd(b.ctx, "FREE-2", 1)
			return err
		})
	})
	if c := mustGetCode(t, b, promokit.Scope{}, "FREE-2"); c.Uses != 1 {
		t.Fatalf("FREE-2 has %d uses after the savepoints, want 1", c.Uses)
	}
}

// checkoutRead returns what storage.CheckoutRead reads of q on tx, and
// fails the test unless storage.CheckoutReadInTurn reads the same on the
// same transaction: the database's CheckoutReader, when its transactions
// have one, against the sequential path.
func checkoutRead(t *testing.T, b *bundle, tx storage.Tx, q storage.CheckoutQuery) (*storage.CheckoutData, error) {
	t.Helper()
	d, err := storage.CheckoutRead(b.ctx, tx, q)
	if err != nil {
		return nil, err
	}
	inTurn, err := storage.CheckoutReadInTurn(b.ctx, tx, q)
	if err != nil {
		return nil, fmt.Errorf("CheckoutReadInTurn: %w", err)
	}
	wantEqual(t, "CheckoutRead against CheckoutReadInTurn", sortedCheckout(inTurn), sortedCheckout(d))
	return d, nil
}

// cartReadMany returns what storage.CartReadMany reads of q on tx, and
// fails the test unless storage.CartReadManyInTurn reads the same on the
// same transaction: the database's CartReader, when its transactions have
// one, against the sequential path.
func cartReadMany(t *testing.T, b *bundle, tx storage.Tx, q *storage.CartsQuery) (*storage.CartsData, error) {
	t.Helper()
	d, err := storage.CartReadMany(b.ctx, tx, q)
	if err != nil {
		return nil, err
	}
	inTurn, err := storage.CartReadManyInTurn(b.ctx, tx, q)
	if err != nil {
		return nil, fmt.Errorf("CartReadManyInTurn: %w", err)
	}
	wantEqual(t, "CartReadMany against CartReadManyInTurn", sortedCarts(inTurn), sortedCarts(d))
	return d, nil
}

// sortedCheckout returns a copy of d with its codes sorted by value and
// its promotions by id, the orders CheckoutRead leaves unspecified.
func sortedCheckout(d *storage.CheckoutData) *storage.CheckoutData {
	if d == nil {
		return nil
	}
	c := *d
	c.Codes = slices.SortedFunc(slices.Values(d.Codes), func(a, b *promokit.Code) int { return strings.Compare(a.Code, b.Code) })
	c.Promotions = slices.SortedFunc(slices.Values(d.Promotions), func(a, b *promokit.Promotion) int { return strings.Compare(a.ID, b.ID) })
	return &c
}

// sortedCarts returns a copy of d with each store's read sorted as
// sortedCheckout sorts it.
func sortedCarts(d *storage.CartsData) *storage.CartsData {
	if d == nil {
		return nil
	}
	c := *d
	c.Stores = make(map[string]*storage.CheckoutData, len(d.Stores))
	for id, cd := range d.Stores {
		c.Stores[id] = sortedCheckout(cd)
	}
	return &c
}
