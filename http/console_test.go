package http

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// consoleClient is a browser of the console without a script: it sends
// forms and follows no redirect, so that a test sees each answer, and
// holds the session cookie it was given.
type consoleClient struct {
	t       *testing.T
	base    string
	hc      *http.Client
	session string // the session cookie's value; "" for none
}

// consoleResponse is an answer with its body read.
type consoleResponse struct {
	*http.Response
	Body string
}

// newConsoleClient returns a client of the server at base without a
// session.
func newConsoleClient(t *testing.T, base string) *consoleClient {
	return &consoleClient{t: t, base: base, hc: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a request with form (a POST when it is not nil) and hdr, header
// names and values, and the session cookie when there is one.
func (c *consoleClient) do(method, path string, form url.Values, hdr ...string) *consoleResponse {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.session != "" {
		req.AddCookie(&http.Cookie{Name: consoleCookie, Value: c.session})
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	r := &consoleResponse{Response: resp, Body: string(b)}
	if resp.StatusCode >= 200 && resp.StatusCode != http.StatusNotModified && strings.HasPrefix(path, "/console") &&
		!strings.HasPrefix(path, "/console/assets/") && resp.StatusCode != http.StatusNoContent {
		checkConsoleHeaders(c.t, r)
	}
	return r
}

func (c *consoleClient) get(path string, hdr ...string) *consoleResponse {
	c.t.Helper()
	return c.do("GET", path, nil, hdr...)
}

func (c *consoleClient) post(path string, form url.Values, hdr ...string) *consoleResponse {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	return c.do("POST", path, form, hdr...)
}

// checkConsoleHeaders checks the headers every console answer has.
func checkConsoleHeaders(t *testing.T, r *consoleResponse) {
	t.Helper()
	for name, want := range map[string]string{
		"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
	} {
		if got := r.Header.Get(name); got != want {
			t.Errorf("%s %s: %s %q, want %q", r.Request.Method, r.Request.URL.Path, name, got, want)
		}
	}
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe") {
		t.Errorf("%s %s: Content-Security-Policy %q", r.Request.Method, r.Request.URL.Path, csp)
	}
}

// want checks the status of r and that its body holds each of texts.
func (r *consoleResponse) want(t *testing.T, status int, texts ...string) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d:\n%s", r.Request.Method, r.Request.URL, r.StatusCode, status, r.Body)
	}
	for _, s := range texts {
		if !strings.Contains(r.Body, s) {
			t.Fatalf("%s %s: the page does not say %q:\n%s", r.Request.Method, r.Request.URL, s, r.Body)
		}
	}
}

// wantRedirect checks that r sends the browser to a location starting
// with prefix.
func (r *consoleResponse) wantRedirect(t *testing.T, prefix string) {
	t.Helper()
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), prefix) {
		t.Fatalf("%s %s: status %d to %q, want 303 to %s…:\n%s", r.Request.Method, r.Request.URL, r.StatusCode, r.Header.Get("Location"), prefix, r.Body)
	}
}

// sessionCookieOf returns the session cookie r sets, or nil.
func sessionCookieOf(r *consoleResponse) *http.Cookie {
	for _, c := range r.Cookies() {
		if c.Name == consoleCookie {
			return c
		}
	}
	return nil
}

// signIn signs in with secret and returns a client holding the session.
func (b *testBundle) signIn(t *testing.T, secret string) *consoleClient {
	t.Helper()
	c := newConsoleClient(t, b.c.base)
	r := c.post("/console/sign-in", url.Values{"key": {secret}})
	r.wantRedirect(t, "/console/")
	ck := sessionCookieOf(r)
	if ck == nil || ck.Value == "" {
		t.Fatalf("sign-in set no session cookie: %v", r.Header["Set-Cookie"])
	}
	c.session = ck.Value
	return c
}

