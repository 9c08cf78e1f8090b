package http

import (
	encsv "encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/csv"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/storage"
)

// redemptionPage is a page of a code's usage history as a client reads it.
type redemptionPage struct {
	Data       []map[string]any `json:"data"`
	NextCursor string           `json:"next_cursor"`
}

// TestCodeRedemptionsAPI: a code's usage history in pages, by id, for the
// callers that see the code; a foreign principal is told what a missing
// code gets, and bad input is a problem.
func TestCodeRedemptionsAPI(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		b.clock.Set(jan1().Add(48 * time.Hour)) // the promotion has started
		for _, order := range []string{"ord-1", "ord-2", "ord-3"} {
			mustDo(t, b, b.checkout, "POST", "/v1/redeem", cartBody(b, order), http.StatusCreated)
		}
		mustDo(t, b, b.checkout, "POST", "/v1/stores/"+b.shop.ID+"/orders/ord-2/rollback", nil, http.StatusOK)
		path := "/v1/codes/" + strings.ToLower(b.shopCode) + "/redemptions"

		// Pages of two, following next_cursor.
		var got []string
		for page, next := 0, path+"?limit=2"; next != ""; page++ {
			p := decodeAs[redemptionPage](t, mustDo(t, b, b.seller, "GET", next, nil, http.StatusOK))
			for _, r := range p.Data {
				got = append(got, fmt.Sprint(r["order_id"], " ", r["state"], " ", r["discount"]))
				for _, key := range []string{"customer_key", "request_hash", "id"} {
					if _, ok := r[key]; ok {
						t.Errorf("a redemption shows %s: %v", key, r)
					}
				}
				if r["code"] != b.shopCode || r["created_at"] == nil {
					t.Errorf("redemption %v", r)
				}
			}
			next = ""
			if p.NextCursor != "" {
				next = path + "?limit=2&after=" + p.NextCursor
			}
			if page > 2 {
				t.Fatalf("pages do not end: %v", got)
			}
		}
		// 10% of the $50 cart.
		if want := []string{"ord-1 redeemed 500", "ord-2 rolled_back 500", "ord-3 redeemed 500"}; !slices.Equal(got, want) {
			t.Errorf("history %v, want %v", got, want)
		}
		for _, key := range []string{b.admin, b.partner} {
			if p := decodeAs[redemptionPage](t, mustDo(t, b, key, "GET", path, nil, http.StatusOK)); len(p.Data) != 3 || p.NextCursor != "" {
				t.Errorf("history: %+v", p)
			}
		}
		// An unused code of the store has an empty history.
		if p := decodeAs[redemptionPage](t, mustDo(t, b, b.seller, "GET", "/v1/codes/"+b.shopCode2+"/redemptions", nil, http.StatusOK)); p.Data == nil || len(p.Data) != 0 {
			t.Errorf("an unused code: %+v", p)
		}

		// A foreign principal gets the answer of a missing code.
		strip := func(r *response) string { return strings.Replace(string(r.Body), r.Problem.RequestID, "", 1) }
		missing := mustDo(t, b, b.foreign, "GET", "/v1/codes/NOSUCHCODE/redemptions", nil, http.StatusNotFound)
		for name, tc := range map[string]struct{ key, code string }{
			"foreign seller":           {b.foreign, b.shopCode},
			"partner, unassigned code": {b.partner, b.shopCode2},
			"seller, another store's":  {b.seller, b.otherCode},
			"impossible code":          {b.foreign, "no%20such"},
		} {
			r := b.c.do(t, "GET", "/v1/codes/"+tc.code+"/redemptions", tc.key, nil)
			if r.StatusCode != http.StatusNotFound || strip(r) != strip(missing) || strings.Contains(string(r.Body), "ord-") {
				t.Errorf("%s: %d %s, want the answer of a missing code: %s", name, r.StatusCode, r.Body, missing.Body)
			}
		}
		mustDo(t, b, b.checkout, "GET", path, nil, http.StatusForbidden)
		mustDo(t, b, b.storefront, "GET", path, nil, http.StatusForbidden)

		// Bad input: a problem naming the field, before any read.
		for _, tc := range []struct{ query, field string }{
			{"?after=abc", "after"},
			{"?after=-5", "after"},
			{"?after=" + strings.Repeat("9", 201), "after"},
			{"?limit=0", "limit"},
			{"?limit=1001", "limit"},
			{"?limit=ten", "limit"},
			{"?after=%00", "after"},
		} {
			r := b.c.do(t, "GET", path+tc.query, b.seller, nil)
			if r.StatusCode != http.StatusUnprocessableEntity || len(r.Problem.Errors) != 1 || r.Problem.Errors[0].Field != tc.field {
				t.Errorf("%s: %d %s, want 422 on %s", tc.query, r.StatusCode, r.Body, tc.field)
			}
		}
		r := b.c.do(t, "GET", "/v1/codes/SHOP%00CODE/redemptions", b.seller, nil)
		if r.StatusCode != http.StatusUnprocessableEntity || r.Problem.Errors[0].Code != codeInvalidText {
			t.Errorf("a NUL in the code: %d %s", r.StatusCode, r.Body)
		}
	})
}

