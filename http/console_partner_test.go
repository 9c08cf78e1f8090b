package http

import (
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

// linkIDOf returns the id of the link a created link's redirect opens.
func linkIDOf(t *testing.T, r *consoleResponse) string {
	t.Helper()
	r.wantRedirect(t, "/console/partner/links/lnk_")
	id, _, _ := strings.Cut(strings.TrimPrefix(r.Header.Get("Location"), "/console/partner/links/"), "?")
	return id
}

// TestConsolePartnerLinks walks an affiliate's links: the empty list, the
// form's refusals next to their fields, a new link's page with the URL to
// copy, a click that its counts then show, and another partner, to whom
// the link is a 404 page.
func TestConsolePartnerLinks(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		joinShop(t, b)
		_, affKey := newAffiliate(t, b, "Cat Affiliate")
		_, otherKey := newAffiliate(t, b, "Dan Affiliate")
		c := b.signIn(t, affKey)
		c.get("/console/partner/links").want(t, http.StatusOK, "No links yet", "New link", `href="/console/partner/links" aria-current="page"`)

		// Refused forms: each error next to its field, nothing created.
		r := c.post("/console/partner/links", url.Values{"store_id": {""}})
		r.want(t, http.StatusUnprocessableEntity, `id="f-store_id-error"`, "store_id is required", `aria-invalid="true"`)
		r = c.post("/console/partner/links", url.Values{"store_id": {"sto_nope"}})
		r.want(t, http.StatusUnprocessableEntity, `id="f-store_id-error"`, "sto_nope", `value="sto_nope"`)
		r = c.post("/console/partner/links", url.Values{"store_id": {b.shop.ID}, "product_id": {"no-such-sku"}})
		r.want(t, http.StatusUnprocessableEntity, `id="f-product_id-error"`, "no-such-sku")
		r = c.post("/console/partner/links", url.Values{"store_id": {b.other.ID}})
		r.want(t, http.StatusConflict, "not in the affiliate program")
		c.get("/console/partner/links").want(t, http.StatusOK, "No links yet")

		// A link: its page has the URL to share in a selectable field
		// and a copy button for the script to show.
		id := linkIDOf(t, c.post("/console/partner/links", url.Values{"store_id": {b.shop.ID}}))
		l := decodeAs[linkJSON](t, mustDo(t, b, affKey, "GET", "/v1/links/"+id, nil, http.StatusOK))
		page := c.get("/console/partner/links/" + id + "?notice=link-created")
		page.want(t, http.StatusOK, "The link was created.", `id="share" type="text" value="`+b.c.base+l.Path+`" readonly`,
			`data-copy="share" hidden`, `<dd id="clicks">0</dd>`, shopURL)

		// A browser follows it: the click is counted.
		if r := b.open(t, l.Path, "User-Agent", browserAgent); r.StatusCode != http.StatusFound {
			t.Fatalf("GET %s: %d", l.Path, r.StatusCode)
		}
		flush(t, b)
		c.get("/console/partner/links/"+id).want(t, http.StatusOK, `<dd id="clicks">1</dd>`)
		c.get("/console/partner/links").want(t, http.StatusOK, id, `<td class="num">1</td><td class="num">0</td>`)

		// Another partner neither sees nor opens it.
		other := b.signIn(t, otherKey)
		want404(t, other.get("/console/partner/links/"+id))
		if r := other.get("/console/partner/links"); r.StatusCode != http.StatusOK || strings.Contains(r.Body, id) {
			t.Fatalf("another partner's list: %d, holds %s: %v", r.StatusCode, id, strings.Contains(r.Body, id))
		}
		want404(t, other.get("/console/partner/links/lnk_nope"))

		// An influencer has no form, and a form it sends anyway creates
		// nothing.
		infl := b.signIn(t, b.partner)
		infl.get("/console/partner/links").want(t, http.StatusOK, "Only affiliate partners create links")
		want404(t, infl.post("/console/partner/links", url.Values{"store_id": {b.shop.ID}}))
		if n := len(decodeAs[struct{ Data []linkJSON }](t, mustDo(t, b, b.partner, "GET", "/v1/links", nil, http.StatusOK)).Data); n != 0 {
			t.Fatalf("the influencer has %d links", n)
		}
	})
}

