package engine_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// browser is the user agent of a person's browser: clicks with it count.
const browser = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"

// affiliateBundle is a bundle whose marketplace runs in zone, with an
// affiliate partner and its key.
type affiliateBundle struct {
	*bundle
	loc       *time.Location
	aff       *promokit.Partner
	affiliate context.Context
}

func setupAffiliate(t *testing.T, open func(*testing.T) storage.DB, zone string) *affiliateBundle {
	t.Helper()
	b := setup(t, open)
	st, err := b.svc.Settings(b.admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.UpdateSettings(b.admin, st.Version, engine.SettingsInput{TimeZone: &zone}); err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation(zone)
	aff, err := b.svc.CreatePartner(b.admin, engine.PartnerInput{Name: "Bea", Kind: promokit.PartnerAffiliate})
	if err != nil {
		t.Fatal(err)
	}
	return &affiliateBundle{
		bundle: b, loc: loc, aff: aff,
		affiliate: as(promokit.Principal{KeyID: "key_aff", Role: promokit.RolePartner, PartnerID: aff.ID}),
	}
}

// at returns a wall time of the marketplace's zone.
func (b *affiliateBundle) at(month time.Month, day, hour, min, sec int) time.Time {
	return time.Date(2026, month, day, hour, min, sec, 0, b.loc).UTC()
}

func (b *affiliateBundle) join(t *testing.T, rate promokit.BasisPoints) *engine.Program {
	t.Helper()
	p, err := b.svc.JoinAffiliate(b.seller, b.shop.ID, engine.JoinInput{AcceptTerms: true, Rate: &rate, URL: "https://shop.example.com/"})
	if err != nil {
		t.Fatalf("JoinAffiliate: %v", err)
	}
	return p
}

func (b *affiliateBundle) link(t *testing.T, ctx context.Context, productID string) *promokit.Link {
	t.Helper()
	l, err := b.svc.CreateLink(ctx, engine.LinkInput{StoreID: b.shop.ID, ProductID: productID})
	if err != nil {
		t.Fatalf("CreateLink: %v", err)
	}
	return l
}

// click opens l as visitor (a new one when "") and returns the visitor id.
func (b *affiliateBundle) click(t *testing.T, l *promokit.Link, visitor string) string {
	t.Helper()
	res, err := b.svc.Click(context.Background(), engine.ClickInput{Token: l.Token, VisitorID: visitor, UserAgent: browser})
	if err != nil {
		t.Fatalf("Click: %v", err)
	}
	if res.URL != l.URL {
		t.Fatalf("Click URL = %q, want %q", res.URL, l.URL)
	}
	if err := b.svc.FlushClicks(context.Background()); err != nil {
		t.Fatalf("FlushClicks: %v", err)
	}
	return res.VisitorID
}

// place reports an order of the shop placed now.
func (b *affiliateBundle) place(t *testing.T, orderID, visitor, customer string, lines ...engine.OrderLineInput) *engine.OrderResult {
	t.Helper()
	res, err := b.svc.ApplyOrderEvent(b.check, b.shop.ID, orderID, engine.OrderEventInput{
		ID: orderID + "-placed", Type: promokit.EventPlaced, VisitorID: visitor, CustomerID: customer,
		Currency: "USD", Lines: lines, Shipping: 700,
	})
	if err != nil {
		t.Fatalf("placed %s: %v", orderID, err)
	}
	return res
}

func (b *affiliateBundle) event(t *testing.T, orderID string, in engine.OrderEventInput) *engine.OrderResult {
	t.Helper()
	res, err := b.svc.ApplyOrderEvent(b.check, b.shop.ID, orderID, in)
	if err != nil {
		t.Fatalf("%s %s: %v", in.Type, orderID, err)
	}
	return res
}

func line(product string, amount int64) engine.OrderLineInput {
	return engine.OrderLineInput{ProductID: product, Quantity: 1, Amount: amount}
}

// sum adds the amounts of entries by status.
func sum(es []*promokit.LedgerEntry) (pending, payable int64) {
	for _, e := range es {
		if e.Status == promokit.LedgerPending {
			pending += e.Amount
		} else {
			payable += e.Amount
		}
	}
	return pending, payable
}

// TestAffiliateExitRejoin reproduces A2 with the clock injected: exit from
// join + 15 days, effective 0:00 the next day in the marketplace's zone
// (links answer gone from then), rejoin from the exit + 7 days; each
// refusal names the rule and when it becomes possible.
func TestAffiliateExitRejoin(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setupAffiliate(t, open, "Europe/Paris")
		b.clock.Set(b.at(1, 1, 10, 0, 0))
		p := b.join(t, 500)
		if p.State != engine.ProgramJoined || p.Rate == nil || *p.Rate != 500 || !p.ExitFrom.Equal(b.at(1, 16, 10, 0, 0)) {
			t.Fatalf("joined = %+v", p)
		}
		_, err := b.svc.JoinAffiliate(b.seller, b.shop.ID, engine.JoinInput{AcceptTerms: true, Rate: ptr[promokit.BasisPoints](500), URL: "https://x.example/"})
		wantCode(t, err, promokit.EConflict)
		l := b.link(t, b.affiliate, "mug")

		b.clock.Set(b.at(1, 16, 9, 59, 59))
		_, err = b.svc.ExitAffiliate(b.seller, b.shop.ID)
		e := wantCode(t, err, promokit.EPolicy)
		if e.Rule != "A2" || *e.Limit != 15 || e.PossibleFrom == nil || !e.PossibleFrom.Equal(b.at(1, 16, 10, 0, 0)) {
			t.Fatalf("early exit = %+v", e)
		}

		b.clock.Set(b.at(1, 16, 10, 0, 0))
		p, err = b.svc.ExitAffiliate(b.seller, b.shop.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.State != engine.ProgramExiting || !p.Membership.ExitsAt.Equal(b.at(1, 17, 0, 0, 0)) {
			t.Fatalf("exiting = %+v %v", p, p.Membership.ExitsAt)
		}
		_, err = b.svc.ExitAffiliate(b.seller, b.shop.ID)
		wantCode(t, err, promokit.EConflict)

		// The link works until 0:00 the next day, Paris time.
		b.clock.Set(b.at(1, 16, 23, 59, 59))
		b.click(t, l, "")
		b.clock.Set(b.at(1, 17, 0, 0, 0))
		_, err = b.svc.Click(context.Background(), engine.ClickInput{Token: l.Token, UserAgent: browser})
		wantCode(t, err, promokit.EGone)
		v, err := b.svc.GetLink(b.affiliate, l.ID)
		if err != nil || v.Clicks != 1 {
			t.Fatalf("clicks = %+v, %v; want 1 (none recorded once gone)", v, err)
		}
		_, err = b.svc.CreateLink(b.affiliate, engine.LinkInput{StoreID: b.shop.ID})
		wantCode(t, err, promokit.EConflict)

		// Rejoin from the exit (January 17 0:00) + 7 days.
		b.clock.Set(b.at(1, 23, 23, 59, 59))
		_, err = b.svc.JoinAffiliate(b.seller, b.shop.ID, engine.JoinInput{AcceptTerms: true, Rate: ptr[promokit.BasisPoints](500), URL: "https://shop.example.com/"})
		e = wantCode(t, err, promokit.EPolicy)
		if e.Rule != "A2" || *e.Limit != 7 || !e.PossibleFrom.Equal(b.at(1, 24, 0, 0, 0)) {
			t.Fatalf("early rejoin = %+v", e)
		}
		p, err = b.svc.GetAffiliate(b.seller, b.shop.ID)
		if err != nil || p.State != engine.ProgramExited || !p.RejoinFrom.Equal(b.at(1, 24, 0, 0, 0)) {
			t.Fatalf("exited = %+v %v", p, err)
		}
		b.clock.Set(b.at(1, 24, 0, 0, 0))
		if p = b.join(t, 800); p.State != engine.ProgramJoined || *p.Rate != 800 {
			t.Fatalf("rejoined = %+v", p)
		}
		b.click(t, l, "") // the old link works again
	})
}

// TestAffiliateCallers checks who may manage a store's program.
func TestAffiliateCallers(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setupAffiliate(t, open, "UTC")
		in := engine.JoinInput{AcceptTerms: true, Rate: ptr[promokit.BasisPoints](500), URL: "https://shop.example.com/"}
		_, err := b.svc.JoinAffiliate(b.foreign, b.shop.ID, in)
		wantCode(t, err, promokit.ENotFound)
		_, err = b.svc.JoinAffiliate(b.affiliate, b.shop.ID, in)
		wantCode(t, err, promokit.EForbidden)
		_, err = b.svc.JoinAffiliate(b.seller, b.shop.ID, engine.JoinInput{Rate: in.Rate, URL: in.URL})
		wantCode(t, err, promokit.EInvalid)
		_, err = b.svc.JoinAffiliate(b.seller, b.shop.ID, engine.JoinInput{AcceptTerms: true, Rate: ptr[promokit.BasisPoints](0), URL: "ftp://x"})
		if e := wantCode(t, err, promokit.EInvalid); len(e.Fields) != 2 {
			t.Fatalf("fields = %+v", e.Fields)
		}
		// Only affiliates link; a store must be in the program.
		_, err = b.svc.CreateLink(b.affiliate, engine.LinkInput{StoreID: b.shop.ID})
		wantCode(t, err, promokit.EConflict)
		b.join(t, 500)
		_, err = b.svc.CreateLink(b.partner, engine.LinkInput{StoreID: b.shop.ID})
		wantCode(t, err, promokit.EForbidden)
		_, err = b.svc.CreateLink(b.seller, engine.LinkInput{StoreID: b.shop.ID})
		wantCode(t, err, promokit.EForbidden)
		l := b.link(t, b.affiliate, "")
		if l.URL != "https://shop.example.com/" || !promokit.ValidLinkToken(l.Token) {
			t.Fatalf("store link = %+v", l)
		}
		// The link is its partner's and its store's, no one else's.
		_, err = b.svc.GetLink(b.partner, l.ID)
		wantCode(t, err, promokit.ENotFound)
		_, err = b.svc.GetLink(b.foreign, l.ID)
		wantCode(t, err, promokit.ENotFound)
		if _, err := b.svc.GetLink(b.seller, l.ID); err != nil {
			t.Fatal(err)
		}
		list, err := b.svc.ListLinks(b.partner, storage.Page{})
		if err != nil || len(list) != 0 {
			t.Fatalf("another partner's links = %v, %v", list, err)
		}
		// Orders are the checkout's; statements their owner's.
		_, err = b.svc.ApplyOrderEvent(b.seller, b.shop.ID, "o1", engine.OrderEventInput{ID: "e1", Type: promokit.EventPlaced})
		wantCode(t, err, promokit.EForbidden)
		foreignCheck := as(promokit.Principal{KeyID: "key_fc", Role: promokit.RoleCheckout, StoreID: b.other.ID})
		_, err = b.svc.ApplyOrderEvent(foreignCheck, b.shop.ID, "o1", engine.OrderEventInput{ID: "e1", Type: promokit.EventCompleted})
		wantCode(t, err, promokit.ENotFound)
		q := engine.StatementQuery{Party: b.aff.ID, From: jan1, To: jan1.AddDate(0, 1, 0)}
		_, err = b.svc.GetStatement(b.partner, q)
		wantCode(t, err, promokit.ENotFound)
		_, err = b.svc.GetStatement(b.foreign, engine.StatementQuery{Party: b.shop.ID, From: q.From, To: q.To})
		wantCode(t, err, promokit.ENotFound)
		if _, err := b.svc.GetStatement(b.affiliate, q); err != nil {
			t.Fatal(err)
		}
	})
}

// TestAttributionWindow reproduces A3's example in the marketplace's zone:
// a click at 23:50 on January 1 covers an order at January 15 23:59:59,
// not one at January 16 0:00. The latest qualifying click wins, bot clicks
// never win, and a customer's order counts the clicks of every visitor id
// its earlier orders used.
func TestAttributionWindow(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setupAffiliate(t, open, "America/New_York")
		b.clock.Set(b.at(1, 1, 8, 0, 0))
		b.join(t, 500)
		l := b.link(t, b.affiliate, "mug")

		b.clock.Set(b.at(1, 1, 23, 50, 0))
		v := b.click(t, l, "")

		b.clock.Set(b.at(1, 15, 23, 59, 59))
		in := b.place(t, "in", v, "", line("mug", 10000))
		if in.Order.Attribution == nil || in.Order.Attribution.LinkID != l.ID || in.Order.Attribution.PartnerID != b.aff.ID {
			t.Fatalf("order at January 15 23:59:59: attribution = %+v", in.Order.Attribution)
		}
		// A4: $100 at 5% → $5.00.
		if len(in.Entries) != 1 || in.Entries[0].Amount != 500 || in.Entries[0].Status != promokit.LedgerPending ||
			in.Order.Lines[0].Rate != 500 || in.Order.Lines[0].RateSource != "general" {
			t.Fatalf("commission = %+v, line %+v", in.Entries, in.Order.Lines[0])
		}

		b.clock.Set(b.at(1, 16, 0, 0, 0))
		out := b.place(t, "out", v, "", line("mug", 10000))
		if out.Order.Attribution != nil || len(out.Entries) != 0 {
			t.Fatalf("order at January 16 0:00: attribution = %+v, entries %v", out.Order.Attribution, out.Entries)
		}

		// The latest click wins: another affiliate's, a day later.
		other, err := b.svc.CreatePartner(b.admin, engine.PartnerInput{Name: "Cid", Kind: promokit.PartnerAffiliate})
		if err != nil {
			t.Fatal(err)
		}
		l2, err := b.svc.CreateLink(b.admin, engine.LinkInput{StoreID: b.shop.ID, PartnerID: other.ID})
		if err != nil {
			t.Fatal(err)
		}
		b.click(t, l, v)
		b.clock.Add(time.Hour)
		b.click(t, l2, v)
		b.clock.Add(time.Hour)
		// A bot's click, later, on the first link: flagged, never wins.
		if _, err := b.svc.Click(context.Background(), engine.ClickInput{Token: l.Token, VisitorID: v, UserAgent: "Slackbot-LinkExpanding 1.0"}); err != nil {
			t.Fatal(err)
		}
		if err := b.svc.FlushClicks(context.Background()); err != nil {
			t.Fatal(err)
		}
		b.clock.Add(time.Hour)
		won := b.place(t, "latest", v, "cust-1", line("tshirt", 2000))
		if won.Order.Attribution == nil || won.Order.Attribution.LinkID != l2.ID {
			t.Fatalf("latest click: attribution = %+v", won.Order.Attribution)
		}
		lv, err := b.svc.GetLink(b.affiliate, l.ID)
		if err != nil || lv.Clicks != 3 || lv.Flagged != 1 {
			t.Fatalf("link stats = %+v, %v", lv, err)
		}

		// The same customer on another device: its visitor id is known
		// from its order, so the click still counts.
		b.clock.Add(time.Hour)
		again := b.place(t, "other-device", promokit.NewVisitorID(), "cust-1", line("tshirt", 2000))
		if again.Order.Attribution == nil || again.Order.Attribution.LinkID != l2.ID {
			t.Fatalf("customer's other device: attribution = %+v", again.Order.Attribution)
		}
		stranger := b.place(t, "stranger", promokit.NewVisitorID(), "cust-2", line("tshirt", 2000))
		if stranger.Order.Attribution != nil {
			t.Fatalf("stranger attributed: %+v", stranger.Order.Attribution)
		}
	})
}

// TestClickFlood checks that a visitor's clicks on one link past the
// policy's number within an hour are stored, counted and flagged.
func TestClickFlood(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setupAffiliate(t, open, "UTC")
		b.join(t, 500)
		l := b.link(t, b.affiliate, "mug")
		v := b.click(t, l, "")
		for range 24 { // 25 in all, 20 allowed within the hour
			if _, err := b.svc.Click(context.Background(), engine.ClickInput{Token: l.Token, VisitorID: v, UserAgent: browser}); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.svc.FlushClicks(context.Background()); err != nil {
			t.Fatal(err)
		}
		lv, err := b.svc.GetLink(b.affiliate, l.ID)
		if err != nil || lv.Clicks != 25 || lv.Flagged != 5 {
			t.Fatalf("link stats = %+v, %v; want 25 clicks, 5 flagged", lv, err)
		}
		// A probe (HEAD) learns where the link leads and records nothing.
		res, err := b.svc.Click(context.Background(), engine.ClickInput{Token: l.Token, UserAgent: browser, Probe: true})
		if err != nil || res.URL != l.URL || res.NewVisitor || res.VisitorID != "" {
			t.Fatalf("probe = %+v, %v", res, err)
		}
		if err := b.svc.FlushClicks(context.Background()); err != nil {
			t.Fatal(err)
		}
		if lv, err := b.svc.GetLink(b.affiliate, l.ID); err != nil || lv.Clicks != 25 {
			t.Fatalf("after a probe: %+v, %v; want 25 clicks still", lv, err)
		}
		_, err = b.svc.Click(context.Background(), engine.ClickInput{Token: "AAAAAAAAAAAAAAAA", UserAgent: browser})
		wantCode(t, err, promokit.ENotFound)
		_, err = b.svc.Click(context.Background(), engine.ClickInput{Token: "../etc/passwd", UserAgent: browser})
		wantCode(t, err, promokit.ENotFound)
	})
}

// TestCommissionLifecycle follows one attributed order: A4's commission at
// the rate in force when it was placed (a later change does not touch it),
// a partial refund before completion (out of order), completion moving the
// commission to payable, a refund after that reversing part of it, and the
// statements of partner and store reconciling with the entries.
func TestCommissionLifecycle(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setupAffiliate(t, open, "UTC")
		b.join(t, 500)
		if _, err := b.svc.SetRate(b.seller, b.shop.ID, "tshirt", engine.RateInput{Rate: ptr[promokit.BasisPoints](1000)}, false); err != nil {
			t.Fatal(err)
		}
		l := b.link(t, b.affiliate, "mug")
		v := b.click(t, l, "")
		b.clock.Add(time.Minute)
		o := b.place(t, "o1", v, "", line("mug", 10000), line("tshirt", 3333))
		// mug 5% of 100.00 = 5.00; tshirt 10% of 33.33 = 3.333 → 3.33.
		if p, _ := sum(o.Entries); p != 500+333 || o.Order.Lines[1].RateSource != "product" {
			t.Fatalf("accrued = %+v", o.Entries)
		}
		// A later rate change leaves the order's rate as it was.
		b.clock.Add(time.Minute)
		if _, err := b.svc.SetRate(b.seller, b.shop.ID, "", engine.RateInput{Rate: ptr[promokit.BasisPoints](900)}, false); err != nil {
			t.Fatal(err)
		}
		b.event(t, "o1", engine.OrderEventInput{ID: "pay-1", Type: promokit.EventPaid})

		// Refund 33.33 of the mug before completion: 5% of 66.67 = 3.3335 → 3.33.
		r := b.event(t, "o1", engine.OrderEventInput{ID: "refund-1", Type: promokit.EventRefunded,
			Refund: &engine.RefundInput{Lines: []engine.RefundLine{{Line: 0, Amount: 3333}}}})
		if len(r.Entries) != 1 || r.Entries[0].Amount != -167 || r.Entries[0].Kind != promokit.EntryAdjusted || r.Entries[0].Basis != 6667 {
			t.Fatalf("refund before completion = %+v", r.Entries)
		}
		// Replaying it changes nothing; reusing its id for another refund is refused.
		again := b.event(t, "o1", engine.OrderEventInput{ID: "refund-1", Type: promokit.EventRefunded,
			Refund: &engine.RefundInput{Lines: []engine.RefundLine{{Line: 0, Amount: 3333}}}})
		if !again.Replayed || len(again.Entries) != 0 || again.Order.Lines[0].Refunded != 3333 {
			t.Fatalf("replay = %+v", again)
		}
		_, err := b.svc.ApplyOrderEvent(b.check, b.shop.ID, "o1", engine.OrderEventInput{ID: "refund-1", Type: promokit.EventRefunded,
			Refund: &engine.RefundInput{Lines: []engine.RefundLine{{Line: 0, Amount: 1}}}})
		wantCode(t, err, promokit.EConflict)
		// Refunding more than the line cost is refused and writes nothing.
		_, err = b.svc.ApplyOrderEvent(b.check, b.shop.ID, "o1", engine.OrderEventInput{ID: "refund-x", Type: promokit.EventRefunded,
			Refund: &engine.RefundInput{Lines: []engine.RefundLine{{Line: 0, Amount: 6668}}}})
		wantCode(t, err, promokit.EInvalid)
		_, err = b.svc.ApplyOrderEvent(b.check, b.shop.ID, "nope", engine.OrderEventInput{ID: "c-nope", Type: promokit.EventCompleted})
		wantCode(t, err, promokit.ENotFound)

		c := b.event(t, "o1", engine.OrderEventInput{ID: "complete-1", Type: promokit.EventCompleted})
		pending, payable := sum(c.Entries)
		if pending != -(333+333) || payable != 333+333 || !c.Order.Released {
			t.Fatalf("release = %+v", c.Entries)
		}
		// A return after completion reverses payable: the tshirt in full.
		r = b.event(t, "o1", engine.OrderEventInput{ID: "return-1", Type: promokit.EventRefunded,
			Refund: &engine.RefundInput{Reason: "return", Lines: []engine.RefundLine{{Line: 1, Amount: 3333, Quantity: 1}}}})
		if len(r.Entries) != 1 || r.Entries[0].Amount != -333 || r.Entries[0].Kind != promokit.EntryReversed || r.Entries[0].Status != promokit.LedgerPayable {
			t.Fatalf("return after completion = %+v", r.Entries)
		}
		_, err = b.svc.ApplyOrderEvent(b.check, b.shop.ID, "o1", engine.OrderEventInput{ID: "cancel-1", Type: promokit.EventCancelled})
		wantCode(t, err, promokit.EConflict)

		view, err := b.svc.GetOrder(b.seller, b.shop.ID, "o1")
		if err != nil {
			t.Fatal(err)
		}
		pending, payable = sum(view.Entries)
		if pending != 0 || payable != 333 {
			t.Fatalf("order balance = %d pending, %d payable", pending, payable)
		}
		q := engine.StatementQuery{Party: b.aff.ID, From: jan1.Truncate(24 * time.Hour), To: jan1.AddDate(0, 1, 0)}
		st, err := b.svc.GetStatement(b.affiliate, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Currencies) != 1 || st.Currencies[0].Accounts[0].Closing != (engine.Balance{Pending: 0, Payable: 333}) || st.Currencies[0].Accounts[0].Opening != (engine.Balance{}) {
			t.Fatalf("statement = %+v", st)
		}
		storeSt, err := b.svc.GetStatement(b.seller, engine.StatementQuery{Party: b.shop.ID, From: q.From, To: q.To})
		if err != nil || storeSt.Currencies[0].Accounts[0].Closing != st.Currencies[0].Accounts[0].Closing {
			t.Fatalf("store statement = %+v, %v", storeSt, err)
		}
		// The next month opens with the balance.
		next, err := b.svc.GetStatement(b.affiliate, engine.StatementQuery{Party: b.aff.ID, From: q.To, To: q.To.AddDate(0, 1, 0)})
		if err != nil || next.Currencies[0].Accounts[0].Opening != st.Currencies[0].Accounts[0].Closing || len(next.Currencies[0].Accounts[0].Movements) != 0 {
			t.Fatalf("next statement = %+v, %v", next, err)
		}
		var n int
		if err := b.svc.ExportEntries(b.affiliate, q, func(*promokit.LedgerEntry) error { n++; return nil }); err != nil || n != len(view.Entries) {
			t.Fatalf("export = %d entries, %v; want %d", n, err, len(view.Entries))
		}
	})
}

// TestCancelAndHold checks that a cancelled order reverses its pending
// commission and gives its codes back, and that a hold period releases a
// completed order's commission only when it has passed.
func TestCancelAndHold(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setupAffiliate(t, open, "UTC")
		st, _ := b.svc.Settings(b.admin)
		pol := st.Policy
		pol.Affiliate.HoldDays = 3
		if _, err := b.svc.UpdateSettings(b.admin, st.Version, engine.SettingsInput{Policy: &pol}); err != nil {
			t.Fatal(err)
		}
		b.join(t, 500)
		l := b.link(t, b.affiliate, "mug")
		v := b.click(t, l, "")

		// A cancelled order with a redeemed code gives its use back.
		pr := mustCreatePromotion(t, b.seller, b.bundle, percentInput())
		b.clock.Add(48 * time.Hour)
		if _, err := b.svc.CreateCode(b.seller, pr.ID, engine.CodeInput{Code: "SAVE10"}); err != nil {
			t.Fatal(err)
		}
		cart := promokit.Cart{StoreID: b.shop.ID, Currency: "USD", Lines: []promokit.Line{{ProductID: "mug", Quantity: 1, UnitPrice: 10000}}}
		if _, err := b.svc.Redeem(b.check, engine.RedeemInput{OrderID: "c1", Cart: cart, Codes: []string{"SAVE10"}}); err != nil {
			t.Fatal(err)
		}
		b.place(t, "c1", v, "", line("mug", 9000))
		c := b.event(t, "c1", engine.OrderEventInput{ID: "cancel", Type: promokit.EventCancelled})
		if p, _ := sum(c.Entries); p != -450 || c.Order.State != promokit.OrderCancelled {
			t.Fatalf("cancel = %+v", c)
		}
		got, err := b.svc.GetPromotion(b.seller, pr.ID)
		if err != nil || got.Uses != 0 {
			t.Fatalf("promotion uses after cancel = %d, %v", got.Uses, err)
		}

		b.place(t, "h1", v, "", line("mug", 10000))
		done := b.event(t, "h1", engine.OrderEventInput{ID: "h1-done", Type: promokit.EventCompleted})
		if done.Order.Released || len(done.Entries) != 0 {
			t.Fatalf("completed under a hold = %+v", done)
		}
		b.clock.Add(72*time.Hour - time.Second)
		if n, err := b.svc.ReleaseDue(context.Background(), 10); err != nil || n != 0 {
			t.Fatalf("ReleaseDue before the hold = %d, %v", n, err)
		}
		b.clock.Add(time.Second)
		if n, err := b.svc.ReleaseDue(context.Background(), 10); err != nil || n != 1 {
			t.Fatalf("ReleaseDue = %d, %v", n, err)
		}
		view, err := b.svc.GetOrder(b.check, b.shop.ID, "h1")
		if p, pay := sum(view.Entries); err != nil || p != 0 || pay != 500 || !view.Order.Released {
			t.Fatalf("after the hold = %+v, %v", view, err)
		}
		if n, err := b.svc.ReleaseDue(context.Background(), 10); err != nil || n != 0 {
			t.Fatalf("ReleaseDue again = %d, %v", n, err)
		}
	})
}

// TestPlaceConcurrent places many attributed orders at once, each event
// sent twice at the same time: every order is placed once, its twin is
// answered as a replay, and the ledger holds one accrual per order.
func TestPlaceConcurrent(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setupAffiliate(t, open, "UTC")
		b.join(t, 500)
		l := b.link(t, b.affiliate, "mug")
		v := b.click(t, l, "")
		b.clock.Add(time.Minute)
		const n = 100
		type answer struct {
			res *engine.OrderResult
			err error
		}
		answers := make(chan answer, 2*n)
		for i := range 2 * n {
			go func() {
				id := "o" + strconv.Itoa(i/2)
				res, err := b.svc.ApplyOrderEvent(b.check, b.shop.ID, id, engine.OrderEventInput{
					ID: id + "-placed", Type: promokit.EventPlaced, VisitorID: v, Currency: "USD",
					Lines: []engine.OrderLineInput{line("mug", 10000)},
				})
				answers <- answer{res, err}
			}()
		}
		placed, replays := map[string]bool{}, 0
		for range 2 * n {
			a := <-answers
			if a.err != nil {
				t.Fatalf("ApplyOrderEvent: %v", a.err)
			}
			if a.res.Order.Attribution == nil {
				t.Fatalf("order %s not attributed", a.res.Order.ID)
			}
			if a.res.Replayed {
				replays++
				continue
			}
			if placed[a.res.Order.ID] || len(a.res.Entries) != 1 || a.res.Entries[0].Amount != 500 {
				t.Fatalf("order %s placed twice or with entries %+v", a.res.Order.ID, a.res.Entries)
			}
			placed[a.res.Order.ID] = true
		}
		if len(placed) != n || replays != n {
			t.Fatalf("%d orders placed and %d replays, want %d each", len(placed), replays, n)
		}
		st, err := b.svc.GetStatement(b.affiliate, engine.StatementQuery{Party: b.aff.ID, From: jan1.Add(-24 * time.Hour), To: jan1.AddDate(0, 1, 0)})
		if err != nil || len(st.Currencies) != 1 || st.Currencies[0].Accounts[0].Closing.Pending != n*500 {
			t.Fatalf("statement = %+v, %v; want %d pending", st, err, n*500)
		}
	})
}

// TestReplayEventLog applies an order system's whole event log, then
// replays it twice: the replays answer the orders as they are and the
// ledger does not change by one entry.
func TestReplayEventLog(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setupAffiliate(t, open, "UTC")
		b.join(t, 500)
		l := b.link(t, b.affiliate, "mug")
		v := b.click(t, l, "")
		b.clock.Add(time.Minute)
		type ev struct {
			order string
			in    engine.OrderEventInput
		}
		placed := func(id string, amount int64) ev {
			return ev{id, engine.OrderEventInput{ID: id + "-p", Type: promokit.EventPlaced, VisitorID: v, Currency: "USD",
				Lines: []engine.OrderLineInput{line("mug", amount), line("tshirt", 999)}, Shipping: 300}}
		}
		log := []ev{
			placed("a", 10000), placed("b", 4321), placed("c", 777),
			{"a", engine.OrderEventInput{ID: "a-pay", Type: promokit.EventPaid}},
			{"a", engine.OrderEventInput{ID: "a-ref", Type: promokit.EventRefunded, Refund: &engine.RefundInput{Lines: []engine.RefundLine{{Line: 0, Amount: 1234}}, Shipping: 300}}},
			{"b", engine.OrderEventInput{ID: "b-cancel", Type: promokit.EventCancelled}},
			{"a", engine.OrderEventInput{ID: "a-done", Type: promokit.EventCompleted}},
			{"c", engine.OrderEventInput{ID: "c-pay", Type: promokit.EventPaid, Amount: 1000}},
			{"c", engine.OrderEventInput{ID: "c-done", Type: promokit.EventCompleted}},
			{"c", engine.OrderEventInput{ID: "c-ret", Type: promokit.EventRefunded, Refund: &engine.RefundInput{Reason: "return", Lines: []engine.RefundLine{{Line: 1, Amount: 999, Quantity: 1}}}}},
		}
		ledger := func() []*promokit.LedgerEntry {
			t.Helper()
			var all []*promokit.LedgerEntry
			err := b.svc.ExportEntries(b.affiliate, engine.StatementQuery{Party: b.aff.ID, From: jan1.Add(-24 * time.Hour), To: jan1.AddDate(0, 1, 0)},
				func(e *promokit.LedgerEntry) error { all = append(all, e); return nil })
			if err != nil {
				t.Fatal(err)
			}
			return all
		}
		for _, e := range log {
			if res := b.event(t, e.order, e.in); res.Replayed {
				t.Fatalf("first %s answered as a replay", e.in.ID)
			}
		}
		want := ledger()
		if len(want) == 0 {
			t.Fatal("the log wrote no entry")
		}
		for range 2 {
			for _, e := range log {
				if res := b.event(t, e.order, e.in); !res.Replayed || len(res.Entries) != 0 {
					t.Fatalf("replay of %s = %+v", e.in.ID, res)
				}
			}
		}
		if got := ledger(); len(got) != len(want) {
			t.Fatalf("the ledger has %d entries after the replays, %d before", len(got), len(want))
		}
	})
}

// TestAttributionZoneChange checks that a change of the marketplace's time
// zone moves the attribution window of the next order at once: the window
// is computed from the settings that the order's own read sees.
func TestAttributionZoneChange(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setupAffiliate(t, open, "UTC")
		b.clock.Set(time.Date(2026, 1, 1, 0, 10, 0, 0, time.UTC))
		b.join(t, 500)
		l := b.link(t, b.affiliate, "mug")
		b.clock.Set(time.Date(2026, 1, 1, 0, 30, 0, 0, time.UTC))
		v := b.click(t, l, "")
		b.clock.Set(time.Date(2026, 1, 15, 23, 0, 0, 0, time.UTC))
		if o := b.place(t, "utc", v, "", line("mug", 1000)); o.Order.Attribution == nil {
			t.Fatal("in UTC the click of January 1 covers January 15")
		}
		// At UTC+14 the order's day is January 16 and the click's window
		// closed at January 16 0:00 local time (the click was on January 1
		// 14:30 local).
		st, err := b.svc.Settings(b.admin)
		if err != nil {
			t.Fatal(err)
		}
		zone := "Pacific/Kiritimati"
		if _, err := b.svc.UpdateSettings(b.admin, st.Version, engine.SettingsInput{TimeZone: &zone}); err != nil {
			t.Fatal(err)
		}
		if o := b.place(t, "kiritimati", v, "", line("mug", 1000)); o.Order.Attribution != nil {
			t.Fatalf("at UTC+14 the window has closed: attribution %+v", o.Order.Attribution)
		}
	})
}
