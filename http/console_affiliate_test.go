package http

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// affiliateScopeCases returns the path and the form of each route of the
// seller's affiliate program, for TestConsoleScope. The remove route
// names a product of the shop: another store's seller gets its 404 page.
func affiliateScopeCases(b *testBundle) (map[string]string, map[string]url.Values) {
	paths := map[string]string{
		"/console/affiliate":                                   "/console/affiliate",
		"/console/affiliate/join":                              "/console/affiliate/join",
		"/console/affiliate/exit":                              "/console/affiliate/exit",
		"/console/affiliate/rate":                              "/console/affiliate/rate",
		"/console/affiliate/product-rates":                     "/console/affiliate/product-rates",
		"/console/affiliate/product-rates/{product_id}/remove": "/console/affiliate/product-rates/sku-1/remove",
		"/console/affiliate/rates":                             "/console/affiliate/rates",
		"/console/affiliate/links":                             "/console/affiliate/links",
	}
	forms := map[string]url.Values{
		"/console/affiliate/join":          {"accept_terms": {"on"}, "rate": {"5"}, "url": {shopURL}},
		"/console/affiliate/rate":          {"rate": {"9"}},
		"/console/affiliate/product-rates": {"product_id": {"sku-1"}, "product_rate": {"9"}},
	}
	return paths, forms
}

// setTokyo moves the marketplace to Asia/Tokyo (UTC+9), with policy when
// it is not nil, so that a page's times and numbers must come from the
// settings.
func setTokyo(t *testing.T, b *testBundle, policy *promokit.AffiliatePolicy) {
	t.Helper()
	st := decodeAs[promokit.Settings](t, mustDo(t, b, b.admin, "GET", "/v1/settings", nil, http.StatusOK))
	in := map[string]any{"time_zone": "Asia/Tokyo"}
	if policy != nil {
		st.Policy.Affiliate, st.Policy.Preset = *policy, ""
		in["policy"] = st.Policy
	}
	mustDo(t, b, b.admin, "PATCH", "/v1/settings", in, http.StatusOK, "If-Match", `"1"`)
}

// programOf reads the shop's program through the API.
func programOf(t *testing.T, b *testBundle) *engine.Program {
	t.Helper()
	return decodeAs[engine.Program](t, mustDo(t, b, b.seller, "GET", "/v1/stores/"+b.shop.ID+"/affiliate", nil, http.StatusOK))
}

// section returns the part of body from the heading of id to the next
// section's end, to check what a form's section shows.
func section(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no section %s:\n%s", id, body)
	}
	j := strings.Index(body[i:], "</section>")
	if j < 0 {
		t.Fatalf("section %s does not end", id)
	}
	return body[i : i+j]
}

