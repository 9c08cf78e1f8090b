package main

import (
	"net/http"
	"path/filepath"
	"testing"
)

// TestServeLookupFailures checks that --lookup-failures reaches the API:
// with a limit of 1, the key that failed a code look-up is refused the
// next ones; with 0, never.
func TestServeLookupFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		limit   string
		refused bool
	}{{"1", true}, {"0", false}} {
		t.Run("limit "+tc.limit, func(t *testing.T) {
			t.Parallel()
			keyFile := filepath.Join(t.TempDir(), "admin.key")
			m := MustRunMain(t, "serve", "--database-url", MustSQLiteURL(t), "--admin-key-file", keyFile, "--lookup-failures", tc.limit)
			key := readKeyFile(t, keyFile)
			// The windows are minutes of the wall clock: the second failed
			// look-up may fall into a new one, the third cannot.
			refused := false
			for i := 0; i < 3 && !refused; i++ {
				req, err := http.NewRequest("GET", m.URL()+"/v1/codes/NOPE-NOPE", nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusTooManyRequests:
					refused = true
				case http.StatusNotFound:
				default:
					t.Fatalf("look-up %d: status %d", i, resp.StatusCode)
				}
			}
			if refused != tc.refused {
				t.Errorf("refused %v, want %v", refused, tc.refused)
			}
		})
	}
}
