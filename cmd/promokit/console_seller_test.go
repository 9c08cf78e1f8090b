package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestConsoleSellerBrowser runs a seller's flows in Chromium on each
// database: one flow, in order, as a seller works: create a promotion,
// generate 10,000 codes and watch the bar, import a file with a bad row,
// export the codes; then a promotion's chart of uses.
func TestConsoleSellerBrowser(t *testing.T) {
	t.Parallel()
	browser := newBrowser(t)
	for _, db := range testDBs() {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			d := startDemo(t, db)
			flowSellerPromotion(t, newTab(t, browser), d)
			flowSellerUses(t, newTab(t, browser), d)
		})
	}
}

// flowSellerPromotion: a seller creates a promotion from the form, makes
// 10,000 codes with the generation job and watches the bar reach 100 %,
// imports a CSV file with a bad row and sees the row's error, imports a
// good file, and downloads the export.
func flowSellerPromotion(t *testing.T, ctx context.Context, d *demoServer) {
	status := signIn(t, ctx, d, d.exports["SELLER_KEY"])
	wantPage(t, ctx, status, http.StatusOK, "Overview")

	// A refused form shows the error next to its field.
	loadPage(t, ctx, "open the new promotion", chromedp.Navigate(d.base+"/console/promotions/new"))
	status = loadPage(t, ctx, "send a percentage above 100 %",
		chromedp.SendKeys(chromedp.ID("f-name"), "Browser Week"),
		chromedp.SetValue(chromedp.ID("f-percent_off_bp"), "20000"),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)))
	wantPage(t, ctx, status, http.StatusUnprocessableEntity, "Check the form")
	if invalid, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("f-percent_off_bp"), "aria-invalid")); err != nil || invalid.Value != "true" {
		t.Fatalf("the percentage is not marked invalid: %+v %v", invalid, err)
	}
	status = loadPage(t, ctx, "create the promotion",
		chromedp.SetValue(chromedp.ID("f-percent_off_bp"), "1500"),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)))
	wantPage(t, ctx, status, http.StatusOK, "The promotion was created.", "Browser Week", "15.00 %")
	promo, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.Contains(promo, "/console/promotions/prm_") {
		t.Fatalf("after creation the browser is at %q (%v)", promo, err)
	}
	promo = strings.SplitN(promo, "?", 2)[0]
	loadPage(t, ctx, "open the promotions", chromedp.Navigate(d.base+"/console/promotions?name=browser"))
	if text := mainText(t, ctx); !strings.Contains(text, "Browser Week") {
		t.Fatalf("the list searched by name does not show the promotion:\n%s", text)
	}

	// Generate 10,000 codes: the script moves the bar until the job ends.
	loadPage(t, ctx, "open the promotion", chromedp.Navigate(promo))
	status = loadPage(t, ctx, "generate",
		chromedp.SetValue(chromedp.ID("f-count"), "10000"),
		chromedp.SetValue(chromedp.ID("f-prefix"), "BRW"),
		chromedp.Click(chromedp.CSS(`form[action$="/codes/generate"] button[type="submit"]`)))
	wantPage(t, ctx, status, http.StatusOK, "Codes made for")
	type bar struct {
		Value, Max float64
		State      string
	}
	read := `(() => { const b = document.getElementById("job-bar"); const s = document.getElementById("job-state");
		return b && s ? {Value: b.value, Max: b.max, State: s.textContent} : {Value: 0, Max: 0, State: ""}; })()`
	var last bar
	// The deadline only bounds a hung job; the test passes on what the
	// page shows, not on how fast.
	for deadline := time.Now().Add(3 * time.Minute); ; {
		b, err := chromedp.Run(ctx, chromedp.Evaluate[bar](read))
		if err == nil {
			last = b
			if b.State == "succeeded" || b.State == "failed" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job did not end: the bar shows %+v (%v)", last, err)
		}
		do(t, ctx, "wait", chromedp.Sleep(200*time.Millisecond))
	}
	if last.State != "succeeded" || last.Max != 10000 || last.Value != 10000 {
		t.Fatalf("the bar ends at %+v, want 10000 of 10000, succeeded", last)
	}
	if text := mainText(t, ctx); !strings.Contains(text, "(100 %)") {
		t.Fatalf("the finished job does not say 100 %%:\n%s", text)
	}

	// An import with a bad row shows the row in a table, and imports
	// nothing; a good file is imported.
	dir := t.TempDir()
	bad, good := filepath.Join(dir, "bad.csv"), filepath.Join(dir, "good.csv")
	if err := os.WriteFile(bad, []byte("code,usage_limit\nBRW-OK-1,5\nBRW-BAD,many\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, []byte("code,usage_limit\nBRW-OK-1,5\nBRW-OK-2,6\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	loadPage(t, ctx, "open the promotion", chromedp.Navigate(promo))
	status = loadPage(t, ctx, "import a bad file",
		chromedp.SetUploadFiles(chromedp.ID("f-file"), []string{bad}),
		chromedp.Click(chromedp.CSS(`form[action$="/codes/import"] button[type="submit"]`)))
	wantPage(t, ctx, status, http.StatusUnprocessableEntity, "nothing was imported")
	rows, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#row-errors tbody")))
	if err != nil || !strings.Contains(rows, "row 3") {
		t.Fatalf("the row errors: %q (%v)", rows, err)
	}
	status = loadPage(t, ctx, "import a good file",
		chromedp.SetUploadFiles(chromedp.ID("f-file"), []string{good}),
		chromedp.Click(chromedp.CSS(`form[action$="/codes/import"] button[type="submit"]`)))
	wantPage(t, ctx, status, http.StatusOK, "The codes were imported.")

	// The export link downloads every code.
	href, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`a[href$="/codes.csv"]`), "href"))
	if err != nil {
		t.Fatalf("no export link: %v", err)
	}
	csv, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(`+quoteJS(href.Value)+`).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("download the export: %v", err)
	}
	if n := strings.Count(csv, "\n"); n != 1+10000+2 || !strings.Contains(csv, "BRW-OK-2") {
		t.Fatalf("the export has %d lines, want a header and 10,002 codes", n)
	}
}