// TestConsoleAffiliate walks a seller's affiliate program on its page: the
// agreement with the policy's numbers, the join form's refusals (the
// agreement not accepted, rates that are not a percentage, too precise or
// out of range, a bad page) with nothing written, the join, the general
// and product rates read exactly as basis points, the history newest
// first, a product rate removed, the links with their clicks, and the
// early exit refused beside its form with the dates in the marketplace's
// time zone. Another store's seller sees none of it and changes nothing.
func TestConsoleAffiliate(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		setTokyo(t, b, nil) // January 1, 18:00 in Tokyo; the P2 preset's numbers
		seller, foreign := b.signIn(t, b.seller), b.signIn(t, b.foreign)

		r := seller.get("/console/affiliate")
		r.want(t, http.StatusOK, `<strong id="state">Not in the program</strong>`, `href="/console/affiliate" aria-current="page"`,
			"The program's agreement", "from 0.01 % to 100.00 %", "attributed to that link for 15 calendar days (Asia/Tokyo)",
			"no earlier than 15 days after joining", "rejoin 7 days after its exit took effect",
			`name="accept_terms" required`, "Accept and join", "No rates yet.", "No links yet.")
		if strings.Contains(r.Body, `action="/console/affiliate/exit"`) || strings.Contains(r.Body, `action="/console/affiliate/rate"`) {
			t.Fatalf("a store out of the program is offered an exit or a rate:\n%s", r.Body)
		}

		// Refused joins: each error beside its input, what was typed
		// kept, nothing written.
		join := url.Values{"rate": {"5"}, "url": {shopURL}}
		seller.post("/console/affiliate/join", join).want(t, http.StatusUnprocessableEntity,
			`id="f-accept_terms-error"`, "tick I accept", `value="5"`, `value="`+shopURL+`"`)
		for rate, want := range map[string]string{
			"":                           "The general rate is required",
			"five":                       "must be a percentage such as 5 or 2.5",
			"5,5":                        "must be a percentage such as 5 or 2.5",
			"-1":                         "must be a percentage such as 5 or 2.5",
			"1e2":                        "must be a percentage such as 5 or 2.5",
			"5.255":                      "at most 2 decimals",
			"0.001":                      "at most 2 decimals",
			"0":                          "must be from 0.01 % to 100.00 %",
			"100.01":                     "must be from 0.01 % to 100.00 %",
			"1000000":                    "must be at most 100.00 %",
			"99999999999999999999999999": "must be at most 100.00 %",
		} {
			f := url.Values{"accept_terms": {"on"}, "rate": {rate}, "url": {shopURL}}
			r := seller.post("/console/affiliate/join", f)
			r.want(t, http.StatusUnprocessableEntity, `id="f-rate-error"`, want, `name="accept_terms" required checked`)
		}
		seller.post("/console/affiliate/join", url.Values{"accept_terms": {"on"}, "rate": {"5"}, "url": {"http://127.0.0.1/"}}).
			want(t, http.StatusUnprocessableEntity, `id="f-url-error"`, "domain name")
		if p := programOf(t, b); p.State != engine.ProgramNotJoined {
			t.Fatalf("a refused join wrote: %+v", p)
		}

		// The join: 5.5 % is 550 bp, exactly.
		seller.post("/console/affiliate/join", url.Values{"accept_terms": {"on"}, "rate": {" 5.5 % "}, "url": {shopURL}}).
			wantRedirect(t, "/console/affiliate?notice=affiliate-joined")
		r = seller.get("/console/affiliate?notice=affiliate-joined")
		r.want(t, http.StatusOK, "Your store is in the affiliate program", `<strong id="state">In the program</strong>`,
			`<dd id="general-rate">5.50 %</dd>`, "2026-01-01 18:00 (Asia/Tokyo)", `name="rate" type="text" value="5.50" required inputmode="decimal"`)
		if p := programOf(t, b); p.State != engine.ProgramJoined || p.Rate == nil || *p.Rate != 550 {
			t.Fatalf("after the join: %+v", p)
		}
		if strings.Contains(r.Body, `action="/console/affiliate/join"`) {
			t.Fatalf("a member is offered the join form")
		}
		// The exit's dates before it may be asked: 15 days after joining,
		// taking effect at 0:00 Tokyo time the next day, rejoin 7 days on.
		exit := section(t, r.Body, "exit-h")
		for _, want := range []string{"may exit from <strong>2026-01-16 18:00 (Asia/Tokyo)</strong>", "takes effect at <strong>2026-01-17 00:00 (Asia/Tokyo)</strong>",
			"rejoin from <strong>2026-01-24 00:00 (Asia/Tokyo)</strong>"} {
			if !strings.Contains(exit, want) {
				t.Fatalf("the exit's section does not say %q:\n%s", want, exit)
			}
		}

		// The general rate.
		for rate, want := range map[string]string{"abc": "must be a percentage", "7.255": "at most 2 decimals", "101": "must be from 0.01 % to 100.00 %"} {
			r := seller.post("/console/affiliate/rate", url.Values{"rate": {rate}})
			r.want(t, http.StatusUnprocessableEntity, `id="f-rate-error"`, want, `value="`+rate+`"`)
		}
		seller.post("/console/affiliate/rate", url.Values{"rate": {"7.25"}}).wantRedirect(t, "/console/affiliate?notice=affiliate-rate-set")

		// Products' own rates: 0 is allowed (no commission), another
		// store's product is not the seller's.
		seller.post("/console/affiliate/product-rates", url.Values{"product_id": {"sku-1"}, "product_rate": {"12"}}).
			wantRedirect(t, "/console/affiliate?notice=affiliate-product-rate-set")
		seller.post("/console/affiliate/product-rates", url.Values{"product_id": {"sku-9"}, "product_rate": {"3"}}).
			want(t, http.StatusUnprocessableEntity, `id="f-product_id-error"`, `Your store has no product &#34;sku-9&#34;`, `value="sku-9"`)
		seller.post("/console/affiliate/product-rates", url.Values{"product_id": {""}, "product_rate": {"100.001"}}).
			want(t, http.StatusUnprocessableEntity, `id="f-product_id-error"`, `id="f-product_rate-error"`, "at most 2 decimals")
		mustDo(t, b, b.seller, "PUT", "/v1/stores/"+b.shop.ID+"/products/a%2Fb%3Fc", map[string]any{"name": "Odd Id"}, http.StatusOK)
		seller.post("/console/affiliate/product-rates", url.Values{"product_id": {"a/b?c"}, "product_rate": {"0"}}).
			wantRedirect(t, "/console/affiliate?notice=affiliate-product-rate-set")
		p := programOf(t, b)
		if *p.Rate != 725 || len(p.ProductRates) != 2 || p.ProductRates[0].ProductID != "a/b?c" || p.ProductRates[0].Rate != 0 ||
			p.ProductRates[1].ProductID != "sku-1" || p.ProductRates[1].Rate != 1200 {
			t.Fatalf("rates: %+v", p)
		}
		r = seller.get("/console/affiliate")
		r.want(t, http.StatusOK, `<dd id="general-rate">7.25 %</dd>`, `action="/console/affiliate/product-rates/a%2Fb%3Fc/remove"`,
			`<option value="sku-1">Shop Widget</option>`)
		history := section(t, r.Body, "history-h")
		zero, twelve, seven, five := strings.Index(history, "0.00 %"), strings.Index(history, "12.00 %"), strings.Index(history, "7.25 %"), strings.Index(history, "5.50 %")
		if zero < 0 || !(zero < twelve && twelve < seven && seven < five) {
			t.Fatalf("the history is not newest first:\n%s", history)
		}

		// Removing an own rate, the odd id's through its escaped path.
		seller.post("/console/affiliate/product-rates/a%2Fb%3Fc/remove", nil).wantRedirect(t, "/console/affiliate?notice=affiliate-product-rate-removed")
		want404(t, seller.post("/console/affiliate/product-rates/a%2Fb%3Fc/remove", nil))
		want404(t, seller.post("/console/affiliate/product-rates/no-such-sku/remove", nil))
		if p := programOf(t, b); len(p.ProductRates) != 1 || p.ProductRates[0].ProductID != "sku-1" {
			t.Fatalf("after the removal: %+v", p.ProductRates)
		}
		seller.get("/console/affiliate/rates").want(t, http.StatusOK, "own rate removed", "a/b?c", "12.00 %", "5.50 %")
		// The history's pages go on from the API's cursor, a rate's id;
		// another cursor is refused, never a 500.
		hist := decodeAs[struct{ Data []promokit.Rate }](t, mustDo(t, b, b.seller, "GET", "/v1/stores/"+b.shop.ID+"/affiliate/rates", nil, http.StatusOK)).Data
		if len(hist) != 5 || hist[2].ProductID != "sku-1" {
			t.Fatalf("the history through the API: %+v", hist)
		}
		r = seller.get("/console/affiliate/rates?after=" + formatInt(hist[2].ID))
		r.want(t, http.StatusOK, "7.25 %", "5.50 %")
		if strings.Contains(r.Body, "12.00 %") || strings.Contains(r.Body, "removed") {
			t.Fatalf("the page after the product's rate holds newer changes:\n%s", r.Body)
		}
		if r := seller.get("/console/affiliate/rates?after=x"); r.StatusCode < 400 || r.StatusCode >= 500 {
			t.Fatalf("a bad cursor: %d", r.StatusCode)
		}
		seller.get("/console/affiliate/product-rates").want(t, http.StatusOK, "sku-1", "12.00 %")

		// The links affiliates made to the store, with their clicks.
		mustDo(t, b, b.seller, "PUT", "/v1/stores/"+b.shop.ID+"/products/sku-1", map[string]any{"name": "Shop Widget", "url": shopURL + "widget"}, http.StatusOK)
		_, affKey := newAffiliate(t, b, "Fay Affiliate")
		l := createLink(t, b, affKey, "sku-1")
		if r := b.open(t, l.Path, "User-Agent", browserAgent); r.StatusCode != http.StatusFound {
			t.Fatalf("open the link: %d", r.StatusCode)
		}
		flush(t, b)
		row := `<tr><th scope="row"><code>` + l.ID + `</code></th><td><code>` + l.PartnerID + `</code></td><td>product <code>sku-1</code></td><td class="num">1</td><td class="num">0</td>`
		seller.get("/console/affiliate").want(t, http.StatusOK, row)
		seller.get("/console/affiliate/links").want(t, http.StatusOK, row)

		// Another store's seller: its own program, none of the shop's
		// rates or links, and nothing of the shop's it can change.
		r = foreign.get("/console/affiliate")
		r.want(t, http.StatusOK, "Not in the program")
		for _, s := range []string{l.ID, "12.00 %", "Shop Widget"} {
			if strings.Contains(r.Body, s) {
				t.Fatalf("another store's page shows %q", s)
			}
		}
		if r := foreign.get("/console/affiliate/links"); strings.Contains(r.Body, l.ID) {
			t.Fatalf("another store lists the shop's link")
		}
		mustDo(t, b, b.foreign, "POST", "/v1/stores/"+b.other.ID+"/affiliate/join", map[string]any{"accept_terms": true, "rate_bp": 300, "url": shopURL}, http.StatusCreated)
		want404(t, foreign.post("/console/affiliate/product-rates/sku-1/remove", nil))
		foreign.post("/console/affiliate/product-rates", url.Values{"product_id": {"sku-1"}, "product_rate": {"1"}}).
			want(t, http.StatusUnprocessableEntity, `id="f-product_id-error"`)
		if p := programOf(t, b); len(p.ProductRates) != 1 || p.ProductRates[0].Rate != 1200 {
			t.Fatalf("another store's seller changed the shop's rates: %+v", p.ProductRates)
		}

		// The program's page lists the first products' own rates; their
		// page lists them all, by product id, a page at a time.
		for i := range affiliateRecent + 1 {
			id := "p-" + formatInt(int64(10+i))
			mustDo(t, b, b.seller, "PUT", "/v1/stores/"+b.shop.ID+"/products/"+id, map[string]any{"name": "Part " + id}, http.StatusOK)
			mustDo(t, b, b.seller, "PUT", "/v1/stores/"+b.shop.ID+"/affiliate/products/"+id+"/rate", map[string]any{"rate_bp": 100}, http.StatusOK)
		}
		r = seller.get("/console/affiliate")
		r.want(t, http.StatusOK, `the first 10: <a href="/console/affiliate/product-rates">all of them</a>`)
		if n := strings.Count(section(t, r.Body, "rates-h"), `/remove"`); n != affiliateRecent {
			t.Fatalf("the program's page lists %d products' rates, want %d", n, affiliateRecent)
		}
		if n := strings.Count(seller.get("/console/affiliate/product-rates").Body, `/remove"`); n != affiliateRecent+2 {
			t.Fatalf("the products' rates page lists %d, want %d", n, affiliateRecent+2)
		}
		r = seller.get("/console/affiliate/product-rates?after=p-15")
		if n := strings.Count(r.Body, `/remove"`); n != 6 || strings.Contains(r.Body, "p-15/remove") || !strings.Contains(r.Body, "p-16/remove") {
			t.Fatalf("the page after p-15 lists %d:\n%s", n, r.Body)
		}

		// An early exit is refused beside its form, with the rule, the
		// limit and when it becomes possible, in Tokyo time.
		r = seller.post("/console/affiliate/exit", nil)
		r.want(t, http.StatusUnprocessableEntity, `id="error-summary"`)
		exit = section(t, r.Body, "exit-h")
		for _, want := range []string{"may exit the affiliate program 15 days after joining",
			"Rule A2: the limit is 15 days, and it has been 0. Possible from 2026-01-16 18:00 (Asia/Tokyo)."} {
			if !strings.Contains(exit, want) {
				t.Fatalf("the exit's refusal does not say %q beside the form:\n%s", want, exit)
			}
		}
		if p := programOf(t, b); p.State != engine.ProgramJoined {
			t.Fatalf("the refused exit wrote: %+v", p)
		}
		checkPageSize(t, seller.get("/console/affiliate"))
	})
}

