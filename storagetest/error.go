package storagetest

import (
	"errors"
	"testing"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// testErrors checks the contract of storage's errors on one method of each
// kind: a get of a missing object is ErrNotFound, an insert of an existing
// id ErrExists, an insert whose parent is missing ErrNotFound naming the
// parent, and a versioned update that matches no row ErrStale, whether the
// row changed or does not exist; each in a *storage.Error naming the
// object, and none a *promokit.Error.
func testErrors(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	mustCreatePromotions(t, b, newPromotion(b, "sto_1", "prm_1"))

	err := b.readErr(func(tx storage.Tx) error {
		_, err := tx.PromotionGet(b.ctx, promokit.Scope{}, "prm_missing")
		return err
	})
	wantReport(t, "PromotionGet of a missing promotion", err, storage.ErrNotFound, "promotion", "prm_missing")

	err = b.writeErr(func(tx storage.Tx) error {
		return tx.StoreCreate(b.ctx, &promokit.Store{ID: "sto_1", Name: "Again", CreatedAt: b.now})
	})
	wantReport(t, "StoreCreate of an existing id", err, storage.ErrExists, "store", "sto_1")

	err = b.writeErr(func(tx storage.Tx) error {
		return tx.PromotionCreate(b.ctx, newPromotion(b, "sto_missing", "prm_2"))
	})
	wantReport(t, "PromotionCreate in a missing store", err, storage.ErrNotFound, "store", "sto_missing")

	changed := newPromotion(b, "sto_1", "prm_1")
	err = b.writeErr(func(tx storage.Tx) error { return tx.PromotionUpdate(b.ctx, changed, 7) })
	wantReport(t, "PromotionUpdate at another version", err, storage.ErrStale, "promotion", "prm_1")

	missing := newPromotion(b, "sto_1", "prm_missing")
	err = b.writeErr(func(tx storage.Tx) error { return tx.PromotionUpdate(b.ctx, missing, 1) })
	wantReport(t, "PromotionUpdate of a missing promotion", err, storage.ErrStale, "promotion", "prm_missing")

	st := promokit.DefaultSettings(b.now)
	err = b.writeErr(func(tx storage.Tx) error { return tx.SettingsUpdate(b.ctx, &st, st.Version) })
	wantErr(t, "SettingsUpdate before SettingsInit", err, storage.ErrStale)
	b.write(t, func(tx storage.Tx) error {
		_, err := tx.SettingsInit(b.ctx, &st)
		return err
	})
	err = b.writeErr(func(tx storage.Tx) error { return tx.SettingsUpdate(b.ctx, &st, st.Version+7) })
	wantErr(t, "SettingsUpdate at another version", err, storage.ErrStale)
}

// wantReport is wantErr that also checks the object the report names.
func wantReport(t *testing.T, what string, err, sentinel error, noun, id string) {
	t.Helper()
	wantErr(t, what, err, sentinel)
	var se *storage.Error
	errors.As(err, &se)
	if se.Noun != noun || se.ID != id {
		t.Fatalf("%s: error names %s %q, want %s %q", what, se.Noun, se.ID, noun, id)
	}
}
