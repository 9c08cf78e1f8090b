package http

import (
	"context"
	encsv "encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// TestCodeImport checks that an import is all or nothing and lists its
// bad rows by number.
func TestCodeImport(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open, func(c *Config) { c.ImportLimit = 4096 })
		path := "/v1/promotions/" + b.promo.ID + "/codes/import"
		codes := "/v1/promotions/" + b.promo.ID + "/codes"
		before := b.count(t, b.admin, codes)
		bad := "code,usage_limit\r\nGOOD1,\r\nbad code,\r\nGOOD1,\r\nshopcode1,\r\nGOOD2,ten\r\nGOOD3,5\r\n"
		r := b.c.do(t, "POST", path, b.seller, bad, "Content-Type", "text/csv")
		if r.StatusCode != 422 || r.Problem.Code != promokit.EInvalid {
			t.Fatalf("bad file: %d %s", r.StatusCode, r.Body)
		}
		var rows []string
		for _, e := range r.Problem.Errors {
			rows = append(rows, e.Field+" "+e.Code)
		}
		if got, want := strings.Join(rows, ", "), "row 3 invalid, row 4 duplicate_in_file, row 5 code_taken, row 6 invalid"; got != want {
			t.Errorf("row errors %q, want %q", got, want)
		}
		if after := b.count(t, b.admin, codes); after != before {
			t.Errorf("a refused import wrote: %d codes before, %d after", before, after)
		}

		for _, tc := range []struct {
			name, body, ct string
			status         int
			code, field    string
		}{
			{"header", "coupon\nX1\n", "text/csv", 422, "unknown_column", "row 1"},
			{"empty", "", "text/csv", 422, "missing_header", "row 1"},
			{"header only", "code\n", "text/csv", 422, "empty", "body"},
			{"json", `{"code":"X"}`, "application/json", 415, "", ""},
			{"too large", "code\n" + strings.Repeat("ABCDEFGH\n", 500), "text/csv", 413, "", ""},
			{"nul", "code,customer_id\nNUL-1,cus\x001\n", "text/csv", 422, "invalid_text", "row 2"},
			{"not utf-8", "code,partner_id\nBAD-1,par_\xff\n", "text/csv", 422, "invalid_text", "row 2"},
		} {
			r := b.c.do(t, "POST", path, b.seller, tc.body, "Content-Type", tc.ct)
			if r.StatusCode != tc.status {
				t.Errorf("%s: %d %s, want %d", tc.name, r.StatusCode, r.Body, tc.status)
				continue
			}
			if tc.field != "" && (len(r.Problem.Errors) != 1 || r.Problem.Errors[0].Field != tc.field || r.Problem.Errors[0].Code != tc.code) {
				t.Errorf("%s: errors %+v, want %s %s", tc.name, r.Problem.Errors, tc.field, tc.code)
			}
		}

		good := "\ufeffCode,Usage_Limit,Partner_ID\nnew-1,5,\nNEW-2,," + b.partnr.ID + "\n\n"
		r = mustDo(t, b, b.seller, "POST", path, good, 201, "Content-Type", "text/csv; charset=utf-8")
		if string(r.Body) != `{"imported":2}`+"\n" || r.Header.Get("Location") != codes {
			t.Errorf("import: %v %s", r.Header, r.Body)
		}
		c := decodeAs[promokit.Code](t, mustDo(t, b, b.partner, "GET", "/v1/codes/new-2", nil, 200))
		if c.PartnerID != b.partnr.ID || c.PromotionID != b.promo.ID {
			t.Errorf("imported code %+v", c)
		}
		if after := b.count(t, b.admin, codes); after != before+2 {
			t.Errorf("codes: %d before, %d after", before, after)
		}
	})
}

// TestCodeImportLarge imports files of more codes than one transaction
// writes (engine.DefaultImportChunk), in random order, with quoted cells and
// CRLF line ends: one refused on its last row writes nothing, the other
// writes every code.
func TestCodeImportLarge(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		path := "/v1/promotions/" + b.promo.ID + "/codes/import"
		codes := "/v1/promotions/" + b.promo.ID + "/codes"
		before := b.count(t, b.admin, codes)
		const n = 2*engine.DefaultImportChunk + 17
		var file strings.Builder
		file.WriteString("\ufeffcode,usage_limit,partner_id\r\n")
		for i := range n {
			v := fmt.Sprintf("LARGE-%06d", (i*7919)%n)
			switch i % 3 {
			case 0:
				fmt.Fprintf(&file, "%s,,\r\n", v)
			case 1:
				fmt.Fprintf(&file, "\"%s\",\"3\",\r\n", strings.ToLower(v))
			default:
				fmt.Fprintf(&file, "%s,,%s\r\n", v, b.partnr.ID)
			}
		}
		r := b.c.do(t, "POST", path, b.seller, file.String()+"LAST ROW,,\r\n", "Content-Type", "text/csv")
		if r.StatusCode != 422 || len(r.Problem.Errors) != 1 || r.Problem.Errors[0].Field != fmt.Sprintf("row %d", n+2) {
			t.Fatalf("refused on its last row: %d %s", r.StatusCode, r.Body)
		}
		if after := b.count(t, b.admin, codes); after != before {
			t.Fatalf("a refused import wrote %d codes", after-before)
		}
		r = mustDo(t, b, b.seller, "POST", path, file.String(), 201, "Content-Type", "text/csv")
		if string(r.Body) != fmt.Sprintf(`{"imported":%d}`, n)+"\n" {
			t.Fatalf("import: %s", r.Body)
		}
		if after := b.count(t, b.admin, codes); after != before+n {
			t.Fatalf("%d codes imported of %d", after-before, n)
		}
		for i, want := range []string{"", "3", b.partnr.ID} {
			v := fmt.Sprintf("large-%06d", (i*7919)%n)
			c := decodeAs[promokit.Code](t, mustDo(t, b, b.checkout, "GET", "/v1/codes/"+v, nil, 200))
			got := c.PartnerID
			if i == 1 && c.UsageLimit != nil {
				got = fmt.Sprint(*c.UsageLimit)
			}
			if got != want {
				t.Errorf("code %s: %+v, want %q", v, c, want)
			}
		}
	})
}

