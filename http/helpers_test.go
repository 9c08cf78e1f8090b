package http

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// responseHook, when set, sees every response a test receives through
// client.do, with its body: the OpenAPI conformance test sets it to check
// each response against docs/openapi.json.
var responseHook func(t *testing.T, req *http.Request, resp *http.Response, body []byte)

// jan1 is where the tests stand unless they move the clock.
func jan1() time.Time { return time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC) }

// testBundle is one test's server, clock, keys and fixtures: two stores,
// shop and other, each with a product, a promotion starting tomorrow and
// codes, and a partner holding one code of shop.
type testBundle struct {
	svc   *engine.Service
	store storage.DB
	clock *promokit.FixedClock
	srv   *Server
	c     *client
	logs  *logBuffer
	reg   *prometheus.Registry

	// Key secrets of each principal.
	admin, seller, foreign, partner, checkout, storefront string
	// Key ids.
	sellerKeyID, checkoutKeyID, storefrontKeyID, spareKeyID string

	shop, other           *promokit.Store
	partnr                *promokit.Partner
	promo, otherPromo     *promokit.Promotion
	jobID                 string
	shopCode, shopCode2   string // shopCode is assigned to partnr
	otherCode             string
	shopName, otherName   string
	promoName, otherPName string
}

// setupOption changes the server's configuration of a bundle.
type setupOption func(*Config)

// setup opens a store, starts a server on it and creates the fixtures
// through the API.
func setup(t *testing.T, open func(*testing.T) storage.DB, opts ...setupOption) *testBundle {
	t.Helper()
	b := newBundle(t, open(t), opts...)
	b.fixtures(t)
	return b
}

// newBundle starts a server on st with an admin key and no fixtures.
func newBundle(t *testing.T, st storage.DB, opts ...setupOption) *testBundle {
	t.Helper()
	clock := promokit.NewFixedClock(jan1())
	svc := engine.New(engine.Config{DB: st, Clock: clock})
	secret, created, err := svc.Bootstrap(context.Background())
	if err != nil || !created {
		t.Fatalf("Bootstrap: %v %v", created, err)
	}
	logs := &logBuffer{}
	reg := prometheus.NewRegistry()
	cfg := Config{
		Service:  svc,
		Logger:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Registry: reg,
		OpenAPI:  mustReadOpenAPI(t),
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv := NewServer(cfg)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	// The queued clicks are written before the store closes.
	t.Cleanup(func() {
		if err := svc.Close(context.Background()); err != nil {
			t.Errorf("close service: %v", err)
		}
	})
	hc := ts.Client()
	// A test sees every answer as the server gave it: a redirect
	// (GET /r/{token}) is not followed.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &testBundle{
		svc: svc, store: st, clock: clock, srv: srv, logs: logs, reg: reg,
		c: &client{base: ts.URL, hc: hc}, admin: secret,
	}
}

// mustReadOpenAPI returns docs/openapi.json, or a stand-in while it is
// not written.
func mustReadOpenAPI(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../docs/openapi.json")
	if err != nil {
		return []byte(`{"openapi":"3.1.0"}`)
	}
	return b
}