// count404 checks that r is the console's 404 page.
func want404(t *testing.T, r *consoleResponse) {
	t.Helper()
	r.want(t, http.StatusNotFound, "Page not found", "not yours to see")
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("%s %s: 404 of Content-Type %q, want the console's page", r.Request.Method, r.Request.URL, ct)
	}
}

// TestConsoleScope opens every console route as each principal: anonymous
// is sent to the sign-in page, the admin gets the operator's pages, and
// a seller, a foreign seller and a partner get each operator page, object
// or not, as a 404 page (never 403), with nothing done for a form.
func TestConsoleScope(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		// A case per route: the path to open and the form to send.
		paths := map[string]string{
			"/console":                  "/console",
			"/console/{$}":              "/console/",
			"/console/sign-in":          "/console/sign-in",
			"/console/sign-out":         "/console/sign-out",
			"/console/assets/{name}":    "/console/assets/console.css",
			"/console/dashboard":        "/console/dashboard",
			"/console/stores":           "/console/stores",
			"/console/stores/{id}":      "/console/stores/" + b.shop.ID,
			"/console/partners":         "/console/partners",
			"/console/partners/{id}":    "/console/partners/" + b.partnr.ID,
			"/console/keys":             "/console/keys",
			"/console/keys/{id}/revoke": "/console/keys/" + b.spareKeyID + "/revoke",
			"/console/settings":         "/console/settings",
			"/console/":                 "/console/no-such-page",
		}
		partnerScopeCases(t, b, paths)
		forms := map[string]url.Values{
			"/console/stores":           {"name": {"Sneaky Store"}},
			"/console/stores/{id}":      {"name": {"Renamed"}, "max_promotions_per_order": {"0"}},
			"/console/partners":         {"name": {"Sneaky Partner"}, "kind": {"affiliate"}},
			"/console/keys":             {"role": {"admin"}},
			"/console/settings":         {"version": {"1"}, "name": {"Sneaky"}, "currency": {"USD"}, "time_zone": {"UTC"}, "preset": {"open"}},
			"/console/keys/{id}/revoke": {},
		}
		sellerPaths, sellerForms := sellerScopeCases(b)
		maps.Copy(paths, sellerPaths)
		maps.Copy(forms, sellerForms)
		affiliatePaths, affiliateForms := affiliateScopeCases(b)
		maps.Copy(paths, affiliatePaths)
		maps.Copy(forms, affiliateForms)
		p4 := p4ScopeCases(t, b, paths, forms)
		admin := b.signIn(t, b.admin)
		seller, foreign, partner := b.signIn(t, b.seller), b.signIn(t, b.foreign), b.signIn(t, b.partner)
		anon := newConsoleClient(t, b.c.base)
		send := func(c *consoleClient, rt ConsoleRoute, path string) *consoleResponse {
			t.Helper()
			if rt.Method == "POST" {
				return c.post(path, forms[rt.Pattern])
			}
			return c.get(path)
		}
		for _, rt := range ConsoleRoutes() {
			path, ok := paths[rt.Pattern]
			if !ok {
				t.Fatalf("no case for console route %s %s", rt.Method, rt.Pattern)
			}
			t.Run(rt.Method+" "+rt.Pattern, func(t *testing.T) {
				switch rt.Access {
				case "admin":
					for name, c := range map[string]*consoleClient{"seller": seller, "foreign seller": foreign, "partner": partner} {
						r := send(c, rt, path)
						if r.StatusCode != http.StatusNotFound {
							t.Fatalf("%s: %s %s = %d, want the 404 page", name, rt.Method, path, r.StatusCode)
						}
						want404(t, r)
						// With the navigation of the principal's role.
						r.want(t, http.StatusNotFound, `action="/console/sign-out"`, `<a href="/console/">Overview</a>`)
					}
					r := send(anon, rt, path)
					r.wantRedirect(t, "/console/sign-in")
					if rt.Method == "GET" {
						send(admin, rt, path).want(t, http.StatusOK, "<main")
					}
				case "signed in":
					send(anon, rt, path).wantRedirect(t, "/console/sign-in")
					send(seller, rt, path).want(t, http.StatusOK, b.shopName)
					send(foreign, rt, path).want(t, http.StatusOK, b.otherName)
					send(partner, rt, path).want(t, http.StatusOK, "Ann Influencer")
					send(admin, rt, path).wantRedirect(t, "/console/dashboard")
				case "seller":
					checkSellerRoute(t, rt, path, send, seller, foreign, admin, partner, anon)
				case "anyone":
					// Each has its own test; here, none needs a session
					// to answer.
					if r := send(anon, rt, path); r.StatusCode >= 500 {
						t.Fatalf("%s %s as anonymous: %d", rt.Method, path, r.StatusCode)
					}
					if rt.Method == "" { // a path no route takes
						want404(t, send(anon, rt, path))
						send(seller, rt, path).want(t, http.StatusNotFound, `action="/console/sign-out"`)
					}
				case "seller under P4":
					checkP4Route(t, b, p4, rt, path, send, admin, partner, seller, anon)
				case "partner":
					checkPartnerRoute(t, b, rt, path, map[string]*consoleClient{"seller": seller, "foreign seller": foreign, "admin": admin}, anon, partner)
				default:
					t.Fatalf("no expectation for access %q", rt.Access)
				}
			})
		}
		// Nothing the others sent was done.
		for _, path := range []string{"/v1/stores", "/v1/partners"} {
			if body := string(mustDo(t, b, b.admin, "GET", path+"?limit=1000", nil, http.StatusOK).Body); strings.Contains(body, "Sneaky") {
				t.Errorf("%s holds what a non-admin's form sent: %s", path, body)
			}
		}
		if body := string(mustDo(t, b, b.admin, "GET", "/v1/stores/"+b.shop.ID, nil, http.StatusOK).Body); strings.Contains(body, "Renamed") {
			t.Errorf("a non-admin renamed a store: %s", body)
		}
		if k := decodeAs[promokit.Settings](t, mustDo(t, b, b.admin, "GET", "/v1/settings", nil, http.StatusOK)); k.Name == "Sneaky" {
			t.Errorf("a non-admin changed the settings")
		}
		if body := string(mustDo(t, b, b.admin, "GET", "/v1/keys?limit=1000", nil, http.StatusOK).Body); strings.Contains(body, `"revoked_at"`) {
			t.Errorf("a non-admin revoked a key: %s", body)
		}
	})
}

