package http

import (
	"context"
	encsv "encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/csv"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// browserAgent is the User-Agent of a person's browser. Only such clicks
// attribute orders: Go's own client agent counts as a script's.
const browserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"

// shopURL is the page shop's store-wide links open.
const shopURL = "https://shop.example.com/"

// day is a calendar day of the tests' marketplace, which runs in UTC.
const day = 24 * time.Hour

// jan returns 0:00 UTC of a day of January 2026.
func jan(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }

// newAffiliate has the admin create an affiliate partner and its key, and
// returns the partner and the key's secret.
func newAffiliate(t *testing.T, b *testBundle, name string) (*promokit.Partner, string) {
	t.Helper()
	p := mustCreate[promokit.Partner](t, b, b.admin, "POST", "/v1/partners", map[string]any{"name": name, "kind": "affiliate"})
	k := mustCreate[keyJSON](t, b, b.admin, "POST", "/v1/keys", map[string]any{"name": name, "role": "partner", "partner_id": p.ID})
	return p, k.Secret
}

// joinShop has shop's seller join the affiliate program at 5%.
func joinShop(t *testing.T, b *testBundle) *engine.Program {
	t.Helper()
	return mustCreate[engine.Program](t, b, b.seller, "POST", "/v1/stores/"+b.shop.ID+"/affiliate/join",
		map[string]any{"accept_terms": true, "rate_bp": 500, "url": shopURL})
}

// createLink has an affiliate create a link to shop's product (to the
// store when product is "").
func createLink(t *testing.T, b *testBundle, key, product string) *linkJSON {
	t.Helper()
	in := map[string]any{"store_id": b.shop.ID}
	if product != "" {
		in["product_id"] = product
	}
	r := mustDo(t, b, key, "POST", "/v1/links", in, http.StatusCreated)
	l := decodeAs[linkJSON](t, r)
	if loc := r.Header.Get("Location"); loc != "/v1/links/"+l.ID {
		t.Errorf("link Location %q, want /v1/links/%s", loc, l.ID)
	}
	return l
}

// open sends GET path (a link's /r/{token}) as a browser does, without a
// key, with hdr as header names and values. Its answers are plain text,
// not problem documents, so it does not go through client.do; it checks
// the answer against docs/openapi.json all the same.
func (b *testBundle) open(t *testing.T, path string, hdr ...string) *response {
	t.Helper()
	req, err := http.NewRequest("GET", b.c.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := b.c.hc.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", path, err)
	}
	if responseHook != nil {
		responseHook(t, req, resp, body)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Errorf("GET %s: no X-Request-Id", path)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("GET %s: Cache-Control %q, want no-store", path, cc)
	}
	return &response{Response: resp, Body: body}
}

// visitorCookieOf returns the pk_vid cookie that r sets, or nil.
func visitorCookieOf(r *response) *http.Cookie {
	for _, c := range r.Cookies() {
		if c.Name == visitorCookie {
			return c
		}
	}
	return nil
}

// wantPlainPage checks a plain-text error page of GET /r/{token}.
func wantPlainPage(t *testing.T, r *response, status int, text string) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("GET %s: status %d, want %d: %s", r.Request.URL.Path, r.StatusCode, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("GET %s: Content-Type %q, want text/plain", r.Request.URL.Path, ct)
	}
	if !strings.Contains(string(r.Body), text) {
		t.Errorf("GET %s: body %q, want it to say %q", r.Request.URL.Path, r.Body, text)
	}
	if h := r.Header.Values("Set-Cookie"); len(h) != 0 {
		t.Errorf("GET %s: %d answered with Set-Cookie %v", r.Request.URL.Path, status, h)
	}
	if loc := r.Header.Get("Location"); loc != "" {
		t.Errorf("GET %s: %d answered with Location %q", r.Request.URL.Path, status, loc)
	}
}

// flush writes the queued clicks.
func flush(t *testing.T, b *testBundle) {
	t.Helper()
	if err := b.svc.FlushClicks(context.Background()); err != nil {
		t.Fatalf("FlushClicks: %v", err)
	}
}

// clicksOf reads a link's click counts as the admin.
func clicksOf(t *testing.T, b *testBundle, id string) (clicks, flagged int64) {
	t.Helper()
	l := decodeAs[linkJSON](t, mustDo(t, b, b.admin, "GET", "/v1/links/"+id, nil, http.StatusOK))
	return l.Clicks, l.Flagged
}

// event posts an order event of shop as its checkout key and decodes the
// answer, which must have status want.
func event(t *testing.T, b *testBundle, orderID string, in map[string]any, want int) *engine.OrderResult {
	t.Helper()
	r := mustDo(t, b, b.checkout, "POST", "/v1/stores/"+b.shop.ID+"/orders/"+orderID+"/events", in, want)
	return decodeAs[engine.OrderResult](t, r)
}

// placedEvent is a placed event of one line of sku-1 and shipping 700.
func placedEvent(id, visitor string, amount int64) map[string]any {
	return map[string]any{
		"id": id, "type": "placed", "visitor_id": visitor, "currency": "USD", "shipping": 700,
		"lines": []map[string]any{{"product_id": "sku-1", "quantity": 1, "amount": amount}},
	}
}

// sumEntries adds the amounts of entries by status.
func sumEntries(es []*promokit.LedgerEntry) (pending, payable int64) {
	for _, e := range es {
		if e.Status == promokit.LedgerPending {
			pending += e.Amount
		} else {
			payable += e.Amount
		}
	}
	return pending, payable
}