// TestConsolePartnerLinkDays checks a link's charts per day: a browser's
// click counted, a script's flagged and drawn on top of it, the order the
// click won; the figures in a table too; the period's choices and a
// period that is not a number of days; and another partner, to whom the
// page is a 404 whatever the period.
func TestConsolePartnerLinkDays(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		joinShop(t, b)
		_, affKey := newAffiliate(t, b, "Cat Affiliate")
		_, otherKey := newAffiliate(t, b, "Dan Affiliate")
		l := createLink(t, b, affKey, "")
		r := b.open(t, l.Path, "User-Agent", browserAgent)
		visitor := visitorCookieOf(r)
		if r.StatusCode != http.StatusFound || visitor == nil {
			t.Fatalf("GET %s: %d, cookie %v", l.Path, r.StatusCode, visitor)
		}
		b.open(t, l.Path, "User-Agent", "curl/8.5.0")
		flush(t, b)
		event(t, b, "o1", placedEvent("o1-placed", visitor.Value, 10000), http.StatusCreated)
		event(t, b, "o2", placedEvent("o2-placed", "v-nobody", 10000), http.StatusCreated) // not the link's

		c := b.signIn(t, affKey)
		path := "/console/partner/links/" + l.ID
		page := c.get(path)
		page.want(t, http.StatusOK, `<section class="card" id="days" aria-labelledby="days-h">`,
			`<strong id="days-clicks">1</strong> counted clicks`, `<strong id="days-flagged">1</strong> flagged`, `<strong id="days-orders">1</strong> orders`,
			`role="img" aria-label="Clicks per day"`, `role="img" aria-label="Orders per day"`,
			"<title>Jan 1: 1 counted clicks</title>", "<title>Jan 1: 1 flagged clicks</title>", "<title>Jan 1: 1 orders</title>",
			`<span class="swatch stack" aria-hidden="true"></span>flagged`,
			`<th scope="row">Thu Jan 1, 2026</th><td class="num">1</td><td class="num">1</td><td class="num">1</td>`,
			`href="`+path+`?days=30#days" aria-current="true"`)
		if n := strings.Count(page.Body, `<rect class="bar stack"`); n != 1 {
			t.Fatalf("%d stacked bars, want the flagged click's", n)
		}
		page = c.get(path + "?days=7")
		page.want(t, http.StatusOK, `href="`+path+`?days=7#days" aria-current="true"`, "The last 7 days", `<th scope="row">Fri Dec 26, 2025</th>`)
		if n := strings.Count(page.Body, `<th scope="row">`); n != 7 {
			t.Fatalf("%d days in the table, want 7", n)
		}
		c.get(path+"?days=x").want(t, http.StatusUnprocessableEntity, "days must be a whole number")
		c.get(path+"?days=93").want(t, http.StatusUnprocessableEntity, "days must be between 1 and 92")

		other := b.signIn(t, otherKey)
		want404(t, other.get(path+"?days=7"))
		want404(t, other.get(path+"?days=x"))
	})
}

