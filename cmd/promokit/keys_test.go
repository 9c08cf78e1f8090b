package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// secretPattern matches a key secret in printed output.
var secretPattern = regexp.MustCompile(`pk_[A-Za-z0-9_-]{43}`)

// runKeysCommand runs promokit with args and returns its exit status and
// what it printed.
func runKeysCommand(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr syncBuffer
	m := &Main{Stdout: &stdout, Stderr: &stderr, Getenv: env(nil)}
	code := m.Exec(context.Background(), args)
	return code, stdout.String(), stderr.String()
}

// TestKeysCommand loses the admin key of a running server and recovers
// with promokit keys create, run against its database: the new admin key
// works at once, revokes the lost one, and the secret is printed once and
// never logged. keys create also makes a store's key into a 0600 file,
// refuses a key its role cannot have, and keys list shows every key
// without its secret.
func TestKeysCommand(t *testing.T) {
	t.Parallel()
	for _, db := range testDBs() {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			url := db.fresh(t)
			dir := t.TempDir()
			m := MustRunMain(t, "serve", "--database-url", url, "--admin-key-file", filepath.Join(dir, "lost.key"))
			lost := client{t, m.URL(), readKeyFile(t, filepath.Join(dir, "lost.key"))}
			store := lost.do("POST", "/v1/stores", map[string]any{"name": "Recovered Store"}, http.StatusCreated)["id"].(string)

			code, out, logs := runKeysCommand(t, "keys", "create", "--role", "admin", "--name", "rescue",
				"--database-url", url, "--log-level", "debug", "--log-format", "text")
			if code != 0 {
				t.Fatalf("keys create exited %d:\n%s\n%s", code, out, logs)
			}
			secrets := secretPattern.FindAllString(out, -1)
			if len(secrets) != 1 || !strings.Contains(out, "shown this once") {
				t.Fatalf("keys create should print one secret, once:\n%s", out)
			}
			rescue := client{t, m.URL(), secrets[0]}
			if strings.Contains(logs, rescue.key[10:]) {
				t.Errorf("the log holds the new secret:\n%s", logs)
			}
			rescue.do("GET", "/v1/settings", nil, http.StatusOK)
			var lostID string
			for _, k := range rescue.list("/v1/keys") {
				if k["name"] == "admin (first start)" {
					lostID = k["id"].(string)
				}
			}
			rescue.do("DELETE", "/v1/keys/"+lostID, nil, http.StatusOK)
			lost.do("GET", "/v1/settings", nil, http.StatusUnauthorized)

			keyFile := filepath.Join(dir, "seller.key")
			code, out, logs = runKeysCommand(t, "keys", "create", "--role", "seller", "--store", store,
				"--key-file", keyFile, "--database-url", url)
			if code != 0 || secretPattern.MatchString(out) || !strings.Contains(out, keyFile) {
				t.Fatalf("keys create --key-file exited %d, printed:\n%s\n%s", code, out, logs)
			}
			seller := client{t, m.URL(), readKeyFile(t, keyFile)}
			if got := seller.do("GET", "/v1/stores/"+store, nil, http.StatusOK); got["id"] != store {
				t.Errorf("the seller key reads %v", got)
			}

			for _, args := range [][]string{
				{"--role", "seller"},                      // a seller key needs a store
				{"--role", "seller", "--store", "sto_no"}, // that exists
				{"--role", "root"},
				{},
			} {
				code, out, logs := runKeysCommand(t, append(append([]string{"keys", "create"}, args...), "--database-url", url)...)
				if code != 2 || secretPattern.MatchString(out) {
					t.Errorf("keys create %q exited %d, want 2:\n%s\n%s", args, code, out, logs)
				}
			}

			code, out, logs = runKeysCommand(t, "keys", "list", "--database-url", url)
			if code != 0 {
				t.Fatalf("keys list exited %d:\n%s", code, logs)
			}
			for _, want := range []string{lostID, "rescue", store, rescue.key[:10]} {
				if !strings.Contains(out, want) {
					t.Errorf("keys list does not show %q:\n%s", want, out)
				}
			}
			if n := strings.Count(out, "key_"); n != 3 {
				t.Errorf("keys list shows %d keys, want 3:\n%s", n, out)
			}
			if strings.Contains(out, rescue.key[10:]) || strings.Contains(out, seller.key[10:]) {
				t.Errorf("keys list shows a secret:\n%s", out)
			}
			_, out, _ = runKeysCommand(t, "keys", "list", "--role", "seller", "--database-url", url)
			if strings.Count(out, "key_") != 1 || !strings.Contains(out, store) {
				t.Errorf("keys list --role seller:\n%s", out)
			}
		})
	}
}

