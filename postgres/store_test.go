package postgres_test

import (
	"testing"

	"github.com/promokit/promokit/storage"
	"github.com/promokit/promokit/storetest"
)

// TestStore runs the conformance suite of storage.DB on PostgreSQL.
func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storage.DB { return storetest.OpenPostgres(t) })
}
