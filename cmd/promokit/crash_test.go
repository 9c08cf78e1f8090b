package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/promokit/promokit/storage"
)

// TestMain lets the test binary stand in for the promokit binary: with
// PROMOKIT_TEST_EXEC set to a JSON list of arguments it runs them as
// promokit would and exits, so that a test can kill a real process.
func TestMain(m *testing.M) {
	if args := os.Getenv("PROMOKIT_TEST_EXEC"); args != "" {
		var list []string
		if err := json.Unmarshal([]byte(args), &list); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(NewMain().Exec(context.Background(), list))
	}
	os.Exit(m.Run())
}

// startProcess runs promokit serve as a child process on dbURL and returns
// it with its base URL once it is ready.
func startProcess(t *testing.T, dbURL, keyFile string, extra ...string) (*exec.Cmd, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	args, _ := json.Marshal(append([]string{"serve", "--addr", addr, "--database-url", dbURL, "--admin-key-file", keyFile, "--log-level", "error"}, extra...))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PROMOKIT_TEST_EXEC="+string(args))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	base := "http://" + addr
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd, base
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the server did not become ready")
		}
	}
}

// TestKillDuringRedeem kills the server with SIGKILL while clients redeem,
// then checks that every redemption acknowledged with 201 is stored and
// that every counter equals its rows.
func TestKillDuringRedeem(t *testing.T) {
	t.Parallel()
	for _, db := range testDBs() {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			url := db.fresh(t)
			keyFile := filepath.Join(t.TempDir(), "admin.key")
			cmd, base := startProcess(t, url, keyFile)
			admin := client{t, base, readKeyFile(t, keyFile)}
			store := admin.do("POST", "/v1/stores", map[string]any{"name": "Crash"}, http.StatusCreated)["id"].(string)
			promo := admin.do("POST", "/v1/promotions", map[string]any{"store_id": store, "name": "Crash",
				"type": "percent_off", "percent_off_bp": 1000}, http.StatusCreated)["id"].(string)
			for i := 0; i < 10; i++ {
				admin.do("POST", "/v1/promotions/"+promo+"/codes", map[string]any{"code": fmt.Sprintf("CRASH-%d", i)}, http.StatusCreated)
			}
			checkout := admin.do("POST", "/v1/keys", map[string]any{"role": "checkout", "store_id": store}, http.StatusCreated)["secret"].(string)

			var (
				mu    sync.Mutex
				acked []string
				wg    sync.WaitGroup
			)
			hc := &http.Client{Timeout: 5 * time.Second}
			for w := 0; w < 16; w++ {
				wg.Go(func() {
					for i := 0; ; i++ {
						order := fmt.Sprintf("ord-%d-%d", w, i)
						body, _ := json.Marshal(map[string]any{"order_id": order, "codes": []string{fmt.Sprintf("CRASH-%d", i%10)},
							"cart": map[string]any{"store_id": store, "currency": "USD",
								"lines": []map[string]any{{"product_id": "p", "quantity": 1, "unit_price": 1000}}}})
						req, _ := http.NewRequest("POST", base+"/v1/redeem", bytes.NewReader(body))
						req.Header.Set("Content-Type", "application/json")
						req.Header.Set("Authorization", "Bearer "+checkout)
						resp, err := hc.Do(req)
						if err != nil {
							return // the server is gone
						}
						resp.Body.Close()
						if resp.StatusCode == http.StatusCreated {
							mu.Lock()
							acked = append(acked, order)
							mu.Unlock()
						}
					}
				})
			}
			// Kill mid-load: once redemptions are being acknowledged (the
			// first may take seconds on a loaded machine under the race
			// detector), a little later.
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				mu.Lock()
				n := len(acked)
				mu.Unlock()
				if n > 0 || time.Now().After(deadline) {
					break
				}
			}
			time.Sleep(300 * time.Millisecond)
			if err := cmd.Process.Kill(); err != nil { // SIGKILL: no shutdown at all
				t.Fatal(err)
			}
			cmd.Wait()
			wg.Wait()
			if len(acked) == 0 {
				t.Fatal("no redemption was acknowledged before the kill")
			}
			// A restart recovers the database; then every acknowledged
			// redemption must be there, and every counter equal its rows.
			startProcess(t, url, filepath.Join(t.TempDir(), "unused.key"))
			m := NewTestMain(t, "check", "--database-url", url)
			m.logger = m.newLogger()
			if err := m.openAndMigrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			err := m.DB.Read(context.Background(), func(tx storage.Tx) error {
				for _, order := range acked {
					rs, err := tx.RedemptionListByOrder(context.Background(), store, order)
					if err != nil {
						return err
					}
					if len(rs) != 1 || rs[0].State != "redeemed" {
						return fmt.Errorf("acknowledged order %s is not stored: %+v", order, rs)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			diffs, err := m.DB.UsageCheck(context.Background())
			if err != nil || len(diffs) != 0 {
				t.Fatalf("counters differ from rows after the kill: %+v %v", diffs, err)
			}
			t.Logf("%d redemptions acknowledged before SIGKILL, all stored", len(acked))
		})
	}
}

// TestKillDuringClicks kills the server with SIGKILL while clicks pour in:
// every click answered with a redirect more than a flush interval (and
// the write that follows it) before the kill is stored, and nothing is
// stored that was not answered.
func TestKillDuringClicks(t *testing.T) {
	t.Parallel()
	for _, db := range testDBs() {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			url := db.fresh(t)
			keyFile := filepath.Join(t.TempDir(), "admin.key")
			const flush = 50 * time.Millisecond
			cmd, base := startProcess(t, url, keyFile, "--click-flush", flush.String())
			admin := client{t, base, readKeyFile(t, keyFile)}
			store := admin.do("POST", "/v1/stores", map[string]any{"name": "Crash"}, http.StatusCreated)["id"].(string)
			admin.do("POST", "/v1/stores/"+store+"/affiliate/join", map[string]any{"accept_terms": true, "rate_bp": 500, "url": "https://shop.example/"}, http.StatusCreated)
			partner := admin.do("POST", "/v1/partners", map[string]any{"name": "Aff", "kind": "affiliate"}, http.StatusCreated)["id"].(string)
			link := admin.do("POST", "/v1/links", map[string]any{"store_id": store, "partner_id": partner}, http.StatusCreated)
			path, linkID := link["path"].(string), link["id"].(string)

			var (
				mu    sync.Mutex
				acked []time.Time
				wg    sync.WaitGroup
			)
			hc := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			// A steady flow the writer keeps up with on a loaded machine: the
			// test is of what a crash loses, not of throughput.
			for range 4 {
				wg.Go(func() {
					for {
						time.Sleep(time.Millisecond)
						req, _ := http.NewRequest("GET", base+path, nil)
						req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0")
						resp, err := hc.Do(req)
						if err != nil {
							return // the server is gone
						}
						resp.Body.Close()
						if resp.StatusCode == http.StatusFound {
							mu.Lock()
							acked = append(acked, time.Now())
							mu.Unlock()
						}
					}
				})
			}
			time.Sleep(2 * time.Second)
			killed := time.Now()
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
			wg.Wait()
			// The write of a batch takes milliseconds; allow half a second
			// on a loaded machine.
			const margin = 500 * time.Millisecond
			safe := 0
			for _, at := range acked {
				if at.Before(killed.Add(-flush - margin)) {
					safe++
				}
			}
			m := NewTestMain(t, "check", "--database-url", url)
			m.logger = m.newLogger()
			if err := m.openAndMigrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			var stored int64
			err := m.DB.Read(context.Background(), func(tx storage.Tx) error {
				st, err := tx.LinkStatGetMany(context.Background(), []string{linkID})
				stored = st[linkID].Clicks
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if stored < int64(safe) || stored > int64(len(acked)) {
				t.Fatalf("%d clicks stored; %d were answered, %d of them more than %s before the kill", stored, len(acked), safe, flush+margin)
			}
			t.Logf("%d clicks answered, %d stored, %d answered long enough before the kill", len(acked), stored, safe)
		})
	}
}