// TestKeySecretAtRest creates a key with an Idempotency-Key through a
// running server, then reads every Idempotency-Key record straight from
// the database (and, on SQLite, every byte of its files): the secret is
// nowhere, while the record of the request is there.
func TestKeySecretAtRest(t *testing.T) {
	t.Parallel()
	for _, db := range testDBs() {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			url := db.fresh(t)
			keyFile := filepath.Join(t.TempDir(), "admin.key")
			m := MustRunMain(t, "serve", "--database-url", url, "--admin-key-file", keyFile, "--log-level", "debug")
			admin := readKeyFile(t, keyFile)

			body := []byte(`{"role":"checkout","name":"till"}`)
			var secret string
			for i := range 2 {
				req, _ := http.NewRequest("POST", m.URL()+"/v1/keys", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+admin)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", "till-1")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var k map[string]any
				if resp.StatusCode != http.StatusCreated || json.Unmarshal(raw, &k) != nil {
					t.Fatalf("POST /v1/keys: %d %s", resp.StatusCode, raw)
				}
				if i == 0 {
					secret, _ = k["secret"].(string)
				} else if k["secret"] != nil || k["secret_withheld"] != true {
					t.Errorf("the replay should withhold the secret: %s", raw)
				}
			}
			if !secretPattern.MatchString(secret) {
				t.Fatalf("no secret in the first answer")
			}

			var rows [][]byte
			ctx := context.Background()
			if db.name == "sqlite" {
				path := strings.TrimPrefix(url, "sqlite:")
				conn, err := sql.Open("sqlite", path+"?mode=ro")
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				rs, err := conn.QueryContext(ctx, `SELECT key, body, headers FROM idempotency_keys`)
				if err != nil {
					t.Fatal(err)
				}
				for rs.Next() {
					var key string
					var b, h []byte
					if err := rs.Scan(&key, &b, &h); err != nil {
						t.Fatal(err)
					}
					rows = append(rows, append([]byte(key+" "), append(b, h...)...))
				}
				if err := rs.Err(); err != nil {
					t.Fatal(err)
				}
				for _, name := range []string{path, path + "-wal"} {
					data, err := os.ReadFile(name)
					if err != nil {
						t.Fatal(err)
					}
					if bytes.Contains(data, []byte(secret[10:])) {
						t.Errorf("%s holds the secret", filepath.Base(name))
					}
				}
			} else {
				conn, err := pgx.Connect(ctx, url)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close(ctx)
				rs, err := conn.Query(ctx, `SELECT key, body, headers FROM idempotency_keys`)
				if err != nil {
					t.Fatal(err)
				}
				for rs.Next() {
					var key string
					var b, h []byte
					if err := rs.Scan(&key, &b, &h); err != nil {
						t.Fatal(err)
					}
					rows = append(rows, append([]byte(key+" "), append(b, h...)...))
				}
				if err := rs.Err(); err != nil {
					t.Fatal(err)
				}
			}
			found := false
			for _, r := range rows {
				found = found || bytes.HasPrefix(r, []byte("till-1 "))
				if bytes.Contains(r, []byte(secret[10:])) {
					t.Errorf("an Idempotency-Key record holds the secret: %s", r)
				}
			}
			if !found {
				t.Errorf("no record of the request among %d", len(rows))
			}
			if strings.Contains(m.stderr.String(), secret[10:]) {
				t.Errorf("the log holds the secret")
			}
		})
	}
}