// TestConsoleSignIn checks the sign-in page: which keys sign in and what
// the others are told, the session cookie's attributes, where the browser
// goes next, and that sign-out and revocation end the session.
func TestConsoleSignIn(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		c := newConsoleClient(t, b.c.base)
		c.get("/console/sign-in").want(t, http.StatusOK, `<html lang="en">`, `<label for="f-key">API key</label>`)

		c.post("/console/sign-in", url.Values{"key": {""}}).want(t, http.StatusUnprocessableEntity, "Enter an API key.", `aria-invalid="true"`)
		c.post("/console/sign-in", url.Values{"key": {wrongKey(1)}}).want(t, http.StatusUnauthorized, "This key is not valid")
		for role, secret := range map[string]string{"checkout": b.checkout, "storefront": b.storefront} {
			r := c.post("/console/sign-in", url.Values{"key": {secret}})
			r.want(t, http.StatusForbidden, "A "+role+" key cannot sign in to the console: sign in with an admin, seller or partner key.")
			if sessionCookieOf(r) != nil {
				t.Fatalf("a %s key got a session cookie", role)
			}
		}

		r := c.post("/console/sign-in", url.Values{"key": {b.admin}, "next": {"/console/stores?after=x"}})
		r.wantRedirect(t, "/console/stores?after=x")
		ck := sessionCookieOf(r)
		if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/console" || ck.Secure || ck.MaxAge != 0 {
			t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/console, not Secure over plain HTTP, for the browser's session", ck)
		}
		if !promokit.ValidSessionID(ck.Value) || strings.Contains(ck.Value, b.admin) {
			t.Fatalf("session cookie value %q", ck.Value)
		}
		// The database keeps the id's hash, not the id.
		err := b.store.Read(context.Background(), func(tx storage.Tx) error {
			if _, err := tx.SessionGet(context.Background(), []byte(ck.Value)); err == nil {
				t.Errorf("a session is stored under its id")
			}
			_, err := tx.SessionGet(context.Background(), promokit.HashSession(ck.Value))
			return err
		})
		if err != nil {
			t.Fatalf("the session's hash: %v", err)
		}
		for _, next := range []string{"https://evil.example/", "//evil.example/x", "/console/sign-in", "/v1/keys", `/console/\evil`} {
			r := newConsoleClient(t, b.c.base).post("/console/sign-in", url.Values{"key": {b.admin}, "next": {next}})
			if loc := r.Header.Get("Location"); loc != "/console/" {
				t.Errorf("next %q: sent to %q, want /console/", next, loc)
			}
		}

		// A signed-in browser skips the sign-in page; an anonymous one
		// comes back to the page it asked for.
		c.session = ck.Value
		c.get("/console/sign-in").wantRedirect(t, "/console/")
		c.get("/console/dashboard").want(t, http.StatusOK, "Redeems per day")
		newConsoleClient(t, b.c.base).get("/console/keys?store_id="+b.shop.ID).wantRedirect(t, "/console/sign-in?next="+url.QueryEscape("/console/keys?store_id="+b.shop.ID))

		// Sign-out ends the session in the database: the cookie no longer
		// works, whoever holds it.
		out := c.post("/console/sign-out", nil)
		out.wantRedirect(t, "/console/sign-in?notice=signed-out")
		if ck := sessionCookieOf(out); ck == nil || ck.MaxAge >= 0 {
			t.Fatalf("sign-out does not drop the cookie: %v", out.Header["Set-Cookie"])
		}
		c.get("/console/dashboard").wantRedirect(t, "/console/sign-in")
		c.get("/console/sign-in?notice=signed-out").want(t, http.StatusOK, "You are signed out.")

		// Revoking the key ends its sessions.
		k := mustCreate[keyJSON](t, b, b.admin, "POST", "/v1/keys", map[string]any{"role": "admin", "name": "short-lived"})
		s := b.signIn(t, k.Secret)
		s.get("/console/stores").want(t, http.StatusOK)
		mustDo(t, b, b.admin, "DELETE", "/v1/keys/"+k.ID, nil, http.StatusOK)
		s.get("/console/stores").wantRedirect(t, "/console/sign-in")
	})
}

