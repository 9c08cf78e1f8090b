package http

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/docs"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// TestCheckoutFlow validates, redeems, replays, refuses and rolls back over
// HTTP; every response also goes through the OpenAPI check.
func TestCheckoutFlow(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		// Before its start the promotion does not apply: 200, with a reason.
		r := mustDo(t, b, b.checkout, "POST", "/v1/validate", cartBody(b, ""), http.StatusOK)
		if !strings.Contains(string(r.Body), `"reason":"not_started"`) {
			t.Fatalf("validate before the start: %s", r.Body)
		}
		b.clock.Set(jan1().Add(48 * time.Hour))
		r = mustDo(t, b, b.checkout, "POST", "/v1/validate", cartBody(b, ""), http.StatusOK)
		var priced struct {
			Discount int64 `json:"discount"`
			Total    int64 `json:"total"`
		}
		if err := json.Unmarshal(r.Body, &priced); err != nil || priced.Discount != 500 || priced.Total != 4500 {
			t.Fatalf("validate: %s", r.Body)
		}
		mustDo(t, b, b.checkout, "POST", "/v1/redeem", cartBody(b, "ord-1"), http.StatusCreated)
		r = mustDo(t, b, b.checkout, "POST", "/v1/redeem", cartBody(b, "ord-1"), http.StatusOK)
		if !strings.Contains(string(r.Body), `"replayed":true`) {
			t.Fatalf("replay: %s", r.Body)
		}
		other := cartBody(b, "ord-1")
		other["codes"] = []string{b.shopCode2}
		mustDo(t, b, b.checkout, "POST", "/v1/redeem", other, http.StatusConflict)
		unknown := cartBody(b, "ord-2")
		unknown["codes"] = []string{"NOPE-NOPE"}
		r = mustDo(t, b, b.checkout, "POST", "/v1/redeem", unknown, http.StatusConflict)
		if !strings.Contains(string(r.Body), `"code":"redemption_refused"`) || !strings.Contains(string(r.Body), "not_found") {
			t.Fatalf("refused: %s", r.Body)
		}
		r = mustDo(t, b, b.checkout, "POST", "/v1/stores/"+b.shop.ID+"/orders/ord-1/rollback", nil, http.StatusOK)
		if !strings.Contains(string(r.Body), `"state":"rolled_back"`) {
			t.Fatalf("rollback: %s", r.Body)
		}
		mustDo(t, b, b.checkout, "POST", "/v1/stores/"+b.shop.ID+"/orders/ord-404/rollback", nil, http.StatusNotFound)
		mustDo(t, b, b.checkout, "POST", "/v1/stores/"+b.other.ID+"/orders/ord-1/rollback", nil, http.StatusNotFound)
		// Reserve while the payment runs, then redeem the hold.
		held := cartBody(b, "ord-5")
		held["hold_seconds"] = 60
		r = mustDo(t, b, b.checkout, "POST", "/v1/reserve", held, http.StatusCreated)
		if !strings.Contains(string(r.Body), `"state":"held"`) {
			t.Fatalf("reserve: %s", r.Body)
		}
		mustDo(t, b, b.checkout, "POST", "/v1/reserve", held, http.StatusOK)
		r = mustDo(t, b, b.checkout, "POST", "/v1/redeem", cartBody(b, "ord-5"), http.StatusCreated)
		if !strings.Contains(string(r.Body), `"state":"redeemed"`) {
			t.Fatalf("redeem of a hold: %s", r.Body)
		}
		held = cartBody(b, "ord-6")
		held["hold_seconds"] = 90000
		mustDo(t, b, b.checkout, "POST", "/v1/reserve", held, http.StatusUnprocessableEntity)
		mustDo(t, b, b.checkout, "POST", "/v1/stores/"+b.shop.ID+"/orders/ord-5/release", nil, http.StatusOK)
		bad := cartBody(b, "ord-3")
		bad["customer"] = map[string]any{"email": "not an address"}
		mustDo(t, b, b.checkout, "POST", "/v1/redeem", bad, http.StatusUnprocessableEntity)
	})
}

