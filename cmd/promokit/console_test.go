package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The console's flows in a real browser: Debian's headless Chromium driven
// by chromedp, against a real "promokit serve --demo" on each database.
// Each flow runs in a browser context of its own (its own cookies), in a
// tab of one browser shared by the test. When a flow fails, a screenshot
// of its tab is saved under testdata/failures (which git ignores) and its
// path logged.

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// newBrowser starts a headless Chromium for the test, closed when it ends.
// Without Chromium the test is skipped, unless PROMOKIT_TEST_DATABASE_URL
// is set (as in CI), where it fails: the browser is part of the suite.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv(testURLEnv) != "" {
			t.Fatalf("%s is missing (install it with apt-get install -y chromium): %v", chromiumPath, err)
		}
		t.Skipf("%s is missing: the browser tests need Debian's chromium package (apt-get install -y chromium)", chromiumPath)
	}
	profile := t.TempDir() // removed after the browser is closed: cleanups run last first
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1024, 800),
	)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	return bctx
}

// newTab returns a tab of browser in a browser context of its own, closed
// when the test ends, with a deadline for the flow. When the test fails,
// the tab's screenshot is saved first.
func newTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	tab, cancelTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancelTab)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	ctx, cancel := context.WithTimeout(tab, 45*time.Second)
	t.Cleanup(cancel)
	t.Cleanup(func() {
		if t.Failed() {
			saveScreenshot(t, tab)
		}
	})
	return ctx
}

// saveScreenshot saves a screenshot of tab under testdata/failures and logs
// its path.
func saveScreenshot(t *testing.T, tab context.Context) {
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		t.Logf("no screenshot: %v", err)
		return
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "failures"))
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		t.Logf("no screenshot: %v", err)
		return
	}
	name := regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(t.Name(), "_")
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Logf("no screenshot: %v", err)
		return
	}
	t.Logf("screenshot of the failed flow: %s", path)
}

// demoServer is a running "promokit serve --demo" and the keys it printed.
type demoServer struct {
	*testMain
	base    string
	exports map[string]string
}

// startDemo runs promokit serve --demo on db.
func startDemo(t *testing.T, db testDB) *demoServer {
	t.Helper()
	m := MustRunMain(t, "serve", "--demo", "--database-url", db.fresh(t))
	d := &demoServer{testMain: m, base: m.URL(), exports: map[string]string{}}
	for _, l := range exportLines(m.stdout.String()) {
		name, value, _ := strings.Cut(strings.TrimPrefix(l, "export "), "=")
		value, _, _ = strings.Cut(value, " ")
		d.exports[name] = value
	}
	for _, name := range []string{"ADMIN_KEY", "SELLER_KEY", "CHECKOUT_KEY", "STORE"} {
		if d.exports[name] == "" {
			t.Fatalf("the demo printed no %s:\n%s", name, m.stdout)
		}
	}
	return d
}

// api calls the API with key and returns the status and body.
func (d *demoServer) api(t *testing.T, key, method, path, body string, hdr ...string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, d.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// do runs browser actions and fails the test on an error.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// loadPage runs steps that load a page (a navigation, a click that submits a
// form) and returns the status of the page's document.
func loadPage(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) int64 {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return resp.Status
}

// mainText returns the text of the page's main element.
func mainText(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatalf("read the page: %v", err)
	}
	return s
}

// wantPage fails unless the page loaded with status and its main element
// says each of texts.
func wantPage(t *testing.T, ctx context.Context, status, want int64, texts ...string) {
	t.Helper()
	text := mainText(t, ctx)
	if status != want {
		t.Fatalf("page status %d, want %d:\n%s", status, want, text)
	}
	for _, s := range texts {
		if !strings.Contains(text, s) {
			t.Fatalf("the page does not say %q:\n%s", s, text)
		}
	}
}

// signIn opens the console's home page, which sends the browser to the
// sign-in form, signs in with key there and returns the status of the
// page it lands on.
func signIn(t *testing.T, ctx context.Context, d *demoServer, key string) int64 {
	t.Helper()
	loadPage(t, ctx, "open the console", chromedp.Navigate(d.base+"/console/"))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.HasPrefix(loc, d.base+"/console/sign-in") {
		t.Fatalf("the console without a session is at %q (%v), want the sign-in page", loc, err)
	}
	return loadPage(t, ctx, "sign in",
		chromedp.SendKeys(chromedp.ID("f-key"), key),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)))
}

// sessionCookie returns the value of the browser's session cookie for the
// console of d, "" when it has none.
func sessionCookie(t *testing.T, ctx context.Context, d *demoServer) string {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{d.base + "/console/"}})
	if err != nil {
		t.Fatalf("read the cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == "pk_console" {
			if !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax || c.Path != "/console" {
				t.Errorf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/console", c)
			}
			return c.Value
		}
	}
	return ""
}