// TestConsoleSignInLimit checks that failed sign-ins count toward the
// limit on failed authentications of the client's address, with the API's
// requests: past it, sign-ins and requests are refused until the minute
// ends, the right key's too.
func TestConsoleSignInLimit(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open, func(c *Config) { c.AuthFailures = 3 })
		c := newConsoleClient(t, b.c.base)
		c.post("/console/sign-in", url.Values{"key": {wrongKey(1)}}).want(t, http.StatusUnauthorized)
		want401(t, b.c.do(t, "GET", "/v1/settings", wrongKey(2), nil))
		c.post("/console/sign-in", url.Values{"key": {wrongKey(3)}}).want(t, http.StatusUnauthorized)
		r := c.post("/console/sign-in", url.Values{"key": {wrongKey(4)}})
		r.want(t, http.StatusTooManyRequests, "Too many failed sign-ins")
		if n, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || n < 1 || n > 60 {
			t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
		}
		c.post("/console/sign-in", url.Values{"key": {b.admin}}).want(t, http.StatusTooManyRequests)
		if r := b.c.do(t, "GET", "/v1/settings", b.admin, nil); r.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("an API request from the blocked address: %d", r.StatusCode)
		}
	})
}

// TestConsoleSecureCookie checks that the session cookie is Secure when
// the browser reached the server over TLS: directly, or through a trusted
// proxy that says so; a header from a client that is not a trusted proxy
// changes nothing.
func TestConsoleSecureCookie(t *testing.T) {
	t.Parallel()
	st := dbtest.OpenSQLite(t)
	svc := engine.New(engine.Config{DB: st})
	secret, _, err := svc.Bootstrap(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cookie := func(ts *httptest.Server, hdr ...string) *http.Cookie {
		t.Helper()
		c := newConsoleClient(t, ts.URL)
		c.hc.Transport = ts.Client().Transport
		r := c.post("/console/sign-in", url.Values{"key": {secret}}, hdr...)
		r.wantRedirect(t, "/console/")
		return sessionCookieOf(r)
	}
	newServer := func(trust bool) *Server {
		return NewServer(Config{Service: svc, TrustProxy: trust, Registry: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler)})
	}
	tls := httptest.NewTLSServer(newServer(false))
	defer tls.Close()
	if ck := cookie(tls); !ck.Secure {
		t.Errorf("over TLS: the cookie is not Secure")
	}
	proxied := httptest.NewServer(newServer(true))
	defer proxied.Close()
	if ck := cookie(proxied, "X-Forwarded-Proto", "https"); !ck.Secure {
		t.Errorf("behind a trusted proxy with X-Forwarded-Proto https: the cookie is not Secure")
	}
	if ck := cookie(proxied, "X-Forwarded-Proto", "http"); ck.Secure {
		t.Errorf("behind a trusted proxy with X-Forwarded-Proto http: the cookie is Secure")
	}
	direct := httptest.NewServer(newServer(false))
	defer direct.Close()
	if ck := cookie(direct, "X-Forwarded-Proto", "https"); ck.Secure {
		t.Errorf("X-Forwarded-Proto from a client that is no trusted proxy made the cookie Secure")
	}
}

