package http

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/storage"
)

// TestPromotionETag runs two editors against one promotion and against the
// settings: the second to write with the version both read gets 412, and
// an edit without If-Match gets 428.
func TestPromotionETag(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		pp := "/v1/promotions/" + b.promo.ID
		alice := mustDo(t, b, b.seller, "GET", pp, nil, 200).Header.Get("ETag")
		bob := mustDo(t, b, b.admin, "GET", pp, nil, 200).Header.Get("ETag")
		if alice != `"1"` || bob != alice {
			t.Fatalf("ETags %s %s", alice, bob)
		}
		r := mustDo(t, b, b.seller, "PATCH", pp, map[string]any{"percent_off_bp": 1200}, 200, "If-Match", alice)
		if r.Header.Get("ETag") != `"2"` || decodeAs[promotionOut](t, r).PercentOff != 1200 {
			t.Errorf("first edit: %v %s", r.Header, r.Body)
		}
		r = b.c.do(t, "PATCH", pp, b.admin, map[string]any{"percent_off_bp": 900}, "If-Match", bob)
		if r.StatusCode != http.StatusPreconditionFailed || r.Problem.Code != promokit.EVersionMismatch {
			t.Errorf("second editor: %d %s", r.StatusCode, r.Body)
		}
		for _, im := range []string{"*", `W/"2"`, `"2", "3"`, "2", `"0"`, `"x"`} {
			r = b.c.do(t, "PATCH", pp, b.admin, map[string]any{"percent_off_bp": 900}, "If-Match", im)
			if r.StatusCode != http.StatusPreconditionFailed {
				t.Errorf("If-Match %s: %d %s", im, r.StatusCode, r.Body)
			}
		}
		r = b.c.do(t, "PATCH", pp, b.admin, map[string]any{"percent_off_bp": 900})
		if r.StatusCode != http.StatusPreconditionRequired || r.Problem.Code != promokit.EPreconditionNeeded {
			t.Errorf("no If-Match: %d %s", r.StatusCode, r.Body)
		}
		got := decodeAs[promotionOut](t, mustDo(t, b, b.admin, "GET", pp, nil, 200))
		if got.PercentOff != 1200 || got.Version != 2 {
			t.Errorf("after the edits: %+v", got.Promotion)
		}
		// A flag change needs no If-Match and moves the version.
		r = mustDo(t, b, b.seller, "POST", pp+"/deactivate", nil, 200)
		if r.Header.Get("ETag") != `"3"` || decodeAs[promotionOut](t, r).Status != promokit.StatusInactive {
			t.Errorf("deactivate: %v %s", r.Header, r.Body)
		}

		s1 := mustDo(t, b, b.admin, "GET", "/v1/settings", nil, 200).Header.Get("ETag")
		mustDo(t, b, b.admin, "PATCH", "/v1/settings", map[string]any{"name": "Bazaar"}, 200, "If-Match", s1)
		r = b.c.do(t, "PATCH", "/v1/settings", b.admin, map[string]any{"name": "Souk"}, "If-Match", s1)
		if r.StatusCode != http.StatusPreconditionFailed {
			t.Errorf("stale settings edit: %d %s", r.StatusCode, r.Body)
		}
		r = b.c.do(t, "PATCH", "/v1/settings", b.admin, map[string]any{"name": "Souk"})
		if r.StatusCode != http.StatusPreconditionRequired {
			t.Errorf("settings edit without If-Match: %d %s", r.StatusCode, r.Body)
		}
		r = mustDo(t, b, b.seller, "GET", "/v1/settings", nil, 200)
		if r.Header.Get("ETag") != `"2"` || decodeAs[promokit.Settings](t, r).Name != "Bazaar" {
			t.Errorf("settings: %v %s", r.Header, r.Body)
		}
	})
}

