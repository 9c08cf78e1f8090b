package sqlite

import (
	"errors"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// TestLoadMigrations checks the parsing of migration file names.
func TestLoadMigrations(t *testing.T) {
	t.Parallel()
	file := &fstest.MapFile{Data: []byte("SELECT 1;")}
	got, err := loadMigrations(fstest.MapFS{
		"migrations/0010_later.sql":  file,
		"migrations/0002_second.sql": file,
		"migrations/0001_first.sql":  file,
		"migrations/README.md":       file,
	})
	if err != nil {
		t.Fatal(err)
	}
	var versions []int64
	for _, m := range got {
		versions = append(versions, m.version)
	}
	if diff := cmp.Diff([]int64{1, 2, 10}, versions); diff != "" {
		t.Fatalf("versions (-want +got):\n%s", diff)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"no version":       {"migrations/first.sql": file},
		"bad version":      {"migrations/x1_first.sql": file},
		"zero version":     {"migrations/0000_first.sql": file},
		"shared version":   {"migrations/0001_a.sql": file, "migrations/001_b.sql": file},
		"negative version": {"migrations/-1_a.sql": file},
	} {
		if _, err := loadMigrations(fsys); err == nil {
			t.Errorf("%s: loadMigrations succeeded", name)
		}
	}
}

// TestMigrateConcurrently checks that processes starting at once on one
// file all migrate without error, and that the migrations are recorded once.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	path := t.TempDir() + "/test.db"
	const processes = 4
	stores := make([]*DB, processes)
	for i := range stores {
		s, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	var wg sync.WaitGroup
	for _, s := range stores {
		wg.Go(func() {
			if err := s.Migrate(t.Context()); err != nil {
				t.Errorf("Migrate: %v", err)
			}
		})
	}
	wg.Wait()
	var n int
	if err := stores[0].reader.QueryRowContext(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(stores[0].MigrationVersions()) {
		t.Fatalf("%d migrations recorded, want %d", n, len(stores[0].MigrationVersions()))
	}
}

// TestMigrateCodelessRedemptions: migration 0006 rebuilds the redemptions
// table of a database an earlier release migrated to 0005. Its rows are
// carried over with their ids and every column; the order's key becomes
// two partial unique indexes, one for codes and one for codeless rows
// (automatic promotions), and the table's other indexes are there again.
func TestMigrateCodelessRedemptions(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, err := Open(ctx, t.TempDir()+"/old.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, m := range s.migrations {
		if m.version <= 5 {
			if err := s.migrate(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.writer.ExecContext(ctx, `INSERT INTO redemptions (id, store_id, order_id, code, promotion_id, customer_key,
		discount, state, request_hash, hold_until, created_at, updated_at)
		VALUES (7, 'sto_1', 'ord-1', 'CODE-1', 'prm_1', 'c:cus_1', 250, 'held', x'010203', 3000000, 1000000, 2000000),
		       (8, 'sto_1', 'ord-2', 'CODE-1', 'prm_1', '', 250, 'redeemed', x'0405', NULL, 1000000, 1000000)`); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate to 0006 and later: %v", err)
	}
	var got []*promokit.Redemption
	if err := s.Read(ctx, func(tx storage.Tx) (err error) {
		got, err = tx.RedemptionListByOrderMany(ctx, "sto_1", []string{"ord-1", "ord-2"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	hold := fromMicros(3000000)
	want := []*promokit.Redemption{
		{ID: 7, StoreID: "sto_1", OrderID: "ord-1", Code: "CODE-1", PromotionID: "prm_1", CustomerKey: "c:cus_1", Discount: 250,
			State: promokit.RedemptionHeld, RequestHash: []byte{1, 2, 3}, HoldUntil: &hold, CreatedAt: fromMicros(1000000), UpdatedAt: fromMicros(2000000)},
		{ID: 8, StoreID: "sto_1", OrderID: "ord-2", Code: "CODE-1", PromotionID: "prm_1", Discount: 250,
			State: promokit.RedemptionRedeemed, RequestHash: []byte{4, 5}, CreatedAt: fromMicros(1000000), UpdatedAt: fromMicros(1000000)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("rows carried over (-want +got):\n%s", diff)
	}
	var indexes []string
	rows, err := s.reader.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'redemptions' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		indexes = append(indexes, name)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	wantIndexes := []string{"redemptions_code", "redemptions_created", "redemptions_held", "redemptions_order_code", "redemptions_order_promotion", "redemptions_promotion"}
	if diff := cmp.Diff(wantIndexes, indexes); diff != "" {
		t.Fatalf("indexes of redemptions (-want +got):\n%s", diff)
	}
	var check string
	if err := s.reader.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity check: %q %v", check, err)
	}
	// The keys of the new table: a second row of a code is refused, a
	// codeless row is one per promotion, and new rows follow the old ids.
	create := func(r *promokit.Redemption) error {
		return s.Write(ctx, func(tx storage.Tx) error { return tx.RedemptionCreate(ctx, r) })
	}
	row := func(code, promotion string) *promokit.Redemption {
		return &promokit.Redemption{StoreID: "sto_1", OrderID: "ord-1", Code: code, PromotionID: promotion, Discount: 1,
			State: promokit.RedemptionHeld, RequestHash: []byte{1, 2, 3}}
	}
	if err := create(row("CODE-1", "prm_1")); !errors.Is(err, storage.ErrExists) {
		t.Fatalf("a second row of CODE-1: %v", err)
	}
	auto := row("", "prm_2")
	if err := create(auto); err != nil || auto.ID != 9 {
		t.Fatalf("a codeless row: id %d, %v", auto.ID, err)
	}
	if err := create(row("", "prm_2")); !errors.Is(err, storage.ErrExists) {
		t.Fatalf("a second codeless row of prm_2: %v", err)
	}
}
