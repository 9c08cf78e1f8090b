package http

import (
	"context"
	"errors"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/storage"
)

// allCodes lists every error code of promokit/error.go.
func allCodes() []string {
	return []string{
		promokit.EInvalid, promokit.EMalformed, promokit.ETooLarge, promokit.EUnsupportedMedia,
		promokit.EUnauthenticated, promokit.EForbidden, promokit.ENotFound, promokit.EConflict,
		promokit.ECodeTaken, promokit.EVersionMismatch, promokit.EPreconditionNeeded, promokit.EImmutable,
		promokit.EPolicy, promokit.ECodeSpace, promokit.EIdempotencyReuse, promokit.EIdempotencyBusy,
		promokit.ERateLimited, promokit.ETooManyFailures, promokit.EUnavailable, promokit.EInternal,
		promokit.EAutomatic, promokit.EPayoutExceeds,
	}
}

// TestProblemTable checks that the table knows every code and that
// docs/problems.md documents each with the table's status.
func TestProblemTable(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../docs/problems.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range append(allCodes(), codeMethodNotAllowed) {
		k, known := kindOf(code)
		if !known && code != codeMethodNotAllowed {
			t.Errorf("code %s is not in the table", code)
			continue
		}
		if code == codeMethodNotAllowed {
			k.status = http.StatusMethodNotAllowed
		}
		row := regexp.MustCompile(`(?m)^\| <a id="` + code + `"></a>` + "`" + code + "`" + ` \| (\d+) \|`).FindSubmatch(doc)
		if row == nil {
			t.Errorf("docs/problems.md does not document %s", code)
		} else if string(row[1]) != strconv.Itoa(k.status) {
			t.Errorf("docs/problems.md gives %s status %s, the table %d", code, row[1], k.status)
		}
	}
	if k, known := kindOf("no_such_code"); known || k.status != http.StatusInternalServerError {
		t.Errorf("unknown code: %v %v", k, known)
	}
}

// TestNewProblem checks the rendering of known, wrapped and unknown errors.
func TestNewProblem(t *testing.T) {
	t.Parallel()
	p := newProblem(promokit.PolicyError("P4", 3000, 5000, "too much"), "rid")
	if p.Status != 422 || p.Code != "policy_violation" || p.Rule != "P4" || *p.Limit != 3000 || *p.Current != 5000 || p.RequestID != "rid" || p.Detail != "too much" {
		t.Errorf("policy problem %+v", p)
	}
	p = newProblem(withRetryAfter(promokit.Errorf(promokit.ERateLimited, "slow down"), time.Second), "")
	if p.Status != 429 || p.Detail != "slow down" {
		t.Errorf("wrapped problem %+v", p)
	}
	for _, err := range []error{errors.New("pq: password authentication failed"), &promokit.Error{Code: "made_up", Message: "secret"}, promokit.Errorf(promokit.EInternal, "secret")} {
		p = newProblem(err, "")
		if p.Status != 500 || p.Code != "internal" || strings.Contains(p.Detail, "secret") || strings.Contains(p.Detail, "pq") {
			t.Errorf("%v: problem %+v", err, p)
		}
	}
}

