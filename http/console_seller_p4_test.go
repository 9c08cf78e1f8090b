package http

import (
	"context"
	"fmt"
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

// p4Fixture is a store under P4 with two products, its seller and a code,
// and a second store under P4 with its seller and a code: the P4 tab's
// own store and a foreign one of the same kind.
type p4Fixture struct {
	store, rival   *promokit.Store
	seller, foeKey string // key secrets
	code, rivalKey string // a code of each store
	promo          *promokit.Promotion
}

// setupP4 adds the P4 stores to b. Their codes run from now for a week.
func setupP4(t *testing.T, b *testBundle) *p4Fixture {
	t.Helper()
	f := &p4Fixture{code: "P4-FIXED", rivalKey: "RIVAL-1"}
	f.store = mustCreate[promokit.Store](t, b, b.admin, "POST", "/v1/stores", map[string]any{"name": "Module Maker", "partner_promo_codes": true})
	f.rival = mustCreate[promokit.Store](t, b, b.admin, "POST", "/v1/stores", map[string]any{"name": "Rival Modules", "partner_promo_codes": true})
	f.seller = mustCreate[keyJSON](t, b, b.admin, "POST", "/v1/keys", map[string]any{"name": "p4 seller", "role": "seller", "store_id": f.store.ID}).Secret
	f.foeKey = mustCreate[keyJSON](t, b, b.admin, "POST", "/v1/keys", map[string]any{"name": "rival seller", "role": "seller", "store_id": f.rival.ID}).Secret
	for _, p := range [][3]string{{f.store.ID, "seo-module", "SEO module"}, {f.store.ID, "backup-module", "Backup module"}, {f.rival.ID, "rival-module", "Rival module"}} {
		mustDo(t, b, b.admin, "PUT", "/v1/stores/"+p[0]+"/products/"+p[1], map[string]any{"name": p[2]}, http.StatusOK)
	}
	admin := promokit.NewContext(context.Background(), promokit.Principal{Role: promokit.RoleAdmin})
	for _, c := range []struct {
		store, product, code string
		promo                **promokit.Promotion
	}{{f.store.ID, "seo-module", f.code, &f.promo}, {f.rival.ID, "rival-module", f.rivalKey, nil}} {
		p, _, err := b.svc.CreatePromotionWithCode(admin, p4PromotionInput(b, c.store, c.product), engine.CodeInput{Code: c.code})
		if err != nil {
			t.Fatal(err)
		}
		if c.promo != nil {
			*c.promo = p
		}
	}
	return f
}

// p4PromotionInput is a promotion within P4's shipped limits.
func p4PromotionInput(b *testBundle, store, product string) engine.PromotionInput {
	typ, pct, now := promokit.PercentOff, promokit.BasisPoints(2000), b.clock.Now()
	return engine.PromotionInput{StoreID: store, Name: ptr("Fixed " + product), Type: &typ, PercentOff: &pct, ProductIDs: &[]string{product},
		StartsAt: &now, EndsAt: engine.Nullable[time.Time]{Set: true, Value: now.AddDate(0, 0, 7)},
		TotalUses: engine.Nullable[int64]{Set: true, Value: 20}, PerCustomer: engine.Nullable[int64]{Set: true, Value: 2}}
}

// p4ScopeCases adds the P4 routes' paths and forms to TestConsoleScope's,
// with the P4 stores they need.
func p4ScopeCases(t *testing.T, b *testBundle, paths map[string]string, forms map[string]url.Values) *p4Fixture {
	t.Helper()
	f := setupP4(t, b)
	for pattern, path := range map[string]string{
		"/console/p4":                         "/console/p4",
		"/console/p4/new":                     "/console/p4/new",
		"/console/p4/codes/{code}/activate":   "/console/p4/codes/" + f.code + "/activate",
		"/console/p4/codes/{code}/deactivate": "/console/p4/codes/" + f.code + "/deactivate",
		"/console/p4/codes.csv":               "/console/p4/codes.csv",
	} {
		paths[pattern] = path
	}
	forms["/console/p4"] = p4Form{Code: "SNEAKY-1", Name: "Sneaky", PercentOff: "1000", ProductIDs: []string{"seo-module"},
		Customers: "all", TotalUses: "5", PerCustomer: "1", StartsAt: "2026-01-01T10:00", EndsAt: "2026-01-08T10:00"}.values()
	return f
}

// values returns the form as a browser sends it.
func (f p4Form) values() url.Values {
	v := url.Values{"code": {f.Code}, "name": {f.Name}, "description": {f.Description}, "percent_off_bp": {f.PercentOff},
		"product_ids": f.ProductIDs, "customers": {f.Customers}, "customer_id": {f.CustomerID},
		"total_uses": {f.TotalUses}, "per_customer": {f.PerCustomer}, "starts_at": {f.StartsAt}, "ends_at": {f.EndsAt}}
	if f.OtherProducts != "" {
		v.Set("other_product_ids", f.OtherProducts)
	}
	return v
}

// checkP4Route checks a P4 route for TestConsoleScope: the admin, a
// partner and the seller of a store not under P4 get the 404 page, the
// seller of another store under P4 the 404 page for a code of the P4
// store, anonymous the sign-in page, and the P4 store's seller the page
// (a GET). Nothing the others send changes the code or makes one.
func checkP4Route(t *testing.T, b *testBundle, f *p4Fixture, rt ConsoleRoute, path string, send func(*consoleClient, ConsoleRoute, string) *consoleResponse,
	admin, partner, seller, anon *consoleClient) {
	t.Helper()
	p4, rival := b.signIn(t, f.seller), b.signIn(t, f.foeKey)
	for _, c := range []*consoleClient{admin, partner, seller} {
		want404(t, send(c, rt, path))
	}
	send(anon, rt, path).wantRedirect(t, "/console/sign-in")
	if strings.Contains(rt.Pattern, "{code}") {
		want404(t, send(rival, rt, path))
	}
	code := decodeAs[promokit.Code](t, mustDo(t, b, b.admin, "GET", "/v1/codes/"+f.code, nil, http.StatusOK))
	if !code.Active {
		t.Fatalf("%s %s by others deactivated the code", rt.Method, path)
	}
	if r := b.c.do(t, "GET", "/v1/codes/SNEAKY-1", b.admin, nil); r.StatusCode != http.StatusNotFound {
		t.Fatalf("%s %s by others made a code: %d", rt.Method, path, r.StatusCode)
	}
	if rt.Method == "GET" {
		send(p4, rt, path).want(t, http.StatusOK)
	}
}

// p4Samples returns the data the P4 tab's templates are rendered with in
// TestConsoleTemplates.
func p4Samples(at time.Time) map[string]*page {
	pol := promokit.DefaultSettings(at).Policy.PartnerCodes
	end, uses, per := at.AddDate(0, 0, 14), int64(20), int64(2)
	p := &promokit.Promotion{ID: "prm_1", StoreID: "sto_1", Name: "SEO <b>Alpha</b>", Type: promokit.PercentOff, PercentOff: 3000, Currency: "USD",
		ProductIDs: []string{"seo-module", "backup-module"}, StartsAt: at, EndsAt: &end, TotalUses: &uses, PerCustomer: &per, Active: true}
	codes := []*engine.StoreCode{
		{Code: &promokit.Code{Code: "SEO-30", PromotionID: "prm_1", Active: true, UsageLimit: &uses, PerCustomerLimit: &per, Uses: 3, CreatedAt: at}, Promotion: p},
		{Code: &promokit.Code{Code: "ANN-30", PromotionID: "prm_1", CustomerID: "cus_<7>", CreatedAt: at}, Promotion: p},
	}
	// The history at its fullest: a page of codes with long names, each
	// of a promotion of many products.
	long := &promokit.Promotion{ID: "prm_2", StoreID: "sto_1", Name: strings.Repeat("N", 200), Type: promokit.PercentOff, PercentOff: 2999,
		Currency: "USD", StartsAt: at, EndsAt: &end, TotalUses: &uses, PerCustomer: &per}
	for i := range 500 {
		long.ProductIDs = append(long.ProductIDs, fmt.Sprintf("%064d", i))
	}
	rows := []p4Row{{StoreCode: codes[0], State: "active", Open: true}, {StoreCode: codes[1], State: "inactive", Open: true}}
	for i := len(rows); i < consolePageSize; i++ {
		c := &promokit.Code{Code: fmt.Sprintf("%064d", i), PromotionID: "prm_2", Active: true, UsageLimit: &uses, PerCustomerLimit: &per,
			CustomerID: strings.Repeat("c", 200), CreatedAt: at}
		rows = append(rows, p4Row{StoreCode: &engine.StoreCode{Code: c, Promotion: long}, State: "promotion inactive", Open: true})
	}
	next := at.AddDate(0, 0, 30)
	q := &engine.CodeQuota{UnderP4: true, Limit: 20, Used: 2, Left: 18, WindowDays: 30, NextFreeAt: &next}
	products := []*promokit.Product{{StoreID: "sto_1", ID: "seo-module", Name: "SEO <b>Alpha</b>"}, {StoreID: "sto_1", ID: "backup-module", Name: "Backup"}}
	formErr := p4FormError(promokit.PolicyError("P4", 3000, 3500, "percent_off_bp may be at most 3000 under P4").On("percent_off_bp"))
	return map[string]*page{
		"p4": {Title: "Partner promo codes", Form: newFormErrors(promokit.Errorf(promokit.EConflict, "code SEO-30 has expired")), Data: &p4Page{
			Quota: q, Policy: pol, Rows: rows,
			Pager: pager{Next: "/console/p4?after=ANN-30"}, After: "X", TimeZone: "UTC"}},
		"p4_new": {Title: "New partner promo code", Form: newFormErrors(formErr), Data: &p4NewPage{
			Form:     p4Form{Code: "SEO-30", PercentOff: "3500", ProductIDs: []string{"seo-module"}, Customers: "one", CustomerID: "cus_<7>"},
			Products: products, MoreProducts: true, Policy: pol, Quota: q, LastEnd: at.AddDate(0, 1, 0), MaxEnd: "2026-02-01T09:00", TimeZone: "UTC"}},
	}
}

// TestConsoleP4 checks the P4 tab as its seller uses it: the promotions
// pages lead to it; the form shows the limits of the policy in force (a
// changed policy changes the page), the quota, and the store's products;
// each refusal comes back next to its field with the rule and the limit,
// and leaves nothing behind; a code is made with its promotion, shows in
// the history, is deactivated and activated, and is in the CSV export;
// its promotion's page has no edit form; the history goes a page at a
// time, newest first.
func TestConsoleP4(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		fx := setupP4(t, b)
		c := b.signIn(t, fx.seller)

		// The Promotions pages are the P4 tab's for this store, and the
		// navigation says so; a store not under P4 keeps its own.
		c.get("/console/promotions").wantRedirect(t, "/console/p4")
		c.get("/console/promotions/new").wantRedirect(t, "/console/p4/new")
		b.signIn(t, b.seller).get("/console/promotions").want(t, http.StatusOK, b.promoName)
		r := c.get("/console/p4")
		r.want(t, http.StatusOK, `<a href="/console/promotions" aria-current="page">Promotions</a>`, "19 of 20 codes left", fx.code,
			"20.00 %", "0 / 20", `href="/console/codes/`+fx.code+`"`, `href="/console/p4/codes.csv"`)
		if strings.Contains(r.Body, fx.rivalKey) {
			t.Fatalf("the tab lists another store's code")
		}

		// The form shows the limits of the policy in force and the
		// store's products, not another store's.
		r = c.get("/console/p4/new")
		r.want(t, http.StatusOK, "at most 30.00 %", "at most 20 in all", `id="limit-per-customer">at most 2<`,
			"a code made now ends by 2026-02-01 09:00 UTC at the latest", "19 of 20 codes left</strong> until 2026-01-31 09:00 UTC",
			`value="seo-module"`, `value="backup-module"`, `max="3000"`, `max="2026-02-01T09:00"`)
		if strings.Contains(r.Body, "rival-module") {
			t.Fatalf("the form offers another store's product")
		}
		st, err := b.svc.Settings(adminCtx())
		if err != nil {
			t.Fatal(err)
		}
		openPreset := promokit.PresetOpen
		if st, err = b.svc.UpdateSettings(adminCtx(), st.Version, engine.SettingsInput{Preset: &openPreset}); err != nil {
			t.Fatal(err)
		}
		c.get("/console/p4/new").want(t, http.StatusOK, "at most 100.00 %", "at most 1000000000 in all", `max="10000"`, "inside the 120 month(s)")
		pol, zone := st.Policy, "Europe/Paris"
		pol.Preset = ""
		pol.PartnerCodes.MaxPercentOff, pol.PartnerCodes.MaxTotalUses, pol.PartnerCodes.MaxUsesPerCustomer = 2500, 10, 1
		pol.PartnerCodes.MaxWindowMonths, pol.PartnerCodes.MaxCodesPerWindow = 2, 5
		if st, err = b.svc.UpdateSettings(adminCtx(), st.Version, engine.SettingsInput{Policy: &pol, TimeZone: &zone}); err != nil {
			t.Fatal(err)
		}
		c.get("/console/p4/new").want(t, http.StatusOK, "at most 25.00 %", "at most 10 in all", `id="limit-per-customer">at most 1<`,
			"inside the 2 month(s)", "ends by 2026-03-01 10:00 CET", "4 of 5 codes left</strong> until 2026-01-31 10:00 CET", `max="2500"`,
			`Starts (Europe/Paris)`, `value="2026-01-01T10:00"`)
		pol.PartnerCodes, zone = promokit.DefaultSettings(jan1()).Policy.PartnerCodes, "UTC"
		if st, err = b.svc.UpdateSettings(adminCtx(), st.Version, engine.SettingsInput{Policy: &pol, TimeZone: &zone}); err != nil {
			t.Fatal(err)
		}

		// Each refusal is shown next to its field, with the rule and the
		// limit, and what was typed is kept; nothing is made.
		good := p4Form{Code: "SEO-30", Name: "SEO launch", Description: "30% off the SEO module", PercentOff: "3000",
			ProductIDs: []string{"seo-module"}, Customers: "all", TotalUses: "20", PerCustomer: "2",
			StartsAt: "2026-01-01T10:00", EndsAt: "2026-01-15T10:00"}
		for name, tt := range map[string]struct {
			change func(*p4Form)
			status int
			texts  []string
		}{
			"31 %": {func(f *p4Form) { f.PercentOff = "3100" }, http.StatusUnprocessableEntity,
				[]string{`id="f-percent_off_bp-error"`, "Rule P4: the limit is 3000, and this would make 3100.", `value="3100"`}},
			"21 uses": {func(f *p4Form) { f.TotalUses = "21" }, http.StatusUnprocessableEntity,
				[]string{`id="f-total_uses-error"`, "Rule P4: the limit is 20, and this would make 21."}},
			"3 per customer": {func(f *p4Form) { f.PerCustomer = "3" }, http.StatusUnprocessableEntity,
				[]string{`id="f-per_customer-error"`, "Rule P4: the limit is 2, and this would make 3."}},
			"no product": {func(f *p4Form) { f.ProductIDs = nil }, http.StatusUnprocessableEntity,
				[]string{`id="f-product_ids-error"`, "not the whole catalogue. Rule P4: the limit is 1"}},
			"past the month": {func(f *p4Form) { f.EndsAt = "2026-02-01T10:01" }, http.StatusUnprocessableEntity,
				[]string{`id="f-ends_at-error"`, "Rule P4: the limit is 31, and this would make 32."}},
			"another store's product": {func(f *p4Form) { f.ProductIDs = []string{"rival-module"} }, http.StatusUnprocessableEntity,
				[]string{`id="f-product_ids-error"`, "is not a product of store"}},
			"one customer, unnamed": {func(f *p4Form) { f.Customers = "one" }, http.StatusUnprocessableEntity,
				[]string{`id="f-customer_id-error"`, `id="f-customers-one" name="customers" value="one" checked`}},
			"the value taken": {func(f *p4Form) { f.Code = strings.ToLower(fx.code) }, http.StatusConflict,
				[]string{`id="f-code-error"`}},
			"a bad value": {func(f *p4Form) { f.Code = "no way" }, http.StatusUnprocessableEntity,
				[]string{`id="f-code-error"`}},
		} {
			form := good
			tt.change(&form)
			r := c.post("/console/p4", form.values())
			r.want(t, tt.status, append([]string{`id="error-summary"`, `value="SEO launch"`}, tt.texts...)...)
			if n := len(mustListPromotions(t, b, fx.seller)); n != 1 {
				t.Fatalf("%s: the store has %d promotions, want its first alone", name, n)
			}
		}

		// A code within the limits is made with its promotion.
		form := good
		form.ProductIDs = []string{"seo-module", "backup-module"}
		c.post("/console/p4", form.values()).wantRedirect(t, "/console/p4?notice=p4-created")
		r = c.get("/console/p4?notice=p4-created")
		r.want(t, http.StatusOK, "The code was created, with its promotion.", "18 of 20 codes left", "SEO-30", "SEO launch",
			"30.00 %", "<code>seo-module</code>, <code>backup-module</code>", `aria-label="Deactivate SEO-30"`)
		if strings.Index(r.Body, "SEO-30") > strings.Index(r.Body, fx.code) {
			t.Fatalf("the history is not newest first")
		}
		code := decodeAs[promokit.Code](t, mustDo(t, b, fx.seller, "GET", "/v1/codes/SEO-30", nil, http.StatusOK))
		if *code.UsageLimit != 20 || *code.PerCustomerLimit != 2 || code.CustomerID != "" {
			t.Fatalf("the code %+v", code)
		}

		// Deactivated, then activated again.
		c.post("/console/p4/codes/SEO-30/deactivate", url.Values{"after": {""}}).wantRedirect(t, "/console/p4?notice=p4-deactivated")
		r = c.get("/console/p4")
		r.want(t, http.StatusOK, `aria-label="Activate SEO-30"`)
		if !regexp.MustCompile(`SEO-30</code></a><br><span class="fine">SEO launch</span></th>\s*<td class="state">inactive</td>`).MatchString(r.Body) {
			t.Fatalf("the code is not shown inactive:\n%s", r.Body)
		}
		c.post("/console/p4/codes/SEO-30/activate", url.Values{"after": {"X-1"}}).wantRedirect(t, "/console/p4?after=X-1&notice=p4-activated")
		c.get("/console/p4").want(t, http.StatusOK, `aria-label="Deactivate SEO-30"`)
		want404(t, c.post("/console/p4/codes/"+fx.rivalKey+"/deactivate", nil))

		// The export holds every code with its settings.
		csv := c.get("/console/p4/codes.csv")
		if csv.StatusCode != http.StatusOK || !strings.HasPrefix(csv.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(csv.Header.Get("Content-Disposition"), "store-"+fx.store.ID+"-codes.csv") ||
			strings.Count(csv.Body, "\n") != 3 || !strings.Contains(csv.Body, "30% off the SEO module") || strings.Contains(csv.Body, fx.rivalKey) {
			t.Fatalf("export: %d %v\n%s", csv.StatusCode, csv.Header, csv.Body)
		}

		// Immutable: the promotion's page has no edit form, and an edit is
		// refused.
		r = c.get("/console/promotions/" + fx.promo.ID)
		r.want(t, http.StatusOK, `id="p4-immutable"`)
		if strings.Contains(r.Body, "Edit the terms") {
			t.Fatalf("a P4 promotion offers its terms' form")
		}
		c.post("/console/promotions/"+fx.promo.ID, url.Values{"name": {"Renamed"}, "type": {"percent_off"}, "percent_off_bp": {"1000"},
			"channel": {"store"}, "version": {"1"}}).want(t, http.StatusConflict, "Rule P4")

		// The quota: with one code left in the policy's window, the next
		// code is refused next to the quota.
		pol.PartnerCodes.MaxCodesPerWindow = 2
		if st, err = b.svc.UpdateSettings(adminCtx(), st.Version, engine.SettingsInput{Policy: &pol}); err != nil {
			t.Fatal(err)
		}
		c.get("/console/p4/new").want(t, http.StatusOK, "0 of 2 codes left</strong> until 2026-01-31 09:00 UTC")
		form.Code = "SEO-31"
		c.post("/console/p4", form.values()).want(t, http.StatusUnprocessableEntity, `id="f-quota-error"`,
			"Rule P4: the limit is 2, and this would make 2.")
		if n := len(mustListPromotions(t, b, fx.seller)); n != 2 {
			t.Fatalf("a code past the quota left a promotion: %d", n)
		}

		// A page at a time, newest first: 55 more codes of one promotion.
		pol.PartnerCodes.MaxCodesPerWindow = 100
		if _, err = b.svc.UpdateSettings(adminCtx(), st.Version, engine.SettingsInput{Policy: &pol}); err != nil {
			t.Fatal(err)
		}
		mustDo(t, b, fx.seller, "POST", "/v1/promotions/"+fx.promo.ID+"/code-jobs", map[string]any{"count": 55, "length": 10, "prefix": "GEN"}, http.StatusAccepted)
		r = c.get("/console/p4")
		r.want(t, http.StatusOK, `rel="next"`, "43 of 100 codes left")
		if n := strings.Count(r.Body, `<tr><th scope="row">`); n != consolePageSize {
			t.Fatalf("the first page shows %d codes, want %d", n, consolePageSize)
		}
		if strings.Contains(r.Body, "SEO-30") {
			t.Fatalf("the first page shows the oldest codes")
		}
		next := regexp.MustCompile(`href="(/console/p4\?after=[^"]+)" rel="next"`).FindStringSubmatch(r.Body)
		if next == nil {
			t.Fatalf("no next page link")
		}
		r = c.get(strings.ReplaceAll(next[1], "&amp;", "&"))
		r.want(t, http.StatusOK, "SEO-30", fx.code, "First page")
		if n := strings.Count(r.Body, `<tr><th scope="row">`); n != 57-consolePageSize {
			t.Fatalf("the second page shows %d codes, want %d", n, 57-consolePageSize)
		}

		// Once its window has passed, a code ends: no button changes it,
		// and a change sent anyway is refused on the tab.
		b.clock.Set(jan1().AddDate(0, 0, 20))
		c = b.signIn(t, fx.seller)
		r = c.get(strings.ReplaceAll(next[1], "&amp;", "&"))
		if !regexp.MustCompile(`SEO-30</code></a><br><span class="fine">SEO launch</span></th>\s*<td class="state">ended</td>`).MatchString(r.Body) ||
			strings.Contains(r.Body, `aria-label="Deactivate SEO-30"`) {
			t.Fatalf("the ended code is not shown ended, without a button:\n%s", r.Body)
		}
		c.post("/console/p4/codes/SEO-30/deactivate", nil).want(t, http.StatusConflict, `id="error-summary"`, "code SEO-30 has expired")
	})
}