// fixtures creates the stores, partner, keys, products, promotions, codes
// and job of the bundle.
func (b *testBundle) fixtures(t *testing.T) {
	t.Helper()
	b.shopName, b.otherName = "Shop Alpha Store", "Other Omega Store"
	b.shop = mustCreate[promokit.Store](t, b, b.admin, "POST", "/v1/stores", map[string]any{"name": b.shopName})
	b.other = mustCreate[promokit.Store](t, b, b.admin, "POST", "/v1/stores", map[string]any{"name": b.otherName})
	b.partnr = mustCreate[promokit.Partner](t, b, b.admin, "POST", "/v1/partners", map[string]any{"name": "Ann Influencer", "kind": "influencer"})

	var k *keyJSON
	k = mustCreate[keyJSON](t, b, b.admin, "POST", "/v1/keys", map[string]any{"name": "shop seller", "role": "seller", "store_id": b.shop.ID})
	b.seller, b.sellerKeyID = k.Secret, k.ID
	k = mustCreate[keyJSON](t, b, b.admin, "POST", "/v1/keys", map[string]any{"name": "other seller", "role": "seller", "store_id": b.other.ID})
	b.foreign = k.Secret
	k = mustCreate[keyJSON](t, b, b.admin, "POST", "/v1/keys", map[string]any{"name": "ann", "role": "partner", "partner_id": b.partnr.ID})
	b.partner = k.Secret
	k = mustCreate[keyJSON](t, b, b.admin, "POST", "/v1/keys", map[string]any{"name": "shop checkout", "role": "checkout", "store_id": b.shop.ID})
	b.checkout, b.checkoutKeyID = k.Secret, k.ID
	// The seller makes the storefront key: its store is the default.
	k = mustCreate[keyJSON](t, b, b.seller, "POST", "/v1/keys", map[string]any{"name": "shop storefront", "role": "storefront"})
	if k.StoreID != b.shop.ID {
		t.Fatalf("storefront key of store %q, want %q", k.StoreID, b.shop.ID)
	}
	b.storefront, b.storefrontKeyID = k.Secret, k.ID
	k = mustCreate[keyJSON](t, b, b.seller, "POST", "/v1/keys", map[string]any{"name": "spare", "role": "checkout"})
	b.spareKeyID = k.ID

	mustDo(t, b, b.seller, "PUT", "/v1/stores/"+b.shop.ID+"/products/sku-1", map[string]any{"name": "Shop Widget"}, http.StatusOK)
	mustDo(t, b, b.foreign, "PUT", "/v1/stores/"+b.other.ID+"/products/sku-9", map[string]any{"name": "Other Gadget"}, http.StatusOK)

	b.promoName, b.otherPName = "Shop Spring Sale", "Other Winter Sale"
	tomorrow := jan1().Add(24 * time.Hour)
	b.promo = mustCreatePromotion(t, b, b.seller, map[string]any{"name": b.promoName, "type": "percent_off", "percent_off_bp": 1000, "starts_at": tomorrow})
	b.otherPromo = mustCreatePromotion(t, b, b.foreign, map[string]any{"name": b.otherPName, "type": "percent_off", "percent_off_bp": 1500, "starts_at": tomorrow})

	b.shopCode, b.shopCode2, b.otherCode = "SHOPCODE1", "SHOPCODE2", "OTHERCODE1"
	mustDo(t, b, b.seller, "POST", "/v1/promotions/"+b.promo.ID+"/codes", map[string]any{"code": b.shopCode, "partner_id": b.partnr.ID}, http.StatusCreated)
	mustDo(t, b, b.seller, "POST", "/v1/promotions/"+b.promo.ID+"/codes", map[string]any{"code": b.shopCode2}, http.StatusCreated)
	mustDo(t, b, b.foreign, "POST", "/v1/promotions/"+b.otherPromo.ID+"/codes", map[string]any{"code": b.otherCode}, http.StatusCreated)

	j := mustCreate[promokit.Job](t, b, b.seller, "POST", "/v1/promotions/"+b.promo.ID+"/code-jobs", map[string]any{"count": 3, "prefix": "JOB"})
	b.jobID = j.ID
}

// mustCreatePromotion creates a promotion and returns it.
func mustCreatePromotion(t *testing.T, b *testBundle, key string, in map[string]any) *promokit.Promotion {
	t.Helper()
	p := mustCreate[promotionOut](t, b, key, "POST", "/v1/promotions", in)
	return &p.Promotion
}

// promotionOut is a promotion as a test reads it back.
type promotionOut struct {
	promokit.Promotion
	Status promokit.Status `json:"status"`
}

// mustCreate sends a request that must answer 201 or 202 and decodes its body.
func mustCreate[T any](t *testing.T, b *testBundle, key, method, path string, body any) *T {
	t.Helper()
	r := b.c.do(t, method, path, key, body)
	if r.StatusCode != http.StatusCreated && r.StatusCode != http.StatusAccepted {
		t.Fatalf("%s %s: status %d: %s", method, path, r.StatusCode, r.Body)
	}
	return decodeAs[T](t, r)
}

// mustDo sends a request that must answer want.
func mustDo(t *testing.T, b *testBundle, key, method, path string, body any, want int, hdr ...string) *response {
	t.Helper()
	r := b.c.do(t, method, path, key, body, hdr...)
	if r.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.StatusCode, want, r.Body)
	}
	return r
}

