package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// testKeys checks the round trip of keys, the look-up by hash and
// revocation.
func testKeys(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	mustCreatePartner(t, b, "par_1")
	keys := []*promokit.Key{
		{ID: "key_1", Name: "Admin", Role: promokit.RoleAdmin, Prefix: "pk_aaaaaaa", Hash: promokit.HashKey("a"), CreatedAt: b.now},
		{ID: "key_2", Role: promokit.RoleSeller, StoreID: "sto_1", Prefix: "pk_bbbbbbb", Hash: promokit.HashKey("b"), CreatedAt: b.at(time.Second)},
		{ID: "key_3", Name: "Partner", Role: promokit.RolePartner, PartnerID: "par_1", Prefix: "pk_ccccccc", Hash: promokit.HashKey("c"),
			CreatedAt: b.at(time.Minute), RevokedAt: ptr(b.at(time.Hour))},
	}
	b.write(t, func(tx storage.Tx) error {
		for _, k := range keys {
			if err := tx.KeyCreate(b.ctx, k); err != nil {
				return err
			}
		}
		return nil
	})
	for _, k := range keys {
		var byID, byHash *promokit.Key
		b.read(t, func(tx storage.Tx) (err error) {
			if byID, err = tx.KeyGet(b.ctx, k.ID); err != nil {
				return err
			}
			byHash, err = tx.KeyGetByHash(b.ctx, k.Hash)
			return err
		})
		wantEqual(t, "KeyGet "+k.ID, k, byID)
		wantEqual(t, "KeyGetByHash "+k.ID, k, byHash)
	}

	err := b.readErr(func(tx storage.Tx) error {
		_, err := tx.KeyGet(b.ctx, "key_missing")
		return err
	})
	wantErr(t, "KeyGet of a missing key", err, storage.ErrNotFound)
	err = b.readErr(func(tx storage.Tx) error {
		_, err := tx.KeyGetByHash(b.ctx, promokit.HashKey("unknown"))
		return err
	})
	wantErr(t, "KeyGetByHash of an unknown secret", err, storage.ErrNotFound)

	// Revocation sets revoked_at once.
	revoked := b.at(2 * time.Hour)
	b.write(t, func(tx storage.Tx) error { return tx.KeyRevoke(b.ctx, "key_2", revoked) })
	b.read(t, func(tx storage.Tx) error {
		k, err := tx.KeyGet(b.ctx, "key_2")
		if err != nil {
			return err
		}
		want := *keys[1]
		want.RevokedAt = &revoked
		wantEqual(t, "revoked key", &want, k)
		return nil
	})
	for _, id := range []string{"key_2", "key_3", "key_missing"} {
		err := b.writeErr(func(tx storage.Tx) error { return tx.KeyRevoke(b.ctx, id, b.at(3*time.Hour)) })
		wantErr(t, "RevokeKey "+id, err, storage.ErrNotFound)
	}
}

// testKeysList checks ListKeys' filters and pagination.
func testKeysList(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	mustCreateStore(t, b, "sto_2")
	mustCreatePartner(t, b, "par_1")
	var all []*promokit.Key
	for i := range 7 {
		k := &promokit.Key{ID: fmt.Sprintf("key_%02d", i), Role: promokit.RoleSeller, StoreID: "sto_1",
			Prefix: "pk_", Hash: promokit.HashKey(fmt.Sprint(i)), CreatedAt: b.now}
		switch i % 3 {
		case 1:
			k.StoreID = "sto_2"
		case 2:
			k.Role, k.StoreID, k.PartnerID = promokit.RolePartner, "", "par_1"
		}
		all = append(all, k)
	}
	// Created out of order: lists come ordered by id all the same.
	b.write(t, func(tx storage.Tx) error {
		for i := len(all) - 1; i >= 0; i-- {
			if err := tx.KeyCreate(b.ctx, all[i]); err != nil {
				return err
			}
		}
		return nil
	})
	list := func(f storage.KeyFilter) []*promokit.Key {
		var got []*promokit.Key
		b.read(t, func(tx storage.Tx) (err error) {
			got, err = tx.KeyList(b.ctx, f)
			return err
		})
		return got
	}
	wantEqual(t, "all keys", all, list(storage.KeyFilter{}))
	wantEqual(t, "keys of sto_1", []*promokit.Key{all[0], all[3], all[6]}, list(storage.KeyFilter{StoreID: "sto_1"}))
	wantEqual(t, "keys of par_1", []*promokit.Key{all[2], all[5]}, list(storage.KeyFilter{PartnerID: "par_1"}))
	wantEqual(t, "page 1", all[:3], list(storage.KeyFilter{Page: storage.Page{Limit: 3}}))
	wantEqual(t, "page 2", all[3:6], list(storage.KeyFilter{Page: storage.Page{After: all[2].ID, Limit: 3}}))
	wantEqual(t, "page 3", all[6:], list(storage.KeyFilter{Page: storage.Page{After: all[5].ID, Limit: 3}}))
	wantEqual(t, "page of sto_1", []*promokit.Key{all[6]}, list(storage.KeyFilter{StoreID: "sto_1", Page: storage.Page{After: all[3].ID}}))
}
