package main

import (
	"fmt"
	"net/http"
	"testing"
)

// TestServeAuthFailures checks that --auth-failures reaches the API: with
// a limit of 1, the address that sent an unknown key is refused the next
// ones; with 0, never.
func TestServeAuthFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		limit   string
		refused bool
	}{{"1", true}, {"0", false}} {
		t.Run("limit "+tc.limit, func(t *testing.T) {
			t.Parallel()
			m := MustRunMain(t, "serve", "--database-url", MustSQLiteURL(t), "--admin-key-file", t.TempDir()+"/admin.key", "--auth-failures", tc.limit)
			// The windows are minutes of the wall clock: the second failure
			// may fall into a new one, the third cannot.
			refused := false
			for i := 0; i < 3 && !refused; i++ {
				req, err := http.NewRequest("GET", m.URL()+"/v1/stores", nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", fmt.Sprintf("Bearer pk_unknown_key_%030d", i))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusTooManyRequests:
					refused = true
					if resp.Header.Get("Retry-After") == "" {
						t.Error("429 without Retry-After")
					}
				case http.StatusUnauthorized:
				default:
					t.Fatalf("request %d: status %d", i, resp.StatusCode)
				}
			}
			if refused != tc.refused {
				t.Errorf("refused %v, want %v", refused, tc.refused)
			}
		})
	}
}
