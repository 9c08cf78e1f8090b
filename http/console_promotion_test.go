package http

import (
	"bytes"
	"maps"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// sellerScopeCases returns the path and the form of each seller route,
// for TestConsoleScope: objects of the bundle's shop.
func sellerScopeCases(b *testBundle) (map[string]string, map[string]url.Values) {
	p := "/console/promotions/" + b.promo.ID
	paths := map[string]string{
		"/console/promotions":                     "/console/promotions",
		"/console/promotions/new":                 "/console/promotions/new",
		"/console/promotions/{id}":                p,
		"/console/promotions/{id}/activate":       p + "/activate",
		"/console/promotions/{id}/deactivate":     p + "/deactivate",
		"/console/promotions/{id}/end":            p + "/end",
		"/console/promotions/{id}/codes":          p + "/codes",
		"/console/promotions/{id}/codes/generate": p + "/codes/generate",
		"/console/promotions/{id}/codes/import":   p + "/codes/import",
		"/console/promotions/{id}/codes.csv":      p + "/codes.csv",
		"/console/jobs/{id}":                      "/console/jobs/" + b.jobID,
		"/console/jobs/{id}/progress":             "/console/jobs/" + b.jobID + "/progress",
		"/console/codes":                          "/console/codes",
		"/console/codes/{code}":                   "/console/codes/" + b.shopCode,
	}
	forms := map[string]url.Values{
		"/console/promotions":                     {"name": {"Sneaky Promotion"}, "type": {"percent_off"}, "percent_off_bp": {"500"}, "channel": {"store"}},
		"/console/promotions/{id}":                {"name": {"Renamed"}, "type": {"percent_off"}, "percent_off_bp": {"500"}, "channel": {"store"}, "version": {"1"}},
		"/console/promotions/{id}/codes/generate": {"count": {"5"}, "length": {"8"}},
	}
	moneyPaths, moneyForms := sellerMoneyScopeCases(b)
	maps.Copy(paths, moneyPaths)
	maps.Copy(forms, moneyForms)
	return paths, forms
}

// checkSellerRoute checks a seller route for TestConsoleScope: the admin
// and a partner get the 404 page, anonymous the sign-in page, a foreign
// seller the 404 page for the shop's objects, and the shop's seller the
// page (a GET; a form is the page tests' to send).
func checkSellerRoute(t *testing.T, rt ConsoleRoute, path string, send func(*consoleClient, ConsoleRoute, string) *consoleResponse,
	seller, foreign, admin, partner, anon *consoleClient) {
	t.Helper()
	for name, c := range map[string]*consoleClient{"admin": admin, "partner": partner} {
		if r := send(c, rt, path); r.StatusCode != http.StatusNotFound {
			t.Fatalf("%s: %s %s = %d, want the 404 page", name, rt.Method, path, r.StatusCode)
		}
	}
	send(anon, rt, path).wantRedirect(t, "/console/sign-in")
	object := strings.Contains(rt.Pattern, "{")
	if object {
		want404(t, send(foreign, rt, path))
	}
	if rt.Method == "GET" {
		if r := send(seller, rt, path); r.StatusCode != http.StatusOK {
			t.Fatalf("seller: %s %s = %d:\n%s", rt.Method, path, r.StatusCode, r.Body)
		}
	}
}

// TestConsolePromotions checks the seller's promotion pages: the list and
// its filters, creation with errors next to their fields, an edit before
// the start (and a stale one), activation, deactivation and the end, and
// that another store's seller gets 404 pages and changes nothing.
func TestConsolePromotions(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		seller, foreign := b.signIn(t, b.seller), b.signIn(t, b.foreign)

		r := seller.get("/console/promotions")
		r.want(t, http.StatusOK, b.promoName, `href="/console/promotions/new"`, `aria-current="page"`)
		if strings.Contains(r.Body, b.otherPName) {
			t.Fatalf("the list shows another store's promotion")
		}
		seller.get("/console/promotions?name=SPRING").want(t, http.StatusOK, b.promoName)
		if r := seller.get("/console/promotions?name=winter"); strings.Contains(r.Body, b.promoName) {
			t.Fatalf("the name filter keeps %q", b.promoName)
		}
		seller.get("/console/promotions?status=ended").want(t, http.StatusOK, "No promotions match.")
		seller.get("/console/promotions?status=scheduled&channel=store").want(t, http.StatusOK, b.promoName)
		seller.get("/console/promotions?status=bogus").want(t, http.StatusUnprocessableEntity)

		// A refused form keeps what was typed and shows each error next
		// to its input.
		seller.get("/console/promotions/new").want(t, http.StatusOK, `name="starts_at"`, "Create the promotion")
		r = seller.post("/console/promotions", url.Values{"name": {""}, "channel": {"store"}, "type": {"percent_off"},
			"percent_off_bp": {"20000"}, "description": {"kept text"}, "starts_at": {"2026-01-05T10:00"}})
		r.want(t, http.StatusUnprocessableEntity, `id="error-summary"`, `id="f-name-error"`, `id="f-percent_off_bp-error"`, "kept text")
		r = seller.post("/console/promotions", url.Values{"name": {"X"}, "channel": {"store"}, "type": {"percent_off"},
			"percent_off_bp": {"ten"}, "starts_at": {"soon"}})
		r.want(t, http.StatusUnprocessableEntity, `id="f-percent_off_bp-error"`, `id="f-starts_at-error"`)

		r = seller.post("/console/promotions", url.Values{"name": {"Console Summer"}, "channel": {"store"}, "type": {"amount_off"},
			"amount_off": {"250"}, "min_order_amount": {"3000"}, "starts_at": {"2026-02-01T00:00"}, "total_uses": {"100"}})
		r.wantRedirect(t, "/console/promotions/prm_")
		path := strings.SplitN(r.Header.Get("Location"), "?", 2)[0]
		r = seller.get(path + "?notice=promotion-created")
		r.want(t, http.StatusOK, "The promotion was created.", "Console Summer", "scheduled", "Edit the terms", "of 100")
		version := regexp.MustCompile(`name="version" value="(\d+)"`).FindStringSubmatch(r.Body)
		if version == nil {
			t.Fatalf("no version in the edit form:\n%s", r.Body)
		}
		edit := url.Values{"name": {"Console Summer II"}, "channel": {"store"}, "type": {"amount_off"}, "amount_off": {"300"},
			"starts_at": {"2026-02-01T00:00"}, "version": {version[1]}}
		seller.post(path, edit).wantRedirect(t, path+"?notice=promotion-saved")
		seller.post(path, edit).want(t, http.StatusPreconditionFailed, "Console Summer II")
		seller.get(path).want(t, http.StatusOK, "Console Summer II", "3.00")

		// Another store's seller sees none of it and changes nothing.
		want404(t, foreign.get(path))
		want404(t, foreign.post(path+"/end", nil))
		want404(t, foreign.post(path, edit))
		if r := foreign.get("/console/promotions?name=console"); strings.Contains(r.Body, "Console Summer") {
			t.Fatalf("another store lists the promotion")
		}

		seller.post(path+"/deactivate", nil).wantRedirect(t, path+"?notice=promotion-deactivated")
		seller.get(path).want(t, http.StatusOK, `<strong id="state">inactive</strong>`, "Activate")
		seller.post(path+"/activate", nil).wantRedirect(t, path+"?notice=promotion-activated")
		seller.get(path).want(t, http.StatusOK, `<strong id="state">scheduled</strong>`, "Deactivate")
		seller.post(path+"/end", nil).wantRedirect(t, path+"?notice=promotion-ended")
		r = seller.get(path)
		r.want(t, http.StatusOK, `<strong id="state">ended</strong>`)
		if strings.Contains(r.Body, "/activate") || strings.Contains(r.Body, "Edit the terms") {
			t.Fatalf("an ended promotion offers a change:\n%s", r.Body)
		}
		seller.post(path+"/activate", nil).want(t, http.StatusConflict, `id="error-summary"`)
		seller.get("/console/promotions?status=ended").want(t, http.StatusOK, "Console Summer II")
	})
}