// wantProblem checks the code of an error answer.
func wantProblem(t *testing.T, r *response, status int, code string) *problemDoc {
	t.Helper()
	if r.StatusCode != status || r.Problem == nil || r.Problem.Code != code {
		t.Fatalf("%s %s: status %d, want %d %s: %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, code, r.Body)
	}
	return r.Problem
}

// TestAffiliateFlow runs the affiliate program end to end over HTTP: a
// seller joins and sets a product's rate, an affiliate links the product,
// a browser opens the link and gets its visitor cookie, the checkout
// reports the order placed with that visitor id, paid, completed and
// partly refunded, and the order, the partner's and the store's
// statements, ledgers and CSV exports all agree.
func TestAffiliateFlow(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		shop := "/v1/stores/" + b.shop.ID
		aff, affKey := newAffiliate(t, b, "Bea Affiliate")
		mustDo(t, b, b.seller, "PUT", shop+"/products/sku-1", map[string]any{"name": "Shop Widget", "url": "https://shop.example.com/widget"}, http.StatusOK)
		mustDo(t, b, b.seller, "PUT", shop+"/products/sku-2", map[string]any{"name": "Shop Gizmo", "url": "https://shop.example.com/gizmo"}, http.StatusOK)

		// A1: the seller joins at 5% and gives the widget 10%.
		p := decodeAs[engine.Program](t, mustDo(t, b, b.seller, "GET", shop+"/affiliate", nil, http.StatusOK))
		if p.State != engine.ProgramNotJoined || p.Membership != nil || p.Rate != nil {
			t.Fatalf("before joining: %+v", p)
		}
		p = joinShop(t, b)
		if p.State != engine.ProgramJoined || p.Rate == nil || *p.Rate != 500 || p.Membership == nil || p.Membership.URL != shopURL ||
			!p.Membership.JoinedAt.Equal(jan1()) || p.ExitFrom == nil || !p.ExitFrom.Equal(jan1().Add(15*day)) || p.RejoinFrom != nil {
			t.Fatalf("joined: %+v", p)
		}
		p = decodeAs[engine.Program](t, mustDo(t, b, b.seller, "PUT", shop+"/affiliate/products/sku-1/rate", map[string]any{"rate_bp": 1000}, http.StatusOK))
		if len(p.ProductRates) != 1 || p.ProductRates[0].ProductID != "sku-1" || p.ProductRates[0].Rate != 1000 || *p.Rate != 500 {
			t.Fatalf("product rate: %+v", p)
		}
		rates := decodeAs[listJSON[promokit.Rate]](t, mustDo(t, b, b.seller, "GET", shop+"/affiliate/rates", nil, http.StatusOK))
		if len(rates.Data) != 2 || rates.Data[0].ProductID != "sku-1" || rates.Data[0].Rate != 1000 || rates.Data[1].ProductID != "" || rates.Data[1].Rate != 500 {
			t.Fatalf("rates, newest first: %+v", rates.Data)
		}
		// Partners read the program of the stores they promote.
		mustDo(t, b, affKey, "GET", shop+"/affiliate", nil, http.StatusOK)

		// The affiliate links the widget.
		l := createLink(t, b, affKey, "sku-1")
		if l.Path != "/r/"+l.Token || !promokit.ValidLinkToken(l.Token) || l.URL != "https://shop.example.com/widget" ||
			l.PartnerID != aff.ID || l.StoreID != b.shop.ID || l.ProductID != "sku-1" || l.Clicks != 0 {
			t.Fatalf("link: %+v", l)
		}

		// A browser without a cookie opens it: redirected, with a new
		// visitor cookie.
		r := b.open(t, l.Path, "User-Agent", browserAgent, "Referer", "https://blog.example.org/post")
		if r.StatusCode != http.StatusFound || r.Header.Get("Location") != l.URL {
			t.Fatalf("open: status %d, Location %q: %s", r.StatusCode, r.Header.Get("Location"), r.Body)
		}
		c := visitorCookieOf(r)
		if c == nil {
			t.Fatalf("open: no %s cookie: %v", visitorCookie, r.Header.Values("Set-Cookie"))
		}
		if !promokit.ValidVisitorID(c.Value) || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" ||
			c.MaxAge != visitorMaxAge || c.Secure {
			t.Fatalf("visitor cookie: %+v (%v)", c, r.Header.Values("Set-Cookie"))
		}
		visitor := c.Value
		// With the cookie: redirected, no new cookie.
		r = b.open(t, l.Path, "User-Agent", browserAgent, "Cookie", visitorCookie+"="+visitor)
		if r.StatusCode != http.StatusFound || r.Header.Get("Location") != l.URL {
			t.Fatalf("open again: status %d: %s", r.StatusCode, r.Body)
		}
		if h := r.Header.Values("Set-Cookie"); len(h) != 0 {
			t.Fatalf("open with a cookie set another: %v", h)
		}
		flush(t, b)
		v := decodeAs[linkJSON](t, mustDo(t, b, affKey, "GET", "/v1/links/"+l.ID, nil, http.StatusOK))
		if v.Clicks != 2 || v.Flagged != 0 {
			t.Fatalf("link after two clicks: %+v", v)
		}
		mustDo(t, b, b.seller, "GET", "/v1/links/"+l.ID, nil, http.StatusOK)
		if links := decodeAs[listJSON[linkJSON]](t, mustDo(t, b, affKey, "GET", "/v1/links", nil, http.StatusOK)); len(links.Data) != 1 ||
			links.Data[0].ID != l.ID || links.Data[0].Clicks != 2 {
			t.Fatalf("the affiliate's links: %+v", links.Data)
		}

		// The checkout reports the order with the cookie's value. A4:
		// widget 10% of 100.00 = 10.00; gizmo 5% of 33.33 = 1.6665 → 1.67;
		// shipping earns nothing.
		b.clock.Add(time.Minute)
		orderPath := shop + "/orders/o1"
		placed := map[string]any{
			"id": "o1-placed", "type": "placed", "visitor_id": visitor, "customer_id": "cus-1", "currency": "USD", "shipping": 700,
			"lines": []map[string]any{
				{"product_id": "sku-1", "quantity": 1, "amount": 10000},
				{"product_id": "sku-2", "quantity": 2, "amount": 3333},
			},
		}
		res := event(t, b, "o1", placed, http.StatusCreated)
		o := res.Order
		if o.Attribution == nil || o.Attribution.PartnerID != aff.ID || o.Attribution.LinkID != l.ID || o.Attribution.Program != promokit.ProgramAffiliate {
			t.Fatalf("attribution: %+v", o.Attribution)
		}
		if o.State != promokit.OrderPlaced || o.Lines[0].Rate != 1000 || o.Lines[0].RateSource != "product" ||
			o.Lines[1].Rate != 500 || o.Lines[1].RateSource != "general" {
			t.Fatalf("placed: %+v", o)
		}
		if pend, pay := sumEntries(res.Entries); len(res.Entries) != 2 || pend != 1000+167 || pay != 0 ||
			res.Entries[0].Kind != promokit.EntryAccrued || res.Entries[0].Payee != aff.ID || res.Entries[0].Payer != b.shop.ID || res.Replayed {
			t.Fatalf("accrued: %+v", res.Entries)
		}
		res = event(t, b, "o1", map[string]any{"id": "o1-paid", "type": "paid"}, http.StatusCreated)
		if res.Order.State != promokit.OrderPaid || res.Order.Paid != 10000+3333+700 || len(res.Entries) != 0 {
			t.Fatalf("paid: %+v", res)
		}
		// Completion releases at once: the policy holds nothing.
		res = event(t, b, "o1", map[string]any{"id": "o1-completed", "type": "completed"}, http.StatusCreated)
		if pend, pay := sumEntries(res.Entries); res.Order.State != promokit.OrderCompleted || !res.Order.Released ||
			len(res.Entries) != 4 || pend != -1167 || pay != 1167 {
			t.Fatalf("completed: %+v %+v", res.Order, res.Entries)
		}
		// A partial refund of the widget after release: 10% of 75.00 is
		// 7.50, so 2.50 is reversed.
		refund := map[string]any{"id": "o1-refund-1", "type": "refunded",
			"refund": map[string]any{"lines": []map[string]any{{"line": 0, "amount": 2500, "quantity": 0}}}}
		res = event(t, b, "o1", refund, http.StatusCreated)
		if len(res.Entries) != 1 || res.Entries[0].Amount != -250 || res.Entries[0].Kind != promokit.EntryReversed ||
			res.Entries[0].Status != promokit.LedgerPayable || res.Entries[0].Basis != 7500 || res.Order.Lines[0].Refunded != 2500 {
			t.Fatalf("refund: %+v", res.Entries)
		}
		// Replayed: 200, nothing written.
		res = event(t, b, "o1", refund, http.StatusOK)
		if !res.Replayed || len(res.Entries) != 0 || res.Order.Lines[0].Refunded != 2500 {
			t.Fatalf("replayed refund: %+v", res)
		}

		// The order shows its attribution and every entry.
		const payable = 1000 + 167 - 250
		for _, key := range []string{b.seller, b.checkout, b.admin} {
			ov := decodeAs[engine.OrderView](t, mustDo(t, b, key, "GET", orderPath, nil, http.StatusOK))
			if pend, pay := sumEntries(ov.Entries); ov.Order.Attribution == nil || ov.Order.Attribution.LinkID != l.ID ||
				len(ov.Entries) != 7 || pend != 0 || pay != payable || ov.Order.Lines[0].Refunded != 2500 {
				t.Fatalf("order: %+v, entries %+v", ov.Order, ov.Entries)
			}
		}

		// The partner's statement, ledger and export agree.
		partner := "/v1/partners/" + aff.ID
		st := decodeAs[engine.Statement](t, mustDo(t, b, affKey, "GET", partner+"/statement", nil, http.StatusOK))
		if st.Party != aff.ID || st.PartyKind != promokit.PartyPartner || st.TimeZone != "UTC" || !st.From.Equal(jan(1)) || !st.To.Equal(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) || len(st.Currencies) != 1 {
			t.Fatalf("partner statement: %+v", st)
		}
		if len(st.Currencies[0].Accounts) != 1 || st.Currencies[0].Currency != "USD" {
			t.Fatalf("partner statement: %+v", st)
		}
		cs := st.Currencies[0].Accounts[0]
		if cs.Account != "earnings_from_stores" || cs.Side != promokit.SidePayee || cs.Counterparty != promokit.PartyStore || cs.Opening != (engine.Balance{}) || cs.Closing != (engine.Balance{Pending: 0, Payable: payable}) {
			t.Fatalf("partner statement in USD: %+v", cs)
		}
		var moved engine.Balance
		n := int64(0)
		for _, m := range cs.Movements {
			if m.Status == promokit.LedgerPending {
				moved.Pending += m.Amount
			} else {
				moved.Payable += m.Amount
			}
			n += m.Entries
		}
		if moved != cs.Closing || n != 7 {
			t.Fatalf("movements %+v add up to %+v in %d entries, closing %+v", cs.Movements, moved, n, cs.Closing)
		}
		// The ledger, three entries a page.
		var entries []*promokit.LedgerEntry
		for after, pages := "", 0; ; pages++ {
			path := partner + "/ledger?limit=3"
			if after != "" {
				path += "&after=" + after
			}
			page := decodeAs[listJSON[*promokit.LedgerEntry]](t, mustDo(t, b, affKey, "GET", path, nil, http.StatusOK))
			entries = append(entries, page.Data...)
			if after = page.NextCursor; after == "" || pages > 5 {
				break
			}
		}
		wantProblem(t, b.c.do(t, "GET", partner+"/ledger?after=x", affKey, nil), http.StatusUnprocessableEntity, promokit.EInvalid)
		if pend, pay := sumEntries(entries); len(entries) != 7 || pend != 0 || pay != payable {
			t.Fatalf("ledger: %d entries, %d pending, %d payable", len(entries), pend, pay)
		}
		for i := 1; i < len(entries); i++ {
			if entries[i].ID <= entries[i-1].ID {
				t.Fatalf("ledger not by id: %d after %d", entries[i].ID, entries[i-1].ID)
			}
		}
		checkLedgerCSV(t, b, affKey, partner+"/ledger.csv", "partner-"+aff.ID+"-ledger-2026-01-01.csv", entries, cs.Closing)

		// The store's statement: what it owes, to everyone and to this partner.
		for _, q := range []struct{ key, query string }{{b.seller, ""}, {b.admin, ""}, {b.seller, "?partner_id=" + aff.ID}, {affKey, "?partner_id=" + aff.ID}} {
			st := decodeAs[engine.Statement](t, mustDo(t, b, q.key, "GET", shop+"/statement"+q.query, nil, http.StatusOK))
			if st.Party != b.shop.ID || len(st.Currencies) != 1 || len(st.Currencies[0].Accounts) != 1 ||
				st.Currencies[0].Accounts[0].Account != "commissions" || st.Currencies[0].Accounts[0].Closing != cs.Closing {
				t.Fatalf("store statement%s: %+v", q.query, st)
			}
		}
		if l := decodeAs[listJSON[*promokit.LedgerEntry]](t, mustDo(t, b, b.seller, "GET", shop+"/ledger", nil, http.StatusOK)); len(l.Data) != 7 {
			t.Fatalf("store ledger: %d entries", len(l.Data))
		}
		checkLedgerCSV(t, b, b.seller, shop+"/ledger.csv", "store-"+b.shop.ID+"-ledger-2026-01-01.csv", entries, cs.Closing)
		// A seller reads what its store owes the partner on the partner's statement.
		mustDo(t, b, b.seller, "GET", partner+"/statement?store_id="+b.shop.ID, nil, http.StatusOK)

		// Next month opens with what January closed with.
		st = decodeAs[engine.Statement](t, mustDo(t, b, affKey, "GET", partner+"/statement?from=2026-02-01", nil, http.StatusOK))
		if len(st.Currencies) != 1 || st.Currencies[0].Accounts[0].Opening != cs.Closing || len(st.Currencies[0].Accounts[0].Movements) != 0 ||
			st.Currencies[0].Accounts[0].Closing != cs.Closing {
			t.Fatalf("February: %+v", st)
		}
		// A period in RFC 3339 times that ends before the order has nothing.
		st = decodeAs[engine.Statement](t, mustDo(t, b, affKey, "GET", partner+"/statement?from=2025-12-01T00:00:00Z&to=2026-01-01T09:00:00Z", nil, http.StatusOK))
		if len(st.Currencies) != 0 {
			t.Fatalf("December: %+v", st)
		}
		r = mustDo(t, b, affKey, "GET", partner+"/statement?from=yesterday", nil, http.StatusUnprocessableEntity)
		if len(r.Problem.Errors) != 1 || r.Problem.Errors[0].Field != "from" {
			t.Fatalf("bad period: %s", r.Body)
		}
		wantProblem(t, mustDo(t, b, affKey, "GET", partner+"/statement?from=2026-03-01&to=2026-02-01", nil, http.StatusUnprocessableEntity), 422, promokit.EInvalid)
		wantProblem(t, mustDo(t, b, affKey, "GET", partner+"/statement?from=2025-01-01&to=2026-03-01", nil, http.StatusUnprocessableEntity), 422, promokit.EInvalid)
	})
}

