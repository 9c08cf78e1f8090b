package storetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// testMigrate checks that migrating a migrated store again changes nothing
// and that the store lists its migrations in order.
func testMigrate(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	for range 2 {
		if err := b.store.Migrate(b.ctx); err != nil {
			t.Fatalf("Migrate again: %v", err)
		}
	}
	if err := b.store.Ping(b.ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	b.read(t, func(tx storage.Tx) error {
		_, err := tx.StoreGet(b.ctx, "sto_1", false)
		return err
	})
	versions := b.store.MigrationVersions()
	if len(versions) == 0 || versions[0] != 1 {
		t.Fatalf("MigrationVersions = %v, want 1 first", versions)
	}
	if !slices.IsSorted(versions) || len(slices.Compact(slices.Clone(versions))) != len(versions) {
		t.Fatalf("MigrationVersions = %v, want strictly ascending", versions)
	}
}

// testWriteRollback checks that a failed write leaves nothing behind and
// returns fn's error, and that reads see committed writes.
func testWriteRollback(t *testing.T, b *bundle) {
	errBoom := errors.New("boom")
	err := b.writeErr(func(tx storage.Tx) error {
		if err := tx.StoreCreate(b.ctx, &promokit.Store{ID: "sto_1", Name: "One", CreatedAt: b.now}); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Write = %v, want fn's error", err)
	}
	err = b.readErr(func(tx storage.Tx) error {
		_, err := tx.StoreGet(b.ctx, "sto_1", false)
		return err
	})
	wantCode(t, "GetStore after rollback", err, promokit.ENotFound)

	mustCreateStore(t, b, "sto_2")
	b.read(t, func(tx storage.Tx) error {
		_, err := tx.StoreGet(b.ctx, "sto_2", false)
		return err
	})
}
