package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestTwoServersRedeemRace runs two promokit serve processes' Mains on one
// database and sends 1,000 concurrent redeems, alternating between them,
// over 50 codes of a promotion limited to 100 uses: exactly 100 succeed,
// since no limit relies on the memory of one process.
func TestTwoServersRedeemRace(t *testing.T) {
	t.Parallel()
	for _, db := range testDBs() {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			url := db.fresh(t)
			keyFile := filepath.Join(t.TempDir(), "admin.key")
			a := MustRunMain(t, "serve", "--database-url", url, "--admin-key-file", keyFile)
			b := MustRunMain(t, "serve", "--database-url", url)
			admin := client{t, a.URL(), readKeyFile(t, keyFile)}

			store := admin.do("POST", "/v1/stores", map[string]any{"name": "Race"}, http.StatusCreated)["id"].(string)
			promo := admin.do("POST", "/v1/promotions", map[string]any{"store_id": store, "name": "Race",
				"type": "percent_off", "percent_off_bp": 1000, "total_uses": 100}, http.StatusCreated)["id"].(string)
			job := admin.do("POST", "/v1/promotions/"+promo+"/code-jobs", map[string]any{"count": 50}, http.StatusAccepted)["id"].(string)
			for deadline := time.Now().Add(30 * time.Second); admin.do("GET", "/v1/jobs/"+job, nil, http.StatusOK)["state"] != "succeeded"; {
				if time.Now().After(deadline) {
					t.Fatal("the code job did not finish")
				}
				time.Sleep(20 * time.Millisecond)
			}
			var codes []string
			for _, c := range admin.list("/v1/promotions/" + promo + "/codes?limit=100") {
				codes = append(codes, c["code"].(string))
			}
			if len(codes) != 50 {
				t.Fatalf("%d codes", len(codes))
			}
			checkout := admin.do("POST", "/v1/keys", map[string]any{"role": "checkout", "store_id": store}, http.StatusCreated)["secret"].(string)

			var created, refused atomic.Int64
			var wg sync.WaitGroup
			work := make(chan int)
			for w := 0; w < 64; w++ {
				wg.Go(func() {
					for i := range work {
						base := []string{a.URL(), b.URL()}[i%2]
						body, _ := json.Marshal(map[string]any{
							"order_id": fmt.Sprintf("ord-%04d", i),
							"cart": map[string]any{"store_id": store, "currency": "USD",
								"lines": []map[string]any{{"product_id": "p", "quantity": 1, "unit_price": 5000}}},
							"codes": []string{codes[i%50]},
						})
						req, _ := http.NewRequest("POST", base+"/v1/redeem", bytes.NewReader(body))
						req.Header.Set("Content-Type", "application/json")
						req.Header.Set("Authorization", "Bearer "+checkout)
						resp, err := http.DefaultClient.Do(req)
						if err != nil {
							t.Error(err)
							continue
						}
						resp.Body.Close()
						switch resp.StatusCode {
						case http.StatusCreated:
							created.Add(1)
						case http.StatusConflict:
							refused.Add(1)
						default:
							t.Errorf("redeem %d: status %d", i, resp.StatusCode)
						}
					}
				})
			}
			for i := 0; i < 1000; i++ {
				work <- i
			}
			close(work)
			wg.Wait()
			if created.Load() != 100 || refused.Load() != 900 {
				t.Fatalf("%d redeemed and %d refused over two servers, want 100 and 900", created.Load(), refused.Load())
			}
			if uses := admin.do("GET", "/v1/promotions/"+promo, nil, http.StatusOK)["uses"].(float64); uses != 100 {
				t.Fatalf("stored uses %v", uses)
			}
		})
	}
}

