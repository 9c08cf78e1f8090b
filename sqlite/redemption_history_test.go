package sqlite

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// TestCodeRedemptionsPlan checks that a code's usage history reads the
// partial index redemptions_code by code and id, not the table.
func TestCodeRedemptionsPlan(t *testing.T) {
	t.Parallel()
	s := mustOpen(t)
	p := queryPlan(t, s, codeRedemptionsSQL, "A-1", 0, 100)
	if !strings.Contains(p, "USING INDEX redemptions_code (code=? AND id>?)") || strings.Contains(p, "TEMP B-TREE") {
		t.Errorf("a code's redemptions do not walk redemptions_code by code and id:\n%s", p)
	}
}

// TestMigrateRedemptionsByCode: migration 0013 indexes the redemptions a
// database an earlier release migrated to 0012 holds, which a code's
// history then lists, the codeless row left out.
func TestMigrateRedemptionsByCode(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, err := Open(ctx, t.TempDir()+"/old.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, m := range s.migrations {
		if m.version <= 12 {
			if err := s.migrate(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.writer.ExecContext(ctx, `INSERT INTO redemptions (id, store_id, order_id, code, promotion_id, customer_key,
		discount, state, request_hash, hold_until, created_at, updated_at)
		VALUES (7, 'sto_1', 'ord-1', 'CODE-1', 'prm_1', 'c:cus_1', 250, 'rolled_back', x'01', NULL, 1000000, 2000000),
		       (8, 'sto_1', 'ord-1', '', 'prm_2', '', 50, 'redeemed', x'01', NULL, 1000000, 1000000),
		       (9, 'sto_1', 'ord-2', 'CODE-1', 'prm_1', '', 250, 'redeemed', x'02', NULL, 3000000, 3000000)`); err != nil {
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
		{ID: 7, StoreID: "sto_1", OrderID: "ord-1", Code: "CODE-1", PromotionID: "prm_1", CustomerKey: "c:cus_1", Discount: 250,
			State: promokit.RedemptionRolledBack, RequestHash: []byte{1}, CreatedAt: fromMicros(1000000), UpdatedAt: fromMicros(2000000)},
		{ID: 9, StoreID: "sto_1", OrderID: "ord-2", Code: "CODE-1", PromotionID: "prm_1", Discount: 250,
			State: promokit.RedemptionRedeemed, RequestHash: []byte{2}, CreatedAt: fromMicros(3000000), UpdatedAt: fromMicros(3000000)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("the code's history (-want +got):\n%s", diff)
	}
}
