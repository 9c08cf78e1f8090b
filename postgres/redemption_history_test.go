package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/postgres"
	"github.com/promokit/promokit/storage"
)

// TestCodeRedemptionsPlan checks that a code's usage history reads the
// partial index redemptions_code by code and id with the generic plan
// that prepared statements settle on: the planner must prove the index's
// predicate from the query alone. Sequential scans are turned off, since
// on an empty table they would win on cost whatever the indexes.
func TestCodeRedemptionsPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := migratedConn(t)
	for _, q := range []string{"SET enable_seqscan = off", "SET plan_cache_mode = force_generic_plan",
		"PREPARE history AS " + postgres.CodeRedemptionsSQL} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := conn.Query(ctx, "EXPLAIN EXECUTE history('A-1', 0, 100)", pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	p := strings.Join(lines, "\n")
	if !strings.Contains(p, "redemptions_code") || !strings.Contains(p, "Index Cond: ((code = $1) AND (id > $2))") || strings.Contains(p, "Sort") {
		t.Errorf("a code's redemptions do not walk redemptions_code by code and id:\n%s", p)
	}
}

// TestMigrateRedemptionsByCode: migration 0013 indexes the redemptions a
// database an earlier release migrated to 0012 holds, which a code's
// history then lists, the codeless row left out.
func TestMigrateRedemptionsByCode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := postgres.Open(ctx, MustOpenSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.MigrateUpTo(ctx, 12); err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 1, 1, 9, 30, 0, 123456000, time.UTC)
	later := created.Add(time.Minute)
	if err := pgx.BeginTxFunc(ctx, s.Pool(), pgx.TxOptions{AccessMode: pgx.ReadWrite}, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO redemptions (store_id, order_id, code, promotion_id, customer_key, discount, state,
		request_hash, hold_until, created_at, updated_at) VALUES
		('sto_1', 'ord-1', 'CODE-1', 'prm_1', 'c:cus_1', 250, 'rolled_back', '\x01', NULL, $1, $2),
		('sto_1', 'ord-1', '', 'prm_2', '', 50, 'redeemed', '\x01', NULL, $1, $1),
		('sto_1', 'ord-2', 'CODE-1', 'prm_1', '', 250, 'redeemed', '\x02', NULL, $2, $2)`, created, later)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate to 0013 and later: %v", err)
	}
	var got []*promokit.Redemption
	if err := s.Read(ctx, func(tx storage.Tx) (err error) {
		got, err = tx.RedemptionListByCode(ctx, "CODE-1", storage.IDPage{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	want := []*promokit.Redemption{
		{ID: 1, StoreID: "sto_1", OrderID: "ord-1", Code: "CODE-1", PromotionID: "prm_1", CustomerKey: "c:cus_1", Discount: 250,
			State: promokit.RedemptionRolledBack, RequestHash: []byte{1}, CreatedAt: created, UpdatedAt: later},
		{ID: 3, StoreID: "sto_1", OrderID: "ord-2", Code: "CODE-1", PromotionID: "prm_1", Discount: 250,
			State: promokit.RedemptionRedeemed, RequestHash: []byte{2}, CreatedAt: later, UpdatedAt: later},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("the code's history (-want +got):\n%s", diff)
	}
}