// TestConsolePartnerPayouts walks the payouts a partner received: the
// list, a payout's page and its proof file, a dispute refused without a
// message and made with one, the confirmation and its refusal once final,
// and another partner, to whom each of them is a 404 page that changes
// nothing.
func TestConsolePartnerPayouts(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		f := b.payouts()
		c := b.signIn(t, b.partner)
		c.get("/console/partner/payouts").want(t, http.StatusOK, f.plain.ID, f.proved.ID, "wire 1", "wire 2", "10.00 USD")

		base := "/console/partner/payouts/" + f.proved.ID
		c.get(base).want(t, http.StatusOK, "Download the proof", base+"/proof", "Confirm receipt", "Dispute the payout")
		r := c.get(base + "/proof")
		if r.StatusCode != http.StatusOK || r.Header.Get("Content-Type") != promokit.ProofPDF || r.Body != string(proofPDF) ||
			!strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment;") {
			t.Fatalf("proof: %d %v %q", r.StatusCode, r.Header, r.Body)
		}
		want404(t, c.get("/console/partner/payouts/"+f.plain.ID+"/proof"))

		// Another partner: 404 pages, nothing answered.
		_, otherKey := newAffiliate(t, b, "Eve Affiliate")
		other := b.signIn(t, otherKey)
		for _, path := range []string{base, base + "/proof"} {
			want404(t, other.get(path))
		}
		want404(t, other.post(base+"/confirm", nil))
		want404(t, other.post(base+"/dispute", url.Values{"message": {"mine"}}))
		if r := other.get("/console/partner/payouts"); strings.Contains(r.Body, f.proved.ID) {
			t.Fatalf("another partner lists the payout")
		}
		if po := decodeAs[promokit.Payout](t, mustDo(t, b, b.admin, "GET", "/v1/payouts/"+f.proved.ID, nil, http.StatusOK)); po.State != promokit.PayoutRecorded {
			t.Fatalf("another partner's answers made the payout %s", po.State)
		}

		// A dispute needs a message, shown next to its field.
		r = c.post(base+"/dispute", url.Values{"message": {""}})
		r.want(t, http.StatusUnprocessableEntity, `id="f-message-error"`, "message must have", `<dd id="payout-state">recorded`)
		r = c.post(base+"/dispute", url.Values{"message": {"Nothing arrived"}})
		r.wantRedirect(t, base+"?notice=payout-disputed")
		c.get(base).want(t, http.StatusOK, `<dd id="payout-state">disputed`, "Nothing arrived", "Confirm receipt")

		// Confirmed, then final.
		c.post(base+"/confirm", nil).wantRedirect(t, base+"?notice=payout-confirmed")
		page := c.get(base + "?notice=payout-confirmed")
		page.want(t, http.StatusOK, `<dd id="payout-state">confirmed`, "receipt is confirmed")
		if strings.Contains(page.Body, "/confirm") || strings.Contains(page.Body, "/dispute") {
			t.Fatalf("a confirmed payout's page offers an answer:\n%s", page.Body)
		}
		c.post(base+"/confirm", nil).want(t, http.StatusConflict, "is confirmed already")
	})
}

// partnerScopeCases adds the paths of the partner's routes to the cases
// of TestConsoleScope: the payouts are the signed-in partner's, the link
// another partner's.
func partnerScopeCases(t *testing.T, b *testBundle, paths map[string]string) {
	t.Helper()
	po := "/console/partner/payouts/" + b.payouts().proved.ID
	for pattern, path := range map[string]string{
		"/console/partner/links":                "/console/partner/links",
		"/console/partner/links/{id}":           "/console/partner/links/" + b.affiliate().link.ID,
		"/console/partner/payouts":              "/console/partner/payouts",
		"/console/partner/payouts/{id}":         po,
		"/console/partner/payouts/{id}/confirm": po + "/confirm",
		"/console/partner/payouts/{id}/dispute": po + "/dispute",
		"/console/partner/payouts/{id}/proof":   po + "/proof",
		"/console/partner/statement":            "/console/partner/statement",
		"/console/partner/earnings":             "/console/partner/earnings",
		"/console/partner/codes":                "/console/partner/codes",
		"/console/partner/codes.csv":            "/console/partner/codes.csv",
		"/console/partner/codes/{code}":         "/console/partner/codes/" + b.shopCode,
		"/console/partner/statement/ledger.csv": "/console/partner/statement/ledger.csv",
	} {
		paths[pattern] = path
	}
}

// checkPartnerRoute checks a partner's route in TestConsoleScope: any
// other signed-in principal gets the 404 page and changes nothing (the
// payout stays recorded), the anonymous browser the sign-in page, and the
// partner its page, but the 404 page for another partner's link.
func checkPartnerRoute(t *testing.T, b *testBundle, rt ConsoleRoute, path string, others map[string]*consoleClient, anon, partner *consoleClient) {
	t.Helper()
	send := func(c *consoleClient) *consoleResponse {
		if rt.Method == "POST" {
			return c.post(path, url.Values{"message": {"not mine"}, "store_id": {b.shop.ID}})
		}
		return c.get(path)
	}
	for name, c := range others {
		if r := send(c); r.StatusCode != http.StatusNotFound {
			t.Fatalf("%s: %s %s = %d, want the 404 page", name, rt.Method, path, r.StatusCode)
		} else {
			want404(t, r)
		}
	}
	send(anon).wantRedirect(t, "/console/sign-in")
	if po := decodeAs[promokit.Payout](t, mustDo(t, b, b.admin, "GET", "/v1/payouts/"+b.payouts().proved.ID, nil, http.StatusOK)); po.State != promokit.PayoutRecorded {
		t.Fatalf("%s %s by others made the payout %s", rt.Method, path, po.State)
	}
	if rt.Method != "GET" {
		return
	}
	r := send(partner)
	if rt.Pattern == "/console/partner/links/{id}" {
		want404(t, r)
		return
	}
	r.want(t, http.StatusOK)
}

