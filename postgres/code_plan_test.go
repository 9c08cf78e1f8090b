package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit/postgres"
	"github.com/promokit/promokit/storage"
)

// TestStoreCodesPlan checks that a store's codes (the P4 quota's count
// and tally, the P4 tab's list) are read through the store's promotions
// and, for each, codes_promotion: never by walking the primary key or the
// whole table, which hold every store's codes, whatever the statistics
// suggest. The generic plan is the one prepared statements settle on.
func TestStoreCodesPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := migratedConn(t)
	// A marketplace where a store under P4 has many promotions of a code
	// each, and another store a few promotions of many codes: averaged
	// over promotions, the statistics make the store's promotions look
	// like most of the codes.
	for _, q := range []string{
		`INSERT INTO stores (id, name, partner_promo_codes, created_at) VALUES ('sto_1', 'P4', true, now()), ('sto_2', 'Big', false, now())`,
		`INSERT INTO promotions (id, store_id, name, channel, type, currency, starts_at, created_at, updated_at)
		 SELECT 'prm_' || g, CASE WHEN g <= 30 THEN 'sto_1' ELSE 'sto_2' END, 'x', 'store', 'percent_off', 'USD', now(), now(), now()
		 FROM generate_series(1, 50) g`,
		`INSERT INTO codes (code, promotion_id, store_id, created_at, updated_at)
		 SELECT 'C' || g, 'prm_' || g, 'sto_1', now(), now() FROM generate_series(1, 30) g`,
		`INSERT INTO codes (code, promotion_id, store_id, created_at, updated_at)
		 SELECT 'B' || g, 'prm_' || (31 + g % 20), 'sto_2', now(), now() FROM generate_series(1, 100000) g`,
		"ANALYZE", "SET plan_cache_mode = force_generic_plan",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	since := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	type query struct {
		sql  string
		args []any
	}
	mk := func(sql string, args []any) query { return query{sql, args} }
	for i, q := range []query{
		mk(postgres.CodeListByStoreQuery(storage.StoreCodeFilter{StoreID: "sto_1", Page: storage.Page{Limit: 50}})),
		mk(postgres.CodeListByStoreQuery(storage.StoreCodeFilter{StoreID: "sto_1", Page: storage.Page{Limit: 50, After: "CODE-1"}})),
		mk(postgres.CodeCountQuery(storage.CodeCount{StoreID: "sto_1", Since: since}, "count(*)")),
		mk(postgres.CodeCountQuery(storage.CodeCount{StoreID: "sto_1", Since: since}, "count(*), min(c.created_at)")),
	} {
		name := fmt.Sprintf("q%d", i)
		if _, err := conn.Exec(ctx, "PREPARE "+name+" AS "+q.sql); err != nil {
			t.Fatalf("prepare %s: %v", q.sql, err)
		}
		var lits []string
		for _, a := range q.args {
			switch v := a.(type) {
			case string:
				lits = append(lits, "'"+strings.ReplaceAll(v, "'", "''")+"'")
			case time.Time:
				lits = append(lits, "'"+v.Format(time.RFC3339Nano)+"'")
			default:
				lits = append(lits, fmt.Sprint(v))
			}
		}
		rows, err := conn.Query(ctx, "EXPLAIN EXECUTE "+name+"("+strings.Join(lits, ", ")+")", pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		p := strings.Join(lines, "\n")
		if !strings.Contains(p, "codes_promotion") || strings.Contains(p, "codes_pkey") || strings.Contains(p, "Seq Scan on codes") {
			t.Errorf("%s does not read the store's codes through codes_promotion:\n%s", q.sql, p)
		}
	}
}
