package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// TestServeDemo starts promokit --demo on a new SQLite file and checks that
// what it printed works: the codes exist, the keys see what they should,
// and a second start loads nothing more.
func TestServeDemo(t *testing.T) {
	t.Parallel()
	dbURL := MustSQLiteURL(t)
	m := MustRunMain(t, "serve", "--demo", "--database-url", dbURL)
	d := m.demo
	if d == nil {
		t.Fatal("--demo loaded nothing into a new database")
	}
	out := m.stdout.String()
	for _, want := range []string{
		"export PROMOKIT=" + m.URL(), "export STORE=" + d.StoreID, "export COUPON=" + d.CouponID,
		"export SALE=" + d.PercentID, "export PARTNER=" + d.PartnerID, "export ADMIN_KEY=pk_",
		"export SELLER_KEY=" + d.SellerKey, "export CHECKOUT_KEY=" + d.CheckoutKey, "export PARTNER_KEY=" + d.PartnerKey,
		"export P4_STORE=" + d.P4StoreID, "export P4_SELLER_KEY=" + d.P4SellerKey, "export P4_CHECKOUT_KEY=" + d.P4CheckoutKey,
		"/v1/validate", "/v1/reserve", "/v1/redeem", "/v1/promotions/$SALE\n",
		"/v1/codes/30OFF2", "$SALE/codes.csv", "$SALE/code-jobs", "$COUPON/codes", "/v1/partners/$PARTNER/codes",
		"/v1/stores/$P4_STORE/codes.csv",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo output lacks %q:\n%s", want, out)
		}
	}

	checkout := client{t, m.URL(), d.CheckoutKey}
	coupon := checkout.do("GET", "/v1/codes/30off2", nil, http.StatusOK)
	if coupon["promotion_id"] != d.CouponID {
		t.Errorf("GET /v1/codes/30off2 = %v, want promotion %s", coupon, d.CouponID)
	}
	checkout.do("GET", "/v1/codes/"+d.PartnerCode, nil, http.StatusOK)

	seller := client{t, m.URL(), d.SellerKey}
	promo := seller.do("GET", "/v1/promotions/"+d.CouponID, nil, http.StatusOK)
	if promo["name"] != "30off2" || promo["amount_off"] != 200.0 || promo["min_order_amount"] != 3000.0 {
		t.Errorf("promotion 30off2 = %v", promo)
	}
	if c, _ := promo["coupon"].(map[string]any); c["per_person"] != 1.0 || c["quantity"] != 200.0 || c["valid_days"] != 7.0 {
		t.Errorf("coupon settings of 30off2 = %v", promo["coupon"])
	}
	if codes := seller.list("/v1/promotions/" + d.PercentID + "/codes?limit=1000"); len(codes) != demoCodeCount {
		t.Errorf("the 15%% promotion has %d codes, want %d", len(codes), demoCodeCount)
	}
	if list := seller.list("/v1/stores/" + d.StoreID + "/products"); len(list) != len(demoProducts) {
		t.Errorf("the demo store has %d products, want %d", len(list), len(demoProducts))
	}
	req, _ := http.NewRequest("GET", m.URL()+"/v1/promotions/"+d.PercentID+"/codes.csv", nil)
	req.Header.Set("Authorization", "Bearer "+d.SellerKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(csv), d.PartnerCode) {
		t.Errorf("codes.csv = %d:\n%s", resp.StatusCode, csv)
	}

	partner := client{t, m.URL(), d.PartnerKey}
	if codes := partner.list("/v1/partners/" + d.PartnerID + "/codes"); len(codes) != 1 || codes[0]["code"] != d.PartnerCode {
		t.Errorf("the partner's codes = %v, want %s", codes, d.PartnerCode)
	}
	checkDemoP4Store(t, m, d)
	// Whichever of the two stores has the lower id (two ids made in one
	// millisecond sort at random), a later start finds both.
	admin := promokit.NewContext(context.Background(), promokit.Principal{KeyID: "test", Role: promokit.RoleAdmin})
	stores, err := m.Service.ListStores(admin, storage.Page{Limit: demoStoreLookup})
	if err != nil || len(stores) != 2 {
		t.Fatalf("the demo's stores: %v, %v", stores, err)
	}
	for _, order := range [][]*promokit.Store{stores, {stores[1], stores[0]}} {
		found, err := findDemo(admin, m.Service, order)
		if err != nil || found == nil || found.StoreID != d.StoreID || found.P4StoreID != d.P4StoreID ||
			found.CouponID != d.CouponID || found.PercentID != d.PercentID || found.PartnerID != d.PartnerID {
			t.Errorf("findDemo(%s, %s) = %+v, %v", order[0].Name, order[1].Name, found, err)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	// A second start loads nothing, says how to start over, and gives the
	// ids again but no key.
	m2 := MustRunMain(t, "serve", "--demo", "--database-url", dbURL)
	out2 := m2.stdout.String()
	if m2.demo != nil || strings.Contains(out2, "pk_") {
		t.Errorf("a second --demo start loaded the demo again or showed a key:\n%s", out2)
	}
	file := strings.TrimPrefix(dbURL, "sqlite:")
	for _, want := range []string{
		"loads nothing", "rm -f " + file + " " + file + "-wal " + file + "-shm", "cannot be", "POST /v1/keys",
		"export PROMOKIT=" + m2.URL(), "export STORE=" + d.StoreID, "export COUPON=" + d.CouponID,
		"export SALE=" + d.PercentID, "export PARTNER=" + d.PartnerID, "export P4_STORE=" + d.P4StoreID,
	} {
		if !strings.Contains(out2, want) {
			t.Errorf("the second start's output lacks %q:\n%s", want, out2)
		}
	}
	if strings.Contains(out2, "KEY=") {
		t.Errorf("the second start exports a key it cannot know:\n%s", out2)
	}
}

// checkDemoP4Store checks the demo's store under P4: its products, its
// keys bound to it, and the P4 policy applied to what its seller creates.
func checkDemoP4Store(t *testing.T, m *testMain, d *Demo) {
	t.Helper()
	seller := client{t, m.URL(), d.P4SellerKey}
	st := seller.do("GET", "/v1/stores/"+d.P4StoreID, nil, http.StatusOK)
	if st["name"] != demoP4StoreName || st["partner_promo_codes"] != true {
		t.Errorf("the demo's store under P4 = %v", st)
	}
	if list := seller.list("/v1/stores/" + d.P4StoreID + "/products"); len(list) != len(demoP4Products) {
		t.Errorf("%s has %d products, want %d", demoP4StoreName, len(list), len(demoP4Products))
	}
	// Its keys are its own: the other store is another's.
	seller.do("GET", "/v1/promotions/"+d.CouponID, nil, http.StatusNotFound)
	client{t, m.URL(), d.P4CheckoutKey}.do("GET", "/v1/codes/30off2", nil, http.StatusNotFound)
	// A promotion past a P4 limit is refused; one within them is not.
	promo := map[string]any{"name": "SEO launch", "type": "percent_off", "percent_off_bp": 3500,
		"product_ids": []string{d.P4Products[0]}, "ends_at": time.Now().Add(7 * 24 * time.Hour).UTC().Format(time.RFC3339),
		"total_uses": 20, "per_customer": 2}
	if p := seller.do("POST", "/v1/promotions", promo, http.StatusUnprocessableEntity); p["rule"] != "P4" || p["limit"] != 3000.0 {
		t.Errorf("a P4 breach = %v, want rule P4 with limit 3000", p)
	}
	promo["percent_off_bp"] = 3000
	seller.do("POST", "/v1/promotions", promo, http.StatusCreated)
}

// TestServeDemoAgainOtherStores starts --demo on a database whose first
// store is not the demo's: it loads nothing, says how to start over on
// PostgreSQL, and exports no id.
func TestServeDemoAgainOtherStores(t *testing.T) {
	t.Parallel()
	for _, db := range testDBs() {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			dbURL := db.fresh(t)
			keyFile := filepath.Join(t.TempDir(), "admin.key")
			m := MustRunMain(t, "serve", "--database-url", dbURL, "--admin-key-file", keyFile)
			client{t, m.URL(), readKeyFile(t, keyFile)}.do("POST", "/v1/stores", map[string]any{"name": "Acme"}, http.StatusCreated)
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			m2 := MustRunMain(t, "serve", "--demo", "--database-url", dbURL)
			out := m2.stdout.String()
			want := "rm -f "
			if db.name == "postgres" {
				want = "--database-url naming a new, empty database"
			}
			if m2.demo != nil || !strings.Contains(out, "loads nothing") || !strings.Contains(out, want) || strings.Contains(out, "export STORE=") {
				t.Errorf("--demo on a database with another store printed:\n%s", out)
			}
		})
	}
}

