package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/storage"
)

// testURLEnv names the variable that holds the URL of the PostgreSQL test
// database. When it is set, every end-to-end test also runs on
// PostgreSQL, and fails if the server does not answer.
const testURLEnv = "PROMOKIT_TEST_DATABASE_URL"

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// testDB is a kind of database the end-to-end tests run on; fresh returns
// the URL of a new, empty database of that kind.
type testDB struct {
	name  string
	fresh func(tb testing.TB) string
}

// testDBs returns a fresh SQLite file always and a fresh PostgreSQL schema
// when PROMOKIT_TEST_DATABASE_URL is set.
func testDBs() []testDB {
	dbs := []testDB{{"sqlite", MustSQLiteURL}}
	if os.Getenv(testURLEnv) != "" {
		dbs = append(dbs, testDB{"postgres", MustPostgresURL})
	}
	return dbs
}

// MustSQLiteURL returns the URL of a new SQLite file in a temporary directory.
func MustSQLiteURL(tb testing.TB) string {
	tb.Helper()
	return "sqlite:" + filepath.Join(tb.TempDir(), "promokit.db")
}

// MustPostgresURL returns the URL of a fresh PostgreSQL schema, dropped
// when the test ends (dbtest.PostgresURL).
func MustPostgresURL(tb testing.TB) string { return dbtest.PostgresURL(tb) }

// testMain is a Main under test and what it printed.
type testMain struct {
	*Main
	stdout, stderr *syncBuffer
}