// TestConsoleCrossOrigin checks that a form posted from another origin is
// refused and does nothing, whether the browser says so in Sec-Fetch-Site
// or only in Origin, and that the console's own forms pass.
func TestConsoleCrossOrigin(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		admin := b.signIn(t, b.admin)
		form := url.Values{"name": {"Forged Store"}}
		for _, hdr := range [][]string{
			{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"},
			{"Sec-Fetch-Site", "same-site", "Origin", "http://other.localhost"},
			{"Origin", "https://evil.example"},
		} {
			admin.post("/console/stores", form, hdr...).want(t, http.StatusForbidden, "came from another site")
			admin.post("/console/sign-out", nil, hdr...).want(t, http.StatusForbidden)
			newConsoleClient(t, b.c.base).post("/console/sign-in", url.Values{"key": {b.admin}}, hdr...).want(t, http.StatusForbidden)
		}
		if body := string(mustDo(t, b, b.admin, "GET", "/v1/stores", nil, http.StatusOK).Body); strings.Contains(body, "Forged") {
			t.Fatalf("a cross-origin form created a store: %s", body)
		}
		admin.get("/console/stores").want(t, http.StatusOK) // still signed in
		admin.post("/console/stores", form, "Sec-Fetch-Site", "same-origin", "Origin", b.c.base).wantRedirect(t, "/console/stores/sto_")
	})
}

