package storagetest

import (
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// testRedemptions checks the round trip of redemptions, the one-code-per-
// order key, the one-codeless-row-per-promotion-per-order key of automatic
// promotions, and state moves.
func testRedemptions(t *testing.T, b *bundle) {
	hold := b.at(15 * time.Minute)
	r := &promokit.Redemption{StoreID: "sto_1", OrderID: "ord-1", Code: "A-1", PromotionID: "prm_1", CustomerKey: "c:cus_1",
		Discount: 250, State: promokit.RedemptionHeld, RequestHash: []byte{1, 2, 3}, HoldUntil: &hold, CreatedAt: b.now, UpdatedAt: b.now}
	r2 := &promokit.Redemption{StoreID: "sto_1", OrderID: "ord-1", Code: "B-1", PromotionID: "prm_2",
		Discount: 100, State: promokit.RedemptionRedeemed, RequestHash: []byte{1, 2, 3}, CreatedAt: b.now, UpdatedAt: b.now}
	b.write(t, func(tx storage.Tx) error {
		if err := tx.RedemptionCreate(b.ctx, r); err != nil {
			return err
		}
		return tx.RedemptionCreate(b.ctx, r2)
	})
	err := b.writeErr(func(tx storage.Tx) error {
		dup := *r
		return tx.RedemptionCreate(b.ctx, &dup)
	})
	wantErr(t, "a second redemption of a code by one order", err, storage.ErrExists)
	var moved, stale bool
	b.write(t, func(tx storage.Tx) (err error) {
		if moved, err = tx.RedemptionSetState(b.ctx, storage.RedemptionStateChange{ID: r.ID, From: promokit.RedemptionHeld, To: promokit.RedemptionRedeemed, HoldUntil: nil, Now: b.at(time.Minute)}); err != nil {
			return err
		}
		stale, err = tx.RedemptionSetState(b.ctx, storage.RedemptionStateChange{ID: r.ID, From: promokit.RedemptionHeld, To: promokit.RedemptionReleased, HoldUntil: nil, Now: b.at(time.Minute)})
		return err
	})
	if !moved || stale {
		t.Fatalf("state moves: %v %v", moved, stale)
	}
	var got []*promokit.Redemption
	b.read(t, func(tx storage.Tx) (err error) {
		got, err = tx.RedemptionListByOrder(b.ctx, "sto_1", "ord-1")
		return err
	})
	r.State, r.UpdatedAt, r.HoldUntil = promokit.RedemptionRedeemed, b.at(time.Minute), nil
	wantEqual(t, "redemptions", []*promokit.Redemption{r, r2}, got)
	// Codeless rows (Code empty: automatic promotions): one per promotion
	// per order, beside the order's codes, even of a promotion with a row
	// of a code.
	codeless := func(order, promotion string) *promokit.Redemption {
		return &promokit.Redemption{StoreID: "sto_1", OrderID: order, PromotionID: promotion, CustomerKey: "c:cus_1", Discount: 75,
			State: promokit.RedemptionRedeemed, RequestHash: []byte{1, 2, 3}, CreatedAt: b.now, UpdatedAt: b.now}
	}
	a1, a2, a3, other := codeless("ord-1", "prm_3"), codeless("ord-1", "prm_4"), codeless("ord-1", "prm_1"), codeless("ord-9", "prm_3")
	b.write(t, func(tx storage.Tx) error {
		return tx.RedemptionCreateMany(b.ctx, []*promokit.Redemption{a1, a2, a3, other})
	})
	for _, dup := range []*promokit.Redemption{codeless("ord-1", "prm_3"), codeless("ord-9", "prm_3")} {
		err := b.writeErr(func(tx storage.Tx) error { return tx.RedemptionCreate(b.ctx, dup) })
		wantErr(t, "a second codeless redemption of a promotion by one order", err, storage.ErrExists)
	}
	b.read(t, func(tx storage.Tx) (err error) {
		got, err = tx.RedemptionListByOrder(b.ctx, "sto_1", "ord-1")
		return err
	})
	wantEqual(t, "redemptions with codeless ones", []*promokit.Redemption{r, r2, a1, a2, a3}, got)
	b.read(t, func(tx storage.Tx) (err error) {
		got, err = tx.RedemptionListByOrderMany(b.ctx, "sto_1", []string{"ord-9", "ord-1"})
		return err
	})
	wantEqual(t, "orders' redemptions with codeless ones", []*promokit.Redemption{r, r2, a1, a2, a3, other}, got)
	// Holds that have ended, oldest first.
	h1 := &promokit.Redemption{StoreID: "sto_1", OrderID: "ord-2", Code: "A-1", PromotionID: "prm_1", Discount: 1, State: promokit.RedemptionHeld,
		RequestHash: []byte{9}, HoldUntil: ptr(b.at(2 * time.Minute)), CreatedAt: b.now, UpdatedAt: b.now}
	h2 := &promokit.Redemption{StoreID: "sto_1", OrderID: "ord-3", Code: "A-1", PromotionID: "prm_1", Discount: 1, State: promokit.RedemptionHeld,
		RequestHash: []byte{9}, HoldUntil: ptr(b.at(time.Minute)), CreatedAt: b.now, UpdatedAt: b.now}
	live := &promokit.Redemption{StoreID: "sto_1", OrderID: "ord-4", Code: "A-1", PromotionID: "prm_1", Discount: 1, State: promokit.RedemptionHeld,
		RequestHash: []byte{9}, HoldUntil: ptr(b.at(time.Hour)), CreatedAt: b.now, UpdatedAt: b.now}
	b.write(t, func(tx storage.Tx) error {
		for _, h := range []*promokit.Redemption{h1, h2, live} {
			if err := tx.RedemptionCreate(b.ctx, h); err != nil {
				return err
			}
		}
		return nil
	})
	b.read(t, func(tx storage.Tx) (err error) {
		got, err = tx.RedemptionListExpiredHolds(b.ctx, b.at(2*time.Minute), 10)
		return err
	})
	wantEqual(t, "expired holds", []*promokit.Redemption{h2, h1}, got)
	b.read(t, func(tx storage.Tx) (err error) {
		got, err = tx.RedemptionListByOrder(b.ctx, "sto_2", "ord-1")
		return err
	})
	if len(got) != 0 {
		t.Fatalf("another store's order: %+v", got)
	}
}

// testRedemptionsByCode checks a code's usage history: its redemptions in
// every state, by id, paged by the last id, without another code's rows or
// codeless ones, and a cursor that is not an id refused.
func testRedemptionsByCode(t *testing.T, b *bundle) {
	row := func(order, code string, state string, at time.Duration) *promokit.Redemption {
		r := &promokit.Redemption{StoreID: "sto_1", OrderID: order, Code: code, PromotionID: "prm_1", CustomerKey: "c:cus_1",
			Discount: 100, State: state, RequestHash: []byte{7}, CreatedAt: b.at(at), UpdatedAt: b.at(at)}
		if state == promokit.RedemptionHeld {
			r.HoldUntil = ptr(b.at(at + 15*time.Minute))
		}
		return r
	}
	a1 := row("ord-1", "A-1", promokit.RedemptionRedeemed, time.Minute)
	other := row("ord-1", "B-1", promokit.RedemptionRedeemed, time.Minute)
	codeless := row("ord-1", "", promokit.RedemptionRedeemed, time.Minute)
	a2 := row("ord-2", "A-1", promokit.RedemptionHeld, 2*time.Minute)
	a3 := row("ord-3", "A-1", promokit.RedemptionRolledBack, 3*time.Minute)
	a4 := row("ord-4", "A-1", promokit.RedemptionReleased, 4*time.Minute)
	b.write(t, func(tx storage.Tx) error {
		return tx.RedemptionCreateMany(b.ctx, []*promokit.Redemption{a1, other, codeless, a2, a3})
	})
	b.write(t, func(tx storage.Tx) error { return tx.RedemptionCreate(b.ctx, a4) })
	list := func(code string, p storage.IDPage) []*promokit.Redemption {
		t.Helper()
		var got []*promokit.Redemption
		b.read(t, func(tx storage.Tx) (err error) {
			got, err = tx.RedemptionListByCode(b.ctx, code, p)
			return err
		})
		return got
	}
	wantEqual(t, "a code's redemptions", []*promokit.Redemption{a1, a2, a3, a4}, list("A-1", storage.IDPage{}))
	page := list("A-1", storage.IDPage{Limit: 3})
	wantEqual(t, "first page", []*promokit.Redemption{a1, a2, a3}, page)
	wantEqual(t, "second page", []*promokit.Redemption{a4}, list("A-1", storage.IDPage{After: page[len(page)-1].ID, Limit: 3}))
	wantEqual(t, "past the last", []*promokit.Redemption{}, list("A-1", storage.IDPage{After: a4.ID, Limit: 3}))
	wantEqual(t, "another code's", []*promokit.Redemption{other}, list("B-1", storage.IDPage{}))
	wantEqual(t, "a code without redemptions", []*promokit.Redemption{}, list("C-1", storage.IDPage{}))
	wantEqual(t, "codeless rows", []*promokit.Redemption{}, list("", storage.IDPage{}))
	// A state move shows in the history: the hold of ord-2 is redeemed.
	b.write(t, func(tx storage.Tx) error {
		_, err := tx.RedemptionSetState(b.ctx, storage.RedemptionStateChange{ID: a2.ID, From: promokit.RedemptionHeld,
			To: promokit.RedemptionRedeemed, Now: b.at(5 * time.Minute)})
		return err
	})
	a2.State, a2.HoldUntil, a2.UpdatedAt = promokit.RedemptionRedeemed, nil, b.at(5*time.Minute)
	wantEqual(t, "after a state move", []*promokit.Redemption{a2}, list("A-1", storage.IDPage{After: a1.ID, Limit: 1}))
}
