package load

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"
)

// payoutFixture is what order-payouts adds to the order scenarios: a
// payable balance of the run's store to the bench's affiliate, so large
// that the payouts of a run never exhaust it.
type payoutFixture struct {
	payable int64
}

// payableOrderAmount is the amount of the one order whose released
// commission the payouts draw on: at the bench store's 5%, 50,000,000,000
// minor units.
const payableOrderAmount = 1_000_000_000_000

// seedPayouts places and completes one attributed order of the run's
// store for payableOrderAmount, whose commission is released at once (no
// hold by default), and returns its payable commission.
func (b *bench) seedPayouts(ctx context.Context) (*payoutFixture, error) {
	events := "/v1/stores/" + b.storeID + "/orders/bench-payable-" + b.run + "/events"
	var placed struct {
		Order struct {
			Attribution *struct{} `json:"attribution"`
		} `json:"order"`
	}
	err := b.api.callAs(ctx, b.checkoutKey, "POST", events, map[string]any{
		"id": "bench-payable-placed", "type": "placed", "currency": b.currency, "visitor_id": SeedVisitor(b.run, 0),
		"lines": []map[string]any{{"product_id": "bench-product", "quantity": 1, "amount": payableOrderAmount}},
	}, http.StatusCreated, &placed)
	if err != nil {
		return nil, fmt.Errorf("place the payable order: %w", err)
	}
	if placed.Order.Attribution == nil {
		return nil, fmt.Errorf("the payable order was not attributed")
	}
	var done struct {
		Entries []struct {
			Status string `json:"status"`
			Amount int64  `json:"amount"`
		} `json:"entries"`
	}
	err = b.api.callAs(ctx, b.checkoutKey, "POST", events, map[string]any{"id": "bench-payable-completed", "type": "completed"},
		http.StatusCreated, &done)
	if err != nil {
		return nil, fmt.Errorf("complete the payable order: %w", err)
	}
	f := &payoutFixture{}
	for _, e := range done.Entries {
		if e.Status == "payable" {
			f.payable += e.Amount
		}
	}
	if f.payable <= 0 {
		return nil, fmt.Errorf("the payable order released nothing: is the affiliate program's hold period above 0?")
	}
	fmt.Fprintf(b.log, "payouts: %s payable from %s to %s\n", group(f.payable), b.storeID, b.click.partnerID)
	return f, nil
}

// payoutStep returns an order-payouts step: the clients report attributed
// orders exactly as order-attributed does, while one more client, once the
// warm-up is over and for the whole measured window, records payouts of 1
// minor unit from the run's store to the affiliate, one after another, as
// fast as the server answers (POST /v1/payouts, the admin's key). Each
// payout locks the pair's account and sums its payable balance in the
// transaction that writes it; the step measures what that costs the
// order events. Its check adds the payouts recorded, and fails the step
// when one was not.
func (b *bench) payoutStep(ctx context.Context, clients int, duration time.Duration) (*step, error) {
	st, err := b.orderStep(ctx, ScenarioOrderAttr, clients)
	if err != nil {
		return nil, err
	}
	if b.payouts == nil {
		f, err := b.seedPayouts(ctx)
		if err != nil {
			st.close()
			return nil, err
		}
		b.payouts = f
	}
	var (
		recorded, failed atomic.Int64
		firstErr         atomic.Pointer[string]
		elapsed          time.Duration
	)
	body := map[string]any{"payer": b.storeID, "payee": b.click.partnerID, "currency": b.currency, "amount": 1,
		"paid_on": time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly), "reference": "bench " + b.run}
	st.window = func(parent context.Context) {
		ctx, cancel := context.WithTimeout(parent, duration)
		defer cancel()
		start := time.Now()
		for first := true; first || ctx.Err() == nil; first = false {
			// The first payout of the window is waited for even when
			// the window is shorter than one payout takes, so that the
			// check always has one to count.
			call := ctx
			if first {
				call = parent
			}
			err := b.api.call(call, "POST", "/v1/payouts", body, http.StatusCreated, nil)
			switch {
			case err == nil:
				recorded.Add(1)
			case call.Err() != nil: // the window closed during the call
			default:
				if failed.Add(1) == 1 {
					msg := err.Error()
					firstErr.Store(&msg)
				}
			}
		}
		elapsed = time.Since(start)
	}
	check := st.check
	st.check = func(ctx context.Context, m measurement) (string, []string, error) {
		note, problems, err := check(ctx, m)
		if err != nil {
			return note, problems, err
		}
		n := recorded.Load()
		rate := float64(n) / max(elapsed.Seconds(), 1e-9)
		note = fmt.Sprintf("%s, while %s payouts were recorded (%.0f/s)", note, group(n), rate)
		if f := failed.Load(); f > 0 {
			problems = append(problems, fmt.Sprintf("%s payouts failed; the first: %s", group(f), *firstErr.Load()))
		}
		if n == 0 {
			problems = append(problems, "no payout was recorded during the window")
		}
		return note, problems, nil
	}
	return st, nil
}