// TestConsoleForms checks that a refused form comes back with each error
// next to its field, a summary linking to them, and what was typed; and
// that a stale settings form is refused with a clear message and the
// settings as they now are.
func TestConsoleForms(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		admin := b.signIn(t, b.admin)

		admin.post("/console/stores", url.Values{"name": {" "}, "partner_promo_codes": {"on"}}).want(t, http.StatusUnprocessableEntity,
			`<a href="#f-name">name must have 1 to 200 characters</a>`, `id="f-name-error"`, `aria-describedby="f-name-error"`, `name="partner_promo_codes" checked`)
		admin.post("/console/stores/"+b.shop.ID, url.Values{"name": {"Shop"}, "max_promotions_per_order": {"many"}}).want(t, http.StatusUnprocessableEntity,
			"max promotions per order must be a whole number", `value="many"`)
		admin.post("/console/stores/"+b.shop.ID, url.Values{"name": {"Shop"}, "redirect_hosts": {"not a host"}}).want(t, http.StatusUnprocessableEntity, `id="f-redirect_hosts-error"`)
		admin.post("/console/stores/sto_missing", url.Values{"name": {"Shop"}}).want(t, http.StatusNotFound)
		admin.post("/console/partners", url.Values{"name": {"Bob"}, "kind": {"wizard"}}).want(t, http.StatusUnprocessableEntity, `id="f-kind-error"`, `value="Bob"`)
		admin.post("/console/keys", url.Values{"role": {"seller"}, "name": {"no store"}}).want(t, http.StatusUnprocessableEntity, `id="f-store_id-error"`, `value="no store"`)
		admin.post("/console/keys", url.Values{"role": {"seller"}, "store_id": {"sto_missing"}}).want(t, http.StatusUnprocessableEntity, `store &#34;sto_missing&#34; does not exist`)

		// Settings: a policy number out of range, and one that is not a
		// number, each next to its input; the form keeps its version.
		page := admin.get("/console/settings")
		page.want(t, http.StatusOK, `name="version" value="1"`, `name="policy.affiliate.attribution_days" type="number" value="15"`)
		form := settingsForm(t, page.Body)
		form.Set("policy.affiliate.attribution_days", "0")
		form.Set("policy.coupons.targeted_per_month", "lots")
		admin.post("/console/settings", form).want(t, http.StatusUnprocessableEntity,
			`id="f-policy-coupons-targeted_per_month-error"`, `name="policy.coupons.targeted_per_month" type="number" value="lots"`)
		form.Set("policy.coupons.targeted_per_month", "20")
		admin.post("/console/settings", form).want(t, http.StatusUnprocessableEntity,
			`<a href="#f-policy-affiliate-attribution_days">policy.affiliate.attribution_days must be between 1 and 3650</a>`,
			`name="version" value="1"`)

		// A change through the API meanwhile makes the form stale.
		mustDo(t, b, b.admin, "PATCH", "/v1/settings", map[string]any{"name": "Changed Elsewhere"}, http.StatusOK, "If-Match", `"1"`)
		form.Set("policy.affiliate.attribution_days", "20")
		form.Set("name", "Mine")
		admin.post("/console/settings", form).want(t, http.StatusPreconditionFailed,
			"changed by someone else since you opened this form", "Nothing was saved", `name="version" value="2"`, `value="Changed Elsewhere"`)
		if st := decodeAs[promokit.Settings](t, mustDo(t, b, b.admin, "GET", "/v1/settings", nil, http.StatusOK)); st.Name != "Changed Elsewhere" || st.Version != 2 {
			t.Fatalf("settings after a stale form: %+v", st)
		}
		// The fresh form saves, and the numbers as set make a policy of
		// its own.
		form = settingsForm(t, admin.get("/console/settings").Body)
		form.Set("policy.affiliate.attribution_days", "20")
		admin.post("/console/settings", form).wantRedirect(t, "/console/settings?notice=settings-saved")
		st := decodeAs[promokit.Settings](t, mustDo(t, b, b.admin, "GET", "/v1/settings", nil, http.StatusOK))
		if st.Version != 3 || st.Policy.Affiliate.AttributionDays != 20 || st.Policy.Preset != "" || st.Name != "Changed Elsewhere" {
			t.Fatalf("settings after the form: %+v", st)
		}
		// A preset replaces the numbers.
		form = settingsForm(t, admin.get("/console/settings").Body)
		form.Set("preset", "open")
		admin.post("/console/settings", form).wantRedirect(t, "/console/settings")
		st = decodeAs[promokit.Settings](t, mustDo(t, b, b.admin, "GET", "/v1/settings", nil, http.StatusOK))
		if open, _ := promokit.PolicyPreset(promokit.PresetOpen); st.Policy != open {
			t.Fatalf("policy after the open preset: %+v", st.Policy)
		}
	})
}

