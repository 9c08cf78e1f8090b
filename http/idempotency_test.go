package http

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/storage"
)

// TestIdempotency checks replays, refusals and what each writes.
func TestIdempotency(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()

		t.Run("Replay", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			before := b.count(t, b.admin, "/v1/promotions")
			body := map[string]any{"name": "Once", "type": "amount_off", "amount_off": 100}
			first := mustDo(t, b, b.seller, "POST", "/v1/promotions", body, 201, "Idempotency-Key", "create-once")
			if first.Header.Get("Idempotent-Replayed") != "" {
				t.Errorf("the first response is marked replayed")
			}
			b.clock.Add(3600e9) // an hour later: the status and timestamps would differ if it ran again
			again := mustDo(t, b, b.seller, "POST", "/v1/promotions", body, 201, "Idempotency-Key", "create-once")
			if again.Header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("the replay is not marked: %v", again.Header)
			}
			if !bytes.Equal(first.Body, again.Body) {
				t.Errorf("replayed body differs:\n%s\n%s", first.Body, again.Body)
			}
			for _, h := range []string{"Content-Type", "Location", "ETag"} {
				if first.Header.Get(h) == "" || first.Header.Get(h) != again.Header.Get(h) {
					t.Errorf("%s: %q then %q", h, first.Header.Get(h), again.Header.Get(h))
				}
			}
			if after := b.count(t, b.admin, "/v1/promotions"); after != before+1 {
				t.Errorf("promotions: %d before, %d after two sends", before, after)
			}
			// The same Idempotency-Key of another API key is another request.
			mustDo(t, b, b.admin, "POST", "/v1/promotions", map[string]any{"store_id": b.shop.ID, "name": "Admin's", "type": "amount_off", "amount_off": 100}, 201, "Idempotency-Key", "create-once")
			if after := b.count(t, b.admin, "/v1/promotions"); after != before+2 {
				t.Errorf("promotions: %d before, %d after the admin's", before, after)
			}
			// Another body, query or If-Match with the same key is refused.
			body["amount_off"] = 101
			r := b.c.do(t, "POST", "/v1/promotions", b.seller, body, "Idempotency-Key", "create-once")
			if r.StatusCode != 422 || r.Problem.Code != promokit.EIdempotencyReuse {
				t.Errorf("another body: %d %s", r.StatusCode, r.Body)
			}
			delete(body, "amount_off")
			r = b.c.do(t, "POST", "/v1/promotions?x=1", b.seller, body, "Idempotency-Key", "create-once")
			if r.StatusCode != 422 || r.Problem.Code != promokit.EIdempotencyReuse {
				t.Errorf("another query: %d %s", r.StatusCode, r.Body)
			}
			if after := b.count(t, b.admin, "/v1/promotions"); after != before+2 {
				t.Errorf("promotions: %d before, %d after the refusals", before, after)
			}
		})

		t.Run("RefusalsAreKept", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			pp := "/v1/promotions/" + b.promo.ID
			r1 := b.c.do(t, "PATCH", pp, b.seller, map[string]any{"name": "x", "amount_off": 5}, "If-Match", `"1"`, "Idempotency-Key", "bad-edit")
			if r1.StatusCode != 422 {
				t.Fatalf("bad edit: %d %s", r1.StatusCode, r1.Body)
			}
			r2 := b.c.do(t, "PATCH", pp, b.seller, map[string]any{"name": "x", "amount_off": 5}, "If-Match", `"1"`, "Idempotency-Key", "bad-edit")
			if r2.StatusCode != 422 || r2.Header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(r1.Body, r2.Body) {
				t.Errorf("replayed refusal: %d %v %s", r2.StatusCode, r2.Header, r2.Body)
			}
			if r2.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("replayed refusal Content-Type %q", r2.Header.Get("Content-Type"))
			}
			// An edit, then its replay: the version moves once.
			mustDo(t, b, b.seller, "PATCH", pp, map[string]any{"name": "Edited"}, 200, "If-Match", `"1"`, "Idempotency-Key", "edit")
			r := mustDo(t, b, b.seller, "PATCH", pp, map[string]any{"name": "Edited"}, 200, "If-Match", `"1"`, "Idempotency-Key", "edit")
			if r.Header.Get("ETag") != `"2"` || r.Header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("replayed edit: %v", r.Header)
			}
			if got := mustDo(t, b, b.seller, "GET", pp, nil, 200).Header.Get("ETag"); got != `"2"` {
				t.Errorf("ETag after a replayed edit %s", got)
			}
			// A revoke, then its replay: the second is not a 409.
			mustDo(t, b, b.seller, "DELETE", "/v1/keys/"+b.spareKeyID, nil, 200, "Idempotency-Key", "revoke")
			mustDo(t, b, b.seller, "DELETE", "/v1/keys/"+b.spareKeyID, nil, 200, "Idempotency-Key", "revoke")
			mustDo(t, b, b.seller, "DELETE", "/v1/keys/"+b.spareKeyID, nil, 409)
		})

		t.Run("Import", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			path := "/v1/promotions/" + b.promo.ID + "/codes/import"
			before := b.count(t, b.admin, "/v1/promotions/"+b.promo.ID+"/codes")
			file := "code\nIDEM1\nIDEM2\n"
			r1 := mustDo(t, b, b.seller, "POST", path, file, 201, "Content-Type", "text/csv", "Idempotency-Key", "import")
			r2 := mustDo(t, b, b.seller, "POST", path, file, 201, "Content-Type", "text/csv", "Idempotency-Key", "import")
			if r2.Header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(r1.Body, r2.Body) {
				t.Errorf("replayed import: %v %s", r2.Header, r2.Body)
			}
			if after := b.count(t, b.admin, "/v1/promotions/"+b.promo.ID+"/codes"); after != before+2 {
				t.Errorf("codes: %d before, %d after", before, after)
			}
			r := b.c.do(t, "POST", path, b.seller, "code\nIDEM3\n", "Content-Type", "text/csv", "Idempotency-Key", "import")
			if r.StatusCode != 422 || r.Problem.Code != promokit.EIdempotencyReuse {
				t.Errorf("another file: %d %s", r.StatusCode, r.Body)
			}
		})
	})
}

