package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// TestStatementRollup checks that statements answer the same before and
// after the ledger's days are rolled up, for periods of the marketplace's
// zone (not UTC days), and that a day is rolled up only once it has been
// closed for an hour.
func TestStatementRollup(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setupAffiliate(t, open, "America/New_York")
		b.clock.Set(b.at(1, 1, 10, 0, 0))
		b.join(t, 500)
		l := b.link(t, b.affiliate, "mug")
		// An order every 7 hours for ten days and a half: some completed
		// (released), some cancelled (reversed).
		for i := range 36 {
			b.clock.Add(7 * time.Hour)
			id := fmt.Sprintf("o%d", i)
			b.place(t, id, b.click(t, l, ""), "", line("mug", int64(1000+100*i)))
			switch i % 3 {
			case 1:
				b.event(t, id, engine.OrderEventInput{ID: id + "-done", Type: promokit.EventCompleted})
			case 2:
				b.event(t, id, engine.OrderEventInput{ID: id + "-cancel", Type: promokit.EventCancelled})
			}
		}
		utc := func(day, hour, min, sec int) time.Time { return time.Date(2026, 1, day, hour, min, sec, 0, time.UTC) }
		queries := []struct {
			ctx context.Context
			q   engine.StatementQuery
		}{
			{b.affiliate, engine.StatementQuery{Party: b.aff.ID, From: b.at(1, 1, 0, 0, 0), To: b.at(2, 1, 0, 0, 0)}},
			{b.affiliate, engine.StatementQuery{Party: b.aff.ID, From: b.at(1, 3, 5, 0, 0), To: b.at(1, 8, 13, 30, 0)}},
			{b.seller, engine.StatementQuery{Party: b.shop.ID, From: b.at(1, 4, 0, 0, 0), To: b.at(1, 6, 0, 0, 0)}},
			{b.affiliate, engine.StatementQuery{Party: b.aff.ID, Counterparty: b.shop.ID, From: utc(5, 0, 0, 0), To: utc(10, 0, 0, 0)}},
		}
		statements := func() []*engine.Statement {
			t.Helper()
			var out []*engine.Statement
			for _, q := range queries {
				st, err := b.svc.GetStatement(q.ctx, q.q)
				if err != nil {
					t.Fatalf("GetStatement %+v: %v", q.q, err)
				}
				out = append(out, st)
			}
			return out
		}
		want := statements()
		if c := want[1].Currencies; len(c) != 1 || c[0].Accounts[0].Opening == (engine.Balance{}) || len(c[0].Accounts[0].Movements) < 3 {
			t.Fatalf("a statement with too little in it: %+v", want[1])
		}

		for _, step := range []struct {
			now, rolled time.Time
		}{
			{utc(6, 0, 30, 0), utc(5, 0, 0, 0)},    // January 5 closed only half an hour ago
			{utc(16, 0, 59, 59), utc(15, 0, 0, 0)}, // the same for January 16
			{utc(16, 1, 0, 0), utc(16, 0, 0, 0)},
			{utc(16, 2, 0, 0), utc(16, 0, 0, 0)}, // nothing more to roll up
		} {
			b.clock.Set(step.now)
			rolled, err := b.svc.RollupLedger(context.Background())
			if err != nil || !rolled.Equal(step.rolled) {
				t.Fatalf("RollupLedger at %v = %v, %v; want %v", step.now, rolled, err, step.rolled)
			}
			if diff := cmp.Diff(want, statements()); diff != "" {
				t.Fatalf("statements after rolling up until %v (-before +after):\n%s", rolled, diff)
			}
		}
		diffs, err := b.store.UsageCheck(context.Background())
		if err != nil || len(diffs) != 0 {
			t.Fatalf("roll-ups differ from the entries: %+v %v", diffs, err)
		}
	})
}