// flowSellerUses: a code of the demo's coupon is redeemed through the
// API; the seller opens the coupon's page and sees its uses per day: an
// image named for screen readers, the total of the 30 days, and, a link
// away, the last 7 days with one bar and one row of the table each.
func flowSellerUses(t *testing.T, ctx context.Context, d *demoServer) {
	cart := `{"store_id":"` + d.exports["STORE"] + `","currency":"USD","lines":[{"product_id":"mug","quantity":2,"unit_price":1500},{"product_id":"tshirt","quantity":1,"unit_price":2500}]}`
	if status, body := d.api(t, d.exports["CHECKOUT_KEY"], "POST", "/v1/redeem", `{"order_id":"uses-1","cart":`+cart+`,"codes":["30off2"]}`); status != http.StatusCreated {
		t.Fatalf("redeem: %d %s", status, body)
	}
	signIn(t, ctx, d, d.exports["SELLER_KEY"])
	promo := d.base + "/console/promotions/" + d.exports["COUPON"]
	status := loadPage(t, ctx, "open the coupon", chromedp.Navigate(promo))
	wantPage(t, ctx, status, http.StatusOK, "Uses per day", "uses in the last 30 days")
	if name, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`#uses svg.chart[role="img"]`), "aria-label")); err != nil || name.Value != "Uses per day" {
		t.Fatalf("the chart's name: %+v %v", name, err)
	}
	if total, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("uses-total"))); err != nil || total != "1" {
		t.Fatalf("the uses of 30 days: %q %v, want 1", total, err)
	}
	status = loadPage(t, ctx, "choose 7 days", chromedp.Click(chromedp.CSS(`#uses a[href$="?days=7#uses"]`)))
	wantPage(t, ctx, status, http.StatusOK, "uses in the last 7 days")
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.HasSuffix(loc, "?days=7#uses") {
		t.Fatalf("after choosing 7 days the browser is at %q (%v)", loc, err)
	}
	for sel, want := range map[string]int{"#uses svg.chart rect.bar": 7, "#uses tbody tr": 7} {
		if nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll(sel))); err != nil || len(nodes) != want {
			t.Fatalf("%d of %s (%v), want %d", len(nodes), sel, err, want)
		}
	}
}

// quoteJS quotes s as a JavaScript string.
func quoteJS(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