// TestServeDemoCommands runs the commands --demo prints under "Then try"
// in bash, after its export lines, as a person pasting them would: every
// curl must succeed, and the checkout's reserve and redeem use one of the
// 15% promotion's 100 uses.
func TestServeDemoCommands(t *testing.T) {
	t.Parallel()
	requireShellTools(t)
	for _, db := range testDBs() {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			m := MustRunMain(t, "serve", "--demo", "--database-url", db.fresh(t))
			out := m.stdout.String()
			r := &shellRun{source: "the output of serve --demo"}
			_, after, ok := strings.Cut(out, "Then try")
			if !ok {
				t.Fatalf("--demo printed no commands to try:\n%s", out)
			}
			first := strings.Count(out[:len(out)-len(after)], "\n") + 1
			var lines []string
			for l := range strings.Lines(after) {
				if l, ok := strings.CutPrefix(strings.TrimRight(l, "\n"), "  "); ok {
					lines = append(lines, l)
				} else {
					lines = append(lines, "")
				}
			}
			r.addBlock(t, 1, first, lines)
			if calls := r.run(t, exportLines(out)); len(calls) < 10 {
				t.Errorf("the demo's commands made %d calls, want every command of the list", len(calls))
			}
			promo := client{t, m.URL(), m.demo.SellerKey}.do("GET", "/v1/promotions/"+m.demo.PercentID, nil, http.StatusOK)
			if promo["uses"] != 1.0 || promo["total_uses"] != float64(demoPercentUses) {
				t.Errorf("after the demo's checkout the 15%% promotion has %v uses of %v, want 1 of %d", promo["uses"], promo["total_uses"], demoPercentUses)
			}
		})
	}
}

// TestServeDemoAdminKeyFile checks that with --admin-key-file the demo
// reads the admin key from the file rather than printing it.
func TestServeDemoAdminKeyFile(t *testing.T) {
	t.Parallel()
	keyFile := filepath.Join(t.TempDir(), "admin key")
	m := MustRunMain(t, "serve", "--demo", "--database-url", MustSQLiteURL(t), "--admin-key-file", keyFile)
	key := readKeyFile(t, keyFile)
	out := m.stdout.String()
	if strings.Contains(out, key) {
		t.Errorf("the admin key is on stdout although --admin-key-file is set:\n%s", out)
	}
	if want := "export ADMIN_KEY=$(cat '" + keyFile + "')"; !strings.Contains(out, want) {
		t.Errorf("the demo output lacks %q:\n%s", want, out)
	}
}
