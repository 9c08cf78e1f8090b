package postgres_test

import (
	"testing"

	"github.com/promokit/promokit/internal/dbtest"
	"github.com/promokit/promokit/storagetest"
)

// TestStorage runs the conformance suite of storage.DB on PostgreSQL.
func TestStorage(t *testing.T) {
	storagetest.Run(t, dbtest.OpenPostgres)
}
