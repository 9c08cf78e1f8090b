package sqlite_test

import (
	"testing"

	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storetest"
)

// TestStore runs the conformance suite against SQLite.
func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) engine.DB { return storetest.OpenSQLite(t) })
}
