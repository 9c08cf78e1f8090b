package sqlite_test

import (
	"testing"

	"github.com/promokit/promokit/storage"
	"github.com/promokit/promokit/storetest"
)

// TestStore runs the conformance suite against SQLite.
func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storage.DB { return storetest.OpenSQLite(t) })
}