// TestCodeExport streams more codes than one flush holds and reads them
// back.
func TestCodeExport(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.OpenSQLite)
	var file strings.Builder
	file.WriteString("code\n")
	const n = 2500
	for i := range n {
		fmt.Fprintf(&file, "BULK%05d\n", i)
	}
	mustDo(t, b, b.seller, "POST", "/v1/promotions/"+b.promo.ID+"/codes/import", file.String(), 201, "Content-Type", "text/csv")

	r := mustDo(t, b, b.checkout, "GET", "/v1/promotions/"+b.promo.ID+"/codes.csv", nil, 200)
	if ct := r.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="promotion-`+b.promo.ID) {
		t.Errorf("Content-Disposition %q", cd)
	}
	if len(r.TransferEncoding) == 0 || r.TransferEncoding[0] != "chunked" {
		t.Errorf("the export was not streamed: Transfer-Encoding %v, Content-Length %d", r.TransferEncoding, r.ContentLength)
	}
	recs, err := encsv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n+3 || recs[0][0] != "code" {
		t.Fatalf("%d rows, header %v", len(recs), recs[0])
	}
	seen := map[string]bool{}
	for _, rec := range recs[1:] {
		seen[rec[0]] = true
		if rec[1] != b.promo.ID {
			t.Fatalf("row of promotion %s", rec[1])
		}
	}
	if !seen["BULK00000"] || !seen["BULK02499"] || !seen[b.shopCode] {
		t.Errorf("codes missing from the export")
	}

	// The partner's export has its codes only; a foreign promotion is a
	// problem, not an empty file.
	r = mustDo(t, b, b.partner, "GET", "/v1/partners/"+b.partnr.ID+"/codes.csv", nil, 200)
	if recs, _ := encsv.NewReader(strings.NewReader(string(r.Body))).ReadAll(); len(recs) != 2 || recs[1][0] != b.shopCode {
		t.Errorf("partner export: %v", recs)
	}
	r = b.c.do(t, "GET", "/v1/promotions/"+b.otherPromo.ID+"/codes.csv", b.seller, nil)
	if r.StatusCode != 404 || strings.Contains(string(r.Body), b.otherCode) {
		t.Errorf("foreign export: %d %s", r.StatusCode, r.Body)
	}
	r = mustDo(t, b, b.foreign, "GET", "/v1/partners/"+b.partnr.ID+"/codes.csv", nil, 200)
	if recs, _ := encsv.NewReader(strings.NewReader(string(r.Body))).ReadAll(); len(recs) != 1 {
		t.Errorf("foreign seller's export of the partner: %v", recs)
	}
}

