package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// The partner's console flows in the browser: a link made, followed and
// counted, a payout confirmed, another partner's payout refused.

// shopPage is the store's page the demo's store joins the affiliate
// program with. The browser never reaches shop.example.com: a flow that
// follows a link answers it itself (serveShop).
const shopPage = "https://shop.example.com/"

// browserAgent is a browser's user agent, for the clicks the test makes
// without the browser.
const browserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"

// apiJSON calls the API and decodes the answer into out, failing the test
// unless its status is want.
func (d *demoServer) apiJSON(t *testing.T, key, method, path, body string, want int, out any) {
	t.Helper()
	status, resp := d.api(t, key, method, path, body)
	if status != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, status, want, resp)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(resp), out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, resp)
		}
	}
}

// newAffiliate has the admin create an affiliate partner and its key, and
// the demo's store join the affiliate program (once: it may be in it
// already). It returns the partner's id and key.
func newAffiliate(t *testing.T, d *demoServer, name string) (id, key string) {
	t.Helper()
	admin := d.exports["ADMIN_KEY"]
	var p struct{ ID string }
	d.apiJSON(t, admin, "POST", "/v1/partners", `{"name":"`+name+`","kind":"affiliate"}`, http.StatusCreated, &p)
	var k struct{ Secret string }
	d.apiJSON(t, admin, "POST", "/v1/keys", `{"name":"`+name+`","role":"partner","partner_id":"`+p.ID+`"}`, http.StatusCreated, &k)
	status, body := d.api(t, d.exports["SELLER_KEY"], "POST", "/v1/stores/"+d.exports["STORE"]+"/affiliate/join",
		`{"accept_terms":true,"rate_bp":500,"url":"`+shopPage+`"}`)
	if status != http.StatusCreated && status != http.StatusConflict {
		t.Fatalf("join the affiliate program: %d %s", status, body)
	}
	return p.ID, k.Secret
}

// linkClicks returns a link's clicks as its partner reads them.
func linkClicks(t *testing.T, d *demoServer, key, id string) int64 {
	t.Helper()
	var l struct{ Clicks int64 }
	d.apiJSON(t, key, "GET", "/v1/links/"+id, "", http.StatusOK, &l)
	return l.Clicks
}

