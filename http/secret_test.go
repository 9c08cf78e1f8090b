package http

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/storage"
)

// TestKeySecretNotReplayed creates keys with an Idempotency-Key and checks
// that the record read back from the database holds no secret, that a
// replay answers the key with its secret withheld and says so, and that
// no secret reaches the log.
func TestKeySecretNotReplayed(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		ctx := context.Background()
		var secrets []string
		for _, tc := range []struct {
			name, key string
			body      map[string]any
		}{
			{"admin", b.admin, map[string]any{"name": "rescue", "role": "admin"}},
			{"seller", b.seller, map[string]any{"name": "till", "role": "checkout"}},
		} {
			first := mustDo(t, b, tc.key, "POST", "/v1/keys", tc.body, http.StatusCreated, "Idempotency-Key", "mint-"+tc.name)
			created := decodeAs[keyJSON](t, first)
			if !strings.HasPrefix(created.Secret, "pk_") || len(created.Secret) < 40 {
				t.Fatalf("%s: first answer has secret %q", tc.name, created.Secret)
			}
			if first.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: first answer's Cache-Control %q", tc.name, first.Header.Get("Cache-Control"))
			}
			secrets = append(secrets, created.Secret)

			// The record, read from the database: no trace of the secret.
			p, err := b.svc.Authenticate(ctx, tc.key)
			if err != nil {
				t.Fatal(err)
			}
			var rec *storage.IdempotencyRecord
			if err := b.store.Read(ctx, func(tx storage.Tx) error {
				var err error
				rec, err = tx.IdempotencyGet(ctx, p.KeyID, "mint-"+tc.name)
				return err
			}); err != nil {
				t.Fatalf("%s: read the record: %v", tc.name, err)
			}
			stored := string(rec.Body) + string(rec.Headers)
			if strings.Contains(stored, created.Secret) || strings.Contains(stored, created.Secret[10:]) {
				t.Errorf("%s: the replay record holds the secret: %s", tc.name, stored)
			}
			if rec.Status != http.StatusCreated || !bytes.Contains(rec.Body, []byte(created.ID)) {
				t.Errorf("%s: record %d %s", tc.name, rec.Status, rec.Body)
			}

			again := mustDo(t, b, tc.key, "POST", "/v1/keys", tc.body, http.StatusCreated, "Idempotency-Key", "mint-"+tc.name)
			if again.Header.Get("Idempotent-Replayed") != "true" || again.Header.Get("Location") != "/v1/keys/"+created.ID {
				t.Errorf("%s: replay headers %v", tc.name, again.Header)
			}
			var replay map[string]any
			if err := json.Unmarshal(again.Body, &replay); err != nil {
				t.Fatal(err)
			}
			if replay["id"] != created.ID || replay["prefix"] != created.Prefix {
				t.Errorf("%s: replay is not the same key: %s", tc.name, again.Body)
			}
			if s, ok := replay["secret"]; !ok || s != nil || replay["secret_withheld"] != true {
				t.Errorf("%s: replay should have secret null and secret_withheld true: %s", tc.name, again.Body)
			}
			if bytes.Contains(again.Body, []byte(created.Secret[10:])) {
				t.Errorf("%s: replay shows the secret: %s", tc.name, again.Body)
			}
		}
		// One key each, not two: the replay created nothing.
		if n := b.count(t, b.admin, "/v1/keys"); n != 9 {
			t.Errorf("%d keys, want the 7 of the fixtures and 2 new", n)
		}

		// The new keys work; a revoked one and a malformed header fail.
		// None of it puts a secret in the log, at any level.
		mustDo(t, b, secrets[0], "GET", "/v1/settings", nil, http.StatusOK)
		mustDo(t, b, secrets[1], "GET", "/v1/codes/"+b.shopCode, nil, http.StatusOK)
		list := decodeAs[listJSON[map[string]any]](t, mustDo(t, b, b.admin, "GET", "/v1/keys?limit=100", nil, http.StatusOK))
		for _, k := range list.Data {
			if k["name"] == "till" {
				mustDo(t, b, b.admin, "DELETE", "/v1/keys/"+k["id"].(string), nil, http.StatusOK)
			}
		}
		mustDo(t, b, secrets[1], "GET", "/v1/codes/"+b.shopCode, nil, http.StatusUnauthorized)
		mustDo(t, b, "", "GET", "/v1/settings", nil, http.StatusUnauthorized, "Authorization", "Basic "+secrets[0])
		logs := b.logs.String()
		if !strings.Contains(logs, "/v1/keys") {
			t.Fatalf("the log has no request lines:\n%s", logs)
		}
		for _, s := range append(secrets, b.admin, b.seller, b.checkout) {
			if strings.Contains(logs, s[10:]) {
				t.Errorf("the log holds a secret (%s…):\n%s", s[:10], logs)
			}
		}
	})
}
