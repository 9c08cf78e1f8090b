package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestConsoleSellerP4Browser runs the P4 tab's flow in Chromium on each
// database, as the seller of the demo's store under P4 works.
func TestConsoleSellerP4Browser(t *testing.T) {
	t.Parallel()
	browser := newBrowser(t)
	for _, db := range testDBs() {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			d := startDemo(t, db)
			flowSellerP4(t, newTab(t, browser), d)
		})
	}
}

// flowSellerP4: the seller of "Demo Modules" opens Promotions and finds
// the P4 tab; the form shows the P4 limits and the quota; a code made
// within them is in the history; a second code with its value is refused
// next to the field; the code is deactivated and activated again; the
// export downloads it with its settings, and its page lists its uses.
func flowSellerP4(t *testing.T, ctx context.Context, d *demoServer) {
	key := d.exports["P4_SELLER_KEY"]
	if key == "" {
		t.Fatalf("the demo printed no P4_SELLER_KEY")
	}
	status := signIn(t, ctx, d, key)
	wantPage(t, ctx, status, http.StatusOK, "Overview", "Demo Modules")

	status = loadPage(t, ctx, "open Promotions", chromedp.Click(chromedp.CSS(`header nav a[href="/console/promotions"]`)))
	wantPage(t, ctx, status, http.StatusOK, "Partner promo codes", "20 of 20 codes left", "No codes yet")
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || loc != d.base+"/console/p4" {
		t.Fatalf("Promotions opened %q (%v), want the P4 tab", loc, err)
	}

	// The form shows the limits before anything is sent.
	status = loadPage(t, ctx, "open the form", chromedp.Click(chromedp.CSS(`main a[href="/console/p4/new"]`)))
	wantPage(t, ctx, status, http.StatusOK, "The limits of P4", "at most 30.00 %", "at most 20 in all", "at most 2",
		"at the latest", "20 of 20 codes left", "SEO module", "Backup module")
	limits, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("p4-limits")))
	if err != nil || !strings.Contains(limits, "one or more of the store's products") || !strings.Contains(limits, "one named customer") {
		t.Fatalf("the limits: %q (%v)", limits, err)
	}
	submit := func(what string) int64 {
		return loadPage(t, ctx, what,
			chromedp.SendKeys(chromedp.ID("f-code"), "browser-30"),
			chromedp.SendKeys(chromedp.ID("f-name"), "Browser launch"),
			chromedp.SendKeys(chromedp.ID("f-description"), "30% off the SEO module"),
			chromedp.SetValue(chromedp.ID("f-percent_off_bp"), "3000"),
			chromedp.Click(chromedp.CSS(`input[name="product_ids"][value="seo-module"]`)),
			chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)))
	}
	status = submit("make a code within the limits")
	wantPage(t, ctx, status, http.StatusOK, "The code was created", "BROWSER-30", "Browser launch", "30.00 %", "0 / 20", "19 of 20 codes left")

	// The same value again is refused next to the code's field, and
	// nothing is made.
	loadPage(t, ctx, "open the form", chromedp.Navigate(d.base+"/console/p4/new"))
	status = submit("make a code with a taken value")
	wantPage(t, ctx, status, http.StatusConflict, "Check the form", "19 of 20 codes left")
	if invalid, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("f-code"), "aria-invalid")); err != nil || invalid.Value != "true" {
		t.Fatalf("the code is not marked invalid: %+v %v", invalid, err)
	}

	// Deactivated, then activated again, from the history.
	loadPage(t, ctx, "open the tab", chromedp.Navigate(d.base+"/console/p4"))
	state := func() string {
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#p4-codes tbody tr:first-child td.state")))
		if err != nil {
			t.Fatalf("read the state: %v", err)
		}
		return s
	}
	if s := state(); s != "active" {
		t.Fatalf("the new code is %q, want active", s)
	}
	status = loadPage(t, ctx, "deactivate", chromedp.Click(chromedp.CSS(`button[aria-label="Deactivate BROWSER-30"]`)))
	wantPage(t, ctx, status, http.StatusOK, "The code is inactive")
	if s := state(); s != "inactive" {
		t.Fatalf("the deactivated code is %q", s)
	}
	status = loadPage(t, ctx, "activate", chromedp.Click(chromedp.CSS(`button[aria-label="Activate BROWSER-30"]`)))
	wantPage(t, ctx, status, http.StatusOK, "The code is active")
	if s := state(); s != "active" {
		t.Fatalf("the activated code is %q", s)
	}

	// The export holds the code with its settings.
	href, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`a[href$="/codes.csv"]`), "href"))
	if err != nil {
		t.Fatalf("no export link: %v", err)
	}
	csv, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(`+quoteJS(href.Value)+`).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("download the export: %v", err)
	}
	if !strings.HasPrefix(csv, "code,") || !strings.Contains(csv, "BROWSER-30") || !strings.Contains(csv, "Browser launch") ||
		!strings.Contains(csv, "30% off the SEO module") {
		t.Fatalf("the export:\n%s", csv)
	}

	// The code's page lists its uses.
	status = loadPage(t, ctx, "open the code's uses", chromedp.Click(chromedp.CSS(`a[aria-label="Uses of BROWSER-30"]`)))
	wantPage(t, ctx, status, http.StatusOK, "Code BROWSER-30", "No uses yet.")
}
