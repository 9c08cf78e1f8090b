// Package storetest is the conformance suite of storage.DB: the behaviour
// every database promokit runs on must have, tested once and run against
// each engine. The sqlite and postgres packages call Run from their tests;
// the engine and HTTP suites use ForEach to run against both databases.
//
// Every test opens its own store (a temporary SQLite file, or a fresh
// PostgreSQL schema) and runs in parallel. The suite stands on January 1,
// 2026 at 09:30:00.123456 UTC: times carry microseconds, the precision both
// databases keep.
package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/postgres"
	"github.com/promokit/promokit/sqlite"
	"github.com/promokit/promokit/storage"
)

// Run runs the conformance suite against the stores that open returns.
// open is called once per subtest and must return a new, migrated, empty
// store that is closed when the test ends.
func Run(t *testing.T, open func(t *testing.T) storage.DB) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b *bundle)
	}{
		{"PlaceRead", testPlaceRead},
		{"PlaceOrders", testPlaceOrders},
		{"Migrate", testMigrate},
		{"WriteRollback", testWriteRollback},
		{"Settings", testSettings},
		{"Keys", testKeys},
		{"KeysList", testKeysList},
		{"Stores", testStores},
		{"Partners", testPartners},
		{"Products", testProducts},
		{"Promotions", testPromotions},
		{"PromotionsUpdate", testPromotionsUpdate},
		{"PromotionsScope", testPromotionsScope},
		{"PromotionsStatus", testPromotionsStatus},
		{"PromotionsList", testPromotionsList},
		{"PromotionListAutomatic", testAutomaticPromotions},
		{"CodeListForCustomer", testCustomerCodes},
		{"Codes", testCodes},
		{"CodesScope", testCodesScope},
		{"CodesInsert", testCodesInsert},
		{"CodesGenerated", testCodesGenerated},
		{"CodesList", testCodesList},
		{"CodesCount", testCodesCount},
		{"CodesExport", testCodesExport},
		{"CodeImports", testCodeImports},
		{"Jobs", testJobs},
		{"JobsClaim", testJobsClaim},
		{"JobsClaimConcurrent", testJobsClaimConcurrent},
		{"JobsProgress", testJobsProgress},
		{"Usage", testUsage},
		{"Redemptions", testRedemptions},
		{"Batches", testBatches},
		{"Idempotency", testIdempotency},
		{"LookupFailures", testLookupFailures},
		{"LookupFailuresConcurrent", testLookupFailuresConcurrent},
		{"LookupFailuresLocked", testLookupFailuresLocked},
		{"Memberships", testMemberships},
		{"MembershipsLock", testMembershipsLock},
		{"Rates", testRates},
		{"Links", testLinks},
		{"ClickTarget", testClickTarget},
		{"Clicks", testClicks},
		{"ClickGetLatest", testLatestClick},
		{"Visitors", testVisitors},
		{"Orders", testOrders},
		{"OrdersList", testOrdersList},
		{"OrderListDueRelease", testDueReleases},
		{"OrderEvents", testOrderEvents},
		{"LedgerEntries", testLedgerEntries},
		{"LedgerSum", testLedgerTotals},
		{"LedgerRollup", testLedgerRollup},
		{"LedgerRollupConcurrent", testLedgerRollupConcurrent},
		{"LedgerRollupCheck", testLedgerRollupCheck},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, &bundle{ctx: t.Context(), store: open(t), now: jan1()})
		})
	}
}

// ForEach runs fn as the subtests "sqlite" and "postgres", with open
// returning a new migrated store of that database for each call. The
// postgres subtests are skipped unless PROMOKIT_TEST_DATABASE_URL is set.
func ForEach(t *testing.T, fn func(t *testing.T, open func(t *testing.T) storage.DB)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, OpenSQLite) })
	t.Run("postgres", func(t *testing.T) { fn(t, OpenPostgres) })
}

// OpenSQLite returns a migrated store in a new SQLite file under
// t.TempDir(), closed when the test ends.
func OpenSQLite(t *testing.T) storage.DB { return Open(t, "sqlite") }

// Open returns a new migrated store of the named database, "sqlite" or
// "postgres", for a test or a benchmark: OpenSQLite or OpenPostgres.
func Open(t testing.TB, database string) storage.DB {
	if database == "postgres" {
		return openPostgres(t)
	}
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, t.TempDir()+"/promokit.db")
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close sqlite: %v", err)
		}
	})
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate sqlite: %v", err)
	}
	return s
}