// checkLedgerCSV reads a ledger export and checks its file name, header,
// rows (the entries, in order) and that its amounts add up to closing.
func checkLedgerCSV(t *testing.T, b *testBundle, key, path, filename string, entries []*promokit.LedgerEntry, closing engine.Balance) {
	t.Helper()
	r := mustDo(t, b, key, "GET", path, nil, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("%s: Content-Type %q", path, ct)
	}
	if cd := r.Header.Get("Content-Disposition"); cd != `attachment; filename="`+filename+`"` {
		t.Errorf("%s: Content-Disposition %q, want the file %s", path, cd, filename)
	}
	recs, err := encsv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	header := csv.LedgerHeader()
	if len(recs) == 0 || strings.Join(recs[0], ",") != strings.Join(header, ",") {
		t.Fatalf("%s: header %v, want %v", path, recs[0], header)
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	rows := recs[1:]
	if len(rows) != len(entries) {
		t.Fatalf("%s: %d rows, want %d", path, len(rows), len(entries))
	}
	var sum engine.Balance
	for i, row := range rows {
		e := entries[i]
		amount, err := strconv.ParseInt(row[col["amount"]], 10, 64)
		if err != nil {
			t.Fatalf("%s: row %d amount %q", path, i+1, row[col["amount"]])
		}
		if row[col["entry_id"]] != strconv.FormatInt(e.ID, 10) || amount != e.Amount || row[col["status"]] != e.Status ||
			row[col["kind"]] != e.Kind || row[col["payer"]] != e.Payer || row[col["payee"]] != e.Payee || row[col["store_id"]] != e.StoreID ||
			row[col["rule"]] != e.Rule || row[col["program"]] != e.Program ||
			row[col["order_id"]] != e.OrderID || row[col["currency"]] != e.Currency || row[col["event_id"]] != e.EventID {
			t.Fatalf("%s: row %d %v, entry %+v", path, i+1, row, e)
		}
		if row[col["status"]] == promokit.LedgerPending {
			sum.Pending += amount
		} else {
			sum.Payable += amount
		}
	}
	if sum != closing {
		t.Fatalf("%s: rows add up to %+v, the statement closes at %+v", path, sum, closing)
	}
}

// TestAffiliateExit follows A2 over HTTP with the clock moved: an early
// exit is refused with the rule, the limit and when it becomes possible;
// the exit takes effect at 0:00 the next day, after which the store's
// links answer a plain 410 and record nothing, and orders earn nothing;
// an early rejoin is refused like an early exit. Forged tokens answer a
// plain 404.
func TestAffiliateExit(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		shop := "/v1/stores/" + b.shop.ID
		_, affKey := newAffiliate(t, b, "Bea Affiliate")
		joinShop(t, b) // January 1, 9:00
		l := createLink(t, b, affKey, "")
		if l.URL != shopURL || l.ProductID != "" {
			t.Fatalf("store link: %+v", l)
		}

		// Tokens of no link: a plain 404, no cookie, nothing recorded.
		for _, tok := range []string{"AAAAAAAAAAAAAAAA", l.Token[:15], l.Token + "A", "not-a-token", "%00%01"} {
			r := b.open(t, "/r/"+tok, "User-Agent", browserAgent)
			wantPlainPage(t, r, http.StatusNotFound, "does not exist")
		}
		flush(t, b)
		if c, _ := clicksOf(t, b, l.ID); c != 0 {
			t.Fatalf("%d clicks recorded for forged tokens", c)
		}

		// A2: exit from 15 days after joining; a second early.
		exit := shop + "/affiliate/exit"
		b.clock.Set(jan1().Add(15*day - time.Second))
		r := mustDo(t, b, b.seller, "POST", exit, nil, http.StatusUnprocessableEntity)
		p := wantProblem(t, r, http.StatusUnprocessableEntity, promokit.EPolicy)
		if p.Rule != "A2" || p.Limit == nil || *p.Limit != 15 || p.Current == nil || *p.Current != 14 ||
			p.PossibleFrom == nil || !p.PossibleFrom.Equal(jan1().Add(15*day)) {
			t.Fatalf("early exit: %s", r.Body)
		}
		if !strings.Contains(string(r.Body), `"possible_from":"2026-01-16T09:00:00Z"`) {
			t.Fatalf("early exit: possible_from: %s", r.Body)
		}
		prog := decodeAs[engine.Program](t, mustDo(t, b, b.seller, "GET", shop+"/affiliate", nil, http.StatusOK))
		if prog.State != engine.ProgramJoined || prog.Membership.ExitsAt != nil || prog.Membership.ExitRequestedAt != nil {
			t.Fatalf("after the refused exit: %+v", prog)
		}

		b.clock.Set(jan1().Add(15 * day))
		prog = decodeAs[engine.Program](t, mustDo(t, b, b.seller, "POST", exit, nil, http.StatusOK))
		if prog.State != engine.ProgramExiting || prog.Membership.ExitsAt == nil || !prog.Membership.ExitsAt.Equal(jan(17)) ||
			prog.Membership.ExitRequestedAt == nil || !prog.Membership.ExitRequestedAt.Equal(jan1().Add(15*day)) {
			t.Fatalf("exiting: %+v", prog)
		}
		wantProblem(t, b.c.do(t, "POST", exit, b.seller, nil), http.StatusConflict, promokit.EConflict)
		// No new link to an exiting store.
		wantProblem(t, b.c.do(t, "POST", "/v1/links", affKey, map[string]any{"store_id": b.shop.ID}), http.StatusConflict, promokit.EConflict)

		// The link works until 0:00 the next day.
		b.clock.Set(jan(17).Add(-time.Second))
		r = b.open(t, l.Path, "User-Agent", browserAgent)
		if r.StatusCode != http.StatusFound || r.Header.Get("Location") != shopURL || visitorCookieOf(r) == nil {
			t.Fatalf("open before the exit: %d %v", r.StatusCode, r.Header)
		}
		visitor := visitorCookieOf(r).Value
		flush(t, b)

		// From 0:00 it is gone: no redirect, no cookie, no click.
		b.clock.Set(jan(17))
		wantPlainPage(t, b.open(t, l.Path, "User-Agent", browserAgent), http.StatusGone, "no longer active")
		wantPlainPage(t, b.open(t, l.Path, "User-Agent", browserAgent, "Cookie", visitorCookie+"="+visitor), http.StatusGone, "no longer active")
		flush(t, b)
		if c, _ := clicksOf(t, b, l.ID); c != 1 {
			t.Fatalf("%d clicks, want 1: none once gone", c)
		}
		// No order placed after the exit earns commission, even with a
		// click inside the window.
		res := event(t, b, "late", placedEvent("late-placed", visitor, 10000), http.StatusCreated)
		if res.Order.Attribution != nil || len(res.Entries) != 0 {
			t.Fatalf("order after the exit: %+v %+v", res.Order.Attribution, res.Entries)
		}
		prog = decodeAs[engine.Program](t, mustDo(t, b, b.seller, "GET", shop+"/affiliate", nil, http.StatusOK))
		if prog.State != engine.ProgramExited || prog.RejoinFrom == nil || !prog.RejoinFrom.Equal(jan(24)) || prog.Rate != nil {
			t.Fatalf("exited: %+v", prog)
		}
		wantProblem(t, b.c.do(t, "PUT", shop+"/affiliate/rate", b.seller, map[string]any{"rate_bp": 700}), http.StatusConflict, promokit.EConflict)

		// Rejoin from the exit + 7 days.
		b.clock.Set(jan(24).Add(-time.Second))
		join := map[string]any{"accept_terms": true, "rate_bp": 800, "url": shopURL}
		r = mustDo(t, b, b.seller, "POST", shop+"/affiliate/join", join, http.StatusUnprocessableEntity)
		p = wantProblem(t, r, http.StatusUnprocessableEntity, promokit.EPolicy)
		if p.Rule != "A2" || *p.Limit != 7 || p.PossibleFrom == nil || !p.PossibleFrom.Equal(jan(24)) {
			t.Fatalf("early rejoin: %s", r.Body)
		}
		b.clock.Set(jan(24))
		prog = mustCreate[engine.Program](t, b, b.seller, "POST", shop+"/affiliate/join", join)
		if prog.State != engine.ProgramJoined || *prog.Rate != 800 {
			t.Fatalf("rejoined: %+v", prog)
		}
		r = b.open(t, l.Path, "User-Agent", browserAgent, "Cookie", visitorCookie+"="+visitor)
		if r.StatusCode != http.StatusFound || visitorCookieOf(r) != nil {
			t.Fatalf("open after rejoining: %d %v", r.StatusCode, r.Header)
		}
	})
}