// TestIdempotencyKeyHeader checks the validation of the header.
func TestIdempotencyKeyHeader(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.OpenSQLite)
	for _, key := range []string{strings.Repeat("k", 256), "tab\there", "é"} {
		r := b.c.do(t, "POST", "/v1/stores", b.admin, map[string]any{"name": "S"}, "Idempotency-Key", key)
		if r.StatusCode != 400 || r.Problem.Code != promokit.EMalformed || len(r.Problem.Errors) != 1 || r.Problem.Errors[0].Field != "Idempotency-Key" {
			t.Errorf("key %q: %d %s", key, r.StatusCode, r.Body)
		}
	}
	mustDo(t, b, b.admin, "POST", "/v1/stores", map[string]any{"name": "S"}, 201, "Idempotency-Key", strings.Repeat("k", 255))
	mustDo(t, b, b.admin, "POST", "/v1/stores", map[string]any{"name": "S"}, 201, "Idempotency-Key", "a b ~!")
	// An empty header value is a header sent wrong.
	req, _ := http.NewRequest("POST", b.c.base+"/v1/stores", strings.NewReader(`{"name":"S"}`))
	req.Header["Idempotency-Key"] = []string{""}
	req.Header.Set("Authorization", "Bearer "+b.admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("empty key: %d", resp.StatusCode)
	}
}

// TestIdempotencyServerError checks that a 5xx and a panic are forgotten,
// so that a retry runs the request again.
func TestIdempotencyServerError(t *testing.T) {
	t.Parallel()
	b := newBundle(t, dbtest.OpenSQLite(t))
	var calls atomic.Int32
	b.srv.mux.Handle("POST /v1/test/flaky", b.srv.idempotent(bodyJSON, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			writeError(w, r, promokit.Errorf(promokit.EUnavailable, "try again"))
		case 2:
			panic("boom")
		default:
			writeJSON(w, r, http.StatusCreated, map[string]int32{"call": calls.Load()})
		}
	})))
	for i, want := range []int{503, 500, 201, 201} {
		r := b.c.do(t, "POST", "/v1/test/flaky", b.admin, `{}`, "Idempotency-Key", "flaky")
		if r.StatusCode != want {
			t.Fatalf("call %d: %d %s, want %d", i+1, r.StatusCode, r.Body, want)
		}
		if i == 3 && (r.Header.Get("Idempotent-Replayed") != "true" || !strings.Contains(string(r.Body), `"call":3`)) {
			t.Errorf("the fourth call is not the third's replay: %v %s", r.Header, r.Body)
		}
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("the handler ran %d times, want 3", n)
	}
}

// TestIdempotencyClientClosed checks that a request whose client left
// (499) is forgotten: its engine call may have returned early with the
// client's context while its batch went on, so a retry with the key runs
// the request again rather than replay the 499.
func TestIdempotencyClientClosed(t *testing.T) {
	t.Parallel()
	b := newBundle(t, dbtest.OpenSQLite(t))
	var calls atomic.Int32
	left := make(chan struct{})
	b.srv.mux.Handle("POST /v1/test/left", b.srv.idempotent(bodyJSON, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			<-r.Context().Done() // the client leaves
			writeError(w, r, r.Context().Err())
			close(left)
			return
		}
		writeJSON(w, r, http.StatusCreated, map[string]int32{"call": calls.Load()})
	})))
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "POST", b.c.base+"/v1/test/left", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+b.admin)
	req.Header.Set("Idempotency-Key", "left")
	go func() {
		for calls.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	if resp, err := b.c.hc.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the client that left got an answer: %d", resp.StatusCode)
	}
	<-left
	// Until the first request is recorded, the key is in use (409).
	r := b.c.do(t, "POST", "/v1/test/left", b.admin, `{}`, "Idempotency-Key", "left")
	for i := 0; r.StatusCode == http.StatusConflict && i < 100; i++ {
		time.Sleep(10 * time.Millisecond)
		r = b.c.do(t, "POST", "/v1/test/left", b.admin, `{}`, "Idempotency-Key", "left")
	}
	if r.StatusCode != 201 || r.Header.Get("Idempotent-Replayed") == "true" {
		t.Fatalf("the retry: %d %v %s, want 201 run again", r.StatusCode, r.Header, r.Body)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("the handler ran %d times, want 2", n)
	}
}