// NewTestMain returns a Main for args that sees no environment, listens
// on a free loopback port unless args say otherwise, and logs to a buffer
// shown when the test fails. It is closed when the test ends.
func NewTestMain(tb testing.TB, args ...string) *testMain {
	tb.Helper()
	tm := &testMain{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	tm.Main = &Main{Stdout: tm.stdout, Stderr: tm.stderr, Getenv: env(map[string]string{EnvAddr: "127.0.0.1:0"})}
	if err := tm.ParseFlags(args); err != nil {
		tb.Fatalf("ParseFlags(%q): %v", args, err)
	}
	tb.Cleanup(func() {
		if err := tm.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
		if tb.Failed() {
			tb.Logf("stdout of %q:\n%s\nstderr:\n%s", args, tm.stdout, tm.stderr)
		}
	})
	return tm
}

// MustRunMain builds a Main for args with NewTestMain and runs it.
func MustRunMain(tb testing.TB, args ...string) *testMain {
	tb.Helper()
	tm := NewTestMain(tb, args...)
	if err := tm.Run(context.Background()); err != nil {
		tb.Fatalf("Run(%q): %v\nstderr:\n%s", args, err, tm.stderr)
	}
	return tm
}

// client calls the API of a running Main with one key.
type client struct {
	tb   testing.TB
	base string
	key  string
}

// do sends a request with a JSON body, unless body is nil, checks that the
// status is want and returns the decoded JSON response.
func (c client) do(method, path string, body any, want int) map[string]any {
	c.tb.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.tb.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.tb.Fatalf("%s %s: read body: %v", method, path, err)
	}
	if resp.StatusCode != want {
		c.tb.Fatalf("%s %s = %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	out := map[string]any{}
	if strings.Contains(resp.Header.Get("Content-Type"), "json") && len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			c.tb.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
	return out
}

// list returns the data of a list response.
func (c client) list(path string) []map[string]any {
	c.tb.Helper()
	resp := c.do("GET", path, nil, http.StatusOK)
	data, ok := resp["data"].([]any)
	if !ok {
		c.tb.Fatalf("GET %s: no data list in %v", path, resp)
	}
	out := make([]map[string]any, len(data))
	for i, d := range data {
		out[i], _ = d.(map[string]any)
	}
	return out
}

// readKeyFile returns the admin key in path and checks that only its owner
// may read the file.
func readKeyFile(tb testing.TB, path string) string {
	tb.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatalf("admin key file: %v", err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		tb.Errorf("admin key file has mode %o, want 600", mode)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	key := strings.TrimSpace(string(b))
	if !strings.HasPrefix(key, "pk_") {
		tb.Fatalf("admin key file holds %q", key)
	}
	return key
}

// TestServe starts promokit on a new database, reads the admin key from
// --admin-key-file, creates a store, a promotion and a code over HTTP,
// then restarts on the same database: no second admin key is created, and
// everything is still there.
func TestServe(t *testing.T) {
	t.Parallel()
	for _, db := range testDBs() {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			dbURL := db.fresh(t)
			dir := t.TempDir()
			keyFile := filepath.Join(dir, "admin.key")

			started := time.Now()
			m := MustRunMain(t, "serve", "--database-url", dbURL, "--admin-key-file", keyFile, "--log-level", "debug")
			t.Logf("%s: ready in %s", db.name, time.Since(started))
			if !m.adminCreated {
				t.Fatal("the first start created no admin key")
			}
			admin := client{t, m.URL(), readKeyFile(t, keyFile)}
			if out := m.stdout.String(); !strings.Contains(out, keyFile) || strings.Contains(out, admin.key) {
				t.Errorf("stdout should name the key file and not show the key:\n%s", out)
			}
			anon := client{t, m.URL(), ""}
			if got := anon.do("GET", "/healthz", nil, http.StatusOK); got["status"] != "ok" {
				t.Errorf("/healthz = %v", got)
			}
			anon.do("GET", "/readyz", nil, http.StatusOK)
			anon.do("GET", "/v1/settings", nil, http.StatusUnauthorized)

			store := admin.do("POST", "/v1/stores", map[string]any{"name": "E2E Store"}, http.StatusCreated)
			storeID, _ := store["id"].(string)
			promo := admin.do("POST", "/v1/promotions", map[string]any{
				"store_id": storeID, "name": "Ten off", "type": "amount_off", "amount_off": 1000,
			}, http.StatusCreated)
			promoID, _ := promo["id"].(string)
			admin.do("POST", "/v1/promotions/"+promoID+"/codes", map[string]any{"code": "e2e-ten"}, http.StatusCreated)
			if got := admin.do("GET", "/v1/codes/E2E-TEN", nil, http.StatusOK); got["promotion_id"] != promoID {
				t.Errorf("GET /v1/codes/E2E-TEN = %v, want promotion %s", got, promoID)
			}
			if err := m.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}

			// The second start finds the database initialised.
			keyFile2 := filepath.Join(dir, "admin2.key")
			m2 := MustRunMain(t, "serve", "--database-url", dbURL, "--admin-key-file", keyFile2)
			if m2.adminCreated {
				t.Error("the second start created another admin key")
			}
			if _, err := os.Stat(keyFile2); !os.IsNotExist(err) {
				t.Errorf("the second start wrote an admin key file: %v", err)
			}
			if out := m2.stdout.String(); strings.Contains(out, "pk_") {
				t.Errorf("the second start printed a key:\n%s", out)
			}
			admin.base = m2.URL()
			if got := admin.do("GET", "/v1/codes/e2e-ten", nil, http.StatusOK); got["code"] != "E2E-TEN" {
				t.Errorf("after restart GET /v1/codes/e2e-ten = %v", got)
			}
			keys := admin.list("/v1/keys")
			if len(keys) != 1 || keys[0]["role"] != "admin" {
				t.Errorf("keys after restart = %v, want the one admin key", keys)
			}
			if err := m2.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if _, err := http.Get(m2.URL() + "/healthz"); err == nil {
				t.Error("the server still answers after Close")
			}
		})
	}
}