// TestStoreCodeExport: every code of a store, across its promotions, as
// CSV with the columns of a promotion's export, streamed; for the admin and
// the store's seller only.
func TestStoreCodeExport(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		// A second promotion of the store, with a restricted code under
		// limits, and more codes than one flush holds.
		second := mustCreatePromotion(t, b, b.seller, map[string]any{"name": "Mugs, 20%", "type": "percent_off", "percent_off_bp": 2000,
			"description": "=HYPERLINK(\"https://evil.example\")\nfor mugs only",
			"product_ids": []string{"sku-1"}, "starts_at": jan1().Add(24 * time.Hour), "ends_at": jan1().Add(10 * 24 * time.Hour)})
		mustDo(t, b, b.seller, "POST", "/v1/promotions/"+second.ID+"/codes",
			map[string]any{"code": "MUG-ANN", "customer_id": "cus_42", "usage_limit": 5, "per_customer_limit": 2}, http.StatusCreated)
		var file strings.Builder
		file.WriteString("code\n")
		const n = 1200
		for i := range n {
			fmt.Fprintf(&file, "STORE%05d\n", i)
		}
		mustDo(t, b, b.seller, "POST", "/v1/promotions/"+second.ID+"/codes/import", file.String(), http.StatusCreated, "Content-Type", "text/csv")
		b.clock.Set(jan1().Add(48 * time.Hour))
		mustDo(t, b, b.checkout, "POST", "/v1/redeem", cartBody(b, "ord-1"), http.StatusCreated)

		path := "/v1/stores/" + b.shop.ID + "/codes.csv"
		for _, key := range []string{b.seller, b.admin} {
			r := mustDo(t, b, key, "GET", path, nil, http.StatusOK)
			if ct := r.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if cd := r.Header.Get("Content-Disposition"); cd != `attachment; filename="store-`+b.shop.ID+`-codes.csv"` {
				t.Errorf("Content-Disposition %q", cd)
			}
			if len(r.TransferEncoding) == 0 || r.TransferEncoding[0] != "chunked" {
				t.Errorf("the export was not streamed: Transfer-Encoding %v, Content-Length %d", r.TransferEncoding, r.ContentLength)
			}
			recs, err := encsv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(recs[0], csv.CodeHeader()) {
				t.Fatalf("header %v", recs[0])
			}
			col := map[string]int{}
			for i, name := range recs[0] {
				col[name] = i
			}
			rows := map[string][]string{}
			for _, rec := range recs[1:] {
				rows[rec[col["code"]]] = rec
			}
			if len(recs) != n+4 || len(rows) != n+3 || rows[b.otherCode] != nil {
				t.Fatalf("%d rows, %d codes, another store's: %v", len(recs)-1, len(rows), rows[b.otherCode])
			}
			// The settings that matter under P4, and the uses.
			cells := func(code string, names ...string) string {
				var out []string
				for _, name := range names {
					out = append(out, rows[code][col[name]])
				}
				return strings.Join(out, "|")
			}
			names := []string{"promotion_id", "promotion_name", "percent_off_bp", "product_ids", "customer_id", "usage_limit",
				"per_customer_limit", "starts_at", "ends_at", "active", "created_at", "uses", "promotion_description"}
			for code, want := range map[string]string{
				b.shopCode: b.promo.ID + "|" + b.promoName + "|1000|||||2026-01-02T09:00:00Z||true|2026-01-01T09:00:00Z|1|",
				// The description as written, neutralised.
				"MUG-ANN": second.ID + "|Mugs, 20%|2000|sku-1|cus_42|5|2|2026-01-02T09:00:00Z|2026-01-11T09:00:00Z|true|2026-01-01T09:00:00Z|0|" +
					"'=HYPERLINK(\"https://evil.example\")\nfor mugs only",
			} {
				if got := cells(code, names...); got != want {
					t.Errorf("%s: %s, want %s", code, got, want)
				}
			}
		}

		// Others: the problem of a missing store, not an empty file.
		missing := mustDo(t, b, b.seller, "GET", "/v1/stores/sto_nope/codes.csv", nil, http.StatusNotFound)
		r := mustDo(t, b, b.foreign, "GET", path, nil, http.StatusNotFound)
		if r.Header.Get("Content-Type") == "text/csv; charset=utf-8" || r.Problem.Code != missing.Problem.Code {
			t.Errorf("foreign seller: %s %s", r.Header.Get("Content-Type"), r.Body)
		}
		mustDo(t, b, b.admin, "GET", "/v1/stores/sto_nope/codes.csv", nil, http.StatusNotFound)
		for _, key := range []string{b.partner, b.checkout, b.storefront} {
			if r := mustDo(t, b, key, "GET", path, nil, http.StatusForbidden); strings.Contains(string(r.Body), b.shopCode) {
				t.Errorf("a forbidden export shows codes: %s", r.Body)
			}
		}
		mustDo(t, b, "", "GET", path, nil, http.StatusUnauthorized)
		r = b.c.do(t, "GET", "/v1/stores/sto%00x/codes.csv", b.admin, nil)
		if r.StatusCode != http.StatusUnprocessableEntity || r.Problem.Errors[0].Code != codeInvalidText {
			t.Errorf("a NUL in the store id: %d %s", r.StatusCode, r.Body)
		}
		// Its own store's export for the other seller.
		r = mustDo(t, b, b.foreign, "GET", "/v1/stores/"+b.other.ID+"/codes.csv", nil, http.StatusOK)
		if recs, _ := encsv.NewReader(strings.NewReader(string(r.Body))).ReadAll(); len(recs) != 2 || recs[1][0] != b.otherCode {
			t.Errorf("the other store's export: %v", recs)
		}
	})
}

// TestStoreCodeExportEmpty: a store without codes exports the header row
// alone.
func TestStoreCodeExportEmpty(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.OpenSQLite)
	st := mustCreate[promokit.Store](t, b, b.admin, "POST", "/v1/stores", map[string]any{"name": "Empty"})
	r := mustDo(t, b, b.admin, "GET", "/v1/stores/"+st.ID+"/codes.csv", nil, http.StatusOK)
	if want := strings.Join(csv.CodeHeader(), ",") + "\r\n"; string(r.Body) != want {
		t.Errorf("empty export %q, want %q", r.Body, want)
	}
}