// TestAffiliateClicksFlagged checks that clicks of scripts and bots, and
// a flood of one visitor, are counted, flagged and never attribute.
func TestAffiliateClicksFlagged(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.OpenSQLite)
	_, affKey := newAffiliate(t, b, "Bea Affiliate")
	joinShop(t, b)
	l := createLink(t, b, affKey, "")
	// Go's own client agent and a link preview are flagged.
	r := b.open(t, l.Path)
	if r.StatusCode != http.StatusFound {
		t.Fatalf("open as a script: %d", r.StatusCode)
	}
	script := visitorCookieOf(r).Value
	b.open(t, l.Path, "User-Agent", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)")
	flush(t, b)
	if c, f := clicksOf(t, b, l.ID); c != 2 || f != 2 {
		t.Fatalf("clicks %d, flagged %d; want 2 and 2", c, f)
	}
	b.clock.Add(time.Minute)
	res := event(t, b, "o-script", placedEvent("o-script-placed", script, 10000), http.StatusCreated)
	if res.Order.Attribution != nil {
		t.Fatalf("a script's click attributed an order: %+v", res.Order.Attribution)
	}
	// P2: past 20 clicks of one visitor within the hour, a flood.
	r = b.open(t, l.Path, "User-Agent", browserAgent)
	visitor := visitorCookieOf(r).Value
	for range 21 {
		b.open(t, l.Path, "User-Agent", browserAgent, "Cookie", visitorCookie+"="+visitor)
	}
	flush(t, b)
	if c, f := clicksOf(t, b, l.ID); c != 2+22 || f != 2+2 {
		t.Fatalf("clicks %d, flagged %d; want 24 and 4", c, f)
	}
	// A cookie that is no visitor id of ours is replaced.
	r = b.open(t, l.Path, "User-Agent", browserAgent, "Cookie", visitorCookie+"=forged")
	if c := visitorCookieOf(r); c == nil || !promokit.ValidVisitorID(c.Value) {
		t.Fatalf("a forged cookie was kept: %v", r.Header.Values("Set-Cookie"))
	}
	// Over plain HTTP the cookie is not Secure, even when a client says
	// X-Forwarded-Proto: https to a server that trusts no proxy.
	r = b.open(t, l.Path, "User-Agent", browserAgent, "X-Forwarded-Proto", "https")
	if c := visitorCookieOf(r); c == nil || c.Secure {
		t.Fatalf("cookie without a trusted proxy: %v", r.Header.Values("Set-Cookie"))
	}
}