// waitClicks waits until the link has n clicks: the server writes clicks
// a moment after it answers them. The flow's deadline bounds the wait.
func waitClicks(t *testing.T, ctx context.Context, d *demoServer, key, id string, n int64) {
	t.Helper()
	for linkClicks(t, d, key, id) < n {
		select {
		case <-ctx.Done():
			t.Fatalf("link %s never had %d clicks", id, n)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// payoutTo has an affiliate partner earn a commission through the API
// (earnCommission) and the store's seller pay it out. It returns the
// payout's id.
func payoutTo(t *testing.T, ctx context.Context, d *demoServer, partnerID, key, order string) string {
	t.Helper()
	earnCommission(t, ctx, d, key, order)
	var po struct{ ID string }
	paidOn := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	d.apiJSON(t, d.exports["SELLER_KEY"], "POST", "/v1/payouts", `{"payee":"`+partnerID+`","currency":"USD","amount":500,"paid_on":"`+
		paidOn+`","reference":"wire `+order+`"}`, http.StatusCreated, &po)
	return po.ID
}

// earnCommission has the affiliate partner of key earn a commission of
// 5.00 USD through the API: a link, a browser's click, an order of the
// demo's store placed by that browser and completed, its commission
// payable at once.
func earnCommission(t *testing.T, ctx context.Context, d *demoServer, key, order string) {
	t.Helper()
	var l struct{ ID, Path string }
	d.apiJSON(t, key, "POST", "/v1/links", `{"store_id":"`+d.exports["STORE"]+`"}`, http.StatusCreated, &l)
	req, err := http.NewRequest("GET", d.base+l.Path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", browserAgent)
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var visitor string
	for _, c := range resp.Cookies() {
		if c.Name == "pk_vid" {
			visitor = c.Value
		}
	}
	if resp.StatusCode != http.StatusFound || visitor == "" {
		t.Fatalf("open %s: %d, visitor %q", l.Path, resp.StatusCode, visitor)
	}
	waitClicks(t, ctx, d, key, l.ID, 1)
	events := "/v1/stores/" + d.exports["STORE"] + "/orders/" + order + "/events"
	d.apiJSON(t, d.exports["CHECKOUT_KEY"], "POST", events, `{"id":"`+order+`-placed","type":"placed","visitor_id":"`+visitor+
		`","currency":"USD","lines":[{"product_id":"mug","quantity":1,"amount":10000}]}`, http.StatusCreated, nil)
	d.apiJSON(t, d.exports["CHECKOUT_KEY"], "POST", events, `{"id":"`+order+`-completed","type":"completed"}`, http.StatusCreated, nil)
}

// serveShop answers the browser's requests for the store's pages with a
// page of its own, so that a followed link lands somewhere.
func serveShop(t *testing.T, ctx context.Context) {
	t.Helper()
	err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*fetch.EventRequestPaused); ok {
			go func() {
				_, _ = chromedp.Call(ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{
					RequestID: e.RequestID, ResponseCode: 200,
					ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/html; charset=utf-8"}},
					Body:            []byte(`<!doctype html><html lang="en"><title>Shop</title><main>The shop's page</main></html>`),
				})
			}()
		}
	})
	if err != nil {
		t.Fatalf("listen to the tab: %v", err)
	}
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: shopPage + "*"}}}); err != nil {
		t.Fatalf("answer the shop's pages: %v", err)
	}
}

// flowPartnerLink: an affiliate creates a link in the console, copies its
// URL from the page, follows it to the store's page (the redirect records
// a click) and sees the click counted on the link's page and in the list.
func flowPartnerLink(t *testing.T, ctx context.Context, d *demoServer) {
	_, key := newAffiliate(t, d, "Browser Affiliate")
	status := signIn(t, ctx, d, key)
	wantPage(t, ctx, status, http.StatusOK, "Browser Affiliate")
	status = loadPage(t, ctx, "open the links", chromedp.Click(chromedp.CSS(`header nav a[href="/console/partner/links"]`)))
	wantPage(t, ctx, status, http.StatusOK, "No links yet")
	status = loadPage(t, ctx, "create a link",
		chromedp.SendKeys(chromedp.ID("f-store_id"), d.exports["STORE"]),
		chromedp.Click(chromedp.CSS(`section[aria-labelledby="new-link"] button[type="submit"]`)))
	wantPage(t, ctx, status, http.StatusOK, "The link was created.", shopPage)
	do(t, ctx, "the copy button", chromedp.WaitVisible(chromedp.CSS(`button[data-copy="share"]`)))
	share, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("share")))
	if err != nil || !strings.HasPrefix(share, d.base+"/r/") {
		t.Fatalf("the link to share: %q %v", share, err)
	}
	linkPage, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	clicks, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("clicks")))
	if err != nil || clicks != "0" {
		t.Fatalf("a new link's clicks: %q %v", clicks, err)
	}

	serveShop(t, ctx)
	status = loadPage(t, ctx, "follow the link", chromedp.Navigate(share))
	wantPage(t, ctx, status, http.StatusOK, "The shop's page")
	id := linkPage[strings.LastIndex(linkPage, "/")+1:]
	id, _, _ = strings.Cut(id, "?")
	waitClicks(t, ctx, d, key, id, 1)

	status = loadPage(t, ctx, "open the link again", chromedp.Navigate(d.base+"/console/partner/links/"+id))
	wantPage(t, ctx, status, http.StatusOK, id)
	if clicks, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("clicks"))); err != nil || clicks != "1" {
		t.Fatalf("the link's clicks after one: %q %v", clicks, err)
	}
	// Headless Chromium says so in its user agent: its click is flagged.
	counted, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("days-clicks")))
	if err != nil {
		t.Fatal(err)
	}
	flagged, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("days-flagged")))
	if err != nil || counted+"+"+flagged != "0+1" {
		t.Fatalf("the link's clicks of 30 days: %s counted and %s flagged (%v), want the click flagged", counted, flagged, err)
	}
	for sel, want := range map[string]int{`#days svg.chart[aria-label="Clicks per day"] rect.bar:not(.stack)`: 30,
		`#days svg.chart[aria-label="Clicks per day"] rect.bar.stack`: 1} {
		if nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll(sel))); err != nil || len(nodes) != want {
			t.Fatalf("%d of %s (%v), want %d", len(nodes), sel, err, want)
		}
	}
	status = loadPage(t, ctx, "open the links again", chromedp.Navigate(d.base+"/console/partner/links"))
	wantPage(t, ctx, status, http.StatusOK, id)
	row, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`tbody tr`)))
	if err != nil || !strings.Contains(row, "\t1\t") {
		t.Fatalf("the list's row of the link: %q %v", row, err)
	}
}

