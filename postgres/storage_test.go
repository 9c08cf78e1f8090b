package postgres_test

import (
	"testing"

	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/storage"
	"github.com/promokit/promokit/storagetest"
)

// TestStorage runs the conformance suite of storage.DB on PostgreSQL.
func TestStorage(t *testing.T) {
	storagetest.Run(t, dbtest.OpenPostgres)
}

// TestStorageAbilities checks that the transactions of both kinds have
// every optional ability of storage, so that the conformance suite compares
// each pipelined path with the sequential one, not the sequential one with
// itself.
func TestStorageAbilities(t *testing.T) {
	t.Parallel()
	db := MustOpenStore(t)
	abilities := map[string]func(storage.Tx) bool{
		"CheckoutReader": has[storage.CheckoutReader],
		"CartReader":     has[storage.CartReader],
		"UsageTaker":     has[storage.UsageTaker],
		"PlaceReader":    has[storage.PlaceReader],
		"OrderPlacer":    has[storage.OrderPlacer],
	}
	check := func(kind string) func(storage.Tx) error {
		return func(tx storage.Tx) error {
			for name, has := range abilities {
				if !has(tx) {
					t.Errorf("a %s transaction (%T) is not a storage.%s", kind, tx, name)
				}
			}
			return nil
		}
	}
	if err := db.Read(t.Context(), check("read")); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(t.Context(), check("write")); err != nil {
		t.Fatal(err)
	}
}

// has reports whether tx implements the ability A.
func has[A any](tx storage.Tx) bool {
	_, ok := tx.(A)
	return ok
}