// partnerPages are the partner's pages that TestConsolePageSizes weighs,
// at their fullest: every link and payout of the fixtures.
func partnerPages(t *testing.T, b *testBundle) []string {
	t.Helper()
	po := b.payouts().proved.ID
	return []string{"/console/partner/links", "/console/partner/payouts", "/console/partner/payouts/" + po, "/console/partner/statement", "/console/partner/earnings", "/console/partner/codes", "/console/partner/codes/" + b.shopCode}
}

// TestConsolePartnerStatement shows a partner's statement of January in
// the marketplace's time zone: its balances after a commission and two
// payouts, its entries and their CSV file; a period or counterparty that
// is not one is an error next to its field; another partner's statement
// holds none of it.
func TestConsolePartnerStatement(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		b.payouts()
		c := b.signIn(t, b.partner)
		r := c.get("/console/partner/statement")
		r.want(t, http.StatusOK, "From 2026-01-01 0:00 to 2026-02-01 0:00, UTC", "In USD",
			"<td class=\"num\">30.00 USD</td><td class=\"num\">20.00 USD</td>", // closing payable and paid
			"ord-p", "/console/partner/statement/ledger.csv?from=2026-01-01&amp;to=2026-02-01",
			"/console/partner/statement?from=2025-12-01&amp;to=2026-01-01")
		c.get("/console/partner/statement?from=2026-02-01").want(t, http.StatusOK, "No entries in the period",
			"<td class=\"num\">30.00 USD</td><td class=\"num\">20.00 USD</td>") // opening = closing
		c.get("/console/partner/statement?counterparty="+b.other.ID).want(t, http.StatusOK, "No entries before or in the period")

		csvr := c.get("/console/partner/statement/ledger.csv?from=2026-01-01")
		if csvr.StatusCode != http.StatusOK || !strings.HasPrefix(csvr.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(csvr.Header.Get("Content-Disposition"), "partner-"+b.partnr.ID+"-ledger-2026-01-01.csv") ||
			strings.Count(csvr.Body, "\r\n") != 6 || !strings.Contains(csvr.Body, "ord-p") {
			t.Fatalf("ledger CSV: %d %v\n%s", csvr.StatusCode, csvr.Header, csvr.Body)
		}

		c.get("/console/partner/statement?from=soon").want(t, http.StatusUnprocessableEntity, `id="f-from-error"`, `value="soon"`)
		c.get("/console/partner/statement?counterparty=sto_nope").want(t, http.StatusUnprocessableEntity, `id="f-counterparty-error"`)
		c.get("/console/partner/statement?counterparty=junk").want(t, http.StatusUnprocessableEntity, `id="f-counterparty-error"`)
		c.get("/console/partner/statement/ledger.csv?from=soon").want(t, http.StatusUnprocessableEntity, "from must be a date")

		_, otherKey := newAffiliate(t, b, "Eve Affiliate")
		other := b.signIn(t, otherKey)
		if r := other.get("/console/partner/statement"); r.StatusCode != http.StatusOK || strings.Contains(r.Body, "ord-p") {
			t.Fatalf("another partner's statement: %d\n%s", r.StatusCode, r.Body)
		}
		if r := other.get("/console/partner/statement/ledger.csv"); strings.Contains(r.Body, "ord-p") {
			t.Fatalf("another partner's CSV holds the entries:\n%s", r.Body)
		}
	})
}