// TestServeConcurrentStart starts two servers at once on one new
// database: both migrate, and exactly one creates the admin key.
func TestServeConcurrentStart(t *testing.T) {
	t.Parallel()
	for _, db := range testDBs() {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			dbURL := db.fresh(t)
			dir := t.TempDir()
			var mains [2]*testMain
			var errs [2]error
			var wg sync.WaitGroup
			for i := range mains {
				mains[i] = NewTestMain(t, "serve", "--database-url", dbURL, "--admin-key-file", filepath.Join(dir, "admin"+string(rune('0'+i))+".key"))
				wg.Go(func() { errs[i] = mains[i].Run(context.Background()) })
			}
			wg.Wait()
			var created []string
			for i, err := range errs {
				if err != nil {
					t.Fatalf("server %d: %v\nstderr:\n%s", i, err, mains[i].stderr)
				}
				if mains[i].adminCreated {
					created = append(created, filepath.Join(dir, "admin"+string(rune('0'+i))+".key"))
				}
			}
			if len(created) != 1 {
				t.Fatalf("%d servers created an admin key, want exactly 1", len(created))
			}
			key := readKeyFile(t, created[0])
			for _, m := range mains {
				keys := client{t, m.URL(), key}.list("/v1/keys")
				if len(keys) != 1 {
					t.Errorf("the database holds %d keys, want the one admin key: %v", len(keys), keys)
				}
			}
		})
	}
}

// TestServeAdminKeyOnStdout checks that without --admin-key-file the first
// start prints the admin key, and that a bad address fails before anything
// is created.
func TestServeAdminKeyOnStdout(t *testing.T) {
	t.Parallel()
	m := MustRunMain(t, "serve", "--database-url", MustSQLiteURL(t))
	out := m.stdout.String()
	i := strings.Index(out, "pk_")
	if i < 0 || !strings.Contains(out, "shown this once") {
		t.Fatalf("stdout shows no admin key:\n%s", out)
	}
	key := strings.Fields(out[i:])[0]
	client{t, m.URL(), key}.do("GET", "/v1/settings", nil, http.StatusOK)
}

// TestServeAddrInUse checks that a taken port is a clear error.
func TestServeAddrInUse(t *testing.T) {
	t.Parallel()
	m := MustRunMain(t, "serve", "--database-url", MustSQLiteURL(t))
	addr := strings.TrimPrefix(m.URL(), "http://")
	m2 := NewTestMain(t, "serve", "--addr", addr, "--database-url", MustSQLiteURL(t))
	err := m2.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "listen on "+addr) {
		t.Fatalf("Run on a taken port = %v, want a listen error", err)
	}
}

// TestExecShutsDownOnCancel runs the binary's whole path, Exec, and stops
// it as a signal would, by cancelling its context.
func TestExecShutsDownOnCancel(t *testing.T) {
	t.Parallel()
	var stdout, stderr syncBuffer
	m := &Main{Stdout: &stdout, Stderr: &stderr, Getenv: env(nil)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	args := []string{"serve", "--addr", "127.0.0.1:0", "--database-url", MustSQLiteURL(t), "--log-format", "text"}
	go func() { done <- m.Exec(ctx, args) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), "promokit is serving") {
		if time.Now().After(deadline) {
			t.Fatalf("not serving after 10s:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("Exec = %d after cancel, want 0:\n%s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Exec did not return after cancel")
	}
	if !strings.Contains(stderr.String(), "stopped") {
		t.Errorf("no stop in the log:\n%s", stderr.String())
	}
}

// TestCheck runs promokit check on a database whose counters equal their
// rows, then on one with a counter changed behind them: errCounters.
func TestCheck(t *testing.T) {
	t.Parallel()
	for _, db := range testDBs() {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			url := db.fresh(t)
			m := NewTestMain(t, "check", "--database-url", url)
			if err := m.Run(context.Background()); err != nil || !strings.Contains(m.stdout.String(), "equals") {
				t.Fatalf("check on a new database: %v: %s", err, m.stdout)
			}
			w := NewTestMain(t, "migrate", "--database-url", url)
			w.logger = w.newLogger()
			if err := w.openAndMigrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			err := w.DB.Write(context.Background(), func(tx storage.Tx) error {
				_, err := tx.UsageCustomerAdd(context.Background(), storage.CustomerUse{UsageKey: storage.UsageKey{Subject: "prm_x", CustomerKey: "e:x"}, Uses: 1, Limit: nil})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			m = NewTestMain(t, "check", "--database-url", url)
			if err := m.Run(context.Background()); !errors.Is(err, errCounters) || !strings.Contains(m.stdout.String(), "customer_uses prm_x e:x: stored 1, from the redemptions 0") {
				t.Fatalf("check after tampering: %v: %s", err, m.stdout)
			}
		})
	}
}