// TestConsoleAffiliateExit follows A2 on the program's page with the
// clock moved, under a policy of other numbers (exit after 20 days,
// rejoin after 3, attribution 9) in Tokyo: the exit's dates before it is
// asked, then while exiting and once out, a second exit refused, an early
// rejoin refused beside the join form with the rule, the limit and when
// it becomes possible, and the rejoin at that time.
func TestConsoleAffiliateExit(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		setTokyo(t, b, &promokit.AffiliatePolicy{ExitAfterDays: 20, RejoinAfterDays: 3, AttributionDays: 9, ClickFloodPerHour: 20})
		seller := b.signIn(t, b.seller)
		seller.get("/console/affiliate").want(t, http.StatusOK, "for 9 calendar days (Asia/Tokyo)",
			"no earlier than 20 days after joining", "rejoin 3 days after its exit took effect")
		seller.post("/console/affiliate/join", url.Values{"accept_terms": {"on"}, "rate": {"4"}, "url": {shopURL}}).
			wantRedirect(t, "/console/affiliate")

		// January 21, 18:00 in Tokyo: 20 days after joining, the exit
		// may be asked; it takes effect at 0:00 the next day there.
		b.clock.Set(jan1().Add(20 * day))
		seller = b.signIn(t, b.seller) // the session idled out
		exit := section(t, seller.get("/console/affiliate").Body, "exit-h")
		for _, want := range []string{"If you exit now, the exit takes effect at <strong>2026-01-22 00:00 (Asia/Tokyo)</strong>",
			"may rejoin from <strong>2026-01-25 00:00 (Asia/Tokyo)</strong>"} {
			if !strings.Contains(exit, want) {
				t.Fatalf("the exit's section does not say %q:\n%s", want, exit)
			}
		}
		seller.post("/console/affiliate/exit", nil).wantRedirect(t, "/console/affiliate?notice=affiliate-exiting")
		tokyo := time.FixedZone("JST", 9*3600)
		if p := programOf(t, b); p.State != engine.ProgramExiting || !p.Membership.ExitsAt.Equal(time.Date(2026, 1, 22, 0, 0, 0, 0, tokyo)) {
			t.Fatalf("exiting: %+v", p)
		}
		r := seller.get("/console/affiliate")
		r.want(t, http.StatusOK, `<strong id="state">Exiting: out from 2026-01-22 00:00 (Asia/Tokyo)</strong>`,
			`<dd id="rejoin-from">2026-01-25 00:00 (Asia/Tokyo)</dd>`, "takes effect at <strong>2026-01-22 00:00 (Asia/Tokyo)</strong>",
			`action="/console/affiliate/rate"`)
		if strings.Contains(r.Body, `action="/console/affiliate/exit"`) || strings.Contains(r.Body, `action="/console/affiliate/join"`) {
			t.Fatalf("an exiting store is offered an exit or a join")
		}
		r = seller.post("/console/affiliate/exit", nil)
		r.want(t, http.StatusConflict)
		if s := section(t, r.Body, "exit-h"); !strings.Contains(s, "has asked to exit already") {
			t.Fatalf("the second exit's refusal is not beside the exit:\n%s", s)
		}

		// Out from 0:00 Tokyo time: the join form again, with the page
		// the store had.
		b.clock.Set(time.Date(2026, 1, 22, 0, 0, 0, 0, tokyo))
		seller = b.signIn(t, b.seller)
		r = seller.get("/console/affiliate")
		r.want(t, http.StatusOK, `<strong id="state">Out since 2026-01-22 00:00 (Asia/Tokyo)</strong>`, "Rejoin the affiliate program",
			"may rejoin from 2026-01-25 00:00 (Asia/Tokyo), 3 days after its exit took effect", `value="`+shopURL+`"`)

		// A second before the rejoin is allowed: refused beside the
		// join form, nothing written.
		b.clock.Set(time.Date(2026, 1, 25, 0, 0, 0, 0, tokyo).Add(-time.Second))
		seller = b.signIn(t, b.seller)
		r = seller.post("/console/affiliate/join", url.Values{"accept_terms": {"on"}, "rate": {"6"}, "url": {shopURL}})
		r.want(t, http.StatusUnprocessableEntity, `id="error-summary"`, "Rule A2")
		join := section(t, r.Body, "join-h")
		refusal := strings.Index(join, "Rule A2: the limit is 3 days, and it has been 2. Possible from 2026-01-25 00:00 (Asia/Tokyo).")
		if refusal < 0 || refusal > strings.Index(join, `action="/console/affiliate/join"`) || !strings.Contains(join, `value="6"`) {
			t.Fatalf("the early rejoin's refusal is not beside the join form, with the form as sent:\n%s", join)
		}
		if p := programOf(t, b); p.State != engine.ProgramExited {
			t.Fatalf("the refused rejoin wrote: %+v", p)
		}

		b.clock.Set(time.Date(2026, 1, 25, 0, 0, 0, 0, tokyo))
		seller = b.signIn(t, b.seller)
		seller.post("/console/affiliate/join", url.Values{"accept_terms": {"on"}, "rate": {"6"}, "url": {shopURL}}).
			wantRedirect(t, "/console/affiliate?notice=affiliate-joined")
		seller.get("/console/affiliate").want(t, http.StatusOK, `<strong id="state">In the program</strong>`, `<dd id="general-rate">6.00 %</dd>`)
		if p := programOf(t, b); p.State != engine.ProgramJoined || *p.Rate != 600 {
			t.Fatalf("rejoined: %+v", p)
		}
	})
}