// partnerSamples are the samples of the partner's page templates for
// TestConsoleTemplates, each at its fullest: forms with errors, every
// answer offered, a proof.
func partnerSamples(at time.Time) map[string]*page {
	link := linkRow{LinkView: &engine.LinkView{Link: &promokit.Link{ID: "lnk_1", Token: "tok", PartnerID: "par_1", StoreID: "sto_1",
		ProductID: "sku-<1>", URL: "https://shop.example.com/<b>Alpha</b>", CreatedAt: at}, LinkStat: storage.LinkStat{Clicks: 3, Flagged: 1}},
		Share: "https://promokit.example.com/r/tok"}
	po := &promokit.Payout{ID: "pay_1", Payer: "sto_1", Payee: "par_1", StoreID: "sto_1", Currency: "USD", Amount: 1000, PaidOn: "2026-01-01",
		Reference: "wire <b>Alpha</b>", State: promokit.PayoutRecorded, CreatedAt: at,
		Proof: &promokit.PayoutProof{Type: promokit.ProofPDF, Size: 10, SHA256: "ab", UploadedAt: at}}
	disputed := *po
	disputed.State, disputed.Message, disputed.DisputedAt = promokit.PayoutDisputed, "Nothing <b>Alpha</b>", &at
	st := &engine.Statement{Party: "par_1", PartyKind: promokit.PartyPartner, TimeZone: "UTC", From: at, To: at.AddDate(0, 1, 0),
		Currencies: []engine.CurrencyStatement{{Currency: "USD", Accounts: []engine.Account{{Account: "payable", Side: "receivable", Counterparty: "store",
			Opening: engine.Balance{Payable: 10}, Closing: engine.Balance{Pending: 5, Payable: 10, Paid: 20},
			Movements: []engine.Movement{{Program: promokit.ProgramAffiliate, Status: promokit.LedgerPending, Kind: promokit.EntryReleased, Amount: 5, Entries: 1}}}}}}}
	entries := []*promokit.LedgerEntry{{ID: 1, Payer: "sto_1", Payee: "par_1", OrderID: "ord-<1>", Program: promokit.ProgramAffiliate,
		Status: promokit.LedgerPayable, Kind: promokit.EntryReleased, Amount: 5000, Currency: "USD", CreatedAt: at}}
	pgr := pager{First: "/console/partner/links", Next: "/console/partner/links?after=lnk_1"}
	return map[string]*page{
		"partner_links": {Title: "Links", Form: newFormErrors(invalidField("store_id", "required", "store_id is required")),
			Data: linksPage{Links: []linkRow{link}, Pager: pgr, New: engine.LinkInput{StoreID: "<b>Alpha</b>"}, Affiliate: true}},
		"partner_link": {Title: "Link lnk_1", Data: linkPage{Link: link,
			Stats:  &engine.LinkDays{TimeZone: "UTC", Days: []engine.LinkDay{{Day: at, Clicks: 2, Flagged: 1, Orders: 1}}},
			Totals: engine.LinkDay{Clicks: 2, Flagged: 1, Orders: 1},
			Period: period{Path: "/console/partner/links/lnk_1", Anchor: "days", Days: 30, Choices: chartDays},
			Charts: []Chart{{Title: "Clicks per day", Unit: "counted clicks", Labels: []string{"Jan 1"}, Values: []int64{2}, Stack: []int64{1}, StackUnit: "flagged clicks"},
				{Title: "Orders per day", Unit: "orders", Labels: []string{"Jan 1"}, Values: []int64{1}}}}},
		"partner_payouts": {Title: "Payouts received", Data: partnerPayoutsPage{Payouts: []*promokit.Payout{po, &disputed}, Pager: pgr}},
		"payout": {Title: "Payout pay_1", Form: newFormErrors(invalidField("message", "invalid", "message must have 1 to 2000 characters")),
			Data: payoutPage{Payout: &disputed, Base: "/console/partner/payouts", Party: "par_1", Message: "Nothing <b>Alpha</b>", CanConfirm: true, CanDispute: true}},
		"partner_earnings": {Title: "Earnings", Data: earningsPage{TimeZone: "UTC", From: "2025-02-01", To: "2026-02-01",
			Currencies: []currencyEarnings{{Currency: "USD", Balance: engine.Balance{Pending: 1, Payable: 2, Paid: 3},
				Programs: []programEarnings{{Program: "<b>Alpha</b>", Amount: 5}},
				Chart:    Chart{Title: "Earnings", Unit: "earned", Labels: []string{"2026-01"}, Values: []int64{5}, Line: true}}}}},
		"partner_codes": {Title: "Codes", Data: partnerCodesPage{Pager: pgr, Codes: []*promokit.Code{{Code: "SUMMER-1", StoreID: "sto_<1>", PromotionID: "prm_1",
			Active: true, Uses: 2, UsageLimit: new(int64), ExpiresAt: &at, CreatedAt: at}}}},
		"partner_code": {Title: "Code SUMMER-1", Data: partnerCodePage{Code: "SUMMER-1", Pager: pgr, Uses: []*engine.CodeUse{{
			Redemption: &promokit.Redemption{ID: 1, OrderID: "ord-<1>", Code: "SUMMER-1", Discount: 500, State: "redeemed", CreatedAt: at},
			Amount:     new(int64), Refunded: new(int64), OrderState: new(string)}}}},
		"statement": {Title: "Statement", Form: newFormErrors(invalidField("from", "invalid", "from must be a date")),
			Data: statementPage{Form: statementForm{From: "<b>Alpha</b>"}, Statement: st, Entries: entries, Pager: pgr,
				From: "2026-01-01", To: "2026-02-01", CSV: "/console/partner/statement/ledger.csv?from=2026-01-01", Previous: "/p", Next: "/n",
				Path: "/console/partner/statement", Party: "par_1", Hint: "<b>Alpha</b>"}},
	}
}