// TestConsoleBrowser runs the console's flows in Chromium on each database.
func TestConsoleBrowser(t *testing.T) {
	t.Parallel()
	browser := newBrowser(t)
	for _, db := range testDBs() {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			d := startDemo(t, db)
			for _, flow := range []struct {
				name string
				run  func(t *testing.T, ctx context.Context, d *demoServer)
			}{
				{"AdminDashboard", flowAdminDashboard},
				{"CheckoutKeyRefused", flowCheckoutKeyRefused},
				{"KeySecretOnce", flowKeySecretOnce},
				{"StaleSettings", flowStaleSettings},
				{"SignOut", flowSignOut},
				{"SellerSeesNoOperatorPages", flowSellerOperatorPages},
				{"CrossOriginRefused", flowCrossOrigin},
				{"PartnerLinkClicked", flowPartnerLink},
				{"PartnerConfirmsPayout", flowPartnerPayout},
				{"ForeignPayoutNotFound", flowForeignPayout},
				{"SellerPayoutConfirmed", flowSellerPayout},
			} {
				t.Run(flow.name, func(t *testing.T) { flow.run(t, newTab(t, browser), d) })
			}
		})
	}
}

// flowAdminDashboard: the admin signs in and lands on the dashboard, whose
// charts count a redeem made through the API.
func flowAdminDashboard(t *testing.T, ctx context.Context, d *demoServer) {
	cart := `{"store_id":"` + d.exports["STORE"] + `","currency":"USD","lines":[{"product_id":"mug","quantity":2,"unit_price":1500},{"product_id":"tshirt","quantity":1,"unit_price":2500}]}`
	if status, body := d.api(t, d.exports["CHECKOUT_KEY"], "POST", "/v1/redeem", `{"order_id":"browser-1","cart":`+cart+`,"codes":["30off2"]}`); status != http.StatusCreated {
		t.Fatalf("redeem: %d %s", status, body)
	}
	status := signIn(t, ctx, d, d.exports["ADMIN_KEY"])
	wantPage(t, ctx, status, http.StatusOK, "Dashboard", "Redeems per day", "Commissions per day")
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != d.base+"/console/dashboard" {
		t.Fatalf("the admin landed on %q", loc)
	}
	charts, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll("svg.chart")))
	if err != nil || len(charts) != 4 {
		t.Fatalf("%d charts (%v), want 4", len(charts), err)
	}
	total, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".totals li:first-child")))
	if err != nil || !strings.Contains(total, "1 redeems") {
		t.Fatalf("the redeems total says %q (%v), want 1", total, err)
	}
	nav, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("header nav")))
	if err != nil || !strings.Contains(nav, "Stores") || !strings.Contains(nav, "Settings") {
		t.Fatalf("the admin's navigation: %q (%v)", nav, err)
	}
}

// flowCheckoutKeyRefused: a checkout key cannot sign in, and is told why.
func flowCheckoutKeyRefused(t *testing.T, ctx context.Context, d *demoServer) {
	status := signIn(t, ctx, d, d.exports["CHECKOUT_KEY"])
	wantPage(t, ctx, status, http.StatusForbidden, "A checkout key cannot sign in to the console", "admin, seller or partner key")
	if v := sessionCookie(t, ctx, d); v != "" {
		t.Fatalf("a checkout key got a session cookie")
	}
	invalid, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("f-key"), "aria-invalid"))
	if err != nil || invalid.Value != "true" {
		t.Fatalf("the key's input is not marked invalid: %+v %v", invalid, err)
	}
}

// flowKeySecretOnce: the admin creates a key and sees its secret once; the
// list of keys shows its prefix only, and the secret works.
func flowKeySecretOnce(t *testing.T, ctx context.Context, d *demoServer) {
	signIn(t, ctx, d, d.exports["ADMIN_KEY"])
	loadPage(t, ctx, "open the keys", chromedp.Navigate(d.base+"/console/keys"))
	status := loadPage(t, ctx, "create a key",
		chromedp.SendKeys(chromedp.ID("f-name"), "browser checkout"),
		chromedp.SetValue(chromedp.ID("f-role"), "checkout"),
		chromedp.SendKeys(chromedp.ID("f-store_id"), d.exports["STORE"]),
		chromedp.Click(chromedp.CSS(`section[aria-labelledby="new-key"] button[type="submit"]`)))
	wantPage(t, ctx, status, http.StatusCreated, "Copy the secret now", "shown this once")
	secret, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("secret")))
	if err != nil || !strings.HasPrefix(secret, "pk_") {
		t.Fatalf("the secret on the page: %q %v", secret, err)
	}
	// The script shows the copy button where a clipboard is available.
	do(t, ctx, "the copy button", chromedp.WaitVisible(chromedp.CSS(`button[data-copy="secret"]`)))
	if status, body := d.api(t, secret, "GET", "/v1/stores/"+d.exports["STORE"], ""); status != http.StatusOK {
		t.Fatalf("the new key: %d %s", status, body)
	}
	status = loadPage(t, ctx, "open the keys again", chromedp.Navigate(d.base+"/console/keys"))
	wantPage(t, ctx, status, http.StatusOK, "browser checkout", secret[:10])
	html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil || strings.Contains(html, secret) {
		t.Fatalf("the list of keys shows the secret (%v)", err)
	}
}