// TestPromotionStatus checks the derived status as the clock moves, and
// the status filter of the list.
func TestPromotionStatus(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.OpenSQLite)
	pp := "/v1/promotions/" + b.promo.ID
	r := mustCreate[promotionOut](t, b, b.seller, "POST", "/v1/promotions", map[string]any{
		"name": "Week", "type": "amount_off", "amount_off": 250, "ends_at": jan1().Add(7 * 24 * time.Hour),
	})
	if r.Status != promokit.StatusActive || r.ProductIDs == nil {
		t.Errorf("new promotion: %+v", r)
	}
	for _, step := range []struct {
		at     time.Duration
		promo  promokit.Status
		active int
	}{
		{0, promokit.StatusScheduled, 1},
		{25 * time.Hour, promokit.StatusActive, 2},
		{8 * 24 * time.Hour, promokit.StatusActive, 1},
	} {
		b.clock.Set(jan1().Add(step.at))
		if got := decodeAs[promotionOut](t, mustDo(t, b, b.seller, "GET", pp, nil, 200)).Status; got != step.promo {
			t.Errorf("at +%v: status %s, want %s", step.at, got, step.promo)
		}
		if n := b.count(t, b.seller, "/v1/promotions?status=active"); n != step.active {
			t.Errorf("at +%v: %d active, want %d", step.at, n, step.active)
		}
	}
}

// TestPromotionPolicy checks that P4 breaches are 422 with the rule, the
// limit and the value asked for, and that P4 codes cannot be edited.
func TestPromotionPolicy(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		mustDo(t, b, b.admin, "PATCH", "/v1/stores/"+b.shop.ID, map[string]any{"partner_promo_codes": true}, 200)
		ends := jan1().Add(20 * 24 * time.Hour)
		good := func() map[string]any {
			return map[string]any{"name": "Partner code", "type": "percent_off", "percent_off_bp": 2000, "product_ids": []string{"sku-1"},
				"total_uses": 20, "per_customer": 1, "ends_at": ends}
		}
		for _, tc := range []struct {
			name           string
			change         func(map[string]any)
			limit, current int64
		}{
			{"percent", func(m map[string]any) { m["percent_off_bp"] = 3500 }, 3000, 3500},
			{"amount", func(m map[string]any) { m["type"], m["amount_off"] = "amount_off", 100; delete(m, "percent_off_bp") }, 3000, 0},
			{"storewide", func(m map[string]any) { delete(m, "product_ids") }, 1, 0},
			{"uses", func(m map[string]any) { m["total_uses"] = 21 }, 20, 21},
			{"unlimited uses", func(m map[string]any) { delete(m, "total_uses") }, 20, -1},
			{"per customer", func(m map[string]any) { m["per_customer"] = 3 }, 2, 3},
			{"no end", func(m map[string]any) { delete(m, "ends_at") }, 31, 0},
			{"long window", func(m map[string]any) { m["ends_at"] = jan1().Add(40 * 24 * time.Hour) }, 31, 40},
			// Inside a month of its start, not of its creation (P4).
			{"late start", func(m map[string]any) {
				m["starts_at"], m["ends_at"] = jan1().Add(20*24*time.Hour), jan1().Add(45*24*time.Hour)
			}, 31, 45},
		} {
			in := good()
			tc.change(in)
			r := b.c.do(t, "POST", "/v1/promotions", b.seller, in)
			p := r.Problem
			if r.StatusCode != 422 || p.Code != promokit.EPolicy || p.Rule != "P4" || p.Limit == nil || *p.Limit != tc.limit || p.Current == nil || *p.Current != tc.current {
				t.Errorf("%s: %d %s, want P4 limit %d current %d", tc.name, r.StatusCode, r.Body, tc.limit, tc.current)
			}
		}
		p := mustCreatePromotion(t, b, b.seller, good())
		r := b.c.do(t, "PATCH", "/v1/promotions/"+p.ID, b.seller, map[string]any{"name": "New name"}, "If-Match", `"1"`)
		if r.StatusCode != 409 || r.Problem.Code != promokit.EImmutable || r.Problem.Rule != "P4" {
			t.Errorf("P4 edit: %d %s", r.StatusCode, r.Body)
		}
		// The rolling quota of codes: 20 in 30 days.
		r = b.c.do(t, "POST", "/v1/promotions/"+p.ID+"/code-jobs", b.seller, map[string]any{"count": 19}) // shop has 2 codes already
		if r.StatusCode != 422 || r.Problem.Rule != "P4" || *r.Problem.Limit != 20 || *r.Problem.Current != 2 {
			t.Errorf("P4 quota: %d %s", r.StatusCode, r.Body)
		}
		r = b.c.do(t, "POST", "/v1/promotions/"+p.ID+"/codes", b.seller, map[string]any{"code": "P4CODE", "usage_limit": 50})
		if r.StatusCode != 422 || r.Problem.Rule != "P4" || *r.Problem.Limit != 20 || *r.Problem.Current != 50 {
			t.Errorf("P4 code limit: %d %s", r.StatusCode, r.Body)
		}
		// At the quota, one more code or one imported row is refused with
		// the 20 codes that exist, in the number and in the message.
		mustDo(t, b, b.seller, "POST", "/v1/promotions/"+p.ID+"/code-jobs", map[string]any{"count": 18}, http.StatusAccepted)
		for name, r := range map[string]*response{
			"code":   b.c.do(t, "POST", "/v1/promotions/"+p.ID+"/codes", b.seller, map[string]any{"code": "NUMBER-21"}),
			"import": b.c.do(t, "POST", "/v1/promotions/"+p.ID+"/codes/import", b.seller, "code\r\nNUMBER-21\r\n", "Content-Type", "text/csv"),
		} {
			if r.StatusCode != 422 || r.Problem.Rule != "P4" || *r.Problem.Limit != 20 || *r.Problem.Current != 20 ||
				!strings.Contains(r.Problem.Detail, "20 were created in the last 30 days") {
				t.Errorf("P4 quota, %s: %d %s", name, r.StatusCode, r.Body)
			}
		}
	})
}

