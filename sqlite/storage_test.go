package sqlite_test

import (
	"testing"

	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/storagetest"
)

// TestStorage runs the conformance suite of storage.DB on SQLite.
func TestStorage(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, dbtest.OpenSQLite)
}