// TestAffiliateCookieBehindProxy checks that the visitor cookie is Secure
// when a trusted proxy says the request came over HTTPS.
func TestAffiliateCookieBehindProxy(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.OpenSQLite, func(c *Config) { c.TrustProxy = true })
	_, affKey := newAffiliate(t, b, "Bea Affiliate")
	joinShop(t, b)
	l := createLink(t, b, affKey, "")
	r := b.open(t, l.Path, "User-Agent", browserAgent, "X-Forwarded-Proto", "https")
	if c := visitorCookieOf(r); r.StatusCode != http.StatusFound || c == nil || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
		t.Fatalf("cookie behind a TLS proxy: %d %v", r.StatusCode, r.Header.Values("Set-Cookie"))
	}
	r = b.open(t, l.Path, "User-Agent", browserAgent)
	if c := visitorCookieOf(r); c == nil || c.Secure {
		t.Fatalf("cookie behind a plain proxy: %v", r.Header.Values("Set-Cookie"))
	}
}

// TestOrderEvents checks the refusals of the order events over HTTP: a
// replay answers 200 and writes nothing, the same id with another content
// is 409, an unknown order 404, a refund past what was paid or past a
// line 422 with the fields, and none of them writes anything.
func TestOrderEvents(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		shop := "/v1/stores/" + b.shop.ID
		_, affKey := newAffiliate(t, b, "Bea Affiliate")
		joinShop(t, b)
		l := createLink(t, b, affKey, "")
		visitor := visitorCookieOf(b.open(t, l.Path, "User-Agent", browserAgent)).Value
		flush(t, b)
		b.clock.Add(time.Minute)

		placed := placedEvent("o1-placed", visitor, 10000)
		res := event(t, b, "o1", placed, http.StatusCreated)
		if res.Order.Attribution == nil || len(res.Entries) != 1 || res.Entries[0].Amount != 500 {
			t.Fatalf("placed: %+v %+v", res.Order, res.Entries)
		}
		event(t, b, "o1", map[string]any{"id": "o1-paid", "type": "paid", "amount": 5000}, http.StatusCreated)

		// Replays answer the order as it is now and write nothing.
		res = event(t, b, "o1", placed, http.StatusOK)
		if !res.Replayed || len(res.Entries) != 0 || res.Order.Paid != 5000 || res.Order.State != promokit.OrderPaid {
			t.Fatalf("replayed placed: %+v", res)
		}
		orderPath := shop + "/orders/o1"
		before := mustDo(t, b, b.admin, "GET", orderPath, nil, http.StatusOK).Body

		post := func(orderID string, in any) *response {
			return b.c.do(t, "POST", shop+"/orders/"+orderID+"/events", b.checkout, in)
		}
		// The same id with another content, or for another order: 409.
		wantProblem(t, post("o1", placedEvent("o1-placed", visitor, 9999)), http.StatusConflict, promokit.EConflict)
		wantProblem(t, post("o2", placedEvent("o1-placed", visitor, 10000)), http.StatusConflict, promokit.EConflict)
		wantProblem(t, post("o1", map[string]any{"id": "o1-paid", "type": "paid", "amount": 4000}), http.StatusConflict, promokit.EConflict)
		// Another placed event of a placed order: 409.
		wantProblem(t, post("o1", placedEvent("o1-placed-again", visitor, 10000)), http.StatusConflict, promokit.EConflict)
		// An event of an unknown order: 404.
		wantProblem(t, post("nope", map[string]any{"id": "nope-completed", "type": "completed"}), http.StatusNotFound, promokit.ENotFound)
		wantProblem(t, b.c.do(t, "GET", shop+"/orders/nope", b.checkout, nil), http.StatusNotFound, promokit.ENotFound)
		// A refund past what was paid, or past the line: 422 with the field.
		for _, c := range []struct {
			refund      map[string]any
			field, code string
		}{
			{map[string]any{"lines": []map[string]any{{"line": 0, "amount": 6000}}}, "refund", "exceeds_paid"},
			{map[string]any{"lines": []map[string]any{{"line": 0, "amount": 4000}}, "shipping": 1500}, "refund/shipping", "exceeds_shipping"},
			{map[string]any{"lines": []map[string]any{{"line": 0, "amount": 10001}}}, "refund/lines/0/amount", "exceeds_line"},
			{map[string]any{"lines": []map[string]any{{"line": 0, "amount": 100, "quantity": 2}}}, "refund/lines/0/quantity", "exceeds_line"},
			{map[string]any{"lines": []map[string]any{{"line": 3, "amount": 100}}}, "refund/lines/0/line", "unknown_line"},
			{map[string]any{"reason": "mistake", "lines": []map[string]any{{"line": 0, "amount": 100}}}, "refund/reason", "invalid"},
			{map[string]any{}, "refund", "invalid"},
		} {
			r := post("o1", map[string]any{"id": "o1-refund-x", "type": "refunded", "refund": c.refund})
			p := wantProblem(t, r, http.StatusUnprocessableEntity, promokit.EInvalid)
			if len(p.Errors) != 1 || p.Errors[0].Field != c.field || p.Errors[0].Code != c.code || p.Errors[0].Message == "" {
				t.Fatalf("refund %v: %s", c.refund, r.Body)
			}
		}
		// A payment past the total: 422.
		r := post("o1", map[string]any{"id": "o1-paid-x", "type": "paid", "amount": 5701})
		if p := wantProblem(t, r, http.StatusUnprocessableEntity, promokit.EInvalid); p.Errors[0].Field != "amount" || p.Errors[0].Code != "exceeds_total" {
			t.Fatalf("overpaid: %s", r.Body)
		}
		// Events that do not validate: 422; that do not decode: 400.
		wantProblem(t, post("o1", map[string]any{"id": "o1-x", "type": "shipped"}), http.StatusUnprocessableEntity, promokit.EInvalid)
		wantProblem(t, post("o1", map[string]any{"id": "", "type": "completed"}), http.StatusUnprocessableEntity, promokit.EInvalid)
		wantProblem(t, post("o1", map[string]any{"id": "o1-x", "type": "completed", "amount": 5}), http.StatusUnprocessableEntity, promokit.EInvalid)
		wantProblem(t, post("o1", map[string]any{"id": "o1-x", "type": "completed", "at": jan1().Add(time.Hour)}), http.StatusUnprocessableEntity, promokit.EInvalid)
		wantProblem(t, post(strings.Repeat("o", 101), map[string]any{"id": "o1-x", "type": "completed"}), http.StatusUnprocessableEntity, promokit.EInvalid)
		wantProblem(t, post("o1", map[string]any{"id": "o1-x", "type": "completed", "colour": "red"}), http.StatusBadRequest, promokit.EMalformed)
		wantProblem(t, post("o1", map[string]any{"id": "o1-x", "type": "paid", "amount": "5"}), http.StatusBadRequest, promokit.EMalformed)

		// Nothing was written: the order is as it was, and the refused
		// refund's id is still free.
		if after := mustDo(t, b, b.admin, "GET", orderPath, nil, http.StatusOK).Body; string(after) != string(before) {
			t.Fatalf("a refused event changed the order:\nbefore %s\nafter  %s", before, after)
		}
		res = event(t, b, "o1", map[string]any{"id": "o1-refund-x", "type": "refunded",
			"refund": map[string]any{"reason": "return", "lines": []map[string]any{{"line": 0, "amount": 5000, "quantity": 1}}}}, http.StatusCreated)
		// Before completion the pending commission is adjusted: 5% of 50.00.
		if len(res.Entries) != 1 || res.Entries[0].Kind != promokit.EntryAdjusted || res.Entries[0].Amount != -250 || res.Entries[0].Status != promokit.LedgerPending {
			t.Fatalf("refund before completion: %+v", res.Entries)
		}
		// A cancelled order takes no more events; its commission is reversed.
		res = event(t, b, "o1", map[string]any{"id": "o1-cancelled", "type": "cancelled"}, http.StatusCreated)
		if pend, _ := sumEntries(res.Entries); res.Order.State != promokit.OrderCancelled || pend != -250 {
			t.Fatalf("cancelled: %+v %+v", res.Order, res.Entries)
		}
		wantProblem(t, post("o1", map[string]any{"id": "o1-completed", "type": "completed"}), http.StatusConflict, promokit.EConflict)
		ov := decodeAs[engine.OrderView](t, mustDo(t, b, b.seller, "GET", orderPath, nil, http.StatusOK))
		if pend, pay := sumEntries(ov.Entries); pend != 0 || pay != 0 || len(ov.Entries) != 3 {
			t.Fatalf("cancelled order's entries: %+v", ov.Entries)
		}
	})
}

