package sqlite

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/promokit/promokit/storage"
)

// TestMigrateVisitorsPerStore: on a database migrated to 0009, where a
// customer's visitor ids were bound marketplace-wide, migration 0010
// binds each row to the stores whose orders wrote it, last seen at the
// latest such order, and drops a row that no order explains.
func TestMigrateVisitorsPerStore(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, err := Open(ctx, t.TempDir()+"/old.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, m := range s.migrations {
		if m.version <= 9 {
			if err := s.migrate(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	// c1 used v1 on orders of sto_a (twice) and sto_b, and v2 on one of
	// sto_a; an order without a customer or a visitor bound nothing; c9's
	// row has no order behind it.
	if _, err := s.writer.ExecContext(ctx, `INSERT INTO orders (store_id, id, customer_id, visitor_id, currency, state, placed_at, created_at, updated_at)
		VALUES ('sto_a', 'o1', 'c1', 'v1', 'USD', 'placed', 1000, 1000, 1000),
		       ('sto_a', 'o2', 'c1', 'v1', 'USD', 'placed', 2000, 2000, 2000),
		       ('sto_b', 'o3', 'c1', 'v1', 'USD', 'placed', 3000, 3000, 3000),
		       ('sto_a', 'o4', 'c1', 'v2', 'USD', 'placed', 4000, 4000, 4000),
		       ('sto_a', 'o5', 'c2', '', 'USD', 'placed', 5000, 5000, 5000),
		       ('sto_b', 'o6', '', 'v3', 'USD', 'placed', 5000, 5000, 5000);
		INSERT INTO visitors (customer_id, visitor_id, last_seen)
		VALUES ('c1', 'v1', 3000), ('c1', 'v2', 4000), ('c9', 'v9', 6000)`); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate to 0010 and later: %v", err)
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT store_id, customer_id, visitor_id, last_seen FROM visitors ORDER BY 1, 2, 3`)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Store, Customer, Visitor string
		LastSeen                 int64
	}
	var got []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.Store, &r.Customer, &r.Visitor, &r.LastSeen); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	want := []row{{"sto_a", "c1", "v1", 2000}, {"sto_a", "c1", "v2", 4000}, {"sto_b", "c1", "v1", 3000}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("visitors after 0010 (-want +got):\n%s", diff)
	}
	var list []string
	if err := s.Read(ctx, func(tx storage.Tx) (err error) {
		list, err = tx.VisitorList(ctx, "sto_a", "c1", 10)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"v2", "v1"}, list); diff != "" {
		t.Fatalf("c1's visitors at sto_a (-want +got):\n%s", diff)
	}
	var check string
	if err := s.reader.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity check: %q %v", check, err)
	}
	var index string
	if err := s.reader.QueryRowContext(ctx, `SELECT group_concat(name) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'visitors' AND sql IS NOT NULL`).Scan(&index); err != nil || index != "visitors_recent" {
		t.Fatalf("indexes of visitors: %q %v", index, err)
	}
}

// TestMigrateRedirectHosts: migration 0012 gives the stores of an earlier
// database an empty list of redirect hosts, which allows any domain.
func TestMigrateRedirectHosts(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, err := Open(ctx, t.TempDir()+"/old.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, m := range s.migrations {
		if m.version < 12 {
			if err := s.migrate(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.writer.ExecContext(ctx, `INSERT INTO stores (id, name, partner_promo_codes, created_at) VALUES ('sto_a', 'A', 0, 1000)`); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate to 0012 and later: %v", err)
	}
	if err := s.Read(ctx, func(tx storage.Tx) error {
		st, err := tx.StoreGet(ctx, "sto_a", false)
		if err == nil && (st.RedirectHosts == nil || len(st.RedirectHosts) != 0) {
			t.Errorf("redirect hosts of an earlier store: %#v, want an empty list", st.RedirectHosts)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}