// TestConsolePromotionUses checks a promotion's chart of uses per day:
// none before its start; then the uses that stand (a rolled-back one is
// none) in an SVG that names itself, with the same figures in a table;
// the period's choices; a period that is not a number of days refused
// next to nothing else; and another store's seller, to whom the page is
// a 404 whatever the period.
func TestConsolePromotionUses(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		path := "/console/promotions/" + b.promo.ID
		if r := b.signIn(t, b.seller).get(path); r.StatusCode != http.StatusOK || strings.Contains(r.Body, "Uses per day") {
			t.Fatalf("a promotion that has not started: %d, with a chart: %v", r.StatusCode, strings.Contains(r.Body, "Uses per day"))
		}

		b.clock.Set(jan1().Add(48 * time.Hour)) // Jan 3: the promotion has started
		mustDo(t, b, b.checkout, "POST", "/v1/redeem", cartBody(b, "ord-1"), http.StatusCreated)
		mustDo(t, b, b.checkout, "POST", "/v1/redeem", cartBody(b, "ord-2"), http.StatusCreated)
		mustDo(t, b, b.checkout, "POST", "/v1/stores/"+b.shop.ID+"/orders/ord-2/rollback", nil, http.StatusOK)
		seller, foreign := b.signIn(t, b.seller), b.signIn(t, b.foreign)

		r := seller.get(path)
		r.want(t, http.StatusOK, `<section class="card" id="uses" aria-labelledby="uses-h">`, `<strong id="uses-total">1</strong> uses in the last 30 days`,
			`<svg class="chart"`, `role="img" aria-label="Uses per day"`, "<title>Jan 3: 1 uses</title>", "<title>Jan 2: 0 uses</title>",
			`<caption>Uses per day, in UTC</caption>`, `<th scope="row">Sat Jan 3, 2026</th><td class="num">1</td>`,
			`href="`+path+`?days=7#uses"`, `href="`+path+`?days=30#uses" aria-current="true"`)
		if n := strings.Count(r.Body, `<rect class="bar"`); n != 30 {
			t.Fatalf("%d bars, want one per day of 30", n)
		}
		r = seller.get(path + "?days=7")
		r.want(t, http.StatusOK, `href="`+path+`?days=7#uses" aria-current="true"`, "in the last 7 days", `<th scope="row">Sun Dec 28, 2025</th>`)
		if n := strings.Count(r.Body, `<th scope="row">`); n != 7 || strings.Contains(r.Body, "Dec 27, 2025") {
			t.Fatalf("%d days in the table, want 7 from Dec 28", n)
		}
		seller.get(path+"?days=seven").want(t, http.StatusUnprocessableEntity, "days must be a whole number")
		seller.get(path+"?days=0").want(t, http.StatusUnprocessableEntity, "days must be between 1 and 92")

		want404(t, foreign.get(path+"?days=7"))
		want404(t, foreign.get(path+"?days=seven"))
		want404(t, seller.get("/console/promotions/"+b.otherPromo.ID+"?days=7"))
	})
}