// OpenShared returns two stores on one new migrated database of the named
// kind, "sqlite" or "postgres", as two server processes would open it:
// two SQLite stores on one file, or two PostgreSQL pools on one schema.
// Nothing is shared between them but the database. Both are closed when
// the test ends.
func OpenShared(t *testing.T, database string) (storage.DB, storage.DB) {
	t.Helper()
	ctx := context.Background()
	var target string
	open := func() storage.DB {
		t.Helper()
		var (
			s   storage.DB
			err error
		)
		if database == "postgres" {
			s, err = postgres.Open(ctx, target)
		} else {
			s, err = sqlite.Open(ctx, target)
		}
		if err != nil {
			t.Fatalf("open %s: %v", database, err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("close %s: %v", database, err)
			}
		})
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("migrate %s: %v", database, err)
		}
		return s
	}
	if database == "postgres" {
		target = PostgresURL(t)
	} else {
		target = t.TempDir() + "/promokit.db"
	}
	return open(), open()
}

// jan1 returns the suite's now.
func jan1() time.Time { return time.Date(2026, 1, 1, 9, 30, 0, 123456000, time.UTC) }

// bundle is what each test of the suite works with.
type bundle struct {
	ctx   context.Context
	store storage.DB
	now   time.Time
}

// write runs fn in a write transaction and fails the test if it fails.
func (b *bundle) write(t *testing.T, fn func(tx storage.Tx) error) {
	t.Helper()
	if err := b.store.Write(b.ctx, fn); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// read runs fn in a read transaction and fails the test if it fails.
func (b *bundle) read(t *testing.T, fn func(tx storage.Tx) error) {
	t.Helper()
	if err := b.store.Read(b.ctx, fn); err != nil {
		t.Fatalf("read: %v", err)
	}
}

// readErr runs fn in a read transaction and returns its error.
func (b *bundle) readErr(fn func(tx storage.Tx) error) error {
	return b.store.Read(b.ctx, fn)
}

// writeErr runs fn in a write transaction and returns its error.
func (b *bundle) writeErr(fn func(tx storage.Tx) error) error {
	return b.store.Write(b.ctx, fn)
}

// at returns the suite's now moved by d.
func (b *bundle) at(d time.Duration) time.Time { return b.now.Add(d) }

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// wantEqual fails the test when got differs from want. Times compare by
// instant (time.Time.Equal), and nil and empty slices alike, since a
// database may return either for an empty list.
func wantEqual(t *testing.T, what string, want, got any) {
	t.Helper()
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("%s mismatch (-want +got):\n%s", what, diff)
	}
}

// wantCode fails the test unless err is a *promokit.Error with code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := promokit.ErrorCode(err); got != code {
		t.Fatalf("%s: error code %q (%v), want %q", what, got, err, code)
	}
}

// mustCreateStore creates a store with id.
func mustCreateStore(t *testing.T, b *bundle, id string) *promokit.Store {
	t.Helper()
	s := &promokit.Store{ID: id, Name: "Store " + id, CreatedAt: b.now}
	b.write(t, func(tx storage.Tx) error { return tx.StoreCreate(b.ctx, s) })
	return s
}

// mustCreatePartner creates a partner with id.
func mustCreatePartner(t *testing.T, b *bundle, id string) *promokit.Partner {
	t.Helper()
	p := &promokit.Partner{ID: id, Name: "Partner " + id, Kind: promokit.PartnerAffiliate, CreatedAt: b.now}
	b.write(t, func(tx storage.Tx) error { return tx.PartnerCreate(b.ctx, p) })
	return p
}

// newPromotion returns a minimal storewide promotion of a store, active
// from now with no end.
func newPromotion(b *bundle, storeID, id string) *promokit.Promotion {
	return &promokit.Promotion{
		ID: id, StoreID: storeID, Name: "Promotion " + id, Channel: promokit.ChannelStore,
		Type: promokit.PercentOff, PercentOff: 1000, Currency: "USD",
		StartsAt: b.now, Active: true, Version: 1, CreatedAt: b.now, UpdatedAt: b.now,
	}
}

// mustCreatePromotions creates promotions in one transaction.
func mustCreatePromotions(t *testing.T, b *bundle, ps ...*promokit.Promotion) {
	t.Helper()
	b.write(t, func(tx storage.Tx) error {
		for _, p := range ps {
			if err := tx.PromotionCreate(b.ctx, p); err != nil {
				return fmt.Errorf("create promotion %s: %w", p.ID, err)
			}
		}
		return nil
	})
}

// newCode returns an active code of promotion p, created at created.
func newCode(p *promokit.Promotion, value string, created time.Time) *promokit.Code {
	return &promokit.Code{Code: value, PromotionID: p.ID, StoreID: p.StoreID, Active: true, CreatedAt: created, UpdatedAt: created}
}

// mustCreateCodes creates codes in one transaction with CreateCode.
func mustCreateCodes(t *testing.T, b *bundle, cs ...*promokit.Code) {
	t.Helper()
	b.write(t, func(tx storage.Tx) error {
		for _, c := range cs {
			if err := tx.CodeCreate(b.ctx, c); err != nil {
				return fmt.Errorf("create code %s: %w", c.Code, err)
			}
		}
		return nil
	})
}