// decodeAs decodes the body of r.
func decodeAs[T any](t *testing.T, r *response) *T {
	t.Helper()
	v := new(T)
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %T: %v: %s", v, err, r.Body)
	}
	return v
}

// client sends requests to a test server.
type client struct {
	base string
	hc   *http.Client
}

// response is a response with its body read, and its problem document
// decoded when it is one.
type response struct {
	*http.Response
	Body    []byte
	Problem *problemDoc
}

// problemDoc is a problem document as a client reads it.
type problemDoc struct {
	Type         string                `json:"type"`
	Title        string                `json:"title"`
	Status       int                   `json:"status"`
	Detail       string                `json:"detail"`
	Code         string                `json:"code"`
	Rule         string                `json:"rule"`
	Limit        *int64                `json:"limit"`
	Current      *int64                `json:"current"`
	PossibleFrom *time.Time            `json:"possible_from"`
	Errors       []promokit.FieldError `json:"errors"`
	RequestID    string                `json:"request_id"`
}

// do sends a request with the key (none when empty) and returns the
// response. body is sent as it is when it is a string or []byte (with the
// Content-Type of hdr, or application/json), and as JSON otherwise; nil
// sends none. hdr lists header names and values. Every response goes
// through here: do checks what every response must have (a request id;
// for an error, a problem document that matches its status) and hands it
// to responseHook.
func (c *client) do(t *testing.T, method, path, key string, body any, hdr ...string) *response {
	t.Helper()
	var rd io.Reader
	ct := ""
	switch v := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(v), "application/json"
	case []byte:
		rd, ct = bytes.NewReader(v), "application/json"
	case io.Reader:
		rd, ct = v, "application/json"
	default:
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		rd, ct = bytes.NewReader(data), "application/json"
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	if responseHook != nil {
		responseHook(t, req, resp, data)
	}
	r := &response{Response: resp, Body: data}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Errorf("%s %s: no X-Request-Id", method, path)
	}
	if resp.StatusCode >= 400 && method != "HEAD" {
		r.Problem = checkProblem(t, r)
	}
	return r
}

// checkProblem checks that an error response is a well-formed problem
// document and returns it.
func checkProblem(t *testing.T, r *response) *problemDoc {
	t.Helper()
	what := r.Request.Method + " " + r.Request.URL.Path
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("%s: status %d with Content-Type %q, want application/problem+json: %s", what, r.StatusCode, ct, r.Body)
		return &problemDoc{}
	}
	var p problemDoc
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Errorf("%s: problem does not decode: %v: %s", what, err, r.Body)
		return &p
	}
	switch {
	case p.Status != r.StatusCode:
		t.Errorf("%s: problem status %d, response status %d", what, p.Status, r.StatusCode)
	case p.Code == "" || p.Type != problemBase+p.Code:
		t.Errorf("%s: problem code %q, type %q", what, p.Code, p.Type)
	case p.Title == "" || p.Detail == "":
		t.Errorf("%s: problem without title or detail: %s", what, r.Body)
	case p.RequestID == "" || (p.RequestID != r.Header.Get("X-Request-Id") && r.Header.Get("Idempotent-Replayed") == ""):
		t.Errorf("%s: problem request_id %q, header %q", what, p.RequestID, r.Header.Get("X-Request-Id"))
	}
	if k, known := kindOf(p.Code); known && k.status != p.Status {
		t.Errorf("%s: code %s has status %d, the table says %d", what, p.Code, p.Status, k.status)
	}
	return &p
}

// logBuffer collects a server's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns the lines logged so far.
func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// count returns how many objects of the list at path key sees, following
// next_cursor.
func (b *testBundle) count(t *testing.T, key, path string) int {
	t.Helper()
	n, after := 0, ""
	for {
		p := path
		sep := "?"
		if strings.Contains(p, "?") {
			sep = "&"
		}
		p += sep + "limit=1000"
		if after != "" {
			p += "&after=" + after
		}
		r := mustDo(t, b, key, "GET", p, nil, http.StatusOK)
		l := decodeAs[listJSON[json.RawMessage]](t, r)
		n += len(l.Data)
		if l.NextCursor == "" {
			return n
		}
		after = l.NextCursor
	}
}