// TestRollbackCompletedHTTP: the rollback of an order that order events
// completed is 409 conflict, as its cancelled event is, and gives no use
// back; an order that is only placed is rolled back.
func TestRollbackCompletedHTTP(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		b.clock.Set(jan1().Add(48 * time.Hour))
		orders := "/v1/stores/" + b.shop.ID + "/orders/"
		mustDo(t, b, b.checkout, "POST", "/v1/redeem", cartBody(b, "ord-done"), http.StatusCreated)
		event(t, b, "ord-done", placedEvent("done-placed", "", 4500), http.StatusCreated)
		event(t, b, "ord-done", map[string]any{"id": "done-paid", "type": "paid"}, http.StatusCreated)
		event(t, b, "ord-done", map[string]any{"id": "done-completed", "type": "completed"}, http.StatusCreated)
		cancel := b.c.do(t, "POST", orders+"ord-done/events", b.checkout, map[string]any{"id": "done-cancelled", "type": "cancelled"})
		r := b.c.do(t, "POST", orders+"ord-done/rollback", b.checkout, nil)
		if r.StatusCode != http.StatusConflict || r.Problem.Code != cancel.Problem.Code || cancel.StatusCode != http.StatusConflict {
			t.Fatalf("rollback of a completed order: %d %s; its cancelled event: %d %s", r.StatusCode, r.Body, cancel.StatusCode, cancel.Body)
		}
		promo := decodeAs[promotionOut](t, mustDo(t, b, b.seller, "GET", "/v1/promotions/"+b.promo.ID, nil, http.StatusOK))
		if promo.Uses != 1 {
			t.Errorf("uses after the refused rollback: %d, want 1", promo.Uses)
		}
		placed := cartBody(b, "ord-open")
		placed["codes"] = []string{b.shopCode2}
		mustDo(t, b, b.checkout, "POST", "/v1/redeem", placed, http.StatusCreated)
		event(t, b, "ord-open", placedEvent("open-placed", "", 4500), http.StatusCreated)
		r = mustDo(t, b, b.checkout, "POST", orders+"ord-open/rollback", nil, http.StatusOK)
		if !strings.Contains(string(r.Body), `"state":"rolled_back"`) {
			t.Fatalf("rollback of a placed order: %s", r.Body)
		}
	})
}

