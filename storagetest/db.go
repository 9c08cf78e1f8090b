// Package storagetest is the conformance suite of storage.DB: the behaviour
// every database promokit runs on must have, tested once and run against
// each of them. The sqlite and postgres packages call Run from their tests
// with a constructor of their database; the suite imports none.
//
// Where a database may declare an optional ability (storage.CheckoutReader,
// CartReader, PlaceReader, UsageTaker, OrderPlacer), the suite checks that
// the ability and the sequential path (the InTurn functions) give equal
// results: each read of the suite runs both on the same transaction and
// compares them, and the tests of the pipelined writes run twice, once
// with the transaction as the database gives it and once with its
// abilities hidden.
//
// Every test opens its own database and runs in parallel. The suite
// stands on January 1, 2026 at 09:30:00.123456 UTC: times carry
// microseconds, the precision both databases keep.
package storagetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// Run runs the conformance suite against the databases that open returns.
// open is called once per subtest and must return a new, migrated, empty
// database that is closed when the test ends.
func Run(t *testing.T, open func(t *testing.T) storage.DB) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b *bundle)
	}{
		{"PlaceRead", testPlaceRead},
		{"PlaceOrders", testPlaceOrders},
		{"PlaceOrdersInTurn", inTurn(testPlaceOrders)},
		{"Migrate", testMigrate},
		{"WriteRollback", testWriteRollback},
		{"Errors", testErrors},
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
		{"RedemptionsByCode", testRedemptionsByCode},
		{"Batches", testBatches},
		{"BatchesInTurn", inTurn(testBatches)},
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
		{"Payouts", testPayouts},
		{"PayoutLock", testPayoutLock},
		{"PayoutCheck", testPayoutCheck},
		{"Sessions", testSessions},
		{"StatsDaily", testStatsDaily},
		{"StatsPromotionDaily", testStatsPromotionDaily},
		{"StatsLinkDaily", testStatsLinkDaily},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, &bundle{ctx: t.Context(), store: open(t), now: jan1()})
		})
	}
}

// jan1 returns the suite's now.
func jan1() time.Time { return time.Date(2026, 1, 1, 9, 30, 0, 123456000, time.UTC) }

// bundle is what each test of the suite works with.
type bundle struct {
	ctx   context.Context
	store storage.DB
	now   time.Time
	// inTurn hides the optional abilities of every transaction the
	// bundle's helpers open (plainTx), so that the functions of storage
	// take their InTurn paths.
	inTurn bool
}

// plainTx is a transaction with its optional abilities hidden: it has the
// methods of storage.Tx and no other, whatever the database's transaction
// has.
type plainTx struct{ storage.Tx }

// inTurn returns the test fn run with the optional abilities of its
// transactions hidden: it checks the InTurn paths of the writes that a
// database may pipeline against the same expectations as the pipelined
// ones.
func inTurn(fn func(t *testing.T, b *bundle)) func(t *testing.T, b *bundle) {
	return func(t *testing.T, b *bundle) {
		b.inTurn = true
		fn(t, b)
	}
}

// tx returns fn given the transaction as the bundle's tests must see it:
// as the database gives it, or a plainTx when b.inTurn.
func (b *bundle) tx(fn func(tx storage.Tx) error) func(tx storage.Tx) error {
	if !b.inTurn {
		return fn
	}
	return func(tx storage.Tx) error { return fn(plainTx{tx}) }
}

// write runs fn in a write transaction and fails the test if it fails.
func (b *bundle) write(t *testing.T, fn func(tx storage.Tx) error) {
	t.Helper()
	if err := b.writeErr(fn); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// read runs fn in a read transaction and fails the test if it fails.
func (b *bundle) read(t *testing.T, fn func(tx storage.Tx) error) {
	t.Helper()
	if err := b.readErr(fn); err != nil {
		t.Fatalf("read: %v", err)
	}
}

// readErr runs fn in a read transaction and returns its error.
func (b *bundle) readErr(fn func(tx storage.Tx) error) error {
	return b.store.Read(b.ctx, b.tx(fn))
}

// writeErr runs fn in a write transaction and returns its error.
func (b *bundle) writeErr(fn func(tx storage.Tx) error) error {
	return b.store.Write(b.ctx, b.tx(fn))
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

// wantErr fails the test unless err is the database's report sentinel
// (storage.ErrNotFound, ErrExists, ErrTaken, ErrStale) in a *storage.Error,
// and no *promokit.Error: what it means to the API is the engine's to say.
func wantErr(t *testing.T, what string, err, sentinel error) {
	t.Helper()
	var se *storage.Error
	if !errors.Is(err, sentinel) || !errors.As(err, &se) {
		t.Fatalf("%s: error %v, want %v in a *storage.Error", what, err, sentinel)
	}
	var pe *promokit.Error
	if errors.As(err, &pe) {
		t.Fatalf("%s: error %v is a *promokit.Error", what, err)
	}
}

// wantCode fails the test unless err is a *promokit.Error with code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := promokit.ErrorCode(err); got != code {
		t.Fatalf("%s: error code %q (%v), want %q", what, got, err, code)
	}
}

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
	wantErr(t, "GetStore after rollback", err, storage.ErrNotFound)

	mustCreateStore(t, b, "sto_2")
	b.read(t, func(tx storage.Tx) error {
		_, err := tx.StoreGet(b.ctx, "sto_2", false)
		return err
	})
}