// settingsForm returns the inputs of the settings page's form as its
// browser would send them.
func settingsForm(t *testing.T, body string) url.Values {
	t.Helper()
	form := url.Values{}
	for _, chunk := range strings.Split(body, "<input ")[1:] {
		name, value := tagAttr(chunk, "name"), tagAttr(chunk, "value")
		if name != "" {
			form.Set(name, value)
		}
	}
	if form.Get("version") == "" {
		t.Fatalf("no version in the settings form:\n%s", body)
	}
	form.Set("preset", "")
	return form
}

// tagAttr returns the value of attribute name of the tag that s starts
// (after its "<name ").
func tagAttr(s, name string) string {
	tag, _, _ := strings.Cut(s, ">")
	return attr(" "+tag, name)
}

// attr returns the value of the first attribute name in s.
func attr(tag, name string) string {
	_, rest, ok := strings.Cut(tag, " "+name+`="`)
	if !ok {
		if !strings.HasPrefix(tag, name+`="`) {
			return ""
		}
		rest = tag[len(name)+2:]
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

// TestConsoleKeys checks that a new key's secret is shown once, on the
// page that creates it, never in the list, and that revoking a key from
// its row revokes it.
func TestConsoleKeys(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		admin := b.signIn(t, b.admin)
		r := admin.post("/console/keys", url.Values{"name": {"new checkout"}, "role": {"checkout"}, "store_id": {b.shop.ID}, "partner_id": {b.partnr.ID}})
		r.want(t, http.StatusCreated, "Copy the secret now", `data-copy="secret"`)
		secret := attr(r.Body[strings.Index(r.Body, `id="secret"`):], "value")
		if !strings.HasPrefix(secret, "pk_") {
			t.Fatalf("no secret on the page:\n%s", r.Body)
		}
		k := decodeAs[promokit.Store](t, mustDo(t, b, secret, "GET", "/v1/stores/"+b.shop.ID, nil, http.StatusOK))
		if k.ID != b.shop.ID {
			t.Fatalf("the new key reads %+v", k)
		}
		list := admin.get("/console/keys?store_id=" + b.shop.ID)
		list.want(t, http.StatusOK, "new checkout", secret[:10]+"…")
		if strings.Contains(list.Body, secret) {
			t.Fatalf("the list of keys shows a secret")
		}
		id := attr(list.Body[strings.Index(list.Body, "new checkout"):], "action")
		admin.post(id, nil).wantRedirect(t, "/console/keys?notice=key-revoked")
		want401(t, b.c.do(t, "GET", "/v1/stores/"+b.shop.ID, secret, nil))
		admin.post(id, nil).want(t, http.StatusConflict, "already revoked")
	})
}

// TestConsoleSessionShared checks that two servers on one database, as two
// processes, share sessions: made on one, used on the other, and ended
// on either by a sign-out.
func TestConsoleSessionShared(t *testing.T) {
	t.Parallel()
	for _, database := range []string{"sqlite", "postgres"} {
		t.Run(database, func(t *testing.T) {
			t.Parallel()
			st1, st2 := dbtest.OpenShared(t, database)
			b1 := newBundle(t, st1)
			// The second process finds the database bootstrapped.
			svc2 := engine.New(engine.Config{DB: st2, Clock: b1.clock})
			ts2 := httptest.NewServer(NewServer(Config{Service: svc2, Registry: prometheus.NewRegistry()}))
			t.Cleanup(ts2.Close)
			c := b1.signIn(t, b1.admin)
			c.get("/console/stores").want(t, http.StatusOK)
			on2 := newConsoleClient(t, ts2.URL)
			on2.session = c.session
			on2.get("/console/stores").want(t, http.StatusOK)
			on2.post("/console/sign-out", nil).wantRedirect(t, "/console/sign-in")
			c.get("/console/stores").wantRedirect(t, "/console/sign-in")
		})
	}
}

