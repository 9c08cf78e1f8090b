package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// Links and the target of a click.

// newLink returns a link of a partner to a store.
func newLink(b *bundle, id, partnerID, storeID, productID string) *promokit.Link {
	return &promokit.Link{ID: id, Token: "tok-" + id, PartnerID: partnerID, StoreID: storeID, ProductID: productID,
		URL: "https://shop.example/" + storeID + "/" + productID, CreatedAt: b.now}
}

// mustCreateLinks creates links in one transaction.
func mustCreateLinks(t *testing.T, b *bundle, ls ...*promokit.Link) {
	t.Helper()
	b.write(t, func(tx storage.Tx) error {
		for _, l := range ls {
			if err := tx.LinkCreate(b.ctx, l); err != nil {
				return fmt.Errorf("create link %s: %w", l.ID, err)
			}
		}
		return nil
	})
}

// testLinks checks the round trip of links, their errors and their
// visibility: a store sees its links, a partner its own.
func testLinks(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	mustCreateStore(t, b, "sto_2")
	mustCreatePartner(t, b, "ptn_1")
	mustCreatePartner(t, b, "ptn_2")
	l1 := newLink(b, "lnk_1", "ptn_1", "sto_1", "")
	l2 := newLink(b, "lnk_2", "ptn_2", "sto_1", "prd_1")
	l3 := newLink(b, "lnk_3", "ptn_1", "sto_2", "prd_2")
	mustCreateLinks(t, b, l3, l1, l2)

	// A taken token leaves the transaction usable, so that a new token
	// can be tried in it.
	l4 := newLink(b, "lnk_4", "ptn_2", "sto_2", "")
	b.write(t, func(tx storage.Tx) error {
		dup := *l4
		dup.Token = l1.Token
		err := tx.LinkCreate(b.ctx, &dup)
		wantErr(t, "a link with a taken token", err, storage.ErrTaken)
		return tx.LinkCreate(b.ctx, l4)
	})
	err := b.writeErr(func(tx storage.Tx) error {
		dup := *l1
		dup.Token = "tok-new"
		return tx.LinkCreate(b.ctx, &dup)
	})
	wantErr(t, "a second link with one id", err, storage.ErrExists)
	err = b.writeErr(func(tx storage.Tx) error { return tx.LinkCreate(b.ctx, newLink(b, "lnk_8", "ptn_9", "sto_1", "")) })
	wantErr(t, "a link of a missing partner", err, storage.ErrNotFound)
	err = b.writeErr(func(tx storage.Tx) error { return tx.LinkCreate(b.ctx, newLink(b, "lnk_9", "ptn_1", "sto_9", "")) })
	wantErr(t, "a link to a missing store", err, storage.ErrNotFound)

	get := func(scope promokit.Scope, id string) (*promokit.Link, error) {
		var l *promokit.Link
		err := b.readErr(func(tx storage.Tx) (err error) {
			l, err = tx.LinkGet(b.ctx, scope, id)
			return err
		})
		return l, err
	}
	for _, tc := range []struct {
		scope promokit.Scope
		link  *promokit.Link
		found bool
	}{
		{promokit.Scope{}, l1, true},
		{promokit.Scope{StoreID: "sto_1"}, l2, true},
		{promokit.Scope{StoreID: "sto_1"}, l3, false},
		{promokit.Scope{PartnerID: "ptn_1"}, l3, true},
		{promokit.Scope{PartnerID: "ptn_1"}, l2, false},
		{promokit.Scope{StoreID: "sto_1", PartnerID: "ptn_1"}, l1, true},
		{promokit.Scope{StoreID: "sto_1", PartnerID: "ptn_1"}, l3, false},
	} {
		got, err := get(tc.scope, tc.link.ID)
		if !tc.found {
			wantErr(t, fmt.Sprintf("GetLink %s in scope %+v", tc.link.ID, tc.scope), err, storage.ErrNotFound)
			continue
		}
		if err != nil {
			t.Fatalf("GetLink %s in scope %+v: %v", tc.link.ID, tc.scope, err)
		}
		wantEqual(t, "link "+tc.link.ID, tc.link, got)
	}
	_, err = get(promokit.Scope{}, "lnk_9")
	wantErr(t, "GetLink of a missing link", err, storage.ErrNotFound)

	list := func(scope promokit.Scope, p storage.Page) []*promokit.Link {
		t.Helper()
		var got []*promokit.Link
		b.read(t, func(tx storage.Tx) (err error) {
			got, err = tx.LinkList(b.ctx, scope, p)
			return err
		})
		return got
	}
	wantEqual(t, "all links", []*promokit.Link{l1, l2, l3, l4}, list(promokit.Scope{}, storage.Page{Limit: 10}))
	wantEqual(t, "first page", []*promokit.Link{l1, l2}, list(promokit.Scope{}, storage.Page{Limit: 2}))
	wantEqual(t, "second page", []*promokit.Link{l3, l4}, list(promokit.Scope{}, storage.Page{After: "lnk_2", Limit: 2}))
	wantEqual(t, "a store's links", []*promokit.Link{l1, l2}, list(promokit.Scope{StoreID: "sto_1"}, storage.Page{Limit: 10}))
	wantEqual(t, "a partner's links", []*promokit.Link{l1, l3}, list(promokit.Scope{PartnerID: "ptn_1"}, storage.Page{Limit: 10}))
	wantEqual(t, "a partner's links after a cursor", []*promokit.Link{l3}, list(promokit.Scope{PartnerID: "ptn_1"}, storage.Page{After: "lnk_1", Limit: 10}))
	wantEqual(t, "a store and partner", []*promokit.Link{l3}, list(promokit.Scope{StoreID: "sto_2", PartnerID: "ptn_1"}, storage.Page{Limit: 10}))
	wantEqual(t, "links of a store without any", []*promokit.Link(nil), list(promokit.Scope{StoreID: "sto_9"}, storage.Page{Limit: 10}))
}