// TestReserveCommitPriced: priced is the priced cart when a call prices
// the order (a new reserve or redeem) and null when it prices nothing: a
// replay, and the redeem that commits a reservation, which moves the held
// uses as they were priced. docs/openapi.json says the same of priced.
func TestReserveCommitPriced(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		b.clock.Set(jan1().Add(48 * time.Hour))
		held := cartBody(b, "ord-held")
		held["hold_seconds"] = 60
		for _, step := range []struct {
			name     string
			path     string
			body     map[string]any
			status   int
			priced   bool
			replayed bool
		}{
			{"reserve", "/v1/reserve", held, http.StatusCreated, true, false},
			{"reserve again", "/v1/reserve", held, http.StatusOK, false, true},
			{"commit", "/v1/redeem", cartBody(b, "ord-held"), http.StatusCreated, false, false},
			{"commit again", "/v1/redeem", cartBody(b, "ord-held"), http.StatusOK, false, true},
			{"redeem", "/v1/redeem", cartBody(b, "ord-direct"), http.StatusCreated, true, false},
		} {
			res := decodeAs[engine.RedeemResult](t, mustDo(t, b, b.checkout, "POST", step.path, step.body, step.status))
			if (res.Priced != nil) != step.priced || res.Replayed != step.replayed || res.Priced != nil && res.Priced.Discount != 500 {
				t.Errorf("%s: priced %+v, replayed %v; want priced %v, replayed %v", step.name, res.Priced, res.Replayed, step.priced, step.replayed)
			}
		}
	})
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Description string `json:"description"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(docs.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	if d := doc.Components.Schemas["RedeemResult"].Properties["priced"].Description; !strings.Contains(d, "replay") || !strings.Contains(d, "commits a reservation") {
		t.Errorf("docs/openapi.json, RedeemResult.priced: %q does not say it is null on a replay and on the commit of a reservation", d)
	}
}

// TestCheckoutAutomaticHTTP: validate applies the store's automatic
// promotions with the codes, for a checkout and a storefront key; redeem
// writes a codeless row for each, answers it again on a replay, refuses
// an order whose listed automatic promotions differ, and rollback gives
// the uses back. Every response also goes through the OpenAPI check.
func TestCheckoutAutomaticHTTP(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setup(t, open)
		ten := mustCreate[promotionOut](t, b, b.seller, "POST", "/v1/promotions", map[string]any{"name": "Ten off", "type": "percent_off",
			"percent_off_bp": 1000, "automatic": true, "priority": 1, "starts_at": jan1().Format(time.RFC3339)})
		b.clock.Set(jan1().Add(48 * time.Hour))
		type priced struct {
			Discount int64 `json:"discount"`
			Total    int64 `json:"total"`
			Applied  []struct {
				Code        string `json:"code"`
				PromotionID string `json:"promotion_id"`
				Automatic   bool   `json:"automatic"`
				Discount    int64  `json:"discount"`
			} `json:"applied"`
		}
		// $50 of sku-1: 10% automatic and 10% with the code, both on $50.
		for _, key := range []string{b.checkout, b.storefront} {
			r := mustDo(t, b, key, "POST", "/v1/validate", cartBody(b, ""), http.StatusOK)
			pc := decodeAs[priced](t, r)
			if pc.Discount != 1000 || pc.Total != 4000 || len(pc.Applied) != 2 || pc.Applied[0].Code != "" || !pc.Applied[0].Automatic ||
				pc.Applied[0].PromotionID != ten.ID || pc.Applied[1].Code != b.shopCode || pc.Applied[1].Automatic {
				t.Fatalf("validate: %s", r.Body)
			}
		}
		body := cartBody(b, "ord-1")
		body["automatic"] = []string{ten.ID}
		r := mustDo(t, b, b.checkout, "POST", "/v1/redeem", body, http.StatusCreated)
		if !strings.Contains(string(r.Body), `"code":"","promotion_id":"`+ten.ID+`","discount":500`) {
			t.Fatalf("redeem: %s", r.Body)
		}
		r = mustDo(t, b, b.checkout, "POST", "/v1/redeem", body, http.StatusOK)
		if !strings.Contains(string(r.Body), `"replayed":true`) || !strings.Contains(string(r.Body), `"code":"","promotion_id":"`+ten.ID+`"`) {
			t.Fatalf("replay: %s", r.Body)
		}
		// Listed differently, the order is refused, naming the promotion.
		body = cartBody(b, "ord-2")
		body["automatic"] = []string{}
		r = mustDo(t, b, b.checkout, "POST", "/v1/redeem", body, http.StatusConflict)
		if r.Problem.Code != engine.RedemptionRefused || len(r.Problem.Errors) != 1 || r.Problem.Errors[0].Field != "automatic" ||
			r.Problem.Errors[0].Code != "not_listed" || !strings.Contains(r.Problem.Errors[0].Message, ten.ID) {
			t.Fatalf("not listed: %s", r.Body)
		}
		body["automatic"] = []string{ten.ID, ten.ID}
		mustDo(t, b, b.checkout, "POST", "/v1/redeem", body, http.StatusUnprocessableEntity)
		// Without codes, held then released.
		body = cartBody(b, "ord-3")
		delete(body, "codes")
		body["hold_seconds"] = 60
		r = mustDo(t, b, b.checkout, "POST", "/v1/reserve", body, http.StatusCreated)
		if !strings.Contains(string(r.Body), `"code":"","promotion_id":"`+ten.ID+`","discount":500,"state":"held"`) {
			t.Fatalf("reserve without codes: %s", r.Body)
		}
		mustDo(t, b, b.checkout, "POST", "/v1/stores/"+b.shop.ID+"/orders/ord-3/release", nil, http.StatusOK)
		r = mustDo(t, b, b.checkout, "POST", "/v1/stores/"+b.shop.ID+"/orders/ord-1/rollback", nil, http.StatusOK)
		if strings.Count(string(r.Body), `"state":"rolled_back"`) != 2 {
			t.Fatalf("rollback: %s", r.Body)
		}
		got := mustDo(t, b, b.seller, "GET", "/v1/promotions/"+ten.ID, nil, http.StatusOK)
		if p := decodeAs[promotionOut](t, got); p.Uses != 0 || p.DiscountSpent != 0 {
			t.Fatalf("after rollback and release: %s", got.Body)
		}
		diffs, err := b.store.UsageCheck(t.Context())
		if err != nil || len(diffs) != 0 {
			t.Fatalf("counters differ from rows: %+v %v", diffs, err)
		}
	})
}