// TestTwoServersOrderEvents runs two servers on one database and sends
// every order-placed event of 200 attributed orders to both at once: each
// order is placed once, its twin is answered as a replay, and the ledger
// holds exactly one accrual per order, since no event's uniqueness relies
// on the memory of one process. The clicks go through both servers too.
func TestTwoServersOrderEvents(t *testing.T) {
	t.Parallel()
	for _, db := range testDBs() {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			url := db.fresh(t)
			keyFile := filepath.Join(t.TempDir(), "admin.key")
			a := MustRunMain(t, "serve", "--database-url", url, "--admin-key-file", keyFile, "--click-flush", "10ms")
			b := MustRunMain(t, "serve", "--database-url", url, "--click-flush", "10ms")
			admin := client{t, a.URL(), readKeyFile(t, keyFile)}
			store := admin.do("POST", "/v1/stores", map[string]any{"name": "Race"}, http.StatusCreated)["id"].(string)
			admin.do("POST", "/v1/stores/"+store+"/affiliate/join", map[string]any{"accept_terms": true, "rate_bp": 500, "url": "https://shop.example/"}, http.StatusCreated)
			partner := admin.do("POST", "/v1/partners", map[string]any{"name": "Aff", "kind": "affiliate"}, http.StatusCreated)["id"].(string)
			link := admin.do("POST", "/v1/links", map[string]any{"store_id": store, "partner_id": partner}, http.StatusCreated)
			path, linkID := link["path"].(string), link["id"].(string)
			checkout := admin.do("POST", "/v1/keys", map[string]any{"role": "checkout", "store_id": store}, http.StatusCreated)["secret"].(string)

			// One visitor per order, half of them clicking through each server.
			const n = 200
			noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			visitors := make([]string, n)
			for i := range visitors {
				req, _ := http.NewRequest("GET", []string{a.URL(), b.URL()}[i%2]+path, nil)
				req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0")
				resp, err := noFollow.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				for _, c := range resp.Cookies() {
					if c.Name == "pk_vid" {
						visitors[i] = c.Value
					}
				}
				if resp.StatusCode != http.StatusFound || visitors[i] == "" {
					t.Fatalf("click %d: status %d, visitor %q", i, resp.StatusCode, visitors[i])
				}
			}
			// Both servers write their queued clicks within a flush interval.
			for deadline := time.Now().Add(10 * time.Second); admin.do("GET", "/v1/links/"+linkID, nil, http.StatusOK)["clicks"].(float64) < n; {
				if time.Now().After(deadline) {
					t.Fatal("the clicks were not written")
				}
				time.Sleep(10 * time.Millisecond)
			}

			var placed, replayed atomic.Int64
			var wg sync.WaitGroup
			for i := range 2 * n {
				wg.Go(func() {
					order := fmt.Sprintf("ord-%03d", i/2)
					body, _ := json.Marshal(map[string]any{"id": order + "-placed", "type": "placed", "currency": "USD",
						"visitor_id": visitors[i/2], "lines": []map[string]any{{"product_id": "p", "quantity": 1, "amount": 10000}}})
					req, _ := http.NewRequest("POST", []string{a.URL(), b.URL()}[i%2]+"/v1/stores/"+store+"/orders/"+order+"/events", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+checkout)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					var out struct {
						Replayed bool `json:"replayed"`
						Order    struct {
							Attribution *struct{} `json:"attribution"`
						} `json:"order"`
					}
					err = json.NewDecoder(resp.Body).Decode(&out)
					resp.Body.Close()
					switch {
					case err != nil:
						t.Errorf("order %s: %v", order, err)
					case out.Order.Attribution == nil:
						t.Errorf("order %s: not attributed", order)
					case resp.StatusCode == http.StatusCreated && !out.Replayed:
						placed.Add(1)
					case resp.StatusCode == http.StatusOK && out.Replayed:
						replayed.Add(1)
					default:
						t.Errorf("order %s: status %d, replayed %v", order, resp.StatusCode, out.Replayed)
					}
				})
			}
			wg.Wait()
			if placed.Load() != n || replayed.Load() != n {
				t.Fatalf("%d placed and %d replays, want %d each", placed.Load(), replayed.Load(), n)
			}
			day := time.Now().UTC()
			period := "from=" + day.AddDate(0, 0, -2).Format(time.DateOnly) + "&to=" + day.AddDate(0, 0, 2).Format(time.DateOnly)
			st := admin.do("GET", "/v1/partners/"+partner+"/statement?"+period, nil, http.StatusOK)
			cur := st["currencies"].([]any)[0].(map[string]any)["accounts"].([]any)[0].(map[string]any)
			if pending := cur["closing"].(map[string]any)["pending"].(float64); pending != n*500 {
				t.Fatalf("pending commission %v, want %d", pending, n*500)
			}
		})
	}
}
