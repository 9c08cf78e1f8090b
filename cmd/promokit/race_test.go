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