// TestParsePercent checks the reading of a rate typed in percent: exact
// basis points for every accepted form, and a field error of its code for
// the rest.
func TestParsePercent(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]promokit.BasisPoints{
		"5": 500, "5.5": 550, "5.50": 550, "0.01": 1, "0.1": 10, "12.34": 1234, "100": 10000, "007": 700, "0": 0, "0.00": 0,
		" 2.5 ": 250, "2.5%": 250, "2.5 %": 250, "99999": 9999900,
	} {
		var v promokit.Validation
		got, ok := parsePercent(&v, "rate", "The rate", in)
		if !ok || got != want || v.Err() != nil {
			t.Errorf("parsePercent(%q) = %d, %v, %v; want %d", in, got, ok, v.Err(), want)
		}
	}
	for in, code := range map[string]string{
		"": "required", " % ": "required", "five": "invalid", "5,5": "invalid", "-1": "invalid", "+1": "invalid", "1e2": "invalid",
		".5": "invalid", "5.": "invalid", "5..5": "invalid", "5.5.5": "invalid", "٥": "invalid", "0x10": "invalid", "NaN": "invalid",
		"5.555": "too_precise", "0.001": "too_precise", "100000": "out_of_range", "184467440737095516150": "out_of_range",
	} {
		var v promokit.Validation
		_, ok := parsePercent(&v, "rate", "The rate", in)
		var e *promokit.Error
		err := v.Err()
		if ok || err == nil || !errors.As(err, &e) || len(e.Fields) != 1 || e.Fields[0].Field != "rate" || e.Fields[0].Code != code {
			t.Errorf("parsePercent(%q): ok %v, %v; want the field error %s", in, ok, err, code)
		}
	}
	for bp, want := range map[promokit.BasisPoints]string{0: "0.00", 1: "0.01", 550: "5.50", 10000: "100.00", -5: "-0.05"} {
		if got := formatPercent(bp); got != want {
			t.Errorf("formatPercent(%d) = %q, want %q", bp, got, want)
		}
	}
}