// TestPlatformPromotionHTTP: a seller asking for a platform promotion,
// on create or on edit, gets 403 forbidden as problem+json and nothing is
// written; the admin may create one.
func TestPlatformPromotionHTTP(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		before := b.count(t, b.admin, "/v1/promotions")
		body := map[string]any{"name": "Red envelope", "type": "amount_off", "amount_off": 300, "channel": "platform"}
		r := b.c.do(t, "POST", "/v1/promotions", b.seller, body)
		if r.StatusCode != http.StatusForbidden || r.Problem.Code != promokit.EForbidden {
			t.Errorf("seller creates a platform promotion: %d %s", r.StatusCode, r.Body)
		}
		pp := "/v1/promotions/" + b.promo.ID
		r = b.c.do(t, "PATCH", pp, b.seller, map[string]any{"channel": "platform"}, "If-Match", `"1"`)
		if r.StatusCode != http.StatusForbidden || r.Problem.Code != promokit.EForbidden {
			t.Errorf("seller makes a promotion platform: %d %s", r.StatusCode, r.Body)
		}
		got := decodeAs[promotionOut](t, mustDo(t, b, b.admin, "GET", pp, nil, http.StatusOK))
		if got.Channel != promokit.ChannelStore || got.Version != 1 {
			t.Errorf("after the refused edit: %+v", got.Promotion)
		}
		if n := b.count(t, b.admin, "/v1/promotions"); n != before {
			t.Errorf("%d promotions after the refusals, want %d", n, before)
		}
		body["store_id"] = b.shop.ID
		if p := mustCreatePromotion(t, b, b.admin, body); p.Channel != promokit.ChannelPlatform {
			t.Errorf("the admin's platform promotion: %+v", p)
		}
	})
}

// TestPagination walks a list page by page.
func TestPagination(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.OpenSQLite)
	for i := range 5 {
		mustCreatePromotion(t, b, b.seller, map[string]any{"name": fmt.Sprint("P", i), "type": "amount_off", "amount_off": 100})
	}
	seen := map[string]bool{}
	after, pages := "", 0
	for {
		r := mustDo(t, b, b.seller, "GET", "/v1/promotions?limit=2&after="+after, nil, 200)
		l := decodeAs[listJSON[promotionOut]](t, r)
		pages++
		for _, p := range l.Data {
			if seen[p.ID] {
				t.Fatalf("%s listed twice", p.ID)
			}
			seen[p.ID] = true
		}
		if l.NextCursor == "" {
			break
		}
		after = l.NextCursor
	}
	if len(seen) != 6 || pages != 3 && pages != 4 {
		t.Errorf("%d promotions on %d pages", len(seen), pages)
	}
	r := mustDo(t, b, b.seller, "GET", "/v1/promotions?limit=100", nil, 200)
	if l := decodeAs[listJSON[promotionOut]](t, r); l.NextCursor != "" || len(l.Data) != 6 {
		t.Errorf("one page: %d items, cursor %q", len(l.Data), l.NextCursor)
	}
	if r := mustDo(t, b, b.admin, "GET", "/v1/partners?limit=5", nil, 200); string(r.Body) == "" {
		t.Errorf("empty body")
	}
}
