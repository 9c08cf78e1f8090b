package http

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/sqlite"
)

// TestOperations checks the anonymous routes.
func TestOperations(t *testing.T) {
	t.Parallel()
	b := newBundle(t, dbtest.OpenSQLite(t))
	r := mustDo(t, b, "", "GET", "/healthz", nil, 200)
	if string(r.Body) != `{"status":"ok"}`+"\n" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("healthz: %v %s", r.Header, r.Body)
	}
	mustDo(t, b, "", "GET", "/readyz", nil, 200)
	r = mustDo(t, b, "", "GET", "/openapi.json", nil, 200)
	if string(r.Body) != string(mustReadOpenAPI(t)) {
		t.Errorf("openapi.json is not the document")
	}
	mustDo(t, b, b.admin, "GET", "/v1/settings", nil, 200)
	b.c.do(t, "GET", "/v1/nowhere", b.admin, nil)
	r = mustDo(t, b, "", "GET", "/metrics", nil, 200)
	for _, want := range []string{
		`promokit_http_requests_total{method="GET",route="GET /healthz",status="200"} 1`,
		`promokit_http_requests_total{method="GET",route="GET /v1/settings",status="200"} 1`,
		`promokit_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`promokit_http_request_duration_seconds_count{method="GET",route="GET /v1/settings"} 1`,
		`promokit_code_lookup_failures_total{subject="addr"} 0`,
		`promokit_code_lookup_failures_total{subject="customer"} 0`,
		`promokit_code_lookup_failures_total{subject="key"} 0`,
		`promokit_rate_limited_total{subject="key"} 0`,
	} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestRequestID checks that a well-formed X-Request-Id is kept, and that
// any other is replaced by one of the server and logged, escaped and cut
// short, beside it.
func TestRequestID(t *testing.T) {
	t.Parallel()
	b := newBundle(t, dbtest.OpenSQLite(t))
	for _, tc := range []struct {
		sent   string
		kept   bool
		logged string // how the log line shows a value that is not kept
	}{
		{"abc-123", true, ""},
		{"3f9a1c2e-1b", true, ""},
		{"A.b_c:D-9", true, ""},
		{"0f8fad5b-d9cb-469f-a165-70867728950e", true, ""},
		{strings.Repeat("x", 64), true, ""},
		{strings.Repeat("x", 65), false, strings.Repeat("x", 64) + "..."},
		{"has space", false, `"has space"`},
		{"caf\u00e9", false, `caf\xc3\xa9`},
		{"a/b", false, "a/b"},
		{"a=b;c", false, `"a=b;c"`},
		{"<script>", false, "<script>"},
		{`"quoted"`, false, `"\"quoted\""`},
		{"", false, ""},
	} {
		r := b.c.do(t, "GET", "/v1/settings", "", nil, "X-Request-Id", tc.sent)
		got := r.Header.Get("X-Request-Id")
		if (got == tc.sent) != tc.kept || got == "" || r.Problem.RequestID != got || !validRequestID(got) {
			t.Errorf("sent %q: header %q, problem %q, kept %v", tc.sent, got, r.Problem.RequestID, tc.kept)
		}
		var line string
		for _, l := range strings.Split(b.logs.String(), "\n") {
			if strings.Contains(l, "request_id="+got+" ") {
				line = l
			}
		}
		switch {
		case line == "":
			t.Errorf("sent %q: no log line with request_id=%s", tc.sent, got)
		case tc.logged == "" && strings.Contains(line, "client_request_id"):
			t.Errorf("sent %q: %s", tc.sent, line)
		case tc.logged != "" && !strings.Contains(line, "client_request_id="+tc.logged+" "):
			t.Errorf("sent %q: the line lacks client_request_id=%s: %s", tc.sent, tc.logged, line)
		}
	}
	a := b.c.do(t, "GET", "/healthz", "", nil).Header.Get("X-Request-Id")
	c := b.c.do(t, "GET", "/healthz", "", nil).Header.Get("X-Request-Id")
	if a == c {
		t.Errorf("two requests share the id %s", a)
	}
}

// TestLogging checks the one log line of each failed request and that
// successful ones stay below Info.
func TestLogging(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.OpenSQLite)
	keyID := mustKeyID(t, b, b.seller)
	b.c.do(t, "GET", "/v1/promotions/"+b.otherPromo.ID, b.seller, nil, "X-Request-Id", "req-404")
	b.c.do(t, "GET", "/v1/promotions/"+b.promo.ID, b.seller, nil, "X-Request-Id", "req-200")
	var lines404, lines200 []string
	for _, l := range strings.Split(b.logs.String(), "\n") {
		switch {
		case strings.Contains(l, "request_id=req-404"):
			lines404 = append(lines404, l)
		case strings.Contains(l, "request_id=req-200"):
			lines200 = append(lines200, l)
		}
	}
	if len(lines404) != 1 {
		t.Fatalf("%d lines for the 404: %q", len(lines404), lines404)
	}
	for _, want := range []string{"level=INFO", "method=GET", `route="GET /v1/promotions/{id}"`, "status=404", "duration=", "key_id=" + keyID, "code=not_found"} {
		if !strings.Contains(lines404[0], want) {
			t.Errorf("the 404's line lacks %s: %s", want, lines404[0])
		}
	}
	if len(lines200) != 1 || !strings.Contains(lines200[0], "level=DEBUG") {
		t.Errorf("the 200's lines: %q", lines200)
	}
}

// TestClientGone: a request whose client went away before the answer is
// counted and logged with status 499 at Info, not as a server error.
func TestClientGone(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.OpenSQLite)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	body, err := json.Marshal(validateBody(b, "", b.shopCode, b.shopCode2))
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequestWithContext(ctx, "POST", "/v1/validate", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+b.checkout)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", "req-gone")
	w := httptest.NewRecorder()
	b.srv.ServeHTTP(w, req)
	if w.Code != StatusClientClosed || w.Body.Len() != 0 {
		t.Errorf("answer %d %q, want %d and no body", w.Code, w.Body, StatusClientClosed)
	}
	var line string
	for _, l := range strings.Split(b.logs.String(), "\n") {
		if strings.Contains(l, "request_id=req-gone") {
			line = l
		}
	}
	for _, want := range []string{"level=INFO", "status=499", "context canceled"} {
		if !strings.Contains(line, want) {
			t.Errorf("the request's line lacks %s: %q", want, line)
		}
	}
	r := mustDo(t, b, "", "GET", "/metrics", nil, 200)
	if want := `promokit_http_requests_total{method="POST",route="POST /v1/validate",status="499"} 1`; !strings.Contains(string(r.Body), want) {
		t.Errorf("/metrics lacks %s", want)
	}
}

// TestUnmatched checks the answers to requests that match no route.
func TestUnmatched(t *testing.T) {
	t.Parallel()
	b := newBundle(t, dbtest.OpenSQLite(t))
	r := b.c.do(t, "PUT", "/healthz", "", "{}")
	if r.StatusCode != 405 || r.Header.Get("Allow") == "" {
		t.Errorf("PUT /healthz: %d %v", r.StatusCode, r.Header)
	}
	r = b.c.do(t, "GET", "/v1/promotions/", b.admin, nil)
	if r.StatusCode != 404 {
		t.Errorf("GET /v1/promotions/: %d %s", r.StatusCode, r.Body)
	}
	r = b.c.do(t, "HEAD", "/healthz", "", nil)
	if r.StatusCode != 200 {
		t.Errorf("HEAD /healthz: %d", r.StatusCode)
	}
}

// BenchmarkHealthz is the baseline of BenchmarkCodeGet: the cost of the
// server's middleware without a use case.
func BenchmarkHealthz(b *testing.B) {
	srv, _, _ := newBenchServer(b)
	req := httptest.NewRequest("GET", "/healthz", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkCodeGet measures the hot path of a checkout: the look-up of a
// code by an authenticated key.
func BenchmarkCodeGet(b *testing.B) {
	srv, secret, code := newBenchServer(b)
	req := httptest.NewRequest("GET", "/v1/codes/"+code, nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}

// newBenchServer returns a server over a new SQLite database that logs as
// in production (JSON at Info, to nowhere), the secret of a checkout key
// and a code it may look up.
func newBenchServer(b *testing.B) (*Server, string, string) {
	b.Helper()
	e := newEngineServer(b)
	return e.srv, e.checkout, e.code
}

// engineServer is a server whose fixtures were made through the engine,
// for benchmarks and fuzz targets, which cannot use setup.
type engineServer struct {
	srv      *Server
	svc      *engine.Service
	store    *promokit.Store
	seller   string // secret of a seller key of store
	checkout string // secret of a checkout key of store
	code     string // a code of store
}

// newEngineServer opens a SQLite database under tb.TempDir() and returns
// a server over it with a store, a promotion, a code and keys.
func newEngineServer(tb testing.TB) *engineServer {
	tb.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, tb.TempDir()+"/promokit.db")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	svc := engine.New(engine.Config{DB: st, Clock: promokit.NewFixedClock(jan1())})
	if _, _, err := svc.Bootstrap(ctx); err != nil {
		tb.Fatal(err)
	}
	admin := promokit.NewContext(ctx, promokit.Principal{KeyID: "key_fixtures", Role: promokit.RoleAdmin})
	store, err := svc.CreateStore(admin, engine.StoreInput{Name: ptr("Bench")})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := svc.PutProduct(admin, store.ID, "sku-1", engine.ProductInput{Name: "Widget"}); err != nil {
		tb.Fatal(err)
	}
	p, err := svc.CreatePromotion(admin, engine.PromotionInput{StoreID: store.ID, Name: ptr("Bench"),
		Type: ptr(promokit.AmountOff), AmountOff: ptr(int64(100))})
	if err != nil {
		tb.Fatal(err)
	}
	c, err := svc.CreateCode(admin, p.ID, engine.CodeInput{Code: "BENCH-CODE"})
	if err != nil {
		tb.Fatal(err)
	}
	e := &engineServer{svc: svc, store: store, code: c.Code}
	if _, e.checkout, err = svc.CreateKey(admin, engine.KeyInput{Role: promokit.RoleCheckout, StoreID: store.ID}); err != nil {
		tb.Fatal(err)
	}
	if _, e.seller, err = svc.CreateKey(admin, engine.KeyInput{Role: promokit.RoleSeller, StoreID: store.ID}); err != nil {
		tb.Fatal(err)
	}
	e.srv = NewServer(Config{Service: svc, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	return e
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }
