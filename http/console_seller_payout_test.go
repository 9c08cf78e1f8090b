package http

import (
	"bytes"
	"context"
	"fmt"
	"io"
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

// postParts posts a multipart/form-data form of parts to path, as the
// form of a new payout sends it, with hdr, header names and values.
func (c *consoleClient) postParts(path string, parts []testPart, hdr ...string) *consoleResponse {
	c.t.Helper()
	body, ct := multipartForm(c.t, parts...)
	req, err := http.NewRequest("POST", c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	req.AddCookie(&http.Cookie{Name: consoleCookie, Value: c.session})
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	r := &consoleResponse{Response: resp, Body: string(b)}
	checkConsoleHeaders(c.t, r)
	return r
}

// payoutParts returns the parts of the form of a new payout: payee,
// currency "USD", amount, paid on January 1, reference, and more.
func payoutParts(payee, amount, reference string, more ...testPart) []testPart {
	return append([]testPart{field("payee", payee), field("currency", "USD"), field("amount", amount),
		field("paid_on", "2026-01-01"), field("reference", reference)}, more...)
}

// payoutIDOf returns the id of the payout a recorded form's redirect
// opens.
func payoutIDOf(t *testing.T, r *consoleResponse) string {
	t.Helper()
	r.wantRedirect(t, "/console/payouts/pay_")
	id, _, _ := strings.Cut(strings.TrimPrefix(r.Header.Get("Location"), "/console/payouts/"), "?")
	return id
}

// payoutCount returns how many payouts the shop's seller sees through the
// API.
func payoutCount(t *testing.T, b *testBundle) int {
	t.Helper()
	return len(decodeAs[struct{ Data []promokit.Payout }](t, mustDo(t, b, b.seller, "GET", "/v1/payouts?limit=100", nil, http.StatusOK)).Data)
}

// subsidize writes a payable subsidy of amount that the marketplace owes
// the shop, as a red envelope's settlement writes it.
func subsidize(t *testing.T, b *testBundle, amount int64) {
	t.Helper()
	err := b.store.Write(context.Background(), func(tx storage.Tx) error {
		return tx.LedgerAddMany(context.Background(), []*promokit.LedgerEntry{{Payer: promokit.Marketplace, Payee: b.shop.ID, StoreID: b.shop.ID,
			OrderID: "ord-s", Program: promokit.ProgramEnvelope, Status: promokit.LedgerPayable, Kind: promokit.EntryReleased,
			Amount: amount, Currency: "USD", Basis: amount, Rate: 10000, EventID: "ord-s-done", CreatedAt: b.clock.Now()}})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestConsoleSellerPayouts walks a seller's payouts: the list both ways
// and the payable balances, a party's balance alone, the form of a new
// payout with each refusal next to its field (the payable balance with
// its limit, amounts written in major units, a proof of another type or
// too large) and nothing recorded, a payout recorded with its proof file
// and one without, the partner's dispute that the seller then reads, a
// payout the marketplace made to the store that its seller confirms, and
// another store's seller, to whom every payout is a 404 page.
func TestConsoleSellerPayouts(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open, func(c *Config) { c.ProofLimit = 1000 })
		f := b.payouts() // 30.00 USD of 50.00 left payable to the partner
		seller, foreign := b.signIn(t, b.seller), b.signIn(t, b.foreign)

		r := seller.get("/console/payouts")
		r.want(t, http.StatusOK, `href="/console/payouts" aria-current="page"`, f.plain.ID, f.proved.ID, "to "+b.partnr.ID, "wire 2",
			`<th scope="row">commissions</th><td>partner</td><td>you pay</td><td class="num">30.00 USD</td>`,
			`enctype="multipart/form-data"`, `name="paid_on" type="date" value="2026-01-01"`, `name="currency" type="text" value="USD"`)
		r = seller.get("/console/payouts?counterparty=" + b.partnr.ID)
		r.want(t, http.StatusOK, `<table id="checked">`, `<td>you pay</td><td class="num">30.00 USD</td>`, `name="payee" type="text" value="`+b.partnr.ID+`"`)
		seller.get("/console/payouts?counterparty=marketplace").want(t, http.StatusOK, `<p id="checked">Nothing between your store and <code>marketplace</code>`)
		seller.get("/console/payouts?counterparty=junk").want(t, http.StatusUnprocessableEntity, `id="f-counterparty-error"`, `value="junk"`)
		seller.get("/console/payouts?counterparty=par_nope").want(t, http.StatusUnprocessableEntity, `id="f-counterparty-error"`, "par_nope")

		// Refused forms: each error next to its field, what was typed
		// kept, nothing recorded.
		r = seller.postParts("/console/payouts", payoutParts(b.partnr.ID, "30.01", "wire 3"))
		r.want(t, http.StatusUnprocessableEntity, `id="f-amount-error"`, "exceeds the payable balance of 30.00 USD", `value="30.01"`, `value="wire 3"`)
		r = seller.postParts("/console/payouts", []testPart{field("payee", b.partnr.ID), field("currency", "USD"), field("amount", "12.345"),
			field("paid_on", "2026-01-05"), field("reference", "")})
		r.want(t, http.StatusUnprocessableEntity, `id="f-amount-error"`, "USD has 2 digits after the point at most",
			`id="f-paid_on-error"`, "after today", `id="f-reference-error"`)
		seller.postParts("/console/payouts", payoutParts(b.partnr.ID, "", "wire 3")).want(t, http.StatusUnprocessableEntity, `id="f-amount-error"`, "amount is required")
		seller.postParts("/console/payouts", payoutParts(b.partnr.ID, "1,000", "wire 3")).want(t, http.StatusUnprocessableEntity, `id="f-amount-error"`, "such as 12.50")
		r = seller.postParts("/console/payouts", []testPart{field("payee", b.partnr.ID), field("currency", "XYZ"), field("amount", "5"),
			field("paid_on", "2026-01-01"), field("reference", "wire 3")})
		r.want(t, http.StatusUnprocessableEntity, `id="f-currency-error"`)
		if strings.Contains(r.Body, `id="f-amount-error"`) {
			t.Fatalf("an amount in a currency that is none is an error of its own:\n%s", r.Body)
		}
		seller.postParts("/console/payouts", payoutParts("par_nope", "5", "wire 3")).want(t, http.StatusUnprocessableEntity, `id="f-payee-error"`, "par_nope")
		seller.postParts("/console/payouts", payoutParts(b.partnr.ID, "5", "wire 3", filePart("proof", "a.pdf", []byte("plain text")))).
			want(t, http.StatusUnsupportedMediaType, `id="f-proof-error"`, "PDF, PNG or JPEG")
		big := append(append([]byte{}, proofPDF...), bytes.Repeat([]byte{' '}, 1000)...)
		seller.postParts("/console/payouts", payoutParts(b.partnr.ID, "5", "wire 3", filePart("proof", "a.pdf", big))).
			want(t, http.StatusRequestEntityTooLarge, `id="f-proof-error"`, "at most 1000 bytes")
		seller.postParts("/console/payouts", payoutParts(b.partnr.ID, "5", "wire\x00 3")).want(t, http.StatusUnprocessableEntity, `id="f-reference-error"`)
		seller.postParts("/console/payouts", payoutParts(b.partnr.ID, "5", "wire 3"), "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example").
			want(t, http.StatusForbidden, "came from another site")
		if n := payoutCount(t, b); n != 2 {
			t.Fatalf("refused forms recorded payouts: %d, want the fixture's 2", n)
		}

		// Recorded with its proof, in major units: 12.50 USD is 1250.
		id := payoutIDOf(t, seller.postParts("/console/payouts", payoutParts(b.partnr.ID, "12.5", "wire 3", filePart("proof", "t.png", proofPNG))))
		po := decodeAs[promokit.Payout](t, mustDo(t, b, b.seller, "GET", "/v1/payouts/"+id, nil, http.StatusOK))
		if po.Amount != 1250 || po.Payer != b.shop.ID || po.Payee != b.partnr.ID || po.Proof == nil || po.Proof.Type != promokit.ProofPNG {
			t.Fatalf("the payout recorded from the form: %+v", po)
		}
		base := "/console/payouts/" + id
		r = seller.get(base + "?notice=payout-recorded")
		r.want(t, http.StatusOK, "The payout was recorded.", "12.50 USD", `<dd id="payout-state">recorded`, base+"/proof", "The payee has not answered yet")
		if strings.Contains(r.Body, "/confirm") || strings.Contains(r.Body, "/dispute") {
			t.Fatalf("the payer's page of a payout offers the payee's answers:\n%s", r.Body)
		}
		proof := seller.get(base + "/proof")
		if proof.StatusCode != http.StatusOK || proof.Body != string(proofPNG) || proof.Header.Get("Content-Type") != promokit.ProofPNG ||
			proof.Header.Get("Content-Disposition") != `attachment; filename="`+id+`-proof.png"` ||
			!strings.HasPrefix(proof.Header.Get("Content-Security-Policy"), "sandbox;") || proof.Header.Get("ETag") != `"sha256-`+po.Proof.SHA256+`"` {
			t.Fatalf("proof: %d %v", proof.StatusCode, proof.Header)
		}
		// A file input left empty sends an empty file: no proof. A plain
		// form records too.
		id2 := payoutIDOf(t, seller.postParts("/console/payouts", payoutParts(b.partnr.ID, "0.50", "wire 4", filePart("proof", "", nil))))
		id3 := payoutIDOf(t, seller.post("/console/payouts", url.Values{"payee": {b.partnr.ID}, "currency": {"usd"}, "amount": {"1"},
			"paid_on": {"2026-01-01"}, "reference": {"wire 5"}}))
		seller.get("/console/payouts/"+id2).want(t, http.StatusOK, "0.50 USD", "none attached")
		want404(t, seller.get("/console/payouts/"+id2+"/proof"))
		seller.get("/console/payouts").want(t, http.StatusOK, id, id2, id3,
			`<td>you pay</td><td class="num">16.00 USD</td>`) // 30.00 - 12.50 - 0.50 - 1.00

		// The partner disputes it; the seller reads the message and has no
		// answer to give.
		partner := b.signIn(t, b.partner)
		partner.post("/console/partner/payouts/"+id+"/dispute", url.Values{"message": {"Only 12.00 arrived"}}).wantRedirect(t, "/console/partner/payouts/"+id)
		seller.get(base).want(t, http.StatusOK, `<dd id="payout-state">disputed`, "The payee's dispute", "Only 12.00 arrived")
		want404(t, seller.post(base+"/confirm", nil))
		want404(t, seller.post(base+"/dispute", url.Values{"message": {"no"}}))
		want404(t, partner.get(base))

		// Another store's seller: 404 pages, nothing answered, nothing
		// listed.
		for _, path := range []string{base, base + "/proof", "/console/payouts/" + f.plain.ID} {
			want404(t, foreign.get(path))
		}
		want404(t, foreign.post(base+"/confirm", nil))
		if r := foreign.get("/console/payouts"); r.StatusCode != http.StatusOK || strings.Contains(r.Body, id) || strings.Contains(r.Body, f.plain.ID) {
			t.Fatalf("another store's payouts: %d\n%s", r.StatusCode, r.Body)
		}
		// Its own form pays from its own store, which owes nothing.
		foreign.postParts("/console/payouts", payoutParts(b.partnr.ID, "1", "wire 6")).want(t, http.StatusUnprocessableEntity, `id="f-amount-error"`, "nothing is payable")

		// The marketplace pays the store a subsidy: the store's seller is
		// the payee, and answers.
		subsidize(t, b, 800)
		seller.get("/console/payouts").want(t, http.StatusOK, `<th scope="row">subsidies</th><td>marketplace</td><td>you are paid</td><td class="num">8.00 USD</td>`)
		sub := decodeAs[promokit.Payout](t, mustDo(t, b, b.admin, "POST", "/v1/payouts", map[string]any{"payer": promokit.Marketplace, "payee": b.shop.ID,
			"currency": "USD", "amount": 800, "paid_on": "2026-01-01", "reference": "subsidy 1"}, http.StatusCreated))
		sbase := "/console/payouts/" + sub.ID
		seller.get("/console/payouts").want(t, http.StatusOK, "from marketplace", "subsidy 1")
		seller.get(sbase).want(t, http.StatusOK, "Confirm receipt", "Dispute the payout", "(you)")
		seller.post(sbase+"/dispute", url.Values{"message": {" "}}).want(t, http.StatusUnprocessableEntity, `id="f-message-error"`, `<dd id="payout-state">recorded`)
		want404(t, foreign.post(sbase+"/confirm", nil))
		seller.post(sbase+"/confirm", nil).wantRedirect(t, sbase+"?notice=payout-confirmed")
		seller.get(sbase+"?notice=payout-confirmed").want(t, http.StatusOK, `<dd id="payout-state">confirmed`, "receipt is confirmed")
		seller.post(sbase+"/confirm", nil).want(t, http.StatusConflict, "is confirmed already")
		if po := decodeAs[promokit.Payout](t, mustDo(t, b, b.admin, "GET", "/v1/payouts/"+sub.ID, nil, http.StatusOK)); po.State != promokit.PayoutConfirmed {
			t.Fatalf("the subsidy's payout is %s", po.State)
		}
	})
}

// TestConsoleSellerStatement shows a store's statement of January: the
// commissions it owes a partner after two payouts, by program and status,
// its entries a page at a time and their CSV file; a period or
// counterparty that is not one is an error next to its field; another
// store's statement holds none of it.
func TestConsoleSellerStatement(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		b.payouts()
		seller := b.signIn(t, b.seller)
		r := seller.get("/console/statement")
		r.want(t, http.StatusOK, `href="/console/statement" aria-current="page"`, `action="/console/statement"`, "one partner (par_…)",
			"From 2026-01-01 0:00 to 2026-02-01 0:00, UTC", "In USD", "<h3>commissions <span class=\"muted\">(partner)</span></h3>",
			"<td class=\"num\">0.00 USD</td><td class=\"num\">30.00 USD</td><td class=\"num\">20.00 USD</td>", // closing: pending, payable, paid
			"<tr><td>affiliate</td><td>payable</td><td>released</td><td class=\"num\">50.00 USD</td>",
			"ord-p", "to "+b.partnr.ID, "/console/statement/ledger.csv?from=2026-01-01&amp;to=2026-02-01",
			"/console/statement?from=2025-12-01&amp;to=2026-01-01", "/console/statement?from=2026-02-01&amp;to=2026-03-01")
		seller.get("/console/statement?from=2026-02-01").want(t, http.StatusOK, "No entries in the period",
			"<td class=\"num\">30.00 USD</td><td class=\"num\">20.00 USD</td>") // opening = closing
		seller.get("/console/statement?counterparty=marketplace").want(t, http.StatusOK, "No entries before or in the period")
		seller.get("/console/statement?counterparty="+b.partnr.ID).want(t, http.StatusOK, "ord-p", "with <code>"+b.partnr.ID+"</code> only")

		csvr := seller.get("/console/statement/ledger.csv?from=2026-01-01")
		if csvr.StatusCode != http.StatusOK || !strings.HasPrefix(csvr.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(csvr.Header.Get("Content-Disposition"), "store-"+b.shop.ID+"-ledger-2026-01-01.csv") ||
			strings.Count(csvr.Body, "\r\n") != 6 || !strings.Contains(csvr.Body, "ord-p") || !strings.HasPrefix(csvr.Body, "entry_id,") || !strings.Contains(csvr.Body, ",ord-p,0,affiliate,,payable,released,5000,USD,") {
			t.Fatalf("ledger CSV: %d %v\n%s", csvr.StatusCode, csvr.Header, csvr.Body)
		}
		if csvr := seller.get("/console/statement/ledger.csv?counterparty=marketplace"); csvr.StatusCode != http.StatusOK || strings.Contains(csvr.Body, "ord-p") {
			t.Fatalf("ledger CSV with the marketplace alone: %d\n%s", csvr.StatusCode, csvr.Body)
		}

		seller.get("/console/statement?from=soon").want(t, http.StatusUnprocessableEntity, `id="f-from-error"`, `value="soon"`)
		seller.get("/console/statement?counterparty=par_nope").want(t, http.StatusUnprocessableEntity, `id="f-counterparty-error"`)
		seller.get("/console/statement?counterparty=junk").want(t, http.StatusUnprocessableEntity, `id="f-counterparty-error"`)
		seller.get("/console/statement?counterparty="+b.shop.ID).want(t, http.StatusUnprocessableEntity, `id="f-counterparty-error"`, "no entries with itself")
		seller.get("/console/statement?from=2026-01-01&to=2027-06-01").want(t, http.StatusUnprocessableEntity, `id="f-to-error"`)
		seller.get("/console/statement/ledger.csv?from=soon").want(t, http.StatusUnprocessableEntity, "from must be a date")

		// The entries a page at a time: 50, then the rest.
		more := make([]*promokit.LedgerEntry, consolePageSize)
		for i := range more {
			more[i] = &promokit.LedgerEntry{Payer: b.shop.ID, Payee: b.partnr.ID, StoreID: b.shop.ID, OrderID: fmt.Sprintf("ord-m%02d", i),
				Program: promokit.ProgramAffiliate, Status: promokit.LedgerPending, Kind: promokit.EntryAccrued, Amount: 100, Currency: "USD",
				Basis: 2000, Rate: 500, EventID: fmt.Sprintf("ord-m%02d-placed", i), CreatedAt: b.clock.Now().Add(time.Minute)}
		}
		if err := b.store.Write(context.Background(), func(tx storage.Tx) error { return tx.LedgerAddMany(context.Background(), more) }); err != nil {
			t.Fatal(err)
		}
		r = seller.get("/console/statement")
		r.want(t, http.StatusOK, "ord-p", "ord-m44", `rel="next"`)
		if strings.Contains(r.Body, "ord-m45") {
			t.Fatalf("the first page holds a 51st entry")
		}
		next := attr(r.Body[strings.Index(r.Body, `<nav class="pager"`):], "href")
		r = seller.get(strings.ReplaceAll(next, "&amp;", "&"))
		r.want(t, http.StatusOK, "ord-m45", "ord-m49", "First page")
		if strings.Contains(r.Body, "ord-p<") || strings.Contains(r.Body, `rel="next"`) {
			t.Fatalf("the second page:\n%s", r.Body)
		}

		foreign := b.signIn(t, b.foreign)
		if r := foreign.get("/console/statement"); r.StatusCode != http.StatusOK || strings.Contains(r.Body, "ord-p") {
			t.Fatalf("another store's statement: %d\n%s", r.StatusCode, r.Body)
		}
		if r := foreign.get("/console/statement/ledger.csv"); strings.Contains(r.Body, "ord-") {
			t.Fatalf("another store's CSV holds the entries:\n%s", r.Body)
		}
		// Naming the shop as its counterparty shows the foreign store
		// nothing of the shop's entries with others.
		if r := foreign.get("/console/statement?counterparty=" + b.shop.ID); strings.Contains(r.Body, "ord-p") {
			t.Fatalf("another store reads the shop's entries:\n%s", r.Body)
		}
	})
}

// sellerMoneyScopeCases returns the path and form of each route of the
// store's money, for TestConsoleScope: the fixture's payout, which the
// shop made.
func sellerMoneyScopeCases(b *testBundle) (map[string]string, map[string]url.Values) {
	po := "/console/payouts/" + b.payouts().proved.ID
	return map[string]string{
			"/console/payouts":              "/console/payouts",
			"/console/payouts/{id}":         po,
			"/console/payouts/{id}/confirm": po + "/confirm",
			"/console/payouts/{id}/dispute": po + "/dispute",
			"/console/payouts/{id}/proof":   po + "/proof",
			"/console/statement":            "/console/statement",
			"/console/statement/ledger.csv": "/console/statement/ledger.csv",
		}, map[string]url.Values{
			"/console/payouts":              {"payee": {b.partnr.ID}, "currency": {"USD"}, "amount": {"1"}, "paid_on": {"2026-01-01"}, "reference": {"sneaky"}},
			"/console/payouts/{id}/dispute": {"message": {"not mine"}},
		}
}

// sellerMoneySamples are the samples of the seller's money templates for
// TestConsoleTemplates, each at its fullest.
func sellerMoneySamples() map[string]*page {
	at := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	po := &promokit.Payout{ID: "pay_1", Payer: "sto_1", Payee: "par_1", StoreID: "sto_1", Currency: "USD", Amount: 1250, PaidOn: "2026-01-01",
		Reference: "wire <b>Alpha</b>", State: promokit.PayoutDisputed, Message: "Nothing <b>Alpha</b>", CreatedAt: at, DisputedAt: &at,
		Proof: &promokit.PayoutProof{Type: promokit.ProofPNG, Size: 10, SHA256: "ab", UploadedAt: at}}
	in := &promokit.Payout{ID: "pay_2", Payer: promokit.Marketplace, Payee: "sto_1", StoreID: "sto_1", Currency: "USD", Amount: 800, PaidOn: "2026-01-01",
		Reference: "subsidy", State: promokit.PayoutRecorded, CreatedAt: at}
	rows := []payableRow{{Currency: "USD", Account: "commissions", Side: promokit.SidePayer, Counterparty: "partner", Payable: 3000},
		{Currency: "USD", Account: "subsidies", Side: promokit.SidePayee, Counterparty: "marketplace", Payable: 800}}
	exceeds := payoutFormError(&promokit.Error{Code: promokit.EPayoutExceeds, Message: "a payout of 30.01 USD exceeds the payable balance of 30.00 USD"})
	return map[string]*page{
		"payouts": {Title: "Payouts", Form: newFormErrors(exceeds), Data: &sellerPayoutsPage{Store: "sto_1", Payouts: []*promokit.Payout{po, in},
			Pager: pager{First: "/console/payouts", Next: "/console/payouts?after=pay_2"}, Payable: rows, Check: "par_<b>Alpha</b>", Checked: rows[:1],
			Form: payoutEntry{Payee: "par_<b>Alpha</b>", Currency: "USD", Amount: "30.01", PaidOn: "2026-01-01", Reference: "<b>Alpha</b>"}, MaxProof: DefaultProofLimit}},
	}
}

// TestConsoleSellerMoneyPages renders the seller's pages of money as a
// seller sees them, where the partner's samples show the shared templates
// as a partner does: the statement's picker sends to the seller's page,
// and a payout the store received offers its answers.
func TestConsoleSellerMoneyPages(t *testing.T) {
	t.Parallel()
	c, err := parseConsole()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	seller := promokit.Principal{KeyID: "key_s", Role: promokit.RoleSeller, StoreID: "sto_1"}
	in := &promokit.Payout{ID: "pay_2", Payer: promokit.Marketplace, Payee: "sto_1", Currency: "USD", Amount: 800, PaidOn: "2026-01-01",
		Reference: "subsidy", State: promokit.PayoutRecorded, CreatedAt: at}
	for name, tc := range map[string]struct {
		pg   *page
		want []string
	}{
		"statement": {&page{Title: "Statement", Data: statementPage{Path: "/console/statement", Party: "sto_1", Hint: statementPaths[promokit.PartyStore].hint,
			Statement: &engine.Statement{TimeZone: "UTC"}, Entries: []*promokit.LedgerEntry{{ID: 1, Payer: promokit.Marketplace, Payee: "sto_1", Amount: 5, Currency: "USD", PayoutID: "pay_9"}}}},
			[]string{`action="/console/statement"`, "one partner (par_…)", "<code>from marketplace</code>", "<code>pay_9</code>"}},
		"payout": {&page{Title: "Payout pay_2", Data: payoutPage{Payout: in, Base: "/console/payouts", Party: "sto_1", CanConfirm: true, CanDispute: true}},
			[]string{`action="/console/payouts/pay_2/confirm"`, `action="/console/payouts/pay_2/dispute"`, `<a href="/console/payouts">Back to the payouts</a>`}},
	} {
		tc.pg.Principal, tc.pg.Nav = seller, navFor(seller.Role, "/console/payouts/pay_2")
		var buf bytes.Buffer
		if err := c.pages[name].ExecuteTemplate(&buf, "layout", tc.pg); err != nil {
			t.Fatalf("render %s: %v", name, err)
		}
		checkPage(t, name, buf.String(), seller)
		for _, s := range append(tc.want, `<a href="/console/payouts" aria-current="page">Payouts</a>`) {
			if !strings.Contains(buf.String(), s) {
				t.Errorf("%s does not say %q:\n%s", name, s, buf.String())
			}
		}
	}
}