// TestConsolePartnerEarnings shows a partner's earnings after a
// commission of 50.00 USD of which two payouts paid 20.00: its balances
// by status, the affiliate program's earnings, and January's point of the
// chart; a partner without entries has none.
func TestConsolePartnerEarnings(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		b.payouts()
		c := b.signIn(t, b.partner)
		r := c.get("/console/partner/earnings")
		r.want(t, http.StatusOK, "from 2025-02-01 to 2026-02-01", "<strong>0.00 USD</strong> pending", "<strong>30.00 USD</strong> payable",
			"<strong>20.00 USD</strong> paid", `<th scope="row">affiliate</th><td class="num">50.00 USD</td>`,
			"<title>2026-01: 50.00 USD earned</title>", "<title>2025-12: 0.00 USD earned</title>")
		if n := strings.Count(r.Body, `<circle class="point"`); n != earningsMonths {
			t.Fatalf("%d points on the chart, want %d", n, earningsMonths)
		}
		_, otherKey := newAffiliate(t, b, "Eve Affiliate")
		b.signIn(t, otherKey).get("/console/partner/earnings").want(t, http.StatusOK, "No earnings yet")
	})
}

// TestConsolePartnerCodes lists the codes a partner holds, their CSV file
// and a code's uses after an order redeemed it; a code the partner does
// not hold, and its codes for another partner, are 404 pages.
func TestConsolePartnerCodes(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		cart := map[string]any{"store_id": b.shop.ID, "currency": "USD", "lines": []map[string]any{{"product_id": "sku-1", "quantity": 1, "unit_price": 5000}}}
		b.clock.Add(2 * day) // the promotion starts tomorrow
		mustDo(t, b, b.checkout, "POST", "/v1/redeem", map[string]any{"order_id": "ord-code-1", "cart": cart, "codes": []string{b.shopCode}}, http.StatusCreated)
		c := b.signIn(t, b.partner)
		r := c.get("/console/partner/codes")
		r.want(t, http.StatusOK, b.shopCode, "/console/partner/codes.csv", `<td class="num">1</td>`)
		if strings.Contains(r.Body, b.shopCode2) {
			t.Fatalf("the partner's codes list %s, which it does not hold", b.shopCode2)
		}
		csvr := c.get("/console/partner/codes.csv")
		if csvr.StatusCode != http.StatusOK || !strings.HasPrefix(csvr.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(csvr.Body, b.shopCode) || strings.Contains(csvr.Body, b.shopCode2) {
			t.Fatalf("codes CSV: %d %v\n%s", csvr.StatusCode, csvr.Header, csvr.Body)
		}
		c.get("/console/partner/codes/"+strings.ToLower(b.shopCode)).want(t, http.StatusOK, "Code "+b.shopCode, "ord-code-1", "redeemed")
		want404(t, c.get("/console/partner/codes/"+b.shopCode2))
		want404(t, c.get("/console/partner/codes/NOSUCHCODE"))

		_, otherKey := newAffiliate(t, b, "Eve Affiliate")
		other := b.signIn(t, otherKey)
		want404(t, other.get("/console/partner/codes/"+b.shopCode))
		if r := other.get("/console/partner/codes"); r.StatusCode != http.StatusOK || strings.Contains(r.Body, b.shopCode) {
			t.Fatalf("another partner's codes: %d\n%s", r.StatusCode, r.Body)
		}
		if r := other.get("/console/partner/codes.csv"); strings.Contains(r.Body, b.shopCode) {
			t.Fatalf("another partner's CSV holds the code:\n%s", r.Body)
		}
	})
}