// multipartCSV returns a multipart form body with a file part holding
// body, and its content type.
func multipartCSV(t *testing.T, body string) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", "codes.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write([]byte(body)); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, mw.FormDataContentType()
}

// upload posts a CSV file to path as the import form does.
func (c *consoleClient) upload(path, body string) *consoleResponse {
	c.t.Helper()
	buf, ct := multipartCSV(c.t, body)
	req, err := http.NewRequest("POST", c.base+path, buf)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	req.AddCookie(&http.Cookie{Name: consoleCookie, Value: c.session})
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	if _, err := out.ReadFrom(resp.Body); err != nil {
		c.t.Fatal(err)
	}
	return &consoleResponse{Response: resp, Body: out.String()}
}

// TestConsoleCodes checks the pages of a promotion's codes: generation as
// a job with its progress page and the progress the script reads, the
// import of a CSV file with its bad rows in a table, the export, the list,
// and a code's page with its uses; another store's seller gets 404 pages.
func TestConsoleCodes(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		seller, foreign := b.signIn(t, b.seller), b.signIn(t, b.foreign)
		p := "/console/promotions/" + b.promo.ID

		seller.post(p+"/codes/generate", url.Values{"count": {"0"}, "length": {"8"}}).
			want(t, http.StatusUnprocessableEntity, `id="f-count-error"`, "count must be between 1")
		r := seller.post(p+"/codes/generate", url.Values{"count": {"25"}, "length": {"8"}, "prefix": {"gen"}})
		r.wantRedirect(t, "/console/jobs/job_")
		job := r.Header.Get("Location")
		seller.get(job).want(t, http.StatusOK, `<progress id="job-bar" max="25" value="0">`, `<noscript><meta http-equiv="refresh" content="2"></noscript>`, "queued")
		seller.get(job+"/progress").want(t, http.StatusOK, `"state":"queued"`, `"total":25`)
		want404(t, foreign.get(job))
		want404(t, foreign.get(job+"/progress"))
		for {
			ran, err := b.svc.RunOneJob(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if !ran {
				break
			}
		}
		r = seller.get(job)
		r.want(t, http.StatusOK, `<progress id="job-bar" max="25" value="25">`, "succeeded", "See the codes")
		if strings.Contains(r.Body, "refresh") {
			t.Fatalf("a finished job's page reloads itself")
		}
		seller.get(job+"/progress").want(t, http.StatusOK, `"state":"succeeded"`, `"done":25`)
		seller.get(p+"/codes").want(t, http.StatusOK, "GEN", b.shopCode)

		// An import with a bad row writes nothing and shows the row.
		bad := "code,usage_limit\nIMPORT-1,5\nIMPORT-2,lots\n" + b.shopCode + ",1\n"
		r = seller.upload(p+"/codes/import", bad)
		r.want(t, http.StatusUnprocessableEntity, `<table id="row-errors">`, "row 3", "nothing was imported")
		if r := seller.get(p + "/codes"); strings.Contains(r.Body, "IMPORT-1") {
			t.Fatalf("a refused import wrote a code")
		}
		seller.upload(p+"/codes/import", "code,usage_limit\nIMPORT-1,5\nIMPORT-2,7\n").wantRedirect(t, p+"?notice=imported")
		seller.get("/console/codes/import-2").want(t, http.StatusOK, "7", b.promoName)
		want404(t, foreign.upload(p+"/codes/import", "code\nFOREIGN-1\n"))
		seller.post(p+"/codes/import", url.Values{}).want(t, http.StatusUnprocessableEntity, "choose a CSV file")

		// The export streams every code as CSV.
		r = seller.get(p + "/codes.csv")
		if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("export: %d %v", r.StatusCode, r.Header)
		}
		if n := strings.Count(r.Body, "\n"); n != 1+2+3+25+2 || !strings.Contains(r.Body, "IMPORT-2") {
			t.Fatalf("export: %d lines:\n%s", n, r.Body)
		}
		want404(t, foreign.get(p+"/codes.csv"))

		// A code's page shows its uses; another store's code is a 404.
		b.clock.Set(jan1().Add(48 * time.Hour)) // the promotion has started
		mustDo(t, b, b.checkout, "POST", "/v1/redeem", cartBody(b, "ord-1"), http.StatusCreated)
		seller, foreign = b.signIn(t, b.seller), b.signIn(t, b.foreign) // the sessions idled out
		seller.get("/console/codes?code="+strings.ToLower(b.shopCode)).wantRedirect(t, "/console/codes/"+b.shopCode)
		seller.get("/console/codes/"+b.shopCode).want(t, http.StatusOK, "ord-1", "redeemed")
		want404(t, seller.get("/console/codes/"+b.otherCode))
		want404(t, foreign.get("/console/codes/"+b.shopCode))
		seller.get("/console/codes").want(t, http.StatusOK, `name="code"`)
	})
}