// checkPageSize checks that a page with the stylesheet and the script
// weighs at most 100 KB.
func checkPageSize(t *testing.T, r *consoleResponse) {
	t.Helper()
	parsed, err := parsedConsole()
	if err != nil {
		t.Fatal(err)
	}
	total := len(r.Body)
	for _, a := range parsed.assets {
		total += len(a.body)
	}
	if total > 100_000 {
		t.Errorf("%s: %d bytes with the assets, over 100 KB", r.Request.URL.Path, total)
	}
}

// affiliateSamples returns the data the affiliate program's templates are
// rendered with in TestConsoleTemplates: the longest pages they make, a
// refused form's among them.
func affiliateSamples() map[string]*page {
	at := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	rate := promokit.BasisPoints(550)
	pol := promokit.AffiliatePolicy{ExitAfterDays: 15, RejoinAfterDays: 7, AttributionDays: 15, HoldDays: 3}
	joined := &engine.Program{StoreID: "sto_1", State: engine.ProgramJoined, Rate: &rate,
		Membership: &promokit.Membership{ID: "mem_1", StoreID: "sto_1", URL: "https://shop.example.com/<b>Alpha</b>", JoinedAt: at}}
	for i := range consolePageSize + 1 {
		joined.ProductRates = append(joined.ProductRates, engine.ProductRate{ProductID: "sku-<b>Alpha</b>-" + formatInt(int64(i)), Rate: 1234, EffectiveAt: at})
	}
	var products []*promokit.Product
	for i := range affiliateProducts {
		products = append(products, &promokit.Product{ID: "sku-" + formatInt(int64(i)), Name: "Widget <b>Alpha</b> number " + formatInt(int64(i))})
	}
	var rates []*promokit.Rate
	var links []*engine.LinkView
	for i := range consolePageSize {
		rates = append(rates, &promokit.Rate{ID: int64(i), ProductID: "sku-<b>Alpha</b>", Rate: 1234, Removed: i%2 == 0, EffectiveAt: at})
		links = append(links, &engine.LinkView{Link: &promokit.Link{ID: "lnk_0123456789abcdef", PartnerID: "par_0123456789abcdef", ProductID: "sku-<b>Alpha</b>", CreatedAt: at},
			LinkStat: storage.LinkStat{Clicks: 123456, Flagged: 12}})
	}
	d := &affiliatePage{P: joined, TimeZone: "Asia/Tokyo", Policy: pol, loc: time.FixedZone("JST", 9*3600),
		ExitAsk: at, ExitEffective: at, ExitRejoin: at, Rate: "5.50", Product: productRateForm{ProductID: "<b>Alpha</b>", Rate: "1"},
		Failed: affiliateProductRate, ProductRates: joined.ProductRates[:affiliateRecent], MoreProducts: true,
		Rates: rates[:affiliateRecent], MoreRates: true, Links: links[:affiliateRecent], MoreLinks: true, Products: products,
		Percentages: rateBounds{MinGeneral: "0.01", MinProduct: "0.00", Max: "100.00"}}
	d.Refusal = &refusal{Message: "store is not in the <b>Alpha</b> program", Rule: "Rule A2."}
	list := &affiliateListPage{TimeZone: "UTC", loc: time.UTC, Pager: pager{First: "/x", Next: "/y"}}
	withRates, withLinks, withProducts := *list, *list, *list
	withRates.Rates, withLinks.Links, withProducts.ProductRates = rates, links, joined.ProductRates[:consolePageSize]
	return map[string]*page{
		"affiliate":               {Title: "Affiliate program", Form: newFormErrors(invalidField("product_rate", "too_precise", "at most 2 decimals")), Data: d},
		"affiliate_rates":         {Title: "Commission rate changes", Data: &withRates},
		"affiliate_links":         {Title: "Affiliate links to your store", Data: &withLinks},
		"affiliate_product_rates": {Title: "Products with their own rate", Data: &withProducts},
	}
}

