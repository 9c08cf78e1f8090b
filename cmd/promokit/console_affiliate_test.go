package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestConsoleAffiliateBrowser runs a seller's affiliate program flow in
// Chromium on each database, on a demo of its own: the demo's store is
// not in the program until the flow joins it.
func TestConsoleAffiliateBrowser(t *testing.T) {
	t.Parallel()
	browser := newBrowser(t)
	for _, db := range testDBs() {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			d := startDemo(t, db)
			flowSellerAffiliate(t, newTab(t, browser), d)
		})
	}
}

// flowSellerAffiliate: a seller opens Affiliate from the navigation, reads
// the agreement, accepts it and joins at 5.5 %, sets a general rate of
// 7.25 %, has a product rate of 10.555 % refused beside its input and
// sets 10 %, and sees the three rates in the history, newest first; the
// API reads the same basis points.
func flowSellerAffiliate(t *testing.T, ctx context.Context, d *demoServer) {
	status := signIn(t, ctx, d, d.exports["SELLER_KEY"])
	wantPage(t, ctx, status, http.StatusOK, "Overview")
	status = loadPage(t, ctx, "open Affiliate", chromedp.Click(chromedp.CSS(`header nav a[href="/console/affiliate"]`)))
	wantPage(t, ctx, status, http.StatusOK, "Not in the program", "The program's agreement", "no earlier than 15 days after joining")
	if req, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("f-accept_terms"), "required")); err != nil || !req.Exists {
		t.Fatalf("the agreement's checkbox is not required (%v)", err)
	}

	status = loadPage(t, ctx, "accept the agreement and join",
		chromedp.Click(chromedp.ID("f-accept_terms")),
		chromedp.SendKeys(chromedp.ID("f-rate"), "5.5"),
		chromedp.SendKeys(chromedp.ID("f-url"), shopPage),
		chromedp.Click(chromedp.CSS(`form[action="/console/affiliate/join"] button[type="submit"]`)))
	wantPage(t, ctx, status, http.StatusOK, "Your store is in the affiliate program", "In the program", "5.50 %")

	status = loadPage(t, ctx, "set the general rate",
		chromedp.SetValue(chromedp.ID("f-rate"), "7.25"),
		chromedp.Click(chromedp.CSS(`form[action="/console/affiliate/rate"] button[type="submit"]`)))
	wantPage(t, ctx, status, http.StatusOK, "The general rate is set", "7.25 %")

	status = loadPage(t, ctx, "send a product rate too precise",
		chromedp.SendKeys(chromedp.ID("f-product_id"), "mug"),
		chromedp.SendKeys(chromedp.ID("f-product_rate"), "10.555"),
		chromedp.Click(chromedp.CSS(`form[action="/console/affiliate/product-rates"] button[type="submit"]`)))
	wantPage(t, ctx, status, http.StatusUnprocessableEntity, "Check the form", "at most 2 decimals")
	if invalid, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("f-product_rate"), "aria-invalid")); err != nil || invalid.Value != "true" {
		t.Fatalf("the product's rate is not marked invalid: %+v %v", invalid, err)
	}
	status = loadPage(t, ctx, "set the product rate",
		chromedp.SetValue(chromedp.ID("f-product_rate"), "10"),
		chromedp.Click(chromedp.CSS(`form[action="/console/affiliate/product-rates"] button[type="submit"]`)))
	wantPage(t, ctx, status, http.StatusOK, "The product's rate is set")
	rates, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#product-rates tbody")))
	if err != nil || !strings.Contains(rates, "mug") || !strings.Contains(rates, "10.00 %") {
		t.Fatalf("the products' rates: %q (%v)", rates, err)
	}

	// The history, newest first.
	history, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#rate-history tbody")))
	if err != nil {
		t.Fatalf("read the history: %v", err)
	}
	mug, general, joined := strings.Index(history, "10.00 %"), strings.Index(history, "7.25 %"), strings.Index(history, "5.50 %")
	if mug < 0 || !(mug < general && general < joined) || !strings.Contains(history, "mug") {
		t.Fatalf("the history is not the three rates, newest first:\n%s", history)
	}

	// The API reads the same rates, in basis points.
	status2, body := d.api(t, d.exports["SELLER_KEY"], "GET", "/v1/stores/"+d.exports["STORE"]+"/affiliate", "")
	var prog struct {
		State        string `json:"state"`
		Rate         int64  `json:"rate_bp"`
		ProductRates []struct {
			ProductID string `json:"product_id"`
			Rate      int64  `json:"rate_bp"`
		} `json:"product_rates"`
	}
	if err := json.Unmarshal([]byte(body), &prog); status2 != http.StatusOK || err != nil {
		t.Fatalf("the program through the API: %d %s (%v)", status2, body, err)
	}
	if prog.State != "joined" || prog.Rate != 725 || len(prog.ProductRates) != 1 || prog.ProductRates[0].ProductID != "mug" || prog.ProductRates[0].Rate != 1000 {
		t.Fatalf("the program through the API: %+v", prog)
	}
}
