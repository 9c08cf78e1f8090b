package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
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
		"/v1/validate", "/v1/reserve", "/v1/redeem", "/v1/promotions/$SALE\n",
		"/v1/codes/30OFF2", "$SALE/codes.csv", "$SALE/code-jobs", "$COUPON/codes", "/v1/partners/$PARTNER/codes",
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
		"export SALE=" + d.PercentID, "export PARTNER=" + d.PartnerID,
	} {
		if !strings.Contains(out2, want) {
			t.Errorf("the second start's output lacks %q:\n%s", want, out2)
		}
	}
	if strings.Contains(out2, "KEY=") {
		t.Errorf("the second start exports a key it cannot know:\n%s", out2)
	}
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