// mustListPromotions lists the promotions of key's store.
func mustListPromotions(t *testing.T, b *testBundle, key string) []promotionOut {
	t.Helper()
	r := mustDo(t, b, key, "GET", "/v1/promotions?limit=1000", nil, http.StatusOK)
	return decodeAs[struct {
		Data []promotionOut `json:"data"`
	}](t, r).Data
}

// adminCtx is the admin's context for the engine's calls.
func adminCtx() context.Context {
	return promokit.NewContext(context.Background(), promokit.Principal{Role: promokit.RoleAdmin})
}

// TestConsoleSellerTimeZone checks that a seller's promotion and code
// pages show times in the marketplace's time zone, the one their forms
// read.
func TestConsoleSellerTimeZone(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.OpenSQLite)
	st, err := b.svc.Settings(adminCtx())
	if err != nil {
		t.Fatal(err)
	}
	zone := "America/New_York"
	if _, err := b.svc.UpdateSettings(adminCtx(), st.Version, engine.SettingsInput{TimeZone: &zone}); err != nil {
		t.Fatal(err)
	}
	seller := b.signIn(t, b.seller)
	// The promotion starts on January 2 at 9:00 UTC: 4:00 in New York.
	seller.get("/console/promotions").want(t, http.StatusOK, "2026-01-02 04:00 EST")
	p := "/console/promotions/" + b.promo.ID
	seller.get(p).want(t, http.StatusOK, "2026-01-02 04:00 EST", `value="2026-01-02T04:00"`)
	// The codes were made on January 1 at 9:00 UTC: 4:00 in New York.
	seller.get(p+"/codes").want(t, http.StatusOK, "<td>2026-01-01</td>")
	seller.get("/console/codes/"+b.shopCode).want(t, http.StatusOK, "<dd>2026-01-01 04:00 EST</dd>")
	// Late in the evening of December 31 in New York is January 1 in UTC.
	b.clock.Set(time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC))
	mustDo(t, b, b.seller, "POST", "/v1/promotions/"+b.promo.ID+"/codes", map[string]any{"code": "NEW-YEAR"}, http.StatusCreated)
	seller = b.signIn(t, b.seller)
	seller.get(p+"/codes").want(t, http.StatusOK, "<td>2025-12-31</td>")
}