// TestConsoleAffiliateStates renders the program's page in each state of
// a store, and checks each as TestConsoleTemplates does a page, with the
// forms that state offers and no other.
func TestConsoleAffiliateStates(t *testing.T) {
	t.Parallel()
	c, err := parseConsole()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	exits, rate := at.AddDate(0, 0, 16), promokit.BasisPoints(500)
	pol := promokit.AffiliatePolicy{ExitAfterDays: 15, RejoinAfterDays: 7, AttributionDays: 15}
	member := func(exit bool) *promokit.Membership {
		m := &promokit.Membership{ID: "mem_1", StoreID: "sto_1", URL: "https://shop.example.com/", JoinedAt: at}
		if exit {
			m.ExitRequestedAt, m.ExitsAt = &at, &exits
		}
		return m
	}
	base := func(p *engine.Program) *affiliatePage {
		return &affiliatePage{P: p, TimeZone: "UTC", Policy: pol, loc: time.UTC, RejoinFrom: exits.AddDate(0, 0, 7),
			ExitAsk: at, ExitEffective: exits, ExitRejoin: exits.AddDate(0, 0, 7)}
	}
	early := base(&engine.Program{State: engine.ProgramJoined, Membership: member(false), Rate: &rate})
	early.Failed, early.Refusal = affiliateExit, &refusal{Message: "too early to exit", Rule: "Rule A2: the limit is 15 days."}
	for name, tc := range map[string]struct {
		d          *affiliatePage
		want, none []string
	}{
		"not joined": {base(&engine.Program{State: engine.ProgramNotJoined}), []string{"/affiliate/join", "Accept and join"}, []string{"/affiliate/exit", "/affiliate/rate"}},
		"joined, early exit": {early, []string{"/affiliate/exit", "/affiliate/rate", "/affiliate/product-rates", "too early to exit", "Rule A2: the limit is 15 days."},
			[]string{"/affiliate/join", "If you exit now"}},
		"exiting": {base(&engine.Program{State: engine.ProgramExiting, Membership: member(true), Rate: &rate}), []string{"/affiliate/rate", "Your store asked to exit"},
			[]string{"/affiliate/join", `action="/console/affiliate/exit"`}},
		"exited": {base(&engine.Program{State: engine.ProgramExited, Membership: member(true)}), []string{"/affiliate/join", "Accept and rejoin", "2026-01-24 09:00 (UTC)"},
			[]string{"/affiliate/exit", "/affiliate/rate"}},
	} {
		p := promokit.Principal{KeyID: "key_s", Role: promokit.RoleSeller, StoreID: "sto_1"}
		pg := &page{Title: "Affiliate program", Principal: p, Nav: navFor(p.Role, "/console/affiliate"), Data: tc.d}
		var buf bytes.Buffer
		if err := c.pages["affiliate"].ExecuteTemplate(&buf, "layout", pg); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		html := buf.String()
		checkPage(t, "affiliate "+name, html, p)
		for _, s := range tc.want {
			if !strings.Contains(html, s) {
				t.Errorf("%s: the page does not hold %q", name, s)
			}
		}
		for _, s := range tc.none {
			if strings.Contains(html, s) {
				t.Errorf("%s: the page holds %q", name, s)
			}
		}
	}
}