// TestAffiliateInputs checks the validation of the program's inputs.
func TestAffiliateInputs(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.OpenSQLite)
	shop := "/v1/stores/" + b.shop.ID
	r := mustDo(t, b, b.seller, "POST", shop+"/affiliate/join", map[string]any{"rate_bp": 0, "url": "ftp://x"}, http.StatusUnprocessableEntity)
	fields := map[string]bool{}
	for _, e := range r.Problem.Errors {
		fields[e.Field] = true
	}
	if len(fields) != 3 || !fields["accept_terms"] || !fields["rate_bp"] || !fields["url"] {
		t.Fatalf("join without terms, rate or url: %s", r.Body)
	}
	mustDo(t, b, b.seller, "POST", shop+"/affiliate/join", map[string]any{"accept_terms": true, "rate_bp": 500, "url": shopURL, "x": 1}, http.StatusBadRequest)
	mustDo(t, b, b.seller, "POST", shop+"/affiliate/exit", nil, http.StatusConflict)
	mustDo(t, b, b.seller, "PUT", shop+"/affiliate/rate", map[string]any{"rate_bp": 500}, http.StatusConflict)
	_, affKey := newAffiliate(t, b, "Bea Affiliate")
	mustDo(t, b, affKey, "POST", "/v1/links", map[string]any{"store_id": b.shop.ID}, http.StatusConflict)
	joinShop(t, b)
	mustDo(t, b, b.seller, "POST", shop+"/affiliate/join", map[string]any{"accept_terms": true, "rate_bp": 500, "url": shopURL}, http.StatusConflict)
	for _, c := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"PUT", shop + "/affiliate/rate", map[string]any{"rate_bp": 0}, http.StatusUnprocessableEntity},
		{"PUT", shop + "/affiliate/rate", map[string]any{"rate_bp": 10001}, http.StatusUnprocessableEntity},
		{"PUT", shop + "/affiliate/rate", map[string]any{}, http.StatusUnprocessableEntity},
		{"PUT", shop + "/affiliate/products/sku-1/rate", map[string]any{"rate_bp": 0}, http.StatusOK},
		{"PUT", shop + "/affiliate/products/sku-1/rate", map[string]any{"rate_bp": -1}, http.StatusUnprocessableEntity},
		{"PUT", shop + "/affiliate/products/nope/rate", map[string]any{"rate_bp": 100}, http.StatusNotFound},
		{"DELETE", shop + "/affiliate/products/sku-1/rate", nil, http.StatusOK},
		{"GET", shop + "/affiliate/rates?after=x", nil, http.StatusUnprocessableEntity},
		{"GET", shop + "/affiliate/rates?limit=0", nil, http.StatusUnprocessableEntity},
		{"GET", "/v1/links?limit=5000", nil, http.StatusUnprocessableEntity},
		{"GET", "/v1/links/lnk_nope", nil, http.StatusNotFound},
	} {
		mustDo(t, b, b.seller, c.method, c.path, c.body, c.want)
	}
	rates := decodeAs[listJSON[promokit.Rate]](t, mustDo(t, b, b.seller, "GET", shop+"/affiliate/rates?limit=2", nil, http.StatusOK))
	if len(rates.Data) != 2 || !rates.Data[0].Removed || rates.Data[0].ProductID != "sku-1" || rates.NextCursor == "" {
		t.Fatalf("rates: %+v", rates)
	}
	// The widget has no page yet: no link to it.
	mustDo(t, b, affKey, "POST", "/v1/links", map[string]any{"store_id": b.shop.ID, "product_id": "sku-1"}, http.StatusConflict)
	mustDo(t, b, affKey, "POST", "/v1/links", map[string]any{"store_id": b.shop.ID, "product_id": "nope"}, http.StatusNotFound)
	mustDo(t, b, affKey, "POST", "/v1/links", map[string]any{"store_id": "sto_nope"}, http.StatusNotFound)
	mustDo(t, b, affKey, "POST", "/v1/links", map[string]any{}, http.StatusUnprocessableEntity)
	mustDo(t, b, b.admin, "POST", "/v1/links", map[string]any{"store_id": b.shop.ID}, http.StatusUnprocessableEntity)
	mustDo(t, b, b.admin, "POST", "/v1/links", map[string]any{"store_id": b.shop.ID, "partner_id": b.partnr.ID}, http.StatusForbidden)
}

