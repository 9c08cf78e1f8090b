package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// proofPNG is a proof file as a browser uploads it: a PNG's signature and
// header chunk, which is all the engine reads of its type.
var proofPNG = append([]byte("\x89PNG\r\n\x1a\n"), 0, 0, 0, 13, 'I', 'H', 'D', 'R')

// flowSellerPayout: an affiliate earns 5.00 USD through the API; the
// store's seller sees it payable in the console, is refused a payout of
// 5.01 next to the amount, and records 5.00 with a proof file; the
// partner signs in and confirms its receipt; the seller signs in again
// and sees the payout confirmed, its proof still there to download;
// another store's seller gets the payout's pages as 404 pages.
func flowSellerPayout(t *testing.T, ctx context.Context, d *demoServer) {
	partnerID, key := newAffiliate(t, d, "Console Paid Affiliate")
	earnCommission(t, ctx, d, key, "browser-payout-3")
	proof := filepath.Join(t.TempDir(), "transfer.png")
	if err := os.WriteFile(proof, proofPNG, 0o600); err != nil {
		t.Fatal(err)
	}

	status := signIn(t, ctx, d, d.exports["SELLER_KEY"])
	wantPage(t, ctx, status, http.StatusOK, "Overview")
	status = loadPage(t, ctx, "open the payouts", chromedp.Click(chromedp.CSS(`header nav a[href="/console/payouts"]`)))
	wantPage(t, ctx, status, http.StatusOK, "Payable now", "Record a payout")
	status = loadPage(t, ctx, "check the partner's balance",
		chromedp.SendKeys(chromedp.ID("f-counterparty"), partnerID),
		chromedp.Click(chromedp.CSS(`form[method="get"] button[type="submit"]`)))
	wantPage(t, ctx, status, http.StatusOK, "Payable with "+partnerID)
	if checked, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("checked"))); err != nil || !strings.Contains(checked, "5.00 USD") {
		t.Fatalf("the partner's payable balance: %q %v", checked, err)
	}
	if payee, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("f-payee"))); err != nil || payee != partnerID {
		t.Fatalf("the form is made out to %q (%v), want %s", payee, err, partnerID)
	}

	// A cent above the balance: refused next to the amount, nothing
	// recorded.
	status = loadPage(t, ctx, "pay a cent too much",
		chromedp.SendKeys(chromedp.ID("f-amount"), "5.01"),
		chromedp.SendKeys(chromedp.ID("f-reference"), "wire console 1"),
		chromedp.Click(chromedp.CSS(`form[method="post"][action="/console/payouts"] button[type="submit"]`)))
	wantPage(t, ctx, status, http.StatusUnprocessableEntity, "Check the form", "exceeds the payable balance of 5.00 USD")
	if invalid, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("f-amount"), "aria-invalid")); err != nil || invalid.Value != "true" {
		t.Fatalf("the amount is not marked invalid: %+v %v", invalid, err)
	}
	if msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("f-amount-error"))); err != nil || !strings.Contains(msg, "5.00 USD") {
		t.Fatalf("the amount's error: %q %v", msg, err)
	}

	// The whole balance, with the proof of the transfer.
	status = loadPage(t, ctx, "record the payout",
		chromedp.SetValue(chromedp.ID("f-amount"), "5.00"),
		chromedp.SetUploadFiles(chromedp.ID("f-proof"), []string{proof}),
		chromedp.Click(chromedp.CSS(`form[method="post"][action="/console/payouts"] button[type="submit"]`)))
	wantPage(t, ctx, status, http.StatusOK, "The payout was recorded.", "5.00 USD", "wire console 1", "Download the proof", "image/png")
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.Contains(loc, "/console/payouts/pay_") {
		t.Fatalf("after recording the browser is at %q (%v)", loc, err)
	}
	id := strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], d.base+"/console/payouts/")
	if state, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("payout-state"))); err != nil || !strings.HasPrefix(state, "recorded") {
		t.Fatalf("the new payout's state: %q %v", state, err)
	}

	// The partner confirms it.
	loadPage(t, ctx, "sign out", chromedp.Click(chromedp.CSS(`form.sign-out button`)))
	signIn(t, ctx, d, key)
	status = loadPage(t, ctx, "open the partner's payouts", chromedp.Navigate(d.base+"/console/partner/payouts"))
	wantPage(t, ctx, status, http.StatusOK, id, "wire console 1")
	status = loadPage(t, ctx, "open the payout", chromedp.Click(chromedp.CSS(`a[href="/console/partner/payouts/`+id+`"]`)))
	wantPage(t, ctx, status, http.StatusOK, "Confirm receipt", "Download the proof")
	status = loadPage(t, ctx, "confirm it", chromedp.Click(chromedp.CSS(`form[action$="/confirm"] button`)))
	wantPage(t, ctx, status, http.StatusOK, "The payout's receipt is confirmed.")

	// The seller sees it confirmed.
	loadPage(t, ctx, "sign out", chromedp.Click(chromedp.CSS(`form.sign-out button`)))
	signIn(t, ctx, d, d.exports["SELLER_KEY"])
	status = loadPage(t, ctx, "open the payouts again", chromedp.Navigate(d.base+"/console/payouts"))
	wantPage(t, ctx, status, http.StatusOK, id)
	row, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`a[href="/console/payouts/`+id+`"]`)))
	if err != nil || row != id {
		t.Fatalf("the payout's row: %q %v", row, err)
	}
	status = loadPage(t, ctx, "open the payout again", chromedp.Click(chromedp.CSS(`a[href="/console/payouts/`+id+`"]`)))
	wantPage(t, ctx, status, http.StatusOK, "5.00 USD")
	if state, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("payout-state"))); err != nil || !strings.HasPrefix(state, "confirmed") {
		t.Fatalf("the payout's state for the seller: %q %v", state, err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(`+quoteJS("/console/payouts/"+id+"/proof")+
		`).then(r => r.arrayBuffer().then(b => r.status + " " + r.headers.get("Content-Type") + " " + b.byteLength))`, chromedp.EvalAwaitPromise))
	if want := "200 image/png " + strconv.Itoa(len(proofPNG)); err != nil || got != want {
		t.Fatalf("the proof's download: %q %v, want %q", got, err, want)
	}
	var po struct{ State, Payee string }
	d.apiJSON(t, d.exports["SELLER_KEY"], "GET", "/v1/payouts/"+id, "", http.StatusOK, &po)
	if po.State != "confirmed" || po.Payee != partnerID {
		t.Fatalf("the payout for the API: %+v", po)
	}

	// Another store's seller gets 404 pages, and its list holds none of
	// it.
	loadPage(t, ctx, "sign out", chromedp.Click(chromedp.CSS(`form.sign-out button`)))
	signIn(t, ctx, d, d.exports["P4_SELLER_KEY"])
	for _, path := range []string{"/console/payouts/" + id, "/console/payouts/" + id + "/proof"} {
		status := loadPage(t, ctx, "open "+path, chromedp.Navigate(d.base+path))
		wantPage(t, ctx, status, http.StatusNotFound, "Page not found", "not yours to see")
	}
	status = loadPage(t, ctx, "open the other store's payouts", chromedp.Navigate(d.base+"/console/payouts"))
	wantPage(t, ctx, status, http.StatusOK, "Record a payout")
	if strings.Contains(mainText(t, ctx), id) {
		t.Fatalf("another store's list shows payout %s", id)
	}
}
