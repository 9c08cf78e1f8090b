package postgres_test

import (
	"testing"

	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storetest"
)

// TestStore runs the conformance suite of engine.DB on PostgreSQL.
func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) engine.DB { return storetest.OpenPostgres(t) })
}
