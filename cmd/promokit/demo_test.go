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
		"export PROMOKIT=" + m.URL(), d.SellerKey, d.CheckoutKey, d.PartnerKey, "ADMIN_KEY=pk_",
		"/v1/codes/30OFF2", d.PercentID + "/codes.csv", d.PercentID + "/code-jobs", "/v1/partners/" + d.PartnerID + "/codes",
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

	m2 := MustRunMain(t, "serve", "--demo", "--database-url", dbURL)
	if m2.demo != nil || strings.Contains(m2.stdout.String(), "pk_") {
		t.Errorf("a second --demo start loaded the demo again:\n%s", m2.stdout)
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