// TestCodeLookup checks that a missing code and a foreign one are answered
// alike, and that failed look-ups are limited per key and per address.
func TestCodeLookup(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open, func(c *Config) { c.LookupFailures, c.KeyLookupFailures = 3, 3; c.TrustProxy = true })
		strip := func(r *response) string {
			return strings.Replace(string(r.Body), r.Problem.RequestID, "", 1)
		}
		missing := b.c.do(t, "GET", "/v1/codes/NOSUCHCODE", b.foreign, nil, "X-Forwarded-For", "192.0.2.1")
		foreign := b.c.do(t, "GET", "/v1/codes/"+b.shopCode, b.foreign, nil, "X-Forwarded-For", "192.0.2.1")
		invalid := b.c.do(t, "GET", "/v1/codes/no%20such", b.foreign, nil, "X-Forwarded-For", "192.0.2.1")
		if missing.StatusCode != 404 || foreign.StatusCode != 404 || strip(missing) != strip(foreign) {
			t.Errorf("missing and foreign differ:\n%s\n%s", missing.Body, foreign.Body)
		}
		if invalid.StatusCode != 404 || strip(invalid) != strip(missing) {
			t.Errorf("invalid and missing differ:\n%s\n%s", invalid.Body, missing.Body)
		}
		// The key has failed 3 times: even a code it owns is refused now.
		r := b.c.do(t, "GET", "/v1/codes/"+b.otherCode, b.foreign, nil, "X-Forwarded-For", "192.0.2.99")
		if r.StatusCode != 429 || r.Problem.Code != promokit.ETooManyFailures {
			t.Fatalf("past the limit: %d %s", r.StatusCode, r.Body)
		}
		if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
			t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
		}
		// The address has failed 3 times too: another key from it is refused.
		r = b.c.do(t, "GET", "/v1/codes/"+b.shopCode, b.seller, nil, "X-Forwarded-For", "198.51.100.7, 192.0.2.1")
		if r.StatusCode != 429 {
			t.Errorf("another key from the address: %d %s", r.StatusCode, r.Body)
		}
		// Another key from another address is not.
		mustDo(t, b, b.seller, "GET", "/v1/codes/"+b.shopCode, nil, 200, "X-Forwarded-For", "192.0.2.2")
		for kind, want := range map[string]float64{"key": 3, "addr": 3, "customer": 0} {
			if got := counterValue(t, b.srv.metrics.lookupFailures.WithLabelValues(kind)); got != want {
				t.Errorf("promokit_code_lookup_failures_total{subject=%q} %v, want %v", kind, got, want)
			}
		}
		// Refused once for the key, once for the address.
		for kind, want := range map[string]float64{"key": 1, "addr": 1, "customer": 0} {
			if got := counterValue(t, b.srv.metrics.rateLimited.WithLabelValues(kind)); got != want {
				t.Errorf("promokit_rate_limited_total{subject=%q} %v, want %v", kind, got, want)
			}
		}
		// A minute later the key may look up again.
		b.clock.Add(time.Minute)
		mustDo(t, b, b.foreign, "GET", "/v1/codes/"+strings.ToLower(b.otherCode), nil, 200, "X-Forwarded-For", "192.0.2.1")
	})
}

// TestForeignPartner checks that a partner does not see another partner.
func TestForeignPartner(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.OpenSQLite)
	bo := mustCreate[promokit.Partner](t, b, b.admin, "POST", "/v1/partners", map[string]any{"name": "Bo", "kind": "affiliate"})
	for _, path := range []string{"/v1/partners/" + bo.ID, "/v1/partners/" + bo.ID + "/codes", "/v1/partners/" + bo.ID + "/codes.csv"} {
		if r := b.c.do(t, "GET", path, b.partner, nil); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d %s", path, r.StatusCode, r.Body)
		}
	}
	if r := b.c.do(t, "GET", "/v1/codes/"+b.shopCode2, b.partner, nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("unassigned code: %d %s", r.StatusCode, r.Body)
	}
}

// counterValue returns the value of a counter.
func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// cutStore is a store whose exports fail after a number of codes.
type cutStore struct {
	storage.DB
	after atomic.Int64 // negative: never
}

func (s *cutStore) CodeExport(ctx context.Context, scope promokit.Scope, f storage.CodeFilter, fn func(*promokit.Code) error) error {
	n := int64(0)
	return s.DB.CodeExport(ctx, scope, f, func(c *promokit.Code) error {
		if n++; s.after.Load() >= 0 && n > s.after.Load() {
			return errors.New("export: disk on fire")
		}
		return fn(c)
	})
}

// TestCodeExportCut checks what an export does when the database fails:
// before the first byte, a 500 problem; after it, a cut connection, so
// that the client cannot take a short file for a whole one.
func TestCodeExportCut(t *testing.T) {
	t.Parallel()
	st := &cutStore{DB: dbtest.OpenSQLite(t)}
	st.after.Store(-1)
	b := newBundle(t, st)
	b.fixtures(t)
	var file strings.Builder
	file.WriteString("code\n")
	for i := range 1500 {
		fmt.Fprintf(&file, "CUT%05d\n", i)
	}
	mustDo(t, b, b.seller, "POST", "/v1/promotions/"+b.promo.ID+"/codes/import", file.String(), 201, "Content-Type", "text/csv")
	path := "/v1/promotions/" + b.promo.ID + "/codes.csv"

	st.after.Store(10)
	r := b.c.do(t, "GET", path, b.seller, nil)
	if r.StatusCode != 500 || strings.Contains(string(r.Body), "disk") {
		t.Errorf("failure before the first flush: %d %s", r.StatusCode, r.Body)
	}

	st.after.Store(1200)
	req, _ := http.NewRequest("GET", b.c.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+b.seller)
	resp, err := b.c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || err == nil {
		t.Errorf("failure after the first flush: status %d, %d bytes, read error %v", resp.StatusCode, len(data), err)
	}
	if logs := b.logs.String(); !strings.Contains(logs, "disk on fire") || !strings.Contains(logs, "export cut short") {
		t.Errorf("the failure is not logged:\n%s", logs)
	}
}
