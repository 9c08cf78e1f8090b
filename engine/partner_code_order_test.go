package engine_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// p4Shop is an affiliate bundle whose shop runs under P4 and is in the
// affiliate program at 5%, with a click of the affiliate's visitor and a
// P4 promotion of the mug (30% off) whose code is SELLER-7.
type p4Shop struct {
	*affiliateBundle
	visitor string
	promo   *promokit.Promotion
}

func setupP4Shop(t *testing.T, open func(*testing.T) storage.DB) *p4Shop {
	t.Helper()
	b := setupAffiliate(t, open, "UTC")
	if _, err := b.svc.UpdateStore(b.admin, b.shop.ID, engine.StoreInput{PartnerPromoCodes: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	b.join(t, 500)
	v := b.click(t, b.link(t, b.affiliate, "mug"), "")
	pr := mustCreatePromotion(t, b.seller, b.bundle, p4Input())
	if _, err := b.svc.CreateCode(b.seller, pr.ID, engine.CodeInput{Code: "SELLER-7"}); err != nil {
		t.Fatal(err)
	}
	return &p4Shop{affiliateBundle: b, visitor: v, promo: pr}
}

// redeem redeems SELLER-7 for order orderID of customer on a cart of the
// mug and the t-shirt.
func (b *p4Shop) redeem(t *testing.T, orderID, customer string) {
	t.Helper()
	cart := promokit.Cart{StoreID: b.shop.ID, Currency: "USD", Lines: []promokit.Line{
		{ProductID: "mug", Quantity: 1, UnitPrice: 10}, {ProductID: "tshirt", Quantity: 1, UnitPrice: 10000}}}
	if _, err := b.svc.Redeem(b.check, engine.RedeemInput{OrderID: orderID, Cart: cart, Customer: promokit.Identity{CustomerID: customer},
		Codes: []string{"SELLER-7"}}); err != nil {
		t.Fatalf("Redeem %s: %v", orderID, err)
	}
}

// placeCodes reports order orderID of the affiliate's visitor, naming
// codes, with the lines given.
func (b *p4Shop) placeCodes(t *testing.T, orderID, customer string, codes []string, lines ...engine.OrderLineInput) *engine.OrderResult {
	t.Helper()
	return b.event(t, orderID, engine.OrderEventInput{
		ID: orderID + "-placed", Type: promokit.EventPlaced, VisitorID: b.visitor, CustomerID: customer,
		Currency: "USD", Lines: lines, Shipping: 700, Codes: codes,
	})
}

// entryOf returns the only entry of es for line, status and kind, failing
// the test when there is not exactly one.
func entryOf(t *testing.T, es []*promokit.LedgerEntry, line int, status, kind string) *promokit.LedgerEntry {
	t.Helper()
	var out []*promokit.LedgerEntry
	for _, e := range es {
		if e.Line == line && e.Status == status && e.Kind == kind {
			out = append(out, e)
		}
	}
	if len(out) != 1 {
		t.Fatalf("%d %s %s entries of line %d in %+v, want 1", len(out), status, kind, line, es)
	}
	return out[0]
}

// TestPartnerCodeSplit: a sale with a P4 code accrues the marketplace's
// share of each line the code covers as a store → marketplace entry, to
// the cent (7¢ → 3¢ the marketplace's, 4¢ the seller's), through the
// affiliate commissions' lifecycle and refunds; the line the code does
// not cover earns the click's commission (O1); the share in force when
// the order was placed applies; both statements show it.
func TestPartnerCodeSplit(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setupP4Shop(t, open)
		const pending, payable = promokit.LedgerPending, promokit.LedgerPayable
		b.redeem(t, "p4-1", "c-42")
		res := b.placeCodes(t, "p4-1", "c-42", []string{"seller-7"}, line("mug", 7), line("tshirt", 10000))

		mug, tshirt := res.Order.Lines[0], res.Order.Lines[1]
		if mug.Program != promokit.ProgramPartnerCode || mug.Rule != "P4" || mug.Code != "SELLER-7" ||
			mug.Payee != promokit.Marketplace || mug.Rate != 4000 || mug.RateSource != "policy" {
			t.Fatalf("the mug's line = %+v, want the P4 code's at 40%% for the marketplace", mug)
		}
		if tshirt.Program != promokit.ProgramAffiliate || tshirt.Rule != "A3" || tshirt.Payee != b.aff.ID || tshirt.Rate != 500 {
			t.Fatalf("the t-shirt's line = %+v, want the click's at 5%%", tshirt)
		}
		if res.Order.Attribution == nil || res.Order.Attribution.PartnerID != b.aff.ID {
			t.Fatalf("the order's click = %+v", res.Order.Attribution)
		}
		if len(res.Entries) != 2 {
			t.Fatalf("placed entries = %+v, want one per line", res.Entries)
		}
		e := entryOf(t, res.Entries, 0, pending, promokit.EntryAccrued)
		if e.Payer != b.shop.ID || e.Payee != promokit.Marketplace || e.Program != promokit.ProgramPartnerCode || e.Rule != "P4" ||
			e.Amount != 3 || e.Basis != 7 || e.Rate != 4000 {
			t.Fatalf("the P4 entry = %+v, want 3¢ of 7¢ from the store to the marketplace", e)
		}
		if seller := e.Basis - e.Amount; seller != 4 {
			t.Fatalf("the seller keeps %d¢, want 4¢", seller)
		}
		if e := entryOf(t, res.Entries, 1, pending, promokit.EntryAccrued); e.Payee != b.aff.ID || e.Amount != 500 || e.Rule != "A3" {
			t.Fatalf("the click's entry = %+v", e)
		}

		// The policy's share changes after the order: the order keeps
		// the share in force when it was placed.
		st, err := b.svc.Settings(b.admin)
		if err != nil {
			t.Fatal(err)
		}
		pol := st.Policy
		pol.PartnerCodes.PartnerShare = 5000
		if _, err := b.svc.UpdateSettings(b.admin, st.Version, engine.SettingsInput{Policy: &pol}); err != nil {
			t.Fatal(err)
		}

		// A partial refund of the P4 line before completion: 5¢ left,
		// 2¢ the marketplace's (at 40%, not the new 50%).
		b.event(t, "p4-1", engine.OrderEventInput{ID: "p4-1-paid", Type: promokit.EventPaid})
		ref := b.event(t, "p4-1", engine.OrderEventInput{ID: "p4-1-ref", Type: promokit.EventRefunded,
			Refund: &engine.RefundInput{Lines: []engine.RefundLine{{Line: 0, Amount: 2}}}})
		if e := entryOf(t, ref.Entries, 0, pending, promokit.EntryAdjusted); len(ref.Entries) != 1 || e.Amount != -1 || e.Basis != 5 || e.Rate != 4000 {
			t.Fatalf("refund entries = %+v, want one of −1¢ on 5¢ at 40%%", ref.Entries)
		}
		done := b.event(t, "p4-1", engine.OrderEventInput{ID: "p4-1-done", Type: promokit.EventCompleted})
		if e := entryOf(t, done.Entries, 0, payable, promokit.EntryReleased); e.Amount != 2 || e.Payee != promokit.Marketplace {
			t.Fatalf("released = %+v", done.Entries)
		}
		entryOf(t, done.Entries, 1, payable, promokit.EntryReleased)
		// A return of 1¢ after the release: 4¢ left, 1.6 → 2¢, no change;
		// 2¢ more: 2¢ left, 0.8 → 1¢, and −1¢ is reversed from payable.
		ret := b.event(t, "p4-1", engine.OrderEventInput{ID: "p4-1-ret", Type: promokit.EventRefunded,
			Refund: &engine.RefundInput{Reason: "return", Lines: []engine.RefundLine{{Line: 0, Amount: 1}}}})
		if len(ret.Entries) != 0 {
			t.Fatalf("return entries = %+v, want none", ret.Entries)
		}
		ret = b.event(t, "p4-1", engine.OrderEventInput{ID: "p4-1-ret2", Type: promokit.EventRefunded,
			Refund: &engine.RefundInput{Reason: "return", Lines: []engine.RefundLine{{Line: 0, Amount: 2}}}})
		if e := entryOf(t, ret.Entries, 0, payable, promokit.EntryReversed); len(ret.Entries) != 1 || e.Amount != -1 || e.Basis != 2 {
			t.Fatalf("return entries = %+v", ret.Entries)
		}

		// A new order takes the new share: 50% of 7¢ is 3.5 → 4.
		b.redeem(t, "p4-2", "c-43")
		res2 := b.placeCodes(t, "p4-2", "c-43", []string{"SELLER-7"}, line("mug", 7))
		if e := entryOf(t, res2.Entries, 0, pending, promokit.EntryAccrued); e.Amount != 4 || e.Rate != 5000 {
			t.Fatalf("under the new share = %+v", e)
		}
		// Cancelled before completion, it reverses what is pending.
		c := b.event(t, "p4-2", engine.OrderEventInput{ID: "p4-2-cancel", Type: promokit.EventCancelled})
		if e := entryOf(t, c.Entries, 0, pending, promokit.EntryReversed); e.Amount != -4 || e.Payee != promokit.Marketplace {
			t.Fatalf("cancel = %+v", c.Entries)
		}

		// The code's usage history: each use with the amount of its
		// order's lines the code covers (the mug's, not the t-shirt's),
		// what was refunded of them and the order's state; a use whose
		// order is not reported yet has none.
		b.redeem(t, "p4-3", "c-44")
		uses, err := b.svc.ListCodeRedemptions(b.seller, "seller-7", storage.Page{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, u := range uses {
			s := u.OrderID + " " + u.State
			if u.Amount != nil {
				s += fmt.Sprintf(" %d %d %s", *u.Amount, *u.Refunded, *u.OrderState)
			}
			got = append(got, s)
		}
		if want := []string{"p4-1 redeemed 7 5 completed", "p4-2 rolled_back 7 0 cancelled", "p4-3 redeemed"}; !slices.Equal(got, want) {
			t.Fatalf("usage history %q, want %q", got, want)
		}

		// The statements: the marketplace's fees from the store, and the
		// store's marketplace fees beside its commissions.
		q := engine.StatementQuery{Party: promokit.Marketplace, From: jan1, To: jan1.AddDate(0, 1, 0)}
		ms, err := b.svc.GetStatement(b.admin, q)
		if err != nil {
			t.Fatal(err)
		}
		fees := account(t, ms, "fees")
		if fees.Side != promokit.SidePayee || fees.Counterparty != promokit.PartyStore ||
			fees.Closing != (engine.Balance{Pending: 0, Payable: 1}) {
			t.Fatalf("the marketplace's fees = %+v, want 1¢ payable", fees)
		}
		q.Party = b.shop.ID
		ss, err := b.svc.GetStatement(b.seller, q)
		if err != nil {
			t.Fatal(err)
		}
		if f := account(t, ss, "marketplace_fees"); f.Side != promokit.SidePayer || f.Closing != (engine.Balance{Payable: 1}) {
			t.Fatalf("the store's marketplace fees = %+v", f)
		}
		if c := account(t, ss, "commissions"); c.Closing != (engine.Balance{Payable: 500}) {
			t.Fatalf("the store's commissions = %+v", c)
		}
		// The affiliate sees its commission and nothing of the P4 line.
		q.Party = b.aff.ID
		as, err := b.svc.GetStatement(b.affiliate, q)
		if err != nil {
			t.Fatal(err)
		}
		if a := account(t, as, "earnings_from_stores"); a.Closing != (engine.Balance{Payable: 500}) {
			t.Fatalf("the affiliate's earnings = %+v", a)
		}
	})
}

// TestPartnerCodeWithoutClick: a P4 sale without any click earns the
// marketplace its share of the covered lines and nothing of the others;
// the same code at a store that left P4 earns nothing.
func TestPartnerCodeWithoutClick(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setupP4Shop(t, open)
		b.visitor = ""
		b.redeem(t, "n1", "c-1")
		res := b.placeCodes(t, "n1", "c-1", nil, line("mug", 2999), line("tshirt", 10000))
		if res.Order.Attribution != nil || len(res.Entries) != 1 {
			t.Fatalf("placed = %+v, entries %+v", res.Order, res.Entries)
		}
		if e := entryOf(t, res.Entries, 0, promokit.LedgerPending, promokit.EntryAccrued); e.Amount != 1200 || e.Payee != promokit.Marketplace {
			t.Fatalf("P4 entry = %+v, want 1200 (1199.6)", e)
		}
		if l := res.Order.Lines[1]; l.Program != "" || l.Payee != "" || l.Rate != 0 {
			t.Fatalf("the uncovered line = %+v, want nothing", l)
		}
		// A partial refund: 1999 left, 799.6 → 800.
		b.event(t, "n1", engine.OrderEventInput{ID: "n1-paid", Type: promokit.EventPaid})
		ref := b.event(t, "n1", engine.OrderEventInput{ID: "n1-ref", Type: promokit.EventRefunded,
			Refund: &engine.RefundInput{Lines: []engine.RefundLine{{Line: 0, Amount: 1000}, {Line: 1, Amount: 5000}}}})
		if e := entryOf(t, ref.Entries, 0, promokit.LedgerPending, promokit.EntryAdjusted); len(ref.Entries) != 1 || e.Amount != -400 || e.Basis != 1999 {
			t.Fatalf("refund = %+v", ref.Entries)
		}
		view, err := b.svc.GetOrder(b.seller, b.shop.ID, "n1")
		if p, _ := sum(view.Entries); err != nil || p != 800 {
			t.Fatalf("pending after the refund = %d, %v", p, err)
		}

		if _, err := b.svc.UpdateStore(b.admin, b.shop.ID, engine.StoreInput{PartnerPromoCodes: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		b.redeem(t, "n2", "c-2")
		if res := b.placeCodes(t, "n2", "c-2", nil, line("mug", 2999)); len(res.Entries) != 0 || res.Order.Lines[0].Payee != "" {
			t.Fatalf("outside P4 = %+v, %+v", res.Order.Lines, res.Entries)
		}
	})
}

// account returns the statement's account named name in USD.
func account(t *testing.T, s *engine.Statement, name string) engine.Account {
	t.Helper()
	for _, c := range s.Currencies {
		for _, a := range c.Accounts {
			if c.Currency == "USD" && a.Account == name {
				return a
			}
		}
	}
	t.Fatalf("no account %q in %+v", name, s)
	return engine.Account{}
}

// TestUnredeemedCodes: the codes a placed event names are normalised and
// checked against the order's redemptions; a code the order did not
// redeem, even a real P4 code of the store, earns nothing and is reported
// on the order, in the event's answer and its replay.
func TestUnredeemedCodes(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		b := setupP4Shop(t, open)
		if _, err := b.svc.CreateCode(b.seller, b.promo.ID, engine.CodeInput{Code: "SELLER-8"}); err != nil {
			t.Fatal(err)
		}
		b.redeem(t, "u1", "c-1")
		in := engine.OrderEventInput{
			ID: "u1-placed", Type: promokit.EventPlaced, VisitorID: b.visitor, CustomerID: "c-1", Currency: "USD",
			Lines: []engine.OrderLineInput{line("mug", 1000)}, Codes: []string{" seller-7", "seller-8", "SELLER-7", "Stolen-1"},
			Payment: &promokit.PaymentPlan{Installments: 2, FirstPaymentCodes: []string{"red-1"}},
		}
		res := b.event(t, "u1", in)
		o := res.Order
		if !slices.Equal(o.Codes, []string{"SELLER-7", "SELLER-8", "STOLEN-1"}) ||
			!slices.Equal(o.Payment.FirstPaymentCodes, []string{"RED-1"}) ||
			!slices.Equal(o.UnredeemedCodes, []string{"SELLER-8", "STOLEN-1", "RED-1"}) {
			t.Fatalf("codes %q, first payment %q, unredeemed %q", o.Codes, o.Payment.FirstPaymentCodes, o.UnredeemedCodes)
		}
		if l := o.Lines[0]; l.Code != "SELLER-7" || l.Payee != promokit.Marketplace {
			t.Fatalf("line = %+v, want SELLER-7's", l)
		}
		again := b.event(t, "u1", in)
		if !again.Replayed || !slices.Equal(again.Order.UnredeemedCodes, o.UnredeemedCodes) {
			t.Fatalf("replay = %+v", again.Order)
		}
		view, err := b.svc.GetOrder(b.check, b.shop.ID, "u1")
		if err != nil || !slices.Equal(view.Order.UnredeemedCodes, o.UnredeemedCodes) {
			t.Fatalf("GetOrder = %+v, %v", view, err)
		}

		// An order that redeemed nothing names a real P4 code: the click
		// earns the line, and the code is reported.
		res = b.placeCodes(t, "u2", "c-2", []string{"SELLER-7"}, line("mug", 1000))
		if l := res.Order.Lines[0]; l.Program != promokit.ProgramAffiliate || l.Payee != b.aff.ID ||
			!slices.Equal(res.Order.UnredeemedCodes, []string{"SELLER-7"}) {
			t.Fatalf("line %+v, unredeemed %q", l, res.Order.UnredeemedCodes)
		}
		// Nothing named: nothing reported, as an empty list.
		res = b.placeCodes(t, "u3", "c-3", nil, line("mug", 1000))
		if res.Order.UnredeemedCodes == nil || len(res.Order.UnredeemedCodes) != 0 || res.Order.Codes == nil {
			t.Fatalf("no codes: %q, %q", res.Order.Codes, res.Order.UnredeemedCodes)
		}
	})
}