// TestAffiliateForeignPrincipals sends every new route's request as
// principals with no business with the shop's program, its affiliate or
// its orders: another store's seller, another partner, another affiliate,
// another store's checkout key and the shop's storefront key. Each is
// answered 404 or 403 (a partner may read a store's program, and naming
// another partner as a link's owner is 422), and nothing changes.
func TestAffiliateForeignPrincipals(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		shop := "/v1/stores/" + b.shop.ID
		aff, affKey := newAffiliate(t, b, "Bea Affiliate")
		_, aff2Key := newAffiliate(t, b, "Cid Affiliate")
		otherCheckout := mustCreate[keyJSON](t, b, b.admin, "POST", "/v1/keys", map[string]any{"name": "other checkout", "role": "checkout", "store_id": b.other.ID}).Secret
		mustDo(t, b, b.seller, "PUT", shop+"/products/sku-1", map[string]any{"name": "Shop Widget", "url": "https://shop.example.com/widget"}, http.StatusOK)
		joinShop(t, b)
		mustDo(t, b, b.seller, "PUT", shop+"/affiliate/products/sku-1/rate", map[string]any{"rate_bp": 1000}, http.StatusOK)
		l := createLink(t, b, affKey, "sku-1")
		visitor := visitorCookieOf(b.open(t, l.Path, "User-Agent", browserAgent)).Value
		flush(t, b)
		b.clock.Add(time.Minute)
		event(t, b, "o1", placedEvent("o1-placed", visitor, 10000), http.StatusCreated)

		// What must not change, as the admin reads it.
		reads := []string{
			shop + "/affiliate", shop + "/affiliate/rates", "/v1/links", "/v1/links/" + l.ID, shop + "/orders/o1",
			"/v1/partners/" + aff.ID + "/statement", "/v1/partners/" + aff.ID + "/ledger", shop + "/ledger.csv",
		}
		snapshot := func() []string {
			out := make([]string, len(reads))
			for i, p := range reads {
				out[i] = string(mustDo(t, b, b.admin, "GET", p, nil, http.StatusOK).Body)
			}
			return out
		}
		before := snapshot()

		const (
			ok  = http.StatusOK
			frb = http.StatusForbidden
			nf  = http.StatusNotFound
			unp = http.StatusUnprocessableEntity
		)
		who := []struct{ name, key string }{
			{"other store's seller", b.foreign},
			{"another partner", b.partner},
			{"another affiliate", aff2Key},
			{"other store's checkout", otherCheckout},
			{"storefront", b.storefront},
		}
		join := map[string]any{"accept_terms": true, "rate_bp": 100, "url": "https://evil.example.com/"}
		rate := map[string]any{"rate_bp": 9000}
		partner := "/v1/partners/" + aff.ID
		cases := []struct {
			method, path string
			body         any
			want         [5]int // in the order of who
		}{
			// Partners pick the stores they promote: they read programs.
			{"GET", shop + "/affiliate", nil, [5]int{nf, ok, ok, nf, frb}},
			{"POST", shop + "/affiliate/join", join, [5]int{nf, frb, frb, frb, frb}},
			{"POST", shop + "/affiliate/exit", nil, [5]int{nf, frb, frb, frb, frb}},
			{"PUT", shop + "/affiliate/rate", rate, [5]int{nf, frb, frb, frb, frb}},
			{"PUT", shop + "/affiliate/products/sku-1/rate", rate, [5]int{nf, frb, frb, frb, frb}},
			{"DELETE", shop + "/affiliate/products/sku-1/rate", nil, [5]int{nf, frb, frb, frb, frb}},
			{"GET", shop + "/affiliate/rates", nil, [5]int{nf, frb, frb, frb, frb}},
			{"POST", "/v1/links", map[string]any{"store_id": b.shop.ID, "product_id": "sku-1", "partner_id": aff.ID}, [5]int{frb, unp, unp, frb, frb}},
			{"GET", "/v1/links/" + l.ID, nil, [5]int{nf, nf, nf, frb, frb}},
			{"POST", shop + "/orders/o1/events", map[string]any{"id": "o1-cancelled", "type": "cancelled"}, [5]int{frb, frb, frb, nf, frb}},
			{"POST", shop + "/orders/o2/events", placedEvent("o2-placed", visitor, 10000), [5]int{frb, frb, frb, nf, frb}},
			{"GET", shop + "/orders/o1", nil, [5]int{nf, frb, frb, nf, frb}},
			{"GET", partner + "/statement?store_id=" + b.shop.ID, nil, [5]int{nf, nf, nf, frb, frb}},
			{"GET", partner + "/ledger?store_id=" + b.shop.ID, nil, [5]int{nf, nf, nf, frb, frb}},
			{"GET", partner + "/ledger.csv?store_id=" + b.shop.ID, nil, [5]int{nf, nf, nf, frb, frb}},
			{"GET", partner + "/statement", nil, [5]int{nf, nf, nf, frb, frb}},
			{"GET", shop + "/statement", nil, [5]int{nf, nf, nf, frb, frb}},
			{"GET", shop + "/ledger", nil, [5]int{nf, nf, nf, frb, frb}},
			{"GET", shop + "/ledger.csv", nil, [5]int{nf, nf, nf, frb, frb}},
			{"GET", shop + "/statement?partner_id=" + aff.ID, nil, [5]int{nf, nf, nf, frb, frb}},
			{"GET", shop + "/ledger?partner_id=" + aff.ID, nil, [5]int{nf, nf, nf, frb, frb}},
			{"GET", shop + "/ledger.csv?partner_id=" + aff.ID, nil, [5]int{nf, nf, nf, frb, frb}},
		}
		for _, c := range cases {
			for i, w := range who {
				r := b.c.do(t, c.method, c.path, w.key, c.body)
				if r.StatusCode != c.want[i] {
					t.Errorf("%s %s as %s: status %d, want %d: %s", c.method, c.path, w.name, r.StatusCode, c.want[i], r.Body)
				}
				if r.StatusCode == ok && c.method != "GET" {
					t.Errorf("%s %s as %s was accepted", c.method, c.path, w.name)
				}
				if r.StatusCode == ok && strings.Contains(string(r.Body), "evil.example.com") {
					t.Errorf("%s %s as %s: %s", c.method, c.path, w.name, r.Body)
				}
			}
		}
		// Scoped lists show them nothing of the shop's.
		for _, key := range []string{b.foreign, b.partner, aff2Key} {
			if l := decodeAs[listJSON[json.RawMessage]](t, mustDo(t, b, key, "GET", "/v1/links", nil, http.StatusOK)); len(l.Data) != 0 {
				t.Errorf("links seen by another principal: %s", l.Data)
			}
		}
		// A store of theirs, or a partner of theirs, reads as empty.
		st := decodeAs[engine.Statement](t, mustDo(t, b, b.foreign, "GET", "/v1/stores/"+b.other.ID+"/statement", nil, http.StatusOK))
		if len(st.Currencies) != 0 {
			t.Errorf("other store's statement: %+v", st)
		}
		if after := snapshot(); strings.Join(after, "\n") != strings.Join(before, "\n") {
			for i := range reads {
				if after[i] != before[i] {
					t.Errorf("GET %s changed:\nbefore %s\nafter  %s", reads[i], before[i], after[i])
				}
			}
		}
		// The shop's own principals still can.
		mustDo(t, b, b.checkout, "POST", shop+"/orders/o1/events", map[string]any{"id": "o1-cancelled", "type": "cancelled"}, http.StatusCreated)
	})
}