// sellerSamples returns the data the seller's page templates are rendered
// with in TestConsoleTemplates.
func sellerSamples() map[string]*page {
	at := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	end, limit := at.AddDate(0, 1, 0), int64(100)
	p := &promokit.Promotion{ID: "prm_1", StoreID: "sto_1", Name: "Spring <b>Alpha</b>", Channel: promokit.ChannelStore,
		Type: promokit.AmountOff, AmountOff: 250, Currency: "USD", MinOrder: 3000, StartsAt: at, EndsAt: &end,
		TotalUses: &limit, Active: true, Version: 2, Uses: 7}
	codes := []*promokit.Code{{Code: "SPRING-1", PromotionID: "prm_1", Active: true, UsageLimit: &limit, Uses: 3, CreatedAt: at},
		{Code: "SPRING-2", PromotionID: "prm_1", PartnerID: "par_1", CreatedAt: at}}
	amount, state := int64(5000), "completed"
	uses := []*engine.CodeUse{{Redemption: &promokit.Redemption{OrderID: "ord-<1>", Code: "SPRING-1", Discount: 250, State: "redeemed", CreatedAt: at},
		Amount: &amount, OrderState: &state}}
	rowErr := newFormErrors(&promokit.Error{Code: promokit.EInvalid, Message: "the import has 1 invalid row(s)"})
	pp := &promotionPage{P: p, Status: promokit.StatusActive, Editable: true, Form: newPromotionForm(p, time.UTC),
		Channels: promotionChannels, Currency: "USD", TimeZone: "UTC", Codes: codes, More: true,
		Gen: genForm{Count: "10", Length: "8"}, ImportErr: []promokit.FieldError{{Field: "row 3", Code: "invalid", Message: "usage_limit: not a number"}},
		Uses:      &engine.PromotionUses{TimeZone: "UTC", Days: []engine.DayUses{{Day: at, Uses: 3}, {Day: at.AddDate(0, 0, 1), Uses: 4}}},
		UsesTotal: 7, Period: period{Path: "/console/promotions/prm_1", Anchor: "uses", Days: 7, Choices: chartDays},
		Chart: Chart{Title: "Uses per day", Unit: "uses", Labels: []string{"Jan 1", "Jan 2"}, Values: []int64{3, 4}}}
	job := &promokit.Job{ID: "job_1", PromotionID: "prm_1", Total: 10000, Done: 2500, State: promokit.JobRunning}
	return map[string]*page{
		"promotions": {Title: "Promotions", Data: promotionsPage{Rows: []promotionRow{{Promotion: p, Status: promokit.StatusActive}},
			Pager: pager{Next: "/console/promotions?after=prm_1"}, Statuses: promotionStatuses, Channels: promotionChannels, Status: "active", Filtered: true}},
		"promotion": {Title: p.Name, Form: rowErr, Data: pp},
		"codes":     {Title: "Codes", Data: codesPage{P: p, Codes: codes, Pager: pager{First: "/x"}}},
		"job":       {Title: "Generating codes", Data: jobPage{Job: job, Percent: 25, Running: true}},
		"code_find": {Title: "Find a code", Form: newFormErrors(invalidField("code", "invalid", "no"))},
		"code":      {Title: "Code SPRING-1", Data: codePage{Code: codes[0], P: p, Uses: uses, Currency: "USD"}},
	}
}
