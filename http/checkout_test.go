package http

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storetest"
)

// TestCheckoutFlow validates, redeems, replays, refuses and rolls back over
// HTTP; every response also goes through the OpenAPI check.
func TestCheckoutFlow(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(*testing.T) engine.Store) {
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