// flowPartnerPayout: a store pays an affiliate through the API; the
// affiliate finds the payout in the console and confirms its receipt.
func flowPartnerPayout(t *testing.T, ctx context.Context, d *demoServer) {
	partnerID, key := newAffiliate(t, d, "Paid Affiliate")
	id := payoutTo(t, ctx, d, partnerID, key, "browser-payout-1")
	signIn(t, ctx, d, key)
	status := loadPage(t, ctx, "open the payouts", chromedp.Navigate(d.base+"/console/partner/payouts"))
	wantPage(t, ctx, status, http.StatusOK, id, "5.00 USD", "recorded")
	status = loadPage(t, ctx, "open the payout", chromedp.Click(chromedp.CSS(`a[href="/console/partner/payouts/`+id+`"]`)))
	wantPage(t, ctx, status, http.StatusOK, "wire browser-payout-1", "Confirm receipt")
	status = loadPage(t, ctx, "confirm it", chromedp.Click(chromedp.CSS(`form[action$="/confirm"] button`)))
	wantPage(t, ctx, status, http.StatusOK, "The payout's receipt is confirmed.")
	if state, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("payout-state"))); err != nil || !strings.HasPrefix(state, "confirmed") {
		t.Fatalf("the payout's state: %q %v", state, err)
	}
	var po struct{ State string }
	d.apiJSON(t, d.exports["SELLER_KEY"], "GET", "/v1/payouts/"+id, "", http.StatusOK, &po)
	if po.State != "confirmed" {
		t.Fatalf("the payout is %s for the store", po.State)
	}
}

// flowForeignPayout: another partner opens an affiliate's payout and its
// proof by their URLs and gets 404 pages; its own list does not show it.
func flowForeignPayout(t *testing.T, ctx context.Context, d *demoServer) {
	partnerID, key := newAffiliate(t, d, "Private Affiliate")
	id := payoutTo(t, ctx, d, partnerID, key, "browser-payout-2")
	signIn(t, ctx, d, d.exports["PARTNER_KEY"])
	for _, path := range []string{"/console/partner/payouts/" + id, "/console/partner/payouts/" + id + "/proof"} {
		status := loadPage(t, ctx, "open "+path, chromedp.Navigate(d.base+path))
		wantPage(t, ctx, status, http.StatusNotFound, "Page not found", "not yours to see")
	}
	status := loadPage(t, ctx, "open the payouts", chromedp.Navigate(d.base+"/console/partner/payouts"))
	wantPage(t, ctx, status, http.StatusOK, "Payouts received")
	if strings.Contains(mainText(t, ctx), id) {
		t.Fatalf("another partner's list shows payout %s", id)
	}
}
