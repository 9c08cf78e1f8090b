package storagetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// mustCreateStore creates a store with id.
func mustCreateStore(t *testing.T, b *bundle, id string) *promokit.Store {
	t.Helper()
	s := &promokit.Store{ID: id, Name: "Store " + id, CreatedAt: b.now}
	b.write(t, func(tx storage.Tx) error { return tx.StoreCreate(b.ctx, s) })
	return s
}

// mustCreatePartner creates a partner with id.
func mustCreatePartner(t *testing.T, b *bundle, id string) *promokit.Partner {
	t.Helper()
	p := &promokit.Partner{ID: id, Name: "Partner " + id, Kind: promokit.PartnerAffiliate, CreatedAt: b.now}
	b.write(t, func(tx storage.Tx) error { return tx.PartnerCreate(b.ctx, p) })
	return p
}

// testStores checks the round trip, update and listing of stores.
func testStores(t *testing.T, b *bundle) {
	var all []*promokit.Store
	for i := range 5 {
		all = append(all, &promokit.Store{ID: fmt.Sprintf("sto_%02d", i), Name: fmt.Sprintf("Store %d", i),
			PartnerPromoCodes: i%2 == 1, MaxPromotionsPerOrder: int64(i), CreatedAt: b.at(time.Duration(i) * time.Microsecond)})
	}
	all[1].RedirectHosts = []string{"shop.example.com", "*.shop.example.com"}
	b.write(t, func(tx storage.Tx) error {
		for _, s := range slices.Backward(all) {
			if err := tx.StoreCreate(b.ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
	for _, lock := range []bool{false, true} {
		get := func(tx storage.Tx) error {
			got, err := tx.StoreGet(b.ctx, all[1].ID, lock)
			if err != nil {
				return err
			}
			wantEqual(t, fmt.Sprintf("GetStore lock=%v", lock), all[1], got)
			return nil
		}
		if lock {
			b.write(t, get)
		} else {
			b.read(t, get)
		}
		err := b.writeErr(func(tx storage.Tx) error {
			_, err := tx.StoreGet(b.ctx, "sto_missing", lock)
			return err
		})
		wantErr(t, "GetStore of a missing store", err, storage.ErrNotFound)
	}

	upd := *all[2]
	upd.Name, upd.PartnerPromoCodes, upd.MaxPromotionsPerOrder = "Renamed", true, 3
	upd.RedirectHosts = []string{"*.example.org"}
	b.write(t, func(tx storage.Tx) error { return tx.StoreUpdate(b.ctx, &upd) })
	all[2] = &upd
	// An empty list clears the hosts.
	cleared := *all[1]
	cleared.RedirectHosts = nil
	b.write(t, func(tx storage.Tx) error { return tx.StoreUpdate(b.ctx, &cleared) })
	b.read(t, func(tx storage.Tx) error {
		got, err := tx.StoreGet(b.ctx, cleared.ID, false)
		if err == nil && (got.RedirectHosts == nil || len(got.RedirectHosts) != 0) {
			t.Fatalf("redirect hosts after clearing: %#v, want an empty list", got.RedirectHosts)
		}
		return err
	})
	all[1] = &cleared
	missing := &promokit.Store{ID: "sto_missing", Name: "Nobody"}
	err := b.writeErr(func(tx storage.Tx) error { return tx.StoreUpdate(b.ctx, missing) })
	wantErr(t, "UpdateStore of a missing store", err, storage.ErrNotFound)

	list := func(p storage.Page) []*promokit.Store {
		var got []*promokit.Store
		b.read(t, func(tx storage.Tx) (err error) {
			got, err = tx.StoreList(b.ctx, p)
			return err
		})
		return got
	}
	wantEqual(t, "all stores", all, list(storage.Page{}))
	wantEqual(t, "page 1", all[:2], list(storage.Page{Limit: 2}))
	wantEqual(t, "page 2", all[2:4], list(storage.Page{After: all[1].ID, Limit: 2}))
	wantEqual(t, "last page", all[4:], list(storage.Page{After: all[3].ID, Limit: 2}))
	wantEqual(t, "after the end", []*promokit.Store(nil), list(storage.Page{After: all[4].ID}))
}

// testPartners checks the round trip and listing of partners.
func testPartners(t *testing.T, b *bundle) {
	kinds := []promokit.PartnerKind{promokit.PartnerAffiliate, promokit.PartnerInfluencer, promokit.PartnerAgency, promokit.PartnerPromoter}
	var all []*promokit.Partner
	for i, kind := range kinds {
		all = append(all, &promokit.Partner{ID: fmt.Sprintf("par_%02d", i), Name: fmt.Sprintf("Partner %d", i), Kind: kind, CreatedAt: b.at(time.Duration(i) * time.Hour)})
	}
	b.write(t, func(tx storage.Tx) error {
		for _, p := range slices.Backward(all) {
			if err := tx.PartnerCreate(b.ctx, p); err != nil {
				return err
			}
		}
		return nil
	})
	b.read(t, func(tx storage.Tx) error {
		for _, want := range all {
			got, err := tx.PartnerGet(b.ctx, want.ID)
			if err != nil {
				return err
			}
			wantEqual(t, "GetPartner", want, got)
		}
		return nil
	})
	err := b.readErr(func(tx storage.Tx) error {
		_, err := tx.PartnerGet(b.ctx, "par_missing")
		return err
	})
	wantErr(t, "GetPartner of a missing partner", err, storage.ErrNotFound)

	list := func(p storage.Page) []*promokit.Partner {
		var got []*promokit.Partner
		b.read(t, func(tx storage.Tx) (err error) {
			got, err = tx.PartnerList(b.ctx, p)
			return err
		})
		return got
	}
	wantEqual(t, "all partners", all, list(storage.Page{}))
	wantEqual(t, "page 1", all[:3], list(storage.Page{Limit: 3}))
	wantEqual(t, "page 2", all[3:], list(storage.Page{After: all[2].ID, Limit: 3}))
}

// testProducts checks the round trip, replacement and listing of products
// and ProductMissing.
func testProducts(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	mustCreateStore(t, b, "sto_2")
	var mine []*promokit.Product
	for i := range 4 {
		mine = append(mine, &promokit.Product{StoreID: "sto_1", ID: fmt.Sprintf("SKU-%d", i), Name: fmt.Sprintf("Product %d", i),
			URL: fmt.Sprintf("https://shop.example/p/%d", i), CreatedAt: b.now, UpdatedAt: b.at(time.Duration(i) * time.Second)})
	}
	mine[3].URL = ""
	// The other store has a product with the same id: ids are per store.
	theirs := &promokit.Product{StoreID: "sto_2", ID: "SKU-1", Name: "Theirs", CreatedAt: b.now, UpdatedAt: b.now}
	only := &promokit.Product{StoreID: "sto_2", ID: "SKU-9", Name: "Only theirs", CreatedAt: b.now, UpdatedAt: b.now}
	b.write(t, func(tx storage.Tx) error {
		for _, p := range append(slices.Clone(mine), theirs, only) {
			if err := tx.ProductPut(b.ctx, p); err != nil {
				return err
			}
		}
		return nil
	})
	get := func(storeID, id string) (*promokit.Product, error) {
		var got *promokit.Product
		err := b.readErr(func(tx storage.Tx) (err error) {
			got, err = tx.ProductGet(b.ctx, storeID, id)
			return err
		})
		return got, err
	}
	for _, want := range append(slices.Clone(mine), theirs) {
		got, err := get(want.StoreID, want.ID)
		if err != nil {
			t.Fatalf("GetProduct %s/%s: %v", want.StoreID, want.ID, err)
		}
		wantEqual(t, "GetProduct", want, got)
	}
	_, err := get("sto_1", "SKU-9")
	wantErr(t, "GetProduct of another store's product", err, storage.ErrNotFound)

	// Putting an existing product replaces it.
	repl := *mine[1]
	repl.Name, repl.URL, repl.UpdatedAt = "Renamed", "https://shop.example/new", b.at(time.Hour)
	b.write(t, func(tx storage.Tx) error { return tx.ProductPut(b.ctx, &repl) })
	mine[1] = &repl
	got, err := get("sto_1", repl.ID)
	if err != nil {
		t.Fatalf("GetProduct after replace: %v", err)
	}
	wantEqual(t, "replaced product", &repl, got)
	if got, err := get("sto_2", "SKU-1"); err != nil || got.Name != "Theirs" {
		t.Fatalf("the other store's SKU-1 = %+v, %v; want it untouched", got, err)
	}

	list := func(storeID string, p storage.Page) []*promokit.Product {
		var got []*promokit.Product
		b.read(t, func(tx storage.Tx) (err error) {
			got, err = tx.ProductList(b.ctx, storeID, p)
			return err
		})
		return got
	}
	wantEqual(t, "products of sto_1", mine, list("sto_1", storage.Page{}))
	wantEqual(t, "page 2", mine[2:], list("sto_1", storage.Page{After: mine[1].ID, Limit: 2}))
	wantEqual(t, "products of sto_2", []*promokit.Product{theirs, only}, list("sto_2", storage.Page{}))

	var missing []string
	b.read(t, func(tx storage.Tx) (err error) {
		missing, err = tx.ProductMissing(b.ctx, "sto_1", []string{"SKU-3", "SKU-9", "SKU-0", "NOPE"})
		return err
	})
	slices.Sort(missing)
	wantEqual(t, "ProductMissing", []string{"NOPE", "SKU-9"}, missing)
	b.read(t, func(tx storage.Tx) (err error) {
		missing, err = tx.ProductMissing(b.ctx, "sto_1", []string{"SKU-0", "SKU-1"})
		return err
	})
	wantEqual(t, "ProductMissing of existing products", []string(nil), missing)
	b.read(t, func(tx storage.Tx) (err error) {
		missing, err = tx.ProductMissing(b.ctx, "sto_1", nil)
		return err
	})
	wantEqual(t, "ProductMissing of no products", []string(nil), missing)
}
