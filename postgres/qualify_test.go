package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit/postgres"
	"github.com/promokit/promokit/storage"
)

// TestQualifyPlans checks that the qualify queries, a validate's reads by
// key and the read of an order's redemptions can read their partial indexes with the generic
// plan that prepared statements settle on: the
// planner must prove each index's predicate from the query alone, not from
// its parameters. Sequential scans are turned off, since on an empty
// table they would win on cost whatever the indexes.
func TestQualifyPlans(t *testing.T) {
	t.Parallel()
	url := MustOpenSchema(t)
	ctx := context.Background()
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(ctx) })
	for _, set := range []string{"SET enable_seqscan = off", "SET plan_cache_mode = force_generic_plan"} {
		if _, err := conn.Exec(ctx, set); err != nil {
			t.Fatal(err)
		}
	}
	plan := func(t *testing.T, name, query, args string) string {
		t.Helper()
		if _, err := conn.Exec(ctx, "PREPARE "+name+" AS "+query); err != nil {
			t.Fatal(err)
		}
		rows, err := conn.Query(ctx, "EXPLAIN EXECUTE "+name+args, pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(lines, "\n")
	}
	if p := plan(t, "automatic", postgres.AutomaticPromotionsSQL, "('sto_1', now(), 100)"); !strings.Contains(p, "promotions_automatic") {
		t.Errorf("automatic promotions do not use promotions_automatic:\n%s", p)
	}
	if p := plan(t, "customer", postgres.CustomerCodesSQL, "('cus_1', 'sto_1', now(), 100)"); !strings.Contains(p, "codes_customer") {
		t.Errorf("customer codes do not use codes_customer:\n%s", p)
	}
	// A validate's reads run with cached plans (tx.byKey): each must look
	// its rows up by their whole key, not scan an index and filter.
	for _, tc := range []struct{ name, query, args, index, cond string }{
		{"codes", postgres.CheckoutCodesSQL, "('{A,B}', 'sto_1')", "codes_code_key", "Index Cond: (code = ANY ($1))"},
		{"promotions", postgres.PromotionsByIDSQL, "('{prm_1,prm_2}')", "promotions_pkey", "Index Cond: (id = ANY ($1))"},
		{"usage", postgres.CustomerUsagesSQL, "('{prm_1,code:A}', '{e:x,e:x}')", "customer_usage_pkey",
			"Index Cond: ((subject = (k.subject)::text) AND (customer_key = (k.customer_key)::text))"},
		{"failures", postgres.LookupFailuresSQL, "(now(), '{key:k,addr:a}')", "lookup_failures_pkey",
			"Index Cond: ((window_start = $1) AND (subject = ANY ($2)))"},
	} {
		if p := plan(t, tc.name, tc.query, tc.args); !strings.Contains(p, tc.index) || !strings.Contains(p, tc.cond) {
			t.Errorf("the checkout's read of %s does not look rows up in %s by %s:\n%s", tc.name, tc.index, tc.cond, p)
		}
	}
	// The writes of a redeem batch (UsageTakeMany) and of a batch of
	// Idempotency-Key records run with cached generic plans: each finds
	// its row by key.
	for _, tc := range []struct{ name, query, args, want string }{
		{"promotion_usage", postgres.AddPromotionUsageSQL, "(1, 100, 'prm_1')", "Index Cond: (id = $3)"},
		{"code_usage", postgres.AddCodeUsageSQL, "(1, 'A')", "Index Cond: (code = $2)"},
		{"customer_usage", postgres.AddCustomerUsageSQL, "('prm_1', 'e:x', 1, 1)", "Conflict Arbiter Indexes: customer_usage_pkey"},
		{"redemptions", postgres.InsertRedemptionsSQL,
			"('{sto_1}', '{ord-1}', '{A}', '{prm_1}', '{\"\"}', '{100}', '{redeemed}', '{\"\\\\x00\"}', '{NULL}', '{2026-01-01}', '{2026-01-01}')",
			"Insert on redemptions"},
		{"idempotency_create", postgres.CreateIdempotenciesSQL, "('{key_1}', '{k}', '{\"\\\\x00\"}', '{2026-01-01}')",
			"Conflict Arbiter Indexes: idempotency_keys_pkey"},
		{"idempotency_complete", postgres.CompleteIdempotenciesSQL, "('{key_1}', '{k}', '{201}', '{\"\\\\x00\"}', '{\"\\\\x00\"}')",
			"Index Cond: ((key_id = r.key_id) AND (key = r.key))"},
	} {
		if p := plan(t, tc.name, tc.query, tc.args); !strings.Contains(p, tc.want) || strings.Contains(p, "Seq Scan") {
			t.Errorf("the batch's write %s does not find its row by key (%s):\n%s", tc.name, tc.want, p)
		}
	}
	// An order's redemptions: rows with a code and codeless rows, each
	// half through its partial unique index, by store and order, also in
	// the generic plan made on an empty table (a redeem batch reads them
	// with the reads by key).
	p := plan(t, "orders", postgres.OrderRedemptionsSQL, "('sto_1', '{ord-1,ord-2}')")
	if !strings.Contains(p, "redemptions_order_code") || !strings.Contains(p, "redemptions_order_promotion") ||
		strings.Count(p, "Index Cond: ((store_id = $1) AND (order_id = u.id))") != 2 {
		t.Errorf("orders' redemptions are not looked up by store and order in both partial indexes:\n%s", p)
	}
}

