package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit/postgres"
	"github.com/promokit/promokit/storage"
)

// TestMigrateVisitorsPerStore: on a database migrated to 0009, where a
// customer's visitor ids were bound marketplace-wide, migration 0010
// binds each row to the stores whose orders wrote it, last seen at the
// latest such order, and drops a row that no order explains.
func TestMigrateVisitorsPerStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := postgres.Open(ctx, MustOpenSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.MigrateUpTo(ctx, 9); err != nil {
		t.Fatal(err)
	}
	at := func(n int) time.Time { return time.Date(2026, 1, 1, 9, 0, n, 0, time.UTC) }
	// c1 used v1 on orders of sto_a (twice) and sto_b, and v2 on one of
	// sto_a; an order without a customer or a visitor bound nothing; c9's
	// row has no order behind it.
	if err := pgx.BeginTxFunc(ctx, s.Pool(), pgx.TxOptions{AccessMode: pgx.ReadWrite}, func(tx pgx.Tx) error {
		for _, o := range []struct {
			store, id, customer, visitor string
			at                           int
		}{
			{"sto_a", "o1", "c1", "v1", 1}, {"sto_a", "o2", "c1", "v1", 2}, {"sto_b", "o3", "c1", "v1", 3},
			{"sto_a", "o4", "c1", "v2", 4}, {"sto_a", "o5", "c2", "", 5}, {"sto_b", "o6", "", "v3", 5},
		} {
			if _, err := tx.Exec(ctx, `INSERT INTO orders (store_id, id, customer_id, visitor_id, currency, state, placed_at, created_at, updated_at)
				VALUES ($1, $2, $3, $4, 'USD', 'placed', $5, $5, $5)`, o.store, o.id, o.customer, o.visitor, at(o.at)); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO visitors (customer_id, visitor_id, last_seen) VALUES ('c1', 'v1', $1), ('c1', 'v2', $2), ('c9', 'v9', $3)`,
			at(3), at(4), at(6))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate to 0010 and later: %v", err)
	}
	type row struct {
		Store, Customer, Visitor string
		LastSeen                 time.Time
	}
	rows, err := s.Pool().Query(ctx, `SELECT store_id, customer_id, visitor_id, last_seen FROM visitors ORDER BY 1, 2, 3`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.Store, &x.Customer, &x.Visitor, &x.LastSeen)
		x.LastSeen = x.LastSeen.UTC()
		return x, err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []row{{"sto_a", "c1", "v1", at(2)}, {"sto_a", "c1", "v2", at(4)}, {"sto_b", "c1", "v1", at(3)}}
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
	rows, err = s.Pool().Query(ctx, `SELECT indexname FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename = 'visitors' ORDER BY indexname`)
	if err != nil {
		t.Fatal(err)
	}
	indexes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"visitors_pkey", "visitors_recent"}, indexes); diff != "" {
		t.Fatalf("indexes of visitors (-want +got):\n%s", diff)
	}
}

// TestMigrateRedirectHosts: migration 0012 gives the stores of an earlier
// database an empty list of redirect hosts, which allows any domain.
func TestMigrateRedirectHosts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := postgres.Open(ctx, MustOpenSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.MigrateUpTo(ctx, 11); err != nil {
		t.Fatal(err)
	}
	if err := pgx.BeginTxFunc(ctx, s.Pool(), pgx.TxOptions{AccessMode: pgx.ReadWrite}, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO stores (id, name, partner_promo_codes, created_at) VALUES ('sto_a', 'A', false, now())`)
		return err
	}); err != nil {
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