// TestConsoleDisabled checks that a server without the console answers its
// paths as any unknown path, with the API's 404 problem.
func TestConsoleDisabled(t *testing.T) {
	t.Parallel()
	b := newBundle(t, dbtest.OpenSQLite(t), func(c *Config) { c.DisableConsole = true })
	for _, path := range []string{"/console/", "/console/sign-in", "/console/assets/console.css"} {
		r := b.c.do(t, "GET", path, "", nil)
		if r.StatusCode != http.StatusNotFound || r.Problem.Code != promokit.ENotFound {
			t.Fatalf("GET %s without the console: %d %s", path, r.StatusCode, r.Body)
		}
	}
}

// TestConsoleAssets checks that the stylesheet and the script are served
// with their types, cached for long under their hashed URL, and that an
// unknown asset is the 404 page.
func TestConsoleAssets(t *testing.T) {
	t.Parallel()
	b := newBundle(t, dbtest.OpenSQLite(t))
	c := newConsoleClient(t, b.c.base)
	page := c.get("/console/sign-in").Body
	for name, ct := range map[string]string{"console.css": "text/css", "console.js": "text/javascript"} {
		_, rest, ok := strings.Cut(page, "/console/assets/"+name+"?v=")
		if !ok {
			t.Fatalf("the page does not link %s", name)
		}
		v, _, _ := strings.Cut(rest, `"`)
		r := c.get("/console/assets/" + name + "?v=" + v)
		if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), ct) ||
			!strings.Contains(r.Header.Get("Cache-Control"), "immutable") || r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%s: %d %v", name, r.StatusCode, r.Header)
		}
		if r := c.get("/console/assets/"+name, "If-None-Match", r.Header.Get("ETag")); r.StatusCode != http.StatusNotModified {
			t.Fatalf("%s with its ETag: %d", name, r.StatusCode)
		}
	}
	want404(t, c.get("/console/assets/nope.js"))
}

// TestConsolePageSizes checks the bytes a browser loads for each page: its
// HTML, the stylesheet and the script together stay within 100 KB, the
// dashboard at its longest period included.
func TestConsolePageSizes(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.OpenSQLite)
	admin := b.signIn(t, b.admin)
	assets := 0
	parsed, err := parsedConsole()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range parsed.assets {
		assets += len(a.body)
	}
	const limit = 100_000
	pages := map[*consoleClient][]string{
		admin: {"/console/dashboard?days=7", "/console/dashboard", "/console/dashboard?days=90", "/console/stores", "/console/stores/" + b.shop.ID,
			"/console/partners", "/console/partners/" + b.partnr.ID, "/console/keys", "/console/settings"},
		b.signIn(t, b.seller):         {"/console/", "/console/payouts", "/console/payouts/" + b.payouts().proved.ID, "/console/statement"},
		b.signIn(t, b.partner):        append([]string{"/console/"}, partnerPages(t, b)...),
		newConsoleClient(t, b.c.base): {"/console/sign-in"},
	}
	for c, paths := range pages {
		for _, path := range paths {
			r := c.get(path)
			r.want(t, http.StatusOK)
			if total := len(r.Body) + assets; total > limit {
				t.Errorf("%s: %d bytes of HTML and %d of CSS and JS: %d, over %d", path, len(r.Body), assets, total, limit)
			}
		}
	}
}