// TestPlanModes: the store's pool plans each execution; its reads by key
// plan each statement once, without sequential scans; a URL that sets
// plan_cache_mode sets it for both.
func TestPlanModes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := MustOpenSchema(t)
	for _, tc := range []struct{ url, pool, keys string }{
		{url, "force_custom_plan on", "force_generic_plan off"},
		{url + sep(url) + "plan_cache_mode=force_generic_plan", "force_generic_plan on", "force_generic_plan off"},
	} {
		s, err := postgres.Open(ctx, tc.url)
		if err != nil {
			t.Fatal(err)
		}
		pool, keys, err := s.PlanModes(ctx)
		_ = s.Close()
		if err != nil || pool != tc.pool || keys != tc.keys {
			t.Errorf("%s: plan_cache_mode %q and %q by key (%v), want %q and %q", tc.url, pool, keys, err, tc.pool, tc.keys)
		}
	}
}

// TestBatchWritePlanModes: the batch writes that plan their statements
// once per connection, without sequential scans (UsageTakeMany and the
// Idempotency-Key records' IdempotencyCreateMany and IdempotencyCompleteMany),
// hand the rest of the transaction back to the connection's settings, the
// URL's own included.
func TestBatchWritePlanModes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := MustOpenSchema(t)
	// record returns a new record of the Idempotency-Key k.
	record := func(k string) *storage.IdempotencyRecord {
		return &storage.IdempotencyRecord{KeyID: "key_1", Key: k, RequestHash: []byte{1}, Status: 201, Body: []byte("{}"),
			CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	}
	writes := []struct {
		name  string
		write func(ctx context.Context, tx storage.Tx, k string) error
	}{
		{"UsageTakeMany", func(ctx context.Context, tx storage.Tx, _ string) error {
			fit, err := storage.UsageTakeMany(ctx, tx, storage.Uses{})
			if err == nil && !fit {
				err = errors.New("no uses did not fit")
			}
			return err
		}},
		{"IdempotencyCreateMany", func(ctx context.Context, tx storage.Tx, k string) error {
			made, err := tx.IdempotencyCreateMany(ctx, []*storage.IdempotencyRecord{record(k)})
			if err == nil && !slices.Equal(made, []bool{true}) {
				err = fmt.Errorf("created %v, want [true]", made)
			}
			return err
		}},
		{"IdempotencyCompleteMany", func(ctx context.Context, tx storage.Tx, k string) error {
			if err := tx.IdempotencyCreate(ctx, record(k)); err != nil {
				return err
			}
			found, err := tx.IdempotencyCompleteMany(ctx, []*storage.IdempotencyRecord{record(k)})
			if err == nil && !slices.Equal(found, []bool{true}) {
				err = fmt.Errorf("completed %v, want [true]", found)
			}
			return err
		}},
	}
	for i, tc := range []struct{ url, want string }{
		{url, "force_custom_plan on"},
		{url + sep(url) + "plan_cache_mode=auto&enable_seqscan=off", "auto off"},
	} {
		s, err := postgres.Open(ctx, tc.url)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		for _, w := range writes {
			k := fmt.Sprintf("%s-%d", w.name, i)
			modes, err := s.PlanModesAfter(ctx, func(ctx context.Context, tx storage.Tx) error { return w.write(ctx, tx, k) })
			if err != nil || modes != tc.want {
				t.Errorf("%s: after %s %q (%v), want %q", tc.url, w.name, modes, err, tc.want)
			}
		}
		_ = s.Close()
	}
}

// sep returns what joins a parameter to url.
func sep(url string) string {
	if strings.Contains(url, "?") {
		return "&"
	}
	return "?"
}