// affiliateFixture is the affiliate state that the route table's requests
// about the program need: shop in the program at 5%, an affiliate with a
// link to shop, a browser's click on it and an attributed order.
type affiliateFixture struct {
	once    sync.Once
	err     error
	aff     *promokit.Partner
	link    *promokit.Link
	orderID string
}

// affiliateFixtures holds the fixture of each bundle that asked for one.
var affiliateFixtures sync.Map // *testBundle → *affiliateFixture

// affiliate returns the bundle's affiliate fixture, made through the
// service on first use at the bundle's clock. It panics if it cannot be
// made, which fails the test.
func (b *testBundle) affiliate() *affiliateFixture {
	v, _ := affiliateFixtures.LoadOrStore(b, &affiliateFixture{})
	f := v.(*affiliateFixture)
	f.once.Do(func() { f.err = f.make(b) })
	if f.err != nil {
		panic(f.err)
	}
	return f
}

func (f *affiliateFixture) make(b *testBundle) error {
	ctx := context.Background()
	admin := promokit.NewContext(ctx, promokit.Principal{Role: promokit.RoleAdmin})
	check := promokit.NewContext(ctx, promokit.Principal{Role: promokit.RoleCheckout, StoreID: b.shop.ID})
	rate := promokit.BasisPoints(500)
	if _, err := b.svc.JoinAffiliate(admin, b.shop.ID, engine.JoinInput{AcceptTerms: true, Rate: &rate, URL: shopURL}); err != nil {
		return err
	}
	var err error
	if f.aff, err = b.svc.CreatePartner(admin, engine.PartnerInput{Name: "Bea Affiliate", Kind: promokit.PartnerAffiliate}); err != nil {
		return err
	}
	if f.link, err = b.svc.CreateLink(admin, engine.LinkInput{StoreID: b.shop.ID, PartnerID: f.aff.ID}); err != nil {
		return err
	}
	c, err := b.svc.Click(ctx, engine.ClickInput{Token: f.link.Token, UserAgent: browserAgent})
	if err != nil {
		return err
	}
	if err := b.svc.FlushClicks(ctx); err != nil {
		return err
	}
	f.orderID = "aff-ord-1"
	_, err = b.svc.ApplyOrderEvent(check, b.shop.ID, f.orderID, engine.OrderEventInput{
		ID: f.orderID + "-placed", Type: promokit.EventPlaced, VisitorID: c.VisitorID, Currency: "USD",
		Lines: []engine.OrderLineInput{{ProductID: "sku-1", Quantity: 1, Amount: 10000}},
	})
	return err
}

// withAffiliate makes the affiliate fixture before path is built.
func withAffiliate(path func(*testBundle) string) func(*testBundle) string {
	return func(b *testBundle) string {
		b.affiliate()
		return path(b)
	}
}

// affiliateLater makes the affiliate fixture, then moves the clock by d.
func affiliateLater(d time.Duration, path func(*testBundle) string) func(*testBundle) string {
	return func(b *testBundle) string {
		b.affiliate()
		b.clock.Add(d)
		return path(b)
	}
}

// TestAffiliateTimeZone runs the calendar rules in the marketplace's time
// zone, Asia/Tokyo (UTC+9): an exit takes effect at 0:00 Tokyo time, a
// statement's default period is the Tokyo calendar month, and a ledger
// export is named after the period's first day there.
func TestAffiliateTimeZone(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		shop := "/v1/stores/" + b.shop.ID
		mustDo(t, b, b.admin, "PATCH", "/v1/settings", map[string]any{"time_zone": "Asia/Tokyo"}, http.StatusOK, "If-Match", `"1"`)
		tokyo, err := time.LoadLocation("Asia/Tokyo")
		if err != nil {
			t.Skip("no time zone data:", err)
		}
		joinShop(t, b) // January 1, 18:00 in Tokyo
		b.clock.Set(jan1().Add(15 * day))
		prog := decodeAs[engine.Program](t, mustDo(t, b, b.seller, "POST", shop+"/affiliate/exit", nil, http.StatusOK))
		if want := time.Date(2026, 1, 17, 0, 0, 0, 0, tokyo); prog.Membership.ExitsAt == nil || !prog.Membership.ExitsAt.Equal(want) {
			t.Fatalf("exits at %v, want %v", prog.Membership.ExitsAt, want)
		}
		// January 31, 20:00 UTC is February 1 in Tokyo.
		b.clock.Set(time.Date(2026, 1, 31, 20, 0, 0, 0, time.UTC))
		st := decodeAs[engine.Statement](t, mustDo(t, b, b.seller, "GET", shop+"/statement", nil, http.StatusOK))
		if want := time.Date(2026, 2, 1, 0, 0, 0, 0, tokyo); !st.From.Equal(want) || !st.To.Equal(want.AddDate(0, 1, 0)) {
			t.Fatalf("default period %v to %v, want February in Tokyo", st.From, st.To)
		}
		st = decodeAs[engine.Statement](t, mustDo(t, b, b.seller, "GET", shop+"/statement?from=2026-01-01&to=2026-01-02", nil, http.StatusOK))
		if want := time.Date(2026, 1, 1, 0, 0, 0, 0, tokyo); !st.From.Equal(want) || !st.To.Equal(want.AddDate(0, 0, 1)) {
			t.Fatalf("period of dates %v to %v, want January 1 in Tokyo", st.From, st.To)
		}
		for query, date := range map[string]string{"": "2026-02-01", "?from=2026-01-01": "2026-01-01"} {
			r := mustDo(t, b, b.seller, "GET", shop+"/ledger.csv"+query, nil, http.StatusOK)
			want := `attachment; filename="store-` + b.shop.ID + `-ledger-` + date + `.csv"`
			if cd := r.Header.Get("Content-Disposition"); cd != want {
				t.Errorf("ledger.csv%s: Content-Disposition %q, want %q", query, cd, want)
			}
		}
	})
}