// testClickTarget checks that a token finds its link and the latest
// membership of the link's store, none before it joined.
func testClickTarget(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	mustCreateStore(t, b, "sto_2")
	mustCreatePartner(t, b, "ptn_1")
	l1 := newLink(b, "lnk_1", "ptn_1", "sto_1", "prd_1")
	mustCreateLinks(t, b, l1)
	target := func(token string) (*promokit.ClickTarget, error) {
		var ct *promokit.ClickTarget
		err := b.readErr(func(tx storage.Tx) (err error) {
			ct, err = tx.LinkGetTarget(b.ctx, token)
			return err
		})
		return ct, err
	}
	_, err := target("tok-none")
	wantErr(t, "ClickTarget of an unknown token", err, storage.ErrNotFound)
	got, err := target(l1.Token)
	if err != nil {
		t.Fatalf("ClickTarget: %v", err)
	}
	wantEqual(t, "target of a store that never joined", &promokit.ClickTarget{Link: l1}, got)

	// Another store's membership is not the link's store's.
	other := &promokit.Membership{ID: "mem_9", StoreID: "sto_2", JoinedAt: b.at(50 * 24 * time.Hour)}
	m1 := &promokit.Membership{ID: "mem_1", StoreID: "sto_1", URL: "https://shop.example/one", JoinedAt: b.now}
	b.write(t, func(tx storage.Tx) error {
		if err := tx.MembershipCreate(b.ctx, other); err != nil {
			return err
		}
		return tx.MembershipCreate(b.ctx, m1)
	})
	got, err = target(l1.Token)
	if err != nil {
		t.Fatalf("ClickTarget: %v", err)
	}
	wantEqual(t, "target of a member store", &promokit.ClickTarget{Link: l1, Membership: m1}, got)

	requested, exits := b.at(20*24*time.Hour), b.at(21*24*time.Hour)
	m2 := &promokit.Membership{ID: "mem_2", StoreID: "sto_1", URL: "https://shop.example/again", JoinedAt: b.at(30 * 24 * time.Hour)}
	b.write(t, func(tx storage.Tx) error {
		if err := tx.MembershipSetExit(b.ctx, "mem_1", requested, exits); err != nil {
			return err
		}
		return tx.MembershipCreate(b.ctx, m2)
	})
	got, err = target(l1.Token)
	if err != nil {
		t.Fatalf("ClickTarget: %v", err)
	}
	wantEqual(t, "target after a rejoin", &promokit.ClickTarget{Link: l1, Membership: m2}, got)

	// Exited, without rejoining: the exit is on the membership returned.
	b.write(t, func(tx storage.Tx) error {
		return tx.MembershipSetExit(b.ctx, "mem_2", b.at(50*24*time.Hour), b.at(51*24*time.Hour))
	})
	m2.ExitRequestedAt, m2.ExitsAt = ptr(b.at(50*24*time.Hour)), ptr(b.at(51*24*time.Hour))
	got, err = target(l1.Token)
	if err != nil {
		t.Fatalf("ClickTarget: %v", err)
	}
	wantEqual(t, "target after an exit", &promokit.ClickTarget{Link: l1, Membership: m2}, got)

	// The store's redirect hosts come with the target; another store's do
	// not.
	b.write(t, func(tx storage.Tx) error {
		for id, hosts := range map[string][]string{"sto_1": {"shop.example", "*.shop.example"}, "sto_2": {"other.example"}} {
			st, err := tx.StoreGet(b.ctx, id, true)
			if err != nil {
				return err
			}
			st.RedirectHosts = hosts
			if err := tx.StoreUpdate(b.ctx, st); err != nil {
				return err
			}
		}
		return nil
	})
	got, err = target(l1.Token)
	if err != nil {
		t.Fatalf("ClickTarget: %v", err)
	}
	wantEqual(t, "target of a store with redirect hosts",
		&promokit.ClickTarget{Link: l1, Membership: m2, RedirectHosts: []string{"shop.example", "*.shop.example"}}, got)
}
