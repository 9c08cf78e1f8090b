package postgres_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/postgres"
	"github.com/promokit/promokit/storage"
)

// TestMigrateConcurrent starts two stores on one fresh schema and migrates
// them at once, as two processes starting together would: both must
// succeed, and each migration must be applied once.
func TestMigrateConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := MustOpenSchema(t)
	stores := make([]*postgres.DB, 2)
	for i := range stores {
		s, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		stores[i] = s
	}
	var wg sync.WaitGroup
	errs := make([]error, len(stores))
	for i, s := range stores {
		wg.Go(func() { errs[i] = s.Migrate(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrate %d: %v", i, err)
		}
	}
	// A third run finds nothing to do.
	if err := stores[0].Migrate(ctx); err != nil {
		t.Fatalf("migrate again: %v", err)
	}
	var got []int64
	rows, err := stores[0].Pool().Query(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := stores[0].MigrationVersions(); !slices.Equal(got, want) {
		t.Errorf("schema_migrations = %v, want %v", got, want)
	}
}

// TestMigrateCodelessRedemptions: on a database an earlier release
// migrated to 0005, migration 0006 keeps the redemptions' rows as they
// are and replaces the order's unique key by two partial unique indexes,
// one for codes and one for codeless rows (automatic promotions).
func TestMigrateCodelessRedemptions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := postgres.Open(ctx, MustOpenSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.MigrateUpTo(ctx, 5); err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 1, 1, 9, 30, 0, 123456000, time.UTC)
	hold := created.Add(15 * time.Minute)
	if err := pgx.BeginTxFunc(ctx, s.Pool(), pgx.TxOptions{AccessMode: pgx.ReadWrite}, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO redemptions (store_id, order_id, code, promotion_id, customer_key, discount, state,
			request_hash, hold_until, created_at, updated_at) VALUES ('sto_1', 'ord-1', 'CODE-1', 'prm_1', 'c:cus_1', 250, 'held', '\x010203', $1, $2, $2)`,
			hold, created)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate to 0006 and later: %v", err)
	}
	var got []*promokit.Redemption
	if err := s.Read(ctx, func(tx storage.Tx) (err error) {
		got, err = tx.RedemptionListByOrder(ctx, "sto_1", "ord-1")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	want := []*promokit.Redemption{{ID: 1, StoreID: "sto_1", OrderID: "ord-1", Code: "CODE-1", PromotionID: "prm_1", CustomerKey: "c:cus_1",
		Discount: 250, State: promokit.RedemptionHeld, RequestHash: []byte{1, 2, 3}, HoldUntil: &hold, CreatedAt: created, UpdatedAt: created}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("rows carried over (-want +got):\n%s", diff)
	}
	rows, err := s.Pool().Query(ctx, `SELECT indexname || ' ' || indexdef FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename = 'redemptions' ORDER BY indexname`)
	if err != nil {
		t.Fatal(err)
	}
	indexes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ix := range indexes {
		name, def, _ := strings.Cut(ix, " ")
		names = append(names, name)
		if strings.HasPrefix(name, "redemptions_order_") && !strings.Contains(def, "UNIQUE") {
			t.Errorf("%s is not unique: %s", name, def)
		}
	}
	wantNames := []string{"redemptions_code", "redemptions_created", "redemptions_held", "redemptions_order_code", "redemptions_order_promotion", "redemptions_pkey", "redemptions_promotion"}
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Fatalf("indexes of redemptions (-want +got):\n%s\n%s", diff, strings.Join(indexes, "\n"))
	}
	// The keys of the table now: a second row of a code is refused, a
	// codeless row is one per promotion.
	create := func(code, promotion string) error {
		return s.Write(ctx, func(tx storage.Tx) error {
			return tx.RedemptionCreate(ctx, &promokit.Redemption{StoreID: "sto_1", OrderID: "ord-1", Code: code, PromotionID: promotion,
				Discount: 1, State: promokit.RedemptionHeld, RequestHash: []byte{1}, CreatedAt: created, UpdatedAt: created})
		})
	}
	if err := create("CODE-1", "prm_1"); !errors.Is(err, storage.ErrExists) {
		t.Fatalf("a second row of CODE-1: %v", err)
	}
	if err := create("", "prm_2"); err != nil {
		t.Fatalf("a codeless row: %v", err)
	}
	if err := create("", "prm_2"); !errors.Is(err, storage.ErrExists) {
		t.Fatalf("a second codeless row of prm_2: %v", err)
	}
}

// TestMigrateByteCollation checks that codes and the keys of the
// checkout's counters compare byte by byte whatever the database's
// collation, as on SQLite: a linguistic collation would order them
// otherwise and make every look-up call strcoll.
func TestMigrateByteCollation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := MustOpenSchema(t)
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(ctx) })
	rows, err := conn.Query(ctx, `SELECT table_name || '.' || column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND collation_name = 'C' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"codes.code", "customer_usage.customer_key", "customer_usage.subject",
		"ledger_daily.payee", "ledger_daily.payer", "ledger_entries.payee", "ledger_entries.payer", // 0014
		"lookup_failures.subject",
		"payout_accounts.payee", "payout_accounts.payer", "payout_proofs.payout_id", // 0015
		"payouts.id", "payouts.payee", "payouts.payer", "payouts.store_id"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("columns with the byte collation (-want +got):\n%s", diff)
	}
}