// TestProblemClasses provokes each class of error over HTTP and checks its
// status, code and extensions; client.do checks the shape of each.
func TestProblemClasses(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		pp := "/v1/promotions/" + b.promo.ID
		want := func(r *response, status int, code string) *problemDoc {
			t.Helper()
			if r.StatusCode != status || r.Problem == nil || r.Problem.Code != code {
				t.Fatalf("%s %s: status %d, want %d %s: %s", r.Request.Method, r.Request.URL, r.StatusCode, status, code, r.Body)
			}
			return r.Problem
		}

		p := want(b.c.do(t, "POST", "/v1/promotions", b.seller, map[string]any{"name": "", "type": "bogus"}), 422, "invalid")
		if len(p.Errors) < 2 || p.Errors[0].Field == "" || p.Errors[0].Code == "" || p.Errors[0].Message == "" {
			t.Errorf("invalid without field errors: %+v", p)
		}
		want(b.c.do(t, "POST", "/v1/promotions", b.seller, "{"), 400, "malformed")
		want(b.c.do(t, "POST", "/v1/promotions", b.seller, strings.Repeat(" ", maxJSONBody+1)), 413, "too_large")
		want(b.c.do(t, "POST", "/v1/promotions", b.seller, "{}", "Content-Type", "text/plain"), 415, "unsupported_media")

		r := b.c.do(t, "GET", "/v1/settings", "", nil)
		want(r, 401, "unauthenticated")
		if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("401 without WWW-Authenticate: %v", r.Header)
		}
		want(b.c.do(t, "GET", "/v1/settings", "pk_not_a_key_at_all", nil), 401, "unauthenticated")
		want(b.c.do(t, "GET", "/v1/settings", "", nil, "Authorization", "Basic dTpw"), 401, "unauthenticated")

		want(b.c.do(t, "POST", "/v1/stores", b.seller, map[string]any{"name": "x"}), 403, "forbidden")
		want(b.c.do(t, "GET", pp, b.foreign, nil), 404, "not_found")
		want(b.c.do(t, "GET", "/v1/nowhere", b.seller, nil), 404, "not_found")
		want(b.c.do(t, "GET", "/nowhere", "", nil), 404, "not_found")
		r = b.c.do(t, "DELETE", "/v1/settings", b.admin, nil)
		want(r, 405, codeMethodNotAllowed)
		if r.Header.Get("Allow") == "" {
			t.Errorf("405 without Allow")
		}

		want(b.c.do(t, "POST", "/v1/promotions/"+b.promo.ID+"/codes", b.seller, map[string]any{"code": strings.ToLower(b.otherCode)}), 409, "code_taken")
		mustDo(t, b, b.seller, "PATCH", pp, map[string]any{"name": "Edited"}, 200, "If-Match", `"1"`)
		want(b.c.do(t, "PATCH", pp, b.seller, map[string]any{"name": "Again"}, "If-Match", `"1"`), 412, "version_mismatch")
		want(b.c.do(t, "PATCH", pp, b.seller, map[string]any{"name": "Again"}), 428, "precondition_required")

		b.clock.Add(48 * time.Hour) // past the start
		p = want(b.c.do(t, "PATCH", pp, b.seller, map[string]any{"name": "Late"}, "If-Match", `"2"`), 409, "immutable")
		if p.Rule != "C5" {
			t.Errorf("immutable rule %q, want C5", p.Rule)
		}
		mustDo(t, b, b.seller, "POST", pp+"/end", nil, 200)
		want(b.c.do(t, "POST", pp+"/end", b.seller, nil), 409, "conflict")

		mustDo(t, b, b.admin, "PATCH", "/v1/stores/"+b.other.ID, map[string]any{"partner_promo_codes": true}, 200)
		p = want(b.c.do(t, "POST", "/v1/promotions", b.foreign, map[string]any{"name": "P4", "type": "percent_off", "percent_off_bp": 5000}), 422, "policy_violation")
		if p.Rule != "P4" || p.Limit == nil || *p.Limit != 3000 || p.Current == nil || *p.Current != 5000 {
			t.Errorf("P4 breach: %+v", p)
		}
		p = want(b.c.do(t, "POST", "/v1/promotions/"+b.otherPromo.ID+"/code-jobs", b.foreign, map[string]any{"count": 100, "length": 3, "charset": "AB"}), 422, "code_space_too_small")
		if p.Rule != "C3" || p.Limit == nil || p.Current == nil || *p.Current != 101 {
			t.Errorf("code space: %+v", p)
		}

		body := map[string]any{"name": "Idem", "type": "amount_off", "amount_off": 100}
		mustDo(t, b, b.seller, "POST", "/v1/promotions", body, 201, "Idempotency-Key", "k1")
		body["amount_off"] = 200
		want(b.c.do(t, "POST", "/v1/promotions", b.seller, body, "Idempotency-Key", "k1"), 422, "idempotency_key_reused")

		// A first request still running: begin it by hand with the hash the
		// server computes.
		req, _ := http.NewRequest("POST", "/v1/promotions", nil)
		h := requestHash(req)
		h.Write([]byte(`{"name":"Busy","type":"amount_off","amount_off":100}`))
		keyID := mustKeyID(t, b, b.seller)
		if rec, err := b.svc.BeginIdempotent(context.Background(), keyID, "k2", h.Sum(nil)); err != nil || rec != nil {
			t.Fatalf("BeginIdempotent: %v %v", rec, err)
		}
		want(b.c.do(t, "POST", "/v1/promotions", b.seller, `{"name":"Busy","type":"amount_off","amount_off":100}`, "Idempotency-Key", "k2"), 409, "idempotency_key_in_use")
	})
}

// mustKeyID returns the id of the key secret.
func mustKeyID(t *testing.T, b *testBundle, secret string) string {
	t.Helper()
	p, err := b.svc.Authenticate(context.Background(), secret)
	if err != nil {
		t.Fatal(err)
	}
	return p.KeyID
}

// TestProblemUnavailable checks /readyz when the database does not answer.
func TestProblemUnavailable(t *testing.T) {
	t.Parallel()
	st := dbtest.OpenSQLite(t)
	b := newBundle(t, st, func(c *Config) {
		c.Ready = func(context.Context) error { return errors.New("dial tcp 10.0.0.1:5432: connection refused") }
	})
	r := b.c.do(t, "GET", "/readyz", "", nil)
	if r.StatusCode != 503 || r.Problem.Code != "unavailable" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("readyz: %d %v %s", r.StatusCode, r.Header, r.Body)
	}
	if strings.Contains(string(r.Body), "10.0.0.1") {
		t.Errorf("readyz shows its cause: %s", r.Body)
	}
	if !strings.Contains(b.logs.String(), "connection refused") {
		t.Errorf("the cause is not logged: %s", b.logs)
	}
	mustDo(t, b, "", "GET", "/healthz", nil, 200)
}

// TestProblemInternal checks that an unexpected error and a panic become a
// 500 that shows nothing of their cause, which is logged with the request.
func TestProblemInternal(t *testing.T) {
	t.Parallel()
	b := newBundle(t, dbtest.OpenSQLite(t))
	b.srv.mux.HandleFunc("GET /v1/test/error", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, errors.New("sql: secret table exploded"))
	})
	b.srv.mux.HandleFunc("GET /v1/test/panic", func(w http.ResponseWriter, r *http.Request) {
		panic("secret panic value")
	})
	for _, path := range []string{"/v1/test/error", "/v1/test/panic"} {
		r := b.c.do(t, "GET", path, b.admin, nil, "X-Request-Id", "req-"+path[9:])
		if r.StatusCode != 500 || r.Problem.Code != "internal" || r.Problem.RequestID != "req-"+path[9:] {
			t.Fatalf("%s: %d %s", path, r.StatusCode, r.Body)
		}
		if strings.Contains(string(r.Body), "secret") {
			t.Errorf("%s shows its cause: %s", path, r.Body)
		}
	}
	logs := b.logs.String()
	for _, s := range []string{"secret table exploded", "secret panic value", "req-error", "req-panic", "problem_test.go", "level=ERROR"} {
		if !strings.Contains(logs, s) {
			t.Errorf("the log lacks %q:\n%s", s, logs)
		}
	}
}