// flowStaleSettings: the settings change through the API while the admin's
// form is open; saving the form is refused, and it then shows the
// settings as they are.
func flowStaleSettings(t *testing.T, ctx context.Context, d *demoServer) {
	signIn(t, ctx, d, d.exports["ADMIN_KEY"])
	loadPage(t, ctx, "open the settings", chromedp.Navigate(d.base+"/console/settings"))
	version, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`input[name="version"]`)))
	if err != nil || version == "" {
		t.Fatalf("the form's version: %q %v", version, err)
	}
	do(t, ctx, "edit the name", chromedp.SetValue(chromedp.ID("f-name"), "Console Market"))
	if status, body := d.api(t, d.exports["ADMIN_KEY"], "PATCH", "/v1/settings", `{"name":"API Market"}`, "If-Match", `"`+version+`"`); status != http.StatusOK {
		t.Fatalf("change the settings through the API: %d %s", status, body)
	}
	status := loadPage(t, ctx, "save the stale form", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)))
	wantPage(t, ctx, status, http.StatusPreconditionFailed, "changed by someone else since you opened this form", "Nothing was saved")
	name, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("f-name")))
	if err != nil || name != "API Market" {
		t.Fatalf("the refused form shows the name %q (%v), want the current one", name, err)
	}
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`))
	if err != nil || focused != "error-summary" {
		t.Fatalf("the focus is on %q (%v), want the error summary", focused, err)
	}
	if _, body := d.api(t, d.exports["ADMIN_KEY"], "GET", "/v1/settings", ""); !strings.Contains(body, `"name":"API Market"`) {
		t.Fatalf("the stale form changed the settings: %s", body)
	}
}

// flowSignOut: signing out ends the session in the database: the cookie
// the browser had no longer opens a page, whoever sends it.
func flowSignOut(t *testing.T, ctx context.Context, d *demoServer) {
	signIn(t, ctx, d, d.exports["ADMIN_KEY"])
	cookie := sessionCookie(t, ctx, d)
	if cookie == "" {
		t.Fatal("no session cookie after signing in")
	}
	get := func() *http.Response {
		req, _ := http.NewRequest("GET", d.base+"/console/stores", nil)
		req.AddCookie(&http.Cookie{Name: "pk_console", Value: cookie})
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := get(); resp.StatusCode != http.StatusOK {
		t.Fatalf("the session cookie before sign-out: %d", resp.StatusCode)
	}
	status := loadPage(t, ctx, "sign out", chromedp.Click(chromedp.CSS(`form.sign-out button`)))
	wantPage(t, ctx, status, http.StatusOK, "You are signed out.")
	if v := sessionCookie(t, ctx, d); v != "" {
		t.Fatalf("the browser kept the session cookie")
	}
	if resp := get(); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/sign-in") {
		t.Fatalf("the old cookie after sign-out: %d to %q, want the sign-in page", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// flowSellerOperatorPages: a seller sees its store, and every operator
// page as a 404 page.
func flowSellerOperatorPages(t *testing.T, ctx context.Context, d *demoServer) {
	status := signIn(t, ctx, d, d.exports["SELLER_KEY"])
	wantPage(t, ctx, status, http.StatusOK, "Overview", "Demo Store")
	for _, path := range []string{"/console/dashboard", "/console/stores", "/console/stores/" + d.exports["STORE"], "/console/partners", "/console/keys", "/console/settings"} {
		status := loadPage(t, ctx, "open "+path, chromedp.Navigate(d.base+path))
		wantPage(t, ctx, status, http.StatusNotFound, "Page not found")
	}
	nav, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("header nav")))
	if err != nil || strings.Contains(nav, "Settings") || strings.Contains(nav, "Keys") {
		t.Fatalf("the seller's navigation shows operator pages: %q (%v)", nav, err)
	}
}

// flowCrossOrigin: a page of another origin posts a form to the console of
// a signed-in admin; the console refuses it and nothing is created.
func flowCrossOrigin(t *testing.T, ctx context.Context, d *demoServer) {
	signIn(t, ctx, d, d.exports["ADMIN_KEY"])
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><title>Win a prize</title>
<form method="post" action="%s/console/keys"><input type="hidden" name="role" value="admin"><input type="hidden" name="name" value="forged admin">
<button id="go" type="submit">Claim</button></form></html>`, d.base)
	}))
	defer evil.Close()
	loadPage(t, ctx, "open the other site", chromedp.Navigate(evil.URL))
	status := loadPage(t, ctx, "post its form", chromedp.Click(chromedp.ID("go")))
	wantPage(t, ctx, status, http.StatusForbidden, "Request refused", "came from another site")
	if _, body := d.api(t, d.exports["ADMIN_KEY"], "GET", "/v1/keys?limit=1000", ""); strings.Contains(body, "forged admin") {
		t.Fatalf("the cross-origin form created a key: %s", body)
	}
}
